/**
 * The GLPI console and plugin executors.
 *
 * Error handling is tested with a FAKE php (a shell script named fake-php, written by this test): missing
 * distribution, missing or unsuitable PHP, a console that exits 0 while refusing to update (version rows
 * read back), a failing schema check, the password kept off the command line and blanked afterwards.
 *
 * The real thing runs with GLPI 10.0.19 and the ocsinventoryng 2.0.5 plugin (../shared/dist, or GLPI_DIST and
 * PLUGIN_DIST: see test/helpers/dist.ts) and PHP (on PATH, or GOU_PHP): GLPI 0.83.8 (with core OCS mode data)
 * → 10.0.x with the real updater, its schema check, then the real plugin install.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { distSkipReason, glpiDist, phpCommand, pluginDist } from './helpers/dist.ts';
import { connect } from '../src/db/connect.ts';
import { withDatabase, type Dsn } from '../src/db/dsn.ts';
import { splitSqlStatements } from '../src/db/sql-script.ts';
import { detectGlpiDist, detectPluginDist, findGlpiDist, phpSatisfies, type GlpiDistribution } from '../src/distributions/glpi.ts';
import { glpiConsoleExecutor } from '../src/rehearse/executors/glpi-console.ts';
import { pluginInstallExecutor, SAVED_SCHEMA } from '../src/rehearse/executors/plugin-install.ts';
import { configDbPhp, rawurlencode, readConfigFlags } from '../src/rehearse/executors/glpi-env.ts';
import type { ExecutorContext } from '../src/rehearse/executors/types.ts';
import type { PlanStep, StepRunner } from '../src/plan/plan-types.ts';
import { literal } from '../src/i18n/messages.ts';
import { en } from './helpers/reason.ts';

const GLPI_DIST = glpiDist();
const PLUGIN_DIST = pluginDist('2.0.5');
const PHP = phpCommand();
const REAL_SKIP = distSkipReason({ glpi: true, plugin: '2.0.5', php: true });

const PASSWORD = 'S3cr$t!pw';
let server: TestServer;
let root: Connection;
let work: string;
let userDsn: Dsn;

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-exec-glpi-'));
  // A password with URL-special characters, for the config_db.php round trip.
  await root.query("CREATE USER IF NOT EXISTS 'gou_glpi'@'%' IDENTIFIED BY ?", [PASSWORD]);
  await root.query("GRANT ALL ON *.* TO 'gou_glpi'@'%'");
  userDsn = { ...server.dsn, user: 'gou_glpi', password: PASSWORD };
});
afterAll(async () => {
  await root?.end();
  await server?.stop();
  if (work && !process.env.GOU_KEEP_TEST_WORK) fs.rmSync(work, { recursive: true, force: true });
});

function glpiStep(runner: StepRunner, php?: string): PlanStep {
  return {
    id: 'glpi-step',
    product: 'glpi',
    database: 'glpi',
    title: literal('x', 'x'),
    runner,
    from: '',
    to: '',
    requires: { php },
    before: [],
    expected: {},
    hazards: [],
    explanation: literal('', ''),
  };
}

function ctx(db: string, glpi: GlpiDistribution[], php: string | undefined, label: string, extra: Partial<ExecutorContext> = {}): ExecutorContext {
  const runDir = path.join(work, label);
  return {
    conn: root,
    dsn: userDsn,
    databases: { glpi: db },
    runDir,
    evidenceDir: path.join(runDir, 'evidence', 'step'),
    privateDir: path.join(work, `${label}-private`),
    dists: { glpi },
    php,
    log: () => undefined,
    ...extra,
  };
}

/** A synthetic GLPI tree (our own tiny files: version marker, bin/console and vendor/autoload.php placeholders). */
function fakeTree(version: string): string {
  const dir = fs.mkdtempSync(path.join(work, 'tree-'));
  fs.mkdirSync(path.join(dir, 'version'));
  fs.writeFileSync(path.join(dir, 'version', version), '');
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'console'), '');
  fs.mkdirSync(path.join(dir, 'vendor'));
  fs.writeFileSync(path.join(dir, 'vendor', 'autoload.php'), '');
  return dir;
}

/** FAKE php for error-handling tests only: reports `version`, records argv and config_db.php, then acts per command. */
function fakePhp(version: string): string {
  const file = path.join(work, `fake-php-${version}`);
  fs.writeFileSync(
    file,
    `#!/bin/sh
# FAKE php: for error-handling tests only
if [ "$1" = "-n" ] && [ "$2" = "-r" ]; then printf '%s' '${version}'; exit 0; fi
printf '%s\\n' "$*" > "${work}/fake-argv"
cat "$GLPI_CONFIG_DIR/config_db.php" > "${work}/fake-config-during"
case "$2" in
  db:update) echo 'Upgrade is not supported before 0.80!'; exit 0 ;;
  db:check_schema_integrity) echo '--- glpi_computers'; echo '+++ glpi_computers'; exit 2 ;;
  migration:*) echo 'No migration needed.'; exit 0 ;;
esac
exit 1
`,
    { mode: 0o755 },
  );
  return file;
}

