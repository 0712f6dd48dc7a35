/**
 * Structural description of a database from information_schema, and the difference between two
 * descriptions (extra / missing / altered tables, columns and indexes). Used to compare a database with
 * the reference schema of the version it claims to be (loaded into a scratch database), never by text.
 */
import type { Queryable } from './introspect.ts';

export interface ColumnShape {
  name: string;
  position: number;
  type: string;
  nullable: boolean;
  default: string | null;
  charset: string | null;
  collation: string | null;
  extra: string;
}

export interface IndexShape {
  name: string;
  unique: boolean;
  /** Column names with prefix lengths, e.g. ["name(100)", "id"]. */
  columns: string[];
  type: string;
}

export interface TableShape {
  name: string;
  engine: string | null;
  collation: string | null;
  columns: ColumnShape[];
  indexes: IndexShape[];
}

export type SchemaShape = Map<string, TableShape>;

export async function describeSchema(conn: Queryable, database: string): Promise<SchemaShape> {
  const [tables] = await conn.query(
    `SELECT TABLE_NAME AS t, ENGINE AS e, TABLE_COLLATION AS c FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
    [database],
  );
  const shape: SchemaShape = new Map();
  for (const t of tables as Array<{ t: string; e: string | null; c: string | null }>) {
    shape.set(t.t, { name: t.t, engine: t.e, collation: t.c, columns: [], indexes: [] });
  }
  const [cols] = await conn.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS n, ORDINAL_POSITION AS p, COLUMN_TYPE AS ty, IS_NULLABLE AS nl,
            COLUMN_DEFAULT AS d, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co, EXTRA AS x
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [database],
  );
  for (const c of cols as Array<Record<string, unknown>>) {
    const table = shape.get(String(c.t));
    if (!table) continue;
    table.columns.push({
      name: String(c.n),
      position: Number(c.p),
      type: String(c.ty).toLowerCase(),
      nullable: c.nl === 'YES',
      default: normaliseDefault(c.d),
      charset: c.cs === null ? null : String(c.cs),
      collation: c.co === null ? null : String(c.co),
      extra: String(c.x ?? '').toLowerCase(),
    });
  }
  const [idx] = await conn.query(
    `SELECT TABLE_NAME AS t, INDEX_NAME AS n, NON_UNIQUE AS nu, SEQ_IN_INDEX AS s, COLUMN_NAME AS c, SUB_PART AS sp, INDEX_TYPE AS ty
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    [database],
  );
  const byKey = new Map<string, IndexShape>();
  for (const i of idx as Array<Record<string, unknown>>) {
    const table = shape.get(String(i.t));
    if (!table) continue;
    const key = `${String(i.t)}\u0000${String(i.n)}`;
    let index = byKey.get(key);
    if (!index) {
      index = { name: String(i.n), unique: Number(i.nu) === 0, columns: [], type: String(i.ty) };
      byKey.set(key, index);
      table.indexes.push(index);
    }
    index.columns.push(i.sp === null || i.sp === undefined ? String(i.c) : `${String(i.c)}(${String(i.sp)})`);
  }
  return shape;
}

/** MariaDB ≥ 10.2.7 quotes string defaults in information_schema; MySQL does not. Normalise to unquoted. */
function normaliseDefault(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  if (s === 'NULL') return null;
  const m = /^'(.*)'$/s.exec(s);
  return m ? m[1].replace(/''/g, "'") : s;
}

export type SchemaDifference =
  | { kind: 'missing-table'; table: string }
  | { kind: 'extra-table'; table: string }
  | { kind: 'table-option'; table: string; option: 'engine' | 'collation'; expected: string | null; actual: string | null }
  | { kind: 'missing-column'; table: string; column: string }
  | { kind: 'extra-column'; table: string; column: string }
  | { kind: 'altered-column'; table: string; column: string; field: string; expected: unknown; actual: unknown }
  | { kind: 'missing-index'; table: string; index: string; detail: string }
  | { kind: 'extra-index'; table: string; index: string; detail: string }
  | { kind: 'altered-index'; table: string; index: string; expected: string; actual: string };

