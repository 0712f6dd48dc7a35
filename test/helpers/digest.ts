/**
 * A live table's content digest, computed the way the snapshot does (src/snapshot/digest.ts), with the column
 * list read from information_schema: tests compare it with a manifest's `digest`.
 */
import type { Connection } from '../../src/db/connect.ts';
import { readTableDigest } from '../../src/snapshot/digest.ts';
import type { ManifestColumn } from '../../src/snapshot/manifest-types.ts';
import { columnEncoding } from '../../src/snapshot/tsv.ts';

export async function liveColumns(conn: Connection, db: string, table: string): Promise<ManifestColumn[]> {
  const [r] = await conn.query(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, COLUMN_TYPE AS columnType FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  return (r as Array<{ name: string; type: string; columnType: string }>).map((c) => ({ name: c.name, encoding: columnEncoding(c.type, c.columnType) }));
}

/** `{ rows, digest }` of a live table. */
export async function liveDigest(conn: Connection, db: string, table: string): Promise<{ rows: number; digest: string }> {
  return readTableDigest(conn, db, table, await liveColumns(conn, db, table));
}
