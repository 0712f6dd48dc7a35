/**
 * The run journal: `journal.jsonl` in the run directory, one event per line, appended and fsync'd as things
 * happen, so that a crash or Ctrl-C leaves an exact record of what finished (umzug-style storage of what ran).
 */
import fs from 'node:fs';
import path from 'node:path';
import { VerificationError, fromSystemError } from '../errors.ts';
import type { JournalEvent, StepStatus } from './run-types.ts';

export const JOURNAL_FILE = 'journal.jsonl';

type EventBody = JournalEvent extends infer E ? (E extends { t: string } ? Omit<E, 't'> : never) : never;

export class Journal {
  readonly file: string;
  private readonly clock: () => Date;

  constructor(runDir: string, clock: () => Date = () => new Date()) {
    this.file = path.join(runDir, JOURNAL_FILE);
    this.clock = clock;
  }

  append(event: EventBody): void {
    const line = JSON.stringify({ t: this.clock().toISOString(), ...event }) + '\n';
    try {
      const fd = fs.openSync(this.file, 'a');
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

  read(): JournalEvent[] {
    if (!fs.existsSync(this.file)) return [];
    const text = fs.readFileSync(this.file, 'utf8');
    const out: JournalEvent[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        out.push(JSON.parse(line) as JournalEvent);
      } catch {
        // A torn last line (crash while writing) is ignored; a torn line in the middle is corruption.
        if (i < lines.length - 2) throw new VerificationError(`${this.file}: line ${i + 1} is not valid JSON`);
      }
    });
    return out;
  }
}

export interface JournalState {
  runId?: string;
  plan?: string;
  snapshot?: string;
  instance?: string;
  restored: boolean;
  /** Last status per step id, in the order steps finished. */
  finished: Map<string, { status: StepStatus; fingerprint?: string }>;
  /** A step that started and never finished (interrupted or crashed mid-step). */
  inFlight?: string;
  complete: boolean;
}

export function journalState(events: JournalEvent[]): JournalState {
  const state: JournalState = { restored: false, finished: new Map(), complete: false };
  for (const e of events) {
    switch (e.event) {
      case 'run-started':
        state.runId ??= e.runId;
        state.plan = e.plan;
        state.snapshot = e.snapshot;
        state.instance = e.instance;
        break;
      case 'restore-finished':
        state.restored = e.ok;
        break;
      case 'step-started':
        state.inFlight = e.stepId;
        break;
      case 'step-finished':
        state.finished.set(e.stepId, { status: e.status, fingerprint: e.fingerprint });
        if (state.inFlight === e.stepId) state.inFlight = undefined;
        break;
      case 'run-finished':
        state.complete = e.complete;
        break;
      default:
        break;
    }
  }
  return state;
}