async function wide083(label: string): Promise<string> {
  const db = await server.freshDatabase(label);
  await root.query(`CREATE TABLE \`${db}\`.glpi_configs (id int NOT NULL AUTO_INCREMENT, version char(10), language char(10), PRIMARY KEY (id)) ENGINE=MyISAM`);
  await root.query(`INSERT INTO \`${db}\`.glpi_configs VALUES (1, ' 0.83.8', 'en_GB')`);
  return db;
}

describe('GLPI distributions and PHP', () => {
  it('detects a release tree by version/ or inc/define.php and a plugin release by setup.php', () => {
    const t = fakeTree('10.0.19');
    expect(detectGlpiDist(t)).toMatchObject({ version: '10.0.19', versionSource: 'version-dir', hasConsole: true, hasVendor: true });
    const old = fs.mkdtempSync(path.join(work, 'old-'));
    fs.mkdirSync(path.join(old, 'inc'));
    fs.writeFileSync(path.join(old, 'inc', 'define.php'), "<?php\ndefine('GLPI_VERSION', '0.84.8');\n");
    expect(detectGlpiDist(old)).toMatchObject({ version: '0.84.8', versionSource: 'define.php', hasConsole: false });
    expect(() => detectGlpiDist(work)).toThrow(/not a GLPI release tree/);
    expect(findGlpiDist([detectGlpiDist(t)], '10.0')?.version).toBe('10.0.19');
    expect(findGlpiDist([detectGlpiDist(t)], '11.0.1')).toBeUndefined();

    const p = fs.mkdtempSync(path.join(work, 'plugin-'));
    fs.writeFileSync(path.join(p, 'setup.php'), "<?php\ndefine('PLUGIN_OCS_VERSION', '2.0.5');\nfunction v() { return ['requirements' => ['glpi' => ['min' => '10.0', 'max' => '11.0']]]; }\n");
    expect(detectPluginDist(p)).toMatchObject({ version: '2.0.5', glpiMin: '10.0', glpiMax: '11.0' });
    expect(phpSatisfies('8.2.36', '>=7.4.0 <8.5.0')).toBe(true);
    expect(phpSatisfies('8.5.0', '>=7.4.0 <8.5.0')).toBe(false);
  });

  it('writes config_db.php with the rawurlencoded password and keeps the flags GLPI commands add', () => {
    expect(rawurlencode("a$b!c'd(e)*~")).toBe('a%24b%21c%27d%28e%29%2A~');
    const text = configDbPhp(userDsn, "db'x", [['use_utf8mb4', 'true']], true);
    expect(text).toContain(`public $dbpassword = '${rawurlencode(PASSWORD)}';`);
    expect(text).toContain("public $dbdefault = 'db\\'x';");
    expect(readConfigFlags(`${text}\n   public $allow_myisam = false;`)).toEqual([
      ['use_utf8mb4', 'true'],
      ['allow_myisam', 'false'],
    ]);
  });
});

