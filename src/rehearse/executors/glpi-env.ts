/**
 * Running a GLPI release's console against the test instance without touching the release tree:
 *
 *  - GLPI's config and var dirs live in a private directory of the run (mode 0700, outside the run
 *    directory), passed through the GLPI_CONFIG_DIR / GLPI_VAR_DIR / GLPI_MARKETPLACE_DIR environment
 *    variables that GLPI (10.0+) reads in inc/based_config.php;
 *  - config_db.php is written for the test instance; the password is in that file only (GLPI reads it
 *    from there, rawurlencoded like GLPI stores it), never on a command line, and it is blanked again when
 *    the command ends; the flags the migration commands append ($use_utf8mb4, $allow_myisam, …) are kept;
 *  - glpicrypt.key, created by db:update in the config dir, is kept there for the whole run (the plugin
 *    step encrypts the OCS password with it);
 *  - every command is `php bin/console <cmd> … -n --no-ansi [--lang=<L>]`, run from the tree root, where L is
 *    the language of the GLPI configuration in the data (glpi_configs `language`), the one production's own
 *    update would use; without one, no --lang (GLPI then picks its default, as it would in production). The
 *    updaters write default rows in the session language: forcing en_GB made a French database differ;
 *  - the command runs in its own process group, and its pid and start time are handed to the runner
 *    (ctx.onProcess) for the journal: after a kill -9 of the tool, --resume finds and stops a PHP updater
 *    still running against the test instance before it rolls the step back.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Dsn } from '../../db/dsn.ts';
import type { GlpiDistribution } from '../../distributions/glpi.ts';
import type { ExecutorContext } from './types.ts';
import { shellQuote } from './common.ts';
import type { Connection } from 'mysql2/promise';
import { qi } from '../../db/connect.ts';
import { processStartTime } from '../processes.ts';

export const GLPI_FILES_SUBDIRS = ['_cache', '_cron', '_dumps', '_graphs', '_lock', '_log', '_pictures', '_plugins', '_rss', '_sessions', '_tmp', '_uploads', '_inventories', '_locales'];

export const CONSOLE_FLAGS = ['-n', '--no-ansi'];

/** GLPI language codes: en_GB, fr_FR, pt_BR, es_419, … */
const LANGUAGE = /^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$/;

/**
 * The language of the GLPI configuration stored in `database` (the wide glpi_configs row of GLPI ≤ 9.1, or
 * the core/language key of later releases), or undefined when there is none usable.
 */
export async function glpiConfigLanguage(conn: Connection, database: string): Promise<string | undefined> {
  try {
    const [cols] = await conn.query(
      `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'glpi_configs' AND COLUMN_NAME IN ('language', 'context', 'name', 'value')`,
      [database],
    );
    const names = new Set((cols as Array<{ c: string }>).map((r) => r.c));
    let value: unknown;
    if (names.has('context') && names.has('name') && names.has('value')) {
      const [rows] = await conn.query(`SELECT value AS v FROM ${qi(database)}.glpi_configs WHERE context = 'core' AND name = 'language' LIMIT 1`);
      value = (rows as Array<{ v: unknown }>)[0]?.v;
    } else if (names.has('language')) {
      const [rows] = await conn.query(`SELECT language AS v FROM ${qi(database)}.glpi_configs ORDER BY id LIMIT 1`);
      value = (rows as Array<{ v: unknown }>)[0]?.v;
    }
    const text = value === null || value === undefined ? '' : String(value).trim();
    return LANGUAGE.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

export function consoleFlags(lang: string | undefined): string[] {
  return lang ? [...CONSOLE_FLAGS, `--lang=${lang}`] : [...CONSOLE_FLAGS];
}

export interface GlpiEnvDirs {
  base: string;
  config: string;
  files: string;
  marketplace: string;
}

export function privateDirFor(ctx: Pick<ExecutorContext, 'privateDir' | 'runDir'>): string {
  if (ctx.privateDir) return ctx.privateDir;
  const h = crypto.createHash('sha256').update(path.resolve(ctx.runDir)).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), 'glpi-ocs-upgrade-private', h);
}

export function prepareGlpiDirs(ctx: Pick<ExecutorContext, 'privateDir' | 'runDir' | 'glpiConfigDir'>): GlpiEnvDirs {
  const base = path.join(privateDirFor(ctx), 'glpi');
  // [apply] production's own config dir (config_db.php, glpicrypt.key), used in place.
  const dirs = { base, config: ctx.glpiConfigDir ?? path.join(base, 'config'), files: path.join(base, 'files'), marketplace: path.join(base, 'marketplace') };
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(base), 0o700);
  fs.chmodSync(base, 0o700);
  for (const d of [dirs.config, dirs.files, dirs.marketplace]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  for (const sub of GLPI_FILES_SUBDIRS) fs.mkdirSync(path.join(dirs.files, sub), { recursive: true });
  return dirs;
}

function phpString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** PHP's rawurlencode (RFC 3986): what GLPI expects in $dbpassword. */
export function rawurlencode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const MANAGED = new Set(['dbhost', 'dbuser', 'dbpassword', 'dbdefault']);

