/**
 * The one reader of `journal.jsonl` (a run directory's journal), shared by `rehearse --resume`, `dossier`,
 * `dat` and `ci`, and the state derived from it. Format: one JSON object per line, each with `t` (ISO time)
 * and `event`; documented in docs/formats.md.
 *
 * A torn last line (the process was killed while appending it: no final newline, not valid JSON) is
 * tolerated and reported in `torn`; any other line that is not a valid event is corruption: a
 * VerificationError naming the file and the line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VerificationError, fromSystemError } from '../errors.ts';
import { anomaly, planDifference as planDifferenceSchema, preCheck, rollbackRecord, stepResult, stepStatus } from './run-file.ts';
import type { Anomaly, PlanDifference, RollbackRecord, RunAttempt, StepResult, StepStatus } from './run-file.ts';
import { describeIssue, orderLike, z } from './schema.ts';

export const JOURNAL_FILE = 'journal.jsonl';

const t = z.string();
const pid = z.number().optional();

/** One line of the journal: `t` (ISO time), `event`, and the event's fields. */
export const journalEvent = z.discriminatedUnion('event', [
  z.object({
    t,
    event: z.literal('run-started'),
    runId: z.string(),
    plan: z.string(),
    snapshot: z.string(),
    instance: z.string(),
    /** sha256 of the plan file and its step ids/hashes (absent in journals written before plans were pinned). */
    planSha256: z.string().optional(),
    steps: z.array(z.string()).optional(),
    stepHashes: z.array(z.string()).optional(),
    pid,
  }),
  z.object({
    t,
    event: z.literal('attempt-started'),
    attempt: z.number(),
    planSha256: z.string(),
    steps: z.array(z.string()),
    stepHashes: z.array(z.string()),
    changes: planDifferenceSchema,
    /** The instance of this attempt (a new embedded one when the run's own one was gone). */
    instance: z.string().optional(),
    reason: z.string().optional(),
    pid,
  }),
  z.object({ t, event: z.literal('resumed'), pid, attempt: z.number().optional() }),
  z.object({ t, event: z.literal('restore-finished'), tables: z.number(), ok: z.boolean(), preChecks: z.array(preCheck).optional() }),
  z.object({ t, event: z.literal('step-started'), stepId: z.string() }),
  z.object({
    t,
    event: z.literal('step-finished'),
    stepId: z.string(),
    status: stepStatus,
    durationMs: z.number(),
    fingerprint: z.string().optional(),
    /** The step's full result and anomalies: run.yaml is derived from these. */
    result: stepResult.optional(),
    anomalies: z.array(anomaly).optional(),
  }),
  rollbackRecord.extend({ t, event: z.literal('step-rolled-back') }),
  z.object({ t, event: z.literal('process-started'), stepId: z.string(), pid: z.number(), startTime: z.number().optional(), command: z.string() }),
  z.object({ t, event: z.literal('process-finished'), stepId: z.string(), pid: z.number(), exitCode: z.number() }),
  z.object({ t, event: z.literal('process-stopped'), stepId: z.string().optional(), pid: z.number(), signal: z.string(), connectionsKilled: z.number() }),
  z.object({ t, event: z.literal('sessions-killed'), ids: z.array(z.number()) }),
  z.object({ t, event: z.literal('lock-taken-over'), lock: z.enum(['run', 'instance']), holderPid: z.number(), holderStarted: z.string().optional() }),
  z.object({ t, event: z.literal('journal-repaired'), line: z.number(), bytes: z.number() }),
  z.object({ t, event: z.literal('run-interrupted'), stepId: z.string().optional(), signal: z.string() }),
  z.object({ t, event: z.literal('run-finished'), complete: z.boolean() }),
  /** [apply] The pre-apply backup of production, taken (or checked) before the first write. */
  z.object({ t, event: z.literal('backup-ready'), backupId: z.string(), backupDir: z.string(), taken: z.boolean() }),
]);

export type JournalEvent = z.infer<typeof journalEvent>;