export interface DiffOptions {
  /** Compare engines and collations of tables (default true). */
  tableOptions?: boolean;
  /** Compare column charsets/collations (default true). */
  columnCollations?: boolean;
  /** Ignore these tables on both sides (e.g. the marker schema's, tool tables). */
  ignoreTables?: (name: string) => boolean;
}

function describeIndex(i: IndexShape): string {
  return `${i.unique ? 'UNIQUE ' : ''}${i.type === 'FULLTEXT' ? 'FULLTEXT ' : ''}(${i.columns.join(', ')})`;
}

/** Differences of `actual` against `expected`, in a stable order (table, then kind, then name). */
export function diffSchemas(expected: SchemaShape, actual: SchemaShape, options: DiffOptions = {}): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const ignore = options.ignoreTables ?? (() => false);
  const names = [...new Set([...expected.keys(), ...actual.keys()])].filter((n) => !ignore(n)).sort();
  for (const name of names) {
    const e = expected.get(name);
    const a = actual.get(name);
    if (!a) {
      out.push({ kind: 'missing-table', table: name });
      continue;
    }
    if (!e) {
      out.push({ kind: 'extra-table', table: name });
      continue;
    }
    if (options.tableOptions ?? true) {
      if ((e.engine ?? '').toLowerCase() !== (a.engine ?? '').toLowerCase()) {
        out.push({ kind: 'table-option', table: name, option: 'engine', expected: e.engine, actual: a.engine });
      }
      if (e.collation !== a.collation) {
        out.push({ kind: 'table-option', table: name, option: 'collation', expected: e.collation, actual: a.collation });
      }
    }
    const ecols = new Map(e.columns.map((c) => [c.name, c]));
    const acols = new Map(a.columns.map((c) => [c.name, c]));
    for (const c of e.columns) if (!acols.has(c.name)) out.push({ kind: 'missing-column', table: name, column: c.name });
    for (const c of a.columns) if (!ecols.has(c.name)) out.push({ kind: 'extra-column', table: name, column: c.name });
    for (const ec of e.columns) {
      const ac = acols.get(ec.name);
      if (!ac) continue;
      const fields: Array<[string, unknown, unknown]> = [
        ['type', ec.type, ac.type],
        ['nullable', ec.nullable, ac.nullable],
        ['default', ec.default, ac.default],
        ['extra', ec.extra, ac.extra],
      ];
      if (options.columnCollations ?? true) fields.push(['collation', ec.collation, ac.collation]);
      for (const [field, ev, av] of fields) {
        if (ev !== av) out.push({ kind: 'altered-column', table: name, column: ec.name, field, expected: ev, actual: av });
      }
    }
    const eidx = new Map(e.indexes.map((i) => [i.name, i]));
    const aidx = new Map(a.indexes.map((i) => [i.name, i]));
    for (const i of e.indexes) {
      const ai = aidx.get(i.name);
      if (!ai) out.push({ kind: 'missing-index', table: name, index: i.name, detail: describeIndex(i) });
      else if (describeIndex(i) !== describeIndex(ai)) {
        out.push({ kind: 'altered-index', table: name, index: i.name, expected: describeIndex(i), actual: describeIndex(ai) });
      }
    }
    for (const i of a.indexes) if (!eidx.has(i.name)) out.push({ kind: 'extra-index', table: name, index: i.name, detail: describeIndex(i) });
  }
  return out;
}

export function formatDifference(d: SchemaDifference): string {
  switch (d.kind) {
    case 'missing-table':
      return `${d.table}: table missing`;
    case 'extra-table':
      return `${d.table}: extra table`;
    case 'table-option':
      return `${d.table}: ${d.option} is ${d.actual ?? 'none'}, expected ${d.expected ?? 'none'}`;
    case 'missing-column':
      return `${d.table}.${d.column}: column missing`;
    case 'extra-column':
      return `${d.table}.${d.column}: extra column`;
    case 'altered-column':
      return `${d.table}.${d.column}: ${d.field} is ${JSON.stringify(d.actual)}, expected ${JSON.stringify(d.expected)}`;
    case 'missing-index':
      return `${d.table}: index ${d.index} ${d.detail} missing`;
    case 'extra-index':
      return `${d.table}: extra index ${d.index} ${d.detail}`;
    case 'altered-index':
      return `${d.table}: index ${d.index} is ${d.actual}, expected ${d.expected}`;
  }
}
