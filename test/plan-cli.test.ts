/**
 * The `plan` command as a user runs it (the real bin): on a snapshot directory whose manifest.yaml is written
 * by hand (a documented format), and on live databases of a real MariaDB (read-only). Exit codes and one-line
 * errors for every refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import type { Connection } from 'mysql2/promise';
import { runCli } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { readPlan } from '../src/plan/io.ts';
import { formatDsn, withDatabase } from '../src/db/dsn.ts';
import { ExitCode } from '../src/errors.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-plan-cli-'));

interface Fake {
  glpiVersion?: string;
  glpiStatus?: 'known' | 'inconsistent';
  connector?: string;
  ocsGui?: number;
}

/** A snapshot directory with a hand-written manifest (the data files are not needed to plan). */
function snapshot(name: string, f: Fake): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = (p: string) => ({ path: p, bytes: 10, sha256: '0'.repeat(64) });
  const databases: unknown[] = [];
  if (f.glpiVersion) {
    databases.push({
      role: 'glpi',
      name: 'glpi',
      charset: 'utf8',
      collation: 'utf8_unicode_ci',
      glpi: {
        version: {
          version: f.glpiVersion,
          rawVersion: ` ${f.glpiVersion}`,
          layout: f.glpiStatus === 'inconsistent' ? 'key-value' : 'wide',
          problems: f.glpiStatus === 'inconsistent' ? [`version ${f.glpiVersion} is stored in the key/value layout introduced by 0.85: a half-finished update?`] : [],
          status: f.glpiStatus ?? 'known',
        },
        connector: { mode: f.connector ?? 'none', servers: 1, links: 2, tables: [] },
      },
      tables: [{ name: 'glpi_configs', engine: 'MyISAM', collation: 'utf8_unicode_ci', rows: 1, checksum: '1', files: [file('glpi/glpi_configs.schema.sql.gz')] }],
      views: [],
      triggers: [],
      routines: [],
    });
  }
  if (f.ocsGui) {
    databases.push({
      role: 'ocs',
      name: 'ocsweb',
      charset: 'utf8',
      collation: 'utf8_bin',
      ocs: { version: { guiVersion: f.ocsGui, rawGuiVersion: String(f.ocsGui), releases: [], problems: [], status: 'known' } },
      tables: [{ name: 'hardware', engine: 'InnoDB', collation: 'utf8_bin', rows: 2, checksum: '1', files: [file('ocs/hardware.schema.sql.gz')] }],
      views: [],
      triggers: [],
      routines: [],
    });
  }
  const manifest = {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: '0.1.0' },
    createdAt: '2026-03-01T10:00:00.000Z',
    id: `snap-${name}`,
    source: { serverVersion: '10.11.6-MariaDB', sqlMode: '', characterSetServer: 'utf8', collationServer: 'utf8_general_ci', lowerCaseTableNames: 0 },
    consistency: { method: 'lock+transaction', lockHeldMs: 10 },
    compression: { algorithm: 'gzip', level: 6 },
    databases,
  };
  fs.writeFileSync(path.join(dir, 'manifest.yaml'), YAML.stringify(manifest));
  return dir;
}