export interface JournalRead {
  events: JournalEvent[];
  /** The torn last line, if any: 1-based line number, its bytes, and the byte offset where it starts. */
  torn?: { line: number; bytes: number; offset: number };
}

export function parseJournal(text: string, label = JOURNAL_FILE): JournalRead {
  const events: JournalEvent[] = [];
  const lines = text.split('\n');
  // With a final newline, split() ends with an empty string; without one, the last element is unterminated.
  const unterminated = lines.length > 0 && lines[lines.length - 1] !== '' ? lines.length - 1 : -1;
  let offset = 0;
  let torn: JournalRead['torn'];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const start = offset;
    offset += Buffer.byteLength(line) + 1;
    if (line.trim() === '') continue;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      if (i === unterminated) {
        torn = { line: i + 1, bytes: Buffer.byteLength(line), offset: start };
        continue;
      }
      throw new VerificationError(`${label} line ${i + 1}: not valid JSON (the journal is corrupt)`, {
        hint: 'a journal is only ever appended to: a bad line before the last one means the file was edited or damaged; keep it as evidence and rehearse again in a new run directory',
      });
    }
    const r = journalEvent.safeParse(ev, { reportInput: true });
    if (!r.success) {
      throw new VerificationError(`${label} line ${i + 1}: ${describeIssue(r.error.issues[0])}`, {
        hint: 'a journal is only ever appended to by this tool: keep it as evidence and rehearse again in a new run directory',
      });
    }
    events.push(orderLike(ev, r.data) as JournalEvent);
  }
  return { events, torn };
}

export function readJournalFile(file: string): JournalRead {
  if (!fs.existsSync(file)) return { events: [] };
  return parseJournal(fs.readFileSync(file, 'utf8'), path.basename(file));
}

