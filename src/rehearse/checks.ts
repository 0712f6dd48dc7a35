/**
 * Checks around steps: exact row counts and CHECKSUM TABLE of a database's tables, and the comparison
 * of two such states into table deltas that are either explained by the plan (expected) or anomalies.
 */
import crypto from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import { queryRows } from '../db/connect.ts';
import { checksumTables, countRows, listTables } from '../db/introspect.ts';
import type { ExpectedEffects } from '../plan/plan-types.ts';
import type { TableDelta } from './run-types.ts';
import { render } from '../i18n/render.ts';

export interface TableState {
  rows: number;
  checksum: string | null;
  /**
   * The table's server metadata when its rows and checksum were read (see tableMetas): lets a later
   * refreshState() carry the figures forward while the metadata shows no sign of a change.
   */
  meta?: string;
}

export type DatabaseState = Map<string, TableState>;

/** Exact row count and CHECKSUM TABLE of one table. */
async function measureTable(conn: Connection, database: string, table: string, checksums: boolean): Promise<{ rows: number; checksum: string | null }> {
  const rows = await countRows(conn, database, table);
  const checksum = checksums ? ((await checksumTables(conn, database, [table])).get(table) ?? null) : null;
  return { rows, checksum };
}

/** Measures `tables` on one or more connections (each connection takes the next table, largest first). */
async function measureTables(conns: Connection[], database: string, tables: string[], checksums: boolean): Promise<Map<string, { rows: number; checksum: string | null }>> {
  const out = new Map<string, { rows: number; checksum: string | null }>();
  const queue = [...tables];
  await Promise.all(
    conns.map(async (c) => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) out.set(t, await measureTable(c, database, t, checksums));
    }),
  );
  return out;
}

/**
 * Row counts (and checksums unless `checksums: false`) of every base table, optionally restricted: the full
 * pass, which reads every row. With `conns`, the tables are shared out between those connections.
 */
export async function databaseState(conn: Connection, database: string, options: { only?: Set<string>; checksums?: boolean; conns?: Connection[] } = {}): Promise<DatabaseState> {
  const metas = options.checksums === false ? undefined : await tableMetas(conn, database);
  const tables = (await listTables(conn, database)).filter((t) => t.type === 'BASE TABLE' && (!options.only || options.only.has(t.name)));
  // Largest first, so that parallel connections finish together.
  tables.sort((a, b) => b.estimatedRows - a.estimatedRows);
  const measured = await measureTables(
    options.conns?.length ? options.conns : [conn],
    database,
    tables.map((t) => t.name),
    options.checksums !== false,
  );
  const state: DatabaseState = new Map();
  for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) {
    const m = measured.get(t.name)!;
    state.set(t.name, { ...m, meta: metas?.tables.get(t.name) });
  }
  return state;
}

/**
 * What the server says about every base table of `database` without reading its rows: from
 * information_schema.TABLES the engine, row format, collation, row estimate, data/index/free lengths,
 * AUTO_INCREMENT and the create/update/check times; from INNODB_SYS_TABLESTATS (InnoDB tables in the
 * dictionary cache) the row estimate, index sizes and the modified-rows counter. `now` is the server's
 * clock (UNIX seconds) when they were read.
 *
 * Observed on MariaDB 10.11 (test/rehearse-core.test.ts): INSERT, DELETE, TRUNCATE, ADD/DROP/MODIFY COLUMN
 * and table rebuilds change at least one of these; an UPDATE of non-indexed columns changes only
 * UPDATE_TIME, whose resolution is one second.
 */
export async function tableMetas(conn: Connection, database: string): Promise<{ now: number; tables: Map<string, string> }> {
  const [rows] = await conn.query(
    `SELECT TABLE_NAME AS n, ENGINE AS e, ROW_FORMAT AS rf, TABLE_COLLATION AS co, TABLE_ROWS AS r, DATA_LENGTH AS dl,
            INDEX_LENGTH AS il, DATA_FREE AS df, AUTO_INCREMENT AS ai, UNIX_TIMESTAMP(CREATE_TIME) AS ct,
            UNIX_TIMESTAMP(UPDATE_TIME) AS ut, UNIX_TIMESTAMP(CHECK_TIME) AS ck, UNIX_TIMESTAMP(NOW(6)) AS now
       FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`,
    [database],
  );
  const [stats] = await conn.query(
    `SELECT NAME AS n, NUM_ROWS AS r, CLUST_INDEX_SIZE AS ci, OTHER_INDEX_SIZE AS oi, MODIFIED_COUNTER AS mc
       FROM information_schema.INNODB_SYS_TABLESTATS WHERE LEFT(NAME, ?) = ?`,
    [database.length + 1, `${database}/`],
  );
  const innodb = new Map((stats as Array<Record<string, unknown>>).map((s) => [String(s.n).slice(database.length + 1), `${s.r}|${s.ci}|${s.oi}|${s.mc}`]));
  const list = rows as Array<Record<string, unknown>>;
  let now = Number(list[0]?.now ?? NaN);
  if (!Number.isFinite(now)) {
    now = await serverNow(conn);
  }
  const tables = new Map<string, string>();
  for (const t of list) {
    const name = String(t.n);
    tables.set(name, [t.e, t.rf, t.co, t.r, t.dl, t.il, t.df, t.ai, t.ct, t.ut, t.ck, innodb.get(name) ?? '-'].map((v) => (v === null || v === undefined ? '' : String(v))).join('|'));
  }
  return { now, tables };
}

