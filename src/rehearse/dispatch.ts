/**
 * From a plan step to the code that runs it: the executors of src/rehearse/executors, and the project's
 * corrective migrations (src/audit). Also answers which tables a step may touch (savepoint scope).
 */
import type { ExpectedEffects, PlanStep } from '../plan/plan-types.ts';
import { correctiveMigration } from '../catalog/corrective.ts';
import { applyCorrectiveMigration } from '../audit/index.ts';
import { executorFor, ocsIndexOnlyTables, ocsStepTables } from './executors/index.ts';
import type { ExecutorContext, ExecutorDistributions, ExecutorResult } from './executors/types.ts';
import { because, roleName, writeEvidence } from './executors/common.ts';
import { literal } from '../i18n/messages.ts';

/** Steps that need a product distribution the tool does not fetch by itself (skipped by --dry-run). */
const EXTERNAL_KINDS = new Set(['glpi-console', 'plugin-install']);

export async function stepTables(step: PlanStep, dists: ExecutorDistributions): Promise<string[] | 'all'> {
  switch (step.runner.kind) {
    case 'ocs-bridge':
    case 'ocs-update-file':
      return ocsStepTables(step, dists);
    case 'corrective-migration': {
      const m = correctiveMigration(step.runner.migration);
      return m ? m.touches : 'all';
    }
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
  if (step.runner.kind !== 'corrective-migration') return step.expected;
  const m = correctiveMigration(step.runner.migration);
  if (!m) return step.expected;
  const why = literal(`corrective migration ${m.id}: ${m.title.en}`, `migration corrective ${m.id} : ${m.title.fr}`);
  return {
    ...step.expected,
    tablesTouched: [...new Set([...(Array.isArray(step.expected.tablesTouched) ? step.expected.tablesTouched : []), ...m.touches])],
    rowsDeleted: [...(step.expected.rowsDeleted ?? []), ...m.touches.map((table) => ({ table, why }))],
  };
}

async function runCorrective(step: PlanStep & { runner: { kind: 'corrective-migration'; migration: string } }, ctx: ExecutorContext): Promise<ExecutorResult> {
  const m = correctiveMigration(step.runner.migration);
  if (!m) {
    return {
      status: 'failed',
      ...because({
        en: `corrective migration ${step.runner.migration} is not in migrations/corrective/`,
        fr: `la migration corrective ${step.runner.migration} est absente de migrations/corrective/`,
      }),
      evidence: [],
    };
  }
  const db = ctx.databases[m.database];
  if (!db) return { status: 'not-run', ...because({ en: `no ${m.database} database in this rehearsal`, fr: `la répétition n’a pas de base ${roleName(m.database)}` }), evidence: [] };
  const r = await applyCorrectiveMigration(ctx.conn, m, { db, glpi_db: ctx.databases.glpi, ocs_db: ctx.databases.ocs }, { dsn: ctx.dsn });
  const evidence = writeEvidence(ctx, 'corrective.json', r);
  const changed = Object.keys(r.rowsBefore).filter((t) => r.rowsBefore[t] !== r.rowsAfter[t]);
  return {
    status: r.ok ? 'passed' : 'failed',
    ...because(
      !r.applied
        ? { en: 'nothing to fix: the pre-check found no row', fr: 'rien à corriger : le contrôle préalable ne trouve aucune ligne' }
        : r.ok
          ? {
              en: `pre-check ${r.precheck} → post-check ${r.postcheck}; ${r.statementsRun} statement(s)`,
              fr: `contrôle préalable : ${r.precheck} ligne(s) → contrôle final : ${r.postcheck} ; ${r.statementsRun} instruction(s)`,
            }
          : { en: `post-check still finds ${r.postcheck} row(s)`, fr: `le contrôle final trouve encore ${r.postcheck} ligne(s)` },
    ),
    evidence: [evidence],
    details: { checksum: r.checksum, changedTables: changed },
  };
}

export async function executeStep(step: PlanStep, ctx: ExecutorContext, options: { dryRun: boolean }): Promise<ExecutorResult> {
  if (step.runner.kind === 'corrective-migration') {
    return runCorrective(step as PlanStep & { runner: { kind: 'corrective-migration'; migration: string } }, ctx);
  }
  const executor = executorFor(step.runner.kind);
  if (!executor) return { status: 'failed', ...because({ en: `no executor for runner kind ${step.runner.kind}`, fr: `aucun exécuteur pour le type d’étape ${step.runner.kind}` }), evidence: [] };
  if (options.dryRun && EXTERNAL_KINDS.has(step.runner.kind)) {
    // Ask the executor without distributions: it answers "not run" with the exact command to run by hand.
    const r = await executor.execute(step as never, { ...ctx, dists: { ...ctx.dists, glpi: [], plugin: [] } });
    return {
      ...r,
      status: 'not-run',
      ...because({
        en: `dry run: ${r.reason ?? 'needs a product distribution'}`,
        fr: `exécution à blanc : ${r.reasonFr ?? r.reason ?? 'une distribution du produit est nécessaire'}`,
      }),
    };
  }
  return executor.execute(step as never, ctx);
}
