/**
 * One `apply` or `rollback` at a time, per run directory and per production server.
 *
 *  - The run directory: the rehearsal's RUN_DIR/.lock (src/rehearse/lock.ts lockRunDir: the holder's pid,
 *    start time, host and command; a dead holder's lock is taken over). The runner inside apply locks
 *    RUN_DIR/apply on its own; this one also covers the checks, the backup and rollback, and keeps a
 *    `rehearse --resume` of the same directory out meanwhile.
 *  - Each production server: a MariaDB named lock (GET_LOCK), held by a dedicated connection with no default
 *    database for the whole command. It writes nothing; the server releases it when the holder dies, and
 *    IS_USED_LOCK names the holder's connection. Two run directories cannot apply to one server at once.
 *
 * A live holder means BusyError (exit 13) at once, naming it.
 */
import mysql from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { baseOptions } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { hostPortOf } from '../db/interlock.ts';
import { BusyError } from '../errors.ts';
import { describeOwner, lockRunDir } from '../rehearse/lock.ts';

/** The named lock on a production server (the same for every database on it). */
export const PRODUCTION_LOCK_NAME = 'glpi-ocs-upgrade:apply';

export interface ProductionLock {
  /** The dead holder whose run-directory lock was taken over, if any (to be said). */
  tookOver?: string;
  release(): Promise<void>;
}

async function lockServer(dsn: Dsn, command: string): Promise<Connection> {
  const conn = await mysql.createConnection(baseOptions({ ...dsn, database: undefined }, { extra: { multipleStatements: false } }));
  try {
    const [rows] = await conn.query('SELECT GET_LOCK(?, 0) AS got, IS_USED_LOCK(?) AS holder', [PRODUCTION_LOCK_NAME, PRODUCTION_LOCK_NAME]);
    const r = (rows as Array<{ got: number | null; holder: number | null }>)[0];
    if (Number(r.got) !== 1) {
      let who = `connection ${r.holder ?? '?'}`;
      const [p] = await conn.query('SELECT USER AS user, HOST AS host, TIME AS time FROM information_schema.PROCESSLIST WHERE ID = ?', [r.holder]);
      const row = (p as Array<{ user: string; host: string; time: number }>)[0];
      if (row) who += ` (${row.user}@${row.host}, connected ${row.time} s ago)`;
      throw new BusyError(`production server ${hostPortOf(dsn)} is locked by another apply or rollback: ${who}`, {
        hint: `one apply or rollback at a time on a server: wait for it to finish (its run directory's .lock names its process), then run ${command} again`,
      });
    }
    return conn;
  } catch (err) {
    await conn.end().catch(() => undefined);
    throw err;
  }
}

/**
 * Takes the run directory's lock, then the named lock of every production server in `servers` (one per
 * distinct HOST:PORT). Released in `finally` by the caller.
 */
export async function lockProduction(runDir: string, servers: Dsn[], command: 'apply' | 'apply --resume' | 'apply --dry-run' | 'rollback'): Promise<ProductionLock> {
  const dirLock = lockRunDir(runDir, command);
  const conns: Connection[] = [];
  const release = async () => {
    for (const c of conns) {
      await c.query('SELECT RELEASE_LOCK(?)', [PRODUCTION_LOCK_NAME]).catch(() => undefined);
      await c.end().catch(() => undefined);
    }
    dirLock.release();
  };
  try {
    const seen = new Set<string>();
    for (const dsn of servers) {
      if (seen.has(hostPortOf(dsn))) continue;
      seen.add(hostPortOf(dsn));
      conns.push(await lockServer(dsn, command));
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { tookOver: dirLock.tookOverFrom ? describeOwner(dirLock.tookOverFrom) : undefined, release };
}
