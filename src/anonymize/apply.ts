/**
 * Applies anonymization rules in place, on databases of a test instance (never production: the interlock
 * is checked first). One pass to count what each rule will rewrite, then one set-based UPDATE per table.
 */
import type { Connection } from 'mysql2/promise';
import type { Dsn } from '../db/dsn.ts';
import { assertWritable } from '../db/interlock.ts';
import type { AnonymizeRule, RuleSet } from './rules.ts';
import { namespaceOf } from './rules.ts';
import type { ColumnInfo } from './sql.ts';
import type { DetectorKind, Identity } from './detect.ts';
import { Scrubber, scrubColumn } from './scrub.ts';
import type { SweepReport } from './sweep.ts';
import { IPAD_VAR, OPAD_VAR, conditionExpr, hmacPads, isStringColumn, qi, valueExpr } from './sql.ts';
import { encodingOf } from './scrub.ts';

export type ColumnStatus = 'anonymized' | 'kept' | 'table-absent' | 'column-absent' | 'not-a-string-column';

export interface ColumnReport {
  database: 'glpi' | 'ocs';
  table: string;
  column: string;
  method: AnonymizeRule['method'];
  format?: string;
  namespace?: string;
  status: ColumnStatus;
  /** Rows whose value was rewritten (not NULL, not empty, not a kept value). */
  rowsChanged: number;
  /** Rows in the table. */
  rows: number;
  /** scrub: the replacements made in the text, by kind. */
  replacements?: Partial<Record<DetectorKind, number>>;
}

export interface AnonymizationReport {
  format: 1;
  rulesChecksum: string;
  rulesSources: string[];
  at: string;
  elapsedMs: number;
  columns: ColumnReport[];
  totals: { columns: number; rowsChanged: number; tables: number };
  /** Where the rewrite's time went: reading the identities, the rules' UPDATEs, the free-text rewrite. */
  phases?: { identitiesMs: number; rulesMs: number; scrubMs: number };
  /** What the sweep found after the rules (absent when it was not run). */
  sweep?: SweepReport;
}

export interface DatabaseNames {
  glpi?: string;
  ocs?: string;
}

interface Planned {
  rule: AnonymizeRule;
  column: ColumnInfo;
}

