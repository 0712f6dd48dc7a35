/**
 * The step executors, one per StepRunner kind (src/plan/plan-types.ts). The runner picks one with
 * `executorFor(step.runner.kind)`; `corrective-migration` is left to the runner (see docs/distributions.md).
 */
import fs from 'node:fs';
import type { PlanStep, StepRunner } from '../../plan/plan-types.ts';
import { resolveOcsSources } from '../../distributions/ocs.ts';
import { ocsBridgeExecutor, ocsPhpChangeExecutor, ocsUpdateFileExecutor, OWN_BRIDGE_FILE } from './ocs.ts';
import { glpiConsoleExecutor } from './glpi-console.ts';
import { pluginInstallExecutor } from './plugin-install.ts';
import { tablesNamedInOcsSql, indexOnlyTablesInOcsSql } from './ocs-sql.ts';
import type { ExecutorDistributions, StepExecutor } from './types.ts';

export type { ExecutorContext, ExecutorResult, StepExecutor, ExecutorDistributions } from './types.ts';

const EXECUTORS: Partial<Record<StepRunner['kind'], StepExecutor>> = {
  'ocs-bridge': ocsBridgeExecutor as unknown as StepExecutor,
  'ocs-update-file': ocsUpdateFileExecutor as unknown as StepExecutor,
  'ocs-php-change': ocsPhpChangeExecutor as unknown as StepExecutor,
  'glpi-console': glpiConsoleExecutor as unknown as StepExecutor,
  'plugin-install': pluginInstallExecutor as unknown as StepExecutor,
};

/** The executor of a runner kind; undefined for kinds this module does not execute (corrective-migration). */
export function executorFor(kind: StepRunner['kind']): StepExecutor | undefined {
  return EXECUTORS[kind];
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
