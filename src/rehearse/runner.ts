/**
 * The rehearsal runner: restores a snapshot into a test instance and applies a plan step by step —
 * checks before, the step (through its executor), checks after, evidence — with a journal that makes the
 * run resumable after a crash, Ctrl-C or a failed step fixed by the user (kysely Migrator / umzug style:
 * every step returns a typed result, and what ran is stored).
 *
 * A run directory is one run of one plan:
 *  - the plan is pinned (sha256 and step ids/hashes in run-started); --resume with another plan is refused
 *    (exit 14) unless a new attempt is asked for (--new-attempt), which the journal and dossier record;
 *  - one process at a time: the run directory and the instance's databases are locked before anything and
 *    released in finally (exit 13 when a live process holds them; a dead holder's lock is taken over);
 *  - the journal is the only truth (run.yaml is derived from it) and every file is written atomically;
 *  - nothing is left running: updaters run in their own process group, journaled, and --resume stops a
 *    leftover one (and its sessions) before rolling its step back;
 *  - rehearse() never throws: it returns { summary, error }, and the summary survives Ctrl-C.
 *
 * The modules: instance.ts (the test instance, leftovers), resume.ts (plan pin, recovery), step.ts (one
 * step with its checks, savepoint and rollback), recheck.ts (audit re-checks after corrective migrations).
 *
 * rehearse() is a sequence of phases, one function each, in this order: openRunDir (create and lock the run
 * directory, read its journal, pin the plan), openTarget (start or reuse the instance, or take production;
 * its lock, connections and the interlock), startJournal / continueRun (run-started, or resumed / a new
 * attempt after stopping leftovers), newSummary, restoreSnapshot, recoverIfResumed, runSteps, finishRun
 * (anomaly register, final state, last journal line, run.yaml). Each takes the call (RunCall) and what the
 * phases before it returned (RunStart, RunTarget, PreparedRun); what must be kept or released whatever
 * happens (locks, connections, instance, summary) is in RunHold, read by keepRunFile and releaseRun.
 *
 * Around every step: exact row counts and CHECKSUM TABLE of every table of the database it writes — read
 * again for the tables that show a sign of change (checks.ts refreshState), carried forward for the others,
 * and read in full at the start and at the end of each product's chain; each row-count difference is
 * explained by the plan (expected) or raised as an anomaly; tables outside the step's reach must keep their
 * checksum. A savepoint is taken first, so a failed or interrupted step is rolled back before anything else:
 * a copy of the tables the step may touch, or, for steps made only of SQL the tool runs itself, a replay
 * from the snapshot (replay.ts). Either way the rolled-back database is proven equal to its pre-step state.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { connect } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { assertWritable, confirmationMatches, hostPortOf, productionWritesAllowed } from '../db/interlock.ts';
import type { ServerSettings } from '../db/embedded.ts';
import type { ServerInfo } from '../db/introspect.ts';
import { serverInfo } from '../db/introspect.ts';
import { InterlockError, InterruptedError, ToolError, UsageError, VerificationError } from '../errors.ts';
import type { FindingsFile } from '../audit/finding-types.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Anomaly, PlanDifference, RunSummary, StepResult } from './run-types.ts';
import type { JournalState } from './journal.ts';
import { Journal, journalState } from './journal.ts';
import type { JournalRead, PinnedPlan } from '../formats/journal.ts';
import { replayableSteps } from './replay.ts';
import type { ExecutorContext, ExecutorDistributions } from './executors/types.ts';
import { restoreForRehearsal } from './restore.ts';
import { describeDistributions } from '../distributions/index.ts';
import { findingsToAnomalies } from './anomalies.ts';
import type { ReplaySetup, StateCache } from './step.ts';
import { passedOn, runOneStep } from './step.ts';
import { recheckFindings } from './recheck.ts';
import type { TestInstance } from './instance.ts';
import { acquireInstance, databaseNames, stopLeftovers } from './instance.ts';
import { checkPlanPinned, describeDifference, pinPlan, pinnedPlanOf, recoverForResume } from './resume.ts';
import type { InstanceLock, RunDirLock } from './lock.ts';
import { describeOwner, LOCK_FILE, lockInstance, lockRunDir } from './lock.ts';
import { removeStaleTemps, writeFileAtomic } from '../formats/atomic.ts';
import { readRunFileIfAny, writeRunFile } from '../formats/run-file.ts';
import { writeFindingsFile } from '../formats/findings.ts';
import { readStepResultJson } from '../formats/step-evidence.ts';
import { formatDsn } from '../db/dsn.ts';
import { recordFinalState, recordStructureBefore } from './final-state.ts';
import { msg } from '../i18n/messages.ts';

export interface RehearseOptions {
  plan: PlanFile;
  planPath: string;
  manifest: Manifest;
  snapshotDir: string;
  runDir: string;
  /** An external test server (DSN with password resolved); default: an embedded instance kept for the run. */
  instance?: Dsn;
  serverBin?: string;
  serverSettings?: ServerSettings;
  dryRun?: boolean;
  resume?: boolean;
  /**
   * Start a new attempt in an existing run directory: the plan may differ from the pinned one; the change
   * is journaled, the instance restored again and every step run again. The earlier attempts stay in the
   * journal and the dossier.
   */
  newAttempt?: boolean;
  /** Keep the embedded instance after a complete run (it is always kept after a failed or interrupted one). */
  keepInstance?: boolean;
  dists: ExecutorDistributions;
  php?: string;
  /** [apply] Production GLPI's config dir, handed to the GLPI executors (ExecutorContext.glpiConfigDir). */
  glpiConfigDir?: string;
  /** [apply] Called after each GLPI console step that passed (ExecutorContext.afterGlpiConsole). */
  afterGlpiConsole?: ExecutorContext['afterGlpiConsole'];
  findings?: FindingsFile;
  /** Reference schemas for re-running the audit's drift checks after corrective migrations. */
  audit?: { referenceDirs?: string[]; glpiDists?: string[] };
  signal?: AbortSignal;
  onEvent?: (e: RunnerEvent) => void;
  clock?: () => Date;
  /** Where each step's time goes (bench/rehearse-overhead.ts); called once per phase of each step. */
  onPhase?: (e: PhaseTiming) => void;
  /**
   * [apply] Run the plan on production instead of a test instance (src/apply/apply.ts): no snapshot is
   * restored (`snapshotDir`/`manifest` are the pre-apply backup, used only to replay a step on --resume),
   * the interlock is passed only inside withProductionWrites() with the same HOST:PORT, and a failed step is
   * NOT rolled back (its savepoint is kept, the run stops: `apply --resume` or `rollback`).
   */
  target?: ProductionTarget;
}

