/**
 * Audit findings in the rehearsal's anomaly register. A finding is recorded as resolved when its audit check,
 * run again on the test instance after its corrective migrations, came back clean (`recheckedClean`), or —
 * without a re-check — when the corrective migration named as its remedy passed. Every other finding stays a
 * residual anomaly with its severity.
 */
import type { FindingsFile } from '../audit/finding-types.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import type { Anomaly, StepResult } from './run-types.ts';
import { msg } from '../i18n/messages.ts';

export function findingsToAnomalies(findings: FindingsFile | undefined, plan: PlanFile, steps: StepResult[], recheckedClean: Set<string> = new Set()): Anomaly[] {
  if (!findings) return [];
  const passed = new Set(steps.filter((s) => s.status === 'passed').map((s) => s.stepId));
  const migrationPassed = new Set(plan.steps.filter((s) => s.runner.kind === 'corrective-migration' && passed.has(s.id)).map((s) => (s.runner as { migration: string }).migration));
  return findings.findings.map((f) => {
    const resolved = recheckedClean.has(f.id) || Boolean(f.remedy.migration && migrationPassed.has(f.remedy.migration));
    const recheck = recheckedClean.has(f.id);
    const fixed = !resolved ? {} : recheck ? { recheck: true } : { migration: f.remedy.migration ?? '' };
    const remedy = f.remedy.manual ?? (f.remedy.migration ? msg('anomaly.finding.remedy-migration', { migration: f.remedy.migration }) : undefined);
    return {
      id: `F-${f.id}`,
      findingId: f.id,
      severity: f.severity,
      title: f.title,
      detail: msg('anomaly.finding.detail', { count: f.count, ...fixed }),
      remedy,
      resolved,
    } satisfies Anomaly;
  });
}
