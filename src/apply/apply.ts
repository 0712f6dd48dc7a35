/**
 * `apply`: the rehearsed plan, carried out on production exactly as rehearsed.
 *
 *   1. refuse unless --confirm names the production server (exit 6, before any connection);
 *   2. refuse (exit 15) unless RUN_DIR is a complete rehearsal of the same plan, production is what was
 *      rehearsed (versions; structure equal to the rehearsal's restored snapshot), the audit's blocking
 *      checks find nothing new, nobody else is connected to the two databases, and a rollback would work —
 *      all read only, nothing written;
 *   3. back production up (the `snapshot` code) and verify the copy, or check the one named by --backup;
 *      nothing is written to production before this;
 *   4. run the plan through the rehearsal's runner (same executors, checks, journal, --resume) against
 *      production, inside the confirmed write scope (src/db/interlock.ts withProductionWrites);
 *   5. prove the final structure and per-table figures against the rehearsal's.
 *
 * applyLocked() reads as those phases, one function each, on the scope the refusals leave (ApplyScope):
 * refuseEarly, preflightChecks, newApplyRecord, backUpServers / backUpServer, startGlpiSide and runnerHooks
 * (config dir, key copies, maintenance mode), runOnServers / runOnServer, compareWithRehearsal, then the
 * functional scenarios (functionalOnProduction).
 *
 * Savepoints on production: the runner still takes one before each step (a copy of the tables the step may
 * touch in a `<db>__gou_savepoint` schema on the same server, or nothing for steps it can replay from the
 * backup), but a failed step is never rolled back on its own. The run stops with the database as the step
 * left it; the user chooses: fix the cause and `apply --resume` (which says it undoes the half-run step from
 * its savepoint, journals it, and runs it again), or `rollback` (the whole backup).
 */
import { render } from '../i18n/render.ts';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { connectReadOnly } from '../db/connect.ts';
import { withProductionWrites } from '../db/interlock.ts';
import { serverInfo } from '../db/introspect.ts';
import { ApplyRefusedError, InterruptedError, StepFailedError, UsageError } from '../errors.ts';
import { writePlan } from '../plan/index.ts';
import { readManifest, takeSnapshot, tablesDifferingFrom, verifySnapshot, describeProblems } from '../snapshot/index.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import type { PlanStep } from '../plan/plan-types.ts';
import { databaseState } from '../rehearse/checks.ts';
import type { RunnerEvent } from '../rehearse/runner.ts';
import { readRunSummary, rehearse } from '../rehearse/runner.ts';
import { Journal, journalState } from '../rehearse/journal.ts';
import type { RunSummary } from '../rehearse/run-types.ts';
import type { ExecutorDistributions } from '../rehearse/executors/types.ts';
import { captureState, FINAL_STATE_FILE, writeRecordedState } from '../rehearse/final-state.ts';
import type { RecordedState } from '../rehearse/final-state.ts';
import type { Rehearsal } from './rehearsal.ts';
import { loadRehearsal } from './rehearsal.ts';
import type { OtherSession, Problem } from './production.ts';
import { compareStructure, compareVersions, describeSessions, newBlockingFindings, otherSessions, rollbackPossible } from './production.ts';
import type { ApplyRecord, PreflightRecord, ServerBackup } from './state.ts';
import { applyDir, readApplyRecord, recordedBackups, writeApplyRecord } from './state.ts';
import type { DowntimeEstimate } from './estimate.ts';
import { estimateDowntime, estimatedRows } from './estimate.ts';
import { describeDistributions } from '../distributions/index.ts';
import { msg } from '../i18n/messages.ts';
import { lockProduction } from './lock.ts';
import type { GlpiConfigRecord } from './glpi-config.ts';
import { backupKey, checkGlpiConfigDir, maintenanceCommand, maintenanceState, noteKeyAtEnd, prepareGlpiConfigDir, setMaintenance } from './glpi-config.ts';
import type { ExecutorContext } from '../rehearse/executors/types.ts';
import type { GlpiDistribution } from '../distributions/glpi.ts';
import { findGlpiDist } from '../distributions/glpi.ts';
import { detectGlpiVersion } from '../inspect/detect.ts';
import { RESULTS_FILE, runFunctionalStage } from '../functional/index.ts';
import { distsUsed } from '../functional/after-rehearsal.ts';
import type { ProductionServer, ProductionSources, Role } from './servers.ts';
import { confirmFlags, describeServers, openReadSessions, productionServers, serverDir } from './servers.ts';

export type { ProductionSources } from './servers.ts';

