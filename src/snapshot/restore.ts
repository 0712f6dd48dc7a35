/**
 * Restoring a snapshot into a test instance, in parallel, then proving it: every table read back, its row
 * count and content digest compared with the manifest (src/snapshot/digest.ts; CHECKSUM TABLE for manifests
 * written before the digest).
 *
 * Load path: CREATE TABLE from the schema file (InnoDB: without its plain secondary indexes, added back in
 * one ALTER after the load, which builds them sorted instead of row by row; MyISAM/Aria: DISABLE KEYS, then
 * ENABLE KEYS, a repair-by-sort), then `LOAD DATA LOCAL INFILE … CHARACTER SET binary` streamed from the
 * gzip files (the server parses tab-separated text much faster than INSERT statements).
 * Writes only to a server that passes the interlock (assertWritable).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { pipeline } from 'node:stream';
import type { Connection } from '../db/connect.ts';
import { connect, coreOf, qi, translateDbError } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { formatDsn } from '../db/dsn.ts';
import { assertWritable } from '../db/interlock.ts';
import { splitSqlStatements } from '../db/sql-script.ts';
import { DiskFullError, ToolError, UnsupportedError, UsageError, VerificationError } from '../errors.ts';
import { onInterrupt } from '../util/shutdown.ts';
import { Stopper } from '../util/abort.ts';
import { InterruptedError } from '../errors.ts';
import type { DatabaseRole, Manifest, ManifestColumn, ManifestDatabase, ManifestFile, ManifestTable } from './manifest-types.ts';
import { describeProblems, readManifest, verifySnapshot } from './manifest.ts';
import { loadDataStatement } from './tsv.ts';
import { readTableDigest } from './digest.ts';
import { checksumTables, countRows, listTables } from '../db/introspect.ts';
import { defaultJobs } from './dump.ts';
import { originComment } from './origin.ts';

export interface RestoredTable {
  role: DatabaseRole;
  table: string;
  rows: number;
  /** The restored table's digest (src/snapshot/digest.ts), or its CHECKSUM TABLE for an older manifest. */
  checksum: string | null;
  expectedRows: number;
  /** The manifest's digest, or its CHECKSUM TABLE value in snapshots taken before the digest. */
  expectedChecksum: string | null;
  ok: boolean;
  /** First warnings the server gave while loading (truncations, conversions), when any. */
  warnings?: string[];
}

export interface RestoreResult {
  /** Target database name per role present in the snapshot. */
  databases: Partial<Record<DatabaseRole, string>>;
  tables: RestoredTable[];
  views: number;
  triggers: number;
  routines: number;
  ok: boolean;
  elapsedMs: number;
  snapshotId: string;
}

export type RestoreProgress =
  | { type: 'verified'; files: number; bytes: number }
  | { type: 'plan'; tables: number; files: number; bytes: number; jobs: number }
  | { type: 'file'; role: DatabaseRole; table: string; path: string; bytes: number }
  | { type: 'table'; role: DatabaseRole; table: string; ok: boolean; done: number; total: number };

export interface RestoreOptions {
  /** Restore under other names (default: the source names from the manifest). */
  databases?: Partial<Record<DatabaseRole, string>>;
  jobs?: number;
  /** Drop and recreate target databases that already hold tables. */
  force?: boolean;
  /** Check every file's sha256 before loading (default true). */
  verifyFiles?: boolean;
  /**
   * MyISAM/Aria tables keep their non-unique indexes disabled after the load (no ENABLE KEYS, a rebuild by sort):
   * for databases that are only rewritten, read back and thrown away (anonymize). Their unique keys stay in force
   * and SHOW CREATE TABLE is unchanged; queries that would use a disabled index scan the table instead.
   */
  keepKeysDisabled?: boolean;
  onProgress?: (e: RestoreProgress) => void | Promise<void>;
}

