/**
 * Running an OCS SQL file the way ocsreports does, but watching every statement.
 *
 * ocsreports (install.php / update.php, function exec_fichier_sql) reads the whole file, cuts it at every
 * `;` with no regard for quotes or comments, sends every chunk that is not blank after trimming, in order,
 * on a session with `SET NAMES 'utf8'` and `sql_mode='NO_ENGINE_SUBSTITUTION'`, ignores every error and
 * bumps GUI_VERSION anyway. Here the same chunks are sent in the same order with the same session settings,
 * but each error is caught and classified:
 *
 *   expected  the statement's effect is already there (table/column/key exists, row present, thing to drop
 *             absent, comment-only chunk): the same errors a pristine database of that version produces;
 *   failure   anything else: the step stops there, and GUI_VERSION is not bumped.
 */
import type { Connection } from 'mysql2/promise';
import type { ErrorClassification, StatementCounts, StatementError } from './types.ts';
import { InterruptedError } from '../../errors.ts';

/** Splits like ocsreports: on every `;`, chunks blank after trimming are skipped (comment-only ones are kept). */
export function splitLikeOcsreports(sql: string): string[] {
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The session settings of ocsreports ≥ 2.8 (dbconnect with MYSQLI_INIT_COMMAND). */
export const OCS_SESSION_SETTINGS = ["SET NAMES 'utf8'", "SET SESSION sql_mode='NO_ENGINE_SUBSTITUTION'"];

export async function applyOcsSession(conn: Connection): Promise<void> {
  for (const s of OCS_SESSION_SETTINGS) await conn.query(s);
}

function isInsertSelect(body: string): boolean {
  return /^INSERT\s+(IGNORE\s+)?(INTO\s+)?[`\w.]+\s*(\([^)]*\))?\s*SELECT\b/i.test(body);
}

/** Strips SQL comments (for classification only; the statement sent is the original chunk). */
function stripComments(s: string): string {
  return s
    .replace(/\/\*(?!M?!)[\s\S]*?\*\//g, ' ')
    .replace(/^\s*(--|#).*$/gm, ' ')
    .trim();
}

export function excerpt(statement: string, max = 160): string {
  const one = statement.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/**
 * Classifies one statement error. Only errors meaning "this was already done" are expected; everything
 * else (syntax, unknown column/table, data errors, duplicates when adding a unique key) is a failure.
 */
export function classifyOcsError(code: number, statement: string, mode: 'update' | 'bridge' = 'update', message = ''): { classification: ErrorClassification; why: string } {
  const body = stripComments(statement);
  const verb = (/^([A-Za-z]+)/.exec(body)?.[1] ?? '').toUpperCase();
  const expected = (why: string) => ({ classification: 'expected' as const, why });
  const failure = (why: string) => ({ classification: 'failure' as const, why });
  switch (code) {
    case 1065:
      return body === '' ? expected('comment-only chunk (the official updater sends it too)') : failure('empty query');
    case 1050:
      return verb === 'CREATE' || verb === 'RENAME' || verb === 'ALTER' ? expected('table already exists: already applied') : failure('table exists');
    case 1060:
      return expected('duplicate column: already applied');
    case 1061:
      return expected('duplicate key name: already applied');
    case 1068:
      return expected('primary key already defined: already applied');
    case 1091:
      return expected("can't drop: already absent");
    case 1051:
      return verb === 'DROP' ? expected('unknown table on DROP: already absent') : failure('unknown table');
    case 1062:
      // A literal row that is already there. A duplicate raised while adding a unique key or copying rows
      // (INSERT … SELECT) means data would be lost or the key is not created: a real failure.
      if (verb === 'INSERT' && !isInsertSelect(body) && /\bVALUES?\s*\(/i.test(body)) return expected('row already present: already applied');
      return failure('duplicate entry: data conflicts with the change');
    case 1054:
      // The legacy bridge scripts (2.1/2.2 ocsbase.sql) still carry the 1.x → 2.x data moves keyed on the
      // DEVICEID column that 2.x tables no longer have: they fail on every 2.x database.
      if (mode === 'bridge' && /Unknown column '(\w+\.)?DEVICEID'/i.test(message)) return expected('1.x → 2.x migration statement: no DEVICEID column in a 2.x table');
      return failure('unknown column');
    default:
      return failure('error not known to mean "already applied"');
  }
}

async function columnExists(conn: Connection, table: string, column: string): Promise<boolean> {
  const [rows] = await conn.query('SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?', [table, column]);
  return Number((rows as Array<{ n: number | string }>)[0].n) > 0;
}

async function tableExists(conn: Connection, table: string): Promise<boolean> {
  const [rows] = await conn.query("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'", [table]);
  return Number((rows as Array<{ n: number | string }>)[0].n) > 0;
}

const IDENT = '`?([A-Za-z0-9_$]+)`?';

/**
 * Renames that a later file repeats (7069 repeats 7065's column rename, 7070 renames a table that 2.12's
 * 7024 already creates under the new name): when the old name is gone and the new one is there, the
 * error means "already applied". Decided by looking at the database, never by the message alone.
 */
export async function alreadyRenamed(conn: Connection, code: number, statement: string): Promise<string | undefined> {
  const body = stripComments(statement);
  if (code === 1054) {
    const m = new RegExp(`^ALTER\\s+TABLE\\s+${IDENT}\\s+CHANGE\\s+(?:COLUMN\\s+)?${IDENT}\\s+${IDENT}\\s`, 'i').exec(body);
    if (m && m[2].toLowerCase() !== m[3].toLowerCase() && (await columnExists(conn, m[1], m[3])) && !(await columnExists(conn, m[1], m[2]))) {
      return `column ${m[1]}.${m[2]} already renamed to ${m[3]}`;
    }
  }
  if (code === 1146) {
    const m = new RegExp(`^RENAME\\s+TABLE\\s+${IDENT}\\s+TO\\s+${IDENT}\\s*$`, 'i').exec(body);
    if (m && (await tableExists(conn, m[2])) && !(await tableExists(conn, m[1]))) return `table ${m[1]} already renamed to ${m[2]}`;
  }
  return undefined;
}

export interface RunOcsSqlOptions {
  /** Called before each statement; throw to stop (e.g. on abort). */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Statement index (1-based) → extra reason the error is expected (from a baseline), for bridges. */
  knownErrors?: Map<string, string>;
  /** 'bridge' accepts the 1.x-only statements of the legacy base scripts (see classifyOcsError). */
  mode?: 'update' | 'bridge';
  /** Go on after a real failure (bridges: stopping half-way through one leaves dropped keys behind). */
  continueOnFailure?: boolean;
}

export interface RunOcsSqlResult {
  statements: StatementCounts;
  errors: StatementError[];
  /** The first real failure, when the run stopped on it. */
  stoppedAt?: StatementError;
}

function errorKey(code: number, statement: string): string {
  return `${code}\u0000${excerpt(statement, 400)}`;
}

export { errorKey as ocsErrorKey };

/**
 * Runs the statements of one file on `conn` (session settings already applied), stopping at the first
 * real failure. Expected errors are collected and the run goes on, like the official updater.
 */
export async function runOcsSql(conn: Connection, sql: string, options: RunOcsSqlOptions = {}): Promise<RunOcsSqlResult> {
  const chunks = splitLikeOcsreports(sql);
  const counts: StatementCounts = { total: chunks.length, ok: 0, expectedErrors: 0, failed: 0 };
  const errors: StatementError[] = [];
  for (let i = 0; i < chunks.length; i++) {
    if (options.signal?.aborted) throw new InterruptedError(`interrupted before statement ${i + 1} of ${chunks.length}`);
    const statement = chunks[i];
    try {
      await conn.query(statement);
      counts.ok++;
    } catch (err) {
      const e = err as { errno?: number; sqlMessage?: string; message?: string; fatal?: boolean };
      const code = typeof e.errno === 'number' ? e.errno : 0;
      const message = e.sqlMessage ?? e.message ?? String(err);
      let { classification, why } = code === 0 || e.fatal ? { classification: 'failure' as const, why: 'connection error' } : classifyOcsError(code, statement, options.mode ?? 'update', message);
      if (classification === 'failure' && code !== 0 && !e.fatal) {
        const probed = await alreadyRenamed(conn, code, statement);
        if (probed) {
          classification = 'expected';
          why = probed;
        }
      }
      const known = options.knownErrors?.get(errorKey(code, statement));
      if (classification === 'failure' && known) {
        classification = 'expected';
        why = known;
      }
      const rec: StatementError = { index: i + 1, code, message, statement: excerpt(statement), classification, why };
      errors.push(rec);
      if (classification === 'expected') {
        counts.expectedErrors++;
        options.log?.(`  statement ${i + 1}: expected error ${code} (${why})`);
      } else {
        counts.failed++;
        options.log?.(`  statement ${i + 1}: FAILED ${code} ${message}`);
        if (!options.continueOnFailure) return { statements: counts, errors, stoppedAt: rec };
      }
    }
  }
  return { statements: counts, errors };
}

/** GUI_VERSION as stored (config.TVALUE of NAME='GUI_VERSION'), or undefined when there is no row. */
export async function readGuiVersion(conn: Connection, database?: string): Promise<number | undefined> {
  const table = database ? `\`${database.replace(/`/g, '``')}\`.config` : 'config';
  const [rows] = await conn.query(`SELECT TVALUE FROM ${table} WHERE NAME = 'GUI_VERSION'`);
  const v = (rows as Array<{ TVALUE: string | null }>)[0]?.TVALUE;
  if (v === undefined || v === null) return undefined;
  const n = Number(String(v).trim());
  return Number.isFinite(n) ? n : undefined;
}

