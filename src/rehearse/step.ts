/**
 * One step of a plan on the test instance, with the checks around it: the state before (carried forward or
 * read), a savepoint, the executor, the rollback of a failed step (journaled), the state after, the table
 * deltas and anomalies, and the journal line that makes it count. Used by the rehearsal runner and meant to
 * be reused by a caller that supplies an already-connected target (the production `apply`).
 *
 * runOneStep() reads as its phases, one function each, all taking the step on its way (StepCall):
 * beforeStep (state before, step-started, savepoint), execute (the executor), then one of
 * stateLeftOnProduction / rollBackFailedStep (undo on failure, proved) / stateAfterStep (verify: refresh or
 * full pass), stepAnomalies, and recordStep (result.json, step-finished, savepoint dropped).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { Dsn } from '../db/dsn.ts';
import { VerificationError } from '../errors.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import type { Anomaly, StepResult, TableDelta } from './run-types.ts';
import type { Journal } from './journal.ts';
import type { DatabaseState } from './checks.ts';
import { databaseState, fingerprint, refreshState, serverNow, stateDifferences, tableDeltas, untouchedChanged } from './checks.ts';
import type { Savepoint } from './savepoint.ts';
import { createSavepoint, dropSavepoint, replaySavepoint, rollbackSavepoint } from './savepoint.ts';
import { rollbackByReplay } from './replay.ts';
import type { ExecutorResult } from './executors/types.ts';
import { executeStep, expectedEffects, stepIndexOnlyTables, stepTables } from './dispatch.ts';
import { msg } from '../i18n/messages.ts';
import type { RehearseOptions, StepPhase } from './runner.ts';
import { writeSavepointJson, writeStepResultJson } from '../formats/step-evidence.ts';

export interface ReplaySetup {
  /** Steps whose savepoint is a replay (replay.ts replayableSteps). */
  steps: Set<string>;
  ctx: Parameters<typeof rollbackByReplay>[0];
}

/** Undoes a step from its savepoint (copy or replay). */
export async function undo(sp: Savepoint, database: 'glpi' | 'ocs' | undefined, replay: ReplaySetup): Promise<void> {
  if (sp.mode === 'replay') {
    if (!database) throw new VerificationError('the interrupted step is no longer in the plan: cannot replay its database');
    await rollbackByReplay(replay.ctx, database, sp.replay ?? []);
  } else {
    await rollbackSavepoint(replay.ctx.conn, sp);
  }
}

/** Ids of the steps of `step`'s database that passed before it, in plan order. */
export function passedOn(plan: PlanFile, results: StepResult[], step: PlanStep): string[] {
  const passed = new Set(results.filter((r) => r.status === 'passed').map((r) => r.stepId));
  const out: string[] = [];
  for (const s of plan.steps) {
    if (s.id === step.id) break;
    if (s.database === step.database && passed.has(s.id)) out.push(s.id);
  }
  return out;
}

export interface StateCache {
  /** Exact state of each database after the last step that wrote it. */
  states: Partial<Record<'glpi' | 'ocs', DatabaseState>>;
  /** Server clock just before that state was read (refreshState's `since`). */
  since: Partial<Record<'glpi' | 'ocs', number>>;
}

export async function cachedStates(conns: Connection[], dbs: { glpi?: string; ocs?: string }, cache: StateCache): Promise<Record<string, DatabaseState>> {
  for (const role of ['glpi', 'ocs'] as const) {
    if (dbs[role] && !cache.states[role]) {
      cache.since[role] = await serverNow(conns[0]);
      cache.states[role] = await databaseState(conns[0], dbs[role]!, { conns });
    }
  }
  const states: Record<string, DatabaseState> = {};
  for (const [role, state] of Object.entries(cache.states)) if (state) states[role] = state;
  return states;
}

