/**
 * The embedded test instance: a throwaway MariaDB (or MySQL) server started by the tool itself from the
 * `mariadbd`/`mysqld` binary, on a free 127.0.0.1 port plus a unix socket, with a temporary datadir that
 * is deleted when the instance stops — on normal exit, Ctrl-C, SIGTERM, or by the next run after a crash
 * (stale instances are found through the registry in the state directory and cleaned up).
 *
 * Every embedded instance carries the test-instance marker (see interlock.ts), so writing commands accept it.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import mysql from 'mysql2/promise';
import { MissingDependencyError, ToolError, ExitCode, fromSystemError } from '../errors.ts';
import type { Dsn } from './dsn.ts';
import { onShutdown } from '../util/shutdown.ts';
import { markAsTestInstance } from './interlock.ts';

/** Server settings a rehearsal can choose to mimic the production server. */
export interface ServerSettings {
  sqlMode?: string;
  characterSetServer?: string;
  collationServer?: string;
  lowerCaseTableNames?: 0 | 1 | 2;
  innodbPageSize?: string;
  innodbBufferPoolSize?: string;
  maxAllowedPacket?: string;
  defaultStorageEngine?: string;
  /** Any other `--name=value` server options, passed as given. */
  extraArgs?: string[];
}

export interface EmbeddedOptions {
  /** Path to mariadbd/mysqld; default: found on PATH or in /usr/sbin, /usr/local/sbin. */
  serverBin?: string;
  settings?: ServerSettings;
  /** Keep running after this process exits (for `instance start`). */
  keep?: boolean;
  /** A label shown by `instance status`. */
  name?: string;
  /** Where registry entries live; default $GOU_STATE_DIR or <tmpdir>/glpi-ocs-upgrade. */
  stateDir?: string;
  startTimeoutMs?: number;
}

export interface InstanceRecord {
  id: string;
  name: string;
  pid: number;
  ownerPid: number;
  keep: boolean;
  port: number;
  socket: string;
  datadir: string;
  baseDir: string;
  serverBin: string;
  serverVersion: string;
  startedAt: string;
  settings: ServerSettings;
}

export function stateDir(explicit?: string): string {
  return explicit ?? process.env.GOU_STATE_DIR ?? path.join(os.tmpdir(), 'glpi-ocs-upgrade');
}

function registryDir(base?: string): string {
  return path.join(stateDir(base), 'instances');
}

function which(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function findServerBinary(explicit?: string): string {
  if (explicit) {
    try {
      fs.accessSync(explicit, fs.constants.X_OK);
      return explicit;
    } catch {
      throw new MissingDependencyError(`server binary ${explicit} (from --server-bin) is not an executable file`);
    }
  }
  const found = which('mariadbd') ?? which('mysqld');
  if (!found) {
    throw new MissingDependencyError('no mariadbd or mysqld binary found', {
      hint: 'install it with "apt-get install mariadb-server" (the service need not run), or pass --server-bin PATH',
    });
  }
  return found;
}

function serverVersionOf(bin: string): string {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const m = /Ver\s+(\S+)/.exec(out.stdout ?? '');
  return m ? m[1] : 'unknown';
}

function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function settingsArgs(s: ServerSettings = {}): string[] {
  const args: string[] = [];
  if (s.sqlMode !== undefined) args.push(`--sql-mode=${s.sqlMode}`);
  if (s.characterSetServer) args.push(`--character-set-server=${s.characterSetServer}`);
  if (s.collationServer) args.push(`--collation-server=${s.collationServer}`);
  if (s.lowerCaseTableNames !== undefined) args.push(`--lower-case-table-names=${s.lowerCaseTableNames}`);
  if (s.innodbPageSize) args.push(`--innodb-page-size=${s.innodbPageSize}`);
  args.push(`--innodb-buffer-pool-size=${s.innodbBufferPoolSize ?? '256M'}`);
  args.push(`--max-allowed-packet=${s.maxAllowedPacket ?? '256M'}`);
  if (s.defaultStorageEngine) args.push(`--default-storage-engine=${s.defaultStorageEngine}`);
  for (const extra of s.extraArgs ?? []) {
    if (!/^--[a-z0-9_-]+(=.*)?$/i.test(extra)) throw new ToolError(`invalid server option "${extra}"`, ExitCode.USAGE);
    args.push(extra);
  }
  return args;
}

/** Settings that must be given when the datadir is created, not only at start. */
function initArgs(s: ServerSettings = {}): string[] {
  const args: string[] = [];
  if (s.lowerCaseTableNames !== undefined) args.push(`--lower-case-table-names=${s.lowerCaseTableNames}`);
  if (s.innodbPageSize) args.push(`--innodb-page-size=${s.innodbPageSize}`);
  return args;
}

function tail(file: string, lines = 8): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

function killTree(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Removes instances whose owner died (and that were not started with keep). Returns how many. */
export function cleanStaleInstances(base?: string): number {
  const dir = registryDir(base);
  let cleaned = 0;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return 0;
  }
  for (const file of entries) {
    const full = path.join(dir, file);
    let rec: InstanceRecord;
    try {
      rec = JSON.parse(fs.readFileSync(full, 'utf8')) as InstanceRecord;
    } catch {
      fs.rmSync(full, { force: true });
      continue;
    }
    const ownerGone = !isAlive(rec.ownerPid);
    const serverGone = !isAlive(rec.pid);
    if ((ownerGone && !rec.keep) || serverGone) {
      killTree(rec.pid, 'SIGKILL');
      removeTree(rec.baseDir);
      fs.rmSync(full, { force: true });
      cleaned++;
    }
  }
  return cleaned;
}

export function listInstances(base?: string): Array<InstanceRecord & { alive: boolean }> {
  const dir = registryDir(base);
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: Array<InstanceRecord & { alive: boolean }> = [];
  for (const file of entries.sort()) {
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as InstanceRecord;
      out.push({ ...rec, alive: isAlive(rec.pid) });
    } catch {
      /* skip unreadable */
    }
  }
  return out;
}

