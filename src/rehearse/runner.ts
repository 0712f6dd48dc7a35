/**
 * The rehearsal runner: restores a snapshot into a test instance and applies a plan step by step —
 * checks before, the step (through its executor), checks after, evidence — with a journal that makes the
 * run resumable after a crash, Ctrl-C or a failed step fixed by the user (kysely Migrator / umzug style:
 * every step returns a typed result, and what ran is stored).
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
import YAML from 'yaml';
import type { Connection } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { baseOptions } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { formatDsn } from '../db/dsn.ts';
import { assertWritable, confirmationMatches, hostPortOf, productionWritesAllowed } from '../db/interlock.ts';
import type { EmbeddedInstance, ServerSettings } from '../db/embedded.ts';
import { attachInstance, startEmbedded } from '../db/embedded.ts';
import { serverInfo } from '../db/introspect.ts';
import { InterlockError, InterruptedError, UsageError, VerificationError, fromSystemError } from '../errors.ts';
import type { FindingsFile } from '../audit/finding-types.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Anomaly, RunSummary, StepResult } from './run-types.ts';
import { Journal, journalState } from './journal.ts';
import type { DatabaseState } from './checks.ts';
import { databaseState, fingerprint, refreshState, serverNow, stateDifferences, tableDeltas, untouchedChanged } from './checks.ts';
import type { Savepoint } from './savepoint.ts';
import { createSavepoint, dropSavepoint, replaySavepoint, rollbackSavepoint } from './savepoint.ts';
import { replayableSteps, rollbackByReplay } from './replay.ts';
import type { ExecutorDistributions, ExecutorResult } from './executors/types.ts';
import { executeStep, expectedEffects, stepIndexOnlyTables, stepTables } from './dispatch.ts';
import { because, roleName } from './executors/common.ts';
import { INTERRUPTED } from './executors/glpi-console.ts';
import { restoreForRehearsal } from './restore.ts';
import { describeDistributions } from '../dist/index.ts';
import { findingsToAnomalies } from './anomalies.ts';
import { runAudit } from '../audit/index.ts';
import { correctiveMigration } from '../catalog/corrective.ts';
import { recordFinalState, recordStructureBefore } from './final-state.ts';

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
  /** Keep the embedded instance after a complete run (it is always kept after a failed or interrupted one). */
  keepInstance?: boolean;
  dists: ExecutorDistributions;
  php?: string;
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
   * the interlock is passed only inside withProductionWrites() with the same HOST:PORT, a failed step is
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

/**
 * A step that passed before an interruption: its result and anomalies from run.yaml, or, when run.yaml was
 * not rewritten after it, from its evidence/<step>/result.json.
 */
function priorStep(
  runDir: string,
  stepId: string,
  fromSummary: Map<string, StepResult>,
  priorSummary: RunSummary | undefined,
): { result: StepResult; anomalies: Anomaly[] } | undefined {
  const inSummary = fromSummary.get(stepId);
  if (inSummary) return { result: inSummary, anomalies: (priorSummary?.anomalies ?? []).filter((a) => a.stepId === stepId && a.id.startsWith('A-')) };
  const file = path.join(runDir, 'evidence', stepId, 'result.json');
  if (!fs.existsSync(file)) return undefined;
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { result?: StepResult; anomalies?: Anomaly[] };
  return doc.result?.status === 'passed' ? { result: doc.result, anomalies: doc.anomalies ?? [] } : undefined;
}

function isoNow(clock: () => Date): string {
  return clock().toISOString();
}

function writeYaml(file: string, doc: unknown): void {
  try {
    fs.writeFileSync(file + '.tmp', YAML.stringify(doc, { lineWidth: 0 }));
    fs.renameSync(file + '.tmp', file);
  } catch (err) {
    throw fromSystemError(err, `writing ${file}`) ?? err;
  }
}

export function readRunSummary(runDir: string): RunSummary | undefined {
  const file = path.join(runDir, RUN_FILE);
  if (!fs.existsSync(file)) return undefined;
  return YAML.parse(fs.readFileSync(file, 'utf8')) as RunSummary;
}

/** [apply] The journal's instance label of a production run. */
function productionLabel(dsn: Dsn): string {
  return `production:${hostPortOf(dsn)}`;
}

function instanceLabel(embedded: EmbeddedInstance | undefined, dsn: Dsn): string {
  return embedded ? `embedded:${embedded.record.name}` : formatDsn(dsn);
}