export interface StepRun {
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

/** Runs `fn` as one phase of a step's wall time (RehearseOptions.onPhase). */
type Timed = <T>(phase: StepPhase, fn: () => Promise<T> | T) => Promise<T>;

/** One step on its way: the step, the run around it, its database and its evidence directory. */
interface StepCall {
  step: PlanStep;
  r: StepRun;
  /** The database the step writes, by name. */
  database: string;
  /** evidence/<step>, relative to the run directory. */
  evidenceRel: string;
  evidenceDir: string;
  timed: Timed;
  /** [apply] The run is on production. */
  production: boolean;
}

/** What was read and taken before the executor ran. */
interface BeforeStep {
  /** The tables the step may touch ('all': any). */
  mayTouch: string[] | 'all';
  before: DatabaseState;
  /** Server clock just before `before` was read. */
  since: number;
  sp: Savepoint;
}

type StepOutcome = { step: StepResult; anomalies: Anomaly[]; interrupted: boolean };

export async function runOneStep(step: PlanStep, r: StepRun): Promise<StepOutcome> {
  const started = r.clock();
  const database = r.dbs[step.database];
  const evidenceRel = path.join('evidence', step.id);
  const evidenceDir = path.join(r.runDir, evidenceRel);
  fs.mkdirSync(evidenceDir, { recursive: true });
  if (!database) {
    return {
      step: {
        stepId: step.id,
        status: 'not-run',
        reason: msg('result.no-database', { role: step.database }),
        tableDeltas: [],
        evidence: [],
      },
      anomalies: [],
      interrupted: false,
    };
  }
  const s: StepCall = { step, r, database, evidenceRel, evidenceDir, timed: phaseTimer(step, r), production: r.opts.target?.kind === 'production' };

  // Before: the state (carried forward or read), step-started, the savepoint.
  const b = await beforeStep(s);
  // The executor.
  const exec = await execute(s);
  if (r.opts.signal?.aborted && exec.status !== 'passed') {
    // Leave the savepoint in place: --resume rolls the step back first.
    return {
      step: { stepId: step.id, status: 'failed', reason: msg('result.interrupted', {}), tableDeltas: [], evidence: [] },
      anomalies: [],
      interrupted: true,
    };
  }
  // After: the state read again (or the failed step undone and proved), the deltas and anomalies.
  let after: DatabaseState;
  let undetected: string[] = [];
  if (exec.status === 'failed' && s.production) after = await stateLeftOnProduction(s);
  else if (exec.status === 'failed') after = await rollBackFailedStep(s, b);
  else ({ after, undetected } = await stateAfterStep(s, b));
  r.cache.states[step.database] = after;
  const deletedOnPurpose = Object.fromEntries((exec.rowsDeletedOnPurpose ?? []).map((d) => [d.table, d.rows]));
  const deltas = exec.status === 'passed' ? tableDeltas(b.before, after, { expected: expectedEffects(step), deletedOnPurpose }) : [];
  const untouched = exec.status === 'passed' ? untouchedChanged(b.before, after, b.mayTouch === 'all' ? 'all' : new Set(b.mayTouch)) : { checked: 0, changed: [] };
  const anomalies = stepAnomalies(step, exec, deltas, undetected, untouched.changed);
  // The result, journaled; the savepoint dropped.
  return recordStep(s, b, { started, exec, deltas, untouched, anomalies });
}

function phaseTimer(step: PlanStep, r: StepRun): Timed {
  return async (phase, fn) => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      r.opts.onPhase?.({ stepId: step.id, phase, ms: performance.now() - t0 });
    }
  };
}

/** The tables the step may touch, the state before (carried forward, or read), step-started, the savepoint. */
async function beforeStep(s: StepCall): Promise<BeforeStep> {
  const { step, r, database, timed } = s;
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
    // Atomic: a kill during this write leaves no savepoint file, which --resume reads as "the step never
    // started" (the executor runs only after this line).
    writeSavepointJson(path.join(s.evidenceDir, 'savepoint.json'), created, `savepoint-write@${step.id}`);
    return created;
  });
  return { mayTouch, before, since, sp };
}

