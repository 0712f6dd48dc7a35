/**
 * JUnit XML of a rehearsal, so CI systems (GitLab, GitHub, Jenkins) display each step as a test case:
 * passed → success, failed → <failure>, not-run/skipped → <skipped> with the reason. Anomalies are one
 * more suite, one case per anomaly (residual ones fail). Deterministic: same run.yaml → same bytes.
 */
import { render } from '../i18n/render.ts';
import type { RunSummary } from './run-types.ts';

function esc(s: string): string {
  return (
    s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // XML 1.0 forbids most control characters.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the control characters XML 1.0 forbids is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
  );
}

export function runToJUnit(run: RunSummary, lang: 'fr' | 'en' = 'en'): string {
  const steps = run.steps;
  const failures = steps.filter((s) => s.status === 'failed').length;
  const skipped = steps.filter((s) => s.status === 'not-run' || s.status === 'skipped').length;
  const totalTime = steps.reduce((t, s) => t + (s.durationMs ?? 0), 0) / 1000;
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const residual = run.anomalies.filter((a) => !a.resolved);
  lines.push(
    `<testsuites name="glpi-ocs-upgrade ${esc(run.runId)}" tests="${steps.length + run.anomalies.length}" failures="${failures + residual.length}" skipped="${skipped}" time="${totalTime.toFixed(3)}">`,
  );
  lines.push(`  <testsuite name="rehearsal" tests="${steps.length}" failures="${failures}" skipped="${skipped}" time="${totalTime.toFixed(3)}">`);
  for (const s of steps) {
    const time = ((s.durationMs ?? 0) / 1000).toFixed(3);
    const open = `    <testcase classname="rehearsal" name="${esc(s.stepId)}" time="${time}"`;
    if (s.status === 'passed') {
      lines.push(`${open}/>`);
    } else if (s.status === 'failed') {
      lines.push(`${open}>`);
      const reason = s.reason ? render(s.reason, 'en') : undefined;
      lines.push(`      <failure message="${esc(reason ?? 'failed')}">${esc([reason, s.outputExcerpt].filter(Boolean).join('\n'))}</failure>`);
      lines.push('    </testcase>');
    } else {
      lines.push(`${open}>`);
      lines.push(`      <skipped message="${esc([s.reason ? render(s.reason, 'en') : '', s.commandForUser ? `run: ${s.commandForUser}` : ''].filter(Boolean).join(' — '))}"/>`);
      lines.push('    </testcase>');
    }
  }
  lines.push('  </testsuite>');
  lines.push(`  <testsuite name="anomalies" tests="${run.anomalies.length}" failures="${residual.length}" skipped="0">`);
  for (const a of run.anomalies) {
    const open = `    <testcase classname="anomalies.${a.severity}" name="${esc(a.id)}"`;
    if (a.resolved) lines.push(`${open}/>`);
    else {
      lines.push(`${open}>`);
      lines.push(`      <failure message="${esc(render(a.title, lang))}">${esc(render(a.detail, lang))}</failure>`);
      lines.push('    </testcase>');
    }
  }
  lines.push('  </testsuite>');
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
