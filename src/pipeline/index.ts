/**
 * The whole pipeline in one call, for `demo` (on the bundled fixtures) and `ci` (a dry run on a snapshot
 * for pipelines): [snapshot →] audit → plan → rehearse → dossier + DAT (+ JUnit). Every stage writes the
 * same files the individual commands write, into one output directory:
 *
 *   OUT/snapshot/            (demo only: a snapshot taken from a "production" embedded server)
 *   OUT/findings.yaml        audit
 *   OUT/plan.yaml            plan
 *   OUT/run/                 rehearsal run directory (run.yaml, journal.jsonl, evidence/)
 *   OUT/run/dossier-de-tests.md, OUT/run/dat.md, OUT/junit.xml
 */
import { functionalAnomalies } from '../report/functional-anomalies.ts';
import fs from 'node:fs';
import path from 'node:path';
import { startEmbedded } from '../db/embedded.ts';
import { withDatabase } from '../db/dsn.ts';
import { UsageError } from '../errors.ts';
import { readManifest, restoreSnapshot, takeSnapshot, verifySnapshot } from '../snapshot/index.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { runAudit, writeFindings } from '../audit/index.ts';
import type { FindingsFile } from '../audit/finding-types.ts';
import { buildPlan, loadCatalog, planInputFromSnapshot, writePlan } from '../plan/index.ts';
import type { PlanTargets } from '../plan/index.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import type { RunnerEvent } from '../rehearse/runner.ts';
import { rehearse } from '../rehearse/runner.ts';
import type { RunSummary } from '../rehearse/run-types.ts';
import type { ExecutorDistributions } from '../rehearse/executors/types.ts';
import { runToJUnit } from '../rehearse/junit.ts';
import { resolveOcsSources } from '../distributions/ocs.ts';
import { ocsReleases } from '../catalog/ocs-releases.ts';
import { glpiBranchOf } from '../catalog/catalog.ts';
import { compareDotted, sameVersion } from '../catalog/version.ts';
import { loadRunInputs, renderDat, renderDossier, buildDossierModel } from '../report/index.ts';
import type { Verdict } from '../report/index.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import { functionalAfterRehearsal, functionalWanted } from '../functional/after-rehearsal.ts';
import type { FunctionalResults } from '../functional/types.ts';
import { databaseNames } from '../rehearse/instance.ts';

export const REPO_ROOT = PACKAGE_ROOT;
/** The bundled fixture snapshot the demo starts from. */
export const DEMO_FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');

export interface PipelineOptions {
  /** The input snapshot (demo: the bundled fixture, restored then snapshotted again). */
  snapshotDir: string;
  outDir: string;
  /** Demo: restore the input into a "production" embedded server and take a fresh snapshot of it first. */
  takeSnapshot?: boolean;
  dryRun: boolean;
  lang: 'fr' | 'en';
  dists: ExecutorDistributions;
  php?: string;
  targets?: PlanTargets;
  /** Reference schemas for the audit's drift checks (glpi-<v>-empty.sql, ocsbase_new-<r>.sql). */
  referenceDirs?: string[];
  /** GLPI release trees (their install/mysql/ also holds reference schemas). */
  glpiDistDirs?: string[];
  serverBin?: string;
  signal?: AbortSignal;
  onStage?: (stage: string) => void;
  onEvent?: (e: RunnerEvent) => void;
  /** Functional tests after the rehearsal (default: when a GLPI step can run with a distribution). */
  functional?: boolean;
  /** Extra scenario books and the Chromium executable for the functional tests. */
  scenarios?: string[];
  chromium?: string;
}

export interface PipelineResult {
  snapshotDir: string;
  manifest: Manifest;
  findingsFile: string;
  findings: FindingsFile;
  planFile: string;
  plan: PlanFile;
  runDir: string;
  run: RunSummary;
  dossierFile: string;
  datFile: string;
  junitFile: string;
  verdict: Verdict;
  /** The functional stage's results, when it ran. */
  functional?: FunctionalResults;
}