/** Thrown when the restored data does not match the manifest; carries the full comparison. */
export class RestoreMismatchError extends VerificationError {
  readonly result: RestoreResult;
  constructor(result: RestoreResult) {
    const bad = result.tables.filter((t) => !t.ok);
    const shown = bad
      .slice(0, 5)
      .map((t) => `${t.role}.${t.table} (rows ${t.rows}/${t.expectedRows}, checksum ${t.checksum ?? 'null'}/${t.expectedChecksum ?? 'null'})`)
      .join(', ');
    super(`restored data differs from the snapshot in ${bad.length} table(s): ${shown}${bad.length > 5 ? ', …' : ''}`, {
      hint: 'the target server may convert data differently (version, sql_mode, charset); run with --json for every table',
    });
    this.result = result;
  }
}

interface Deferred {
  create: string;
  /** `ADD KEY …` clauses to run after the load (InnoDB), or null. */
  addKeys: string[];
  disableKeys: boolean;
}

/**
 * Splits a SHOW CREATE TABLE text for a fast load: InnoDB tables without foreign keys lose their plain
 * secondary KEYs (added back afterwards, in the same order: SHOW CREATE TABLE lists them after the unique
 * ones, so the final definition is identical); MyISAM/Aria keep them and get DISABLE KEYS instead.
 */
