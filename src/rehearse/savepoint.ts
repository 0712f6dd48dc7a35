/**
 * Savepoints: before a step writes, the tables it may touch are copied into a shadow database on the same
 * test instance; if the step fails or is interrupted, they are put back exactly (rows byte for byte; tables
 * the step created are dropped). DDL is not transactional in MariaDB, so this is how a half-run step is
 * undone before a resume — the GLPI updater in particular leaves a half-migrated database when it dies.
 */
import type { Connection } from 'mysql2/promise';
import { qi } from '../db/connect.ts';
import { listTables } from '../db/introspect.ts';

export type { Savepoint } from '../formats/step-evidence.ts';
import type { Savepoint } from '../formats/step-evidence.ts';

/** A savepoint that copies nothing: the step is undone by replaying `steps` on a fresh restore. */
export function replaySavepoint(database: string, steps: string[]): Savepoint {
  return { database, shadow: shadowName(database), saved: [], absent: [], whole: false, mode: 'replay', replay: [...steps] };
}

export function shadowName(database: string): string {
  return `${database}__gou_savepoint`.slice(0, 64);
}

async function copyTable(conn: Connection, fromDb: string, toDb: string, table: string): Promise<void> {
  await conn.query(`DROP TABLE IF EXISTS ${qi(toDb)}.${qi(table)}`);
  await conn.query(`CREATE TABLE ${qi(toDb)}.${qi(table)} LIKE ${qi(fromDb)}.${qi(table)}`);
  await conn.query(`INSERT INTO ${qi(toDb)}.${qi(table)} SELECT * FROM ${qi(fromDb)}.${qi(table)}`);
}

/**
 * Saves `tables` (or every base table, with 'all') of `database`. The session must allow zero dates
 * (sql_mode '') so that INSERT … SELECT copies legacy rows unchanged.
 */
export async function createSavepoint(conn: Connection, database: string, tables: string[] | 'all'): Promise<Savepoint> {
  const shadow = shadowName(database);
  await conn.query(`DROP DATABASE IF EXISTS ${qi(shadow)}`);
  await conn.query(`CREATE DATABASE ${qi(shadow)}`);
  const existing = new Set((await listTables(conn, database)).filter((t) => t.type === 'BASE TABLE').map((t) => t.name));
  const wanted = tables === 'all' ? [...existing] : [...new Set(tables)];
  const saved: string[] = [];
  const absent: string[] = [];
  await conn.query("SET SESSION sql_mode = ''");
  for (const t of wanted.sort()) {
    if (existing.has(t)) {
      await copyTable(conn, database, shadow, t);
      saved.push(t);
    } else {
      absent.push(t);
    }
  }
  return { database, shadow, saved, absent, whole: tables === 'all' };
}

/** Puts the saved tables back and drops what the step created (copy savepoints; see replay.ts for the other). */
export async function rollbackSavepoint(conn: Connection, sp: Savepoint): Promise<void> {
  if (sp.mode === 'replay') throw new Error('a replay savepoint is rolled back by rollbackByReplay (src/rehearse/replay.ts)');
  await conn.query("SET SESSION sql_mode = ''");
  await conn.query('SET SESSION foreign_key_checks = 0');
  if (sp.whole) {
    const now = (await listTables(conn, sp.database)).filter((t) => t.type === 'BASE TABLE').map((t) => t.name);
    const keep = new Set(sp.saved);
    for (const t of now) if (!keep.has(t)) await conn.query(`DROP TABLE IF EXISTS ${qi(sp.database)}.${qi(t)}`);
  }
  for (const t of sp.absent) await conn.query(`DROP TABLE IF EXISTS ${qi(sp.database)}.${qi(t)}`);
  for (const t of sp.saved) await copyTable(conn, sp.shadow, sp.database, t);
  await conn.query('SET SESSION foreign_key_checks = 1');
}

export async function dropSavepoint(conn: Connection, sp: Pick<Savepoint, 'shadow' | 'mode'>): Promise<void> {
  if (sp.mode === 'replay') return;
  await conn.query(`DROP DATABASE IF EXISTS ${qi(sp.shadow)}`);
}