describe('glpi-console executor error handling (FAKE php)', () => {
  it('without a distribution: not run, with the exact console command the user must run', async () => {
    const r = await glpiConsoleExecutor.execute(
      glpiStep({ kind: 'glpi-console', release: '10.0.19', command: 'db:update', args: ['--no-telemetry'] }) as never,
      ctx(await wide083('nodist'), [], fakePhp('8.2.0'), 'nodist'),
    );
    expect(r.status).toBe('not-run');
    expect(en(r)).toMatch(/--glpi-dist/);
    expect(r.commandForUser).toMatch(/^cd \/path\/to\/glpi-10\.0\.19 && \S+ bin\/console db:update --no-telemetry -n --no-ansi$/);
  });

  it('an old CLI updater (scripts/cliupdate.php) is left to the user: not run, with its command', async () => {
    const runner = { kind: 'glpi-console', release: '9.3.3', command: '', args: ['--upgrade'], entry: 'scripts/cliupdate.php' } as StepRunner;
    const r = await glpiConsoleExecutor.execute(glpiStep(runner) as never, ctx(await wide083('oldcli'), [], 'php', 'oldcli'));
    expect(r.status).toBe('not-run');
    expect(r.commandForUser).toBe('cd /path/to/glpi-9.3.3 && php scripts/cliupdate.php --upgrade');
  });

  it('without a usable PHP, or with one outside the range: not run', async () => {
    const tree = detectGlpiDist(fakeTree('10.0.19'));
    const db = await wide083('nophp');
    const step = glpiStep({ kind: 'glpi-console', release: '10.0.19', command: 'db:update', args: [] }, '>=7.4.0 <8.5.0');
    const missing = await glpiConsoleExecutor.execute(step as never, ctx(db, [tree], path.join(work, 'no-such-php'), 'nophp'));
    expect(missing.status).toBe('not-run');
    expect(en(missing)).toMatch(/PHP binary .* cannot run/);
    expect(missing.commandForUser).toContain(`cd ${tree.dir} && `);
    const tooNew = await glpiConsoleExecutor.execute(step as never, ctx(db, [tree], fakePhp('8.5.1'), 'nophp2'));
    expect(tooNew.status).toBe('not-run');
    expect(en(tooNew)).toMatch(/PHP 8\.5\.1 .*outside the range/);
  });

  it('db:update exiting 0 without updating is a failure (version rows read back); the password never reaches argv and is blanked afterwards', async () => {
    const tree = detectGlpiDist(fakeTree('10.0.19'));
    const db = await wide083('lies');
    const c = ctx(db, [tree], fakePhp('8.2.0'), 'lies');
    const r = await glpiConsoleExecutor.execute(glpiStep({ kind: 'glpi-console', release: '10.0.19', command: 'db:update', args: [] }, '>=7.4.0 <8.5.0') as never, c);
    expect(r.status).toBe('failed');
    expect(en(r)).toMatch(/exited 0 but the version rows read 0\.83\.8, expected 10\.0\.19 \(the updater refused to run\)/);
    expect(r.versionBefore).toBe('0.83.8');
    const argv = fs.readFileSync(path.join(work, 'fake-argv'), 'utf8');
    expect(argv.trim()).toBe('bin/console db:update -n --no-ansi --lang=en_GB');
    expect(argv).not.toContain(PASSWORD);
    expect(fs.readFileSync(path.join(work, 'fake-config-during'), 'utf8')).toContain(rawurlencode(PASSWORD));
    const cfg = fs.readFileSync(path.join(c.privateDir as string, 'glpi', 'config', 'config_db.php'), 'utf8');
    expect(cfg).toContain("public $dbpassword = '';");
    expect(cfg).toContain(`public $dbdefault = '${db}';`);
    expect(fs.statSync(path.join(c.privateDir as string, 'glpi')).mode & 0o077).toBe(0);
    // Evidence holds the output and the command, not the password.
    const log = fs.readFileSync(path.join(c.runDir, r.evidence[0]), 'utf8');
    expect(log).toContain('Upgrade is not supported before 0.80!');
    expect(log).not.toContain(PASSWORD);
  });

  it('a schema check with differences fails; a migration command exiting 0 passes', async () => {
    const tree = detectGlpiDist(fakeTree('10.0.19'));
    const db = await wide083('check');
    const check = await glpiConsoleExecutor.execute(
      glpiStep({ kind: 'glpi-console', release: '10.0.19', command: 'db:check_schema_integrity', args: [] }) as never,
      ctx(db, [tree], fakePhp('8.2.0'), 'check'),
    );
    expect(check.status).toBe('failed');
    expect(en(check)).toMatch(/schema differences found/);
    const mig = await glpiConsoleExecutor.execute(
      glpiStep({ kind: 'glpi-console', release: '10.0.19', command: 'migration:dynamic_row_format', args: [] }) as never,
      ctx(db, [tree], fakePhp('8.2.0'), 'check'),
    );
    expect(mig.status).toBe('passed');
  });

  it('plugin-install without a plugin release: not run, with the commands to run', async () => {
    const r = await pluginInstallExecutor.execute(
      { ...glpiStep({ kind: 'plugin-install', pluginVersion: '2.0.5', glpiRelease: '10.0.19' }), product: 'connector' } as never,
      ctx(await wide083('noplugin'), [], fakePhp('8.2.0'), 'noplugin'),
    );
    expect(r.status).toBe('not-run');
    expect(en(r)).toMatch(/--plugin-dist/);
    expect(r.commandForUser).toMatch(/plugin:install --username=glpi ocsinventoryng -n --no-ansi .*plugin:activate ocsinventoryng/);
  });
});