/** Writes GUI_VERSION like update.php (TVALUE of the existing row; the row is created if missing). */
export async function writeGuiVersion(conn: Connection, version: number): Promise<void> {
  const [res] = await conn.query("UPDATE config SET TVALUE = ? WHERE NAME = 'GUI_VERSION'", [String(version)]);
  if ((res as { affectedRows?: number }).affectedRows === 0) {
    const [rows] = await conn.query("SELECT COUNT(*) AS n FROM config WHERE NAME = 'GUI_VERSION'");
    if (Number((rows as Array<{ n: number }>)[0].n) === 0) {
      await conn.query("INSERT INTO config (NAME, IVALUE, TVALUE, COMMENTS) VALUES ('GUI_VERSION', 0, ?, 'Version of the installed GUI and database')", [String(version)]);
    }
  }
}

/** Names of the tables an OCS SQL file writes (created, altered, dropped, renamed, filled, emptied). */
export function tablesNamedInOcsSql(sql: string): string[] {
  const names = new Set<string>();
  const id = '`?([A-Za-z0-9_$]+)`?';
  const patterns = [
    new RegExp(`CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${id}`, 'gi'),
    new RegExp(`ALTER\\s+TABLE\\s+${id}`, 'gi'),
    new RegExp(`DROP\\s+TABLE\\s+(?:IF\\s+EXISTS\\s+)?${id}`, 'gi'),
    new RegExp(`RENAME\\s+TABLE\\s+${id}\\s+TO\\s+${id}`, 'gi'),
    new RegExp(`(?:INSERT|REPLACE)\\s+(?:IGNORE\\s+)?(?:INTO\\s+)?${id}`, 'gi'),
    new RegExp(`UPDATE\\s+(?:IGNORE\\s+)?${id}\\s+SET`, 'gi'),
    new RegExp(`DELETE\\s+FROM\\s+${id}`, 'gi'),
    new RegExp(`TRUNCATE\\s+(?:TABLE\\s+)?${id}`, 'gi'),
  ];
  for (const chunk of splitLikeOcsreports(sql)) {
    const body = stripComments(chunk);
    for (const re of patterns) {
      re.lastIndex = 0;
      for (const m of body.matchAll(re)) {
        for (const g of m.slice(1)) if (g && !/^(IF|INTO|TABLE|SET|IGNORE)$/i.test(g)) names.add(g);
      }
    }
  }
  return [...names].sort();
}

