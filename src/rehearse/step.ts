/**
 * One step of a plan on the test instance, with the checks around it: the state before (carried forward or
 * read), a savepoint, the executor, the rollback of a failed step (journaled), the state after, the table
 * deltas and anomalies, and the journal line that makes it count. Used by the rehearsal runner and meant to
 * be reused by a caller that supplies an already-connected target (the production `apply`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { Dsn } from '../db/dsn.ts';
import { VerificationError } from '../errors.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import type { Anomaly, StepResult } from './run-types.ts';
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

export async function runOneStep(step: PlanStep, r: StepRun): Promise<{ step: StepResult; anomalies: Anomaly[]; interrupted: boolean }> {
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
        reason: msg('result.no-database', { role: step.database }),
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
    // Atomic: a kill during this write leaves no savepoint file, which --resume reads as "the step never
    // started" (the executor runs only after this line).
    writeSavepointJson(path.join(evidenceDir, 'savepoint.json'), created, `savepoint-write@${step.id}`);
    return created;
  });

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
        evidenceDir,
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
  const wasInterrupted = Boolean(r.opts.signal?.aborted) && exec.status !== 'passed';
  if (wasInterrupted) {
    // Leave the savepoint in place: --resume rolls the step back first.
    return {
      step: { stepId: step.id, status: 'failed', reason: msg('result.interrupted', {}), tableDeltas: [], evidence: [] },
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
    after = await timed('checks', () => databaseState(r.conn, database, { conns: r.checkConns }));
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
  for (const t of untouched.changed) {
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

  const states = await timed('checks', () => cachedStates(r.checkConns, r.dbs, r.cache));
  const finished = r.clock();
  const result: StepResult = {
    stepId: step.id,
    status: exec.status,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    reason: exec.reason,
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
    writeStepResultJson(path.join(evidenceDir, 'result.json'), { result, anomalies, executor: exec, rowsBefore: Object.fromEntries([...before].map(([t, s]) => [t, s.rows])) });
    r.journal.append({
      event: 'step-finished',
      stepId: step.id,
      status: exec.status,
      durationMs: result.durationMs ?? 0,
      fingerprint: production && exec.status === 'failed' ? undefined : fingerprint(states),
      result,
      anomalies,
    });
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
