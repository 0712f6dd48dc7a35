/**
 * Rehearsal overhead on the OCS path: the tool's `rehearse` of an OCS-only plan against feeding the same OCS
 * SQL files to the `mariadb` client, on the same embedded server, in the same run.
 *
 *   npm run bench -- rehearse [--computers 50000] [--fixture DIR] [--ocs-dist DIR] [--rounds N] [--json]
 *
 * What is compared (both sides start from the same state: the OCS database of the snapshot, restored, with
 * the plan's corrective migrations applied at their place in the plan):
 *
 *   baseline  for each OCS step of the plan, in plan order: its SQL file (the 7005 → 7006 bridge, then
 *             files/update/NNNN.sql) piped to one `mariadb --force` process (--force: go on after an error,
 *             like ocsreports' updater, which ignores every error), followed by the GUI_VERSION update
 *             ocsreports does in PHP; the PHP-side changes (ocs-php-change steps) run as the tool runs them.
 *             The restore and the corrective migrations are not timed.
 *   ours      rehearse() of the same plan on the same server (--instance). Timed: the wall time of the same
 *             OCS steps, from a step's start to the next step's start (the last one: until rehearse()
 *             returns), which holds savepoints, checks, the statements, evidence and journal. The restore and
 *             the corrective-migration steps are reported apart and not in the ratio.
 *
 * overhead = (ours − baseline) / baseline. The final OCS databases of both sides are compared (row counts
 * and CHECKSUM TABLE of every table), so that both really did the same work.
 *
 * Figures are recorded in docs/benchmarks.md ("Rehearsal overhead (OCS path)").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { execa } from 'execa';
import type { Connection } from 'mysql2/promise';
import { connect, qi } from '../src/db/connect.ts';
import { withDatabase } from '../src/db/dsn.ts';
import type { EmbeddedInstance } from '../src/db/embedded.ts';
import { startEmbedded } from '../src/db/embedded.ts';
import { generateFixtures, writeFixtureSnapshot } from '../src/synthetic/index.ts';
import { readManifest, restoreSnapshot } from '../src/snapshot/index.ts';
import type { Manifest } from '../src/snapshot/manifest-types.ts';
import { manifestFiles } from '../src/snapshot/manifest.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import type { PlanFile, PlanStep } from '../src/plan/plan-types.ts';
import { detectOcsDist, obtainDebianOcsDist, resolveOcsSources } from '../src/distributions/ocs.ts';
import type { OcsDistribution } from '../src/distributions/ocs.ts';
import { correctiveMigration } from '../src/catalog/corrective.ts';
import { applyCorrectiveMigration } from '../src/rehearse/executors/corrective.ts';
import { OWN_BRIDGE_FILE, applyOcsPhpChange } from '../src/rehearse/executors/ocs.ts';
import { applyOcsSession } from '../src/rehearse/executors/ocs-sql.ts';
import { rehearse } from '../src/rehearse/runner.ts';
import { defaultCacheDir } from '../src/cli/dist-options.ts';
import type { StepPhase } from '../src/rehearse/runner.ts';
import { databaseState, fingerprint } from '../src/rehearse/checks.ts';

const OCS_KINDS = new Set(['ocs-bridge', 'ocs-update-file', 'ocs-php-change']);

export interface RehearseBenchArgs {
  computers: number;
  fixture?: string;
  ocsDist?: string;
  ocsTarget: string;
  rounds: number;
}

export function parseRehearseArgs(argv: string[]): RehearseBenchArgs {
  const val = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    computers: Number(val('computers') ?? 50_000),
    fixture: val('fixture'),
    ocsDist: val('ocs-dist'),
    ocsTarget: val('ocs-target') ?? '2.11.1',
    rounds: Math.max(1, Number(val('rounds') ?? 1)),
  };
}

export interface RoundResult {
  baseline: { totalMs: number; perStepMs: Record<string, number>; clientErrors: number };
  ours: {
    totalMs: number;
    perStepMs: Record<string, number>;
    phasesMs: Record<StepPhase | 'other', number>;
    correctiveMs: number;
    restoreMs: number;
    /** Tables whose rows the checks read again after each step (the others were carried forward). */
    reread: Record<string, string[]>;
  };
  overhead: number;
  sameFinalTables: boolean;
  differingTables: string[];
}

