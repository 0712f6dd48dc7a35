/**
 * Options shared by several commands, and their resolution into connections: where the GLPI and OCS
 * databases are (DSN or installation directory), where passwords come from, and which test instance
 * writing commands use (the embedded one by default).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Dsn } from '../db/dsn.ts';
import { parseDsn } from '../db/dsn.ts';
import type { DbRole } from '../db/credentials.ts';
import { readGlpiConfig, readOcsConfig, resolvePassword } from '../db/credentials.ts';
import { UsageError } from '../errors.ts';
import type { ServerSettings, EmbeddedInstance } from '../db/embedded.ts';
import { attachInstance, startEmbedded } from '../db/embedded.ts';

export interface SourceOptions {
  glpi?: string;
  ocs?: string;
  glpiDir?: string;
  ocsDir?: string;
  defaultsFile?: string;
  passwordEnv?: string;
}

export const CREDENTIALS_HELP = `
Credentials (never on the command line):
  Addresses are mysql://user@host:port/database (or ?socket=/path/to.sock), without a password.
  The password comes from, in order: --password-env NAME, else GLPI_DB_PASSWORD / OCS_DB_PASSWORD /
  INSTANCE_DB_PASSWORD for the role, else MYSQL_PWD; a --defaults-file in MySQL client format;
  an installation read with --glpi-dir (config/config_db.php) or --ocs-dir (dbconfig.inc.php);
  or a prompt when the terminal is interactive (once per account).`;

export function addSourceOptions(cmd: Command, roles: Array<'glpi' | 'ocs'> = ['glpi', 'ocs']): Command {
  if (roles.includes('glpi')) {
    cmd.option('--glpi <dsn>', 'GLPI database address, e.g. mysql://glpi@db.example:3306/glpi');
    cmd.option('--glpi-dir <dir>', 'read the GLPI database settings from this GLPI installation (config/config_db.php)');
  }
  if (roles.includes('ocs')) {
    cmd.option('--ocs <dsn>', 'OCS database address, e.g. mysql://ocs@db.example:3306/ocsweb');
    cmd.option('--ocs-dir <dir>', 'read the OCS database settings from this OCS console directory (dbconfig.inc.php)');
  }
  cmd.option('--defaults-file <file>', 'MySQL option file holding user/password ([client] section)');
  cmd.option('--password-env <name>', 'name of the environment variable holding the password');
  return cmd;
}

/** The DSN (with password resolved) for one role, or undefined when the user gave none. */
export function resolveSource(role: 'glpi' | 'ocs', o: SourceOptions): Dsn | undefined {
  const dsnText = role === 'glpi' ? o.glpi : o.ocs;
  const dir = role === 'glpi' ? o.glpiDir : o.ocsDir;
  if (dsnText) {
    const dsn = parseDsn(dsnText);
    if (!dsn.database) throw new UsageError(`--${role} needs a database name: mysql://user@host:port/DATABASE`);
    let resolved = resolvePassword(dsn, role, { passwordEnv: o.passwordEnv, defaultsFile: o.defaultsFile }).dsn;
    if (resolved.password === undefined && dir) {
      const fromDir = (role === 'glpi' ? readGlpiConfig(dir) : readOcsConfig(dir)).dsn;
      resolved = { ...resolved, password: fromDir.password };
    }
    return resolved;
  }
  if (dir) return (role === 'glpi' ? readGlpiConfig(dir) : readOcsConfig(dir)).dsn;
  return undefined;
}

export interface ServerSettingsOptions {
  serverBin?: string;
  sqlMode?: string;
  characterSetServer?: string;
  collationServer?: string;
  lowerCaseTableNames?: string;
  innodbPageSize?: string;
  serverOption?: string[];
}

export function addServerSettingsOptions(cmd: Command): Command {
  cmd.option('--server-bin <path>', 'mariadbd or mysqld binary for the embedded instance (default: found on PATH)');
  cmd.option('--sql-mode <modes>', "embedded server's sql_mode, to mimic production (e.g. '' or 'STRICT_TRANS_TABLES')");
  cmd.option('--character-set-server <cs>', "embedded server's character_set_server");
  cmd.option('--collation-server <coll>', "embedded server's collation_server");
  cmd.addOption(new Option('--lower-case-table-names <n>', "embedded server's lower_case_table_names").choices(['0', '1', '2']));
  cmd.addOption(new Option('--innodb-page-size <size>', "embedded server's innodb_page_size").choices(['4k', '8k', '16k', '32k', '64k']));
  cmd.option('--server-option <opt>', 'any other server option, as --name=value (repeatable)', (v: string, prev: string[] = []) => [...prev, v]);
  return cmd;
}

export function serverSettingsFrom(o: ServerSettingsOptions): ServerSettings {
  return {
    sqlMode: o.sqlMode,
    characterSetServer: o.characterSetServer,
    collationServer: o.collationServer,
    lowerCaseTableNames: o.lowerCaseTableNames === undefined ? undefined : (Number(o.lowerCaseTableNames) as 0 | 1 | 2),
    innodbPageSize: o.innodbPageSize,
    extraArgs: o.serverOption,
  };
}

export interface TargetOptions extends ServerSettingsOptions {
  instance?: string;
  passwordEnv?: string;
  defaultsFile?: string;
}

export function addTargetOptions(cmd: Command): Command {
  cmd.option('--instance <dsn>', 'write into this test server instead of a fresh embedded one: a DSN, or "embedded:NAME" for an instance kept by `instance start`');
  return addServerSettingsOptions(cmd);
}

export interface Target {
  dsn: Dsn;
  /** Set when the tool started the server for this command (it stops with the command). */
  embedded?: EmbeddedInstance;
  describe: string;
}

/** Where a writing command writes: --instance DSN, a kept embedded instance, or a new embedded one. */
export async function resolveTarget(o: TargetOptions, role: DbRole = 'instance'): Promise<Target> {
  if (o.instance?.startsWith('embedded:') || o.instance === 'embedded') {
    const name = o.instance.includes(':') ? o.instance.slice('embedded:'.length) : undefined;
    const inst = attachInstance(name || undefined);
    if (!inst) {
      throw new UsageError(`no running embedded instance ${name ? `named "${name}"` : 'kept by `instance start`'}`, {
        hint: 'start one with: glpi-ocs-upgrade instance start --name NAME',
      });
    }
    return { dsn: inst.dsn, describe: `embedded instance ${inst.record.name} (port ${inst.record.port})` };
  }
  if (o.instance) {
    const dsn = resolvePassword(parseDsn(o.instance), role, { passwordEnv: o.passwordEnv, defaultsFile: o.defaultsFile }).dsn;
    return { dsn, describe: `test instance ${dsn.host}:${dsn.port}` };
  }
  const embedded = await startEmbedded({ serverBin: o.serverBin, settings: serverSettingsFrom(o) });
  return { dsn: embedded.dsn, embedded, describe: `embedded ${embedded.record.serverVersion} on port ${embedded.record.port}` };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