/** Names of the databases on the test instance: the snapshot's own names. */
function databaseNames(manifest: Manifest): { glpi?: string; ocs?: string } {
  const out: { glpi?: string; ocs?: string } = {};
  for (const d of manifest.databases) out[d.role] = d.name;
  return out;
}

async function statesOf(conns: Connection[], dbs: { glpi?: string; ocs?: string }): Promise<Record<string, DatabaseState>> {
  const out: Record<string, DatabaseState> = {};
  for (const role of ['glpi', 'ocs'] as const) {
    const db = dbs[role];
    if (db) out[role] = await databaseState(conns[0], db, { conns });
  }
  return out;
}

interface ReplaySetup {
  /** Steps whose savepoint is a replay (replay.ts replayableSteps). */
  steps: Set<string>;
  ctx: Parameters<typeof rollbackByReplay>[0];
}

/** Undoes a step from its savepoint (copy or replay). */
async function undo(sp: Savepoint, database: 'glpi' | 'ocs' | undefined, replay: ReplaySetup): Promise<void> {
  if (sp.mode === 'replay') {
    if (!database) throw new VerificationError('the interrupted step is no longer in the plan: cannot replay its database');
    await rollbackByReplay(replay.ctx, database, sp.replay ?? []);
  } else {
    await rollbackSavepoint(replay.ctx.conn, sp);
  }
}

/** Ids of the steps of `step`'s database that passed before it, in plan order. */
function passedOn(plan: PlanFile, results: StepResult[], step: PlanStep): string[] {
  const passed = new Set(results.filter((r) => r.status === 'passed').map((r) => r.stepId));
  const out: string[] = [];
  for (const s of plan.steps) {
    if (s.id === step.id) break;
    if (s.database === step.database && passed.has(s.id)) out.push(s.id);
  }
  return out;
}

