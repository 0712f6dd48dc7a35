/**
 * The functional stage run right after a rehearsal (pipeline, `rehearse`), outside the runner: the runner
 * keeps its embedded instance when asked to (`keepInstance`), this finds it again from the run's journal,
 * runs the scenarios on the upgraded databases with the GLPI and plugin distributions the last steps used,
 * then stops the instance unless the user wanted it kept.
 */
import path from 'node:path';
import { attachInstance } from '../db/embedded.ts';
import { NotFoundError } from '../errors.ts';
import type { Dsn } from '../db/dsn.ts';
import { findGlpiDist, findPluginDist } from '../distributions/glpi.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import { Journal, journalState } from '../rehearse/journal.ts';
import type { RunSummary } from '../rehearse/run-types.ts';
import type { ExecutorDistributions } from '../rehearse/executors/types.ts';
import { runFunctionalStage } from './index.ts';
import type { FunctionalResults, ScenarioResult } from './types.ts';

/** Whether the plan has a GLPI step the given distributions can run (the default for --functional). */
export function functionalWanted(plan: PlanFile, dists: ExecutorDistributions, dryRun?: boolean): boolean {
  if (dryRun) return false;
  return plan.steps.some((s) => s.runner.kind === 'glpi-console' && findGlpiDist(dists.glpi ?? [], s.runner.release) !== undefined);
}

/** The GLPI and plugin distributions of the last GLPI and plugin steps that passed. */
export function distsUsed(plan: PlanFile, run: RunSummary, dists: ExecutorDistributions) {
  const passed = new Set(run.steps.filter((s) => s.status === 'passed').map((s) => s.stepId));
  let glpi: ReturnType<typeof findGlpiDist>;
  let plugin: ReturnType<typeof findPluginDist>;
  for (const s of plan.steps) {
    if (!passed.has(s.id)) continue;
    if (s.runner.kind === 'glpi-console') glpi = findGlpiDist(dists.glpi ?? [], s.runner.release) ?? glpi;
    if (s.runner.kind === 'plugin-install') plugin = findPluginDist(dists.plugin ?? [], s.runner.pluginVersion) ?? plugin;
  }
  return { glpi, plugin };
}

export interface AfterRehearsalOptions {
  plan: PlanFile;
  run: RunSummary;
  runDir: string;
  dists: ExecutorDistributions;
  /** Database names on the test instance (the snapshot's). */
  databases: { glpi?: string; ocs?: string };
  /** An external test instance (as given to rehearse); default: the embedded one named in the journal. */
  instance?: Dsn;
  /** Keep the embedded instance afterwards (the user asked for --keep-instance). */
  keepInstance?: boolean;
  php?: string;
  chromium?: string;
  scenarios?: string[];
  only?: string[];
  lang?: 'fr' | 'en';
  signal?: AbortSignal;
  onScenario?: (r: ScenarioResult) => void;
}

export async function functionalAfterRehearsal(o: AfterRehearsalOptions): Promise<FunctionalResults> {
  const label = journalState(new Journal(o.runDir).read()).instance ?? '';
  const embedded = !o.instance && label.startsWith('embedded:') ? attachInstance(label.slice('embedded:'.length)) : undefined;
  const dsn = o.instance ?? embedded?.dsn;
  if (!dsn) {
    throw new NotFoundError(`the test instance of ${o.runDir} (${label || 'none recorded'}) is no longer running`, {
      hint: 'rehearse again with --keep-instance --no-functional, then run glpi-ocs-upgrade functional on that run directory',
    });
  }
  try {
    const used = distsUsed(o.plan, o.run, o.dists);
    const ocsDist = (o.dists.ocs ?? []).find((d) => d.layout !== 'reference');
    const target = (db?: string) => (dsn && db ? { dsn, database: db } : undefined);
    return await runFunctionalStage({
      glpiDist: used.glpi,
      pluginDist: used.plugin,
      ocsDist,
      glpiDb: used.glpi ? target(o.databases.glpi) : undefined,
      ocsDb: target(o.databases.ocs),
      runDir: o.runDir,
      outDir: path.join(o.runDir, 'functional'),
      scenarios: o.scenarios,
      only: o.only,
      lang: o.lang,
      php: o.php,
      chromium: o.chromium,
      signal: o.signal,
      onScenario: o.onScenario,
    });
  } finally {
    if (embedded && !o.keepInstance) await embedded.stop();
  }
}
