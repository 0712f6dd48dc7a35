/**
 * Audit findings in the rehearsal's anomaly register: a finding whose corrective migration ran and passed
 * in this rehearsal is recorded as resolved; every other finding stays a residual anomaly with its severity.
 */
import type { FindingsFile } from '../audit/finding-types.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import type { Anomaly, StepResult } from './run-types.ts';

export function findingsToAnomalies(findings: FindingsFile | undefined, plan: PlanFile, steps: StepResult[]): Anomaly[] {
  if (!findings) return [];
  const passed = new Set(steps.filter((s) => s.status === 'passed').map((s) => s.stepId));
  const migrationPassed = new Set(
    plan.steps.filter((s) => s.runner.kind === 'corrective-migration' && passed.has(s.id)).map((s) => (s.runner as { migration: string }).migration),
  );
  return findings.findings.map((f) => {
    const resolved = Boolean(f.remedy.migration && migrationPassed.has(f.remedy.migration));
    const remedy = f.remedy.manual ?? (f.remedy.migration
      ? { fr: `Migration corrective ${f.remedy.migration}`, en: `Corrective migration ${f.remedy.migration}` }
      : undefined);
    return {
      id: `F-${f.id}`,
      findingId: f.id,
      severity: f.severity,
      title: f.title,
      detail: {
        fr: `${f.count} occurrence(s) relevée(s) par l'audit${resolved ? ', corrigée(s) par la migration ' + f.remedy.migration : ''}.`,
        en: `${f.count} occurrence(s) found by the audit${resolved ? ', fixed by migration ' + f.remedy.migration : ''}.`,
      },
      remedy,
      resolved,
    } satisfies Anomaly;
  });
}
