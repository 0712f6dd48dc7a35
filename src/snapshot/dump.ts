/**
 * Taking a snapshot: a consistent, byte-exact copy of the GLPI and OCS databases, read-only on the source.
 *
 * Consistency without ever stalling production (docs/snapshot.md, "How the copy is made consistent"). In
 * MariaDB a write queued on a MyISAM table blocks every later read of that table from other sessions: so a
 * session holding `LOCK TABLES … READ` while OTHER sessions read the tables deadlocks as soon as a writer
 * queues (the reader waits for the writer, the writer for the lock, the lock for the reader). Two methods
 * under which no reader ever queues behind a writer:
 *
 *  - global-read-lock (the account has RELOAD): one control session per server takes FLUSH TABLES WITH READ
 *    LOCK. Writers then wait on the global (backup) lock before they open any table, never in a table's lock
 *    queue, so the readers copy MyISAM tables in parallel. One lock covers every database of the server,
 *    whatever account reads them.
 *  - table-locks (no RELOAD): each account's control session takes LOCK TABLES … READ on its tables and copies
 *    every non-transactional table ITSELF (a session never waits on its own lock); the other sessions read
 *    only InnoDB tables, which writers wait for at the metadata-lock level, where pending writes do not block reads.
 *
 * Every lock of every server is taken before anything is read, and every reader opens
 * `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` while they are all held: GLPI and OCS come from one
 * instant, even through two accounts or two servers. Each lock is released as soon as its non-transactional
 * tables are copied (read, hashed and spooled uncompressed; compressed after the release);
 * InnoDB tables are then read from the transactions while writers work again.
 * A watchdog bounds the time writers can be held (request to release, `maxLockMs`): past it, the lock holder
 * is killed by a monitor session of the same account, everything is closed and LockTimeoutError (exit 12) is
 * thrown. The monitor also samples the process list for the longest write wait (needs PROCESS to see it).
 * `lock: false` skips all locking (for a replica), with a warning.
 *
 * Proof: every row is hashed as it is read (src/snapshot/digest.ts); the manifest records each table's row
 * count and content digest, which `restore` recomputes from the restored table. (Older snapshots recorded
 * CHECKSUM TABLE instead, which MyISAM computes one row read at a time, under the lock: restore still checks those.)
 *
 * Byte-exactness: readers set character_set_results = binary and time_zone = '+00:00' and take every value as
 * the raw bytes the server sends (mysql2 typeCast: false), then write them escaped in LOAD DATA's text format.
 * FLOAT columns are read as `col + 0e0` (the server's FLOAT text form drops digits), BIT as integers, ENUMs
 * with an empty-string member as their index.
 *
 * Every session is READ ONLY (connectReadOnly) and only session variables are set: nothing persists.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from '../db/connect.ts';
import { connectReadOnly, coreOf, qi, translateDbError } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { formatDsn } from '../db/dsn.ts';
import type { ServerInfo, TableInfo } from '../db/introspect.ts';
import { databaseCharset, listTables, serverInfo } from '../db/introspect.ts';
import { detectConnector, detectGlpiVersion, detectOcsVersion } from '../inspect/detect.ts';
import { ConnectionError, InterruptedError, LockTimeoutError, NotFoundError, ToolError, UsageError } from '../errors.ts';
import { onInterrupt, onShutdown } from '../util/shutdown.ts';
import { Stopper } from '../util/abort.ts';
import { TOOL_VERSION } from '../version.ts';
import type { DatabaseRole, Manifest, ManifestColumn, ManifestConsistency, ManifestDatabase, ManifestFile, ManifestLock, ManifestTable } from './manifest-types.ts';
import { MANIFEST_FORMAT } from './manifest-types.ts';
import type { ChunkSink } from './files.ts';
import { GzipFileWriter, INCOMPLETE_MARKER, SpoolFileWriter, compressSpool, diskError, isEmptyDir, safeName, writeGzipText } from './files.ts';
import { computeSnapshotId, manifestFiles, writeManifest } from './manifest.ts';
import { RowEncoder, columnEncoding, selectList } from './tsv.ts';
import { queryRawRows } from './raw-query.ts';
import { RowDigest } from './digest.ts';

export interface SnapshotSource {
  role: DatabaseRole;
  dsn: Dsn;
}

export type SnapshotProgress =
  | { type: 'plan'; tables: number; chunks: number; estimatedBytes: number; estimatedRows: number; jobs: number }
  | { type: 'connections'; server: string; control: number; readers: number[] }
  | { type: 'locked'; server: string; account: string; method: LockMethod; tables: number; waitedMs: number }
  | { type: 'unlocked'; server: string; account: string; method: LockMethod; heldMs: number }
  | { type: 'chunk'; role: DatabaseRole; table: string; index: number; rows: number; rawBytes: number; fileBytes: number }
  | { type: 'table'; role: DatabaseRole; table: string; rows: number; done: number; total: number }
  | { type: 'warning'; message: string };

export interface SnapshotOptions {
  sources: SnapshotSource[];
  outDir: string;
  /** Parallel reader sessions per server (default: fitted to the machine's cores). */
  jobs?: number;
  /** Read lock on non-transactional tables (default true). */
  lock?: boolean;
  /** gzip level 0–9 (default 1: compression is the dump's main CPU cost). */
  compressionLevel?: number;
  generated?: Manifest['generated'];
  /** Big tables with an integer primary key are split into files of about this many bytes (default 64 MiB). */
  chunkBytes?: number;
  /**
   * The longest production writes may be held by a lock, from its request to its release, in ms (default
   * DEFAULT_MAX_LOCK_MS). Past it the snapshot stops, releases everything and throws LockTimeoutError (exit 12).
   */
  maxLockMs?: number;
  /** Awaited: a slow listener slows the snapshot down (tests use it to act at a precise moment). */
  onProgress?: (e: SnapshotProgress) => void | Promise<void>;
}

export type LockMethod = 'global-read-lock' | 'table-locks';