/** Properties other than the connection ones that GLPI commands added to config_db.php (kept across steps). */
export function readConfigFlags(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of text.matchAll(/public\s+\$(\w+)\s*=\s*([^;]+);/g)) if (!MANAGED.has(m[1])) out.push([m[1], m[2].trim()]);
  return out;
}

export function configDbPhp(dsn: Dsn, database: string, flags: Array<[string, string]>, withPassword: boolean): string {
  const host = dsn.socket ? `localhost:${dsn.socket}` : `${dsn.host}:${dsn.port}`;
  const lines = [
    '<?php',
    '// Written by glpi-ocs-upgrade for a rehearsal on a test instance; the password is blanked between commands.',
    'class DB extends DBmysql {',
    `   public $dbhost = ${phpString(host)};`,
    `   public $dbuser = ${phpString(dsn.user)};`,
    `   public $dbpassword = ${phpString(withPassword ? rawurlencode(dsn.password ?? '') : '')};`,
    `   public $dbdefault = ${phpString(database)};`,
    ...flags.map(([k, v]) => `   public $${k} = ${v};`),
    '}',
    '',
  ];
  return lines.join('\n');
}

export function writeConfigDb(dirs: GlpiEnvDirs, dsn: Dsn, database: string, withPassword: boolean): void {
  const file = path.join(dirs.config, 'config_db.php');
  const flags = fs.existsSync(file) ? readConfigFlags(fs.readFileSync(file, 'utf8')) : [];
  fs.writeFileSync(file, configDbPhp(dsn, database, flags, withPassword), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export interface ConsoleRun {
  exitCode: number;
  output: string;
  /** The command as shown to the user (no password ever appears in it). */
  shown: string;
  durationMs: number;
  /** New lines of files/_log/sql-errors.log and php-errors.log written during the command. */
  logLines: string[];
}

function logSizes(dirs: GlpiEnvDirs): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of ['sql-errors.log', 'php-errors.log']) {
    const p = path.join(dirs.files, '_log', f);
    m.set(p, fs.existsSync(p) ? fs.statSync(p).size : 0);
  }
  return m;
}

function newLogLines(before: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [p, size] of before) {
    if (!fs.existsSync(p)) continue;
    const text = fs.readFileSync(p, 'utf8').slice(size);
    for (const l of text.split('\n')) if (l.trim()) out.push(`${path.basename(p)}: ${l}`);
  }
  return out;
}

export function consoleCommandLine(dist: string, command: string, args: string[], php = 'php', lang?: string): string {
  return `cd ${shellQuote(dist)} && ${shellQuote(php)} bin/console ${[command, ...args, ...consoleFlags(lang)].map(shellQuote).join(' ')}`;
}

/** Runs one console command of `dist` against `database` on the test instance. */
export async function runGlpiConsole(ctx: ExecutorContext, dist: GlpiDistribution, php: string, database: string, command: string, args: string[]): Promise<ConsoleRun> {
  const dirs = prepareGlpiDirs(ctx);
  const lang = await glpiConfigLanguage(ctx.conn, database);
  // [apply] production's config_db.php is GLPI's own: never rewritten, never blanked.
  const ownConfig = !ctx.glpiConfigDir;
  if (ownConfig) writeConfigDb(dirs, ctx.dsn, database, true);
  const sizes = logSizes(dirs);
  const started = Date.now();
  const shown = consoleCommandLine(dist.dir, command, args, php, lang);
  try {
    const sub = execa(php, ['bin/console', command, ...args, ...consoleFlags(lang)], {
      cwd: dist.dir,
      env: { GLPI_CONFIG_DIR: dirs.config, GLPI_VAR_DIR: dirs.files, GLPI_MARKETPLACE_DIR: dirs.marketplace },
      all: true,
      reject: false,
      stdin: 'ignore',
      // Its own process group: a Ctrl-C on the terminal reaches the tool only, which stops the whole group.
      detached: true,
      timeout: 3_600_000,
    });
    const pid = sub.pid;
    const stopGroup = () => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    if (pid !== undefined) ctx.onProcess?.({ pid, startTime: processStartTime(pid), command: shown });
    if (ctx.signal?.aborted) stopGroup();
    ctx.signal?.addEventListener('abort', stopGroup, { once: true });
    let r: Awaited<typeof sub>;
    try {
      r = await sub;
    } finally {
      ctx.signal?.removeEventListener('abort', stopGroup);
    }
    if (pid !== undefined) ctx.onProcessEnd?.({ pid, exitCode: typeof r.exitCode === 'number' ? r.exitCode : -1 });
    let output = String(r.all ?? '');
    const pw = ctx.dsn.password;
    if (pw) output = output.split(pw).join('***').split(rawurlencode(pw)).join('***');
    return {
      exitCode: typeof r.exitCode === 'number' ? r.exitCode : -1,
      output,
      shown,
      durationMs: Date.now() - started,
      logLines: newLogLines(sizes),
    };
  } finally {
    if (ownConfig) writeConfigDb(dirs, ctx.dsn, database, false);
  }
}
