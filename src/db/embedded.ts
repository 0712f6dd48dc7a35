/**
 * The embedded test instance: a throwaway MariaDB (or MySQL) server started by the tool itself from the
 * `mariadbd`/`mysqld` binary, on a free 127.0.0.1 port plus a unix socket, with a temporary datadir that
 * is deleted when the instance stops — on normal exit, Ctrl-C, SIGTERM, or by the next run after a crash
 * (stale instances are found through the registry in the state directory and cleaned up).
 *
 * Private by construction:
 *  - root has a random password, generated for each instance and held in memory (for an instance kept
 *    between commands, also in `<server dir>/root-password`, mode 0600); it is given to the server on the
 *    bootstrap's stdin, never on a command line, and no password-less login exists, over TCP or the socket;
 *  - the server directory is mode 0700 and the server runs with a 0077 umask;
 *  - a server not kept between commands dies with the process that started it, even on `kill -9`: a tiny
 *    watchdog (`sh`, reading a pipe whose write end only the owner holds) kills it and deletes its files
 *    when that pipe closes.
 *
 * The datadir is created by `mariadbd --bootstrap` itself (not `mariadb-install-db`), with the instance's own
 * tmpdir: a bootstrap sharing /tmp fails at random when another MariaDB server starts meanwhile, because every
 * starting server deletes the `#sql*` temporary files it finds in its tmpdir (issue 16).
 *
 * A kept instance whose server died (crash, OOM, reboot) keeps its datadir: `restartInstance` starts it
 * again on the same files (InnoDB recovers), so an interrupted rehearsal can be resumed.
 *
 * Every embedded instance carries the test-instance marker (see interlock.ts), so writing commands accept it.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { MissingDependencyError, ToolError, ExitCode, fromSystemError } from '../errors.ts';
import type { Dsn } from './dsn.ts';
import { connect, queryRows } from './connect.ts';
import { onShutdown } from '../util/shutdown.ts';
import { freePort } from '../util/net.ts';
import { markAsTestInstance } from './interlock.ts';
import { readInstanceRecord, writeInstanceRecord } from '../formats/instance-record.ts';
import type { InstanceRecord, ServerSettings } from '../formats/instance-record.ts';

/** Server settings a rehearsal can choose to mimic the production server. */
export type { InstanceRecord, ServerSettings } from '../formats/instance-record.ts';

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

export const PASSWORD_FILE = 'root-password';

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

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
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

/** InnoDB redo log settings shared by the bootstrap and the server (no resize at the first start). */
const INNODB_ARGS = ['--innodb-log-file-size=256M', '--innodb-flush-log-at-trx-commit=2', '--skip-innodb-doublewrite'];

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const DISK_FULL = /No space left|errno:? ?28\b|error:? ?28\b|Error number 28|OS error:? ?28\b|disk (is )?full/i;

/**
 * The first line of a server's output that says what went wrong: an `[ERROR]` line or a bootstrap `ERROR:`
 * line, skipping the generic "Aborting" and the advice scripts print after it. Falls back to the last line.
 */
export function firstErrorLine(output: string): string | undefined {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const meaningful = (l: string) => !/\[ERROR\]\s+Aborting\s*$/i.test(l) && !/Unknown\/unsupported storage engine: InnoDB$/i.test(l);
  const err =
    lines.find((l) => DISK_FULL.test(l)) ??
    lines.find((l) => (/\[ERROR\]/.test(l) || /^ERROR\b/.test(l)) && meaningful(l)) ??
    lines.find((l) => /\b(error|failed|cannot|can't)\b/i.test(l) && meaningful(l));
  return (err ?? lines[lines.length - 1])?.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\s+/, '');
}

function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

function killPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * The watchdogs this process started, by pid: the reference keeps each one's pipe (its stdin) from being
 * collected and closed while the server runs.
 */
const watchdogs = new Map<number, ChildProcess>();

/** Kills the watchdog first (so it cannot kill a reused pid later), then the server. */
function killServer(rec: Pick<InstanceRecord, 'pid' | 'watchdogPid'>, signal: NodeJS.Signals): void {
  killPid(rec.watchdogPid, 'SIGKILL');
  if (rec.watchdogPid) watchdogs.delete(rec.watchdogPid);
  killPid(rec.pid, signal);
}

/**
 * Removes instances whose owner died (and that were not started with keep), and non-kept instances whose
 * server died. A kept instance whose server died keeps its datadir (see `restartInstance`) until
 * `instance stop`. Returns how many were removed.
 */
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
    const rec = readInstanceRecord(full);
    if (!rec) {
      fs.rmSync(full, { force: true });
      continue;
    }
    const ownerGone = !isAlive(rec.ownerPid);
    const serverGone = !isAlive(rec.pid);
    if (rec.keep && serverGone) {
      if (fs.existsSync(rec.datadir)) continue; // kept for a restart
      removeTree(rec.baseDir);
      fs.rmSync(full, { force: true });
      cleaned++;
    } else if ((ownerGone && !rec.keep) || serverGone) {
      killServer(rec, 'SIGKILL');
      removeTree(rec.baseDir);
      fs.rmSync(rec.socket, { force: true });
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
    const rec = readInstanceRecord(path.join(dir, file));
    if (rec) out.push({ ...rec, alive: isAlive(rec.pid) });
  }
  return out;
}