export class EmbeddedInstance {
  readonly record: InstanceRecord;
  private readonly registryFile: string;
  private removeHook?: () => void;
  private stopped = false;

  constructor(record: InstanceRecord, registryFile: string) {
    this.record = record;
    this.registryFile = registryFile;
    if (!record.keep) {
      this.removeHook = onShutdown(() => this.stopSync());
    }
  }

  /** Root over TCP on 127.0.0.1 (no password); marked as a test instance. */
  get dsn(): Dsn {
    return { user: 'root', host: '127.0.0.1', port: this.record.port, password: '', testInstance: true };
  }

  get socketDsn(): Dsn {
    return { user: 'root', host: 'localhost', port: this.record.port, socket: this.record.socket, password: '', testInstance: true };
  }

  /** Stops the server and deletes its files, synchronously (safe in exit handlers). */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    killTree(this.record.pid, 'SIGKILL');
    removeTree(this.record.baseDir);
    fs.rmSync(this.registryFile, { force: true });
    this.removeHook?.();
  }

  /** Graceful stop (SIGTERM, then SIGKILL after a grace period), then deletes its files. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    killTree(this.record.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(this.record.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.stopSync();
  }
}

/** Attaches to a kept instance from the registry (started by `instance start`). */
export function attachInstance(idOrName: string | undefined, base?: string): EmbeddedInstance | undefined {
  const live = listInstances(base).filter((r) => r.alive);
  const rec = idOrName ? live.find((r) => r.id === idOrName || r.name === idOrName) : live.find((r) => r.keep);
  if (!rec) return undefined;
  const inst = new EmbeddedInstance({ ...rec, keep: true }, path.join(registryDir(base), `${rec.id}.json`));
  return inst;
}

export async function stopInstanceRecord(rec: InstanceRecord, base?: string): Promise<void> {
  const inst = new EmbeddedInstance({ ...rec, keep: true }, path.join(registryDir(base), `${rec.id}.json`));
  await inst.stop();
}