export interface RehearseBenchResult {
  computers: number;
  ocsRows: number;
  ocsTables: number;
  ocsSteps: number;
  correctiveSteps: number;
  distribution: string;
  rounds: RoundResult[];
  machine: string;
  loadAverage: string;
}

/** A snapshot directory holding only the OCS database of `dir` (hard links; same manifest id). */
function ocsOnlySnapshot(dir: string, out: string): void {
  const doc = YAML.parse(fs.readFileSync(path.join(dir, 'manifest.yaml'), 'utf8')) as Manifest;
  doc.databases = doc.databases.filter((d) => d.role === 'ocs');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'manifest.yaml'), YAML.stringify(doc, { lineWidth: 0 }));
  for (const { path: rel } of manifestFiles(doc)) {
    fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    try {
      fs.linkSync(path.join(dir, rel), path.join(out, rel));
    } catch {
      fs.copyFileSync(path.join(dir, rel), path.join(out, rel));
    }
  }
}

/** The SQL file an OCS SQL step runs (same resolution as the executors). */
function stepFile(step: PlanStep, dist: OcsDistribution): string | undefined {
  const sources = resolveOcsSources([dist]);
  if (step.runner.kind === 'ocs-bridge') return sources.bridge?.file ?? OWN_BRIDGE_FILE;
  if (step.runner.kind === 'ocs-update-file') return sources.updates.get(step.runner.guiVersion)?.file;
  return undefined;
}

function guiVersionOf(step: PlanStep): number | undefined {
  if (step.runner.kind === 'ocs-bridge') return 7006;
  if (step.runner.kind === 'ocs-update-file') return step.runner.guiVersion;
  return undefined;
}

async function ocsState(conn: Connection, db: string) {
  return databaseState(conn, db);
}