export interface ApplyOptions {
  runDir: string;
  sources: ProductionSources;
  /** HOST:PORT of every production server (GLPI and OCS on two servers: both). */
  confirm?: string | string[];
  /** The plan the user means to apply: refused unless it is the rehearsed one (sha256). */
  planFile?: string;
  allowNotRun?: string[];
  /** An existing backup taken in the same window (row counts and checksums must still match); one server only. */
  backup?: string;
  /** Where to write the backup (default RUN_DIR/apply/backup; with two servers, one subdirectory per database). */
  backupDir?: string;
  dists: ExecutorDistributions;
  php?: string;
  /** Production GLPI's config directory (config_db.php, glpicrypt.key): needed when the plan runs GLPI's console. */
  glpiConfigDir?: string;
  /** After a complete apply with GLPI steps: the read-only functional scenarios against production. */
  functional?: { chromium?: string; scenarios?: string[]; lang?: 'fr' | 'en' };
  referenceDirs?: string[];
  glpiDists?: string[];
  dryRun?: boolean;
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunnerEvent) => void;
  /** bench/apply.ts: the backup's wall time, reported apart. */
  onBackup?: (ms: number) => void;
}

export interface ApplyResult {
  record: ApplyRecord;
  /** The applied steps, in plan order (one runner per production server, merged). */
  summary?: RunSummary;
  estimate: DowntimeEstimate;
  rehearsal: Rehearsal;
}

function checkNames(reh: Rehearsal, sources: ProductionSources): { glpi?: string; ocs?: string } {
  const out: { glpi?: string; ocs?: string } = {};
  for (const d of reh.manifest.databases) {
    const dsn = sources[d.role];
    if (!dsn) throw new ApplyRefusedError(`the rehearsal has a ${d.role} database (${d.name}): give production's with --${d.role}`);
    if (dsn.database !== d.name) throw new ApplyRefusedError(`production's ${d.role} database is "${dsn.database}", the rehearsed one is "${d.name}"`);
    out[d.role] = d.name;
  }
  return out;
}

function refuseOn(problems: Problem[]): void {
  if (problems.length === 0) return;
  const hint = problems.some((p) => p.check === 'sessions')
    ? "stop the OCS communication server (ocsinventory-server / Apache), GLPI's cron and mail collector, then run apply again"
    : problems.some((p) => p.check === 'structure' || p.check === 'versions')
      ? 'production changed since the snapshot: take a new snapshot, plan and rehearse again'
      : problems.some((p) => p.check === 'audit')
        ? 'audit production, add the corrective steps to the plan and rehearse again'
        : problems.some((p) => p.check === 'distributions')
          ? 'give the same --ocs-dist / --glpi-dist / --plugin-dist as the rehearsal (run.yaml, distributions)'
          : undefined;
  throw new ApplyRefusedError(`apply refused, nothing was written: ${problems.map((p) => p.message).join(' | ')}`, { hint });
}

/** A --backup named by the user: intact, of these databases, and equal (rows, checksums) to production now. */
async function checkGivenBackup(dir: string, conn: Connection, dbs: { glpi?: string; ocs?: string }): Promise<Manifest> {
  const v = await verifySnapshot(dir);
  if (!v.ok) throw new ApplyRefusedError(`the backup ${dir} does not match its manifest: ${describeProblems(v.problems)}`);
  const m = await readManifest(dir);
  for (const role of ['glpi', 'ocs'] as const) {
    const name = dbs[role];
    if (!name) continue;
    const d = m.databases.find((x) => x.role === role);
    if (!d || d.name !== name) throw new ApplyRefusedError(`the backup ${dir} holds no copy of ${name}`);
    const off = (await tablesDifferingFrom(conn, name, d)).differing;
    if (off.length)
      throw new ApplyRefusedError(`the backup ${dir} is no longer production's state: ${name} changed since in ${off.slice(0, 5).join(', ')}${off.length > 5 ? '…' : ''}`, {
        hint: 'let apply take a new backup (omit --backup)',
      });
  }
  return m;
}

export async function applyToProduction(opts: ApplyOptions): Promise<ApplyResult> {
  // 1. The named confirmation of every server, before anything is opened.
  const servers = productionServers(opts.sources, opts.confirm);
  const reh = await loadRehearsal(opts.runDir, { planFile: opts.planFile, allowNotRun: opts.allowNotRun });
  // One apply or rollback at a time on this run directory and on each server (exit 13 naming the holder).
  const lock = await lockProduction(
    opts.runDir,
    servers.map((s) => s.dsn),
    opts.dryRun ? 'apply --dry-run' : opts.resume ? 'apply --resume' : 'apply',
  );
  if (lock.tookOver) opts.onEvent?.({ kind: 'info', message: `took over the lock of ${opts.runDir} left by a process that is no longer running: ${lock.tookOver}` });
  try {
    return await applyLocked(opts, servers, reh);
  } finally {
    await lock.release();
  }
}

/** The hint of an interrupted or failed apply: --resume, or rollback. */
function waysOut(runDir: string, servers: ProductionServer[]): string {
  const confirm = confirmFlags(servers.map((s) => s.hostPort));
  return `either fix the cause and run: glpi-ocs-upgrade apply ${runDir} ${confirm} --resume (same options); or give production back with: glpi-ocs-upgrade rollback ${runDir} ${confirm}`;
}

