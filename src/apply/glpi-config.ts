/**
 * The GLPI side of `apply` beyond the database: production GLPI's config directory (`--glpi-config-dir`),
 * its glpicrypt.key, and GLPI's maintenance mode.
 *
 *  - GLPI's console of each release runs with GLPI_CONFIG_DIR = that directory (src/rehearse/executors/
 *    glpi-env.ts, ExecutorContext.glpiConfigDir). Its config_db.php is production GLPI's own and is used as
 *    it is; only when the directory has none does apply write one, with production's GLPI address (GLPI
 *    needs the password in it, as its own installer writes it; mode 0600), and leaves it there for GLPI.
 *    No other file holds a password.
 *    An existing config_db.php is copied aside first (config_db.php.gou-backup-<sha256 prefix>): GLPI's
 *    migrations add properties to it, and `rollback` puts it back (or removes the one apply wrote).
 *  - glpicrypt.key: the first 10.0 `db:update` creates it in that directory, where every later release's
 *    console finds it again (the same directory for the whole chain). A key present before a GLPI step is
 *    copied aside first (glpicrypt.key.gou-backup-<sha256 prefix>, 0600, in the same directory), once per
 *    content, and recorded in apply.yaml: a step that replaced it can be undone by hand. The key the apply's
 *    own db:update created is copied aside once as well (glpicrypt.key.gou-created-<prefix>, `keyCreated`).
 *  - Maintenance mode (GLPI ≥ 10.0: `maintenance:enable` / `maintenance:disable`, `glpi:` prefix before
 *    10.0.6): turned on right after the first `db:update` that reaches such a release (or before the first
 *    step when production already runs one), turned off when every step passed. After a failure or an
 *    interruption it is left as it is — on, when it was turned on: production is half-migrated and must stay
 *    closed until `apply --resume` ends (it turns it off) or `rollback` gives back the backup (taken before
 *    it was turned on). apply.yaml and the go-live report say which.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { qi } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import type { GlpiDistribution } from '../distributions/glpi.ts';
import { ApplyRefusedError, NotFoundError } from '../errors.ts';
import { configDbPhp, runGlpiConsole } from '../rehearse/executors/glpi-env.ts';
import type { ExecutorContext } from '../rehearse/executors/types.ts';

export const KEY_FILE = 'glpicrypt.key';
export const CONFIG_DB_FILE = 'config_db.php';

import type { GlpiConfigRecord } from '../formats/apply.ts';
export type { GlpiConfigRecord };

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** `$dbdefault` of a config_db.php (GLPI writes `public $dbdefault = 'glpi';`, 0.83 `var $dbdefault = …`). */
export function configDbDatabase(text: string): string | undefined {
  return /\$dbdefault\s*=\s*(['"])(.*?)\1/.exec(text)?.[2];
}

/** Read only: the directory exists, and its config_db.php (when there is one) names production's GLPI database. */
export function checkGlpiConfigDir(dir: string, database: string): { hasConfigDb: boolean; hasKey: boolean } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new NotFoundError(`--glpi-config-dir ${dir}: no such directory`, { hint: "give production GLPI's config directory (the one holding config_db.php)" });
  }
  const file = path.join(dir, CONFIG_DB_FILE);
  const hasConfigDb = fs.existsSync(file);
  if (hasConfigDb) {
    const named = configDbDatabase(fs.readFileSync(file, 'utf8'));
    if (named !== database)
      throw new ApplyRefusedError(`${file} names the database "${named ?? '?'}", production's GLPI database is "${database}"`, {
        hint: "give production GLPI's own config directory",
      });
  }
  return { hasConfigDb, hasKey: fs.existsSync(path.join(dir, KEY_FILE)) };
}