/** GLPI 0.83.8 from the release tree's own empty schema, plus the rows the updater and the plugin need. */
async function real083(dist: string, label: string): Promise<string> {
  const db = await server.freshDatabase(label);
  await root.query(`ALTER DATABASE \`${db}\` CHARACTER SET utf8 COLLATE utf8_unicode_ci`);
  const c = await connect(withDatabase(server.dsn, db));
  await c.query('SET NAMES utf8');
  await c.query("SET SESSION sql_mode = ''");
  for (const s of splitSqlStatements(fs.readFileSync(path.join(dist, 'install', 'mysql', 'glpi-0.83.8-empty.sql'), 'utf8'))) await c.query(s);
  await c.query("INSERT INTO glpi_configs (id, version, language, csv_delimiter, use_ocs_mode) VALUES (1, ' 0.83.8', 'en_GB', ';', 1)");
  await c.query(
    "INSERT INTO glpi_profiles (id, name, interface, config, ocsng, sync_ocsng, view_ocsng, clean_ocsng, rule_ocs) VALUES (4, 'Super-Admin', 'central', 'w', 'w', 'w', 'r', 'w', 'w'), (1, 'Self-Service', 'helpdesk', NULL, NULL, 'w', 'r', NULL, NULL)",
  );
  await c.query("INSERT INTO glpi_users (id, name, is_active, profiles_id) VALUES (2, 'glpi', 1, 4)");
  await c.query('INSERT INTO glpi_profiles_users (users_id, profiles_id, entities_id, is_recursive) VALUES (2, 4, 0, 1)');
  await c.query("INSERT INTO glpi_computers (id, name, is_ocs_import) VALUES (1, 'PC-ALPHA', 1), (2, 'PC-BRAVO', 1), (3, 'PC-LOCAL', 0)");
  await c.query(
    "INSERT INTO glpi_ocsservers (id, name, ocs_db_user, ocs_db_passwd, ocs_db_host, ocs_db_name, ocs_db_utf8, checksum, is_active) VALUES (1, 'OCS Prod', 'ocs', 'oc%24pw%21', '127.0.0.1', 'ocsweb', 1, 262143, 1)",
  );
  await c.query("INSERT INTO glpi_ocslinks (id, computers_id, ocsid, ocs_deviceid, ocsservers_id, tag) VALUES (1, 1, 101, 'PC-ALPHA-2014', 1, 'SITE-A'), (2, 2, 102, 'PC-BRAVO-2014', 1, 'SITE-B')");
  await c.end();
  return db;
}

describe('real GLPI console (GLPI 10.0.19 + ocsinventoryng 2.0.5)', () => {
  it.skipIf(REAL_SKIP !== '')(
    `GLPI 0.83.8 → 10.0.x with the real updater, schema check OK, config dir and key kept, then the real plugin install${REAL_SKIP ? ` (skipped: ${REAL_SKIP})` : ''}`,
    async () => {
      const dist = detectGlpiDist(GLPI_DIST as string);
      const db = await real083(dist.dir, 'real');
      const c = ctx(db, [dist], PHP, 'real');
      const run = async (command: string, args: string[] = []) => glpiConsoleExecutor.execute(glpiStep({ kind: 'glpi-console', release: dist.version, command, args }, '>=7.4.0 <8.5.0') as never, c);
      expect((await run('db:check_schema_integrity')).status).toBe('passed');
      const update = await run('db:update', ['--no-telemetry']);
      expect(en(update)).toMatch(/→/);
      expect(update).toMatchObject({ status: 'passed', versionBefore: '0.83.8', versionAfter: dist.version });
      expect((await run('db:check_schema_integrity')).status).toBe('passed');
      expect(fs.existsSync(path.join(c.privateDir as string, 'glpi', 'config', 'glpicrypt.key'))).toBe(true);
      // GLPI's 0.84 migration renamed the 0.83 OCS tables to ocs_glpi_*: the plugin step starts from them.
      const [renamed] = await root.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'ocs\\_glpi\\_%'`, [db]);
      expect(Number((renamed as Array<{ n: number }>)[0].n)).toBeGreaterThanOrEqual(7);

      const plugin = detectPluginDist(PLUGIN_DIST as string);
      const r = await pluginInstallExecutor.execute(
        { ...glpiStep({ kind: 'plugin-install', pluginVersion: plugin.version, glpiRelease: dist.version }, '>=7.4.0 <8.5.0'), product: 'connector' } as never,
        { ...c, dists: { glpi: [dist], plugin: [plugin] }, evidenceDir: path.join(c.runDir, 'evidence', 'plugin') },
      );
      expect(en(r)).toMatch(/links/);
      expect(r.status).toBe('passed');
      expect(r.versionAfter).toBe(plugin.version);
      const checks = r.details?.checks as Array<{ check: string; ok: boolean }>;
      expect(checks.map((x) => x.check)).toEqual(expect.arrayContaining(['links', 'servers', 'rules']));
      // The research note's two known defects are reported: double-encoded password, lost Self-Service rights.
      expect(((r.details?.warnings ?? []) as string[]).join(' ')).toMatch(/URL-encoded.*profile\(s\) 1/s);
      const [saved] = await root.query(`SELECT COUNT(*) AS n FROM \`${SAVED_SCHEMA}\`.\`${db}__ocs_glpi_ocslinks\``);
      expect(Number((saved as Array<{ n: number }>)[0].n)).toBe(2);
    },
    900_000,
  );
});
