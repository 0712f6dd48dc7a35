/**
 * What a run directory must prove before a run goes on (kysely's Migrator checks that history is not
 * corrupted before anything runs):
 *
 *  - the plan is the one the run was started with (its sha256 and its steps, pinned in run-started or the
 *    last attempt-started); any difference is refused (exit 14) naming the steps, unless a new attempt is
 *    asked for explicitly;
 *  - savepoints are read with a guard: a savepoint file that is absent or torn means the step never started
 *    (the executor runs only once its savepoint file is in place), so there is nothing of it to undo;
 *  - a step cut mid-way is rolled back and the rollback journaled; then the instance must match the
 *    fingerprint the journal recorded after the last finished step.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { PlanChangedError, VerificationError } from '../errors.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import { readPlan } from '../plan/index.ts';
import type { PinnedPlan, JournalState } from '../formats/journal.ts';
import { planDifference } from '../formats/journal.ts';
import { readSavepointJson } from '../formats/step-evidence.ts';
import type { PlanDifference } from './run-types.ts';
import type { Journal } from './journal.ts';
import type { Savepoint } from './savepoint.ts';
import { dropSavepoint, shadowName } from './savepoint.ts';
import { qi } from '../db/connect.ts';
import type { ReplaySetup, StateCache } from './step.ts';
import { undo } from './step.ts';
import type { DatabaseState } from './checks.ts';
import { databaseState, fingerprint, serverNow } from './checks.ts';

export const SAVEPOINT_FILE = 'savepoint.json';

export function stepHash(step: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(step)).digest('hex').slice(0, 16);
}

/** The plan as pinned in the journal: the file's sha256 and each step's id and hash. */
export function pinPlan(planPath: string, plan: PlanFile): PinnedPlan {
  const planSha256 = crypto.createHash('sha256').update(fs.readFileSync(planPath)).digest('hex');
  return { planSha256, steps: plan.steps.map((s) => s.id), stepHashes: plan.steps.map(stepHash) };
}

export function describeDifference(d: PlanDifference): string {
  const parts: string[] = [];
  const list = (ids: string[]) => (ids.length > 6 ? `${ids.slice(0, 6).join(', ')} and ${ids.length - 6} more` : ids.join(', '));
  if (d.removed.length) parts.push(`removed: ${list(d.removed)}`);
  if (d.added.length) parts.push(`added: ${list(d.added)}`);
  if (d.changed.length) parts.push(`edited: ${list(d.changed)}`);
  if (d.moved.length) parts.push(`moved: ${list(d.moved)}`);
  return parts.length ? parts.join('; ') : 'same steps, but the file differs (notes, targets or source)';
}

/**
 * The plan the run was started with (journal), or, for a journal written before plans were pinned, the
 * copy in the run directory.
 */
export function pinnedPlanOf(previous: JournalState, runDir: string): PinnedPlan | undefined {
  if (previous.pinned) return previous.pinned;
  const copy = path.join(runDir, 'plan.yaml');
  if (!fs.existsSync(copy)) return undefined;
  return pinPlan(copy, readPlan(copy));
}

/**
 * Compares the plan given now with the pinned one: undefined when they are the same, the difference when a
 * new attempt was asked for, PlanChangedError (exit 14) otherwise.
 */
export function checkPlanPinned(was: PinnedPlan | undefined, now: PinnedPlan, o: { runDir: string; planPath: string; newAttempt: boolean }): PlanDifference | undefined {
  if (!was || was.planSha256 === now.planSha256) return undefined;
  const diff = planDifference(was, now);
  if (o.newAttempt) return diff;
  throw new PlanChangedError(`${o.planPath} is not the plan ${o.runDir} was started with (${describeDifference(diff)})`, {
    hint: `resume with the run's own plan (${path.join(o.runDir, 'plan.yaml')}), or record the change as a new attempt: --new-attempt (the instance is restored again and every step runs again; the failed attempt stays in the dossier)`,
  });
}

/**
 * A step's savepoint file, read with a guard: undefined when absent or torn (written atomically now, but a
 * kill during the write leaves only a temporary file; older versions could leave a torn file).
 */
export function readSavepointFile(file: string): Savepoint | undefined {
  return readSavepointJson(file);
}

