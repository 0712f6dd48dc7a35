/**
 * After a corrective migration: the audit checks of the findings it fixes, run again on the instance.
 */
import type { Connection } from 'mysql2/promise';
import type { FindingsFile } from '../audit/finding-types.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import type { StepResult } from './run-types.ts';
import type { RunnerEvent } from './runner.ts';
import { runAudit } from '../audit/index.ts';
import { correctiveMigration } from '../catalog/corrective.ts';

/**
 * After a corrective migration: for each finding it fixes whose corrective steps have all passed, run that
 * audit check again on the test instance; a clean result proves the finding resolved.
 */
export async function recheckFindings(
  step: PlanStep,
  plan: PlanFile,
  results: StepResult[],
  findings: FindingsFile,
  conn: Connection,
  dbs: { glpi?: string; ocs?: string },
  clean: Set<string>,
  emit: (e: RunnerEvent) => void,
  references: { referenceDirs?: string[]; glpiDists?: string[] },
): Promise<void> {
  const migration = correctiveMigration((step.runner as { migration: string }).migration);
  if (!migration) return;
  const passed = new Set(results.filter((r) => r.status === 'passed').map((r) => r.stepId));
  const fixers = (findingId: string) => plan.steps.filter((s) => s.runner.kind === 'corrective-migration' && correctiveMigration(s.runner.migration)?.fixes.includes(findingId));
  const due = findings.findings.map((f) => f.id).filter((id) => migration.fixes.includes(id) && !clean.has(id) && fixers(id).every((s) => passed.has(s.id)));
  if (due.length === 0) return;
  const audit = await runAudit(
    {
      connections: {
        glpi: dbs.glpi ? { conn, database: dbs.glpi, address: 'rehearsal:glpi' } : undefined,
        ocs: dbs.ocs ? { conn, database: dbs.ocs, address: 'rehearsal:ocs' } : undefined,
      },
    },
    { only: due, referenceDirs: references.referenceDirs, glpiDists: references.glpiDists },
  );
  for (const id of due) {
    const ran = audit.checksRun.find((c) => c.id === id);
    if (ran?.status === 'ok') {
      clean.add(id);
      emit({ kind: 'info', message: `finding ${id} re-checked after ${step.id}: resolved` });
    }
  }
}
