/**
 * Opening connections with mysql2, with every driver failure turned into one typed, password-free error.
 */
import { Connection as CoreConnection } from 'mysql2';
import mysql from 'mysql2/promise';
import type { Connection, ConnectionOptions, Pool, PoolOptions } from 'mysql2/promise';
import { ConnectionError, ExitCode, NotFoundError, ToolError, UnsupportedError } from '../errors.ts';
import type { Dsn } from './dsn.ts';
import { formatDsn } from './dsn.ts';
import { promptPassword } from './credentials.ts';

export type { Connection, Pool } from 'mysql2/promise';

export interface ConnectOptions {
  /** Passed to mysql2; defaults suit byte-exact work (no timezone conversion, dates as strings). */
  extra?: Partial<ConnectionOptions>;
  /** Prompt for a password on a TTY when the server refuses the one we have (default true). */
  promptOnDenied?: boolean;
  connectTimeoutMs?: number;
}

export function baseOptions(dsn: Dsn, opts: ConnectOptions = {}): ConnectionOptions {
  return {
    user: dsn.user,
    password: dsn.password ?? '',
    database: dsn.database,
    ...(dsn.socket ? { socketPath: dsn.socket } : { host: dsn.host, port: dsn.port }),
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
    charset: 'utf8mb4_general_ci',
    timezone: 'local',
    ...opts.extra,
  };
}

/** Translates a mysql2/Node error into a ToolError naming the server (never the password). */
export function translateDbError(err: unknown, dsn: Dsn): ToolError {
  if (err instanceof ToolError) return err;
  const e = err as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const where = formatDsn(dsn);
  switch (e.code) {
    case 'ECONNREFUSED':
      return new ConnectionError(`cannot connect to ${where}: connection refused`, {
        hint: 'is the server running and listening on that host and port?',
        cause: err,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectionError(`cannot connect to ${where}: unknown host "${dsn.host}"`, { cause: err });
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ConnectionError(`cannot connect to ${where}: ${e.code}`, { hint: 'check the network path and firewall', cause: err });
    case 'ENOENT':
      return new ConnectionError(`cannot connect to ${where}: socket ${dsn.socket ?? ''} does not exist`, { cause: err });
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return new ConnectionError(`access denied for user "${dsn.user}" on ${where}`, {
        hint: 'check the user and the password source (environment variable, --defaults-file, --glpi-dir/--ocs-dir)',
        cause: err,
      });
    case 'ER_BAD_DB_ERROR':
      return new NotFoundError(`database "${dsn.database ?? ''}" does not exist on ${where}`, { cause: err });
    case 'ER_NOT_SUPPORTED_AUTH_MODE':
      return new UnsupportedError(`the server at ${where} asks for an authentication method the driver does not support`, { cause: err });
    default:
      return new ConnectionError(`database error on ${where}: ${e.sqlMessage ?? e.message ?? String(err)}`, { cause: err });
  }
}

function isAccessDenied(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR';
}

/**
 * Passwords typed at the prompt in this process, by account (user and server, whatever the database): a
 * snapshot's control, reader and monitor connections, or the runner's, ask once and share the answer.
 * Promises, so that connections opened together wait for the one prompt instead of asking each.
 */
const typedPasswords = new Map<string, Promise<string>>();

function accountOf(dsn: Dsn): string {
  return `${dsn.user}@${dsn.socket ?? `${dsn.host}:${dsn.port}`}`;
}

/**
 * Opens one connection; every driver failure becomes a typed error. On "access denied" without a password
 * and on a TTY, asks for the password once per account and process: later connections to the same account
 * reuse what was typed (a wrong password is forgotten, so the next connection asks again).
 */
export async function connect(dsn: Dsn, opts: ConnectOptions = {}): Promise<Connection> {
  const account = accountOf(dsn);
  const typed = dsn.password ? undefined : typedPasswords.get(account);
  if (typed) return connectTyped(dsn, opts, account, typed);
  try {
    return await mysql.createConnection(baseOptions(dsn, opts));
  } catch (err) {
    const canPrompt = (opts.promptOnDenied ?? true) && process.stdin.isTTY && !dsn.password && isAccessDenied(err);
    if (!canPrompt) throw translateDbError(err, dsn);
    let asked = typedPasswords.get(account);
    if (!asked) {
      asked = promptPassword(formatDsn(dsn));
      typedPasswords.set(account, asked);
    }
    return connectTyped(dsn, opts, account, asked);
  }
}

async function connectTyped(dsn: Dsn, opts: ConnectOptions, account: string, typed: Promise<string>): Promise<Connection> {
  // A cancelled prompt or a wrong password is forgotten, so that the next connection asks again.
  const forget = () => {
    if (typedPasswords.get(account) === typed) typedPasswords.delete(account);
  };
  let password: string;
  try {
    password = await typed;
  } catch (err) {
    forget();
    throw err;
  }
  const withPassword: Dsn = { ...dsn, password };
  try {
    return await mysql.createConnection(baseOptions(withPassword, opts));
  } catch (err) {
    if (isAccessDenied(err)) forget();
    throw translateDbError(err, withPassword);
  }
}

/**
 * Asks for the password now, once, when the server wants one and nothing gave it: for commands that then
 * hand the terminal to a progress display, under which a prompt would not be seen. Returns the address with
 * the typed password (kept in memory only), or unchanged when no prompt was needed or possible.
 */
export async function withTypedPassword(dsn: Dsn): Promise<Dsn> {
  if (dsn.password || !process.stdin.isTTY) return dsn;
  const conn = await connect(dsn);
  await conn.end().catch(() => undefined);
  const typed = typedPasswords.get(accountOf(dsn));
  return typed ? { ...dsn, password: await typed } : dsn;
}

export function createPool(dsn: Dsn, size: number, opts: ConnectOptions = {}): Pool {
  const poolOptions: PoolOptions = { ...baseOptions(dsn, opts), connectionLimit: size, waitForConnections: true };
  return mysql.createPool(poolOptions);
}

/** Runs a query and returns rows as plain objects; errors become ToolErrors. */
export async function queryRows<T = Record<string, unknown>>(conn: Connection | Pool, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await conn.query(sql, params);
  return rows as T[];
}

/**
 * The callback-API connection under a promise connection (its events: 'error', 'end'; pause/resume; raw
 * commands). mysql2's typings do not declare the property: it is read and checked at run time.
 */
export function coreOf(conn: Connection): CoreConnection {
  const core: unknown = Reflect.get(conn, 'connection');
  if (core instanceof CoreConnection) return core;
  throw new ToolError('internal error: this mysql2 promise connection has no core connection (run npm ci)', ExitCode.INTERNAL);
}

/** Quotes an identifier for MySQL/MariaDB. */
export function qi(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * A connection for reading production: the session is put in READ ONLY transaction mode, so that even a
 * bug in the tool cannot write (the server refuses with error 1792). Session-only: nothing persists.
 */
export async function connectReadOnly(dsn: Dsn, opts: ConnectOptions = {}): Promise<Connection> {
  const conn = await connect(dsn, opts);
  try {
    await conn.query('SET SESSION TRANSACTION READ ONLY');
  } catch (err) {
    await conn.end().catch(() => undefined);
    throw translateDbError(err, dsn);
  }
  return conn;
}
