import { describe, expect, it } from 'vitest';
import { runToJUnit } from '../src/rehearse/junit.ts';
import type { RunSummary } from '../src/rehearse/run-types.ts';
import { literal } from '../src/i18n/messages.ts';

const run: RunSummary = {
  format: 1,
  tool: { name: 'glpi-ocs-upgrade', version: '0.1.0' },
  runId: 'run-1',
  startedAt: '2026-01-01T00:00:00.000Z',
  dryRun: true,
  complete: false,
  snapshot: { dir: 'snap', id: 'abc' },
  plan: { file: 'plan.yaml', steps: 3 },
  instance: { kind: 'embedded', serverVersion: '10.11', settings: {} },
  distributions: [],
  preChecks: [],
  steps: [
    { stepId: 'ocs-7007', status: 'passed', durationMs: 1500, tableDeltas: [], evidence: [] },
    { stepId: 'ocs-7008', status: 'failed', reason: literal('SQL error 1064 <near "x">', 'erreur SQL 1064 <near "x">'), tableDeltas: [], evidence: [] },
    {
      stepId: 'glpi-10.0.22-db-update',
      status: 'not-run',
      reason: literal('no GLPI distribution', 'aucune distribution GLPI'),
      commandForUser: 'php bin/console db:update -n',
      tableDeltas: [],
      evidence: [],
    },
  ],
  anomalies: [
    { id: 'A1', severity: 'majeure', title: literal('Loss', 'Perte'), detail: literal('3 rows & more', 'd'), resolved: false },
    { id: 'A2', severity: 'mineure', title: literal('x', 'x'), detail: literal('d', 'd'), resolved: true },
  ],
};

describe('JUnit export', () => {
  it('maps passed/failed/not-run steps and residual anomalies, escaping XML', () => {
    const xml = runToJUnit(run);
    expect(xml).toContain('<testsuite name="rehearsal" tests="3" failures="1" skipped="1" time="1.500">');
    expect(xml).toContain('<testcase classname="rehearsal" name="ocs-7007" time="1.500"/>');
    expect(xml).toContain('<failure message="SQL error 1064 &lt;near &quot;x&quot;&gt;">');
    expect(xml).toContain('<skipped message="no GLPI distribution — run: php bin/console db:update -n"/>');
    expect(xml).toContain('<testsuite name="anomalies" tests="2" failures="1" skipped="0">');
    expect(xml).toContain('3 rows &amp; more');
    expect(runToJUnit(run)).toBe(xml);
  });
});
