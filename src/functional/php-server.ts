/**
 * PHP's built-in web server on a free 127.0.0.1 port, in its own process group (its workers with it), so
 * that stopping it — or the tool's exit, however it happens — leaves no PHP process behind.
 * Its stderr (access log and PHP errors) goes to a log file; `errorsSince(offset)` reads the PHP errors
 * written after a point.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { onShutdown } from '../util/shutdown.ts';
import { freePort } from '../util/net.ts';
import { signalGroup } from '../rehearse/processes.ts';

export interface PhpServerOptions {
  php: string;
  /** Document root (-t). */
  docroot: string;
  /** Router script (optional). */
  router?: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  /** PHP -d settings. */
  ini?: Record<string, string>;
  workers?: number;
  signal?: AbortSignal;
}

export interface PhpServer {
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /** Current size of the log (a mark for errorsSince). */
  mark(): number;
  /** PHP errors / warnings / notices / deprecations logged after `mark`. */
  errorsSince(mark: number): string[];
  /** The command line shown to users (no secret in it). */
  shown: string;
  stop(): Promise<void>;
}

/** Set in the environment of every server and browser the stage starts: the tool's pid (tests find leftovers by it). */
export const OWNER_ENV = 'GOU_FUNCTIONAL_OWNER';

/** PHP errors, warnings and notices; deprecation notices are not errors (PHP 8.2 raises many in older code). */
const PHP_ERROR_RE = /PHP (Fatal error|Parse error|Warning|Notice|Recoverable fatal error)|(^|\s)(Fatal error|Parse error|Warning|Notice): /;

/** Lines of a PHP server log that are PHP errors (not access-log lines). */
export function phpErrorLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && PHP_ERROR_RE.test(l));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitListening(port: number, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`php -S exited with ${child.exitCode ?? child.signalCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('php -S did not start listening within 15 s');
}

export async function startPhpServer(o: PhpServerOptions): Promise<PhpServer> {
  const port = await freePort();
  // Errors go to the server's log (its stderr), not into the pages, as on a production web server.
  const ini = Object.entries({ display_errors: '0', log_errors: '1', error_log: '', error_reporting: 'E_ALL', 'session.gc_probability': '0', ...o.ini }).flatMap(([k, v]) => ['-d', `${k}=${v}`]);
  const args = [...ini, '-S', `127.0.0.1:${port}`, '-t', o.docroot, ...(o.router ? [o.router] : [])];
  fs.writeFileSync(o.logFile, '');
  const log = fs.openSync(o.logFile, 'a');
  const child = spawn(o.php, args, {
    cwd: o.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', PHP_CLI_SERVER_WORKERS: String(o.workers ?? 4), [OWNER_ENV]: String(process.pid), ...o.env },
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${o.php}`);
  const removeHook = onShutdown(() => signalGroup(pid, 'SIGKILL'));
  const onAbort = () => signalGroup(pid, 'SIGKILL');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    o.signal?.removeEventListener('abort', onAbort);
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    signalGroup(pid, 'SIGKILL');
    removeHook();
  };
  try {
    await waitListening(port, child, Date.now() + 15_000);
  } catch (err) {
    await stop();
    const tail = fs.readFileSync(o.logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${(err as Error).message}${tail ? `: ${tail}` : ''}`);
  }
  const shown = `${o.php} ${args.join(' ')}`;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    logFile: o.logFile,
    shown,
    mark: () => fs.statSync(o.logFile).size,
    errorsSince: (mark: number) => {
      const buf = fs.readFileSync(o.logFile);
      return phpErrorLines(buf.subarray(mark).toString('utf8'));
    },
    stop,
  };
}
