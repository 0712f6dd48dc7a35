/**
 * Where passwords come from — never from argv, never printed.
 *
 * In order of precedence for one database role (glpi, ocs, instance):
 *   1. the environment variable named by `--password-env`, else the role's default variable
 *      (GLPI_DB_PASSWORD, OCS_DB_PASSWORD, INSTANCE_DB_PASSWORD), else MYSQL_PWD (the standard client's);
 *   2. a MySQL option file (`--defaults-file`, sections [client], [mysql], [mariadb], [client-mariadb]);
 *   3. an existing installation: GLPI `config/config_db.php` (`--glpi-dir`), OCS `dbconfig.inc.php` (`--ocs-dir`);
 *   4. an interactive prompt when standard input is a TTY (only after the server refused an empty password).
 */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, UsageError } from '../errors.ts';
import type { Dsn } from './dsn.ts';
import { DEFAULT_PORT } from './dsn.ts';

export type DbRole = 'glpi' | 'ocs' | 'instance';

export const ROLE_PASSWORD_ENV: Record<DbRole, string> = {
  glpi: 'GLPI_DB_PASSWORD',
  ocs: 'OCS_DB_PASSWORD',
  instance: 'INSTANCE_DB_PASSWORD',
};

export interface CredentialOptions {
  passwordEnv?: string;
  defaultsFile?: string;
  env?: NodeJS.ProcessEnv;
}

/** Where the password was found; printed instead of the password itself. */
export type PasswordSource = 'dsn-environment' | `env:${string}` | `defaults-file:${string}` | `config:${string}` | 'prompt' | 'none';

export interface ResolvedCredentials {
  dsn: Dsn;
  passwordSource: PasswordSource;
}

export function resolvePassword(dsn: Dsn, role: DbRole, options: CredentialOptions = {}): ResolvedCredentials {
  const env = options.env ?? process.env;
  if (dsn.password !== undefined) return { dsn, passwordSource: 'dsn-environment' };
  const names = options.passwordEnv ? [options.passwordEnv] : [ROLE_PASSWORD_ENV[role], 'MYSQL_PWD'];
  if (options.passwordEnv && env[options.passwordEnv] === undefined) {
    throw new UsageError(`environment variable ${options.passwordEnv} (from --password-env) is not set`);
  }
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) return { dsn: { ...dsn, password: value }, passwordSource: `env:${name}` };
  }
  if (options.defaultsFile) {
    const opts = readDefaultsFile(options.defaultsFile);
    const merged: Dsn = {
      ...dsn,
      user: opts.user ?? dsn.user,
      password: opts.password,
      socket: dsn.socket ?? opts.socket,
    };
    return { dsn: merged, passwordSource: opts.password !== undefined ? `defaults-file:${options.defaultsFile}` : 'none' };
  }
  return { dsn, passwordSource: 'none' };
}

export interface ClientOptions {
  user?: string;
  password?: string;
  host?: string;
  port?: number;
  socket?: string;
  database?: string;
}

/** Reads a MySQL/MariaDB option file (INI-like; `!include` is not followed). */
export function readDefaultsFile(file: string): ClientOptions {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new NotFoundError(`cannot read defaults file ${file}`, { cause: err });
  }
  const wanted = new Set(['client', 'mysql', 'mariadb', 'client-mariadb', 'mysqldump', 'client-server']);
  const out: ClientOptions = {};
  let active = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('!')) continue;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      active = wanted.has(section[1].trim().toLowerCase());
      continue;
    }
    if (!active) continue;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim().toLowerCase().replace(/_/g, '-');
    let value = eq < 0 ? '' : line.slice(eq + 1).trim();
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    switch (key) {
      case 'user':
        out.user = value;
        break;
      case 'password':
        out.password = value;
        break;
      case 'host':
        out.host = value;
        break;
      case 'port':
        out.port = Number(value);
        break;
      case 'socket':
        out.socket = value;
        break;
      case 'database':
        out.database = value;
        break;
      default:
        break;
    }
  }
  return out;
}

/** The connection settings stored in an existing installation's PHP configuration file. */
export interface InstallConfig {
  file: string;
  dsn: Dsn;
}

