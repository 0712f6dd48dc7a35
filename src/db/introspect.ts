/**
 * Read-only introspection of a server and its databases through information_schema.
 * Everything here takes a connection as a parameter and only runs SELECT/SHOW.
 */
import type { Connection, Pool } from 'mysql2/promise';
import { qi, queryRows as rows } from './connect.ts';

export type Queryable = Connection | Pool;

export interface ServerInfo {
  version: string;
  /** "MariaDB" or "MySQL". */
  flavor: 'MariaDB' | 'MySQL';
  /** Numeric x.y.z, without the distribution suffix. */
  versionNumber: string;
  sqlMode: string;
  characterSetServer: string;
  collationServer: string;
  lowerCaseTableNames: number;
  innodbPageSize: number;
  maxAllowedPacket: number;
  defaultStorageEngine: string;
}

export async function serverInfo(conn: Queryable): Promise<ServerInfo> {
  const [v] = await rows<Record<string, string | number>>(
    conn,
    `SELECT VERSION() AS version, @@GLOBAL.sql_mode AS sql_mode, @@character_set_server AS cs, @@collation_server AS coll,
            @@lower_case_table_names AS lctn, @@innodb_page_size AS page, @@max_allowed_packet AS map,
            @@default_storage_engine AS engine`,
  );
  const version = String(v.version);
  return {
    version,
    flavor: /mariadb/i.test(version) ? 'MariaDB' : 'MySQL',
    versionNumber: /^(\d+\.\d+\.\d+)/.exec(version)?.[1] ?? version,
    sqlMode: String(v.sql_mode ?? ''),
    characterSetServer: String(v.cs),
    collationServer: String(v.coll),
    lowerCaseTableNames: Number(v.lctn),
    innodbPageSize: Number(v.page),
    maxAllowedPacket: Number(v.map),
    defaultStorageEngine: String(v.engine),
  };
}

export interface TableInfo {
  name: string;
  type: 'BASE TABLE' | 'VIEW' | 'SYSTEM VIEW' | 'SEQUENCE';
  engine: string | null;
  collation: string | null;
  rowFormat: string | null;
  /** Estimated by the engine (exact for MyISAM); use countRows for an exact figure. */
  estimatedRows: number;
  dataBytes: number;
  indexBytes: number;
  autoIncrement: number | null;
}

export async function listTables(conn: Queryable, database: string): Promise<TableInfo[]> {
  const r = await rows<Record<string, unknown>>(
    conn,
    `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine, TABLE_COLLATION AS coll, ROW_FORMAT AS rf,
            TABLE_ROWS AS nrows, DATA_LENGTH AS dl, INDEX_LENGTH AS il, AUTO_INCREMENT AS ai
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
    [database],
  );
  return r.map((t) => ({
    name: String(t.name),
    type: String(t.type) as TableInfo['type'],
    engine: t.engine === null ? null : String(t.engine),
    collation: t.coll === null ? null : String(t.coll),
    rowFormat: t.rf === null ? null : String(t.rf),
    estimatedRows: Number(t.nrows ?? 0),
    dataBytes: Number(t.dl ?? 0),
    indexBytes: Number(t.il ?? 0),
    autoIncrement: t.ai === null || t.ai === undefined ? null : Number(t.ai),
  }));
}

export async function databaseExists(conn: Queryable, database: string): Promise<boolean> {
  const r = await rows<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  return Number(r[0]?.n ?? 0) > 0;
}

export async function databaseCharset(conn: Queryable, database: string): Promise<{ charset: string; collation: string } | undefined> {
  const r = await rows<{ cs: string; coll: string }>(conn, 'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS coll FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
    database,
  ]);
  return r[0] ? { charset: r[0].cs, collation: r[0].coll } : undefined;
}

export async function countRows(conn: Queryable, database: string, table: string): Promise<number> {
  const r = await rows<{ n: number | string }>(conn, `SELECT COUNT(*) AS n FROM ${qi(database)}.${qi(table)}`);
  return Number(r[0]?.n ?? 0);
}

export async function tableExists(conn: Queryable, database: string, table: string): Promise<boolean> {
  const r = await rows<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, table]);
  return Number(r[0]?.n ?? 0) > 0;
}

export async function columnNames(conn: Queryable, database: string, table: string): Promise<string[]> {
  const r = await rows<{ c: string }>(conn, 'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [database, table]);
  return r.map((x) => x.c);
}

/** `CHECKSUM TABLE` of each table (null for a table the server cannot checksum, e.g. a view). */
export async function checksumTables(conn: Queryable, database: string, tables: string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const t of tables) {
    const r = await rows<{ Checksum: string | number | null }>(conn, `CHECKSUM TABLE ${qi(database)}.${qi(t)}`);
    const c = r[0]?.Checksum;
    out.set(t, c === null || c === undefined ? null : String(c));
  }
  return out;
}