function metaTime(meta: string, field: 'ct' | 'ut'): number | null {
  const v = meta.split('|')[field === 'ct' ? 8 : 9];
  return v === '' || v === undefined ? null : Number(v);
}

export interface RefreshResult {
  state: DatabaseState;
  /** Tables read again (COUNT + CHECKSUM) because they are new or showed a sign of change. */
  measured: string[];
  /** Server clock when the metadata was read: the `since` of the next refresh. */
  now: number;
}

/**
 * The state of `database` after a step, from `previous` (its state before the step) without reading the
 * rows of tables that show no sign of change. A table is read again (exact COUNT(*) and CHECKSUM TABLE) when
 *   - it is new, or its metadata (tableMetas) differs from the one recorded with its previous figures; or
 *   - the step may touch it (`mayTouch`) and its update or create time falls in or after the second of
 *     `since` (the server clock before the step), which covers in-place updates inside that second.
 * Otherwise its previous row count and checksum are carried forward. A table the step only re-indexes
 * (`indexOnly`: every statement naming it adds or drops an index) is counted again but keeps its checksum
 * unless its count moved. The blind spot, for tables the step may NOT touch: an in-place UPDATE of
 * non-indexed columns within the same second as the table's previous change changes no metadata; the full
 * pass at the end of each product's chain (runner) catches it, as it catches a re-indexed table whose rows
 * changed all the same. With `measure: false`, nothing is read: `state` holds only the carried-forward
 * tables and `measured` the ones that would have been read (the runner's last step, before its full pass).
 */
export async function refreshState(
  conn: Connection,
  database: string,
  previous: DatabaseState,
  options: { since: number; mayTouch: Set<string> | 'all'; conns?: Connection[]; indexOnly?: Set<string>; measure?: boolean },
): Promise<RefreshResult> {
  const metas = await tableMetas(conn, database);
  const sinceSecond = Math.floor(options.since);
  const again: string[] = [];
  for (const [name, meta] of metas.tables) {
    const p = previous.get(name);
    if (!p || p.meta === undefined || p.meta !== meta) {
      again.push(name);
      continue;
    }
    if (options.mayTouch === 'all' || options.mayTouch.has(name)) {
      const ut = metaTime(meta, 'ut');
      const ct = metaTime(meta, 'ct');
      if ((ut !== null && ut >= sinceSecond) || (ct !== null && ct >= sinceSecond)) again.push(name);
    }
  }
  const estimate = (t: string) => Number(metas.tables.get(t)!.split('|')[3] || 0);
  again.sort((a, b) => estimate(b) - estimate(a));
  if (options.measure === false) {
    // Only the decision: the carried-forward figures, without the tables that would have been read.
    const state: DatabaseState = new Map(
      [...metas.tables.keys()]
        .sort()
        .filter((n) => !again.includes(n))
        .map((n) => [n, previous.get(n)!]),
    );
    return { state, measured: [...again].sort(), now: metas.now };
  }
  // Tables the step only re-indexed: counted; their checksum is carried forward unless the count moved.
  const conns = options.conns?.length ? options.conns : [conn];
  const indexOnly = again.filter((t) => options.indexOnly?.has(t) && previous.get(t)?.checksum !== undefined);
  const counted = await measureTables(conns, database, indexOnly, false);
  const measured = await measureTables(
    conns,
    database,
    again.filter((t) => !counted.has(t) || counted.get(t)!.rows !== previous.get(t)!.rows),
    true,
  );
  for (const [t, c] of counted) if (!measured.has(t)) measured.set(t, { rows: c.rows, checksum: previous.get(t)!.checksum });
  const state: DatabaseState = new Map();
  for (const name of [...metas.tables.keys()].sort()) {
    const m = measured.get(name);
    state.set(name, m ? { ...m, meta: metas.tables.get(name) } : previous.get(name)!);
  }
  return { state, measured: [...again].sort(), now: metas.now };
}

