/**
 * The run journal: `journal.jsonl` in the run directory, one event per line, appended and fsync'd as things
 * happen, so that a crash or Ctrl-C leaves an exact record of what finished (umzug-style storage of what ran).
 * It is the single truth of a run: run.yaml is derived from it. Reading goes through the one shared reader
 * (src/formats/journal.ts), also used by `dossier`, `dat` and `ci`.
 */
import path from 'node:path';
import type { JournalEvent } from './run-types.ts';
import { JOURNAL_FILE, appendJournalEvent, readJournalFile, truncateTornLine } from '../formats/journal.ts';
import type { JournalRead } from '../formats/journal.ts';

export { JOURNAL_FILE, journalState } from '../formats/journal.ts';
export type { JournalState } from '../formats/journal.ts';

type EventBody = JournalEvent extends infer E ? (E extends { t: string } ? Omit<E, 't'> : never) : never;

export class Journal {
  readonly file: string;
  private readonly clock: () => Date;

  constructor(runDir: string, clock: () => Date = () => new Date()) {
    this.file = path.join(runDir, JOURNAL_FILE);
    this.clock = clock;
  }

  append(event: EventBody): void {
    appendJournalEvent(this.file, { t: this.clock().toISOString(), ...event });
  }

  /** The events (a torn last line is left out: see readWithDamage). */
  read(): JournalEvent[] {
    return readJournalFile(this.file).events;
  }

  readWithDamage(): JournalRead {
    return readJournalFile(this.file);
  }

  /**
   * Before appending to a journal whose last line is torn: cuts that line off and records the repair, so
   * that the next event does not land on the torn line (which would turn it into a corrupt middle line).
   */
  repair(torn: NonNullable<JournalRead['torn']>): void {
    truncateTornLine(this.file, torn);
    this.append({ event: 'journal-repaired', line: torn.line, bytes: torn.bytes });
  }
}