/**
 * 60 s: long enough to copy the MyISAM tables of a large GLPI 0.83 under the global lock (the lock covers part
 * of the snapshot; at 50,000 computers, while it also covered the MyISAM tables' CHECKSUM TABLE, the lock was held
 * about 14 s on a quiet 2-vCPU EPYC machine and 50–115 s on a saturated one: docs/benchmarks.md),
 * short enough that a GLPI page or an OCS agent upload waiting on it is delayed, not failed (Apache's default
 * Timeout is 300 s; PHP's max_execution_time does not count the wait).
 */
export const DEFAULT_MAX_LOCK_MS = 60_000;

export function defaultJobs(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, 8));
}

interface TablePlan {
  role: DatabaseRole;
  db: string;
  info: TableInfo;
  columns: ManifestColumn[];
  /** information_schema DATA_TYPE of each column in `columns`. */
  types: string[];
  createSql: string;
  transactional: boolean;
  chunks: Array<{ index: number; where: string | null }>;
  chunkedBy?: string;
  files: Array<ManifestFile | undefined>;
  rows: number;
  /** The content digest of the rows copied so far (every chunk adds to it). */
  digest: RowDigest;
  pending: number;
}

interface DatabasePlan {
  role: DatabaseRole;
  db: string;
  dsn: Dsn;
  entry: ManifestDatabase;
  tables: TablePlan[];
}

type Task =
  | { kind: 'chunk'; t: TablePlan; index: number; where: string | null; cost: number }
  /** A chunk copied into a spool file under the lock, to compress into its gzip file once the lock is released. */
  | { kind: 'compress'; t: TablePlan; index: number; rel: string; rows: number; rawBytes: number; cost: number };

const INT_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

const LOST_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ER_CONNECTION_KILLED', 'ECONNRESET', 'EPIPE', 'ER_QUERY_INTERRUPTED', 'ER_SERVER_SHUTDOWN']);

function lostError(err: unknown, dsn: Dsn, what: string): ToolError {
  const code = (err as { code?: string })?.code ?? '';
  if (LOST_CODES.has(code) || /closed the connection|Connection lost|killed/i.test(String((err as Error)?.message))) {
    return new ConnectionError(`the ${what} connection to ${formatDsn(dsn)} was lost during the snapshot (${code || 'closed'}); nothing was kept and the read lock is released`, {
      hint: 'take the snapshot again; if it happens again, check whether something kills long queries (wait_timeout, max_statement_time, a watchdog)',
      cause: err,
    });
  }
  return translateDbError(err, dsn);
}

function stripDefiner(sql: string): string {
  return sql.replace(/\s+DEFINER\s*=\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)@(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s]+)/i, '');
}

/**
 * A trigger's original statement names its database when it was created as `db`.`trigger` … ON `db`.`table`:
 * restored under another name, it would land in (or fail on) the source database. The qualifier is dropped
 * from the header (up to FOR EACH ROW) when it is the trigger's own database; the body is left as written.
 */
export function unqualifyTrigger(sql: string, db: string): string {
  const m = /\bFOR\s+EACH\s+ROW\b/i.exec(sql);
  if (!m) return sql;
  const quoted = `\`${db.replace(/`/g, '``')}\``;
  const names = [quoted, ...(/^[A-Za-z0-9_$]+$/.test(db) ? [db] : [])].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const qualifier = new RegExp(`(^|[\\s(])(?:${names.join('|')})\\s*\\.\\s*(?=[\`A-Za-z0-9_$])`, 'g');
  return sql.slice(0, m.index).replace(qualifier, '$1') + sql.slice(m.index);
}

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

async function q<T = Record<string, unknown>>(conn: Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await conn.query(sql, params);
  return rows as T[];
}

function serverKey(dsn: Dsn): string {
  return `${dsn.user}@${dsn.socket ?? `${dsn.host}:${dsn.port}`}`;
}