/** An apply that passed the refusals made from the run directory and the options alone: what it applies, and where. */
interface ApplyScope {
  opts: ApplyOptions;
  reh: Rehearsal;
  dbs: { glpi?: string; ocs?: string };
  /** The servers that hold a rehearsed database, in the order the plan first writes them. */
  used: ProductionServer[];
  /** RUN_DIR/apply. */
  dir: string;
  /** Each server's runner directory. */
  dirs: Map<ProductionServer, string>;
  /** apply.yaml of the apply being resumed. */
  prior?: ApplyRecord;
  /** The plan's steps, less those allowed not to run. */
  steps: PlanStep[];
  /** The steps that run GLPI's console (glpi-console, plugin-install). */
  consoleSteps: PlanStep[];
}

/** What the per-server runs need beyond the scope: the GLPI side, apply.yaml's writer, the runner's hooks. */
interface ServerRunHooks {
  glpi?: GlpiSide;
  /** glpicrypt.key's state at the start (apply.yaml notes where it stands at the end). */
  keyBefore?: string;
  save: () => void;
  onEvent: (e: RunnerEvent) => void;
  afterGlpiConsole: ExecutorContext['afterGlpiConsole'];
}

async function applyLocked(opts: ApplyOptions, servers: ProductionServer[], reh: Rehearsal): Promise<ApplyResult> {
  // 1. Refusals from the run directory and the options, before any connection.
  const scope = refuseEarly(opts, servers, reh);
  // 2. Read-only checks (one READ ONLY session per server).
  const { estimate, preflight, serverVersions } = await preflightChecks(scope);
  const record: ApplyRecord = scope.prior ?? newApplyRecord(scope, preflight, serverVersions);
  if (opts.dryRun) return { record, estimate, rehearsal: reh };
  // 3. Backup first: one per server, before anything is written to any of them.
  const backups = await backUpServers(scope, record);
  // The GLPI side beyond the database: the config dir, its key, maintenance mode.
  const save = () => writeApplyRecord(opts.runDir, record);
  const { glpi, keyBefore } = await startGlpiSide(scope, record, save);
  const hooks: ServerRunHooks = { glpi, keyBefore, save, ...runnerHooks(opts, record, save) };
  // 4. The plan, through the rehearsal's runner: one run per server, in the order the plan writes them.
  const summaries = await runOnServers(scope, record, backups, hooks);
  const summary = mergeSummaries(reh, [...summaries.values()]);
  // Every step passed: maintenance mode off.
  if (glpi && record.glpiConfig && summary.complete) {
    await withProductionWrites(glpi.server.dsn, glpi.server.confirmed, () => maintenanceAtEnd(opts, glpi, record.glpiConfig!));
    await noteGlpiState(glpi, record.glpiConfig, keyBefore);
    save();
  }
  // 5. The end state against the rehearsal's.
  if (summary.complete) {
    record.final = await compareWithRehearsal(scope);
    record.finishedAt = new Date().toISOString();
  }
  writeApplyRecord(opts.runDir, record);
  // 6. The application checks against production: read-only scenarios only (never fails the apply).
  if (opts.functional && glpi && record.glpiConfig && summary.complete) {
    record.functional = await functionalOnProduction(opts, reh, summary, glpi, record.glpiConfig.dir);
    writeApplyRecord(opts.runDir, record);
  }
  return { record, summary, estimate, rehearsal: reh };
}