/** Baseline: the same files, in plan order, piped to `mariadb --force`. */
async function runBaseline(
  inst: EmbeddedInstance,
  plan: PlanFile,
  snapshot: string,
  db: string,
  dist: OcsDistribution,
  log: (s: string) => void,
): Promise<{ totalMs: number; perStepMs: Record<string, number>; clientErrors: number; state: Awaited<ReturnType<typeof ocsState>> }> {
  await restoreSnapshot(snapshot, inst.dsn, { databases: { ocs: db }, force: true, verifyFiles: false });
  const conn = await connect(withDatabase(inst.dsn, db));
  const perStepMs: Record<string, number> = {};
  let clientErrors = 0;
  try {
    for (const step of plan.steps) {
      if (step.runner.kind === 'corrective-migration') {
        const m = correctiveMigration(step.runner.migration)!;
        await applyCorrectiveMigration(conn, m, { db, ocs_db: db }, { dsn: inst.dsn });
        continue;
      }
      if (!OCS_KINDS.has(step.runner.kind)) continue;
      const t0 = performance.now();
      if (step.runner.kind === 'ocs-php-change') {
        await applyOcsSession(conn);
        await applyOcsPhpChange(conn, step.runner.change);
      } else {
        const file = stepFile(step, dist);
        if (!file) throw new Error(`no SQL file for ${step.id} in ${dist.dir}`);
        const version = guiVersionOf(step)!;
        const body = fs.readFileSync(file, 'utf8').trimEnd();
        const input = [
          "SET NAMES 'utf8';",
          "SET SESSION sql_mode='NO_ENGINE_SUBSTITUTION';",
          body.endsWith(';') ? body : `${body}\n;`,
          `UPDATE config SET TVALUE = '${version}' WHERE NAME = 'GUI_VERSION';`,
          '',
        ].join('\n');
        const r = await execa('mariadb', ['--no-defaults', '--force', '--batch', '--host=127.0.0.1', `--port=${inst.record.port}`, '--user=root', db], {
          input,
          reject: false,
          env: { MYSQL_PWD: inst.dsn.password ?? '' },
        });
        clientErrors += (r.stderr.match(/^ERROR \d+/gm) ?? []).length;
        if (r.exitCode !== 0 && !/^ERROR \d+/m.test(r.stderr)) throw new Error(`mariadb client failed on ${step.id}: ${r.stderr.slice(0, 400)}`);
      }
      perStepMs[step.id] = performance.now() - t0;
    }
    const totalMs = Object.values(perStepMs).reduce((a, b) => a + b, 0);
    log(`  baseline: ${(totalMs / 1000).toFixed(1)} s (${clientErrors} statement errors reported by the client, going on like the official updater)`);
    return { totalMs, perStepMs, clientErrors, state: await ocsState(conn, db) };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function runOurs(
  inst: EmbeddedInstance,
  plan: PlanFile,
  planPath: string,
  manifest: Manifest,
  snapshot: string,
  db: string,
  dist: OcsDistribution,
  runDir: string,
  log: (s: string) => void,
): Promise<RoundResult['ours'] & { state: Awaited<ReturnType<typeof ocsState>> }> {
  const admin = await connect(inst.dsn);
  await admin.query(`DROP DATABASE IF EXISTS ${qi(db)}`);
  const starts: Array<{ id: string; at: number }> = [];
  const phases: Record<string, Record<string, number>> = {};
  const reread: Record<string, string[]> = {};
  const t0 = performance.now();
  const outcome = await rehearse({
    plan,
    planPath,
    manifest,
    snapshotDir: snapshot,
    runDir,
    instance: inst.dsn,
    dists: { ocs: [dist] },
    onEvent: (e) => {
      if (e.kind === 'step-start') starts.push({ id: e.step.id, at: performance.now() });
    },
    onPhase: (p) => {
      phases[p.stepId] ??= {};
      const s = phases[p.stepId];
      s[p.phase] = (s[p.phase] ?? 0) + p.ms;
      if (p.tables) {
        reread[p.stepId] ??= [];
        reread[p.stepId].push(...p.tables);
      }
    },
  });
  if (outcome.error) throw outcome.error;
  const end = performance.now();
  const restoreMs = (starts[0]?.at ?? end) - t0;
  const perStepMs: Record<string, number> = {};
  starts.forEach((s, i) => {
    perStepMs[s.id] = (starts[i + 1]?.at ?? end) - s.at;
  });
  const kinds = new Map(plan.steps.map((s) => [s.id, s.runner.kind]));
  const phasesMs: Record<StepPhase | 'other', number> = { savepoint: 0, checks: 0, execute: 0, journal: 0, other: 0 };
  let totalMs = 0;
  let correctiveMs = 0;
  for (const [id, ms] of Object.entries(perStepMs)) {
    if (!OCS_KINDS.has(kinds.get(id) ?? '')) {
      correctiveMs += ms;
      continue;
    }
    totalMs += ms;
    let known = 0;
    for (const [ph, v] of Object.entries(phases[id] ?? {})) {
      phasesMs[ph as StepPhase] += v;
      known += v;
    }
    phasesMs.other += ms - known;
  }
  const state = await ocsState(admin, db);
  await admin.end().catch(() => undefined);
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  log(
    `  ours: ${sec(totalMs)} (savepoints ${sec(phasesMs.savepoint)}, checks ${sec(phasesMs.checks)}, statements ${sec(phasesMs.execute)}, journal ${sec(phasesMs.journal)}, other ${sec(phasesMs.other)}); corrective steps ${sec(correctiveMs)}, restore ${sec(restoreMs)}`,
  );
  return { totalMs, perStepMs, phasesMs, correctiveMs, restoreMs, reread, state };
}

export async function benchRehearse(args: RehearseBenchArgs, log: (s: string) => void = () => undefined): Promise<RehearseBenchResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-bench-rehearse-'));
  let inst: EmbeddedInstance | undefined;
  try {
    const dist = args.ocsDist && args.ocsDist !== 'debian' ? detectOcsDist(args.ocsDist) : await obtainDebianOcsDist(defaultCacheDir());
    let fixture = args.fixture;
    let manifestFull = fixture ? await readManifest(fixture) : undefined;
    inst = await startEmbedded({
      name: `bench-rehearse-${process.pid}`,
      settings: manifestFull ? { sqlMode: manifestFull.source.sqlMode, characterSetServer: manifestFull.source.characterSetServer, collationServer: manifestFull.source.collationServer } : undefined,
    });
    if (!fixture) {
      log(`generating ${args.computers} computers…`);
      const gen = await generateFixtures(inst.dsn, { seed: 1, computers: args.computers, hazards: 'all', glpiDb: 'bench_gen_glpi', ocsDb: 'bench_gen_ocs' });
      fixture = path.join(tmp, 'fixture');
      manifestFull = await writeFixtureSnapshot(inst.dsn, gen, fixture, { compressionLevel: 1 });
      const c = await connect(inst.dsn);
      await c.query('DROP DATABASE bench_gen_glpi');
      await c.query('DROP DATABASE bench_gen_ocs');
      await c.end();
    }
    const ocsSnap = path.join(tmp, 'ocs-only');
    ocsOnlySnapshot(fixture, ocsSnap);
    const manifest = await readManifest(ocsSnap);
    const db = manifest.databases[0].name;
    const plan = buildPlan(await planInputFromSnapshot(fixture), { ocs: args.ocsTarget });
    plan.steps = plan.steps.filter((s) => s.database === 'ocs');
    const planPath = path.join(tmp, 'plan.yaml');
    writePlan(planPath, plan);
    const ocsSteps = plan.steps.filter((s) => OCS_KINDS.has(s.runner.kind)).length;
    const correctiveSteps = plan.steps.length - ocsSteps;
    const ocsTables = manifest.databases[0].tables.length;
    const ocsRows = manifest.databases[0].tables.reduce((n, t) => n + t.rows, 0);
    log(`OCS database: ${ocsTables} tables, ${ocsRows} rows; plan: ${ocsSteps} OCS steps + ${correctiveSteps} corrective migration(s); distribution ${dist.dir}`);

    const rounds: RoundResult[] = [];
    for (let round = 1; round <= args.rounds; round++) {
      log(`round ${round}/${args.rounds}`);
      const base = await runBaseline(inst, plan, ocsSnap, db, dist, log);
      const ours = await runOurs(inst, plan, planPath, manifest, ocsSnap, db, dist, path.join(tmp, `run-${round}`), log);
      const differing = [...new Set([...base.state.keys(), ...ours.state.keys()])]
        .filter((t) => {
          const a = base.state.get(t);
          const b = ours.state.get(t);
          return !a || !b || a.rows !== b.rows || a.checksum !== b.checksum;
        })
        .sort();
      const { state: _b, ...baseline } = base;
      const { state: _o, ...oursOut } = ours;
      const overhead = (ours.totalMs - base.totalMs) / base.totalMs;
      log(
        `  overhead ${(overhead * 100).toFixed(1)} %; final OCS tables ${differing.length === 0 ? 'identical' : `differ: ${differing.join(', ')}`} (${fingerprint({ ocs: base.state }).slice(0, 12)} / ${fingerprint({ ocs: ours.state }).slice(0, 12)})`,
      );
      rounds.push({ baseline, ours: oursOut, overhead, sameFinalTables: differing.length === 0, differingTables: differing });
    }
    return {
      computers: manifestFull?.generated?.computers ?? args.computers,
      ocsRows,
      ocsTables,
      ocsSteps,
      correctiveSteps,
      distribution: `${dist.layout} ${dist.release ?? ''} (GUI_VER ${dist.guiVer ?? '?'})`.trim(),
      rounds,
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, MariaDB ${inst.record.serverVersion}`,
      loadAverage: os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    };
  } finally {
    await inst?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function printRehearseBench(r: RehearseBenchResult, out: (s: string) => void): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  out(`computers ${r.computers}; OCS ${r.ocsTables} tables, ${r.ocsRows} rows; ${r.ocsSteps} OCS steps (+${r.correctiveSteps} corrective); ${r.distribution}`);
  out(`${r.machine}; load average at the end ${r.loadAverage}`);
  r.rounds.forEach((x, i) => {
    const p = x.ours.phasesMs;
    out(
      `round ${i + 1}: baseline (mariadb --force) ${s(x.baseline.totalMs)}; ours ${s(x.ours.totalMs)} = statements ${s(p.execute)} + savepoints ${s(p.savepoint)} + checks ${s(p.checks)} + journal ${s(p.journal)} + other ${s(p.other)}; overhead ${(x.overhead * 100).toFixed(1)} %; final tables ${x.sameFinalTables ? 'identical' : `differ: ${x.differingTables.join(', ')}`}`,
    );
    out(`         not in the ratio: restore ${s(x.ours.restoreMs)}, corrective steps ${s(x.ours.correctiveMs)}`);
  });
}