/** The newest OCS release whose update files the given distributions all provide (undefined: none given). */
export function newestOcsReleaseWithin(dists: ExecutorDistributions): { version: string; gui: number } | undefined {
  if (!dists.ocs?.length) return undefined;
  const gui = resolveOcsSources(dists.ocs).newestReachable;
  const candidates = ocsReleases().filter((r) => r.gui_version <= gui);
  const best = candidates[candidates.length - 1];
  return best ? { version: best.version, gui: best.gui_version } : undefined;
}

/**
 * The GLPI target the given GLPI distributions allow: the newest runnable tree (bin/console and vendor/)
 * whose release the catalog knows. `note` says in one line what was chosen, or why nothing was.
 */
export function glpiTargetWithin(dists: ExecutorDistributions): { version?: string; note?: string } {
  if (!dists.glpi?.length) return {};
  const runnable = dists.glpi.filter((d) => d.hasConsole && d.hasVendor).sort((a, b) => compareDotted(a.version, b.version));
  if (!runnable.length) {
    return { note: `plan: GLPI target left at the default: the given GLPI distribution(s) (${dists.glpi.map((d) => d.version).join(', ')}) lack bin/console or vendor/, so no GLPI step can run` };
  }
  const c = loadCatalog();
  const known = runnable.filter((d) => glpiBranchOf(c, d.version)?.releases.includes(d.version));
  const best = known[known.length - 1];
  if (!best) return { note: `plan: GLPI target left at the default: GLPI ${runnable.map((d) => d.version).join(', ')} is not in the catalog (migrations/glpi-releases.yaml)` };
  return { version: best.version, note: `plan: GLPI target ${best.version}, the newest release among the given GLPI distributions (--glpi-dist)` };
}

/** One line per plugin step the given plugin distributions cannot run (none when no plugin tree was given). */
export function pluginMismatches(plan: PlanFile, dists: ExecutorDistributions): string[] {
  if (!dists.plugin?.length) return [];
  const have = dists.plugin.map((p) => p.version);
  return plan.steps.flatMap(({ id, runner }) =>
    runner.kind === 'plugin-install' && !have.some((v) => sameVersion(v, runner.pluginVersion))
      ? [`plan: step ${id} installs ocsinventoryng ${runner.pluginVersion} (the release for GLPI ${runner.glpiRelease}); the given --plugin-dist is ${have.join(', ')}: that step will not run`]
      : [],
  );
}

function prepareOutDir(outDir: string): void {
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) {
    const marker = path.join(outDir, '.glpi-ocs-upgrade-output');
    if (!fs.existsSync(marker)) {
      throw new UsageError(`${outDir} is not empty and was not written by this tool`, { hint: 'choose another output directory with -o' });
    }
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, '.glpi-ocs-upgrade-output'), 'This directory is rewritten by glpi-ocs-upgrade demo/ci.\n');
}