/** The refusals that need no connection: the run directory's apply state, --backup, --glpi-config-dir. */
function refuseEarly(opts: ApplyOptions, servers: ProductionServer[], reh: Rehearsal): ApplyScope {
  const dbs = checkNames(reh, opts.sources);
  // The servers that hold a rehearsed database, in the order the plan first writes them.
  const firstStep = (s: ProductionServer) => {
    const i = reh.plan.steps.findIndex((x) => s.roles.includes(x.database));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const used = servers.filter((s) => s.roles.some((r) => dbs[r])).sort((a, b) => firstStep(a) - firstStep(b));
  const dir = applyDir(opts.runDir);
  const dirs = new Map(used.map((s) => [s, serverDir(opts.runDir, used, s)]));
  const states = new Map(used.map((s) => [s, journalState(new Journal(dirs.get(s)!).read())]));
  const started = [...states.values()].some((st) => st.runId);
  const prior = readApplyRecord(opts.runDir);
  if (prior?.rollback) throw new ApplyRefusedError(`production was rolled back to the backup ${prior.backup?.id.slice(0, 12)}… after this apply`, { hint: `move ${dir} aside to apply again` });
  if (opts.resume && !started && !prior?.backup) throw new ApplyRefusedError(`nothing to resume: no apply journal in ${dir}`);
  if (!opts.resume && (started || prior?.backup)) throw new ApplyRefusedError(`${dir} already holds an apply`, { hint: 'continue it with apply --resume, or give production back with rollback' });
  if (opts.resume && prior?.finishedAt) throw new ApplyRefusedError('this apply is already complete');
  if (opts.backup && used.length > 1) throw new UsageError('--backup names one backup, but GLPI and OCS are on two servers or accounts: let apply take one backup per server (omit --backup)');
  const steps = reh.plan.steps.filter((s) => !reh.allowedNotRun.includes(s.id));
  const consoleSteps = steps.filter((s) => s.runner.kind === 'glpi-console' || s.runner.kind === 'plugin-install');
  if (consoleSteps.length && !opts.glpiConfigDir) {
    throw new ApplyRefusedError(
      `step(s) ${consoleSteps
        .slice(0, 3)
        .map((s) => s.id)
        .join(', ')}${consoleSteps.length > 3 ? '…' : ''} run GLPI's console on production: give production GLPI's config directory with --glpi-config-dir DIR`,
      { hint: 'the directory that holds (or will hold) config_db.php and glpicrypt.key; see docs/runbook.md' },
    );
  }
  return { opts, reh, dbs, used, dir, dirs, prior, steps, consoleSteps };
}

/**
 * The read-only checks (one READ ONLY session per server): nobody else connected; on a first run, production
 * is what was rehearsed (versions, structure, no new blocking finding) with the same distributions; GLPI's
 * config dir; a rollback would work. Refused (exit 15) on any problem; otherwise the passed checks and the
 * downtime estimate.
 */
async function preflightChecks(scope: ApplyScope): Promise<{ estimate: DowntimeEstimate; preflight: PreflightRecord[]; serverVersions: string[] }> {
  const { opts, reh, dbs, used, consoleSteps } = scope;
  const ro = await openReadSessions(used);
  let estimate: DowntimeEstimate;
  const preflight: PreflightRecord[] = [];
  const serverVersions: string[] = [];
  try {
    for (const x of ro.all) serverVersions.push((await serverInfo(x.conn)).version);
    const problems: Problem[] = [];
    const sessions: OtherSession[] = [];
    for (const x of ro.all) sessions.push(...(await otherSessions(x.conn, rolesOf(dbs, x.server), [x.conn.threadId ?? -1])));
    if (sessions.length) problems.push({ check: 'sessions', message: `other sessions are connected: ${describeSessions(sessions)}` });
    else
      preflight.push({
        check: 'sessions',
        status: 'passed',
        detail: msg('apply.preflight.sessions', {}),
      });
    if (!opts.resume) {
      const v = await compareVersions(ro.byRole, reh.manifest);
      problems.push(...v);
      if (!v.length)
        preflight.push({
          check: 'versions',
          status: 'passed',
          detail: msg('apply.preflight.versions', {}),
        });
      const s = await compareStructure(ro.byRole, reh.structureBefore, 'the rehearsed snapshot');
      problems.push(...s.problems);
      if (!s.problems.length)
        preflight.push({
          check: 'structure',
          status: 'passed',
          detail: msg('apply.preflight.structure', {}),
        });
      const a = await newBlockingFindings(ro.byRole, dbs, reh.findings, { referenceDirs: opts.referenceDirs, glpiDists: opts.glpiDists });
      problems.push(...a.problems);
      if (!a.problems.length)
        preflight.push({
          check: 'audit',
          status: 'passed',
          detail: msg('apply.preflight.audit', { checked: a.checked, found: a.found, notRehearsed: a.notRehearsed }),
        });
    }
    if (consoleSteps.length && opts.glpiConfigDir && dbs.glpi) {
      const g = checkGlpiConfigDir(opts.glpiConfigDir, dbs.glpi);
      preflight.push({
        check: 'glpi-config',
        status: 'passed',
        detail: msg('apply.preflight.glpi-config', { dir: path.resolve(opts.glpiConfigDir), database: dbs.glpi, hasConfigDb: g.hasConfigDb, hasKey: g.hasKey }),
      });
    }
    if (!opts.resume) {
      // The same distributions as the rehearsal (product and version; the paths may differ).
      const key = (d: { product: string; version: string }) => `${d.product} ${d.version}`;
      const rehearsedDists = reh.summary.distributions.map(key).sort();
      const given = describeDistributions(opts.dists).map(key).sort();
      if (rehearsedDists.join('|') !== given.join('|')) {
        problems.push({ check: 'distributions', message: `the distributions given (${given.join(', ') || 'none'}) are not the rehearsal's (${rehearsedDists.join(', ') || 'none'})` });
      } else {
        preflight.push({
          check: 'distributions',
          status: 'passed',
          detail: msg('apply.preflight.distributions', { given }),
        });
      }
    }
    const r: Problem[] = [];
    for (const x of ro.all) r.push(...(await rollbackPossible(x.conn)));
    problems.push(...r);
    if (!r.length)
      preflight.push({
        check: 'rollback-possible',
        status: 'passed',
        detail: msg('apply.preflight.rollback-possible', {}),
      });
    refuseOn(problems);
    for (const id of reh.allowedNotRun)
      preflight.push({
        check: 'allow-not-run',
        status: 'allowed',
        detail: msg('apply.preflight.allow-not-run', { step: id }),
      });
    estimate = estimateDowntime(reh.plan, reh.summary, reh.manifest, await estimatedRows(ro.byRole, dbs));
  } finally {
    await ro.end();
  }
  return { estimate, preflight, serverVersions };
}

/** apply.yaml of a new apply: the rehearsal, production's servers and databases, the preflight checks passed. */
function newApplyRecord(scope: ApplyScope, preflight: PreflightRecord[], serverVersions: string[]): ApplyRecord {
  const { reh, dbs, used } = scope;
  const hostPorts: Partial<Record<Role, string>> = {};
  for (const s of used) for (const r of s.roles) if (dbs[r]) hostPorts[r] = s.hostPort;
  return {
    format: 1,
    rehearsal: { runId: reh.summary.runId, planSha256: reh.planSha256, snapshotId: reh.manifest.id },
    production: { hostPort: describeServers(used), ...(used.length > 1 ? { hostPorts } : {}), databases: dbs, serverVersion: [...new Set(serverVersions)].join(', ') },
    allowNotRun: reh.allowedNotRun,
    preflight,
    startedAt: new Date().toISOString(),
  };
}

/**
 * One backup per server (taken and verified, or the one named by --backup checked), each recorded in
 * apply.yaml and its server's journal before the next; then, if any was taken now, nobody may have connected
 * meanwhile. Returns every server's backup, including those recorded by the apply being resumed.
 */
async function backUpServers(scope: ApplyScope, record: ApplyRecord): Promise<ServerBackup[]> {
  const { opts, dbs, used, dir, dirs } = scope;
  fs.mkdirSync(dir, { recursive: true });
  const backups = recordedBackups(record);
  let tookNow = false;
  for (const server of used) {
    const roles = rolesOf(dbs, server);
    const key = Object.keys(roles).join('+');
    if (backups.some((b) => (b.roles ?? []).join('+') === key)) continue;
    const b = await backUpServer(scope, server, roles);
    backups.push(b);
    tookNow = true;
    if (used.length > 1) record.backups = backups;
    record.backup = backups[0];
    fs.mkdirSync(dirs.get(server)!, { recursive: true });
    new Journal(dirs.get(server)!).append({ event: 'backup-ready', backupId: b.id, backupDir: b.dir, taken: b.taken });
    writeApplyRecord(opts.runDir, record);
    opts.onEvent?.({ kind: 'info', message: `backup ${b.id.slice(0, 12)} ${b.taken ? 'taken and verified' : 'checked'}: ${b.dir}` });
  }
  if (tookNow) {
    // Someone may have connected while the backups were taken.
    const c = await openReadSessions(used);
    try {
      const late: OtherSession[] = [];
      for (const x of c.all) late.push(...(await otherSessions(x.conn, rolesOf(dbs, x.server), [x.conn.threadId ?? -1])));
      if (late.length) refuseOn([{ check: 'sessions', message: `other sessions connected during the backup: ${describeSessions(late)}` }]);
    } finally {
      await c.end();
    }
  }
  opts.onBackup?.(backups.reduce((n, b) => n + b.elapsedMs, 0));
  return backups;
}

/** One server's backup: the one named by --backup, checked, or a new one taken and verified. */
async function backUpServer(scope: ApplyScope, server: ProductionServer, roles: { glpi?: string; ocs?: string }): Promise<ServerBackup> {
  const { opts, used, dir } = scope;
  const key = Object.keys(roles).join('+');
  const t0 = Date.now();
  let manifest: Manifest;
  let backupDir: string;
  let taken: boolean;
  if (opts.backup) {
    const c = await connectReadOnly(server.dsn);
    try {
      manifest = await checkGivenBackup(opts.backup, c, roles);
    } finally {
      await c.end().catch(() => undefined);
    }
    backupDir = path.resolve(opts.backup);
    taken = false;
  } else {
    const base = path.resolve(opts.backupDir ?? path.join(dir, 'backup'));
    backupDir = used.length > 1 ? path.join(base, key) : base;
    opts.onEvent?.({ kind: 'info', message: `backing production${used.length > 1 ? ` (${key}, ${server.hostPort})` : ''} up into ${backupDir}` });
    manifest = await takeSnapshot({
      sources: (['glpi', 'ocs'] as const).filter((r) => roles[r]).map((role) => ({ role, dsn: opts.sources[role]! })),
      outDir: backupDir,
    });
    const v = await verifySnapshot(backupDir);
    if (!v.ok) throw new ApplyRefusedError(`the backup just taken does not verify: ${describeProblems(v.problems)}; nothing was written`);
    taken = true;
  }
  const elapsedMs = Date.now() - t0;
  return {
    id: manifest.id,
    dir: backupDir,
    taken,
    readyAt: new Date().toISOString(),
    elapsedMs,
    rows: Object.fromEntries(manifest.databases.map((d) => [d.role, d.tables.reduce((n, t) => n + t.rows, 0)])),
    roles: Object.keys(roles) as Role[],
    hostPort: server.hostPort,
  };
}

/**
 * When the plan runs GLPI's console: production GLPI's config dir prepared (apply.yaml notes the key), and
 * maintenance mode turned on before the first step if production is already at a release that has it.
 */
async function startGlpiSide(scope: ApplyScope, record: ApplyRecord, save: () => void): Promise<{ glpi?: GlpiSide; keyBefore?: string }> {
  const { opts, dbs, used, dirs, consoleSteps } = scope;
  const glpiServer = used.find((s) => s.roles.includes('glpi') && dbs.glpi);
  const glpi = consoleSteps.length && opts.glpiConfigDir && glpiServer && dbs.glpi ? { server: glpiServer, database: dbs.glpi, dir: dirs.get(glpiServer)! } : undefined;
  if (!glpi) return { glpi };
  record.glpiConfig = prepareGlpiConfigDir(opts.glpiConfigDir!, opts.sources.glpi!, glpi.database, record.glpiConfig);
  const keyBefore = record.glpiConfig.keyAtStart;
  save();
  // Production already at a release with maintenance mode: on before the first step.
  await withProductionWrites(glpi.server.dsn, glpi.server.confirmed, () => maintenanceAtStart(opts, glpi, record, save));
  return { glpi, keyBefore };
}

/**
 * The runner's hooks on production: glpicrypt.key copied aside before each GLPI console step, and
 * maintenance mode turned on after the first console step whose release has it.
 */
function runnerHooks(opts: ApplyOptions, record: ApplyRecord, save: () => void): Pick<ServerRunHooks, 'onEvent' | 'afterGlpiConsole'> {
  const onEvent = (e: RunnerEvent) => {
    if (record.glpiConfig && e.kind === 'step-start' && (e.step.runner.kind === 'glpi-console' || e.step.runner.kind === 'plugin-install')) {
      const g = record.glpiConfig;
      const n = g.keyBackups.length;
      const created = g.keyCreated;
      backupKey(g, e.step.id);
      const copy = g.keyBackups.length > n ? g.keyBackups[n].backup : g.keyCreated !== created ? g.keyCreated?.copy : undefined;
      if (copy) {
        save();
        opts.onEvent?.({ kind: 'info', message: `glpicrypt.key copied aside before step ${e.step.id}: ${copy}` });
      }
    }
    opts.onEvent?.(e);
  };
  const afterGlpiConsole: ExecutorContext['afterGlpiConsole'] = async (ctx, r) => {
    if (!record.glpiConfig || !maintenanceCommand(r.dist.version, 'enable')) return;
    if ((await maintenanceState(ctx.conn, r.database)) === 'on') return;
    await setMaintenance(ctx, r.dist, r.php, r.database, 'enable');
    record.glpiConfig.maintenance.enabledAfter = path.basename(ctx.evidenceDir);
    save();
    opts.onEvent?.({ kind: 'info', message: `GLPI maintenance mode turned on (GLPI ${r.dist.version}, after step ${path.basename(ctx.evidenceDir)})` });
  };
  return { onEvent, afterGlpiConsole };
}

/** The plan's steps on each server in turn; whatever happens, apply.yaml notes where the key and maintenance mode stand. */
async function runOnServers(scope: ApplyScope, record: ApplyRecord, backups: ServerBackup[], h: ServerRunHooks): Promise<Map<ProductionServer, RunSummary>> {
  const summaries = new Map<ProductionServer, RunSummary>();
  try {
    for (const server of scope.used) await runOnServer(scope, server, record, backups, h, summaries);
  } finally {
    // Whatever happened: where the key and maintenance mode stand (apply.yaml, go-live report).
    if (h.glpi && record.glpiConfig) await noteGlpiState(h.glpi, record.glpiConfig, h.keyBefore).catch(() => undefined);
    h.save();
  }
  return summaries;
}

/**
 * One server's steps through the rehearsal's runner, inside the confirmed write scope (a run already complete
 * is read back; a server the plan does not write is skipped, its backup is taken all the same so that
 * rollback gives both back). Stops the apply on an interruption or a failed step.
 */
async function runOnServer(scope: ApplyScope, server: ProductionServer, record: ApplyRecord, backups: ServerBackup[], h: ServerRunHooks, summaries: Map<ProductionServer, RunSummary>): Promise<void> {
  const { opts, reh, dbs, used, dirs, steps } = scope;
  const { glpi } = h;
  const sdir = dirs.get(server)!;
  const roles = rolesOf(dbs, server);
  const mine = steps.filter((s) => roles[s.database]);
  if (mine.length === 0) return;
  const state = journalState(new Journal(sdir).read());
  if (state.complete) {
    const done = readRunSummary(sdir);
    if (done) summaries.set(server, done);
    return;
  }
  const planPath = path.join(sdir, 'plan.applied.yaml');
  const plan = { ...reh.plan, steps: mine };
  if (!state.runId || !fs.existsSync(planPath)) writePlan(planPath, plan);
  const backup = backups.find((b) => (b.roles ?? []).join('+') === Object.keys(roles).join('+'))!;
  const backupManifest = await readManifest(backup.dir);
  if (used.length > 1) opts.onEvent?.({ kind: 'info', message: `applying ${mine.length} step(s) on ${server.hostPort} (${Object.keys(roles).join(', ')})` });
  try {
    const outcome = await withProductionWrites(server.dsn, server.confirmed, () =>
      rehearse({
        plan,
        planPath,
        manifest: backupManifest,
        snapshotDir: backup.dir,
        runDir: sdir,
        resume: Boolean(opts.resume && state.runId),
        dists: opts.dists,
        php: opts.php,
        findings: reh.findings,
        audit: { referenceDirs: opts.referenceDirs, glpiDists: opts.glpiDists },
        signal: opts.signal,
        onEvent: h.onEvent,
        glpiConfigDir: glpi?.server === server ? record.glpiConfig?.dir : undefined,
        afterGlpiConsole: glpi?.server === server ? h.afterGlpiConsole : undefined,
        target: { kind: 'production', dsn: server.dsn, confirmedHostPort: server.confirmed },
      }),
    );
    if (outcome.error) throw outcome.error;
    if (!outcome.summary) throw new Error('the runner returned no summary');
    summaries.set(server, outcome.summary);
  } catch (err) {
    if (err instanceof InterruptedError) throw new InterruptedError('apply interrupted: production is as the journal says', { hint: waysOut(opts.runDir, used) });
    throw err;
  }
  const failed = firstFailed(summaries.get(server)!);
  if (failed) {
    writeApplyRecord(opts.runDir, record);
    throw new StepFailedError(
      `step ${failed.stepId} failed on production: ${failed.reason ? render(failed.reason, 'en') : 'see the evidence'}; production is left as the step left it (nothing was rolled back)`,
      {
        hint: waysOut(opts.runDir, used),
      },
    );
  }
}

/**
 * Production's final structure and per-table figures (saved beside each server's journal), compared with the
 * rehearsal's final state.
 */
async function compareWithRehearsal(scope: ApplyScope): Promise<NonNullable<ApplyRecord['final']>> {
  const { reh, dbs, used, dirs } = scope;
  const c = await openReadSessions(used);
  try {
    const shape: RecordedState = { format: 1, databases: {} };
    for (const x of c.all) {
      const roles = rolesOf(dbs, x.server);
      const mine: Partial<Record<Role, Awaited<ReturnType<typeof databaseState>>>> = {};
      for (const role of Object.keys(roles) as Role[]) mine[role] = await databaseState(x.conn, roles[role]!);
      const part = await captureState(x.conn, roles, mine);
      Object.assign(shape.databases, part.databases);
      writeRecordedState(path.join(dirs.get(x.server)!, FINAL_STATE_FILE), part);
    }
    const s = await compareStructure(c.byRole, reh.finalState, 'the rehearsal’s final structure');
    const differing: NonNullable<ApplyRecord['final']>['tablesDiffering'] = [];
    let compared = 0;
    for (const role of ['glpi', 'ocs'] as const) {
      const mine = shape.databases[role]?.tables ?? {};
      const theirs = reh.finalState.databases[role]?.tables ?? {};
      for (const [t, f] of Object.entries(mine)) {
        compared++;
        const r = theirs[t];
        if (!r || r.rows !== f.rows || r.checksum !== f.checksum) differing.push({ table: `${dbs[role]}.${t}`, rows: f.rows, rehearsalRows: r?.rows ?? 0, checksumEqual: r?.checksum === f.checksum });
      }
    }
    return { structureEqual: s.differences.length === 0, structureDifferences: s.differences, tablesCompared: compared, tablesDiffering: differing };
  } finally {
    await c.end();
  }
}

async function functionalOnProduction(opts: ApplyOptions, reh: Rehearsal, summary: RunSummary, g: GlpiSide, glpiConfigDir: string): Promise<NonNullable<ApplyRecord['functional']>> {
  const outDir = path.join(applyDir(opts.runDir), 'functional');
  try {
    const used = distsUsed(reh.plan, summary, opts.dists);
    opts.onEvent?.({ kind: 'info', message: 'functional scenarios against production (read-only ones only)' });
    const r = await runFunctionalStage({
      glpiDist: used.glpi,
      pluginDist: used.plugin,
      glpiDb: { dsn: opts.sources.glpi ?? g.server.dsn, database: g.database },
      runDir: g.dir,
      outDir,
      scenarios: opts.functional?.scenarios,
      lang: opts.functional?.lang,
      php: opts.php,
      chromium: opts.functional?.chromium,
      signal: opts.signal,
      production: { glpiConfigDir },
    });
    const count = (st: string) => r.scenarios.filter((x) => x.status === st).length;
    return { resultsFile: path.join(outDir, RESULTS_FILE), passed: count('passed'), failed: count('failed'), notRun: count('not-run') };
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    return { resultsFile: path.join(outDir, RESULTS_FILE), passed: 0, failed: 0, notRun: 0, error: (err as Error).message.split('\n')[0] };
  }
}

/** The first failed step of a run, if any. */
function firstFailed(run: RunSummary): RunSummary['steps'][number] | undefined {
  return run.steps.find((s) => s.status === 'failed');
}

/** The databases of `dbs` that `server` holds. */
function rolesOf(dbs: { glpi?: string; ocs?: string }, server: ProductionServer): { glpi?: string; ocs?: string } {
  const out: { glpi?: string; ocs?: string } = {};
  for (const r of server.roles) if (dbs[r]) out[r] = dbs[r];
  return out;
}

/** One summary of the runs on each server: the steps in plan order, complete when every run is. */
function mergeSummaries(reh: Rehearsal, runs: RunSummary[]): RunSummary {
  if (runs.length === 1) return runs[0];
  if (runs.length === 0) return { ...reh.summary, steps: [], anomalies: [], complete: true };
  const order = new Map(reh.plan.steps.map((s, i) => [s.id, i]));
  const steps = runs.flatMap((r) => r.steps).sort((a, b) => (order.get(a.stepId) ?? 0) - (order.get(b.stepId) ?? 0));
  return {
    ...runs[0],
    steps,
    anomalies: runs.flatMap((r) => r.anomalies),
    complete: runs.every((r) => r.complete),
    finishedAt: runs.every((r) => r.finishedAt) ? runs[runs.length - 1].finishedAt : undefined,
  };
}

interface GlpiSide {
  server: ProductionServer;
  database: string;
  /** The GLPI server's runner directory (evidence of the maintenance commands). */
  dir: string;
}

/** An ExecutorContext for GLPI's console outside a step (maintenance mode), on `conn`. */
function consoleContext(opts: ApplyOptions, g: GlpiSide, conn: Connection, glpiConfigDir: string): ExecutorContext {
  return {
    conn,
    dsn: opts.sources.glpi ?? g.server.dsn,
    databases: { glpi: g.database },
    runDir: g.dir,
    evidenceDir: path.join(g.dir, 'evidence', 'maintenance'),
    dists: opts.dists,
    php: opts.php,
    glpiConfigDir,
    log: () => undefined,
  };
}

/** The distribution of the release the database is at (maintenance commands run with it), if given. */
async function currentDist(opts: ApplyOptions, conn: Connection, database: string): Promise<GlpiDistribution | undefined> {
  const v = await detectGlpiVersion(conn, database);
  return v.version ? findGlpiDist(opts.dists.glpi ?? [], v.version) : undefined;
}

async function maintenanceAtStart(opts: ApplyOptions, g: GlpiSide, record: ApplyRecord, save: () => void): Promise<void> {
  const rec = record.glpiConfig!;
  const conn = await connectReadOnly(g.server.dsn);
  try {
    if ((await maintenanceState(conn, g.database)) !== 'off') return;
    const dist = await currentDist(opts, conn, g.database);
    if (!dist || !maintenanceCommand(dist.version, 'enable')) return;
    await setMaintenance(consoleContext(opts, g, conn, rec.dir), dist, opts.php ?? 'php', g.database, 'enable');
    rec.maintenance.enabledAfter = 'start';
    save();
    opts.onEvent?.({ kind: 'info', message: `GLPI maintenance mode turned on (GLPI ${dist.version}) before the first step` });
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function maintenanceAtEnd(opts: ApplyOptions, g: GlpiSide, rec: GlpiConfigRecord): Promise<void> {
  const conn = await connectReadOnly(g.server.dsn);
  try {
    if ((await maintenanceState(conn, g.database)) !== 'on') return;
    const dist = (await currentDist(opts, conn, g.database)) ?? [...(opts.dists.glpi ?? [])].reverse().find((d) => maintenanceCommand(d.version, 'disable'));
    if (!dist) throw new ApplyRefusedError('GLPI maintenance mode is on and no GLPI distribution given can turn it off', { hint: 'turn it off by hand: php bin/console maintenance:disable' });
    await setMaintenance(consoleContext(opts, g, conn, rec.dir), dist, opts.php ?? 'php', g.database, 'disable');
    rec.maintenance.disabledAt = new Date().toISOString();
    opts.onEvent?.({ kind: 'info', message: `GLPI maintenance mode turned off (GLPI ${dist.version})` });
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function noteGlpiState(g: GlpiSide, rec: GlpiConfigRecord, keyBefore: string | undefined): Promise<void> {
  noteKeyAtEnd(rec, keyBefore);
  const conn = await connectReadOnly(g.server.dsn);
  try {
    rec.maintenance.state = await maintenanceState(conn, g.database);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
