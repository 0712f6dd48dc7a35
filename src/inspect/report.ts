/**
 * The `inspect` report: server, GLPI and OCS databases, their versions, engines, collations, sizes, rows.
 */
import type { Queryable, ServerInfo, TableInfo } from '../db/introspect.ts';
import { countRows, databaseCharset, databaseExists, listTables, serverInfo } from '../db/introspect.ts';
import { NotFoundError, UnsupportedError } from '../errors.ts';
import type { ConnectorInfo, DatabaseKind, GlpiVersionInfo, OcsVersionInfo } from './detect.ts';
import { classifyDatabase, detectConnector, detectGlpiVersion, detectOcsVersion } from './detect.ts';

export interface GroupStat {
  tables: number;
  rows: number;
  bytes: number;
}

export interface TableReport {
  name: string;
  engine: string | null;
  collation: string | null;
  rows: number;
  rowsExact: boolean;
  dataBytes: number;
  indexBytes: number;
}

export interface DatabaseReport {
  database: string;
  kind: DatabaseKind;
  charset?: string;
  collation?: string;
  tableCount: number;
  rows: number;
  dataBytes: number;
  indexBytes: number;
  byEngine: Record<string, GroupStat>;
  byCollation: Record<string, GroupStat>;
  tables: TableReport[];
}

export interface GlpiReport extends DatabaseReport {
  version: GlpiVersionInfo;
  connector: ConnectorInfo;
}

export interface OcsReport extends DatabaseReport {
  version: OcsVersionInfo;
}

export interface InspectReport {
  format: 1;
  server: ServerInfo;
  glpi?: GlpiReport;
  ocs?: OcsReport;
}

export interface InspectOptions {
  /** COUNT(*) every table (default: exact for MyISAM/Aria/MEMORY, engine estimate for InnoDB). */
  exactRows?: boolean;
}

const EXACT_CHEAP = new Set(['MyISAM', 'Aria', 'MEMORY', 'MRG_MyISAM']);

async function tableReports(conn: Queryable, database: string, tables: TableInfo[], exact: boolean): Promise<TableReport[]> {
  const out: TableReport[] = [];
  for (const t of tables) {
    if (t.type !== 'BASE TABLE') continue;
    const precise = exact || EXACT_CHEAP.has(t.engine ?? '');
    out.push({
      name: t.name,
      engine: t.engine,
      collation: t.collation,
      rows: precise ? await countRows(conn, database, t.name) : t.estimatedRows,
      rowsExact: precise,
      dataBytes: t.dataBytes,
      indexBytes: t.indexBytes,
    });
  }
  return out;
}

function group(tables: TableReport[], key: (t: TableReport) => string): Record<string, GroupStat> {
  const out: Record<string, GroupStat> = {};
  for (const t of tables) {
    const k = key(t);
    out[k] ??= { tables: 0, rows: 0, bytes: 0 };
    const g = out[k];
    g.tables++;
    g.rows += t.rows;
    g.bytes += t.dataBytes + t.indexBytes;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

async function databaseReport(conn: Queryable, database: string, options: InspectOptions): Promise<DatabaseReport> {
  if (!(await databaseExists(conn, database))) throw new NotFoundError(`database "${database}" does not exist`);
  const kind = await classifyDatabase(conn, database);
  const cs = await databaseCharset(conn, database);
  const tables = await tableReports(conn, database, await listTables(conn, database), options.exactRows ?? false);
  return {
    database,
    kind,
    charset: cs?.charset,
    collation: cs?.collation,
    tableCount: tables.length,
    rows: tables.reduce((s, t) => s + t.rows, 0),
    dataBytes: tables.reduce((s, t) => s + t.dataBytes, 0),
    indexBytes: tables.reduce((s, t) => s + t.indexBytes, 0),
    byEngine: group(tables, (t) => t.engine ?? 'none'),
    byCollation: group(tables, (t) => t.collation ?? 'none'),
    tables,
  };
}

function refuseKind(database: string, kind: DatabaseKind, expected: 'GLPI' | 'OCS'): never {
  if (kind === 'empty') throw new UnsupportedError(`database "${database}" is empty: no tables to inspect`);
  throw new UnsupportedError(`database "${database}" is not a${expected === 'OCS' ? 'n' : ''} ${expected} database`, {
    hint: expected === 'GLPI' ? 'a GLPI database has a glpi_configs table' : 'an OCS database has the config and hardware tables',
  });
}

export async function inspectGlpi(conn: Queryable, database: string, options: InspectOptions = {}): Promise<GlpiReport> {
  const base = await databaseReport(conn, database, options);
  if (base.kind !== 'glpi') refuseKind(database, base.kind, 'GLPI');
  return { ...base, version: await detectGlpiVersion(conn, database), connector: await detectConnector(conn, database) };
}

export async function inspectOcs(conn: Queryable, database: string, options: InspectOptions = {}): Promise<OcsReport> {
  const base = await databaseReport(conn, database, options);
  if (base.kind !== 'ocs') refuseKind(database, base.kind, 'OCS');
  return { ...base, version: await detectOcsVersion(conn, database) };
}

export async function inspectServer(conn: Queryable): Promise<ServerInfo> {
  return serverInfo(conn);
}