/** [apply] An already-running production server, confirmed by the user with --confirm HOST:PORT. */
export interface ProductionTarget {
  kind: 'production';
  dsn: Dsn;
  confirmedHostPort: string;
}

/** [apply] The journal's instance label of a production run. */
function productionLabel(dsn: Dsn): string {
  return `production:${hostPortOf(dsn)}`;
}

/** The parts of a step's wall time: the executor's own work vs the runner's safety net around it. */
export type StepPhase = 'savepoint' | 'checks' | 'execute' | 'journal';

export interface PhaseTiming {
  stepId: string;
  phase: StepPhase;
  ms: number;
  /** Checks: the tables whose rows were read (COUNT + CHECKSUM) in this phase. */
  tables?: string[];
}

export type RunnerEvent =
  | { kind: 'info'; message: string }
  | { kind: 'step-start'; index: number; total: number; step: PlanStep }
  | { kind: 'step-end'; index: number; total: number; step: PlanStep; result: StepResult }
  | { kind: 'step-skip'; index: number; total: number; step: PlanStep; reason: string };

export const RUN_FILE = 'run.yaml';
const SUMMARY_WRITE_INTERVAL_MS = 5000;

/** What rehearse() returns: the summary as far as the run went (absent only when nothing ran), and the error that stopped it. */
export interface RehearseOutcome {
  summary?: RunSummary;
  error?: Error;
}

/**
 * A step that passed in this attempt before an interruption: its result and anomalies from the journal, or,
 * for journals written by older versions, from evidence/<step>/result.json, then run.yaml.
 */
function priorStep(
  runDir: string,
  stepId: string,
  fromJournal: { result?: StepResult; anomalies?: Anomaly[] } | undefined,
  priorSummary: RunSummary | undefined,
): { result: StepResult; anomalies: Anomaly[] } | undefined {
  if (fromJournal?.result) return { result: fromJournal.result, anomalies: fromJournal.anomalies ?? [] };
  const file = path.join(runDir, 'evidence', stepId, 'result.json');
  // Absent, or torn by an older version: fall through.
  const doc = readStepResultJson(file);
  if (doc?.result?.status === 'passed') return { result: doc.result, anomalies: doc.anomalies ?? [] };
  const inSummary = priorSummary?.steps.find((s) => s.stepId === stepId);
  if (inSummary) return { result: inSummary, anomalies: (priorSummary?.anomalies ?? []).filter((a) => a.stepId === stepId && a.id.startsWith('A-')) };
  return undefined;
}

