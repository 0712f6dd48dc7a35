/**
 * What a check sees: the GLPI and/or OCS database (a connection plus a database name), the audit options,
 * and memoised facts every check may need (versions, connector form, tables, columns, a one-pass column
 * profile, reference schemas). Everything here only reads: SELECT, SHOW, information_schema.
 *
 * The column profile is the expensive part, so it is computed once per database with one full scan per
 * table (every counter of every column in a single SELECT), then shared by the zero-date, 2038, id-range
 * and double-encoding checks.
 */
import type { Queryable, TableInfo, ServerInfo } from '../db/introspect.ts';
import { databaseCharset, listTables, serverInfo } from '../db/introspect.ts';
import { qi } from '../db/connect.ts';
import type { ConnectorInfo, GlpiVersionInfo, OcsVersionInfo } from '../inspect/detect.ts';
import { detectConnector, detectGlpiVersion, detectOcsVersion } from '../inspect/detect.ts';
import type { ReferenceProvider, ReferenceResult } from './reference.ts';
import type { Message } from '../i18n/messages.ts';
import { msg } from '../i18n/messages.ts';

/** Skip reasons shared by several checks. */
export const NO_CONNECTOR_TABLES: Message = msg('audit.skip.no-connector-tables', {});
export const OCS_GUI_VERSION_UNKNOWN: Message = msg('audit.skip.gui-version-unknown', {});
export const NO_OCS_SERVER: Message = msg('audit.skip.no-ocs-server', {});

export interface AuditDb {
  conn: Queryable;
  database: string;
  /** Address for the record (no password). */
  address?: string;
}

export interface AuditOptions {
  /** A link is stale when OCS has an inventory newer than the last GLPI synchronisation by more than this. */
  staleDays: number;
  /** The GLPI profile whose user will install the ocsinventoryng plugin (it keeps its OCS rights). */
  installerProfileId: number;
  /** Which glpi_ocsservers row describes the OCS database given (default: the only one, or the one whose ocs_db_name matches). */
  ocsServerId?: number;
  /** How many sample keys evidence carries. */
  samples: number;
}

export const DEFAULT_AUDIT_OPTIONS: AuditOptions = { staleDays: 30, installerProfileId: 4, samples: 5 };

export interface ColumnInfo {
  table: string;
  column: string;
  dataType: string;
  columnType: string;
  charset: string | null;
  collation: string | null;
  nullable: boolean;
  default: string | null;
}

export interface ColumnCounters {
  zeroDates?: number;
  after2038?: number;
  negative?: number;
  oversized?: number;
  doubleEncoded?: number;
  /** U+FFFD replacement characters: text that went through a lossy conversion. */
  replacementChars?: number;
  /** UTF-8 byte sequences stored in a latin1 column. */
  latin1HoldingUtf8?: number;
  /** TEXT values within 1 KB of the 65,535-byte limit (likely truncated), MEDIUMTEXT/LONGTEXT values of 1 MiB or more. */
  largeValues?: number;
}

/** table → column → counters (only columns with at least one counter computed appear). */
export type ColumnProfile = Map<string, Map<string, ColumnCounters>>;

export interface LinkTables {
  mode: 'core-0.83' | 'renamed-0.84' | 'plugin';
  links: string;
  servers: string;
  /** Column of the links table naming the server. */
  serverColumn: string;
}

const DATE_TYPES = new Set(['date', 'datetime', 'timestamp']);
const INT_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint']);
const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext']);

/** Integer columns that hold ids: `id`, `*_id`, `*_id_N` (GLPI's foreign key naming). */
export function isIdColumn(c: ColumnInfo): boolean {
  return INT_TYPES.has(c.dataType) && c.dataType !== 'tinyint' && (c.column === 'id' || /_id(_\d+)?$/.test(c.column) || /_id_[a-z]+$/.test(c.column));
}

/**
 * Byte sequences of UTF-8 text that was read as latin1 (MySQL's latin1 = cp1252) and written again as
 * UTF-8: "é" (C3 A9) becomes "Ã©" (C3 83 C2 A9), "É" (C3 89) becomes "Ã‰" (C3 83 E2 80 B0), "°" (C2 B0)
 * becomes "Â°" (C3 82 C2 B0)… i.e. Ã or Â followed by a character whose UTF-8 starts with C2, C5, C6, CB or E2.
 */