/** The step's executor; an error it throws is a failed result. */
async function execute(s: StepCall): Promise<ExecutorResult> {
  const { step, r } = s;
  let exec: ExecutorResult;
  const t0 = performance.now();
  try {
    exec = await executeStep(
      step,
      {
        conn: r.conn,
        dsn: r.dsn,
        databases: r.dbs,
        runDir: r.runDir,
        evidenceDir: s.evidenceDir,
        dists: r.opts.dists,
        php: r.opts.php,
        glpiConfigDir: r.opts.glpiConfigDir,
        afterGlpiConsole: r.opts.afterGlpiConsole,
        signal: r.opts.signal,
        log: () => undefined,
        onProcess: (p) => r.journal.append({ event: 'process-started', stepId: step.id, pid: p.pid, startTime: p.startTime, command: p.command }),
        onProcessEnd: (p) => r.journal.append({ event: 'process-finished', stepId: step.id, pid: p.pid, exitCode: p.exitCode }),
      },
      { dryRun: Boolean(r.opts.dryRun) },
    );
  } catch (err) {
    // The error's own message (English, from the code that threw) is quoted as is in the French reason.
    exec = { status: 'failed', reason: msg('result.error', { message: (err as Error).message }), evidence: [] };
  }
  r.opts.onPhase?.({ stepId: step.id, phase: 'execute', ms: performance.now() - t0 });
  return exec;
}

/**
 * [apply] A failed step is never rolled back silently on production: the savepoint stays (apply --resume
 * undoes it, `rollback` restores the backup), and the state left behind is read in full for the record.
 */
async function stateLeftOnProduction(s: StepCall): Promise<DatabaseState> {
  const { step, r, database, timed } = s;
  r.cache.since[step.database] = await serverNow(r.conn);
  return timed('checks', () => databaseState(r.conn, database, { conns: r.checkConns }));
}

/** A failed step rolled back, then the database proved back to its pre-step state (a full pass); journaled. */
async function rollBackFailedStep(s: StepCall, b: BeforeStep): Promise<DatabaseState> {
  const { step, r, database, timed } = s;
  const { before, sp } = b;
  const mode = sp.mode ?? 'copy';
  try {
    await timed('savepoint', async () => {
      await undo(sp, step.database, r.replay);
      await dropSavepoint(r.conn, sp);
    });
  } catch (err) {
    r.journal.append({ event: 'step-rolled-back', stepId: step.id, cause: 'failed', mode, ok: false, detail: (err as Error).message });
    throw err;
  }
  r.cache.since[step.database] = await serverNow(r.conn);
  const after = await timed('checks', () => databaseState(r.conn, database, { conns: r.checkConns }));
  const off = stateDifferences(before, after);
  r.journal.append({
    event: 'step-rolled-back',
    stepId: step.id,
    cause: 'failed',
    mode,
    ok: off.length === 0,
    detail: off.length === 0 ? `${before.size} tables back to their state before the step (row counts and CHECKSUM TABLE)` : `still different: ${off.slice(0, 10).join(', ')}`,
  });
  if (off.length > 0) {
    throw new VerificationError(`rolling back the failed step ${step.id} did not restore ${off.slice(0, 5).join(', ')}${off.length > 5 ? ` and ${off.length - 5} more` : ''}`, {
      hint: 'the test instance is kept for inspection; start the rehearsal again in a new run directory',
    });
  }
  fs.rmSync(path.join(s.evidenceDir, 'savepoint.json'), { force: true });
  return after;
}

/**
 * The state after a step that did not fail: the tables that show a sign of change read again, or, at the
 * end of the product's chain, a full pass, with the tables it finds changed that the carried-forward figures
 * missed (`undetected`).
 */