/** One clause of an ALTER TABLE that only adds or drops an index (the rows, and CHECKSUM TABLE, stay as they are). */
const INDEX_CLAUSE =
  /^(?:ADD|DROP)\s+(?:(?:UNIQUE|FULLTEXT|SPATIAL)\s+)?(?:INDEX|KEY)\b|^ADD\s+(?:CONSTRAINT\s+\S+\s+)?(?:UNIQUE|PRIMARY\s+KEY)\b|^DROP\s+PRIMARY\s+KEY\b|^ADD\s+(?:FULLTEXT|SPATIAL)\b/i;

/** Splits an ALTER TABLE's clause list on top-level commas (not those inside parentheses or quotes). */
function alterClauses(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of list) {
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/**
 * Tables that an OCS SQL file changes only by adding or dropping indexes: every statement naming them is an
 * ALTER TABLE (not ALTER IGNORE, which deletes duplicate rows) whose clauses all add or drop an index, or a
 * CREATE/DROP INDEX. Their rows cannot change, so the runner may count them without a new CHECKSUM TABLE
 * (the full pass at the end of the chain still proves it).
 */
export function indexOnlyTablesInOcsSql(sql: string): string[] {
  const indexOnly = new Set<string>();
  const other = new Set<string>();
  const id = '`?([A-Za-z0-9_$]+)`?';
  const alter = new RegExp(`^ALTER\\s+(IGNORE\\s+)?TABLE\\s+${id}\\s+([\\s\\S]*)$`, 'i');
  const createIndex = new RegExp(`^CREATE\\s+(?:UNIQUE\\s+|FULLTEXT\\s+|SPATIAL\\s+)?INDEX\\s+\\S+\\s+ON\\s+${id}`, 'i');
  const dropIndex = new RegExp(`^DROP\\s+INDEX\\s+\\S+\\s+ON\\s+${id}`, 'i');
  for (const chunk of splitLikeOcsreports(sql)) {
    const body = stripComments(chunk).trim().replace(/;\s*$/, '');
    if (!body) continue;
    const a = alter.exec(body);
    if (a) {
      const onlyIndexes = !a[1] && alterClauses(a[3]).every((c) => INDEX_CLAUSE.test(c));
      (onlyIndexes ? indexOnly : other).add(a[2]);
      continue;
    }
    const ci = createIndex.exec(body) ?? dropIndex.exec(body);
    if (ci) {
      indexOnly.add(ci[1]);
      continue;
    }
    for (const t of tablesNamedInOcsSql(body)) other.add(t);
  }
  return [...indexOnly].filter((t) => !other.has(t)).sort();
}