/** Starts a fresh embedded server and waits until it accepts connections. */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedInstance> {
  const serverBin = findServerBinary(options.serverBin);
  cleanStaleInstances(options.stateDir);
  const regDir = registryDir(options.stateDir);
  const id = `${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
  const baseDir = path.join(stateDir(options.stateDir), 'servers', id);
  const datadir = path.join(baseDir, 'data');
  // Unix socket paths are limited to ~107 bytes: keep it short, in the tmpdir.
  const socket = path.join(os.tmpdir(), `gou-${id}.sock`);
  try {
    await fsp.mkdir(datadir, { recursive: true });
    await fsp.mkdir(path.join(baseDir, 'tmp'), { recursive: true });
    await fsp.mkdir(regDir, { recursive: true });
  } catch (err) {
    throw fromSystemError(err, 'creating the embedded instance directory') ?? err;
  }
  const cleanupOnFailure = () => {
    removeTree(baseDir);
    fs.rmSync(socket, { force: true });
  };
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const userArgs = asRoot ? ['--user=root'] : [];

  // 1. Create the system tables.
  const installDb = which('mariadb-install-db') ?? which('mysql_install_db');
  const errorLog = path.join(baseDir, 'error.log');
  let init;
  if (installDb && path.basename(serverBin).startsWith('mariadbd')) {
    init = spawnSync(
      installDb,
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        `--basedir=/usr`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...userArgs,
        ...initArgs(options.settings),
      ],
      { encoding: 'utf8' },
    );
  } else {
    // MySQL 5.7+/8.0: mysqld --initialize-insecure.
    init = spawnSync(serverBin, ['--no-defaults', `--datadir=${datadir}`, '--initialize-insecure', ...userArgs, ...initArgs(options.settings)], {
      encoding: 'utf8',
    });
  }
  if (init.status !== 0) {
    cleanupOnFailure();
    const detail = `${init.stderr ?? ''}${init.stdout ?? ''}`.trim().split('\n').slice(-5).join(' | ');
    const full = /No space left/i.test(detail);
    throw new ToolError(`cannot initialise the embedded server's datadir: ${detail || `exit ${init.status}`}`, full ? ExitCode.DISK_FULL : ExitCode.MISSING_DEPENDENCY, {
      hint: full ? 'free some disk space' : 'check that mariadb-server is fully installed (apt-get install mariadb-server)',
    });
  }

  // 2. Start it on a free port (retry if the port was taken in between).
  let child;
  let port = 0;
  const startTimeout = options.startTimeoutMs ?? 60_000;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(baseDir, 'mariadbd.pid')}`,
      `--log-error=${errorLog}`,
      // Its own temporary directory: nothing else on the machine cleans or fills it.
      `--tmpdir=${path.join(baseDir, 'tmp')}`,
      '--skip-log-bin',
      '--skip-name-resolve',
      '--local-infile=1',
      '--innodb-log-file-size=256M',
      '--innodb-flush-log-at-trx-commit=2',
      '--skip-innodb-doublewrite',
      ...userArgs,
      ...settingsArgs(options.settings),
    ];
    child = spawn(serverBin, args, { detached: true, stdio: 'ignore' });
    child.unref();
    const pid = child.pid ?? 0;
    const ready = await waitReady(socket, pid, startTimeout);
    if (ready === 'ready') break;
    killTree(pid, 'SIGKILL');
    const log = tail(errorLog);
    if (ready === 'exited' && /Address already in use|Can't start server: Bind/i.test(log) && attempt < 2) continue;
    cleanupOnFailure();
    if (/No space left/i.test(log)) throw new ToolError('embedded server could not start: no space left on device', ExitCode.DISK_FULL);
    throw new ToolError(
      ready === 'timeout' ? `embedded server did not become ready within ${Math.round(startTimeout / 1000)} s` : 'embedded server exited during start-up',
      ExitCode.MISSING_DEPENDENCY,
      { hint: log ? `server log: ${log.split('\n').slice(-3).join(' | ')}` : undefined },
    );
  }
  const pid = child!.pid ?? 0;

  const record: InstanceRecord = {
    id,
    name: options.name ?? id,
    pid,
    ownerPid: process.pid,
    keep: options.keep ?? false,
    port,
    socket,
    datadir,
    baseDir,
    serverBin,
    serverVersion: serverVersionOf(serverBin),
    startedAt: new Date().toISOString(),
    settings: options.settings ?? {},
  };
  const registryFile = path.join(regDir, `${id}.json`);
  fs.writeFileSync(registryFile, JSON.stringify(record, null, 2));
  const instance = new EmbeddedInstance(record, registryFile);

  // 3. Root over TCP too, and the test-instance marker.
  try {
    const conn = await mysql.createConnection({ socketPath: socket, user: 'root', password: '' });
    try {
      await conn.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'");
      await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
      await markAsTestInstance(conn, `embedded instance ${id}`);
      record.serverVersion = String(((await conn.query('SELECT VERSION() AS v'))[0] as Array<{ v: string }>)[0].v);
      fs.writeFileSync(registryFile, JSON.stringify(record, null, 2));
    } finally {
      await conn.end();
    }
  } catch (err) {
    instance.stopSync();
    throw new ToolError(`embedded server started but could not be prepared: ${(err as Error).message}`, ExitCode.INTERNAL, { cause: err });
  }
  return instance;
}

async function waitReady(socket: string, pid: number, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'exited';
    if (fs.existsSync(socket)) {
      try {
        const conn = await mysql.createConnection({ socketPath: socket, user: 'root', password: '', connectTimeout: 2000 });
        await conn.end();
        return 'ready';
      } catch {
        /* not yet */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return 'timeout';
}