async function stateAfterStep(s: StepCall, b: BeforeStep): Promise<{ after: DatabaseState; undetected: string[] }> {
  const { step, r, database, timed } = s;
  const { before, since, mayTouch } = b;
  let undetected: string[] = [];
  // The savepoint stays until step-finished is in the journal: a kill during the checks below must still
  // find it on --resume, or the step's changes would be taken for the last finished step's state.
  const after = await timed('checks', async () => {
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
  return { after, undetected };
}

/**
 * The anomalies of a step, in this order: unexplained row-count changes, changes the per-step check missed,
 * tables changed outside the step's scope, rows the official updater deleted, the step's failure.
 */
function stepAnomalies(step: PlanStep, exec: ExecutorResult, deltas: TableDelta[], undetected: string[], untouchedChangedTables: string[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const d of deltas.filter((x) => x.verdict === 'anomaly')) {
    anomalies.push({
      id: `A-${step.id}-${d.table}`,
      stepId: step.id,
      severity: 'majeure',
      title: msg('anomaly.row-count.title', { table: d.table }),
      detail: msg('anomaly.row-count.detail', { before: d.before, after: d.after, step: step.id }),
      resolved: false,
    });
  }
  for (const t of undetected) {
    anomalies.push({
      id: `A-${step.id}-undetected-${t}`,
      stepId: step.id,
      severity: 'majeure',
      title: msg('anomaly.undetected.title', { table: t }),
      detail: msg('anomaly.undetected.detail', { table: t, step: step.id }),
      resolved: false,
    });
  }
  for (const t of untouchedChangedTables) {
    anomalies.push({
      id: `A-${step.id}-untouched-${t}`,
      stepId: step.id,
      severity: 'majeure',
      title: msg('anomaly.untouched.title', { table: t }),
      detail: msg('anomaly.untouched.detail', { table: t, step: step.id }),
      resolved: false,
    });
  }
  for (const d of exec.rowsDeletedOnPurpose ?? []) {
    if (d.rows <= 0) continue;
    anomalies.push({
      id: `A-${step.id}-deleted-${d.table}`,
      stepId: step.id,
      severity: 'majeure',
      title: msg('anomaly.deleted.title', { rows: d.rows, table: d.table }),
      detail: msg('anomaly.deleted.detail', { why: d.why }),
      remedy: msg('anomaly.deleted.remedy', {}),
      resolved: false,
    });
  }
  if (exec.status === 'failed') {
    anomalies.push({
      id: `A-${step.id}-failed`,
      stepId: step.id,
      severity: 'bloquante',
      title: msg('anomaly.step-failed.title', { step: step.id }),
      detail: msg('anomaly.step-failed.detail', exec.reason ? { reason: exec.reason } : {}),
      resolved: false,
    });
  }
  return anomalies;
}

/** The step's result: evidence/<step>/result.json and step-finished in the journal, then its savepoint dropped. */
async function recordStep(
  s: StepCall,
  b: BeforeStep,
  o: { started: Date; exec: ExecutorResult; deltas: TableDelta[]; untouched: { checked: number; changed: string[] }; anomalies: Anomaly[] },
): Promise<StepOutcome> {
  const { step, r, timed } = s;
  const { exec, deltas, untouched, anomalies } = o;
  const states = await timed('checks', () => cachedStates(r.checkConns, r.dbs, r.cache));
  const finished = r.clock();
  const result: StepResult = {
    stepId: step.id,
    status: exec.status,
    startedAt: o.started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - o.started.getTime(),
    reason: exec.reason,
    commandForUser: exec.commandForUser,
    versionBefore: exec.versionBefore,
    versionAfter: exec.versionAfter,
    statements: exec.statements,
    tableDeltas: deltas.filter((d) => d.verdict !== 'unchanged'),
    untouchedChecked: untouched.checked,
    untouchedChanged: untouched.changed,
    evidence: [...exec.evidence, path.join(s.evidenceRel, 'result.json')],
    outputExcerpt: exec.outputExcerpt,
  };
  await timed('journal', () => {
    writeStepResultJson(path.join(s.evidenceDir, 'result.json'), { result, anomalies, executor: exec, rowsBefore: Object.fromEntries([...b.before].map(([t, st]) => [t, st.rows])) });
    r.journal.append({
      event: 'step-finished',
      stepId: step.id,
      status: exec.status,
      durationMs: result.durationMs ?? 0,
      fingerprint: s.production && exec.status === 'failed' ? undefined : fingerprint(states),
      result,
      anomalies,
    });
  });
  if (exec.status !== 'failed') {
    // (A failed step's savepoint was used and dropped above.) Killed between the journal line and here,
    // --resume drops it (dropFinishedSavepoints).
    await timed('savepoint', async () => {
      await dropSavepoint(r.conn, b.sp);
      fs.rmSync(path.join(s.evidenceDir, 'savepoint.json'), { force: true });
    });
  }
  return { step: result, anomalies, interrupted: false };
}