describe('plan on a snapshot directory', () => {
  it('prints the table and the reasons, and saves plan.yaml with the snapshot identity', async () => {
    const dir = snapshot('tender', { glpiVersion: '0.83.8', connector: 'core-0.83', ocsGui: 7005 });
    const out = path.join(tmp, 'tender-plan.yaml');
    const r = await runCli(['plan', dir, '-o', out, '--glpi-target', '10.0.22', '--ocs-target', '2.11.1']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/from {2}GLPI 0\.83\.8 \(link: core-0\.83\), OCS GUI_VERSION 7005/);
    expect(r.stdout).toMatch(/glpi-10\.0\.22-db-update +0\.83\.8 → 10\.0\.22 +console db:update +PHP >=7\.4\.0 <8\.5\.0/);
    expect(r.stdout).toMatch(/ocs-bridge-7006/);
    expect(r.stdout).toMatch(/ocs-7069 /);
    expect(r.stdout).not.toMatch(/ocs-7070/);
    expect(r.stdout).toMatch(/Why this route/);
    expect(r.stdout).toMatch(/Plan saved to .*tender-plan\.yaml/);
    const plan = readPlan(out);
    expect(plan.source.snapshotId).toBe('snap-tender');
    expect(plan.targets).toEqual({ connector: 'plugin', glpi: '10.0.22', ocs: '2.11.1' });
    const ids = plan.steps.map((s) => s.id);
    expect(ids.indexOf('glpi-10.0.22-db-update')).toBeLessThan(ids.indexOf('connector-plugin-2.0.5'));
    expect(ids.indexOf('connector-plugin-2.0.5')).toBeLessThan(ids.indexOf('ocs-bridge-7006'));
    expect(ids[ids.length - 1]).toBe('ocs-7069');
  });

  it('--json prints the plan document; --no-save writes nothing; --explain shows the commands to run by hand', async () => {
    const dir = snapshot('ocsonly', { ocsGui: 7068 });
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    const j = await runCli(['--json', 'plan', dir, '--no-save'], { cwd });
    expect(j.exitCode).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.format).toBe(1);
    // The update files, preceded by whatever corrective migrations migrations/corrective/ holds for them.
    const stepIds: string[] = doc.steps.map((s: { id: string }) => s.id);
    expect(stepIds.filter((id) => !id.startsWith('fix-'))).toEqual(Array.from({ length: 13 }, (_, i) => `ocs-${7069 + i}`));
    expect(stepIds.slice(stepIds.indexOf('ocs-7069') + 1).every((id) => !id.startsWith('fix-'))).toBe(true);
    expect(fs.existsSync(path.join(cwd, 'plan.yaml'))).toBe(false);
    const e = await runCli(['plan', dir, '--explain'], { cwd });
    expect(e.exitCode).toBe(0);
    expect(e.stdout).toMatch(/\$ mysql --force .*ocsweb < <ocsreports-2\.12\.4>\/files\/update\/7080\.sql/);
    expect(fs.existsSync(path.join(cwd, 'plan.yaml'))).toBe(true);
  });

  it.each([
    ['a GLPI version not in the catalog', { glpiVersion: '0.78.2' }, [], ExitCode.UNSUPPORTED, /^error: GLPI 0\.78\.2 is not in the catalog$/m],
    ['a half-upgraded GLPI database', { glpiVersion: '0.83.8', glpiStatus: 'inconsistent' as const }, [], ExitCode.UNSUPPORTED, /^error: the GLPI database is half-upgraded/m],
    ['an unknown target', { glpiVersion: '0.83.8' }, ['--glpi-target', '12.0.1'], ExitCode.NOT_FOUND, /^error: GLPI 12\.0\.1 is not a release the catalog knows$/m],
    ['a downgrade', { glpiVersion: '10.0.19' }, ['--glpi-target', '9.5.13'], ExitCode.USAGE, /^error: GLPI target 9\.5\.13 is older than the database \(10\.0\.19\)/m],
    ['an OCS downgrade', { ocsGui: 7081 }, ['--ocs-target', '2.1'], ExitCode.USAGE, /^error: OCS target 2\.1 .* OCS cannot be downgraded$/m],
    ['a bad --connector value', { ocsGui: 7005 }, ['--connector', 'soap'], ExitCode.USAGE, /argument 'soap' is invalid/],
  ] as Array<[string, Fake, string[], number, RegExp]>)('refuses %s with one clear line', async (name, fake, flags, code, message) => {
    const dir = snapshot(name.replace(/\W+/g, '-'), fake);
    const r = await runCli(['plan', dir, '--no-save', ...flags]);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a directory without manifest is NOT_FOUND; no input at all is a usage error', async () => {
    const r = await runCli(['plan', path.join(tmp, 'nothing-here'), '--no-save']);
    expect(r.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(r.stderr).toMatch(/^error: .*manifest\.yaml not found/m);
    const u = await runCli(['plan']);
    expect(u.exitCode).toBe(ExitCode.USAGE);
    expect(u.stderr).toMatch(/nothing to plan/);
  });

  it('--help shows examples and the exit codes', async () => {
    const r = await runCli(['plan', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/--glpi-target <version>/);
    expect(r.stdout).toMatch(/--connector <mode>/);
  });
});

describe('plan on live databases (read-only)', () => {
  let server: TestServer;
  let root: Connection;
  beforeAll(async () => {
    server = await startTestServer();
    root = await server.connect();
  });
  afterAll(async () => {
    await root?.end();
    await server?.stop();
  });

  it('inspects a 0.83.8 GLPI with core OCS mode and an OCS 2.1 database, and plans from them', async () => {
    const g = await server.freshDatabase('plan_glpi');
    await root.query(`USE \`${g}\``);
    await root.query('CREATE TABLE glpi_configs (id int NOT NULL AUTO_INCREMENT, version char(10), language char(10), PRIMARY KEY (id)) ENGINE=MyISAM');
    await root.query("INSERT INTO glpi_configs VALUES (1, ' 0.83.8', 'fr_FR')");
    await root.query('CREATE TABLE glpi_ocsservers (id int PRIMARY KEY) ENGINE=MyISAM');
    await root.query('CREATE TABLE glpi_ocslinks (id int PRIMARY KEY, computers_id int) ENGINE=MyISAM');
    await root.query('INSERT INTO glpi_ocsservers VALUES (1)');
    const o = await server.freshDatabase('plan_ocs');
    await root.query(`USE \`${o}\``);
    await root.query('CREATE TABLE config (NAME varchar(50) PRIMARY KEY, IVALUE int, TVALUE varchar(255), COMMENTS text)');
    await root.query("INSERT INTO config VALUES ('GUI_VERSION', 0, '7005', 'Version of the installed GUI and database')");
    await root.query('CREATE TABLE hardware (ID int PRIMARY KEY)');
    const before = await root.query(`SELECT COUNT(*) AS n FROM \`${g}\`.glpi_configs`);
    const out = path.join(tmp, 'live-plan.yaml');
    const r = await runCli(['plan', '--glpi', formatDsn(withDatabase(server.dsn, g)), '--ocs', formatDsn(withDatabase(server.dsn, o)), '-o', out], {
      env: { MYSQL_PWD: server.dsn.password },
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const plan = readPlan(out);
    expect(plan.source.snapshotId).toBeUndefined();
    expect(plan.source.glpi).toEqual({ version: '0.83.8', connector: 'core-0.83' });
    expect(plan.source.ocs).toEqual({ guiVersion: 7005, releases: ['2.1', '2.1.1'] });
    expect(plan.steps[0].id).toMatch(/^(fix-.*|glpi-10\.0\.22-db-update)$/);
    expect(plan.steps.some((s) => s.id === 'connector-plugin-2.0.5')).toBe(true);
    expect(plan.steps.some((s) => s.id === 'ocs-bridge-7006')).toBe(true);
    expect(await root.query(`SELECT COUNT(*) AS n FROM \`${g}\`.glpi_configs`)).toEqual(before);
  });
});
