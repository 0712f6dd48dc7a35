/**
 * One rehearsal at a time, on a run directory and on a test instance.
 *
 *  - The run directory lock is the file `.lock` in it, created exclusively (O_EXCL) and holding the owner's
 *    pid, its process start time, host and command. A lock whose owner is dead (no such pid, or a pid now
 *    used by another process) is taken over with a message; a live owner means BusyError (exit 13) at once.
 *  - The instance lock is a MariaDB named lock (GET_LOCK) held by a dedicated connection for the whole run:
 *    the server releases it by itself when the holder dies, and IS_USED_LOCK names the holder's connection.
 *
 *    The lock is named after the databases the run writes (two runs of other databases may share a server).
 *
 * Both are taken before anything else and released in `finally` by the caller.
 */
import { lockOwnerLine, readLockOwner } from '../formats/lock.ts';
import type { LockOwner } from '../formats/lock.ts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { BusyError } from '../errors.ts';
import { isSameProcessAlive, processStartTime } from './processes.ts';
import { fsyncDir } from '../formats/atomic.ts';

export const LOCK_FILE = '.lock';
/** The named lock for the databases a run writes on an instance (GET_LOCK names are at most 64 characters). */
export function instanceLockName(databases: string[]): string {
  const h = crypto
    .createHash('sha256')
    .update([...databases].sort().join('\0'))
    .digest('hex')
    .slice(0, 24);
  return `glpi-ocs-upgrade:rehearse:${h}`;
}

export type { LockOwner } from '../formats/lock.ts';

export interface RunDirLock {
  file: string;
  /** The dead owner whose lock was taken over, if any. */
  tookOverFrom?: LockOwner;
  release(): void;
}

function me(command: string): LockOwner {
  return { pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname(), command, since: new Date().toISOString() };
}

function readOwner(file: string): LockOwner | undefined {
  return readLockOwner(file);
}

export function describeOwner(o: LockOwner): string {
  return `pid ${o.pid} on ${o.host} (${o.command}, since ${o.since})`;
}

/** Takes the run directory's lock (the directory must exist). */
export function lockRunDir(runDir: string, command: string): RunDirLock {
  const file = path.join(runDir, LOCK_FILE);
  const owner = me(command);
  let tookOverFrom: LockOwner | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      try {
        fs.writeSync(fd, lockOwnerLine(owner));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fsyncDir(runDir);
      return {
        file,
        tookOverFrom,
        release: () => {
          // Only our own lock: never remove one a takeover gave to someone else.
          if (readOwner(file)?.pid === process.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readOwner(file);
    if (holder && (holder.host !== os.hostname() || isSameProcessAlive(holder.pid, holder.startTime))) {
      throw new BusyError(`run directory ${runDir} is locked by ${describeOwner(holder)}`, {
        hint: holder.host !== os.hostname() ? `that process runs on another machine; if it is dead, remove ${file}` : `wait for it to finish, or stop it (kill -INT ${holder.pid}) and --resume`,
      });
    }
    // Dead owner (or a lock file torn by a kill while it was written): move it aside atomically, so that of
    // two processes taking over at once only one wins, then create ours.
    const aside = `${file}.stale-${process.pid}`;
    try {
      fs.renameSync(file, aside);
      fs.rmSync(aside, { force: true });
      tookOverFrom = holder ?? { pid: 0, host: '?', command: 'unreadable lock file', since: '?' };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new BusyError(`run directory ${runDir}: could not take its lock (another process keeps taking it)`);
}

export interface InstanceLock {
  release(): Promise<void>;
}

/** Takes the instance's named lock on `conn` (a connection kept open for the whole run). */
export async function lockInstance(conn: Connection, label: string, databases: string[]): Promise<InstanceLock> {
  const INSTANCE_LOCK_NAME = instanceLockName(databases);
  const [rows] = await conn.query('SELECT GET_LOCK(?, 0) AS got, IS_USED_LOCK(?) AS holder, CONNECTION_ID() AS me', [INSTANCE_LOCK_NAME, INSTANCE_LOCK_NAME]);
  const r = (rows as Array<{ got: number | null; holder: number | null; me: number }>)[0];
  if (Number(r.got) !== 1) {
    let who = `connection ${r.holder ?? '?'}`;
    try {
      const [p] = await conn.query('SELECT USER AS user, HOST AS host, TIME AS time FROM information_schema.PROCESSLIST WHERE ID = ?', [r.holder]);
      const row = (p as Array<{ user: string; host: string; time: number }>)[0];
      if (row) who += ` (${row.user}@${row.host}, connected ${row.time} s ago)`;
    } catch {
      /* the id alone */
    }
    throw new BusyError(`test instance ${label} is locked by another rehearsal of ${databases.join(', ')}: ${who}`, {
      hint: 'two rehearsals must not write the same instance at once: wait for the other one, or use another instance',
    });
  }
  return {
    release: async () => {
      await conn.query('SELECT RELEASE_LOCK(?)', [INSTANCE_LOCK_NAME]).catch(() => undefined);
    },
  };
}