export async function rehearse(opts: RehearseOptions): Promise<RunSummary> {
  const clock = opts.clock ?? (() => new Date());
  const emit = opts.onEvent ?? (() => undefined);
  const { plan, manifest } = opts;

  const production = opts.target?.kind === 'production' ? opts.target : undefined;
  if (!production && plan.source.snapshotId && plan.source.snapshotId !== manifest.id) {
    throw new VerificationError(`the plan was made for snapshot ${plan.source.snapshotId.slice(0, 12)}…, not for ${manifest.id.slice(0, 12)}…`, {
      hint: 'make a new plan for this snapshot: glpi-ocs-upgrade plan SNAPSHOT_DIR',
    });
  }

  fs.mkdirSync(opts.runDir, { recursive: true });
  const journal = new Journal(opts.runDir, clock);
  const previous = journalState(journal.read());
  if (opts.resume && !previous.runId) throw new UsageError(`nothing to resume in ${opts.runDir}: no journal`);
  if (!opts.resume && previous.runId) {
    throw new UsageError(`${opts.runDir} already holds a rehearsal (${previous.runId})`, {
      hint: 'continue it with --resume, or choose another run directory with -o',
    });
  }
  if (opts.resume && previous.complete) throw new UsageError(`the rehearsal in ${opts.runDir} is already complete`);
  const priorSummary = opts.resume ? readRunSummary(opts.runDir) : undefined;
  const runId = previous.runId ?? `run-${isoNow(clock).replace(/[-:]/g, '').replace(/\..*$/, '')}`;

  // The test instance.
  let embedded: EmbeddedInstance | undefined;
  let dsn: Dsn;
  if (production) {
    // [apply] The target is production itself (the label is checked on --resume).
    dsn = production.dsn;
    if (opts.resume && previous.instance !== productionLabel(dsn)) {
      throw new UsageError(`this apply ran on ${previous.instance ?? '?'}, not on ${productionLabel(dsn)}`);
    }
  } else if (opts.resume) {
    const label = previous.instance ?? '';
    if (label.startsWith('embedded:')) {
      embedded = attachInstance(label.slice('embedded:'.length));
      if (!embedded) {
        throw new VerificationError(`the test instance of ${runId} (${label}) is no longer running`, {
          hint: 'start the rehearsal again in a new run directory (the snapshot is intact)',
        });
      }
      dsn = embedded.dsn;
    } else {
      if (!opts.instance) throw new UsageError(`this run used ${label}: pass the same --instance to resume it`);
      dsn = opts.instance;
    }
  } else if (opts.instance) {
    dsn = opts.instance;
  } else {
    embedded = await startEmbedded({
      serverBin: opts.serverBin,
      keep: true,
      // Unique even for two rehearsals started in the same second.
      name: `rehearse-${runId.replace(/^run-/, '')}-${process.pid}`,
      settings: {
        // Mimic production unless told otherwise: its sql_mode and character set.
        sqlMode: manifest.source.sqlMode,
        characterSetServer: manifest.source.characterSetServer,
        collationServer: manifest.source.collationServer,
        ...opts.serverSettings,
      },
    });
    dsn = embedded.dsn;
  }

  const conn = await mysql.createConnection(baseOptions(dsn, { extra: { multipleStatements: false } }));
  /** Connections that share out the row counts and checksums (the server reads two tables at a time). */
  const checkConns: Connection[] = [conn];
  let summary: RunSummary | undefined;
  let interrupted = false;
  /** Something worth resuming exists on the instance (the snapshot was restored). */
  let resumable = Boolean(previous.restored);
  let finishedCleanly = false;
  try {
    if (production) {
      // [apply] Production passes only when apply opened the confirmed scope for this very server.
      if (!confirmationMatches(dsn, production.confirmedHostPort) || !productionWritesAllowed(dsn)) {
        throw new InterlockError(`refusing to apply to ${formatDsn(dsn)}: not confirmed as the production server (--confirm ${hostPortOf(dsn)})`);
      }
    } else {
      await assertWritable(conn, dsn, 'rehearse');
    }
    checkConns.push(await mysql.createConnection(baseOptions(dsn, { extra: { multipleStatements: false } })));
    const info = await serverInfo(conn);
    const dbs = databaseNames(manifest);
    const planCopy = path.join(opts.runDir, 'plan.yaml');
    if (!opts.resume) {
      fs.copyFileSync(opts.planPath, planCopy);
      if (opts.findings) writeYaml(path.join(opts.runDir, 'findings.yaml'), opts.findings);
      journal.append({ event: 'run-started', runId, plan: path.relative(path.resolve(opts.runDir), path.resolve(opts.planPath)), snapshot: manifest.id, instance: production ? productionLabel(dsn) : instanceLabel(embedded, dsn) });
    } else {
      if (previous.snapshot !== manifest.id) throw new VerificationError(`--snapshot is not the snapshot this run was started with`);
      emit({ kind: 'info', message: `resuming ${runId} on ${instanceLabel(embedded, dsn)}` });
    }

    summary = {
      format: 1,
      tool: { name: 'glpi-ocs-upgrade', version: TOOL_VERSION },
      runId,
      startedAt: priorSummary?.startedAt ?? isoNow(clock),
      dryRun: Boolean(opts.dryRun),
      complete: false,
      // Relative to the run directory, so that a run directory can be moved or archived with its snapshot.
      snapshot: { dir: path.relative(path.resolve(opts.runDir), path.resolve(opts.snapshotDir)) || '.', id: manifest.id },
      plan: { file: 'plan.yaml', steps: plan.steps.length },
      instance: {
        kind: production ? 'production' : embedded ? 'embedded' : 'external',
        serverVersion: info.version,
        settings: { sqlMode: info.sqlMode, characterSetServer: info.characterSetServer, collationServer: info.collationServer, lowerCaseTableNames: info.lowerCaseTableNames },
      },
      distributions: describeDistributions(opts.dists).map((d) => ({ ...d, path: homeRelative(d.path), note: homeRelative(d.note) })),
      preChecks: priorSummary?.preChecks ?? [],
      steps: [],
      anomalies: [],
    };
    const summaryFile = path.join(opts.runDir, RUN_FILE);

    // 1. Restore the snapshot (once). [apply] Never on production: it is already there.
    if (production) resumable = true;
    if (!previous.restored && !production) {
      emit({ kind: 'info', message: `restoring snapshot ${manifest.id.slice(0, 12)} into ${instanceLabel(embedded, dsn)}` });
      const restored = await restoreForRehearsal(opts.snapshotDir, dsn, dbs);
      summary.preChecks.push(...restored.checks);
      journal.append({ event: 'restore-finished', tables: restored.tables, ok: restored.ok });
      writeYaml(summaryFile, summary);
      if (!restored.ok) throw new VerificationError('the restored snapshot does not match its manifest: see run.yaml pre-checks');
      resumable = true;
      await recordStructureBefore(conn, dbs, opts.runDir);
    }

    // 2. Resume: undo a step that was cut mid-way, then prove the instance still matches the journal.
    const priorResults = new Map((priorSummary?.steps ?? []).map((s) => [s.stepId, s]));
    const cache: StateCache = { states: {}, since: {} };
    const replay: ReplaySetup = {
      steps: replayableSteps(plan),
      ctx: { conn, dsn, plan, snapshotDir: opts.snapshotDir, runDir: opts.runDir, dbs, dists: opts.dists, php: opts.php },
    };
    if (opts.resume) {
      // Savepoints of steps that finished just before the kill: no longer needed.
      // [apply] On production a failed step was not rolled back: its savepoint is kept, and --resume (asked
      // for by the user, announced here and journaled) undoes it like an interrupted step.
      let inFlight = previous.inFlight;
      if (production) {
        const failed = [...previous.finished].filter(([, f]) => f.status === 'failed').map(([id]) => id).pop();
        if (failed && fs.existsSync(path.join(opts.runDir, 'evidence', failed, 'savepoint.json'))) inFlight = failed;
      }
      for (const id of previous.finished.keys()) {
        const spFile = path.join(opts.runDir, 'evidence', id, 'savepoint.json');
        if (id === inFlight || !fs.existsSync(spFile)) continue;
        await dropSavepoint(conn, JSON.parse(fs.readFileSync(spFile, 'utf8')) as Savepoint);
        fs.rmSync(spFile, { force: true });
      }
      if (inFlight) {
        const spFile = path.join(opts.runDir, 'evidence', inFlight, 'savepoint.json');
        if (fs.existsSync(spFile)) {
          const sp = JSON.parse(fs.readFileSync(spFile, 'utf8')) as Savepoint;
          emit({ kind: 'info', message: `rolling back the interrupted step ${inFlight}${sp.mode === 'replay' ? ' (restore of its database and replay of the steps before it)' : ''}` });
          if (production) journal.append({ event: 'step-rolled-back', stepId: inFlight, mode: sp.mode ?? 'copy' });
          await undo(sp, plan.steps.find((s) => s.id === inFlight)?.database, replay);
          await dropSavepoint(conn, sp);
          fs.rmSync(spFile, { force: true });
        }
      }
      const lastPassed = [...previous.finished.values()].filter((f) => f.fingerprint && (!production || f.status === 'passed')).pop();
      if (lastPassed?.fingerprint) {
        // A full pass: the exact state the next steps start from.
        const since = await serverNow(conn);
        const states = await statesOf(checkConns, dbs);
        const now = fingerprint(states);
        for (const role of ['glpi', 'ocs'] as const) {
          if (states[role]) {
            cache.states[role] = states[role];
            cache.since[role] = since;
          }
        }
        if (now !== lastPassed.fingerprint) {
          throw new VerificationError('the test instance no longer matches the journal (its tables changed since the last finished step)', {
            hint: 'start the rehearsal again in a new run directory',
          });
        }
      }
    }

    // 3. The steps. Nothing else writes to the instance between steps, so a step's "after" state is the
    // next step's "before" state.
    const lastOfDatabase = new Map(plan.steps.map((s) => [s.database, s.id]));
    /** Findings whose audit check came back clean once their corrective migrations had run. */
    const recheckedClean = new Set<string>(priorSummary?.anomalies.filter((a) => a.findingId && a.resolved).map((a) => a.findingId!) ?? []);
    const blockedBy = new Map<'glpi' | 'ocs', string>();
    const total = plan.steps.length;
    let lastSummaryWrite = performance.now();
    for (let index = 0; index < total; index++) {
      const step = plan.steps[index];
      const done = previous.finished.get(step.id);
      const prior = done?.status === 'passed' ? priorStep(opts.runDir, step.id, priorResults, priorSummary) : undefined;
      if (prior) {
        summary.steps.push(prior.result);
        summary.anomalies.push(...prior.anomalies);
        emit({ kind: 'step-skip', index, total, step, reason: 'already passed' });
        continue;
      }
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      const blocker = blockedBy.get(step.database);
      if (blocker) {
        const result: StepResult = {
          stepId: step.id,
          status: 'not-run',
          reason: `not run: it depends on step ${blocker}, which did not pass`,
          reasonFr: `non exécutée : elle dépend de l’étape ${blocker}, qui n’a pas réussi`,
          tableDeltas: [],
          evidence: [],
        };
        summary.steps.push(result);
        emit({ kind: 'step-end', index, total, step, result });
        continue;
      }
      emit({ kind: 'step-start', index, total, step });
      const result = await runOneStep(step, { conn, checkConns, dsn, dbs, runDir: opts.runDir, opts, journal, clock, cache, replay, lastOfDatabase: lastOfDatabase.get(step.database) === step.id, passedBefore: passedOn(plan, summary.steps, step) });
      summary.steps.push(result.step);
      summary.anomalies.push(...result.anomalies);
      emit({ kind: 'step-end', index, total, step, result: result.step });
      // run.yaml is rewritten at most every few seconds while steps pass (each step's result and anomalies
      // are in its evidence/<step>/result.json, which --resume reads), at once when one does not.
      const y0 = performance.now();
      if (result.step.status !== 'passed' || result.interrupted || y0 - lastSummaryWrite > SUMMARY_WRITE_INTERVAL_MS) {
        writeYaml(summaryFile, summary);
        lastSummaryWrite = performance.now();
      }
      opts.onPhase?.({ stepId: step.id, phase: 'journal', ms: performance.now() - y0 });
      if (result.interrupted) {
        interrupted = true;
        break;
      }
      if (result.step.status !== 'passed') blockedBy.set(step.database, step.id);
      if (result.step.status === 'passed' && step.runner.kind === 'corrective-migration' && opts.findings) {
        await recheckFindings(step, plan, summary.steps, opts.findings, conn, dbs, recheckedClean, emit, opts.audit ?? {});
      }
      if (result.step.status === 'failed') {
        // [apply] On production a failed step stops everything.
        if (production) {
          for (const rest of plan.steps.slice(index + 1)) {
            summary.steps.push({
              stepId: rest.id,
              status: 'not-run',
              reason: `not run: apply stopped at the failed step ${step.id}`,
              reasonFr: `non exécutée : la mise en production s’est arrêtée à l’étape ${step.id}, en échec`,
              tableDeltas: [],
              evidence: [],
            });
          }
          writeYaml(summaryFile, summary);
          break;
        }
        // A failed step stops its product's chain; the other product may still go on.
        continue;
      }
    }

    // 4. Audit findings → anomaly register (resolved when their corrective migration passed).
    summary.anomalies.push(...findingsToAnomalies(opts.findings, plan, summary.steps, recheckedClean));
    summary.anomalies = dedupeAnomalies(summary.anomalies);
    summary.complete = !interrupted && summary.steps.length === total && summary.steps.every((s) => s.status === 'passed');
    summary.finishedAt = interrupted ? undefined : isoNow(clock);
    // The final structure and per-table figures, which `apply` compares with the rehearsal's.
    if (summary.complete && !opts.dryRun) await recordFinalState(conn, dbs, cache.states, opts.runDir);
    writeYaml(summaryFile, summary);
    if (interrupted) {
      journal.append({ event: 'run-interrupted', signal: 'SIGINT' });
    } else {
      journal.append({ event: 'run-finished', complete: summary.complete });
    }
    finishedCleanly = true;
  } finally {
    for (const c of checkConns) await c.end().catch(() => undefined);
    const failed = summary?.steps.some((s) => s.status === 'failed');
    // Keep the instance when there is something to resume or inspect; stop it otherwise.
    const keep = resumable && (interrupted || failed || !finishedCleanly || opts.keepInstance);
    if (embedded && !keep) await embedded.stop();
    else if (embedded) emit({ kind: 'info', message: `test instance kept: embedded:${embedded.record.name} (stop it with: glpi-ocs-upgrade instance stop ${embedded.record.name})` });
  }
  if (interrupted) {
    throw new InterruptedError(`rehearsal interrupted; the test instance is kept`, {
      hint: `continue with: glpi-ocs-upgrade rehearse ${opts.planPath} --snapshot ${opts.snapshotDir} -o ${opts.runDir} --resume`,
    });
  }
  return summary!;
}

