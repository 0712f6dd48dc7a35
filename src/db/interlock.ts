/**
 * The write interlock. Writing commands (restore, rehearse, fixtures --into, corrective migrations) may
 * touch only a server that carries the test-instance marker: the schema `glpi_ocs_upgrade_marker` with a
 * row in its `test_instance` table. The tool's embedded instances get it when they start; a server the user
 * owns as a throwaway gets it from `glpi-ocs-upgrade instance mark --instance DSN --confirm HOST:PORT`,
 * where HOST:PORT must be typed out (a named confirmation, so a typo'd DSN pointing at production is
 * refused rather than written to).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Connection, Pool } from 'mysql2/promise';
import { InterlockError } from '../errors.ts';
import type { Dsn } from './dsn.ts';
import { formatDsn } from './dsn.ts';
import { connect } from './connect.ts';

export const MARKER_SCHEMA = 'glpi_ocs_upgrade_marker';

export async function markAsTestInstance(conn: Connection, note: string): Promise<void> {
  await conn.query(`CREATE DATABASE IF NOT EXISTS \`${MARKER_SCHEMA}\``);
  await conn.query(`CREATE TABLE IF NOT EXISTS \`${MARKER_SCHEMA}\`.test_instance (id INT NOT NULL PRIMARY KEY, marked_at DATETIME NOT NULL, note VARCHAR(255) NOT NULL) ENGINE=InnoDB`);
  await conn.query(`REPLACE INTO \`${MARKER_SCHEMA}\`.test_instance (id, marked_at, note) VALUES (1, NOW(), ?)`, [note]);
}

export async function isMarkedTestInstance(conn: Connection | Pool): Promise<boolean> {
  try {
    const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM \`${MARKER_SCHEMA}\`.test_instance`);
    return Number((rows as Array<{ n: number | string }>)[0]?.n ?? 0) > 0;
  } catch {
    return false;
  }
}

/** Removes the marker (the whole marker schema); returns whether the server was marked. */
export async function unmarkTestInstance(conn: Connection): Promise<boolean> {
  const was = await isMarkedTestInstance(conn);
  await conn.query(`DROP DATABASE IF EXISTS \`${MARKER_SCHEMA}\``);
  return was;
}

/**
 * Production writes (`apply` / `rollback` only): inside `withProductionWrites`, and only in its async
 * context, the one server whose HOST:PORT the user typed with --confirm passes the interlock although it
 * is not marked. Nothing else in the process (and nothing after the callback returns) is affected.
 */
const productionScope = new AsyncLocalStorage<{ hostPort: string }>();

export function hostPortOf(dsn: Dsn): string {
  return dsn.socket ? 'localhost' : `${dsn.host}:${dsn.port}`;
}

export async function withProductionWrites<T>(dsn: Dsn, confirm: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!confirmationMatches(dsn, confirm)) {
    throw new InterlockError(`--confirm ${confirm ?? '(missing)'} does not name ${formatDsn(dsn)}: nothing was written`, {
      hint: `type the production server's address exactly: --confirm ${hostPortOf(dsn)}`,
    });
  }
  return productionScope.run({ hostPort: hostPortOf(dsn) }, fn);
}

/** True when the caller runs inside withProductionWrites for the server of `dsn`. */
export function productionWritesAllowed(dsn: Dsn): boolean {
  const scope = productionScope.getStore();
  return scope !== undefined && scope.hostPort === hostPortOf(dsn);
}

/** Throws InterlockError unless the server behind `conn` is marked as a test instance (or confirmed production, see above). */
export async function assertWritable(conn: Connection | Pool, dsn: Dsn, action: string): Promise<void> {
  if (productionWritesAllowed(dsn)) return;
  if (await isMarkedTestInstance(conn)) return;
  throw new InterlockError(`refusing to ${action} on ${formatDsn(dsn)}: it is not marked as a test instance`, {
    hint: `if this server really is a throwaway test server, mark it once with: glpi-ocs-upgrade instance mark --instance ${formatDsn(dsn)} --confirm ${dsn.socket ? 'localhost' : `${dsn.host}:${dsn.port}`}`,
  });
}

/**
 * The interlock as the first thing a writing command does with a server it was given: opens a connection,
 * checks the marker with one SELECT, closes it. Nothing else may reach the server before this has passed —
 * not even the clean-up of a failed run (`DROP DATABASE IF EXISTS` of temporary names).
 */
export async function assertWritableDsn(dsn: Dsn, action: string): Promise<void> {
  const conn = await connect(dsn);
  try {
    await assertWritable(conn, dsn, action);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Checks the named confirmation typed by the user for `instance mark`. */
export function confirmationMatches(dsn: Dsn, confirm: string | undefined): boolean {
  if (!confirm) return false;
  const expected = dsn.socket ? ['localhost', dsn.socket] : [`${dsn.host}:${dsn.port}`];
  return expected.includes(confirm.trim());
}
