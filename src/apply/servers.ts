/**
 * Production's servers for `apply` and `rollback`: GLPI and OCS on one server and account (the usual case,
 * one runner, RUN_DIR/apply), or on two servers or accounts — then each is carried out on its own: its own
 * --confirm, backup, runner directory (RUN_DIR/apply/glpi, RUN_DIR/apply/ocs) and rollback.
 *
 * Every server must be named by a `--confirm HOST:PORT` (repeatable), and every --confirm must name one of
 * them: a typo never passes for a confirmation.
 */
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { connectReadOnly } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { confirmationMatches, hostPortOf } from '../db/interlock.ts';
import { InterlockError, UsageError } from '../errors.ts';
import { applyDir } from './state.ts';

export type Role = 'glpi' | 'ocs';

export interface ProductionSources {
  glpi?: Dsn;
  ocs?: Dsn;
}

export interface ProductionServer {
  /** The roles whose database this server and account hold, in the order glpi, ocs. */
  roles: Role[];
  /** The address without a default database (the runner's DSN). */
  dsn: Dsn;
  hostPort: string;
  /** The --confirm value that names it. */
  confirmed: string;
}

function confirmList(confirm: string | string[] | undefined): string[] {
  return (Array.isArray(confirm) ? confirm : confirm ? [confirm] : []).map((c) => c.trim()).filter(Boolean);
}

/** The servers behind `sources` (one per HOST:PORT and account), each confirmed; refuses before any connection. */
export function productionServers(sources: ProductionSources, confirm: string | string[] | undefined): ProductionServer[] {
  const servers: ProductionServer[] = [];
  for (const role of ['glpi', 'ocs'] as const) {
    const dsn = sources[role];
    if (!dsn) continue;
    const same = servers.find((s) => s.hostPort === hostPortOf(dsn) && s.dsn.user === dsn.user);
    if (same) same.roles.push(role);
    else servers.push({ roles: [role], dsn: { ...dsn, database: undefined }, hostPort: hostPortOf(dsn), confirmed: '' });
  }
  if (servers.length === 0) throw new UsageError('give production with --glpi and/or --ocs (or --glpi-dir / --ocs-dir)');
  const given = confirmList(confirm);
  const all = [...new Set(servers.map((s) => s.hostPort))];
  for (const s of servers) {
    const c = given.find((x) => confirmationMatches(s.dsn, x));
    if (!c) {
      throw new InterlockError(
        `--confirm ${given.length ? given.join(', ') : '(missing)'} does not name the production server ${s.hostPort}${all.length > 1 ? ` (GLPI and OCS are on ${all.join(' and ')}: confirm each)` : ''}: nothing was done`,
        { hint: `type production's address${all.length > 1 ? 'es' : ''} exactly: ${all.map((hp) => `--confirm ${hp}`).join(' ')}` },
      );
    }
    s.confirmed = c;
  }
  const stray = given.filter((c) => !servers.some((s) => confirmationMatches(s.dsn, c)));
  if (stray.length) {
    throw new InterlockError(`--confirm ${stray.join(', ')} names no production server given (${all.join(', ')}): nothing was done`, {
      hint: `type production's address${all.length > 1 ? 'es' : ''} exactly: ${all.map((hp) => `--confirm ${hp}`).join(' ')}`,
    });
  }
  return servers;
}

/** The server that holds `role`'s database. */
export function serverOf(servers: ProductionServer[], role: Role): ProductionServer | undefined {
  return servers.find((s) => s.roles.includes(role));
}

/** The runner's directory for a server: RUN_DIR/apply with one server, RUN_DIR/apply/<role> with two. */
export function serverDir(runDir: string, servers: ProductionServer[], server: ProductionServer): string {
  return servers.length === 1 ? applyDir(runDir) : path.join(applyDir(runDir), server.roles.join('+'));
}

/** The display of the servers: `db1:3306`, or `glpi db1:3306, ocs db2:3306`. */
export function describeServers(servers: ProductionServer[]): string {
  return servers.length === 1 ? servers[0].hostPort : servers.map((s) => `${s.roles.join('+')} ${s.hostPort}`).join(', ');
}

/** The --confirm flags naming every server (for hints and the report). */
export function confirmFlags(hostPorts: string[]): string {
  return [...new Set(hostPorts)].map((hp) => `--confirm ${hp}`).join(' ');
}

/** One READ ONLY session per server, and the session of each role (the same object for roles sharing a server). */
export interface ReadSessions {
  byRole: Partial<Record<Role, Connection>>;
  all: Array<{ server: ProductionServer; conn: Connection }>;
  end(): Promise<void>;
}

export async function openReadSessions(servers: ProductionServer[]): Promise<ReadSessions> {
  const all: ReadSessions['all'] = [];
  const end = async () => {
    for (const x of all) await x.conn.end().catch(() => undefined);
  };
  try {
    for (const server of servers) all.push({ server, conn: await connectReadOnly(server.dsn) });
  } catch (err) {
    await end();
    throw err;
  }
  const byRole: ReadSessions['byRole'] = {};
  for (const x of all) for (const r of x.server.roles) byRole[r] = x.conn;
  return { byRole, all, end };
}
