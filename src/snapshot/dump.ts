/**
 * Taking a snapshot: a consistent, byte-exact copy of the GLPI and OCS databases, read-only on the source.
 *
 * Consistency: per server, one control session takes `LOCK TABLES … READ` on every base table; then each
 * reader session opens `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` (so all readers see the same
 * InnoDB state, the one of the lock instant); non-transactional tables (MyISAM, Aria, MEMORY) are dumped first
 * and the lock is released as soon as the last of them is done. InnoDB tables are then read from the
 * transactions' snapshot while writers work again. `lock: false` skips the lock (for a replica), with a warning.
 *
 * Byte-exactness: readers set character_set_results = binary and time_zone = '+00:00' and take every value as
 * the raw bytes the server sends (mysql2 typeCast: false), then write them escaped in LOAD DATA's text format.
 * FLOAT columns are read as `col + 0e0` (the server's FLOAT text form drops digits), BIT as integers.
 *
 * Every session is READ ONLY (connectReadOnly) and only session variables are set: nothing persists.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Connection as CoreConnection } from 'mysql2';
import type { Connection } from '../db/connect.ts';
import { connectReadOnly, qi, translateDbError } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { formatDsn } from '../db/dsn.ts';
import type { ServerInfo, TableInfo } from '../db/introspect.ts';
import { databaseCharset, listTables, serverInfo } from '../db/introspect.ts';
import { detectConnector, detectGlpiVersion, detectOcsVersion } from '../inspect/detect.ts';
import { ConnectionError, InterruptedError, NotFoundError, ToolError, UsageError } from '../errors.ts';
import { onInterrupt, onShutdown } from '../util/shutdown.ts';
import { Stopper } from '../util/abort.ts';
import { TOOL_VERSION } from '../version.ts';
import type { DatabaseRole, Manifest, ManifestColumn, ManifestDatabase, ManifestFile, ManifestTable } from './manifest-types.ts';
import { MANIFEST_FORMAT } from './manifest-types.ts';
import { GzipFileWriter, INCOMPLETE_MARKER, diskError, isEmptyDir, safeName, writeGzipText } from './files.ts';
import { computeSnapshotId, manifestFiles, writeManifest } from './manifest.ts';
import { RowEncoder, columnEncoding, selectList } from './tsv.ts';
import { queryRawRows } from './raw-query.ts';

export interface SnapshotSource {
  role: DatabaseRole;
  dsn: Dsn;
}

export type SnapshotProgress =
  | { type: 'plan'; tables: number; chunks: number; estimatedBytes: number; estimatedRows: number; jobs: number }
  | { type: 'connections'; server: string; control: number; readers: number[] }
  | { type: 'locked'; server: string; tables: number }
  | { type: 'unlocked'; server: string; heldMs: number }
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
  /** Seconds to wait for the read lock before giving up (default 60). */
  lockWaitTimeoutSec?: number;
  /** Awaited: a slow listener slows the snapshot down (tests use it to act at a precise moment). */
  onProgress?: (e: SnapshotProgress) => void | Promise<void>;
}

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
  checksum: string | null | undefined;
  pending: number;
}

interface DatabasePlan {
  role: DatabaseRole;
  db: string;
  dsn: Dsn;
  entry: ManifestDatabase;
  tables: TablePlan[];
}

