/**
 * [apply] The structure (src/db/schema.ts) and per-table row counts / CHECKSUM TABLE of the run's databases,
 * written to the run directory at two moments: right after the snapshot was restored (evidence/
 * structure-before.json: what `apply` requires production to still be) and at the end of a complete run
 * (evidence/final-state.json: what `apply` must end equal to). The format, its reader and its atomic writer are
 * in src/formats/recorded-state.ts.
 */
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { SchemaShape } from '../db/schema.ts';
import { describeSchema } from '../db/schema.ts';
import type { RecordedDatabase, RecordedState } from '../formats/recorded-state.ts';
import { writeRecordedState } from '../formats/recorded-state.ts';
import type { DatabaseState } from './checks.ts';

export const STRUCTURE_BEFORE_FILE = path.join('evidence', 'structure-before.json');
export const FINAL_STATE_FILE = path.join('evidence', 'final-state.json');

export type { RecordedDatabase, RecordedState } from '../formats/recorded-state.ts';
export { readRecordedState, writeRecordedState } from '../formats/recorded-state.ts';

export function shapeOf(db: RecordedDatabase): SchemaShape {
  return new Map(db.structure.map((t) => [t.name, t]));
}

export async function captureState(conn: Connection, dbs: { glpi?: string; ocs?: string }, states?: Partial<Record<'glpi' | 'ocs', DatabaseState>>): Promise<RecordedState> {
  const out: RecordedState = { format: 1, databases: {} };
  for (const role of ['glpi', 'ocs'] as const) {
    const name = dbs[role];
    if (!name) continue;
    const shape = await describeSchema(conn, name);
    const state = states?.[role];
    out.databases[role] = {
      name,
      structure: [...shape.values()],
      tables: state ? Object.fromEntries([...state].map(([t, s]) => [t, { rows: s.rows, checksum: s.checksum }])) : undefined,
    };
  }
  return out;
}

/** Called by the runner at the end of a complete run. */
export async function recordFinalState(conn: Connection, dbs: { glpi?: string; ocs?: string }, states: Partial<Record<'glpi' | 'ocs', DatabaseState>>, runDir: string): Promise<void> {
  writeRecordedState(path.join(runDir, FINAL_STATE_FILE), await captureState(conn, dbs, states));
}

/** Called by the runner right after the snapshot was restored. */
export async function recordStructureBefore(conn: Connection, dbs: { glpi?: string; ocs?: string }, runDir: string): Promise<void> {
  writeRecordedState(path.join(runDir, STRUCTURE_BEFORE_FILE), await captureState(conn, dbs));
}
