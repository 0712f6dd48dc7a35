/**
 * Where a restored database comes from, written by `restore` as the database's comment (MariaDB ≥ 10.5 keeps
 * a COMMENT on CREATE DATABASE, in information_schema.SCHEMATA.SCHEMA_COMMENT) and read back by later stages:
 * the audit's GLPI–OCS link checks say when GLPI and OCS were not copied at one instant.
 *
 *   glpi-ocs-upgrade snapshot <id>; instants=one|separate|unknown
 */
import type { Queryable } from '../db/introspect.ts';
import type { Manifest } from './manifest-types.ts';

export const SNAPSHOT_COMMENT_PREFIX = 'glpi-ocs-upgrade snapshot ';

export interface SnapshotOrigin {
  snapshotId: string;
  /** one: GLPI and OCS frozen at one instant; separate: not; unknown: a snapshot older than that record. */
  instants: 'one' | 'separate' | 'unknown';
}

/** The comment restore gives each database it creates. */
export function originComment(m: Manifest): string {
  const instants = m.consistency?.instants ?? (m.databases.length > 1 ? 'unknown' : 'one');
  return `${SNAPSHOT_COMMENT_PREFIX}${m.id}; instants=${instants}`;
}

export function parseOrigin(comment: string | null | undefined): SnapshotOrigin | undefined {
  const m = /^glpi-ocs-upgrade snapshot ([0-9a-f]*); instants=(one|separate|unknown)$/.exec(comment ?? '');
  return m ? { snapshotId: m[1], instants: m[2] as SnapshotOrigin['instants'] } : undefined;
}

/** The origin of a database restored from a snapshot; undefined for any other database (or an older server). */
export async function snapshotOrigin(conn: Queryable, database: string): Promise<SnapshotOrigin | undefined> {
  try {
    const [rows] = await conn.query('SELECT SCHEMA_COMMENT AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
    const c = (rows as Array<{ c: unknown }>)[0]?.c;
    return parseOrigin(Buffer.isBuffer(c) ? c.toString('utf8') : typeof c === 'string' ? c : undefined);
  } catch {
    return undefined;
  }
}
