/**
 * From a plan step to the code that runs it: the executors of src/rehearse/executors (corrective migrations
 * included). Also answers which tables a step may touch (savepoint scope).
 */
import type { ExpectedEffects, PlanStep } from '../plan/plan-types.ts';
import { ocsIndexOnlyTables, ocsStepTables, runStep } from './executors/index.ts';
import { correctiveExpectedEffects, correctiveStepTables } from './executors/corrective.ts';
import type { ExecutorContext, ExecutorDistributions, ExecutorResult } from './executors/types.ts';
import { msg } from '../i18n/messages.ts';

/** Steps that need a product distribution the tool does not fetch by itself (skipped by --dry-run). */
const EXTERNAL_KINDS = new Set(['glpi-console', 'plugin-install']);

export async function stepTables(step: PlanStep, dists: ExecutorDistributions): Promise<string[] | 'all'> {
  switch (step.runner.kind) {
    case 'ocs-bridge':
    case 'ocs-update-file':
      return ocsStepTables(step, dists);
    case 'corrective-migration':
      return correctiveStepTables({ ...step, runner: step.runner });
    default: {
      const t = step.expected.tablesTouched;
      return Array.isArray(t) ? t : 'all';
    }
  }
}

/** Tables among stepTables() that the step only re-indexes: their rows cannot change. */
export function stepIndexOnlyTables(step: PlanStep, dists: ExecutorDistributions): Set<string> {
  return new Set(step.runner.kind === 'ocs-update-file' ? ocsIndexOnlyTables(step, dists) : []);
}

/**
 * What a step is expected to change. For a corrective migration, its declared `touches` tables may lose
 * rows (duplicates, orphans) or change in place: that is its purpose, so those deltas are explained.
 */
export function expectedEffects(step: PlanStep): ExpectedEffects {
  return step.runner.kind === 'corrective-migration' ? correctiveExpectedEffects({ ...step, runner: step.runner }) : step.expected;
}

export async function executeStep(step: PlanStep, ctx: ExecutorContext, options: { dryRun: boolean }): Promise<ExecutorResult> {
  if (options.dryRun && EXTERNAL_KINDS.has(step.runner.kind)) {
    // Ask the executor without distributions: it answers "not run" with the exact command to run by hand.
    const r = await runStep(step, { ...ctx, dists: { ...ctx.dists, glpi: [], plugin: [] } });
    return {
      ...r,
      status: 'not-run',
      reason: msg('result.dry-run', { reason: r.reason }),
    };
  }
  return runStep(step, ctx);
}