/** Paths under the user's home directory written as ~/…: run files travel (dossiers, CI artifacts). */
function homeRelative(text: string): string {
  const home = os.homedir();
  return home && home !== '/' ? text.split(home + path.sep).join('~' + path.sep) : text;
}

function dedupeAnomalies(list: Anomaly[]): Anomaly[] {
  const seen = new Map<string, Anomaly>();
  for (const a of list) seen.set(a.id, a);
  return [...seen.values()];
}

interface StateCache {
  /** Exact state of each database after the last step that wrote it. */
  states: Partial<Record<'glpi' | 'ocs', DatabaseState>>;
  /** Server clock just before that state was read (refreshState's `since`). */
  since: Partial<Record<'glpi' | 'ocs', number>>;
}

async function cachedStates(conns: Connection[], dbs: { glpi?: string; ocs?: string }, cache: StateCache): Promise<Record<string, DatabaseState>> {
  for (const role of ['glpi', 'ocs'] as const) {
    if (dbs[role] && !cache.states[role]) {
      cache.since[role] = await serverNow(conns[0]);
      cache.states[role] = await databaseState(conns[0], dbs[role]!, { conns });
    }
  }
  return Object.fromEntries(Object.entries(cache.states)) as Record<string, DatabaseState>;
}

/**
 * After a corrective migration: for each finding it fixes whose corrective steps have all passed, run that
 * audit check again on the test instance; a clean result proves the finding resolved.
 */
