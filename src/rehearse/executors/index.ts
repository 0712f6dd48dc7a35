/**
 * The step executors, one per StepRunner kind (src/plan/plan-types.ts), in a registry the compiler checks:
 * a kind without its executor, or an executor for another kind's steps, is a build error. The runner runs a
 * step with `runStep(step, ctx)`, which hands each executor a step of its own runner kind.
 */
import fs from 'node:fs';
import type { PlanStep } from '../../plan/plan-types.ts';
import { resolveOcsSources } from '../../distributions/ocs.ts';
import { ocsBridgeExecutor, ocsPhpChangeExecutor, ocsUpdateFileExecutor, OWN_BRIDGE_FILE } from './ocs.ts';
import { glpiConsoleExecutor } from './glpi-console.ts';
import { pluginInstallExecutor } from './plugin-install.ts';
import { correctiveExecutor } from './corrective.ts';
import { tablesNamedInOcsSql, indexOnlyTablesInOcsSql } from './ocs-sql.ts';
import type { ExecutorContext, ExecutorDistributions, ExecutorRegistry, ExecutorResult, RunnerKind, StepExecutor, StepOf } from './types.ts';

export type { ExecutorContext, ExecutorResult, StepExecutor, ExecutorDistributions, RunnerKind, StepOf } from './types.ts';

const EXECUTORS: ExecutorRegistry = {
  'ocs-bridge': ocsBridgeExecutor,
  'ocs-update-file': ocsUpdateFileExecutor,
  'ocs-php-change': ocsPhpChangeExecutor,
  'glpi-console': glpiConsoleExecutor,
  'plugin-install': pluginInstallExecutor,
  'corrective-migration': correctiveExecutor,
};

/** The executor of a runner kind. */
export function executorFor<K extends RunnerKind>(kind: K): StepExecutor<K> {
  return EXECUTORS[kind];
}

/** Runs a step with the executor of its runner kind (a plain PlanStep is a StepOf<RunnerKind>). */
export function runStep<K extends RunnerKind>(step: StepOf<K>, ctx: ExecutorContext): Promise<ExecutorResult> {
  const kind: K = step.runner.kind;
  return executorFor(kind).execute(step, ctx);
}

/**
 * Tables an OCS SQL step may touch, read from the SQL file it will run (for the runner's savepoint and
 * untouched-table checks); 'all' when the file is not available or the step is not an OCS SQL step.
 */
export function ocsStepTables(step: PlanStep, dists: ExecutorDistributions): string[] | 'all' {
  const sources = resolveOcsSources(dists.ocs ?? []);
  let file: string | undefined;
  if (step.runner.kind === 'ocs-update-file') file = sources.updates.get(step.runner.guiVersion)?.file;
  else if (step.runner.kind === 'ocs-bridge') file = sources.bridge?.file ?? OWN_BRIDGE_FILE;
  if (!file) return 'all';
  const tables = tablesNamedInOcsSql(fs.readFileSync(file, 'utf8'));
  return [...new Set([...tables, 'config'])].sort();
}

/** Tables an OCS SQL step changes only by adding or dropping indexes (see indexOnlyTablesInOcsSql). */
export function ocsIndexOnlyTables(step: PlanStep, dists: ExecutorDistributions): string[] {
  if (step.runner.kind !== 'ocs-update-file') return [];
  const file = resolveOcsSources(dists.ocs ?? []).updates.get(step.runner.guiVersion)?.file;
  return file ? indexOnlyTablesInOcsSql(fs.readFileSync(file, 'utf8')) : [];
}
