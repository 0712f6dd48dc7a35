/**
 * Database addresses ("DSNs"): `mysql://user@host:port/db`, `mariadb://…`, or a unix socket with
 * `mysql://user@localhost/db?socket=/run/mysqld/mysqld.sock`.
 *
 * A DSN given on the command line must not carry a password: passwords come from an environment
 * variable, a defaults file, an installation's config file or a prompt (see credentials.ts).
 * `?test-instance=1` marks a server the user declares to be a throwaway test instance (interlock).
 */
import { UsageError } from '../errors.ts';

export interface Dsn {
  user: string;
  host: string;
  port: number;
  /** Unix socket path; when set, host/port are ignored by the driver. */
  socket?: string;
  database?: string;
  /** Present only when the DSN came from a trusted place (environment), never from argv. */
  password?: string;
  /** The user declared this server a test instance: writes are allowed (interlock). */
  testInstance: boolean;
}

export const DEFAULT_PORT = 3306;

export interface ParseDsnOptions {
  /** Allow `user:password@` (only for DSNs read from the environment, e.g. MARIADB_URL in tests). */
  allowPassword?: boolean;
}

export function parseDsn(text: string, options: ParseDsnOptions = {}): Dsn {
  const raw = text.trim();
  if (raw === '') throw new UsageError('empty database address', { hint: 'expected mysql://user@host:port/database' });
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `mysql://${raw}`);
  } catch {
    throw new UsageError(`cannot read the database address "${redactDsnText(raw)}"`, {
      hint: 'expected mysql://user@host:port/database or mysql://user@localhost/database?socket=/path/to.sock',
    });
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new UsageError(`unsupported scheme "${url.protocol.replace(/:$/, '')}" in database address`, {
      hint: 'use mysql:// or mariadb://',
    });
  }
  if (url.password && !options.allowPassword) {
    throw new UsageError('a password was given inside the database address; passwords never go on the command line', {
      hint: 'remove it from the address and set it in an environment variable (see --help: "Credentials"), a --defaults-file, or let the tool prompt for it',
    });
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
  if (database?.includes('/')) throw new UsageError(`invalid database name "${database}" in address`);
  const socket = url.searchParams.get('socket') ?? undefined;
  const testFlag = url.searchParams.get('test-instance');
  for (const key of url.searchParams.keys()) {
    if (key !== 'socket' && key !== 'test-instance') {
      throw new UsageError(`unknown option "${key}" in database address`, { hint: 'known options: socket, test-instance' });
    }
  }
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`invalid port "${url.port}"`);
  return {
    user: decodeURIComponent(url.username) || 'root',
    host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port,
    socket,
    database,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    testInstance: testFlag === '1' || testFlag === 'true' || testFlag === 'yes',
  };
}

/** A printable form of a DSN: never includes the password. */
export function formatDsn(dsn: Dsn): string {
  const where = dsn.socket ? `localhost/${dsn.database ?? ''}?socket=${dsn.socket}` : `${dsn.host}:${dsn.port}/${dsn.database ?? ''}`;
  return `mysql://${encodeURIComponent(dsn.user)}@${where}`;
}

/** Removes anything that looks like a password from a DSN-ish string, for error messages. */
export function redactDsnText(text: string): string {
  return text.replace(/(\/\/[^:/@]*):[^@]*@/, '$1:***@');
}

export function withDatabase(dsn: Dsn, database: string): Dsn {
  return { ...dsn, database };
}