export const DOUBLE_ENCODED_PATTERNS = [
  'C383C2',
  'C383C5',
  'C383C6',
  'C383CB',
  'C383E2',
  'C382C2',
  // Three- and four-byte characters: ’ “ ” … – (E2 80 xx) → "â€", € (E2 82 AC) → "â‚¬", emoji (F0 9F …) → "ðŸ".
  'C3A2E282AC',
  'C3A2E2809A',
  'C3B0C5B8',
];

/**
 * UTF-8 encodings of the accented letters of French and common symbols, plus the lead bytes of emoji, as they
 * appear when UTF-8 bytes were stored in a latin1 column: "é" shows as "Ã©" (bytes C3 A9).
 */
export const UTF8_IN_LATIN1_PATTERNS = [
  'C3A0',
  'C3A2',
  'C3A4',
  'C3A7',
  'C3A8',
  'C3A9',
  'C3AA',
  'C3AB',
  'C3AE',
  'C3AF',
  'C3B4',
  'C3B6',
  'C3B9',
  'C3BB',
  'C3BC',
  'C380',
  'C387',
  'C388',
  'C389',
  'C38A',
  'C2B0',
  'C2A0',
  'E282AC',
  'E28099',
  'F09F',
];

export function bytePatternsPredicate(col: string, patterns: string[]): string {
  return `(${patterns.map((p) => `LOCATE(X'${p}', BINARY ${col}) > 0`).join(' OR ')})`;
}

export function doubleEncodedPredicate(col: string): string {
  return bytePatternsPredicate(col, DOUBLE_ENCODED_PATTERNS);
}

export function zeroDatePredicate(col: string): string {
  return `(${col} IS NOT NULL AND (MONTH(${col}) = 0 OR DAYOFMONTH(${col}) = 0))`;
}