type Task = { kind: 'chunk'; t: TablePlan; index: number; where: string | null; cost: number } | { kind: 'checksum'; t: TablePlan; cost: number };

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
  const quoted = '`' + db.replace(/`/g, '``') + '`';
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
  const cols = await q<{ t: string; c: string; dt: string; extra: string; gen: string | null }>(
    ctrl,
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, EXTRA AS extra, IS_GENERATED AS gen
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
  const colsByTable = new Map<string, Array<{ c: string; dt: string; generated: boolean }>>();
  for (const c of cols) {
    const list = colsByTable.get(c.t) ?? [];
    list.push({ c: c.c, dt: c.dt, generated: (c.gen ?? 'NEVER') !== 'NEVER' || /VIRTUAL|STORED|PERSISTENT/i.test(c.extra ?? '') });
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
    const columns: ManifestColumn[] = stored.map((c) => ({ name: c.c, encoding: columnEncoding(c.dt) }));
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
      checksum: undefined,
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

/** Streams one SELECT into one gzip file, pausing the connection when the compressor falls behind. */
function dumpChunk(conn: Connection, sql: string, writer: GzipFileWriter, onRaw: (n: number) => void): Promise<number> {
  const raw = (conn as unknown as { connection: CoreConnection }).connection;
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

  // Connections and file writers are destroyed at the first failure, and every query races it.
  const stopper = new Stopper();
  const abort = (err: unknown) => stopper.stop(err);
  const removeInterrupt = onInterrupt(() => abort(new InterruptedError('snapshot interrupted; the partial directory was removed')));

  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
  };
  let source: Manifest['source'] | undefined;
  let lockHeldMs = 0;
  let anyNonTransactional = false;
  const databases: DatabasePlan[] = [];
  let totalRows = 0;
  let totalBytes = 0;

  try {
    // Group sources by server and account: one consistent view per server.
    const groups = new Map<string, SnapshotSource[]>();
    for (const s of opts.sources) groups.set(serverKey(s.dsn), [...(groups.get(serverKey(s.dsn)) ?? []), s]);

    for (const group of groups.values()) {
      const dsn = group[0].dsn;
      const where = formatDsn({ ...dsn, database: undefined });
      const track = (c: Connection, what: string) => {
        stopper.track(c);
        const core = (c as unknown as { connection: CoreConnection }).connection;
        core.on('error', (err: unknown) => abort(lostError(err, dsn, what)));
        core.on('end', () => {
          if (!done) abort(lostError(Object.assign(new Error('the server closed the connection'), { code: 'PROTOCOL_CONNECTION_LOST' }), dsn, what));
        });
        return c;
      };
      let done = false;
      const ctrl = track(await connectReadOnly(dsn), 'control');
      await ctrl.query("SET SESSION time_zone = '+00:00', lock_wait_timeout = ?", [opts.lockWaitTimeoutSec ?? 60]);
      const info: ServerInfo = await serverInfo(ctrl);
      source ??= {
        serverVersion: info.version,
        sqlMode: info.sqlMode,
        characterSetServer: info.characterSetServer,
        collationServer: info.collationServer,
        lowerCaseTableNames: info.lowerCaseTableNames,
        ...(opts.generated ? {} : { address: where }),
      };
      const plans: DatabasePlan[] = [];
      for (const s of group) plans.push(await planDatabase(ctrl, s.role, s.dsn, chunkBytes, warn));
      databases.push(...plans);
      const tables = plans.flatMap((p) => p.tables);
      const nonTrans = tables.filter((t) => !t.transactional);
      anyNonTransactional ||= nonTrans.length > 0;

      // Schema files and views/triggers/routines (small), before the lock.
      for (const t of tables) {
        t.files[0] = await writeGzipText(outDir, `${t.role}/${safeName(t.info.name)}.schema.sql.gz`, schemaFileText(t), level);
      }
      for (const p of plans) await dumpObjects(ctrl, p, outDir, level);

      const tasks: Task[] = [];
      for (const t of tables) {
        const per = Math.max(1, t.info.dataBytes) / t.chunks.length;
        for (const c of t.chunks) tasks.push({ kind: 'chunk', t, index: c.index, where: c.where, cost: per });
        tasks.push({ kind: 'checksum', t, cost: Math.max(1, t.info.dataBytes) * 0.15 });
        t.pending = t.chunks.length + 1;
      }
      // Non-transactional work first (it holds the lock), biggest first in each class.
      tasks.sort((a, b) => Number(a.t.transactional) - Number(b.t.transactional) || b.cost - a.cost);
      await emit({
        type: 'plan',
        tables: tables.length,
        chunks: tasks.filter((x) => x.kind === 'chunk').length,
        estimatedBytes: tables.reduce((n, t) => n + t.info.dataBytes, 0),
        estimatedRows: tables.reduce((n, t) => n + t.info.estimatedRows, 0),
        jobs,
      });

      const readers: Connection[] = [];
      const nReaders = Math.max(1, Math.min(jobs, tasks.length));
      for (let i = 0; i < nReaders; i++) {
        const r = track(await connectReadOnly(dsn), `reader ${i + 1}`);
        await r.query("SET SESSION character_set_results = binary, time_zone = '+00:00', net_write_timeout = 3600, net_read_timeout = 3600");
        readers.push(r);
      }
      await emit({ type: 'connections', server: where, control: ctrl.threadId ?? 0, readers: readers.map((r) => r.threadId ?? 0) });
      if (stopper.failure) throw stopper.failure;

      // The consistent point.
      let lockedAt = 0;
      let locked = false;
      if (lock && tables.length > 0) {
        const list = tables.map((t) => `${qi(t.db)}.${qi(t.info.name)} READ`).join(', ');
        try {
          await ctrl.query(`LOCK TABLES ${list}`);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'ER_LOCK_WAIT_TIMEOUT') {
            throw new ConnectionError(`could not get the read lock on ${where} within ${opts.lockWaitTimeoutSec ?? 60} s (a long write or an open LOCK TABLES holds it)`, {
              hint: 'try again later, or use --no-lock on a replica',
              cause: err,
            });
          }
          if (code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR') {
            throw new ConnectionError(`the account ${dsn.user} may not LOCK TABLES on ${where}`, {
              hint: 'grant it LOCK TABLES on the GLPI and OCS databases (read-only still), or use --no-lock on a replica',
              cause: err,
            });
          }
          throw lostError(err, dsn, 'control');
        }
        lockedAt = Date.now();
        locked = true;
        await emit({ type: 'locked', server: where, tables: tables.length });
      }
      if (tables.some((t) => t.transactional)) {
        for (const r of readers) await r.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      }
      const unlock = async () => {
        if (!locked) return;
        locked = false;
        await ctrl.query('UNLOCK TABLES');
        const held = Date.now() - lockedAt;
        lockHeldMs += held;
        await emit({ type: 'unlocked', server: where, heldMs: held });
      };
      let nonTransPending = tasks.filter((x) => !x.t.transactional).length;
      if (nonTransPending === 0) await unlock();

      let tablesDone = 0;
      const finishTask = async (t: TablePlan) => {
        t.pending--;
        if (t.pending === 0) {
          tablesDone++;
          await emit({ type: 'table', role: t.role, table: t.info.name, rows: t.rows, done: tablesDone, total: tables.length });
        }
      };
      const runTask = async (r: Connection, task: Task) => {
        const t = task.t;
        const from = `${qi(t.db)}.${qi(t.info.name)}`;
        if (task.kind === 'checksum') {
          const [rows] = await stopper.run(r.query({ sql: `CHECKSUM TABLE ${from}`, rowsAsArray: true }));
          const v = (rows as unknown[][])[0]?.[1];
          t.checksum = v === null || v === undefined ? null : String(v);
          return;
        }
        const rel = `${t.role}/${safeName(t.info.name)}.${String(task.index).padStart(4, '0')}.tsv.gz`;
        const where = task.where ? ` WHERE ${task.where}` : '';
        let rawBytes = 0;
        const writer = new GzipFileWriter(outDir, rel, level);
        stopper.track(writer);
        const rows = await stopper.run(dumpChunk(r, `SELECT ${t.columns.length ? selectList(t.columns) : '1'} FROM ${from}${where}`, writer, (n) => (rawBytes += n)));
        const file = await writer.close(rows);
        stopper.release(writer);
        t.files[task.index + 1] = file;
        t.rows += rows;
        totalRows += rows;
        totalBytes += file.bytes;
        await emit({ type: 'chunk', role: t.role, table: t.info.name, index: task.index, rows, rawBytes, fileBytes: file.bytes });
      };
      const worker = async (r: Connection) => {
        for (let task = tasks.shift(); task; task = tasks.shift()) {
          if (stopper.failure) return;
          try {
            await runTask(r, task);
          } catch (err) {
            abort(stopper.failure ?? (err instanceof ToolError ? err : lostError(err, dsn, 'reader')));
            return;
          }
          if (stopper.failure) return;
          await finishTask(task.t);
          if (!task.t.transactional && --nonTransPending === 0) {
            try {
              await unlock();
            } catch (err) {
              abort(lostError(err, dsn, 'control'));
              return;
            }
          }
        }
      };
      await Promise.all(readers.map(worker));
      if (stopper.failure) throw stopper.failure;
      await unlock();
      for (const r of readers) await r.query('COMMIT');
      done = true;
      for (const c of [ctrl, ...readers]) await c.end().catch(() => undefined);
    }

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
          checksum: t.checksum ?? null,
          files: t.files.filter((f): f is ManifestFile => f !== undefined),
          columns: t.columns,
          ...(t.chunkedBy ? { chunkedBy: t.chunkedBy } : {}),
        }),
      );
      if (p.entry.warnings && p.entry.warnings.length === 0) delete p.entry.warnings;
      manifestDatabases.push(p.entry);
    }
    const noLockWarning = 'snapshot taken without a read lock: MyISAM/Aria/MEMORY tables may be inconsistent if anything wrote during it (fine on a stopped replica)';
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      tool: { name: 'glpi-ocs-upgrade', version: TOOL_VERSION },
      createdAt: new Date(started).toISOString(),
      id: '',
      source: source!,
      consistency: {
        method: !lock ? 'no-lock' : anyNonTransactional ? 'lock+transaction' : 'transaction',
        lockHeldMs,
        ...(!lock && anyNonTransactional ? { warning: noLockWarning } : {}),
      },
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
    abort(err);
    removePartial();
    removeShutdownHook();
    const e = stopper.failure ?? err;
    throw diskError(e, `writing the snapshot to ${outDir}`);
  } finally {
    removeInterrupt();
  }
}