export function deferIndexes(createSql: string, engine: string | null): Deferred {
  const e = (engine ?? '').toLowerCase();
  if (e === 'myisam' || e === 'aria') return { create: createSql, addKeys: [], disableKeys: true };
  if (e !== 'innodb' || /\bFOREIGN KEY\b/i.test(createSql)) return { create: createSql, addKeys: [], disableKeys: false };
  const lines = createSql.split('\n');
  const keep: string[] = [];
  const addKeys: string[] = [];
  // InnoDB wants the AUTO_INCREMENT column to lead a key at CREATE time: such a key cannot be deferred.
  const auto = /^ {2}`((?:[^`]|``)+)`[^\n]*\bAUTO_INCREMENT\b/m.exec(createSql)?.[1];
  for (const line of lines) {
    const leadsWithAuto = auto !== undefined && line.includes(`KEY \``) && new RegExp(`\\(\`${auto.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\`[,(]`).test(line.replace(/\)\s*,?\s*$/, ','));
    if (/^ {2}KEY `/.test(line) && !leadsWithAuto) addKeys.push(`ADD ${line.trim().replace(/,$/, '')}`);
    else keep.push(line);
  }
  if (addKeys.length === 0) return { create: createSql, addKeys: [], disableKeys: false };
  // The line before the closing ") ENGINE=…" must not end with a comma any more.
  const close = keep.findIndex((l) => /^\)/.test(l));
  if (close > 0) keep[close - 1] = keep[close - 1].replace(/,$/, '');
  return { create: keep.join('\n'), addKeys, disableKeys: false };
}

async function setupSession(c: Connection): Promise<void> {
  await c.query("SET NAMES utf8mb4, SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00', foreign_key_checks = 0, unique_checks = 0");
}

function readGzipText(full: string): string {
  return zlib.gunzipSync(fs.readFileSync(full)).toString('utf8');
}

/** The CREATE TABLE statement inside a schema file (the file also sets the session). */
function createStatementOf(text: string): string {
  const stmts = splitSqlStatements(text);
  const create = stmts.find((s) => /^\s*CREATE\s/i.test(s));
  if (!create) throw new VerificationError('a schema file holds no CREATE TABLE statement');
  return create;
}

function columnsOf(t: ManifestTable, fallback: string[]): ManifestColumn[] {
  return t.columns ?? fallback.map((name) => ({ name, encoding: 'raw' as const }));
}

/** Restores a snapshot directory into `target`; throws RestoreMismatchError when any table differs. */
export async function restoreSnapshot(dir: string, target: Dsn, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const started = Date.now();
  const emit = async (e: RestoreProgress) => {
    if (opts.onProgress) await opts.onProgress(e);
  };
  const manifest: Manifest = await readManifest(dir);
  if (opts.verifyFiles ?? true) {
    const v = await verifySnapshot(dir);
    if (!v.ok) {
      throw new VerificationError(`snapshot ${dir} does not match its manifest: ${describeProblems(v.problems)}`, {
        hint: 'run `verify` for the full list; take the snapshot again or copy it again',
      });
    }
    await emit({ type: 'verified', files: v.files, bytes: v.bytes });
  }
  const names: Partial<Record<DatabaseRole, string>> = {};
  for (const db of manifest.databases) names[db.role] = opts.databases?.[db.role] ?? db.name;
  for (const role of Object.keys(opts.databases ?? {}) as DatabaseRole[]) {
    if (!manifest.databases.some((d) => d.role === role)) throw new UsageError(`the snapshot holds no ${role} database`);
  }
  const targetNames = Object.values(names);
  if (new Set(targetNames).size !== targetNames.length) throw new UsageError('the GLPI and OCS databases cannot be restored under the same name');

  const where = formatDsn({ ...target, database: undefined });
  const jobs = Math.max(1, Math.floor(opts.jobs ?? defaultJobs()));
  // Connections are destroyed at the first failure, and every work item races it.
  const stopper = new Stopper();
  const abort = (err: unknown) => stopper.stop(err);
  const removeInterrupt = onInterrupt(() => abort(new InterruptedError('restore interrupted; the target databases are incomplete')));
  const open = async () => {
    const c = await connect({ ...target, database: undefined });
    stopper.track(c);
    coreOf(c).on('error', (err: unknown) => abort(translateDbError(err, target)));
    await setupSession(c);
    return c;
  };
  try {
    const admin = await open();
    await assertWritable(admin, target, 'restore a snapshot');
    const [li] = await admin.query('SELECT @@GLOBAL.local_infile AS li');
    if (Number((li as Array<{ li: unknown }>)[0]?.li) !== 1) {
      throw new UnsupportedError(`${where} does not accept LOAD DATA LOCAL INFILE (local_infile is OFF)`, {
        hint: 'on this test server: SET GLOBAL local_infile = 1 (the embedded instance has it on)',
      });
    }
    for (const db of manifest.databases) {
      const name = names[db.role]!;
      const [r] = await admin.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [name]);
      const [s] = await admin.query('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
      const exists = Number((s as Array<{ n: unknown }>)[0].n) > 0;
      const tables = Number((r as Array<{ n: unknown }>)[0].n);
      if (exists && tables > 0 && !opts.force) {
        throw new UsageError(`database ${name} on ${where} already holds ${tables} table(s); refusing to restore over it`, {
          hint: 'give another name (--glpi-db / --ocs-db), or --force to drop it first',
        });
      }
      if (exists) await admin.query(`DROP DATABASE ${qi(name)}`);
      // The comment records the snapshot and whether GLPI and OCS come from one instant (origin.ts); servers
      // older than MariaDB 10.5 have no database comment.
      const create = `CREATE DATABASE ${qi(name)} CHARACTER SET ${db.charset} COLLATE ${db.collation}`;
      try {
        await admin.query(`${create} COMMENT ${admin.escape(originComment(manifest))}`);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ER_PARSE_ERROR') throw err;
        await admin.query(create);
      }
    }

    const workers: Connection[] = [admin];
    for (let i = 1; i < jobs; i++) workers.push(await open());

    // Work items: create, load files, finish (indexes) and check each table.
    interface TableWork {
      db: ManifestDatabase;
      t: ManifestTable;
      name: string;
      deferred?: Deferred;
      pending: number;
      warnings: string[];
    }
    const works: TableWork[] = manifest.databases.flatMap((db) => db.tables.map((t) => ({ db, t, name: names[db.role]!, pending: t.files.length - 1, warnings: [] })));
    const results: RestoredTable[] = [];
    const totalFiles = works.reduce((n, w) => n + w.t.files.length, 0);
    const totalBytes = works.reduce((n, w) => n + w.t.files.reduce((m, f) => m + f.bytes, 0), 0);
    await emit({ type: 'plan', tables: works.length, files: totalFiles, bytes: totalBytes, jobs: workers.length });

    const pool = async (items: Array<(c: Connection) => Promise<void>>) => {
      const list = [...items];
      await Promise.all(
        workers.map(async (c) => {
          for (let j = list.shift(); j; j = list.shift()) {
            if (stopper.failure) return;
            try {
              await stopper.run(j(c));
            } catch (err) {
              abort(err);
              return;
            }
          }
        }),
      );
      if (stopper.failure) throw stopper.failure;
    };

    // 1. Create every table (small statements, in parallel).
    await pool(
      works.map((w) => async (c: Connection) => {
        const text = readGzipText(path.join(dir, w.t.files[0].path));
        w.deferred = deferIndexes(createStatementOf(text), w.t.engine);
        await c.query(`USE ${qi(w.name)}`);
        await c.query(w.deferred.create);
        if (w.deferred.disableKeys && w.pending > 0) await c.query(`ALTER TABLE ${qi(w.name)}.${qi(w.t.name)} DISABLE KEYS`);
      }),
    );

    // 2. Load data files, biggest first; when a table's last file is in, finish and check it right away.
    let tablesDone = 0;
    const finish = async (c: Connection, w: TableWork) => {
      const ref = `${qi(w.name)}.${qi(w.t.name)}`;
      if (w.deferred?.addKeys.length) await c.query(`ALTER TABLE ${ref} ${w.deferred.addKeys.join(', ')}`);
      else if (w.deferred?.disableKeys && w.t.files.length > 1 && !opts.keepKeysDisabled) await c.query(`ALTER TABLE ${ref} ENABLE KEYS`);
      const proof = await proveTable(c, w.name, w.t);
      const ok = proof.rows === w.t.rows && proof.checksum === proof.expected;
      results.push({
        role: w.db.role,
        table: w.t.name,
        rows: proof.rows,
        checksum: proof.checksum,
        expectedRows: w.t.rows,
        expectedChecksum: proof.expected,
        ok,
        ...(w.warnings.length ? { warnings: w.warnings.slice(0, 5) } : {}),
      });
      tablesDone++;
      await emit({ type: 'table', role: w.db.role, table: w.t.name, ok, done: tablesDone, total: works.length });
    };
    // Biggest tables first (they bound the wall time); a table's files in primary-key order, so that InnoDB
    // appends to its clustered index instead of splitting pages all over it.
    const tableBytes = new Map(works.map((w) => [w, w.t.files.slice(1).reduce((n, f) => n + f.bytes, 0)]));
    const loads: Array<{ w: TableWork; f: ManifestFile; order: number }> = works.flatMap((w) => w.t.files.slice(1).map((f, order) => ({ w, f, order })));
    loads.sort((a, b) => tableBytes.get(b.w)! - tableBytes.get(a.w)! || (a.w === b.w ? a.order - b.order : works.indexOf(a.w) - works.indexOf(b.w)));
    const finishing: TableWork[] = works.filter((w) => w.pending === 0);
    const columnCache = new Map<TableWork, ManifestColumn[]>();
    await Promise.all(
      workers.map(async (c) => {
        for (;;) {
          if (stopper.failure) return;
          try {
            const fin = finishing.shift();
            if (fin) {
              await stopper.run(finish(c, fin));
              continue;
            }
            const item = loads.shift();
            if (!item) return;
            const { w, f } = item;
            let cols = columnCache.get(w);
            if (!cols) {
              const [cr] = await c.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [w.name, w.t.name]);
              cols = columnsOf(
                w.t,
                (cr as Array<{ c: string }>).map((x) => x.c),
              );
              columnCache.set(w, cols);
            }
            const full = path.join(dir, f.path);
            const sql = loadDataStatement(w.name, w.t.name, cols, `'${f.path.replace(/'/g, "''")}'`);
            const [res] = await stopper.run(
              c.query({
                sql,
                infileStreamFactory: () => {
                  const gunzip = zlib.createGunzip();
                  pipeline(fs.createReadStream(full), gunzip, () => undefined);
                  return gunzip;
                },
              }),
            );
            if ((res as { warningStatus?: number }).warningStatus) {
              const [warns] = await c.query('SHOW WARNINGS LIMIT 5');
              for (const x of warns as Array<{ Message: string }>) w.warnings.push(`${f.path}: ${x.Message}`);
            }
            await emit({ type: 'file', role: w.db.role, table: w.t.name, path: f.path, bytes: f.bytes });
            if (--w.pending === 0) finishing.push(w);
          } catch (err) {
            abort(err);
            return;
          }
        }
      }),
    );
    // Tables whose last file was loaded by another worker after this one found the queues empty.
    while (!stopper.failure && finishing.length) await finish(workers[0], finishing.shift()!);
    if (stopper.failure) throw stopper.failure;

    // 3. Views (in dependency order, by retrying), triggers, routines.
    let views = 0;
    let triggers = 0;
    let routines = 0;
    const c0 = workers[0];
    for (const db of manifest.databases) {
      await c0.query(`USE ${qi(names[db.role]!)}`);
      let pending = [...db.views];
      let lastError: unknown;
      while (pending.length) {
        const next: typeof pending = [];
        for (const v of pending) {
          try {
            for (const stmt of splitSqlStatements(readGzipText(path.join(dir, v.file.path)))) await c0.query(stmt);
            views++;
          } catch (err) {
            lastError = err;
            next.push(v);
          }
        }
        if (next.length === pending.length) throw translateDbError(lastError, target);
        pending = next;
      }
      for (const obj of [...db.triggers, ...db.routines]) {
        for (const stmt of splitSqlStatements(readGzipText(path.join(dir, obj.file.path)))) await c0.query(stmt);
        if ('table' in obj) triggers++;
        else routines++;
      }
      await setupSession(c0);
    }

    const order = new Map(works.map((w, i) => [`${w.db.role}.${w.t.name}`, i]));
    results.sort((a, b) => order.get(`${a.role}.${a.table}`)! - order.get(`${b.role}.${b.table}`)!);
    const result: RestoreResult = {
      databases: names,
      tables: results,
      views,
      triggers,
      routines,
      ok: results.every((r) => r.ok),
      elapsedMs: Date.now() - started,
      snapshotId: manifest.id,
    };
    for (const c of workers) await c.end().catch(() => undefined);
    if (!result.ok) throw new RestoreMismatchError(result);
    return result;
  } catch (err) {
    abort(err);
    const e = stopper.failure ?? err;
    if (e instanceof ToolError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ER_RECORD_FILE_FULL' || code === 'ER_DISK_FULL') {
      throw new DiskFullError(`the target server ${where} ran out of room while restoring: ${(e as { sqlMessage?: string }).sqlMessage ?? (e as Error).message}`, {
        hint: 'free disk space on the target (df -h on its datadir); for a MEMORY table, raise max_heap_table_size on the target; then restore again with --force',
        cause: e,
      });
    }
    throw translateDbError(e, target);
  } finally {
    removeInterrupt();
  }
}