/** Reads everything about one database the snapshot needs, before any lock. */
async function planDatabase(ctrl: Connection, role: DatabaseRole, dsn: Dsn, chunkBytes: number, warn: (m: string) => void): Promise<DatabasePlan> {
  const db = dsn.database!;
  const cs = await databaseCharset(ctrl, db);
  if (!cs) throw new NotFoundError(`database "${db}" does not exist on ${formatDsn(dsn)}`);
  const all = await listTables(ctrl, db);
  const base = all.filter((t) => t.type === 'BASE TABLE');
  for (const t of all.filter((x) => x.type === 'SEQUENCE')) warn(`${role}: sequence ${t.name} is not part of the snapshot`);
  const cols = await q<{ t: string; c: string; dt: string; ct: string; extra: string; gen: string | null }>(
    ctrl,
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, COLUMN_TYPE AS ct, EXTRA AS extra, IS_GENERATED AS gen
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [db],
  );
  // The first column of the primary key: ranges on it split a table into disjoint, complete parts
  // (OCS softwares has PRIMARY KEY (HARDWARE_ID, ID)).
  const pks = await q<{ t: string; c: string }>(
    ctrl,
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND INDEX_NAME = 'PRIMARY' AND SEQ_IN_INDEX = 1`,
    [db],
  );
  const colsByTable = new Map<string, Array<{ c: string; dt: string; ct: string; generated: boolean }>>();
  for (const c of cols) {
    const list = colsByTable.get(c.t) ?? [];
    list.push({ c: c.c, dt: c.dt, ct: c.ct, generated: (c.gen ?? 'NEVER') !== 'NEVER' || /VIRTUAL|STORED|PERSISTENT/i.test(c.extra ?? '') });
    colsByTable.set(c.t, list);
  }
  const pkByTable = new Map(pks.map((p) => [p.t, p.c]));

  await ctrl.query(`USE ${qi(db)}`);
  const tables: TablePlan[] = [];
  for (const info of base) {
    const [r] = await ctrl.query({ sql: `SHOW CREATE TABLE ${qi(db)}.${qi(info.name)}`, rowsAsArray: true });
    const createSql = String((r as unknown[][])[0][1]);
    const tcols = colsByTable.get(info.name) ?? [];
    const stored = tcols.filter((c) => !c.generated);
    const columns: ManifestColumn[] = stored.map((c) => ({ name: c.c, encoding: columnEncoding(c.dt, c.ct) }));
    const plan: TablePlan = {
      role,
      db,
      info,
      columns,
      types: stored.map((c) => c.dt),
      createSql,
      transactional: (info.engine ?? '').toLowerCase() === 'innodb',
      chunks: [{ index: 0, where: null }],
      files: [],
      rows: 0,
      digest: new RowDigest(),
      pending: 0,
    };
    const pk = pkByTable.get(info.name);
    const pkType = tcols.find((c) => c.c === pk)?.dt.toLowerCase();
    const want = Math.min(64, Math.ceil(info.dataBytes / chunkBytes));
    if (pk && pkType && INT_TYPES.has(pkType) && want > 1) {
      const [mm] = await ctrl.query({ sql: `SELECT MIN(${qi(pk)}), MAX(${qi(pk)}) FROM ${qi(db)}.${qi(info.name)}`, rowsAsArray: true });
      const [lo, hi] = (mm as unknown[][])[0];
      if (lo !== null && hi !== null) {
        const min = BigInt(String(lo));
        const max = BigInt(String(hi));
        const span = max - min + 1n;
        const n = BigInt(want) > span ? Number(span) : want;
        if (n > 1) {
          const bounds: bigint[] = [];
          for (let i = 1; i < n; i++) bounds.push(min + (span * BigInt(i)) / BigInt(n));
          const col = qi(pk);
          plan.chunks = [];
          for (let i = 0; i <= bounds.length; i++) {
            const conds: string[] = [];
            if (i > 0) conds.push(`${col} >= ${bounds[i - 1]}`);
            if (i < bounds.length) conds.push(`${col} < ${bounds[i]}`);
            plan.chunks.push({ index: i, where: conds.join(' AND ') });
          }
          plan.chunkedBy = pk;
        }
      }
    }
    tables.push(plan);
  }

  const entry: ManifestDatabase = { role, name: db, charset: cs.charset, collation: cs.collation, tables: [], views: [], triggers: [], routines: [], warnings: [] };
  if (role === 'glpi') {
    entry.glpi = { version: await detectGlpiVersion(ctrl, db), connector: await detectConnector(ctrl, db) };
  } else {
    entry.ocs = { version: await detectOcsVersion(ctrl, db) };
  }
  return { role, db, dsn, entry, tables };
}

/** Views, triggers and routines: read and written as small SQL files. */
async function dumpObjects(ctrl: Connection, p: DatabasePlan, outDir: string, level: number): Promise<void> {
  const db = p.db;
  const dir = p.role;
  await ctrl.query(`USE ${qi(db)}`);
  const views = (await listTables(ctrl, db)).filter((t) => t.type === 'VIEW');
  for (const v of views) {
    const [r] = await ctrl.query({ sql: `SHOW CREATE VIEW ${qi(db)}.${qi(v.name)}`, rowsAsArray: true });
    const text = stripDefiner(String((r as unknown[][])[0][1]));
    const file = await writeGzipText(outDir, `${dir}/${safeName(v.name)}.view.sql.gz`, `SET NAMES utf8mb4;\n${text};\n`, level);
    p.entry.views.push({ name: v.name, file });
  }
  const triggers = await q<{ name: string; tbl: string }>(
    ctrl,
    'SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER',
    [db],
  );
  for (const t of triggers) {
    const [rows] = await ctrl.query(`SHOW CREATE TRIGGER ${qi(db)}.${qi(t.name)}`);
    const row = (rows as Array<Record<string, unknown>>)[0];
    const stmt = row?.['SQL Original Statement'];
    if (!stmt) {
      p.entry.warnings!.push(`trigger ${t.name}: its definition could not be read (missing TRIGGER privilege?)`);
      continue;
    }
    const text = `SET NAMES utf8mb4;\nSET SESSION sql_mode = ${sqlString(String(row.sql_mode ?? ''))};\nDELIMITER ;;\n${unqualifyTrigger(stripDefiner(String(stmt)), db)};;\nDELIMITER ;\n`;
    const file = await writeGzipText(outDir, `${dir}/${safeName(t.name)}.trigger.sql.gz`, text, level);
    p.entry.triggers.push({ name: t.name, table: t.tbl, file });
  }
  const routines = await q<{ name: string; type: 'PROCEDURE' | 'FUNCTION' }>(
    ctrl,
    "SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('PROCEDURE','FUNCTION') ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
    [db],
  );
  // information_schema.ROUTINES lists only the routines this account may use: without read access to
  // mysql.proc, routines defined by others are invisible, and an empty list proves nothing.
  try {
    const [n] = await q<{ n: unknown }>(ctrl, "SELECT COUNT(*) AS n FROM mysql.proc WHERE db = ? AND type IN ('PROCEDURE','FUNCTION')", [db]);
    const total = Number(n?.n ?? 0);
    if (total > routines.length) {
      p.entry.routinesUnreadable = `${total - routines.length} of ${total} stored routines are not visible to the account`;
    }
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    p.entry.routinesUnreadable =
      code === 'ER_NO_SUCH_TABLE'
        ? 'the server has no mysql.proc: whether routines exist that the account cannot see could not be checked'
        : 'the account cannot read mysql.proc, so stored routines it does not own are invisible to it';
  }
  if (p.entry.routinesUnreadable) {
    p.entry.warnings!.push(`routines could not be read: ${p.entry.routinesUnreadable}; the snapshot may lack procedures or functions (GRANT SELECT ON mysql.proc to the account to copy them)`);
  }
  for (const r of routines) {
    let row: Record<string, unknown> | undefined;
    try {
      const [rows] = await ctrl.query(`SHOW CREATE ${r.type} ${qi(db)}.${qi(r.name)}`);
      row = (rows as Array<Record<string, unknown>>)[0];
    } catch {
      row = undefined;
    }
    const stmt = row?.[r.type === 'PROCEDURE' ? 'Create Procedure' : 'Create Function'];
    if (!row || !stmt) {
      p.entry.warnings!.push(`${r.type.toLowerCase()} ${r.name}: its definition could not be read (the account needs SELECT on mysql.proc or to be its definer)`);
      continue;
    }
    const text = `SET NAMES utf8mb4;\nSET SESSION sql_mode = ${sqlString(String(row.sql_mode ?? ''))};\nDELIMITER ;;\n${stripDefiner(String(stmt))};;\nDELIMITER ;\n`;
    const file = await writeGzipText(outDir, `${dir}/${safeName(r.name)}.${r.type.toLowerCase()}.sql.gz`, text, level);
    p.entry.routines.push({ name: r.name, type: r.type, file });
  }
}

function schemaFileText(t: TablePlan): string {
  return (
    `-- glpi-ocs-upgrade snapshot: structure of ${qi(t.db)}.${qi(t.info.name)} (${t.info.engine ?? 'unknown engine'})\n` +
    `SET NAMES utf8mb4;\nSET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\n${t.createSql};\n`
  );
}

/**
 * Streams one SELECT into one gzip file, pausing the connection when the compressor falls behind; every row is
 * added to the table's digest as it arrives (a failed chunk fails the whole snapshot, digest and all).
 */
function dumpChunk(conn: Connection, sql: string, writer: ChunkSink, digest: RowDigest, onRaw: (n: number) => void): Promise<number> {
  const raw = coreOf(conn);
  return new Promise<number>((resolve, reject) => {
    const enc = new RowEncoder();
    let rows = 0;
    let paused = false;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      if (paused) raw.resume();
      reject(err);
    };
    const flush = (b: Buffer) => {
      onRaw(b.length);
      let ok: boolean;
      try {
        ok = writer.write(b);
      } catch (err) {
        fail(err);
        return;
      }
      if (!ok && !paused) {
        paused = true;
        raw.pause();
        writer.onDrain(() => {
          // Always: the last flush can pause the connection after the query ended.
          paused = false;
          raw.resume();
        });
      }
    };
    const { done } = queryRawRows(raw, sql, (buf, start, end) => {
      if (settled) return;
      digest.addRow(buf, start, end);
      enc.rowFromPacket(buf, start, end, flush);
      rows++;
    });
    done.then(() => {
      if (settled) return;
      if (enc.length > 0) flush(enc.take());
      settled = true;
      // The last flush may have paused the connection; 'drain' can come after the writer is closed (or never):
      // resume now, or the next query on this connection would hang.
      if (paused) {
        paused = false;
        raw.resume();
      }
      resolve(rows);
    }, fail);
  });
}

/** One account on one server: its control session, its readers, the databases it reads. */
interface Account {
  key: string;
  dsn: Dsn;
  /** Server address without database (for messages). */
  where: string;
  sources: SnapshotSource[];
  ctrl: Connection;
  /** Idle session of the same account: samples the process list while locked, kills the lock holder on timeout. */
  monitor?: Connection;
  readers: Connection[];
  plans: DatabasePlan[];
  tables: TablePlan[];
  /** The server's identity (hostname, port, datadir): two addresses of one server share one global lock. */
  identity: string;
  /** The account has PROCESS: it sees other sessions in the process list. */
  seesOthers: boolean;
  lock?: Lock;
  /** Work for the readers; with table-locks, the non-transactional part is in ctrlQueue (the control reads it). */
  queue: Task[];
  ctrlQueue: Task[];
  /** Chunks spooled under the lock, waiting to be compressed (taken first once the lock is released). */
  compressQueue: Task[];
}

interface Lock {
  method: LockMethod;
  holder: Account;
  /** Accounts whose tables it freezes. */
  accounts: Account[];
  requestedAt: number;
  acquiredAt?: number;
  released: boolean;
  heldMs: number;
  /** Non-transactional tasks left before it can be released. */
  pending: number;
  longestWriteWaitMs: number | null;
  timer?: NodeJS.Timeout;
  sampler?: NodeJS.Timeout;
  /** Thread ids of this tool on the lock's server (not counted as waiting writers). */
  ours: number[];
}

/** With several table locks on one server, how long each lock after the first may wait before all are retried. */
const NEXT_LOCK_WAIT_SEC = 2;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const DENIED_CODES = new Set(['ER_SPECIFIC_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_ERROR']);

/** The server's process list: the longest time a statement has been waiting for a lock, ms (ours excluded). */
async function sampleWriteWait(monitor: Connection, ours: number[]): Promise<number> {
  const not = ours.length ? ` AND ID NOT IN (${ours.map((n) => Number(n)).join(',')})` : '';
  const where = `COMMAND = 'Query' AND STATE LIKE 'Waiting for%lock%'${not}`;
  try {
    const [r] = await monitor.query({ sql: `SELECT COALESCE(MAX(TIME_MS), 0) FROM information_schema.PROCESSLIST WHERE ${where}`, rowsAsArray: true });
    return Math.round(Number((r as unknown[][])[0][0]));
  } catch {
    // MySQL has no TIME_MS.
    const [r] = await monitor.query({ sql: `SELECT COALESCE(MAX(TIME), 0) * 1000 FROM information_schema.PROCESSLIST WHERE ${where}`, rowsAsArray: true });
    return Number((r as unknown[][])[0][0]);
  }
}

/** Takes a snapshot of the given databases into `outDir` (which must not exist or be empty). */
export async function takeSnapshot(opts: SnapshotOptions): Promise<Manifest> {
  const started = Date.now();
  if (opts.sources.length === 0) throw new UsageError('nothing to snapshot: give at least one database (--glpi and/or --ocs)');
  const roles = opts.sources.map((s) => s.role);
  if (new Set(roles).size !== roles.length) throw new UsageError('each database role (glpi, ocs) can be given only once');
  for (const s of opts.sources) if (!s.dsn.database) throw new UsageError(`the ${s.role} address needs a database name`);
  const jobs = Math.max(1, Math.floor(opts.jobs ?? defaultJobs()));
  const level = opts.compressionLevel ?? 1;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new UsageError(`compression level must be 0–9, not ${level}`);
  const lock = opts.lock ?? true;
  const chunkBytes = Math.max(1, opts.chunkBytes ?? 64 * 1024 * 1024);
  const maxLockMs = opts.maxLockMs ?? DEFAULT_MAX_LOCK_MS;
  if (!(maxLockMs > 0)) throw new UsageError(`the lock limit must be positive, not ${maxLockMs} ms`);
  // Every session bounds its own lock waits: the control's lock request, and readers that should never wait.
  const lockWaitSec = Math.max(1, Math.ceil(maxLockMs / 1000) + 1);
  const outDir = path.resolve(opts.outDir);
  const emit = async (e: SnapshotProgress) => {
    if (opts.onProgress) await opts.onProgress(e);
  };

  const empty = await isEmptyDir(outDir);
  if (empty === false) throw new UsageError(`${outDir} is not empty`, { hint: 'give a new directory, or remove the old snapshot first' });
  const createdDir = empty === undefined;
  const created: string[] = [];
  try {
    await fsp.mkdir(outDir, { recursive: true });
    await fsp.writeFile(path.join(outDir, INCOMPLETE_MARKER), `snapshot in progress since ${new Date(started).toISOString()} (pid ${process.pid})\n`);
    created.push(INCOMPLETE_MARKER);
    for (const role of roles) {
      await fsp.mkdir(path.join(outDir, role), { recursive: true });
      created.push(role);
    }
  } catch (err) {
    throw diskError(err, `creating ${outDir}`);
  }
  const removePartial = () => {
    try {
      if (createdDir) fs.rmSync(outDir, { recursive: true, force: true });
      else for (const c of created) fs.rmSync(path.join(outDir, c), { recursive: true, force: true });
    } catch {
      /* the marker file says the directory is incomplete */
    }
  };
  const removeShutdownHook = onShutdown(removePartial);

  // Connections and file writers are destroyed at the first failure, and every query races it. Once the lock
  // limit is passed, every later failure (the killed lock holder, closed readers) is that one.
  const stopper = new Stopper();
  let lockTimeout: LockTimeoutError | undefined;
  const abort = (err: unknown) => stopper.stop(lockTimeout ?? err);
  const removeInterrupt = onInterrupt(() => abort(new InterruptedError('snapshot interrupted; the partial directory was removed')));

  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
  };
  let source: Manifest['source'] | undefined;
  const databases: DatabasePlan[] = [];
  const accounts: Account[] = [];
  const locks: Lock[] = [];
  let totalRows = 0;
  let totalBytes = 0;
  let done = false;

  const track = (c: Connection, what: string, dsn: Dsn) => {
    stopper.track(c);
    const core = coreOf(c);
    core.on('error', (err: unknown) => abort(lostError(err, dsn, what)));
    core.on('end', () => {
      if (!done) abort(lostError(Object.assign(new Error('the server closed the connection'), { code: 'PROTOCOL_CONNECTION_LOST' }), dsn, what));
    });
    return c;
  };
  const clearLockTimers = () => {
    for (const l of locks) {
      clearTimeout(l.timer);
      clearInterval(l.sampler);
    }
  };

  try {
    // 1. Per account: the control session plans its databases and writes schema files, views, triggers and
    //    routines, all before any lock.
    const byKey = new Map<string, SnapshotSource[]>();
    for (const s of opts.sources) {
      const key = serverKey(s.dsn);
      byKey.set(key, [...(byKey.get(key) ?? []), s]);
    }
    for (const [key, sources] of byKey) {
      const dsn = sources[0].dsn;
      const a: Account = {
        key,
        dsn,
        where: formatDsn({ ...dsn, database: undefined }),
        sources,
        ctrl: track(await connectReadOnly(dsn), 'control', dsn),
        readers: [],
        plans: [],
        tables: [],
        identity: '',
        seesOthers: false,
        queue: [],
        ctrlQueue: [],
        compressQueue: [],
      };
      accounts.push(a);
      await a.ctrl.query("SET SESSION time_zone = '+00:00', lock_wait_timeout = ?", [lockWaitSec]);
      const info: ServerInfo = await serverInfo(a.ctrl);
      source ??= {
        serverVersion: info.version,
        sqlMode: info.sqlMode,
        characterSetServer: info.characterSetServer,
        collationServer: info.collationServer,
        lowerCaseTableNames: info.lowerCaseTableNames,
        ...(opts.generated ? {} : { address: a.where }),
      };
      const [id] = await a.ctrl.query({ sql: 'SELECT @@hostname, @@port, @@datadir', rowsAsArray: true });
      a.identity = JSON.stringify((id as unknown[][])[0]);
      for (const s of a.sources) a.plans.push(await planDatabase(a.ctrl, s.role, s.dsn, chunkBytes, warn));
      databases.push(...a.plans);
      a.tables = a.plans.flatMap((p) => p.tables);
      for (const t of a.tables) {
        t.files[0] = await writeGzipText(outDir, `${t.role}/${safeName(t.info.name)}.schema.sql.gz`, schemaFileText(t), level);
      }
      for (const p of a.plans) await dumpObjects(a.ctrl, p, outDir, level);
    }
    const allTables = accounts.flatMap((a) => a.tables);

    // 2. Servers: accounts reaching the same server (same hostname, port and datadir) share its global lock.
    const servers = new Map<string, Account[]>();
    for (const a of accounts) servers.set(a.identity, [...(servers.get(a.identity) ?? []), a]);

    // 3. Work, readers and monitors.
    for (const a of accounts) {
      const tasks: Task[] = [];
      for (const t of a.tables) {
        const per = Math.max(1, t.info.dataBytes) / t.chunks.length;
        for (const c of t.chunks) tasks.push({ kind: 'chunk', t, index: c.index, where: c.where, cost: per });
        t.pending = t.chunks.length;
      }
      // Non-transactional work first (it holds the lock), biggest first in each class.
      tasks.sort((x, y) => Number(x.t.transactional) - Number(y.t.transactional) || y.cost - x.cost);
      a.queue = tasks;
      await emit({
        type: 'plan',
        tables: a.tables.length,
        chunks: tasks.filter((x) => x.kind === 'chunk').length,
        estimatedBytes: a.tables.reduce((n, t) => n + t.info.dataBytes, 0),
        estimatedRows: a.tables.reduce((n, t) => n + t.info.estimatedRows, 0),
        jobs,
      });
    }
    for (const group of servers.values()) {
      const share = Math.max(1, Math.floor(jobs / group.length));
      for (const a of group) {
        const n = Math.max(1, Math.min(share, a.queue.length));
        for (let i = 0; i < n; i++) {
          const r = track(await connectReadOnly(a.dsn), `reader ${i + 1}`, a.dsn);
          await r.query("SET SESSION character_set_results = binary, time_zone = '+00:00', net_write_timeout = 3600, net_read_timeout = 3600, lock_wait_timeout = ?", [lockWaitSec]);
          a.readers.push(r);
        }
        if (lock) {
          a.monitor = track(await connectReadOnly(a.dsn), 'monitor', a.dsn);
          await a.monitor.query('SET SESSION lock_wait_timeout = 5');
          const [p] = await a.monitor.query({
            sql: `SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'PROCESS'
                    AND GRANTEE = CONCAT("'", SUBSTRING_INDEX(CURRENT_USER(), '@', 1), "'@'", SUBSTRING_INDEX(CURRENT_USER(), '@', -1), "'")`,
            rowsAsArray: true,
          });
          a.seesOthers = Number((p as unknown[][])[0][0]) > 0;
          // With table-locks the control copies non-transactional tables: its results must be raw bytes too.
          await a.ctrl.query('SET SESSION character_set_results = binary, net_write_timeout = 3600, net_read_timeout = 3600');
        }
        await emit({ type: 'connections', server: a.where, control: a.ctrl.threadId ?? 0, readers: a.readers.map((r) => r.threadId ?? 0) });
      }
    }
    if (stopper.failure) throw stopper.failure;

    // 4. The consistent point: every lock of every server, before anything is read.
    const timeoutFor = (l: Lock) => async () => {
      if (l.released || stopper.failure) return;
      const waited = ((Date.now() - l.requestedAt) / 1000).toFixed(1);
      const limit = `${(maxLockMs / 1000).toLocaleString('en-US')} s`;
      lockTimeout = new LockTimeoutError(
        l.acquiredAt === undefined
          ? `could not take the read lock on ${l.holder.where} within ${limit} (--max-lock-seconds): a long write or another lock holds the tables; everything was released after ${waited} s and nothing was kept`
          : `the read lock on ${l.holder.where} reached ${limit} (--max-lock-seconds) before the MyISAM tables were copied; it was released after ${waited} s (production writes waited at most that long) and nothing was kept`,
        {
          hint:
            l.method === 'table-locks'
              ? 'grant the account RELOAD (the MyISAM tables are then copied in parallel under a global read lock), take the snapshot at a quieter time, raise --max-lock-seconds, or use --no-lock on a replica'
              : 'take the snapshot at a quieter time, raise --max-lock-seconds (writers wait that long), or use --no-lock on a replica nobody writes to',
        },
      );
      // Release first: each lock holder's monitor (same account: a user may always kill its own sessions) kills
      // it, whether it is idle, reading, or still waiting for its lock; then every session is closed.
      const holders = [...new Set([l, ...locks].filter((x) => x === l || !x.released).map((x) => x.holder))];
      const kills = holders.map((h) => (h.monitor && h.ctrl.threadId ? h.monitor.query(`KILL CONNECTION ${Number(h.ctrl.threadId)}`).catch(() => undefined) : Promise.resolve(undefined)));
      await Promise.race([Promise.all(kills), sleep(3000)]);
      abort(lockTimeout);
    };
    const startSampling = (l: Lock) => {
      const m = l.holder.monitor;
      if (!m || !l.holder.seesOthers) return;
      l.longestWriteWaitMs = 0;
      let busy = false;
      l.sampler = setInterval(() => {
        if (busy || l.released) return;
        busy = true;
        sampleWriteWait(m, l.ours)
          .then((w) => (l.longestWriteWaitMs = Math.max(l.longestWriteWaitMs ?? 0, w)))
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, 250);
    };
    const newLock = (method: LockMethod, holder: Account, covered: Account[], group: Account[]): Lock => {
      const l: Lock = {
        method,
        holder,
        accounts: covered,
        requestedAt: Date.now(),
        released: false,
        heldMs: 0,
        pending: 0,
        longestWriteWaitMs: null,
        ours: group
          .flatMap((a) => [a.ctrl, a.monitor, ...a.readers])
          .map((c) => Number(c?.threadId ?? 0))
          .filter((n) => n > 0),
      };
      l.timer = setTimeout(() => void timeoutFor(l)(), maxLockMs);
      startSampling(l);
      return l;
    };
    const disarm = (l: Lock) => {
      clearTimeout(l.timer);
      clearInterval(l.sampler);
    };
    const lockFailure = (err: unknown, l: Lock, what: string): unknown => {
      if (lockTimeout) return lockTimeout;
      if (stopper.failure) return stopper.failure;
      const code = (err as { code?: string }).code;
      if (code === 'ER_LOCK_WAIT_TIMEOUT') {
        return new LockTimeoutError(`could not take the read lock on ${l.holder.where} within ${lockWaitSec} s (a long write or another lock holds the tables); nothing was kept`, {
          hint: 'take the snapshot at a quieter time, raise --max-lock-seconds, or use --no-lock on a replica',
          cause: err,
        });
      }
      if (code && DENIED_CODES.has(code)) {
        return new ConnectionError(`the account ${l.holder.dsn.user} may not ${what} on ${l.holder.where}`, {
          hint: 'grant it LOCK TABLES on the GLPI and OCS databases (RELOAD is better: see docs/snapshot.md), or use --no-lock on a replica',
          cause: err,
        });
      }
      return lostError(err, l.holder.dsn, 'control');
    };
    if (lock && allTables.length > 0) {
      for (const group of servers.values()) {
        // Global read lock with the first account that has RELOAD.
        let global: Lock | undefined;
        const denied: string[] = [];
        for (const a of group) {
          const l = newLock('global-read-lock', a, group, group);
          locks.push(l);
          try {
            await stopper.run(a.ctrl.query('FLUSH TABLES WITH READ LOCK'));
            l.acquiredAt = Date.now();
            global = l;
            break;
          } catch (err) {
            const code = (err as { code?: string }).code;
            locks.pop();
            disarm(l);
            if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' && !stopper.failure) {
              denied.push(a.dsn.user);
              continue;
            }
            throw lockFailure(err, l, 'FLUSH TABLES WITH READ LOCK');
          }
        }
        if (global) {
          for (const a of group) a.lock = global;
          await emit({
            type: 'locked',
            server: global.holder.where,
            account: global.holder.dsn.user,
            method: global.method,
            tables: group.reduce((n, a) => n + a.tables.length, 0),
            waitedMs: global.acquiredAt! - global.requestedAt,
          });
          continue;
        }
        // Without RELOAD: each account locks its own tables, and its control session copies the non-transactional ones.
        warn(
          `the account${denied.length > 1 ? 's' : ''} ${[...new Set(denied)].join(', ')} lack${denied.length > 1 ? '' : 's'} RELOAD on ${group[0].where}: ` +
            'consistency by LOCK TABLES … READ, the session holding it copying the MyISAM tables alone (deadlock-free, but slower: writers wait longer; see docs/snapshot.md)',
        );
        // Several accounts: a production transaction writing the second database and then the first could wait
        // on the first lock while holding what the second lock needs. So every lock after the first waits only
        // briefly; on a timeout, the locks taken are released and all are requested again, in the other order
        // (the one that transaction writes in), until the limit.
        const lockers = group.filter((a) => a.tables.length > 0);
        const groupStart = Date.now();
        for (let attempt = 1; ; attempt++) {
          const taken: Lock[] = [];
          let failed: { err: unknown; l: Lock } | undefined;
          const order = attempt % 2 === 1 ? lockers : [...lockers].reverse();
          for (const [k, a] of order.entries()) {
            const l = newLock('table-locks', a, [a], group);
            locks.push(l);
            const list = a.tables.map((t) => `${qi(t.db)}.${qi(t.info.name)} READ`).join(', ');
            try {
              if (lockers.length > 1) await stopper.run(a.ctrl.query('SET SESSION lock_wait_timeout = ?', [k === 0 ? lockWaitSec : NEXT_LOCK_WAIT_SEC]));
              await stopper.run(a.ctrl.query(`LOCK TABLES ${list}`));
            } catch (err) {
              failed = { err, l };
              break;
            }
            l.acquiredAt = Date.now();
            taken.push(l);
          }
          if (!failed) break;
          const code = (failed.err as { code?: string }).code;
          const retry =
            (code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'ER_LOCK_DEADLOCK') && taken.length > 0 && !stopper.failure && Date.now() - groupStart + (NEXT_LOCK_WAIT_SEC + 1) * 1000 < maxLockMs;
          if (!retry) throw lockFailure(failed.err, failed.l, 'LOCK TABLES');
          for (const l of [...taken, failed.l]) {
            disarm(l);
            l.released = true;
            locks.splice(locks.indexOf(l), 1);
          }
          for (const l of taken) await stopper.run(l.holder.ctrl.query('UNLOCK TABLES'));
          await sleep(100 + Math.floor(Math.random() * 400) * attempt);
        }
        for (const l of locks.filter((x) => x.method === 'table-locks' && group.includes(x.holder))) {
          const a = l.holder;
          if (lockers.length > 1) await stopper.run(a.ctrl.query('SET SESSION lock_wait_timeout = ?', [lockWaitSec]));
          a.lock = l;
          a.ctrlQueue = a.queue.filter((x) => !x.t.transactional);
          a.queue = a.queue.filter((x) => x.t.transactional);
          await emit({ type: 'locked', server: a.where, account: a.dsn.user, method: l.method, tables: a.tables.length, waitedMs: l.acquiredAt! - l.requestedAt });
        }
      }
    }
    for (const l of locks) l.pending = l.accounts.reduce((n, a) => n + [...a.queue, ...a.ctrlQueue].filter((x) => !x.t.transactional).length, 0);
    // Every reader's transaction opens while every lock is held: one InnoDB instant for every database.
    for (const a of accounts) {
      if (a.tables.some((t) => t.transactional)) {
        for (const r of a.readers) await stopper.run(r.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY'));
      }
    }

    const unlock = async (l: Lock) => {
      if (l.released) return;
      l.released = true;
      clearTimeout(l.timer);
      clearInterval(l.sampler);
      // The longest waits are the ones still waiting now: one last sample before the release.
      if (l.holder.monitor && l.holder.seesOthers) {
        const w = await stopper.run(sampleWriteWait(l.holder.monitor, l.ours)).catch(() => 0);
        l.longestWriteWaitMs = Math.max(l.longestWriteWaitMs ?? 0, w);
      }
      await stopper.run(l.holder.ctrl.query('UNLOCK TABLES'));
      l.heldMs = Date.now() - l.requestedAt;
      await emit({ type: 'unlocked', server: l.holder.where, account: l.holder.dsn.user, method: l.method, heldMs: l.heldMs });
    };
    for (const l of locks) if (l.pending === 0) await unlock(l);

    // 5. Copy. Every account's readers (and, with table-locks, its control) work at once.
    let tablesDone = 0;
    const finishTask = async (t: TablePlan) => {
      t.pending--;
      if (t.pending === 0) {
        tablesDone++;
        await emit({ type: 'table', role: t.role, table: t.info.name, rows: t.rows, done: tablesDone, total: allTables.length });
      }
    };
    const chunkDone = async (t: TablePlan, index: number, file: ManifestFile, rows: number, rawBytes: number) => {
      t.files[index + 1] = file;
      t.rows += rows;
      totalRows += rows;
      totalBytes += file.bytes;
      await emit({ type: 'chunk', role: t.role, table: t.info.name, index, rows, rawBytes, fileBytes: file.bytes });
    };
    /** Runs one task; false when it leaves work for later (a spooled chunk, compressed after the lock). */
    const runTask = async (a: Account, r: Connection, task: Task): Promise<boolean> => {
      const t = task.t;
      const from = `${qi(t.db)}.${qi(t.info.name)}`;
      if (task.kind === 'compress') {
        const file = await stopper.run(compressSpool(outDir, task.rel, level, task.rows, stopper));
        await chunkDone(t, task.index, file, task.rows, task.rawBytes);
        return true;
      }
      const rel = `${t.role}/${safeName(t.info.name)}.${String(task.index).padStart(4, '0')}.tsv.gz`;
      const cond = task.where ? ` WHERE ${task.where}` : '';
      const sql = `SELECT ${t.columns.length ? selectList(t.columns) : '1'} FROM ${from}${cond}`;
      let rawBytes = 0;
      // Under the lock, a non-transactional chunk is only read and written out raw; it is compressed after the
      // release, so that writers do not wait for the compressor.
      if (level > 0 && !t.transactional && a.lock !== undefined && !a.lock.released) {
        const spool = stopper.track(new SpoolFileWriter(outDir, rel));
        const rows = await stopper.run(dumpChunk(r, sql, spool, t.digest, (n) => (rawBytes += n)));
        await stopper.run(spool.close());
        stopper.release(spool);
        a.compressQueue.push({ kind: 'compress', t, index: task.index, rel, rows, rawBytes, cost: task.cost });
        return false;
      }
      const writer = stopper.track(new GzipFileWriter(outDir, rel, level));
      const rows = await stopper.run(dumpChunk(r, sql, writer, t.digest, (n) => (rawBytes += n)));
      const file = await writer.close(rows);
      stopper.release(writer);
      await chunkDone(t, task.index, file, rows, rawBytes);
      return true;
    };
    // Spooled chunks are compressed first once the lock is released (their files take room until then); while
    // it is held, a reader with no lock-bound work left goes on with the transactional tables.
    const next = (a: Account, queue: Task[]): Task | undefined => {
      const released = a.lock === undefined || a.lock.released;
      return (released ? a.compressQueue.shift() : undefined) ?? queue.shift() ?? a.compressQueue.shift();
    };
    const worker = async (a: Account, r: Connection, queue: Task[]) => {
      for (let task = next(a, queue); task; task = next(a, queue)) {
        if (stopper.failure) return;
        let complete: boolean;
        try {
          complete = await runTask(a, r, task);
        } catch (err) {
          abort(stopper.failure ?? (err instanceof ToolError ? err : lostError(err, a.dsn, r === a.ctrl ? 'control' : 'reader')));
          return;
        }
        if (stopper.failure) return;
        if (complete) await finishTask(task.t);
        const l = a.lock;
        if (l && task.kind !== 'compress' && !task.t.transactional && --l.pending === 0) {
          try {
            await unlock(l);
          } catch (err) {
            abort(lostError(err, l.holder.dsn, 'control'));
            return;
          }
        }
      }
    };
    await Promise.all(accounts.flatMap((a) => [...a.readers.map((r) => worker(a, r, a.queue)), ...(a.ctrlQueue.length ? [worker(a, a.ctrl, a.ctrlQueue)] : [])]));
    if (stopper.failure) throw stopper.failure;
    for (const l of locks) await unlock(l);
    for (const a of accounts) if (a.tables.some((t) => t.transactional)) for (const r of a.readers) await r.query('COMMIT');
    done = true;
    clearLockTimers();
    for (const a of accounts) for (const c of [a.ctrl, a.monitor, ...a.readers]) await c?.end().catch(() => undefined);

    const manifestDatabases: ManifestDatabase[] = [];
    for (const role of roles) {
      const p = databases.find((d) => d.role === role)!;
      p.entry.tables = p.tables.map(
        (t): ManifestTable => ({
          name: t.info.name,
          engine: t.info.engine,
          collation: t.info.collation,
          rowFormat: t.info.rowFormat,
          rows: t.rows,
          digest: t.digest.toString(),
          files: t.files.filter((f): f is ManifestFile => f !== undefined),
          columns: t.columns,
          ...(t.chunkedBy ? { chunkedBy: t.chunkedBy } : {}),
        }),
      );
      if (p.entry.warnings && p.entry.warnings.length === 0) delete p.entry.warnings;
      manifestDatabases.push(p.entry);
    }
    const consistency = consistencyOf(
      lock,
      allTables.some((t) => !t.transactional),
      locks,
      maxLockMs,
      roles.length,
    );
    if (consistency.instants === 'separate') warn('GLPI and OCS were copied without a lock: their data may come from different moments (the audit says so on its GLPI–OCS link checks)');
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      tool: { name: 'glpi-ocs-upgrade', version: TOOL_VERSION },
      createdAt: new Date(started).toISOString(),
      id: '',
      source: source!,
      consistency,
      compression: { algorithm: 'gzip', level },
      data: { format: 'tsv', timeZone: '+00:00', characterSet: 'binary', fieldsTerminatedBy: '\t', escapedBy: '\\', linesTerminatedBy: '\n', nullAs: '\\N' },
      stats: { jobs, elapsedMs: Date.now() - started, rows: totalRows, bytes: totalBytes },
      databases: manifestDatabases,
      ...(opts.generated ? { generated: opts.generated } : {}),
    };
    manifest.id = computeSnapshotId(manifestFiles(manifest));
    for (const w of warnings) await emit({ type: 'warning', message: w });
    await writeManifest(outDir, manifest);
    await fsp.rm(path.join(outDir, INCOMPLETE_MARKER), { force: true });
    removeShutdownHook();
    return manifest;
  } catch (err) {
    clearLockTimers();
    abort(err);
    removePartial();
    removeShutdownHook();
    const e = stopper.failure ?? err;
    throw diskError(e, `writing the snapshot to ${outDir}`);
  } finally {
    clearLockTimers();
    removeInterrupt();
  }
}

function consistencyOf(lock: boolean, anyNonTransactional: boolean, locks: Lock[], maxLockMs: number, databases: number): ManifestConsistency {
  const instants = databases > 1 ? { instants: lock ? ('one' as const) : ('separate' as const) } : {};
  if (!lock) {
    return {
      method: 'no-lock',
      lockHeldMs: 0,
      ...instants,
      ...(anyNonTransactional ? { warning: 'snapshot taken without a read lock: MyISAM/Aria/MEMORY tables may be inconsistent if anything wrote during it (fine on a stopped replica)' } : {}),
    };
  }
  const list: ManifestLock[] = locks.map((l) => ({
    server: l.holder.where,
    account: l.holder.dsn.user,
    method: l.method,
    databases: l.accounts.flatMap((a) => a.plans.map((p) => p.db)),
    heldMs: l.heldMs,
    longestWriteWaitMs: l.longestWriteWaitMs,
  }));
  const waits = list.map((l) => l.longestWriteWaitMs);
  return {
    method: list.some((l) => l.method === 'table-locks') ? 'table-locks' : 'global-read-lock',
    lockHeldMs: Math.max(0, ...list.map((l) => l.heldMs)),
    maxLockMs,
    longestWriteWaitMs: waits.length === 0 || waits.some((w) => w === null) ? null : Math.max(...(waits as number[])),
    locks: list,
    ...instants,
  };
}