/** Restores a snapshot into a throwaway "production" server and snapshots it again (read-only copy). */
async function freshSnapshot(input: string, out: string, serverBin?: string): Promise<void> {
  const prod = await startEmbedded({ serverBin, name: 'demo-production' });
  try {
    const restored = await restoreSnapshot(input, prod.dsn, {});
    const sources = (['glpi', 'ocs'] as const).filter((role) => restored.databases[role]).map((role) => ({ role, dsn: withDatabase(prod.dsn, restored.databases[role]!) }));
    const inputManifest = await readManifest(input);
    await takeSnapshot({ sources, outDir: out, generated: inputManifest.generated });
  } finally {
    await prod.stop();
  }
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const stage = o.onStage ?? (() => undefined);
  prepareOutDir(o.outDir);
  let snapshotDir = o.snapshotDir;
  if (o.takeSnapshot) {
    snapshotDir = path.join(o.outDir, 'snapshot');
    stage('snapshot: restoring the bundled fixtures into a "production" server, then taking a read-only snapshot of it');
    await freshSnapshot(o.snapshotDir, snapshotDir, o.serverBin);
  }
  stage(`verify: checking ${snapshotDir} against its manifest`);
  const verified = await verifySnapshot(snapshotDir);
  if (!verified.ok) throw new UsageError(`snapshot ${snapshotDir} fails verification: run glpi-ocs-upgrade verify ${snapshotDir}`);
  const manifest = await readManifest(snapshotDir);

  stage('audit: looking for upgrade hazards and interconnection problems');
  const findings = await runAudit({ snapshot: snapshotDir }, { serverBin: o.serverBin, referenceDirs: o.referenceDirs, glpiDists: o.glpiDistDirs });
  const findingsFile = path.join(o.outDir, 'findings.yaml');
  writeFindings(findingsFile, findings);

  stage('plan: computing the stepwise upgrade path');
  const targets: PlanTargets = { ...o.targets };
  const reachable = newestOcsReleaseWithin(o.dists);
  if (!targets.ocs && reachable) {
    targets.ocs = reachable.version;
    stage(`plan: OCS target ${reachable.version} (GUI_VERSION ${reachable.gui}), the newest release the given OCS distribution reaches`);
  }
  if (!targets.glpi) {
    const allowed = glpiTargetWithin(o.dists);
    if (allowed.version) targets.glpi = allowed.version;
    if (allowed.note) stage(allowed.note);
  }
  const plan = buildPlan(await planInputFromSnapshot(snapshotDir), targets);
  for (const line of pluginMismatches(plan, o.dists)) stage(line);
  const planFile = path.join(o.outDir, 'plan.yaml');
  writePlan(planFile, plan);

  stage(`rehearse: ${plan.steps.length} steps on a throwaway server${o.dryRun ? ' (dry run)' : ''}`);
  const runDir = path.join(o.outDir, 'run');
  // --- functional stage (issue 19): the instance is kept for it, then stopped by it.
  const functional = (o.functional ?? true) && functionalWanted(plan, o.dists, o.dryRun);
  // ---
  const rehearsal = await rehearse({
    plan,
    planPath: planFile,
    manifest,
    snapshotDir,
    runDir,
    dryRun: o.dryRun,
    dists: o.dists,
    php: o.php,
    findings,
    audit: { referenceDirs: o.referenceDirs, glpiDists: o.glpiDistDirs },
    serverBin: o.serverBin,
    signal: o.signal,
    onEvent: o.onEvent,
    keepInstance: functional || undefined,
  });
  if (rehearsal.error || !rehearsal.summary) throw rehearsal.error ?? new Error('rehearse returned no summary');
  const run = rehearsal.summary;

  // --- functional stage (issue 19)
  let functionalResults: FunctionalResults | undefined;
  if (functional) {
    const failed = run.steps.some((st) => st.status === 'failed');
    if (!failed) stage('functional: serving the upgraded GLPI and OCS console, scenarios in headless Chromium');
    const databases = databaseNames(manifest);
    // A failed run keeps its instance for --resume (the runner's rule): no scenario on a half-migrated base.
    if (!failed)
      functionalResults = await functionalAfterRehearsal({ plan, run, runDir, dists: o.dists, databases, php: o.php, chromium: o.chromium, scenarios: o.scenarios, lang: o.lang, signal: o.signal });
  }
  // ---

  stage('dossier and DAT');
  const inputs = loadRunInputs(runDir);
  const dossierFile = path.join(runDir, o.lang === 'en' ? 'test-dossier.md' : 'dossier-de-tests.md');
  const extraAnomalies = functionalAnomalies(functionalResults);
  fs.writeFileSync(dossierFile, renderDossier(inputs, { lang: o.lang, functional: functionalResults, extraAnomalies }));
  const datFile = path.join(runDir, 'dat.md');
  fs.writeFileSync(datFile, renderDat(inputs, { lang: o.lang }));
  const junitFile = path.join(o.outDir, 'junit.xml');
  fs.writeFileSync(junitFile, runToJUnit(run, o.lang));
  const verdict = buildDossierModel(inputs, { extraAnomalies }).verdict;
  return { snapshotDir, manifest, findingsFile, findings, planFile, plan, runDir, run, dossierFile, datFile, junitFile, verdict, functional: functionalResults };
}