export interface RecoverContext {
  conn: Connection;
  checkConns: Connection[];
  runDir: string;
  plan: PlanFile;
  dbs: { glpi?: string; ocs?: string };
  previous: JournalState;
  journal: Journal;
  replay: ReplaySetup;
  cache: StateCache;
  /** The journal's last event was run-interrupted (Ctrl-C or a signal), not a crash. */
  interruptedCleanly: boolean;
  /** [apply] The run is on production: a failed step's kept savepoint is undone before it runs again. */
  production?: boolean;
  say(line: string): void;
}

/** Drops savepoints no longer needed, rolls back a half-run step (journaled), proves the instance matches. */
export async function recoverForResume(r: RecoverContext): Promise<void> {
  const { conn, runDir, previous, journal } = r;
  // [apply] On production a failed step was not rolled back: its savepoint is kept, and --resume (asked for
  // by the user, announced and journaled) undoes it like an interrupted step before running it again.
  let inFlight = previous.inFlight;
  let failedKept = false;
  if (r.production && !inFlight) {
    const failed = [...previous.finished]
      .filter(([, f]) => f.status === 'failed')
      .map(([id]) => id)
      .pop();
    if (failed && fs.existsSync(path.join(runDir, 'evidence', failed, SAVEPOINT_FILE))) {
      inFlight = failed;
      failedKept = true;
    }
  }
  // Savepoints of steps that finished just before the kill: no longer needed.
  for (const id of previous.finished.keys()) {
    if (id === inFlight) continue;
    const spFile = path.join(runDir, 'evidence', id, SAVEPOINT_FILE);
    const sp = readSavepointFile(spFile);
    if (sp) await dropSavepoint(conn, sp);
    fs.rmSync(spFile, { force: true });
  }
  if (inFlight) {
    const stepId = inFlight;
    const step = r.plan.steps.find((s) => s.id === stepId);
    const spFile = path.join(runDir, 'evidence', stepId, SAVEPOINT_FILE);
    const sp = readSavepointFile(spFile);
    const cause = failedKept ? 'failed' : r.interruptedCleanly ? 'interrupted' : 'crash';
    if (sp) {
      r.say(`rolling back the ${failedKept ? 'failed' : 'interrupted'} step ${stepId}${sp.mode === 'replay' ? ' (restore of its database and replay of the steps before it)' : ''}`);
      try {
        await undo(sp, step?.database, r.replay);
        await dropSavepoint(conn, sp);
      } catch (err) {
        journal.append({ event: 'step-rolled-back', stepId, cause, mode: sp.mode ?? 'copy', ok: false, detail: (err as Error).message });
        throw err;
      }
      journal.append({ event: 'step-rolled-back', stepId, cause, mode: sp.mode ?? 'copy', ok: true });
    } else {
      // The executor starts only once the savepoint file is in place: the step never ran. Its shadow
      // database may be half made.
      const db = step ? r.dbs[step.database] : undefined;
      if (db) await conn.query(`DROP DATABASE IF EXISTS ${qi(shadowName(db))}`);
      r.say(`step ${stepId} was cut while its savepoint was being taken: it had not started, nothing to roll back`);
      journal.append({ event: 'step-rolled-back', stepId, cause, mode: 'none', ok: true, detail: 'the savepoint was not complete: the step had not started' });
    }
    fs.rmSync(spFile, { force: true });
  }
  const lastPassed = [...previous.finished.values()].filter((f) => f.fingerprint).pop();
  if (lastPassed?.fingerprint) {
    // A full pass: the exact state the next steps start from.
    const since = await serverNow(conn);
    const states: Record<string, DatabaseState> = {};
    for (const role of ['glpi', 'ocs'] as const) {
      const db = r.dbs[role];
      if (db) states[role] = await databaseState(conn, db, { conns: r.checkConns });
    }
    for (const role of ['glpi', 'ocs'] as const) {
      if (states[role]) {
        r.cache.states[role] = states[role];
        r.cache.since[role] = since;
      }
    }
    if (fingerprint(states) !== lastPassed.fingerprint) {
      throw new VerificationError('the test instance no longer matches the journal (its tables changed since the last finished step)', {
        hint: 'start the rehearsal again in a new run directory, or with --new-attempt',
      });
    }
  }
}