/**
 * A restored (or live) table against its manifest entry: rows and digest read back through the manifest's
 * columns, or, for a manifest written before the digest, COUNT(*) and CHECKSUM TABLE.
 */
export async function proveTable(conn: Connection, database: string, t: ManifestTable): Promise<{ rows: number; checksum: string | null; expected: string | null }> {
  if (t.digest !== undefined && t.columns) {
    const r = await readTableDigest(conn, database, t.name, t.columns);
    return { rows: r.rows, checksum: r.digest, expected: t.digest };
  }
  const checksum = (await checksumTables(conn, database, [t.name])).get(t.name) ?? null;
  return { rows: await countRows(conn, database, t.name), checksum, expected: t.checksum ?? null };
}

/**
 * Tables of a live database that differ from a manifest's copy of it: another row count or checksum, missing,
 * or not in the manifest (`name (not in the backup)`). Read-only: SELECTs (or CHECKSUM TABLE) only.
 */
export async function tablesDifferingFrom(conn: Connection, database: string, db: ManifestDatabase): Promise<{ tables: number; differing: string[] }> {
  const live = new Set((await listTables(conn, database)).filter((x) => x.type === 'BASE TABLE').map((x) => x.name));
  const differing: string[] = [];
  for (const t of db.tables) {
    if (!live.has(t.name)) {
      differing.push(t.name);
      continue;
    }
    const p = await proveTable(conn, database, t);
    if (p.rows !== t.rows || p.checksum !== p.expected) differing.push(t.name);
  }
  for (const name of [...live].sort()) if (!db.tables.some((x) => x.name === name)) differing.push(`${name} (not in the backup)`);
  return { tables: db.tables.length, differing };
}