export async function describeTable(conn: Connection, db: string, table: string): Promise<{ columns: ColumnInfo[]; onUpdate: string[]; engine: string } | undefined> {
  const [rows] = await conn.query(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, CHARACTER_MAXIMUM_LENGTH AS maxLength, CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation, EXTRA AS extra
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  const list = rows as Array<{ name: string; dataType: string; maxLength: string | number | null; charset: string | null; collation: string | null; extra: string | null }>;
  if (list.length === 0) return undefined;
  const [t] = await conn.query('SELECT ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  return {
    engine: String((t as Array<{ engine: string | null }>)[0]?.engine ?? '').toLowerCase(),
    columns: list.map((r) => ({
      name: r.name,
      dataType: String(r.dataType).toLowerCase(),
      maxLength: r.maxLength === null ? null : Number(r.maxLength),
      charset: r.charset,
      collation: r.collation,
    })),
    onUpdate: list.filter((r) => /on update/i.test(r.extra ?? '')).map((r) => r.name),
  };
}

/** Matches a rule's column (name or `prefix*`) against a table's columns, case-insensitively like the server. */
export function matchColumns(rule: AnonymizeRule, columns: ColumnInfo[]): ColumnInfo[] {
  if (rule.column.endsWith('*')) {
    const p = rule.column.slice(0, -1).toLowerCase();
    return columns.filter((c) => c.name.toLowerCase().startsWith(p));
  }
  return columns.filter((c) => c.name.toLowerCase() === rule.column.toLowerCase());
}

/** Loads the HMAC pads into session variables through a prepared statement (no SQL text carries them). */
async function loadSalt(conn: Connection, salt: string): Promise<void> {
  const { ipad, opad } = hmacPads(salt);
  await conn.execute(`SET ${IPAD_VAR} = ?`, [ipad]);
  await conn.execute(`SET ${OPAD_VAR} = ?`, [opad]);
  ipad.fill(0);
  opad.fill(0);
}

async function clearSalt(conn: Connection): Promise<void> {
  await conn.query(`SET ${IPAD_VAR} = NULL, ${OPAD_VAR} = NULL`).catch(() => undefined);
}

/**
 * The report of a table that is not rewritten (every rule on it is `keep`, so it is not even restored): from
 * its column names, or `table-absent` without them. Same matching as for rewritten tables (exact names win over globs).
 */
export function keptTableReports(rules: AnonymizeRule[], columnNames: string[] | undefined, rows: number): ColumnReport[] {
  const out: ColumnReport[] = [];
  const base = (r: AnonymizeRule, column: string, status: ColumnStatus): ColumnReport => ({
    database: r.database,
    table: r.table,
    column,
    method: r.method,
    ...(r.format ? { format: r.format } : {}),
    ...(r.method === 'pseudonym' || r.method === 'hash' ? { namespace: namespaceOf(r) } : {}),
    status,
    rowsChanged: 0,
    rows: columnNames ? rows : 0,
  });
  if (!columnNames) return rules.map((r) => base(r, r.column, 'table-absent'));
  const columns = columnNames.map((name) => ({ name, dataType: '', maxLength: null, charset: null }));
  const explicit = new Set(rules.filter((r) => !r.column.endsWith('*')).map((r) => r.column.toLowerCase()));
  for (const r of rules) {
    let found = matchColumns(r, columns);
    if (r.column.endsWith('*')) found = found.filter((c) => !explicit.has(c.name.toLowerCase()));
    if (found.length === 0 && !r.column.endsWith('*')) out.push(base(r, r.column, 'column-absent'));
    for (const c of found) out.push(base(r, c.name, 'kept'));
  }
  return out;
}

/**
 * Counts and rewrites one table's rule columns (one SELECT, one UPDATE). `keysStayDisabled`: a MyISAM/Aria
 * table's non-unique indexes are left disabled afterwards (the database is only read back and thrown away).
 */
async function anonymizeTable(conn: Connection, db: string, rules: AnonymizeRule[], keysStayDisabled: boolean): Promise<ColumnReport[]> {
  const role = rules[0].database;
  const table = rules[0].table;
  const base = (rule: AnonymizeRule, column: string): ColumnReport => ({
    database: role,
    table,
    column,
    method: rule.method,
    ...(rule.format ? { format: rule.format } : {}),
    ...(rule.method === 'pseudonym' || rule.method === 'hash' ? { namespace: namespaceOf(rule) } : {}),
    status: 'anonymized',
    rowsChanged: 0,
    rows: 0,
  });
  const desc = await describeTable(conn, db, table);
  if (!desc) return rules.map((r) => ({ ...base(r, r.column), status: 'table-absent' as const }));
  // Exact names win over globs.
  const explicit = new Set(rules.filter((r) => !r.column.endsWith('*')).map((r) => r.column.toLowerCase()));
  const planned: Planned[] = [];
  const reports: ColumnReport[] = [];
  for (const r of rules) {
    let found = matchColumns(r, desc.columns);
    if (r.column.endsWith('*')) found = found.filter((c) => !explicit.has(c.name.toLowerCase()));
    if (found.length === 0) {
      if (!r.column.endsWith('*')) reports.push({ ...base(r, r.column), status: 'column-absent' });
      continue;
    }
    for (const c of found) {
      if (r.method === 'keep') reports.push({ ...base(r, c.name), status: 'kept' });
      else if (r.method === 'scrub')
        continue; // scrubTable
      else if (!isStringColumn(c)) reports.push({ ...base(r, c.name), status: 'not-a-string-column' });
      else {
        planned.push({ rule: r, column: c });
        reports.push(base(r, c.name));
      }
    }
  }
  const t = `${qi(db)}.${qi(table)}`;
  const [countRows] = await conn.query(`SELECT COUNT(*) AS n${planned.map((p, i) => `, SUM(${conditionExpr(p.rule, p.column)}) AS c${i}`).join('')} FROM ${t}`);
  const counts = (countRows as Array<Record<string, string | number | null>>)[0];
  const total = Number(counts.n ?? 0);
  for (const rep of reports) rep.rows = total;
  planned.forEach((p, i) => {
    const rep = reports.find((r) => r.column === p.column.name && r.status === 'anonymized')!;
    rep.rowsChanged = Number(counts[`c${i}`] ?? 0);
  });
  const active = planned.filter((_, i) => Number(counts[`c${i}`] ?? 0) > 0);
  if (active.length > 0) {
    const sets = active.map((p) => {
      const col = qi(p.column.name);
      const cond = conditionExpr(p.rule, p.column);
      return active.length === 1 ? `${col} = ${valueExpr(p.rule, p.column)}` : `${col} = IF(${cond}, ${valueExpr(p.rule, p.column)}, ${col})`;
    });
    // Columns with ON UPDATE CURRENT_TIMESTAMP keep their value (assigning them to themselves).
    for (const c of desc.onUpdate) if (!active.some((p) => p.column.name === c)) sets.push(`${qi(c)} = ${qi(c)}`);
    const where = active.length === 1 ? conditionExpr(active[0].rule, active[0].column) : active.map((p) => `(${conditionExpr(p.rule, p.column)})`).join(' OR ');
    // MyISAM/Aria: a rewritten row that changes length moves, and every index entry pointing to it is updated
    // row by row; with the non-unique indexes disabled, they are rebuilt once, by sort (twice as fast overall).
    const disableKeys = desc.engine === 'myisam' || desc.engine === 'aria';
    // (A failed UPDATE fails the whole anonymization: the databases are thrown away, keys disabled or not.)
    if (disableKeys) await conn.query(`ALTER TABLE ${t} DISABLE KEYS`);
    await conn.query(`UPDATE ${t} SET ${sets.join(', ')} WHERE ${where}`);
    if (disableKeys && !keysStayDisabled) await conn.query(`ALTER TABLE ${t} ENABLE KEYS`);
  }
  return reports;
}

/**
 * The original values of the identity columns (rules with `identity:`; not NULL, not empty, not kept), read
 * before anything is rewritten: free text is searched for them, and so is every column by the sweep.
 */
export async function collectIdentities(conn: Connection, names: DatabaseNames, ruleSet: RuleSet): Promise<Identity[]> {
  const out: Identity[] = [];
  for (const rule of ruleSet.rules) {
    const db = names[rule.database];
    if (!db || !rule.identity || rule.method === 'keep' || rule.method === 'fixed' || rule.method === 'scrub') continue;
    const desc = await describeTable(conn, db, rule.table);
    if (!desc) continue;
    for (const c of matchColumns(rule, desc.columns)) {
      if (!isStringColumn(c)) continue;
      const [rows] = await conn.query(`SELECT DISTINCT BINARY ${qi(c.name)} AS v FROM ${qi(db)}.${qi(rule.table)} WHERE ${conditionExpr(rule, c)}`);
      const enc = encodingOf(c.charset);
      for (const r of rows as Array<{ v: Buffer }>) out.push({ value: r.v.toString(enc), rule, kind: rule.identity });
    }
  }
  return out;
}

/** Scrubs the free-text columns of one table (rules with method scrub). */
async function scrubTable(conn: Connection, db: string, rules: AnonymizeRule[], scrubber: Scrubber): Promise<ColumnReport[]> {
  const role = rules[0].database;
  const table = rules[0].table;
  const base = (rule: AnonymizeRule, column: string, status: ColumnStatus): ColumnReport => ({ database: role, table, column, method: rule.method, status, rowsChanged: 0, rows: 0 });
  const desc = await describeTable(conn, db, table);
  if (!desc) return rules.map((r) => base(r, r.column, 'table-absent'));
  const [cnt] = await conn.query(`SELECT COUNT(*) AS n FROM ${qi(db)}.${qi(table)}`);
  const rows = Number((cnt as Array<{ n: number | string }>)[0].n);
  const out: ColumnReport[] = [];
  for (const r of rules) {
    const found = matchColumns(r, desc.columns);
    if (found.length === 0 && !r.column.endsWith('*')) out.push(base(r, r.column, 'column-absent'));
    for (const c of found) {
      if (!isStringColumn(c)) {
        out.push({ ...base(r, c.name, 'not-a-string-column'), rows });
        continue;
      }
      const res = await scrubColumn(conn, db, table, c, desc.onUpdate, scrubber);
      out.push({ ...base(r, c.name, 'anonymized'), rows, rowsChanged: res.rowsChanged, replacements: res.replacements });
    }
  }
  return out;
}

/**
 * Rewrites the personal-data columns of the given databases. `dsn` names the server for the interlock message.
 * Rules whose table or column does not exist are reported as absent, not errors (installations differ).
 * With `openExtra`, up to `jobs` sessions rewrite different tables at the same time (the largest first).
 */
export async function anonymizeDatabases(
  conn: Connection,
  dsn: Dsn,
  names: DatabaseNames,
  ruleSet: RuleSet,
  salt: string,
  opts: {
    onTable?: (database: string, table: string, index: number, total: number) => void;
    jobs?: number;
    openExtra?: () => Promise<Connection>;
    /** The identities (collectIdentities), when already read; read here otherwise, before any rewrite. */
    identities?: Identity[];
    /** Receives the scrubber once free text is rewritten (its emitted values, for the sweep). */
    onScrubbed?: (scrubber: Scrubber) => void;
    /**
     * MyISAM/Aria tables keep their non-unique indexes disabled after the rewrite (no ENABLE KEYS, a rebuild by
     * sort as long as the UPDATE): for databases that are snapshotted and thrown away. Unique keys stay in force.
     */
    keysStayDisabled?: boolean;
  } = {},
): Promise<AnonymizationReport> {
  if (!salt) throw new Error('anonymizeDatabases: empty salt');
  await assertWritable(conn, dsn, 'anonymize databases');
  const started = Date.now();
  // Group the rules by table; the biggest tables first so parallel sessions finish together.
  const byTable = new Map<string, AnonymizeRule[]>();
  const scrubByTable = new Map<string, AnonymizeRule[]>();
  for (const rule of ruleSet.rules) {
    if (!names[rule.database]) continue;
    const k = `${rule.database}\u0000${rule.table}`;
    const m = rule.method === 'scrub' ? scrubByTable : byTable;
    m.set(k, [...(m.get(k) ?? []), rule]);
  }
  const tIds = Date.now();
  const identities = opts.identities ?? (scrubByTable.size > 0 ? await collectIdentities(conn, names, ruleSet) : []);
  const phases = { identitiesMs: Date.now() - tIds, rulesMs: 0, scrubMs: 0 };
  const sizes = new Map<string, number>();
  for (const role of ['glpi', 'ocs'] as const) {
    if (!names[role]) continue;
    const [rows] = await conn.query('SELECT TABLE_NAME AS t, COALESCE(DATA_LENGTH, 0) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [names[role]]);
    for (const r of rows as Array<{ t: string; b: string | number }>) sizes.set(`${role}\u0000${r.t}`, Number(r.b));
  }
  const order = [...byTable.keys()].sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0) || a.localeCompare(b));
  const sessions: Connection[] = [conn];
  const extra: Connection[] = [];
  const results = new Map<string, ColumnReport[]>();
  try {
    const jobs = Math.max(1, Math.min(opts.jobs ?? 1, order.length));
    if (opts.openExtra) for (let i = 1; i < jobs; i++) extra.push(await opts.openExtra());
    sessions.push(...extra);
    for (const c of sessions) {
      await c.query("SET SESSION sql_mode = ''");
      await loadSalt(c, salt);
    }
    const queue = [...order];
    let index = 0;
    let failure: unknown;
    const worker = async (c: Connection) => {
      for (let key = queue.shift(); key !== undefined && failure === undefined; key = queue.shift()) {
        const rules = byTable.get(key)!;
        opts.onTable?.(rules[0].database, rules[0].table, index++, order.length);
        try {
          results.set(key, await anonymizeTable(c, names[rules[0].database]!, rules, opts.keysStayDisabled ?? false));
        } catch (err) {
          failure ??= err;
        }
      }
    };
    const tRules = Date.now();
    await Promise.all(sessions.map(worker));
    if (failure !== undefined) throw failure;
    phases.rulesMs = Date.now() - tRules;
    const tScrub = Date.now();
    // Free text, once every identity column is rewritten (the tool computes the same pseudonyms).
    if (scrubByTable.size > 0) {
      const scrubber = new Scrubber(salt, ruleSet, identities);
      const squeue = [...scrubByTable.keys()].sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0) || a.localeCompare(b));
      const sworker = async (c: Connection) => {
        for (let key = squeue.shift(); key !== undefined && failure === undefined; key = squeue.shift()) {
          const rules = scrubByTable.get(key)!;
          try {
            const prev = results.get(key) ?? [];
            results.set(key, [...prev, ...(await scrubTable(c, names[rules[0].database]!, rules, scrubber))]);
          } catch (err) {
            failure ??= err;
          }
        }
      };
      await Promise.all(sessions.map(sworker));
      if (failure !== undefined) throw failure;
      opts.onScrubbed?.(scrubber);
    }
    phases.scrubMs = Date.now() - tScrub;
  } finally {
    for (const c of sessions) await clearSalt(c);
    for (const c of extra) await c.end().catch(() => undefined);
  }
  const columns = [...new Set([...byTable.keys(), ...scrubByTable.keys()])].sort().flatMap((k) => results.get(k) ?? []);
  const anonymized = columns.filter((c) => c.status === 'anonymized');
  return {
    format: 1,
    rulesChecksum: ruleSet.checksum,
    rulesSources: ruleSet.sources,
    at: new Date().toISOString(),
    elapsedMs: Date.now() - started,
    phases,
    columns,
    totals: {
      columns: anonymized.length,
      rowsChanged: anonymized.reduce((s, c) => s + c.rowsChanged, 0),
      tables: new Set(anonymized.map((c) => `${c.database}.${c.table}`)).size,
    },
  };
}
