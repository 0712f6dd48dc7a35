/**
 * The recorded structure and state of a run's databases (docs/formats.md): `evidence/structure-before.json`
 * (right after the snapshot was restored) and `evidence/final-state.json` (end of a complete run, rewritten by
 * `apply`). Format 1, plain JSON. The schema, its types, the one reader and the one atomic writer. A file that
 * is present but corrupt or of another shape is a VerificationError (exit 5) naming the file and the path in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VerificationError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { checkFormat, parseDocument, readText, z } from './schema.ts';

export const RECORDED_STATE_FORMAT = 1;

/** src/db/schema.ts's ColumnShape, IndexShape, TableShape (src/rehearse/final-state.ts assigns them both ways). */
const column = z.object({
  name: z.string(),
  position: z.number(),
  type: z.string(),
  nullable: z.boolean(),
  default: z.string().nullable(),
  charset: z.string().nullable(),
  collation: z.string().nullable(),
  extra: z.string(),
});

const index = z.object({
  name: z.string(),
  unique: z.boolean(),
  /** Column names with prefix lengths, e.g. ["name(100)", "id"]. */
  columns: z.array(z.string()),
  type: z.string(),
});

const table = z.object({
  name: z.string(),
  engine: z.string().nullable(),
  collation: z.string().nullable(),
  columns: z.array(column),
  indexes: z.array(index),
});

export const recordedDatabase = z.object({
  name: z.string(),
  structure: z.array(table),
  /** Per base table: exact rows and CHECKSUM TABLE (final state only). */
  tables: z.record(z.string(), z.object({ rows: z.number(), checksum: z.string().nullable() })).optional(),
});

export const recordedStateSchema = z.object({
  format: z.literal(RECORDED_STATE_FORMAT),
  databases: z.object({ glpi: recordedDatabase.optional(), ocs: recordedDatabase.optional() }),
});

export type RecordedDatabase = z.infer<typeof recordedDatabase>;
export type RecordedState = z.infer<typeof recordedStateSchema>;

const invalid = (message: string) => new VerificationError(message);

/** The recorded state in `file`, or undefined when there is no such file. */
export function readRecordedState(file: string): RecordedState | undefined {
  if (!fs.existsSync(file)) return undefined;
  const text = readText(file, () => invalid(`${file}: not a readable file`));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  checkFormat(doc, file, RECORDED_STATE_FORMAT, invalid);
  return parseDocument(recordedStateSchema, doc, file, invalid);
}

/** Writes `state` to `file` atomically (its directory created if needed). */
export function writeRecordedState(file: string, state: RecordedState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(state));
}