/** The server's clock (UNIX seconds, microsecond precision). */
export async function serverNow(conn: Connection): Promise<number> {
  const [n] = await queryRows<{ now: string | number }>(conn, 'SELECT UNIX_TIMESTAMP(NOW(6)) AS now');
  return Number(n.now);
}

/** Tables whose row count or checksum differ between two states (present in only one counts too). */
export function stateDifferences(a: DatabaseState, b: DatabaseState): string[] {
  const out: string[] = [];
  for (const t of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(t);
    const y = b.get(t);
    if (!x || !y || x.rows !== y.rows || x.checksum !== y.checksum) out.push(t);
  }
  return out.sort();
}

/** A short fingerprint of database states: equal fingerprints ⇔ same tables, rows and checksums. */
export function fingerprint(states: Record<string, DatabaseState>): string {
  const h = crypto.createHash('sha256');
  for (const db of Object.keys(states).sort()) {
    for (const [t, s] of [...states[db]].sort(([a], [b]) => a.localeCompare(b))) h.update(`${db}.${t}:${s.rows}:${s.checksum ?? '-'}\n`);
  }
  return h.digest('hex').slice(0, 32);
}

export interface DeltaContext {
  expected: ExpectedEffects;
  /** Rows the executor reported deleting on purpose (table → count), e.g. OCS 7037 softwares. */
  deletedOnPurpose?: Record<string, number>;
}

/**
 * Compares before/after row counts. A change is "expected" when the plan's expected effects cover the
 * table (created, dropped, renamed, rows deleted on purpose, or listed as touched); otherwise an anomaly.
 * Growth in a touched table is expected; a loss is expected only when the plan or the executor says so.
 */
export function tableDeltas(before: DatabaseState, after: DatabaseState, ctx: DeltaContext): TableDelta[] {
  const e = ctx.expected;
  const created = new Set(e.tablesCreated ?? []);
  const dropped = new Set(e.tablesDropped ?? []);
  const renamedFrom = new Map((e.tablesRenamed ?? []).map((r) => [r.from, r.to]));
  const renamedTo = new Map((e.tablesRenamed ?? []).map((r) => [r.to, r.from]));
  const deletions = new Map((e.rowsDeleted ?? []).map((r) => [r.table, render(r.why, 'en')]));
  const touchedAll = e.tablesTouched === 'all';
  const touched = new Set(Array.isArray(e.tablesTouched) ? e.tablesTouched : []);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: TableDelta[] = [];
  for (const table of names) {
    const b = before.get(table);
    const a = after.get(table);
    const rb = b?.rows ?? null;
    const ra = a?.rows ?? null;
    if (rb === ra) {
      out.push({ table, before: rb, after: ra, verdict: 'unchanged' });
      continue;
    }
    let explanation: string | undefined;
    if (!b && (created.has(table) || touchedAll || renamedTo.has(table))) {
      explanation = renamedTo.has(table) ? `renamed from ${renamedTo.get(table)}` : 'created by the step';
    } else if (!a && (dropped.has(table) || renamedFrom.has(table) || touchedAll)) {
      explanation = renamedFrom.has(table) ? `renamed to ${renamedFrom.get(table)}` : 'dropped by the step';
    } else if (b && a && ra! > rb!) {
      if (touchedAll || touched.has(table) || created.has(table)) explanation = 'rows added by the step';
    } else if (b && a && ra! < rb!) {
      const purpose = ctx.deletedOnPurpose?.[table];
      if (deletions.has(table)) explanation = `rows deleted on purpose: ${deletions.get(table)}`;
      else if (purpose !== undefined && rb! - ra! === purpose) explanation = `${purpose} row(s) deleted on purpose by the step`;
      else if (!a.rows && dropped.has(table)) explanation = 'emptied by the step';
    }
    if (!explanation && b && a && (created.has(table) || dropped.has(table))) explanation = 'table recreated by the step';
    out.push({ table, before: rb, after: ra, verdict: explanation ? 'expected' : 'anomaly', explanation });
  }
  return out;
}

/** Tables whose checksum changed although the step was not allowed to touch them. */
export function untouchedChanged(before: DatabaseState, after: DatabaseState, mayTouch: Set<string> | 'all'): { checked: number; changed: string[] } {
  if (mayTouch === 'all') return { checked: 0, changed: [] };
  let checked = 0;
  const changed: string[] = [];
  for (const [t, b] of before) {
    if (mayTouch.has(t)) continue;
    const a = after.get(t);
    checked++;
    if (!a || a.checksum !== b.checksum || a.rows !== b.rows) changed.push(t);
  }
  return { checked, changed: changed.sort() };
}