/** Last second a TIMESTAMP can hold. */
export const TIMESTAMP_MAX = '2038-01-19 03:14:07';

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export class AuditContext {
  readonly glpi?: AuditDb;
  readonly ocs?: AuditDb;
  readonly options: AuditOptions;
  readonly references?: ReferenceProvider;

  constructor(glpi: AuditDb | undefined, ocs: AuditDb | undefined, options: Partial<AuditOptions> = {}, references?: ReferenceProvider) {
    this.glpi = glpi;
    this.ocs = ocs;
    this.options = { ...DEFAULT_AUDIT_OPTIONS, ...options };
    this.references = references;
  }

  /** `db`.`table`, quoted. */
  t(which: 'glpi' | 'ocs', table: string): string {
    const db = which === 'glpi' ? this.glpi : this.ocs;
    if (!db) throw new Error(`no ${which} database in this audit`);
    return `${qi(db.database)}.${qi(table)}`;
  }

  async rows<T = Record<string, unknown>>(which: 'glpi' | 'ocs', sql: string, params: unknown[] = []): Promise<T[]> {
    const db = which === 'glpi' ? this.glpi : this.ocs;
    if (!db) throw new Error(`no ${which} database in this audit`);
    const [r] = await db.conn.query(sql, params);
    return r as T[];
  }

  async count(which: 'glpi' | 'ocs', sql: string, params: unknown[] = []): Promise<number> {
    const r = await this.rows<Record<string, unknown>>(which, sql, params);
    const first = r[0];
    if (!first) return 0;
    return Number(Object.values(first)[0] ?? 0);
  }

  readonly glpiVersion = memo<GlpiVersionInfo>(() => detectGlpiVersion(this.glpi!.conn, this.glpi!.database));
  readonly connector = memo<ConnectorInfo>(() => detectConnector(this.glpi!.conn, this.glpi!.database));
  readonly ocsVersion = memo<OcsVersionInfo>(() => detectOcsVersion(this.ocs!.conn, this.ocs!.database));
  readonly glpiServerInfo = memo<ServerInfo>(() => serverInfo(this.glpi!.conn));
  readonly ocsServerInfo = memo<ServerInfo>(() => serverInfo(this.ocs!.conn));

  readonly glpiTables = memo(async () => tableMap(await listTables(this.glpi!.conn, this.glpi!.database)));
  readonly ocsTables = memo(async () => tableMap(await listTables(this.ocs!.conn, this.ocs!.database)));

  readonly glpiColumns = memo(() => columnsOf(this.glpi!.conn, this.glpi!.database));
  readonly ocsColumns = memo(() => columnsOf(this.ocs!.conn, this.ocs!.database));

  async hasTable(which: 'glpi' | 'ocs', table: string): Promise<boolean> {
    const tables = which === 'glpi' ? await this.glpiTables() : await this.ocsTables();
    return tables.has(table);
  }

  async hasColumns(which: 'glpi' | 'ocs', table: string, columns: string[]): Promise<boolean> {
    const cols = which === 'glpi' ? await this.glpiColumns() : await this.ocsColumns();
    const have = new Set(cols.filter((c) => c.table === table).map((c) => c.column));
    return columns.every((c) => have.has(c));
  }

  /** The connector's link and server tables in the GLPI database, whatever its form. */
  readonly linkTables = memo<LinkTables | undefined>(async () => {
    const c = await this.connector();
    switch (c.mode) {
      case 'core-0.83':
        return { mode: c.mode, links: 'glpi_ocslinks', servers: 'glpi_ocsservers', serverColumn: 'ocsservers_id' };
      case 'renamed-0.84':
        return { mode: c.mode, links: 'ocs_glpi_ocslinks', servers: 'ocs_glpi_ocsservers', serverColumn: 'ocsservers_id' };
      case 'plugin':
        return {
          mode: c.mode,
          links: 'glpi_plugin_ocsinventoryng_ocslinks',
          servers: 'glpi_plugin_ocsinventoryng_ocsservers',
          serverColumn: 'plugin_ocsinventoryng_ocsservers_id',
        };
      default:
        return undefined;
    }
  });

  /**
   * The glpi_ocsservers row that describes the OCS database audited: --ocs-server-id, else the only row,
   * else the row whose ocs_db_name equals the OCS database name. Undefined (with a reason) when ambiguous.
   */
  private readonly serverRow = memo<{ id?: number; reason?: Message }>(async () => {
    const lt = await this.linkTables();
    if (!lt) return { reason: NO_CONNECTOR_TABLES };
    const servers = await this.rows<{ id: number; ocs_db_name: string | null }>('glpi', `SELECT id, ocs_db_name FROM ${this.t('glpi', lt.servers)} ORDER BY id`);
    if (this.options.ocsServerId !== undefined) {
      return servers.some((s) => Number(s.id) === this.options.ocsServerId)
        ? { id: this.options.ocsServerId }
        : { reason: msg('audit.skip.no-server-with-id', { id: this.options.ocsServerId, table: lt.servers }) };
    }
    if (servers.length === 0) return { reason: msg('audit.skip.servers-empty', { table: lt.servers }) };
    if (servers.length === 1) return { id: Number(servers[0].id) };
    const byName = servers.filter((s) => this.ocs && s.ocs_db_name === this.ocs.database);
    if (byName.length === 1) return { id: Number(byName[0].id) };
    return { reason: msg('audit.skip.servers-ambiguous', { count: servers.length, table: lt.servers }) };
  });

  /** Server id to use for link checks against the OCS database. */
  async ocsServerId(): Promise<{ id?: number; reason?: Message }> {
    return this.serverRow();
  }

  readonly glpiProfile = memo<ColumnProfile>(() => this.profile('glpi'));

  /** One scan per table computing every counter of every column (see the module comment). */
  private async profile(which: 'glpi' | 'ocs'): Promise<ColumnProfile> {
    const columns = which === 'glpi' ? await this.glpiColumns() : await this.ocsColumns();
    const tables = which === 'glpi' ? await this.glpiTables() : await this.ocsTables();
    const byTable = new Map<string, ColumnInfo[]>();
    for (const c of columns) {
      const t = tables.get(c.table);
      if (t?.type !== 'BASE TABLE') continue;
      (byTable.get(c.table) ?? byTable.set(c.table, []).get(c.table)!).push(c);
    }
    const out: ColumnProfile = new Map();
    for (const [table, cols] of byTable) {
      const exprs: Array<{ column: string; counter: keyof ColumnCounters; sql: string }> = [];
      for (const c of cols) {
        const q = qi(c.column);
        if (DATE_TYPES.has(c.dataType)) {
          exprs.push({ column: c.column, counter: 'zeroDates', sql: zeroDatePredicate(q) });
          if (c.dataType !== 'date') exprs.push({ column: c.column, counter: 'after2038', sql: `${q} > '${TIMESTAMP_MAX}'` });
        } else if (isIdColumn(c) && !(c.default ?? '').startsWith('-')) {
          // A negative default (-1 root entity parent, -2 "inherit from parent") means negative values are by design.
          exprs.push({ column: c.column, counter: 'negative', sql: `${q} < 0` });
          if (c.dataType === 'bigint' || c.columnType.includes('unsigned')) {
            exprs.push({ column: c.column, counter: 'oversized', sql: `${q} > 2147483647` });
          }
        } else if (TEXT_TYPES.has(c.dataType) && c.charset && /^utf8/.test(c.charset)) {
          exprs.push({ column: c.column, counter: 'doubleEncoded', sql: doubleEncodedPredicate(q) });
          exprs.push({ column: c.column, counter: 'replacementChars', sql: `LOCATE(X'EFBFBD', BINARY ${q}) > 0` });
        } else if (TEXT_TYPES.has(c.dataType) && c.charset === 'latin1') {
          exprs.push({ column: c.column, counter: 'latin1HoldingUtf8', sql: bytePatternsPredicate(q, UTF8_IN_LATIN1_PATTERNS) });
        }
        if (c.dataType === 'text') exprs.push({ column: c.column, counter: 'largeValues', sql: `LENGTH(${q}) >= 64512` });
        if (c.dataType === 'mediumtext' || c.dataType === 'longtext') exprs.push({ column: c.column, counter: 'largeValues', sql: `LENGTH(${q}) >= 1048576` });
      }
      if (exprs.length === 0) continue;
      const select = exprs.map((e, i) => `COALESCE(SUM(${e.sql}), 0) AS c${i}`).join(', ');
      const [r] = await (which === 'glpi' ? this.glpi! : this.ocs!).conn.query(`SELECT ${select} FROM ${this.t(which, table)}`);
      const row = (r as Array<Record<string, unknown>>)[0] ?? {};
      const perColumn = new Map<string, ColumnCounters>();
      exprs.forEach((e, i) => {
        const n = Number(row[`c${i}`] ?? 0);
        const cur = perColumn.get(e.column) ?? {};
        cur[e.counter] = n;
        perColumn.set(e.column, cur);
      });
      out.set(table, perColumn);
    }
    return out;
  }

  /** The reference schema of the version the database claims to be, or why there is none. */
  async reference(which: 'glpi' | 'ocs'): Promise<ReferenceResult> {
    if (!this.references) return { missing: msg('audit.skip.no-reference-source', {}) };
    // The scratch database gets the audited database's defaults: tables without their own charset inherit them.
    const db = which === 'glpi' ? this.glpi! : this.ocs!;
    const defaults = await databaseCharset(db.conn, db.database);
    if (which === 'glpi') {
      const v = await this.glpiVersion();
      if (!v.version) return { missing: msg('audit.skip.glpi-version-unknown', {}) };
      return this.references.glpi(v.version, defaults);
    }
    const v = await this.ocsVersion();
    if (v.guiVersion === undefined) return { missing: OCS_GUI_VERSION_UNKNOWN };
    return this.references.ocs(v.guiVersion, v.releases, defaults);
  }
}

function tableMap(list: TableInfo[]): Map<string, TableInfo> {
  return new Map(list.map((t) => [t.name, t]));
}

async function columnsOf(conn: Queryable, database: string): Promise<ColumnInfo[]> {
  const [r] = await conn.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, COLUMN_TYPE AS ct, CHARACTER_SET_NAME AS cs,
            COLLATION_NAME AS co, IS_NULLABLE AS nl, COLUMN_DEFAULT AS d
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [database],
  );
  return (r as Array<Record<string, unknown>>).map((x) => ({
    table: String(x.t),
    column: String(x.c),
    dataType: String(x.dt).toLowerCase(),
    columnType: String(x.ct).toLowerCase(),
    charset: x.cs === null ? null : String(x.cs),
    collation: x.co === null ? null : String(x.co),
    nullable: x.nl === 'YES',
    default: x.d === null || x.d === 'NULL' ? null : String(x.d).replace(/^'(.*)'$/s, '$1'),
  }));
}