/** Before the first GLPI step (after the backup): config_db.php written when there is none. */
export function prepareGlpiConfigDir(dir: string, glpi: Dsn, database: string, previous?: GlpiConfigRecord): GlpiConfigRecord {
  const file = path.join(dir, CONFIG_DB_FILE);
  const rec: GlpiConfigRecord = previous ?? { dir: path.resolve(dir), configDb: 'existing', keyBackups: [], maintenance: {} };
  if (fs.existsSync(file)) {
    // (On --resume, a config_db.php apply wrote itself is not copied: rollback removes it.)
    if (!rec.configDbBackup && rec.configDb === 'existing') {
      const backup = path.join(rec.dir, `${CONFIG_DB_FILE}.gou-backup-${sha256(file).slice(0, 12)}`);
      if (!fs.existsSync(backup)) fs.copyFileSync(file, backup, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(backup, 0o600);
      rec.configDbBackup = backup;
    }
  } else {
    const text = configDbPhp(glpi, database, [], true).replace(/^\/\/ Written by .*$/m, '// Written by glpi-ocs-upgrade apply for production GLPI (GLPI reads its database password from this file).');
    fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    rec.configDb = 'written';
  }
  if (!previous) rec.keyAtStart = keySha256(dir);
  return rec;
}

/**
 * `rollback`: config_db.php as it was before the apply (GLPI's 10.0 migrations add properties to it, such as
 * $use_utf8mb4, that would not describe the restored database): removed when apply wrote it, else put back
 * from its copy. glpicrypt.key is left in place (a later apply copies it aside before using it).
 */
export function restoreGlpiConfigDir(rec: GlpiConfigRecord): 'removed' | 'restored' | 'unchanged' {
  const file = path.join(rec.dir, CONFIG_DB_FILE);
  if (rec.configDb === 'written') {
    if (!fs.existsSync(file)) return 'unchanged';
    fs.rmSync(file);
    return 'removed';
  }
  if (rec.configDbBackup && fs.existsSync(rec.configDbBackup)) {
    fs.copyFileSync(rec.configDbBackup, file);
    fs.chmodSync(file, 0o600);
    return 'restored';
  }
  return 'unchanged';
}

/**
 * Before a GLPI step (`before`, its id): a glpicrypt.key that production had before the apply is copied aside
 * (once per content, `keyBackups`). The key the apply's own first 10.0 db:update created is copied aside once
 * too, as the carried key (`keyCreated`), so that a later release replacing it could still be undone.
 */
export function backupKey(rec: GlpiConfigRecord, before: string): void {
  const key = path.join(rec.dir, KEY_FILE);
  if (!fs.existsSync(key)) return;
  const sum = sha256(key);
  if (rec.keyBackups.some((b) => b.sha256 === sum) || rec.keyCreated?.sha256 === sum) return;
  const created = rec.keyAtStart === undefined && !rec.keyCreated;
  const copy = path.join(rec.dir, `${KEY_FILE}.gou-${created ? 'created' : 'backup'}-${sum.slice(0, 12)}`);
  if (!fs.existsSync(copy)) fs.copyFileSync(key, copy, fs.constants.COPYFILE_EXCL);
  fs.chmodSync(copy, 0o600);
  if (created) rec.keyCreated = { sha256: sum, copy, before };
  else rec.keyBackups.push({ sha256: sum, backup: copy, before, at: new Date().toISOString() });
}

/** The key at the end: its sha256, and whether it is none of the keys found before the steps. */
export function noteKeyAtEnd(rec: GlpiConfigRecord, keyBefore: string | undefined): void {
  const key = path.join(rec.dir, KEY_FILE);
  if (!fs.existsSync(key)) return;
  const sum = sha256(key);
  rec.keyAtEnd = { sha256: sum, createdByApply: keyBefore === undefined };
}

export function keySha256(dir: string): string | undefined {
  const key = path.join(dir, KEY_FILE);
  return fs.existsSync(key) ? sha256(key) : undefined;
}

/** GLPI ≥ 10.0 has the maintenance console commands (named `glpi:maintenance:*` before 10.0.6). */
export function maintenanceCommand(version: string, what: 'enable' | 'disable'): string | undefined {
  const [a, b, c] = version.split('.').map((x) => Number.parseInt(x, 10));
  if (!(a >= 10)) return undefined;
  const prefixed = a === 10 && b === 0 && (c ?? 0) < 6;
  return `${prefixed ? 'glpi:' : ''}maintenance:${what}`;
}

/** glpi_configs maintenance_mode now. */
export async function maintenanceState(conn: Connection, database: string): Promise<'on' | 'off' | 'absent'> {
  try {
    const [rows] = await conn.query(`SELECT value AS v FROM ${qi(database)}.glpi_configs WHERE context = 'core' AND name = 'maintenance_mode' LIMIT 1`);
    const v = (rows as Array<{ v: unknown }>)[0]?.v;
    if (v === undefined) return 'absent';
    return String(v) === '1' ? 'on' : 'off';
  } catch {
    return 'absent';
  }
}

/** Runs `maintenance:enable|disable` of `dist` with production's config dir; throws on a non-zero exit. */
export async function setMaintenance(ctx: ExecutorContext, dist: GlpiDistribution, php: string, database: string, what: 'enable' | 'disable'): Promise<string> {
  const command = maintenanceCommand(dist.version, what);
  if (!command) throw new ApplyRefusedError(`GLPI ${dist.version} has no maintenance mode command`);
  const run = await runGlpiConsole(ctx, dist, php, database, command, []);
  fs.mkdirSync(ctx.evidenceDir, { recursive: true });
  fs.writeFileSync(path.join(ctx.evidenceDir, `console-maintenance-${what}.log`), `$ ${run.shown}\n# exit code ${run.exitCode}, ${run.durationMs} ms\n\n${run.output}\n`);
  if (run.exitCode !== 0) throw new Error(`GLPI ${dist.version} ${command} exited ${run.exitCode}: ${run.output.trim().split('\n').slice(-1)[0] ?? ''}`);
  return run.shown;
}