/** The one writer: appends one event as a line and fsyncs it (a crash leaves at worst a torn last line). */
export function appendJournalEvent(file: string, event: JournalEvent): void {
  const line = `${JSON.stringify(event)}\n`;
  try {
    const fd = fs.openSync(file, 'a');
    try {
      fs.writeSync(fd, line);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw fromSystemError(err, 'writing the run journal') ?? err;
  }
}

/** Cuts a torn last line off the journal (so that the next append starts on a line of its own). */
export function truncateTornLine(file: string, torn: NonNullable<JournalRead['torn']>): void {
  fs.truncateSync(file, torn.offset);
}

/** A short stable hash of one plan step (its whole definition), to tell an edited step from an unchanged one. */
export interface PinnedPlan {
  planSha256: string;
  steps: string[];
  stepHashes: string[];
}

export function planDifference(was: Pick<PinnedPlan, 'steps' | 'stepHashes'>, now: Pick<PinnedPlan, 'steps' | 'stepHashes'>): PlanDifference {
  const before = new Map(was.steps.map((id, i) => [id, was.stepHashes[i]]));
  const after = new Map(now.steps.map((id, i) => [id, now.stepHashes[i]]));
  const added = now.steps.filter((id) => !before.has(id));
  const removed = was.steps.filter((id) => !after.has(id));
  const changed = now.steps.filter((id) => before.has(id) && before.get(id) !== undefined && before.get(id) !== after.get(id));
  const commonWas = was.steps.filter((id) => after.has(id));
  const commonNow = now.steps.filter((id) => before.has(id));
  const moved = commonNow.filter((id, i) => commonWas[i] !== id);
  return { added, removed, changed, moved };
}

export function isSamePlan(d: PlanDifference): boolean {
  return d.added.length + d.removed.length + d.changed.length + d.moved.length === 0;
}

export interface JournalState {
  runId?: string;
  plan?: string;
  snapshot?: string;
  instance?: string;
  /** The plan the current attempt runs (absent for journals written before plans were pinned). */
  pinned?: PinnedPlan;
  /** Current attempt number (1 for the first run). */
  attempt: number;
  restored: boolean;
  preChecks?: Array<NonNullable<Extract<JournalEvent, { event: 'restore-finished' }>['preChecks']>[number]>;
  /** Last status per step id of the current attempt, in the order steps finished. */
  finished: Map<string, { status: StepStatus; fingerprint?: string; result?: StepResult; anomalies?: Anomaly[] }>;
  /** A step that started and never finished (interrupted or crashed mid-step). */
  inFlight?: string;
  /** External processes started by a step and not recorded as finished or stopped (possible orphans). */
  openProcesses: Array<{ stepId: string; pid: number; startTime?: number; command: string }>;
  complete: boolean;
  attempts: RunAttempt[];
  rollbacks: RollbackRecord[];
}

export function journalState(events: JournalEvent[]): JournalState {
  const state: JournalState = { attempt: 0, restored: false, finished: new Map(), complete: false, openProcesses: [], attempts: [], rollbacks: [] };
  const current = () => state.attempts[state.attempts.length - 1];
  const closeCurrent = (outcome: RunAttempt['outcome']) => {
    const a = current();
    if (a && a.outcome === 'running') a.outcome = outcome;
  };
  for (const e of events) {
    switch (e.event) {
      case 'run-started':
        state.runId ??= e.runId;
        state.plan = e.plan;
        state.snapshot = e.snapshot;
        state.instance = e.instance;
        if (e.planSha256 && e.steps && e.stepHashes) state.pinned = { planSha256: e.planSha256, steps: e.steps, stepHashes: e.stepHashes };
        state.attempt = 1;
        state.attempts.push({ attempt: 1, startedAt: e.t, planSha256: e.planSha256, steps: e.steps?.length, outcome: 'running', failedSteps: [] });
        break;
      case 'attempt-started':
        closeCurrent('abandoned');
        state.pinned = { planSha256: e.planSha256, steps: e.steps, stepHashes: e.stepHashes };
        state.attempt = e.attempt;
        if (e.instance) state.instance = e.instance;
        state.restored = false;
        state.finished = new Map();
        state.inFlight = undefined;
        state.complete = false;
        state.preChecks = undefined;
        state.attempts.push({ attempt: e.attempt, startedAt: e.t, planSha256: e.planSha256, steps: e.steps.length, outcome: 'running', failedSteps: [], planChanges: e.changes, reason: e.reason });
        break;
      case 'resumed': {
        const a = current();
        if (a && a.outcome !== 'complete') a.outcome = 'running';
        break;
      }
      case 'restore-finished':
        state.restored = e.ok;
        // Journals written before messages existed hold the pre-checks' texts as English strings with French
        // twins: the event's schema (run-file.ts preCheck) has read them into messages.
        if (e.preChecks) state.preChecks = e.preChecks;
        break;
      case 'step-started':
        state.inFlight = e.stepId;
        break;
      case 'step-finished': {
        state.finished.set(e.stepId, { status: e.status, fingerprint: e.fingerprint, result: e.result, anomalies: e.anomalies });
        if (state.inFlight === e.stepId) state.inFlight = undefined;
        const a = current();
        if (a && e.status === 'failed' && !a.failedSteps.includes(e.stepId)) a.failedSteps.push(e.stepId);
        break;
      }
      case 'step-rolled-back': {
        const { t: _t, event: _e, ...record } = e;
        state.rollbacks.push(record);
        if (state.inFlight === e.stepId && e.ok) state.inFlight = undefined;
        break;
      }
      case 'process-started':
        state.openProcesses.push({ stepId: e.stepId, pid: e.pid, startTime: e.startTime, command: e.command });
        break;
      case 'process-finished':
      case 'process-stopped':
        state.openProcesses = state.openProcesses.filter((p) => p.pid !== e.pid);
        break;
      case 'run-interrupted':
        closeCurrent('interrupted');
        break;
      case 'run-finished': {
        state.complete = e.complete;
        const a = current();
        if (a) a.outcome = e.complete ? 'complete' : a.failedSteps.length > 0 && [...state.finished.values()].some((f) => f.status === 'failed') ? 'failed' : 'incomplete';
        break;
      }
      default:
        break;
    }
  }
  return state;
}