async function recheckFindings(
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
  const fixers = (findingId: string) =>
    plan.steps.filter((s) => s.runner.kind === 'corrective-migration' && correctiveMigration(s.runner.migration)?.fixes.includes(findingId));
  const due = findings.findings
    .map((f) => f.id)
    .filter((id) => migration.fixes.includes(id) && !clean.has(id) && fixers(id).every((s) => passed.has(s.id)));
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

interface StepRun {
  cache: StateCache;
  conn: Connection;
  checkConns: Connection[];
  replay: ReplaySetup;
  /** The last step of its database in the plan: its "after" state is read in full. */
  lastOfDatabase: boolean;
  /** Steps of the same database that passed before this one (a replay savepoint runs them again). */
  passedBefore: string[];
  dsn: Dsn;
  dbs: { glpi?: string; ocs?: string };
  runDir: string;
  opts: RehearseOptions;
  journal: Journal;
  clock: () => Date;
}

async function runOneStep(step: PlanStep, r: StepRun): Promise<{ step: StepResult; anomalies: Anomaly[]; interrupted: boolean }> {
  const started = r.clock();
  const database = r.dbs[step.database];
  const evidenceRel = path.join('evidence', step.id);
  const evidenceDir = path.join(r.runDir, evidenceRel);
  fs.mkdirSync(evidenceDir, { recursive: true });
  const anomalies: Anomaly[] = [];
  if (!database) {
    return {
      step: {
        stepId: step.id,
        status: 'not-run',
        reason: `the snapshot has no ${step.database} database`,
        reasonFr: `l’instantané ne contient pas de base ${roleName(step.database)}`,
        tableDeltas: [],
        evidence: [],
      },
      anomalies,
      interrupted: false,
    };
  }

  const timed = async <T>(phase: StepPhase, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      r.opts.onPhase?.({ stepId: step.id, phase, ms: performance.now() - t0 });
    }
  };
  const mayTouch = await timed('checks', () => stepTables(step, r.opts.dists));
  if (!r.cache.states[step.database]) {
    await timed('checks', async () => {
      r.cache.since[step.database] = await serverNow(r.conn);
      r.cache.states[step.database] = await databaseState(r.conn, database, { conns: r.checkConns });
    });
  }
  const before = r.cache.states[step.database]!;
  const since = r.cache.since[step.database]!;
  await timed('journal', () => r.journal.append({ event: 'step-started', stepId: step.id }));
  const sp = await timed('savepoint', async () => {
    const created = r.replay.steps.has(step.id) ? replaySavepoint(database, r.passedBefore) : await createSavepoint(r.conn, database, mayTouch);
    fs.writeFileSync(path.join(evidenceDir, 'savepoint.json'), JSON.stringify(created, null, 2));
    return created;
  });

  let exec: ExecutorResult;
  const t0 = performance.now();
  try {
    exec = await executeStep(step, {
      conn: r.conn,
      dsn: r.dsn,
      databases: r.dbs,
      runDir: r.runDir,
      evidenceDir,
      dists: r.opts.dists,
      php: r.opts.php,
      signal: r.opts.signal,
      log: () => undefined,
    }, { dryRun: Boolean(r.opts.dryRun) });
  } catch (err) {
    // The error's own message (English, from the code that threw) is quoted as is in the French reason.
    exec = { status: 'failed', reason: (err as Error).message, reasonFr: `erreur pendant l’exécution de l’étape : ${(err as Error).message}`, evidence: [] };
  }
  r.opts.onPhase?.({ stepId: step.id, phase: 'execute', ms: performance.now() - t0 });
  const wasInterrupted = Boolean(r.opts.signal?.aborted) && exec.status !== 'passed';
  if (wasInterrupted) {
    // Leave the savepoint in place: --resume rolls the step back first.
    return {
      step: { stepId: step.id, status: 'failed', ...because(INTERRUPTED), tableDeltas: [], evidence: [] },
      anomalies,
      interrupted: true,
    };
  }
  let after: DatabaseState;
  let undetected: string[] = [];
  const production = r.opts.target?.kind === 'production';
  if (exec.status === 'failed' && production) {
    // [apply] Never rolled back silently on production: the savepoint stays (apply --resume undoes it,
    // `rollback` restores the backup), and the state left behind is read in full for the record.
    r.cache.since[step.database] = await serverNow(r.conn);
    after = await timed('checks', () => databaseState(r.conn, database, { conns: r.checkConns }));
  } else if (exec.status === 'failed') {
    // Roll back, then prove the database is back to its pre-step state (a full pass).
    await timed('savepoint', async () => {
      await undo(sp, step.database, r.replay);
      await dropSavepoint(r.conn, sp);
    });
    r.cache.since[step.database] = await serverNow(r.conn);
    after = await timed('checks', () => databaseState(r.conn, database, { conns: r.checkConns }));
    const off = stateDifferences(before, after);
    if (off.length > 0) {
      throw new VerificationError(`rolling back the failed step ${step.id} did not restore ${off.slice(0, 5).join(', ')}${off.length > 5 ? ` and ${off.length - 5} more` : ''}`, {
        hint: 'the test instance is kept for inspection; start the rehearsal again in a new run directory',
      });
    }
    fs.rmSync(path.join(evidenceDir, 'savepoint.json'), { force: true });
  } else {
    // The savepoint stays until step-finished is in the journal: a kill during the checks below must still
    // find it on --resume, or the step's changes would be taken for the last finished step's state.
    after = await timed('checks', async () => {
      const options = {
        since,
        mayTouch: mayTouch === 'all' ? ('all' as const) : new Set(mayTouch),
        conns: r.checkConns,
        indexOnly: stepIndexOnlyTables(step, r.opts.dists),
      };
      if (!r.lastOfDatabase) {
        const refreshed = await refreshState(r.conn, database, before, options);
        r.opts.onPhase?.({ stepId: step.id, phase: 'checks', ms: 0, tables: refreshed.measured });
        r.cache.since[step.database] = refreshed.now;
        return refreshed.state;
      }
      // End of this product's chain: one full pass, which also proves every figure carried forward so far
      // (the tables a refresh would have read are read by the full pass anyway).
      const carried = await refreshState(r.conn, database, before, { ...options, measure: false });
      r.opts.onPhase?.({ stepId: step.id, phase: 'checks', ms: 0, tables: carried.measured });
      r.cache.since[step.database] = await serverNow(r.conn);
      const full = await databaseState(r.conn, database, { conns: r.checkConns });
      const read = new Set(carried.measured);
      undetected = stateDifferences(carried.state, full).filter((t) => !read.has(t));
      return full;
    });
  }
  r.cache.states[step.database] = after;
  const deletedOnPurpose = Object.fromEntries((exec.rowsDeletedOnPurpose ?? []).map((d) => [d.table, d.rows]));
  const deltas = exec.status === 'passed' ? tableDeltas(before, after, { expected: expectedEffects(step), deletedOnPurpose }) : [];
  const untouched = exec.status === 'passed' ? untouchedChanged(before, after, mayTouch === 'all' ? 'all' : new Set(mayTouch)) : { checked: 0, changed: [] };

  for (const d of deltas.filter((x) => x.verdict === 'anomaly')) {
    anomalies.push({
      id: `A-${step.id}-${d.table}`,
      stepId: step.id,
      severity: 'majeure',
      title: { fr: `Variation inexpliquée du nombre de lignes de ${d.table}`, en: `Unexplained row count change in ${d.table}` },
      detail: {
        fr: `${d.before ?? 'absente'} → ${d.after ?? 'absente'} ligne(s) lors de l'étape ${step.id}, sans que le plan ne le prévoie.`,
        en: `${d.before ?? 'absent'} → ${d.after ?? 'absent'} row(s) during step ${step.id}, not expected by the plan.`,
      },
      resolved: false,
    });
  }
  for (const t of undetected) {
    anomalies.push({
      id: `A-${step.id}-undetected-${t}`,
      stepId: step.id,
      severity: 'majeure',
      title: { fr: `Table ${t} modifiée sans que le contrôle par étape ne le voie`, en: `Table ${t} changed without the per-step check seeing it` },
      detail: {
        fr: `Le contrôle complet de fin de chaîne (${step.id}) trouve pour ${t} un nombre de lignes ou une somme de contrôle différents de ceux reportés depuis la dernière lecture de cette table : une étape de la chaîne l'a modifiée sans changer ses métadonnées.`,
        en: `The full check at the end of the chain (${step.id}) finds a row count or checksum for ${t} other than the one carried forward since that table was last read: a step of the chain changed it without changing its metadata.`,
      },
      resolved: false,
    });
  }
  for (const t of untouched.changed) {
    anomalies.push({
      id: `A-${step.id}-untouched-${t}`,
      stepId: step.id,
      severity: 'majeure',
      title: { fr: `Table ${t} modifiée hors du périmètre de l'étape`, en: `Table ${t} changed outside the step's scope` },
      detail: { fr: `La somme de contrôle de ${t} a changé pendant l'étape ${step.id}.`, en: `The checksum of ${t} changed during step ${step.id}.` },
      resolved: false,
    });
  }
  for (const d of exec.rowsDeletedOnPurpose ?? []) {
    if (d.rows <= 0) continue;
    anomalies.push({
      id: `A-${step.id}-deleted-${d.table}`,
      stepId: step.id,
      severity: 'majeure',
      title: { fr: `${d.rows} ligne(s) de ${d.table} supprimée(s) par la mise à jour officielle`, en: `${d.rows} row(s) of ${d.table} deleted by the official update` },
      detail: { fr: `Perte de données connue de l'outil de mise à jour : ${d.why}`, en: `Known data loss of the official updater: ${d.why}` },
      remedy: {
        fr: 'Exporter ces lignes avant la mise à jour de production ou compléter les valeurs manquantes à la source.',
        en: 'Export these rows before the production update, or fill in the missing values at the source.',
      },
      resolved: false,
    });
  }
  if (exec.status === 'failed') {
    anomalies.push({
      id: `A-${step.id}-failed`,
      stepId: step.id,
      severity: 'bloquante',
      title: { fr: `Échec de l'étape ${step.id}`, en: `Step ${step.id} failed` },
      detail: { fr: exec.reasonFr ?? exec.reason ?? 'échec', en: exec.reason ?? 'failure' },
      resolved: false,
    });
  }

  const states = await timed('checks', () => cachedStates(r.checkConns, r.dbs, r.cache));
  const finished = r.clock();
  const result: StepResult = {
    stepId: step.id,
    status: exec.status,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    reason: exec.reason,
    reasonFr: exec.reasonFr,
    commandForUser: exec.commandForUser,
    versionBefore: exec.versionBefore,
    versionAfter: exec.versionAfter,
    statements: exec.statements,
    tableDeltas: deltas.filter((d) => d.verdict !== 'unchanged'),
    untouchedChecked: untouched.checked,
    untouchedChanged: untouched.changed,
    evidence: [...exec.evidence, path.join(evidenceRel, 'result.json')],
    outputExcerpt: exec.outputExcerpt,
  };
  await timed('journal', () => {
    fs.writeFileSync(path.join(evidenceDir, 'result.json'), JSON.stringify({ result, anomalies, executor: exec, rowsBefore: Object.fromEntries([...before].map(([t, s]) => [t, s.rows])) }, null, 2));
    r.journal.append({ event: 'step-finished', stepId: step.id, status: exec.status, durationMs: result.durationMs ?? 0, fingerprint: production && exec.status === 'failed' ? undefined : fingerprint(states) });
  });
  if (exec.status !== 'failed') {
    // (A failed step's savepoint was used and dropped above.) Killed between the journal line and here,
    // --resume drops it (dropFinishedSavepoints).
    await timed('savepoint', async () => {
      await dropSavepoint(r.conn, sp);
      fs.rmSync(path.join(evidenceDir, 'savepoint.json'), { force: true });
    });
  }
  return { step: result, anomalies, interrupted: false };
}