function isoNow(clock: () => Date): string {
  return clock().toISOString();
}

/** run.yaml of a run directory (the shared reader, src/formats/run-file.ts), or undefined. */
export function readRunSummary(runDir: string): RunSummary | undefined {
  return readRunFileIfAny(runDir);
}

/** The signal that stopped the run, as the caller aborted with it (`controller.abort('SIGTERM')`). */
function signalName(signal: AbortSignal | undefined): string {
  const r = signal?.reason as unknown;
  return typeof r === 'string' ? r : 'abort';
}

function resumeHint(opts: RehearseOptions): string {
  return `continue with: glpi-ocs-upgrade rehearse ${opts.planPath} --snapshot ${opts.snapshotDir} -o ${opts.runDir} --resume`;
}

/** Removes a run directory this call created if nothing but its own lock is in it (a refused run leaves nothing). */
function removeIfEmpty(dir: string): void {
  try {
    const left = fs.readdirSync(dir).filter((f) => f !== LOCK_FILE);
    if (left.length === 0) fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

/** What rehearse() was asked and how it reports: read by every phase. */
interface RunCall {
  opts: RehearseOptions;
  clock: () => Date;
  emit: (e: RunnerEvent) => void;
  say: (message: string) => void;
  /** [apply] The production server the plan runs on, instead of a test instance. */
  production?: ProductionTarget;
}

/**
 * What the phases of one rehearse() call have opened and decided so far: the catch and finally blocks read
 * it to keep run.yaml, release the locks and connections, and keep or stop the instance.
 */
interface RunHold {
  createdDir: boolean;
  runLock?: RunDirLock;
  instanceLock?: InstanceLock;
  lockConn?: Connection;
  instance?: TestInstance;
  /** Connections that share out the row counts and checksums (the server reads two tables at a time). */
  checkConns: Connection[];
  journal?: Journal;
  summary?: RunSummary;
  interrupted: boolean;
  /** Something worth resuming exists on the instance (the snapshot was restored). */
  resumable: boolean;
  finishedCleanly: boolean;
}

/** The run directory, locked: its journal as found and the plan pinned against it. */
interface RunStart {
  runLock: RunDirLock;
  journal: Journal;
  read: JournalRead;
  /** The journal's state before this call. */
  previous: JournalState;
  /** --resume or --new-attempt. */
  continuing: boolean;
  /** --new-attempt in a run directory that holds a run already. */
  newAttempt: boolean;
  pin: PinnedPlan;
  /** The plan's difference from the pinned one (a new attempt with a changed plan). */
  changes?: PlanDifference;
  /** run.yaml of the run being resumed (not of a new attempt). */
  priorSummary?: RunSummary;
  runId: string;
}

/** The server the steps write: connected, locked, and checked writable (or confirmed as production). */
interface RunTarget {
  instance: TestInstance;
  dsn: Dsn;
  dbs: { glpi?: string; ocs?: string };
  /** The connection of the instance lock. */
  lockConn: Connection;
  /** The connection the steps run on (checkConns[0]). */
  conn: Connection;
  checkConns: Connection[];
  info: ServerInfo;
}

/** The run as prepared for its steps. */
interface PreparedRun {
  start: RunStart;
  /** The journal's state for this attempt. */
  state: JournalState;
  target: RunTarget;
  summary: RunSummary;
  cache: StateCache;
  replay: ReplaySetup;
}

export async function rehearse(opts: RehearseOptions): Promise<RehearseOutcome> {
  const emit = opts.onEvent ?? (() => undefined);
  const call: RunCall = {
    opts,
    clock: opts.clock ?? (() => new Date()),
    emit,
    say: (message: string) => emit({ kind: 'info', message }),
    production: opts.target?.kind === 'production' ? opts.target : undefined,
  };
  const { plan, manifest } = opts;

  if (!call.production && plan.source.snapshotId && plan.source.snapshotId !== manifest.id) {
    return {
      error: new VerificationError(`the plan was made for snapshot ${plan.source.snapshotId.slice(0, 12)}…, not for ${manifest.id.slice(0, 12)}…`, {
        hint: 'make a new plan for this snapshot: glpi-ocs-upgrade plan SNAPSHOT_DIR',
      }),
    };
  }

  const hold: RunHold = { createdDir: !fs.existsSync(opts.runDir), checkConns: [], interrupted: false, resumable: false, finishedCleanly: false };
  let error: Error | undefined;
  try {
    const start = openRunDir(call, hold);
    const target = await openTarget(call, hold, start);
    const state = await startJournal(call, start, target);
    const summary = newSummary(call, start, state, target);
    hold.summary = summary;
    // 1. Restore the snapshot (once per attempt). [apply] Never on production: it is already there.
    if (!state.restored && !call.production) await restoreSnapshot(call, hold, start, target, summary);
    // 2. Resume: undo a step that was cut mid-way, then prove the instance still matches the journal.
    const run = await recoverIfResumed(call, { start, state, target, summary });
    // 3. The steps.
    const steps = await runSteps(call, run);
    hold.interrupted = steps.interrupted;
    // 4. The anomaly register, the final state, the journal's last line and run.yaml.
    error = await finishRun(call, hold, run, steps.recheckedClean);
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
    keepRunFile(opts.runDir, hold, err);
  } finally {
    await releaseRun(call, hold);
  }
  return { summary: hold.summary, error };
}

/**
 * 0. The run directory: created, locked (one process at a time, before anything else is read or written),
 * its journal read, what was asked checked against it, and the plan pinned.
 */
function openRunDir(call: RunCall, hold: RunHold): RunStart {
  const { opts, clock, say, production } = call;
  const { plan, manifest } = opts;
  try {
    fs.mkdirSync(opts.runDir, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot create the run directory ${opts.runDir}: ${(err as Error).message}`);
  }
  const runLock = lockRunDir(opts.runDir, opts.resume || opts.newAttempt ? 'rehearse --resume' : 'rehearse');
  hold.runLock = runLock;
  if (runLock.tookOverFrom) say(`took over the lock of ${opts.runDir} left by a process that is no longer running: ${describeOwner(runLock.tookOverFrom)}`);
  const journal = new Journal(opts.runDir, clock);
  hold.journal = journal;
  const read = journal.readWithDamage();
  if (read.torn) say(`journal.jsonl: line ${read.torn.line} is torn (${read.torn.bytes} bytes written when the process was killed): ignored and cut off`);
  const previous = journalState(read.events);
  const continuing = Boolean(opts.resume || opts.newAttempt);
  if (continuing && !previous.runId) throw new UsageError(`nothing to resume in ${opts.runDir}: no journal`);
  if (!continuing && previous.runId) {
    throw new UsageError(`${opts.runDir} already holds a rehearsal (${previous.runId})`, {
      hint: 'continue it with --resume, or choose another run directory with -o',
    });
  }
  if (opts.resume && !opts.newAttempt && previous.complete)
    throw new UsageError(`the rehearsal in ${opts.runDir} is already complete`, { hint: 'to run it again with another plan, add --new-attempt' });
  if (continuing && previous.snapshot !== manifest.id) throw new VerificationError(`--snapshot is not the snapshot this run was started with`);

  // The plan, pinned: the same plan, or a new attempt said explicitly.
  const pin = pinPlan(opts.planPath, plan);
  const changes = continuing ? checkPlanPinned(pinnedPlanOf(previous, opts.runDir), pin, { runDir: opts.runDir, planPath: opts.planPath, newAttempt: Boolean(opts.newAttempt) }) : undefined;
  const newAttempt = Boolean(opts.newAttempt && previous.runId);
  const priorSummary = opts.resume && !newAttempt ? readRunFileIfAny(opts.runDir, { lenient: true }) : undefined;
  const runId = previous.runId ?? `run-${isoNow(clock).replace(/[-:]/g, '').replace(/\..*$/, '')}`;
  hold.resumable = (continuing && previous.restored) || Boolean(production);
  return { runLock, journal, read, previous, continuing, newAttempt, pin, changes, priorSummary, runId };
}

/** The databases a run writes, by name (what the instance lock and the leftover search are about). */
function writtenDatabases(dbs: { glpi?: string; ocs?: string }): string[] {
  return Object.values(dbs).filter((d): d is string => Boolean(d));
}

/**
 * The server the steps write: a test instance started or reused, or [apply] production itself (the label is
 * checked on --resume; no new attempt there); its lock (named after the databases the run writes), the
 * connections, and the interlock.
 */
async function openTarget(call: RunCall, hold: RunHold, start: RunStart): Promise<RunTarget> {
  const { opts, production } = call;
  const { previous, continuing, runId } = start;
  const dbs = databaseNames(opts.manifest);
  let instance: TestInstance;
  if (production) {
    if (opts.newAttempt) throw new UsageError('--new-attempt is for rehearsals: apply runs the rehearsed plan only');
    const label = productionLabel(production.dsn);
    if (continuing && previous.instance !== label) throw new UsageError(`this apply ran on ${previous.instance ?? '?'}, not on ${label}`);
    instance = { dsn: production.dsn, label };
  } else {
    instance = await acquireInstance({
      resume: continuing,
      newAttempt: Boolean(opts.newAttempt),
      previous,
      runId,
      manifest: opts.manifest,
      instance: opts.instance,
      serverBin: opts.serverBin,
      serverSettings: opts.serverSettings,
    });
  }
  hold.instance = instance;
  const { dsn } = instance;
  const lockConn = await connect(dsn, { extra: { multipleStatements: false }, promptOnDenied: false });
  hold.lockConn = lockConn;
  hold.instanceLock = await lockInstance(lockConn, instance.label, writtenDatabases(dbs));
  const conn = await connect(dsn, { extra: { multipleStatements: false }, promptOnDenied: false });
  hold.checkConns.push(conn);
  if (production) {
    // [apply] Production passes only when apply opened the confirmed scope for this very server.
    if (!confirmationMatches(dsn, production.confirmedHostPort) || !productionWritesAllowed(dsn)) {
      throw new InterlockError(`refusing to apply to ${formatDsn(dsn)}: not confirmed as the production server (--confirm ${hostPortOf(dsn)})`);
    }
  } else {
    await assertWritable(conn, dsn, 'rehearse');
  }
  hold.checkConns.push(await connect(dsn, { extra: { multipleStatements: false }, promptOnDenied: false }));
  const info = await serverInfo(conn);
  return { instance, dsn, dbs, lockConn, conn, checkConns: hold.checkConns, info };
}

/**
 * From here on the journal is written: a torn last line repaired, temporary files of writers killed
 * mid-write removed (the files they were replacing are intact), then run-started, or what a resume or a new
 * attempt journals. Returns the journal's state for this attempt.
 */
async function startJournal(call: RunCall, start: RunStart, target: RunTarget): Promise<JournalState> {
  const { opts } = call;
  const { journal, read, previous } = start;
  if (read.torn) journal.repair(read.torn);
  removeStaleTemps(opts.runDir);
  if (previous.inFlight) removeStaleTemps(path.join(opts.runDir, 'evidence', previous.inFlight));
  if (!start.continuing) {
    writeFileAtomic(path.join(opts.runDir, 'plan.yaml'), fs.readFileSync(opts.planPath));
    if (opts.findings) writeFindingsFile(path.join(opts.runDir, 'findings.yaml'), opts.findings);
    journal.append({
      event: 'run-started',
      runId: start.runId,
      plan: path.relative(path.resolve(opts.runDir), path.resolve(opts.planPath)),
      snapshot: opts.manifest.id,
      instance: target.instance.label,
      planSha256: start.pin.planSha256,
      steps: start.pin.steps,
      stepHashes: start.pin.stepHashes,
      pid: process.pid,
    });
  } else {
    await continueRun(call, start, target);
  }
  return start.newAttempt ? journalState(journal.read()) : previous;
}

/** --resume or --new-attempt: what a killed run left running stopped, then the resume or the new attempt journaled. */
async function continueRun(call: RunCall, start: RunStart, target: RunTarget): Promise<void> {
  const { opts, say } = call;
  const { runLock, journal, previous, runId, pin, changes } = start;
  const { conn, dbs } = target;
  if (runLock.tookOverFrom) journal.append({ event: 'lock-taken-over', lock: 'run', holderPid: runLock.tookOverFrom.pid, holderStarted: runLock.tookOverFrom.since });
  // Whatever a killed run left running against the instance is stopped before anything else.
  const ours: number[] = [];
  for (const c of [target.lockConn, ...target.checkConns]) ours.push(Number(((await c.query('SELECT CONNECTION_ID() AS id'))[0] as Array<{ id: number }>)[0].id));
  await stopLeftovers(conn, ours, writtenDatabases(dbs), previous, journal, say);
  if (start.newAttempt) {
    const attempt = previous.attempt + 1;
    const diff = changes ?? { added: [], removed: [], changed: [], moved: [] };
    // The earlier attempt's plan stays next to the new one (evidence).
    const planCopy = path.join(opts.runDir, 'plan.yaml');
    if (fs.existsSync(planCopy)) fs.renameSync(planCopy, path.join(opts.runDir, `plan.attempt-${previous.attempt}.yaml`));
    writeFileAtomic(planCopy, fs.readFileSync(opts.planPath));
    if (opts.findings) writeFindingsFile(path.join(opts.runDir, 'findings.yaml'), opts.findings);
    journal.append({ event: 'attempt-started', attempt, planSha256: pin.planSha256, steps: pin.steps, stepHashes: pin.stepHashes, changes: diff, instance: target.instance.label, pid: process.pid });
    say(`attempt ${attempt} of ${runId}${changes ? ` with a changed plan (${describeDifference(diff)})` : ''}: the snapshot is restored again and every step runs again`);
    // Savepoint shadows of the earlier attempt are dropped with its databases' restore.
    for (const db of Object.values(dbs)) if (db) await conn.query(`DROP DATABASE IF EXISTS \`${`${db}__gou_savepoint`.slice(0, 64)}\``);
  } else {
    journal.append({ event: 'resumed', pid: process.pid, attempt: previous.attempt });
    say(`resuming ${runId} on ${target.instance.label}`);
  }
}

/** run.yaml as it starts: the run, the instance, the distributions and the restore's pre-checks so far. */
function newSummary(call: RunCall, start: RunStart, state: JournalState, target: RunTarget): RunSummary {
  const { opts, clock, production } = call;
  const { priorSummary, read } = start;
  const { info } = target;
  return {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: TOOL_VERSION },
    runId: start.runId,
    startedAt: priorSummary?.startedAt ?? read.events[0]?.t ?? isoNow(clock),
    dryRun: Boolean(opts.dryRun),
    complete: false,
    // Relative to the run directory, so that a run directory can be moved or archived with its snapshot.
    snapshot: { dir: path.relative(path.resolve(opts.runDir), path.resolve(opts.snapshotDir)) || '.', id: opts.manifest.id },
    plan: { file: 'plan.yaml', steps: opts.plan.steps.length },
    instance: {
      kind: production ? 'production' : target.instance.embedded ? 'embedded' : 'external',
      serverVersion: info.version,
      settings: { sqlMode: info.sqlMode, characterSetServer: info.characterSetServer, collationServer: info.collationServer, lowerCaseTableNames: info.lowerCaseTableNames },
    },
    distributions: describeDistributions(opts.dists).map((d) => ({ ...d, path: homeRelative(d.path), note: homeRelative(d.note) })),
    preChecks: state.preChecks ?? priorSummary?.preChecks ?? [],
    steps: [],
    anomalies: [],
  };
}

/** The snapshot restored into the test instance (once per attempt), and the structure the steps start from. */
async function restoreSnapshot(call: RunCall, hold: RunHold, start: RunStart, target: RunTarget, summary: RunSummary): Promise<void> {
  const { opts, say } = call;
  const { journal } = start;
  const { conn, dbs } = target;
  say(`restoring snapshot ${opts.manifest.id.slice(0, 12)} into ${target.instance.label}`);
  const restored = await restoreForRehearsal(opts.snapshotDir, target.dsn, dbs, { force: start.continuing });
  summary.preChecks = restored.checks;
  journal.append({ event: 'restore-finished', tables: restored.tables, ok: restored.ok, preChecks: restored.checks });
  writeRunFile(opts.runDir, withHistory(summary, journal));
  if (!restored.ok) throw new VerificationError('the restored snapshot does not match its manifest: see run.yaml pre-checks');
  hold.resumable = true;
  // The structure the steps start from, which `apply` compares with production's.
  await recordStructureBefore(conn, dbs, opts.runDir);
}

/** The state cache and replay setup of the steps; on --resume, a step cut mid-way undone and the instance proved. */
async function recoverIfResumed(call: RunCall, run: Omit<PreparedRun, 'cache' | 'replay'>): Promise<PreparedRun> {
  const { opts, say, production } = call;
  const { start, state, target } = run;
  const { conn, dsn, dbs } = target;
  const cache: StateCache = { states: {}, since: {} };
  const replay: ReplaySetup = {
    steps: replayableSteps(opts.plan),
    ctx: { conn, dsn, plan: opts.plan, snapshotDir: opts.snapshotDir, runDir: opts.runDir, dbs, dists: opts.dists, php: opts.php },
  };
  if (start.continuing && !start.newAttempt) {
    const last = start.read.events[start.read.events.length - 1];
    await recoverForResume({
      conn,
      checkConns: target.checkConns,
      runDir: opts.runDir,
      plan: opts.plan,
      dbs,
      previous: state,
      journal: start.journal,
      replay,
      cache,
      interruptedCleanly: last?.event === 'run-interrupted',
      production: Boolean(production),
      say,
    });
  }
  return { ...run, cache, replay };
}

/**
 * The steps, in plan order: one already passed in this attempt is taken from the journal, one after a
 * failed step of its database is not run, the others run (runOneStep). Nothing else writes to the instance
 * between steps, so a step's "after" state is the next step's "before" state.
 */
async function runSteps(call: RunCall, run: PreparedRun): Promise<{ interrupted: boolean; recheckedClean: Set<string> }> {
  const { opts, emit, clock, production } = call;
  const { plan } = opts;
  const { start, state, target, summary, cache, replay } = run;
  const { priorSummary, journal } = start;
  const lastOfDatabase = new Map(plan.steps.map((s) => [s.database, s.id]));
  /** Findings whose audit check came back clean once their corrective migrations had run. */
  const recheckedClean = new Set<string>(priorSummary?.anomalies.filter((a) => a.findingId && a.resolved).map((a) => a.findingId!) ?? []);
  const blockedBy = new Map<'glpi' | 'ocs', string>();
  const total = plan.steps.length;
  let lastSummaryWrite = performance.now();
  for (let index = 0; index < total; index++) {
    const step = plan.steps[index];
    const done = state.finished.get(step.id);
    const prior = done?.status === 'passed' ? priorStep(opts.runDir, step.id, done, priorSummary) : undefined;
    if (prior) {
      summary.steps.push(prior.result);
      summary.anomalies.push(...prior.anomalies);
      emit({ kind: 'step-skip', index, total, step, reason: 'already passed' });
      continue;
    }
    if (opts.signal?.aborted) return { interrupted: true, recheckedClean };
    const blocker = blockedBy.get(step.database);
    if (blocker) {
      const result: StepResult = {
        stepId: step.id,
        status: 'not-run',
        reason: msg('result.blocked', { blocker }),
        tableDeltas: [],
        evidence: [],
      };
      summary.steps.push(result);
      emit({ kind: 'step-end', index, total, step, result });
      continue;
    }
    emit({ kind: 'step-start', index, total, step });
    const result = await runOneStep(step, {
      conn: target.conn,
      checkConns: target.checkConns,
      dsn: target.dsn,
      dbs: target.dbs,
      runDir: opts.runDir,
      opts,
      journal,
      clock,
      cache,
      replay,
      lastOfDatabase: lastOfDatabase.get(step.database) === step.id,
      passedBefore: passedOn(plan, summary.steps, step),
    });
    summary.steps.push(result.step);
    summary.anomalies.push(...result.anomalies);
    emit({ kind: 'step-end', index, total, step, result: result.step });
    // run.yaml is rewritten at most every few seconds while steps pass (each step's result and anomalies
    // are in the journal, which --resume reads), at once when one does not.
    const y0 = performance.now();
    if (result.step.status !== 'passed' || result.interrupted || y0 - lastSummaryWrite > SUMMARY_WRITE_INTERVAL_MS) {
      writeRunFile(opts.runDir, withHistory(summary, journal));
      lastSummaryWrite = performance.now();
    }
    opts.onPhase?.({ stepId: step.id, phase: 'journal', ms: performance.now() - y0 });
    if (result.interrupted) return { interrupted: true, recheckedClean };
    if (result.step.status === 'failed' && production) {
      // [apply] On production a failed step stops everything.
      for (const rest of plan.steps.slice(index + 1)) {
        summary.steps.push({ stepId: rest.id, status: 'not-run', reason: msg('result.apply-stopped', { step: step.id }), tableDeltas: [], evidence: [] });
      }
      break;
    }
    if (result.step.status !== 'passed') blockedBy.set(step.database, step.id);
    if (result.step.status === 'passed' && step.runner.kind === 'corrective-migration' && opts.findings) {
      await recheckFindings(step, plan, summary.steps, opts.findings, target.conn, target.dbs, recheckedClean, emit, opts.audit ?? {});
    }
  }
  return { interrupted: false, recheckedClean };
}

/**
 * The end of the run: audit findings added to the anomaly register (resolved when their corrective migration
 * passed), the final structure and per-table figures (which `apply` compares with the rehearsal's), the
 * journal's last line and run.yaml. Returns the error of an interrupted run.
 */
async function finishRun(call: RunCall, hold: RunHold, run: PreparedRun, recheckedClean: Set<string>): Promise<Error | undefined> {
  const { opts, clock } = call;
  const { summary, target, cache } = run;
  const { journal } = run.start;
  const { interrupted } = hold;
  summary.anomalies.push(...findingsToAnomalies(opts.findings, opts.plan, summary.steps, recheckedClean));
  summary.anomalies = dedupeAnomalies(summary.anomalies);
  summary.complete = !interrupted && summary.steps.length === opts.plan.steps.length && summary.steps.every((s) => s.status === 'passed');
  summary.finishedAt = interrupted ? undefined : isoNow(clock);
  if (summary.complete && !opts.dryRun) await recordFinalState(target.conn, target.dbs, cache.states, opts.runDir);
  if (interrupted) {
    const inFlight = summary.steps.find((s) => s.reason?.id === 'result.interrupted')?.stepId;
    journal.append({ event: 'run-interrupted', stepId: inFlight, signal: signalName(opts.signal) });
  } else {
    journal.append({ event: 'run-finished', complete: summary.complete });
  }
  hold.summary = withHistory(summary, journal);
  writeRunFile(opts.runDir, hold.summary);
  hold.finishedCleanly = true;
  if (interrupted) {
    return new InterruptedError(`rehearsal interrupted (${signalName(opts.signal)}); the test instance is kept`, { hint: resumeHint(opts) });
  }
  return undefined;
}

/** After an error: run.yaml from the journal so far, to keep what is known (never hides the error). */
function keepRunFile(runDir: string, hold: RunHold, err: unknown): void {
  if (hold.summary && hold.journal && !(err instanceof ToolError && err.exitCode === 13)) {
    try {
      writeRunFile(runDir, withHistory(hold.summary, hold.journal));
    } catch {
      /* the error that stopped the run is the one to report */
    }
  }
}

/**
 * Whatever happened: the connections closed, the locks released, and the embedded instance kept when there
 * is something to resume or inspect, stopped otherwise. An instance this call attached to (--resume) is
 * never stopped by a call that did not finish: it may be refused because another live process is using it.
 */
async function releaseRun(call: RunCall, hold: RunHold): Promise<void> {
  const { opts, say } = call;
  for (const c of hold.checkConns) await c.end().catch(() => undefined);
  if (hold.instanceLock) await hold.instanceLock.release();
  if (hold.lockConn) await hold.lockConn.end().catch(() => undefined);
  const failed = hold.summary?.steps.some((s) => s.status === 'failed');
  const embedded = hold.instance?.embedded;
  const attached = Boolean(opts.resume || opts.newAttempt);
  const keep = (hold.resumable && (hold.interrupted || failed || !hold.finishedCleanly || opts.keepInstance)) || (attached && !hold.finishedCleanly);
  if (embedded && !keep) await embedded.stop().catch(() => undefined);
  else if (embedded) say(`test instance kept: embedded:${embedded.record.name} (stop it with: glpi-ocs-upgrade instance stop ${embedded.record.name})`);
  hold.runLock?.release();
  if (hold.createdDir) removeIfEmpty(opts.runDir);
}

/** The summary with the attempts and rollbacks the journal records (run.yaml is derived from the journal). */
function withHistory(summary: RunSummary, journal: Journal): RunSummary {
  const st = journalState(journal.read());
  return { ...summary, attempts: st.attempts, rollbacks: st.rollbacks };
}

/** Paths under the user's home directory written as ~/…: run files travel (dossiers, CI artifacts). */
function homeRelative(text: string): string {
  const home = os.homedir();
  return home && home !== '/' ? text.split(home + path.sep).join(`~${path.sep}`) : text;
}

function dedupeAnomalies(list: Anomaly[]): Anomaly[] {
  const seen = new Map<string, Anomaly>();
  for (const a of list) seen.set(a.id, a);
  return [...seen.values()];
}

/** rehearse(), throwing its error (for callers that stop at the first error: the pipeline, tests). */
export async function rehearseOrThrow(opts: RehearseOptions): Promise<RunSummary> {
  const { summary, error } = await rehearse(opts);
  if (error) throw error;
  if (!summary) throw new Error('rehearse returned no summary');
  return summary;
}