function phpStringLiteral(raw: string): string {
  const quote = raw[0];
  const body = raw.slice(1, -1);
  if (quote === "'") return body.replace(/\\(['\\])/g, '$1');
  return body
    .replace(/\\(["\\$])/g, '$1')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t');
}

function splitHostPort(hostText: string): { host: string; port: number; socket?: string } {
  // GLPI accepts "host:port" and "host:/path/to/socket"; OCS 2.1 accepts "host:port" in SERVER_WRITE.
  const m = /^(.*?):(\d+)$/.exec(hostText);
  if (m) return { host: m[1] || 'localhost', port: Number(m[2]) };
  const s = /^(.*?):(\/.+)$/.exec(hostText);
  if (s) return { host: s[1] || 'localhost', port: DEFAULT_PORT, socket: s[2] };
  return { host: hostText || 'localhost', port: DEFAULT_PORT };
}

/**
 * GLPI `config/config_db.php`: `class DB extends DBmysql { public $dbhost = '…'; public $dbuser = '…';
 * public $dbpassword = '…'; public $dbdefault = '…'; }` (0.83 uses `var $dbhost = "…";`). From 9.5/10.0 the
 * password is stored rawurlencode()d.
 */
export function readGlpiConfig(glpiDir: string): InstallConfig {
  const file = path.join(glpiDir, 'config', 'config_db.php');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new NotFoundError(`no GLPI database configuration at ${file}`, {
      hint: '--glpi-dir must point at the root of a GLPI installation (the directory that holds config/)',
      cause: err,
    });
  }
  const values: Record<string, string> = {};
  const re = /(?:public|var)\s+\$(dbhost|dbuser|dbpassword|dbdefault|dbport)\s*=\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\d+)\s*;/g;
  for (const m of text.matchAll(re)) {
    values[m[1]] = /^\d+$/.test(m[2]) ? m[2] : phpStringLiteral(m[2]);
  }
  if (values.dbhost === undefined || values.dbuser === undefined || values.dbdefault === undefined) {
    throw new UsageError(`cannot read dbhost/dbuser/dbdefault from ${file}`);
  }
  const where = splitHostPort(values.dbhost);
  let password = values.dbpassword ?? '';
  // Newer GLPI stores rawurlencode()d passwords; decoding a plain password leaves it unchanged unless it holds '%XX'.
  if (/%[0-9A-Fa-f]{2}/.test(password) || /GLPI_VERSION|rawurldecode/.test(text)) {
    try {
      password = decodeURIComponent(password);
    } catch {
      /* not encoded */
    }
  }
  return {
    file,
    dsn: {
      user: values.dbuser,
      host: where.host,
      port: values.dbport ? Number(values.dbport) : where.port,
      socket: where.socket,
      database: values.dbdefault,
      password,
      testInstance: false,
    },
  };
}

/**
 * OCS `dbconfig.inc.php`: `define("DB_NAME","ocsweb"); define("SERVER_READ","localhost");
 * define("SERVER_WRITE","localhost"); define("COMPTE_BASE","ocs"); define("PSWD_BASE","ocs");` — 2.1 format;
 * from 2.7 also `define("SERVER_PORT","3306")` and SSL settings. Looked up in DIR, DIR/ocsreports and
 * /etc/ocsinventory-reports layouts.
 */
export function readOcsConfig(ocsDir: string): InstallConfig {
  const candidates = [path.join(ocsDir, 'dbconfig.inc.php'), path.join(ocsDir, 'ocsreports', 'dbconfig.inc.php')];
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    throw new NotFoundError(`no dbconfig.inc.php in ${ocsDir}`, {
      hint: '--ocs-dir must point at the OCS console (ocsreports) directory or /etc/ocsinventory-reports',
    });
  }
  const text = fs.readFileSync(file, 'utf8');
  const values: Record<string, string> = {};
  const re = /define\s*\(\s*(['"])(\w+)\1\s*,\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\d+)\s*\)/g;
  for (const m of text.matchAll(re)) values[m[2]] = /^\d+$/.test(m[3]) ? m[3] : phpStringLiteral(m[3]);
  const host = values.SERVER_WRITE ?? values.SERVER_READ;
  if (!host || values.COMPTE_BASE === undefined) {
    throw new UsageError(`cannot read SERVER_WRITE/COMPTE_BASE from ${file}`);
  }
  const where = splitHostPort(host);
  return {
    file,
    dsn: {
      user: values.COMPTE_BASE,
      host: where.host,
      port: values.SERVER_PORT ? Number(values.SERVER_PORT) : where.port,
      socket: where.socket,
      database: values.DB_NAME ?? 'ocsweb',
      password: values.PSWD_BASE ?? '',
      testInstance: false,
    },
  };
}

/** Asks for a password on the TTY without echo. Rejects when stdin is not a TTY. */
export async function promptPassword(label: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError('no password available and standard input is not a terminal');
  return new Promise<string>((resolve, reject) => {
    let value = '';
    // Echo off before the prompt shows: a password typed as soon as the prompt appears (or pasted by a
    // script watching for it) must never be echoed by the terminal.
    stdin.setRawMode(true);
    process.stderr.write(`Password for ${label}: `);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          cleanup();
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          cleanup();
          process.stderr.write('\n');
          reject(new UsageError('password prompt cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const cleanup = () => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}