export class EmbeddedInstance {
  readonly record: InstanceRecord;
  private readonly registryFile: string;
  /** root's password: in memory only (and in <baseDir>/root-password for kept instances). */
  readonly #password: string;
  private removeHook?: () => void;
  private stopped = false;

  constructor(record: InstanceRecord, registryFile: string, password: string) {
    this.record = record;
    this.registryFile = registryFile;
    this.#password = password;
    if (!record.keep) {
      this.removeHook = onShutdown(() => this.stopSync());
    }
  }

  /** root over TCP on 127.0.0.1, with the instance's password; marked as a test instance. */
  get dsn(): Dsn {
    return { user: 'root', host: '127.0.0.1', port: this.record.port, password: this.#password, testInstance: true };
  }

  get socketDsn(): Dsn {
    return { user: 'root', host: 'localhost', port: this.record.port, socket: this.record.socket, password: this.#password, testInstance: true };
  }

  /** The file holding root's password (mode 0600), for kept instances; undefined otherwise. */
  get passwordFile(): string | undefined {
    return this.record.keep ? path.join(this.record.baseDir, PASSWORD_FILE) : undefined;
  }

  /** Stops the server and deletes its files, synchronously (safe in exit handlers). */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    killServer(this.record, 'SIGKILL');
    removeTree(this.record.baseDir);
    fs.rmSync(this.record.socket, { force: true });
    fs.rmSync(this.registryFile, { force: true });
    this.removeHook?.();
  }

  /**
   * Stops the server, then deletes its files. Its data is deleted anyway, so by default there is no graceful
   * shutdown to wait for (graceMs > 0: SIGTERM first, SIGKILL after that long).
   */
  async stop(graceMs = 0): Promise<void> {
    if (this.stopped) return;
    if (graceMs <= 0) return this.stopSync();
    killServer(this.record, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(this.record.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.stopSync();
  }
}

function readPasswordFile(rec: InstanceRecord): string | undefined {
  const text = readText(path.join(rec.baseDir, PASSWORD_FILE));
  return text ? text.trim() : undefined;
}

/** Attaches to a running kept instance from the registry (started by `instance start` or a rehearsal). */
export function attachInstance(idOrName: string | undefined, base?: string): EmbeddedInstance | undefined {
  const live = listInstances(base).filter((r) => r.alive);
  const rec = idOrName ? live.find((r) => r.id === idOrName || r.name === idOrName) : live.find((r) => r.keep);
  if (!rec) return undefined;
  const password = readPasswordFile(rec);
  if (password === undefined) return undefined;
  const { alive: _alive, ...record } = rec;
  return new EmbeddedInstance({ ...record, keep: true }, path.join(registryDir(base), `${rec.id}.json`), password);
}

/**
 * Attaches to a kept instance, starting its server again on its kept datadir when it died (InnoDB recovers
 * the last committed state). Undefined when no such instance is registered or its files are gone.
 */
export async function restartInstance(idOrName: string, options: { base?: string; startTimeoutMs?: number } = {}): Promise<EmbeddedInstance | undefined> {
  const attached = attachInstance(idOrName, options.base);
  if (attached) return attached;
  const rec = listInstances(options.base).find((r) => !r.alive && r.keep && (r.id === idOrName || r.name === idOrName));
  if (!rec || !fs.existsSync(rec.datadir)) return undefined;
  const password = readPasswordFile(rec);
  if (password === undefined) return undefined;
  const { alive: _alive, ...record } = rec;
  const registryFile = path.join(registryDir(options.base), `${rec.id}.json`);
  fs.rmSync(rec.socket, { force: true });
  const { pid, port } = await launchServer(record, password, { preferredPort: rec.port, startTimeoutMs: options.startTimeoutMs, cleanupOnFailure: false });
  const updated: InstanceRecord = { ...record, pid, port, ownerPid: process.pid, watchdogPid: undefined, startedAt: new Date().toISOString() };
  writeInstanceRecord(registryFile, updated);
  return new EmbeddedInstance(updated, registryFile, password);
}

export async function stopInstanceRecord(rec: InstanceRecord, base?: string): Promise<void> {
  const inst = new EmbeddedInstance({ ...rec, keep: true }, path.join(registryDir(base), `${rec.id}.json`), '');
  await inst.stop();
}

/** Where the SQL scripts that create the system tables are, for this server binary (MariaDB only). */
function bootstrapScripts(serverBin: string): string[] | undefined {
  const binDir = path.dirname(fs.realpathSync(serverBin));
  const candidates = [path.resolve(binDir, '../share/mysql'), path.resolve(binDir, '../share/mariadb'), path.resolve(binDir, '../share'), '/usr/share/mysql', '/usr/share/mariadb'];
  for (const dir of candidates) {
    const required = ['mysql_system_tables.sql', 'mysql_system_tables_data.sql'].map((f) => path.join(dir, f));
    if (!required.every((f) => fs.existsSync(f))) continue;
    // Left out: the help tables (2.4 MB of SQL) and the sys schema (620 kB of views, seconds of start-up);
    // the tool reads neither, and neither is part of what a snapshot holds.
    const optional = ['mysql_performance_tables.sql', 'maria_add_gis_sp_bootstrap.sql'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
    return [required[0], optional.find((f) => f.endsWith('mysql_performance_tables.sql')), required[1], ...optional.filter((f) => !f.endsWith('mysql_performance_tables.sql'))].filter(
      (f): f is string => !!f,
    );
  }
  return undefined;
}

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/** Runs a program with `input` on stdin, collecting stdout+stderr (bounded), with a timeout. */
function runWithInput(bin: string, args: string[], input: string | undefined, timeoutMs: number): Promise<Exited> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let output = '';
    const collect = (b: Buffer) => {
      if (output.length < 256 * 1024) output += b.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      output += `\nERROR: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, timedOut });
    });
    if (input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the server may exit before reading everything
      child.stdin.end(input);
    }
  });
}

/** Creates the system tables in `datadir`, with root's password set (MariaDB) or none yet (MySQL). */
async function bootstrap(
  serverBin: string,
  datadir: string,
  tmpdir: string,
  password: string,
  settings: ServerSettings | undefined,
  userArgs: string[],
  timeoutMs: number,
): Promise<{ passwordSet: boolean }> {
  const scripts = path.basename(serverBin).startsWith('mariadbd') || /MariaDB/i.test(spawnSync(serverBin, ['--version'], { encoding: 'utf8' }).stdout ?? '') ? bootstrapScripts(serverBin) : undefined;
  let run: Exited;
  let passwordSet = false;
  if (scripts) {
    const sql = [
      'CREATE DATABASE IF NOT EXISTS mysql;',
      'USE mysql;',
      'SET @auth_root_socket=NULL;',
      ...scripts.map((f) => fs.readFileSync(f, 'utf8')),
      // root: one password for every host entry; only localhost (socket) and 127.0.0.1 (TCP) are kept.
      "DELETE FROM mysql.global_priv WHERE User='root' AND Host NOT IN ('localhost','127.0.0.1');",
      "DELETE FROM mysql.proxies_priv WHERE User='root' AND Host NOT IN ('localhost','127.0.0.1');",
      `UPDATE mysql.global_priv SET Priv=JSON_SET(Priv, '$.plugin', 'mysql_native_password', '$.authentication_string', PASSWORD(${sqlString(password)})) WHERE User='root';`,
      '',
    ].join('\n');
    run = await runWithInput(
      serverBin,
      [
        '--no-defaults',
        '--bootstrap',
        `--datadir=${datadir}`,
        `--tmpdir=${tmpdir}`,
        '--log-warnings=0',
        '--enforce-storage-engine=',
        '--max-allowed-packet=8M',
        '--net-buffer-length=16K',
        '--skip-log-bin',
        ...INNODB_ARGS,
        ...userArgs,
        ...initArgs(settings),
      ],
      sql,
      timeoutMs,
    );
    passwordSet = true;
  } else {
    // MySQL 5.7+/8.0: mysqld --initialize-insecure (root@localhost only, no TCP account yet).
    run = await runWithInput(serverBin, ['--no-defaults', `--datadir=${datadir}`, `--tmpdir=${tmpdir}`, '--initialize-insecure', ...userArgs, ...initArgs(settings)], undefined, timeoutMs);
  }
  if (run.code === 0 && !run.timedOut) return { passwordSet };
  const output = run.output.split(password).join('***');
  const line = run.timedOut ? `no result after ${Math.round(timeoutMs / 1000)} s` : (firstErrorLine(output) ?? `exit ${run.code ?? run.signal}`);
  const full = DISK_FULL.test(output);
  const where = path.dirname(path.dirname(path.dirname(datadir)));
  throw new ToolError(`cannot initialise the embedded server's datadir: ${full ? `no space left on device under ${where} (${line})` : line}`, full ? ExitCode.DISK_FULL : ExitCode.MISSING_DEPENDENCY, {
    hint: full
      ? `an embedded server needs about 300 MB: free some space there, or point GOU_STATE_DIR at a larger file system`
      : `this is the first error ${path.basename(serverBin)} --bootstrap printed; check that mariadb-server is fully installed`,
  });
}

/**
 * The watchdog of a server that must not outlive its owner: `sh` blocks reading a pipe whose write end only
 * this process holds; the kernel closes it when this process ends in any way (kill -9 included), and the
 * watchdog then kills the server — only if that pid still runs this datadir — and deletes its files.
 */
function startWatchdog(serverPid: number, datadir: string, baseDir: string, socket: string): number | undefined {
  const script = 'read _ignored; ' + 'if [ -r "/proc/$1/cmdline" ] && tr "\\0" "\\n" < "/proc/$1/cmdline" | grep -qxF -- "--datadir=$2"; then kill -KILL "$1"; fi; ' + 'sleep 1; rm -rf -- "$3" "$4"';
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', script, 'gou-watchdog', String(serverPid), datadir, baseDir, socket], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch {
    return undefined;
  }
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.unref();
  // Keep the pipe open without keeping the event loop alive.
  const stdin: unknown = child.stdin;
  if (stdin instanceof net.Socket) stdin.unref();
  if (child.pid) watchdogs.set(child.pid, child);
  return child.pid;
}

interface LaunchOptions {
  preferredPort?: number;
  startTimeoutMs?: number;
  cleanupOnFailure: boolean;
}

/** Starts the server on an existing datadir and waits until root can log in; returns its pid and port. */
async function launchServer(rec: Pick<InstanceRecord, 'datadir' | 'baseDir' | 'socket' | 'serverBin' | 'settings'>, password: string, opts: LaunchOptions): Promise<{ pid: number; port: number }> {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const userArgs = asRoot ? ['--user=root'] : [];
  const errorLog = path.join(rec.baseDir, 'error.log');
  const tmpdir = path.join(rec.baseDir, 'tmp');
  fs.mkdirSync(tmpdir, { recursive: true, mode: 0o700 });
  const startTimeout = opts.startTimeoutMs ?? 120_000;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = attempt === 0 && opts.preferredPort && (await portIsFree(opts.preferredPort)) ? opts.preferredPort : await freePort();
    const logStart = readText(errorLog).length;
    const args = [
      '--no-defaults',
      `--datadir=${rec.datadir}`,
      `--socket=${rec.socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(rec.baseDir, 'mariadbd.pid')}`,
      `--log-error=${errorLog}`,
      // Its own temporary directory: nothing else on the machine cleans or fills it.
      `--tmpdir=${tmpdir}`,
      '--skip-log-bin',
      '--skip-name-resolve',
      '--local-infile=1',
      ...INNODB_ARGS,
      ...userArgs,
      ...settingsArgs(rec.settings),
    ];
    const child = spawn(rec.serverBin, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    const pid = child.pid ?? 0;
    const ready = await waitReady(rec.socket, pid, password, startTimeout);
    if (ready === 'ready') return { pid, port };
    killPid(pid, 'SIGKILL');
    const log = readText(errorLog).slice(logStart);
    if (ready === 'exited' && /Address already in use|Can't start server: Bind|Do you already have another .* server running on port/i.test(log) && attempt < 3) continue;
    if (opts.cleanupOnFailure) {
      removeTree(rec.baseDir);
      fs.rmSync(rec.socket, { force: true });
    }
    if (DISK_FULL.test(log)) {
      throw new ToolError(`embedded server could not start: no space left on device under ${path.dirname(path.dirname(rec.baseDir))} (${firstErrorLine(log) ?? 'InnoDB'})`, ExitCode.DISK_FULL, {
        hint: 'an embedded server needs about 300 MB plus the restored data: free some space there, or point GOU_STATE_DIR at a larger file system',
      });
    }
    const line = firstErrorLine(log);
    throw new ToolError(
      ready === 'timeout'
        ? `embedded server did not become ready within ${Math.round(startTimeout / 1000)} s${line ? `: ${line}` : ''}`
        : `embedded server exited during start-up${line ? `: ${line}` : ''}`,
      ExitCode.MISSING_DEPENDENCY,
      { hint: `server log: ${errorLog}${opts.cleanupOnFailure ? ' (deleted with the instance)' : ''}` },
    );
  }
  throw new ToolError('embedded server could not find a free port', ExitCode.MISSING_DEPENDENCY);
}

/** Starts a fresh embedded server and waits until it accepts connections. */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedInstance> {
  const serverBin = findServerBinary(options.serverBin);
  cleanStaleInstances(options.stateDir);
  const regDir = registryDir(options.stateDir);
  const id = `${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
  const serversDir = path.join(stateDir(options.stateDir), 'servers');
  const baseDir = path.join(serversDir, id);
  const datadir = path.join(baseDir, 'data');
  const tmpdir = path.join(baseDir, 'tmp');
  // Unix socket paths are limited to ~107 bytes: keep it short, in the tmpdir.
  const socket = path.join(os.tmpdir(), `gou-${id}.sock`);
  const password = crypto.randomBytes(24).toString('base64url');
  try {
    await fsp.mkdir(serversDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(baseDir, { mode: 0o700 });
    await fsp.chmod(baseDir, 0o700);
    await fsp.mkdir(datadir, { mode: 0o700 });
    await fsp.mkdir(tmpdir, { mode: 0o700 });
    await fsp.mkdir(regDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    removeTree(baseDir);
    throw fromSystemError(err, 'creating the embedded instance directory') ?? err;
  }
  const cleanupOnFailure = () => {
    removeTree(baseDir);
    fs.rmSync(socket, { force: true });
  };
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const userArgs = asRoot ? ['--user=root'] : [];
  const startTimeout = options.startTimeoutMs ?? 120_000;
  const keep = options.keep ?? false;
  const settings = options.settings ?? {};

  // 1. Create the system tables (root's password is set here, for MariaDB).
  let passwordSet: boolean;
  try {
    ({ passwordSet } = await bootstrap(serverBin, datadir, tmpdir, password, options.settings, userArgs, startTimeout));
    if (keep) fs.writeFileSync(path.join(baseDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
  } catch (err) {
    cleanupOnFailure();
    throw err;
  }

  // 2. Start it on a free port (retrying if the port was taken in between).
  const base = { datadir, baseDir, socket, serverBin, settings };
  const { pid, port } = await launchServer(base, passwordSet ? password : '', { startTimeoutMs: startTimeout, cleanupOnFailure: true });
  const watchdogPid = keep ? undefined : startWatchdog(pid, datadir, baseDir, socket);

  const record: InstanceRecord = {
    id,
    name: options.name ?? id,
    pid,
    ownerPid: process.pid,
    keep,
    port,
    socket,
    datadir,
    baseDir,
    serverBin,
    serverVersion: 'unknown', // read from the server just below
    startedAt: new Date().toISOString(),
    settings,
    ...(watchdogPid ? { watchdogPid } : {}),
  };
  const registryFile = path.join(regDir, `${id}.json`);
  writeInstanceRecord(registryFile, record);
  const instance = new EmbeddedInstance(record, registryFile, password);

  // 3. (MySQL) root's password and TCP account; then the test-instance marker.
  try {
    const conn = await connect(socketDsn(socket, passwordSet ? password : ''), { promptOnDenied: false });
    try {
      if (!passwordSet) {
        await conn.query('ALTER USER root@localhost IDENTIFIED BY ?', [password]);
        await conn.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ?", [password]);
        await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
      }
      await markAsTestInstance(conn, `embedded instance ${id}`);
      record.serverVersion = String((await queryRows<{ v: string }>(conn, 'SELECT VERSION() AS v'))[0].v);
      writeInstanceRecord(registryFile, record);
    } finally {
      await conn.end();
    }
  } catch (err) {
    instance.stopSync();
    const message = (err as Error).message.split(password).join('***');
    throw new ToolError(`embedded server started but could not be prepared: ${message}`, ExitCode.INTERNAL);
  }
  return instance;
}

/** root over the instance's unix socket, during bootstrap (before the TCP account exists). */
function socketDsn(socket: string, password: string): Dsn {
  return { user: 'root', host: 'localhost', port: 0, socket, password, testInstance: true };
}

async function waitReady(socket: string, pid: number, password: string, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'exited';
    if (fs.existsSync(socket)) {
      try {
        const conn = await connect(socketDsn(socket, password), { promptOnDenied: false, connectTimeoutMs: 5000 });
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
