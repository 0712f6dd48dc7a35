import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { sharedPath, SHARED_MISSING_REASON } from './helpers/shared.ts';
import { runCli } from './helpers/cli.ts';
import { inspectGlpi, inspectOcs } from '../src/inspect/report.ts';
import { runSqlScript } from '../src/db/sql-script.ts';
import { formatDsn, withDatabase } from '../src/db/dsn.ts';
import { ExitCode } from '../src/errors.ts';

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

const KV_TABLE = `CREATE TABLE glpi_configs (id int NOT NULL AUTO_INCREMENT, context varchar(150) DEFAULT NULL,
  name varchar(150) DEFAULT NULL, value text, PRIMARY KEY (id), UNIQUE KEY unicity (context, name)) ENGINE=MyISAM`;

async function kvDatabase(label: string, rows: Array<[string, string]>): Promise<string> {
  const db = await server.freshDatabase(label);
  await root.query(`USE \`${db}\``);
  await root.query(KV_TABLE);
  for (const [name, value] of rows) await root.query("INSERT INTO glpi_configs (context, name, value) VALUES ('core', ?, ?)", [name, value]);
  return db;
}

describe('inspect: GLPI versions in every glpi_configs layout', () => {
  it('reads 0.83.8 from the wide row, trimming the leading space, and sees the 0.83 core OCS mode', async () => {
    const db = await server.freshDatabase('g083');
    await root.query(`USE \`${db}\``);
    await root.query('CREATE TABLE glpi_configs (id int NOT NULL AUTO_INCREMENT, version char(10) DEFAULT NULL, language char(10), PRIMARY KEY (id)) ENGINE=MyISAM');
    await root.query("INSERT INTO glpi_configs (id, version, language) VALUES (1, ' 0.83.8', 'fr_FR')");
    await root.query('CREATE TABLE glpi_ocsservers (id int PRIMARY KEY) ENGINE=MyISAM');
    await root.query('CREATE TABLE glpi_ocslinks (id int PRIMARY KEY, computers_id int) ENGINE=MyISAM');
    await root.query('INSERT INTO glpi_ocsservers VALUES (1)');
    await root.query('INSERT INTO glpi_ocslinks VALUES (1, 10), (2, 11)');
    const r = await inspectGlpi(root, db);
    expect(r.version).toMatchObject({ version: '0.83.8', rawVersion: ' 0.83.8', layout: 'wide', status: 'known' });
    expect(r.connector).toMatchObject({ mode: 'core-0.83', servers: 1, links: 2 });
    expect(r.byEngine.MyISAM.tables).toBe(3);
    expect(r.tables.find((t) => t.name === 'glpi_ocslinks')?.rows).toBe(2);
  });

  it('reads 0.85 from key/value rows', async () => {
    const r = await inspectGlpi(root, await kvDatabase('g085', [['version', '0.85.5']]));
    expect(r.version).toMatchObject({ version: '0.85.5', layout: 'key-value', status: 'known' });
    expect(r.version.dbversion).toBeUndefined();
  });

  it('reads 9.5 with its dbversion, and 10.0 with the x.y.z@sha1 form', async () => {
    const r95 = await inspectGlpi(
      root,
      await kvDatabase('g95', [
        ['version', '9.5.13'],
        ['dbversion', '9.5.13'],
      ]),
    );
    expect(r95.version).toMatchObject({ version: '9.5.13', dbversion: '9.5.13', status: 'known' });
    const sha = 'd64066799f068b16ee973b377bdd13f984fe062a';
    const r10 = await inspectGlpi(
      root,
      await kvDatabase('g10', [
        ['version', '10.0.19'],
        ['dbversion', `10.0.19@${sha}`],
      ]),
    );
    expect(r10.version).toMatchObject({ version: '10.0.19', schemaHash: sha, status: 'known' });
  });

  it('reports a half-finished update as inconsistent instead of guessing', async () => {
    const r = await inspectGlpi(root, await kvDatabase('ghalf', [['version', '0.83.8']]));
    expect(r.version.status).toBe('inconsistent');
    expect(r.version.problems.join(' ')).toMatch(/half-finished/);
    const r2 = await inspectGlpi(root, await kvDatabase('gnov', [['language', 'fr_FR']]));
    expect(r2.version.status).toBe('unknown');
  });

  it('sees the renamed ocs_glpi_* tables and the plugin with its version', async () => {
    const db = await kvDatabase('gplug', [
      ['version', '10.0.19'],
      ['dbversion', '10.0.19@x'],
    ]);
    await root.query(`USE \`${db}\``);
    await root.query('CREATE TABLE glpi_plugin_ocsinventoryng_ocsservers (id int PRIMARY KEY)');
    await root.query('CREATE TABLE glpi_plugin_ocsinventoryng_ocslinks (id int PRIMARY KEY)');
    await root.query('CREATE TABLE glpi_plugins (id int PRIMARY KEY, directory varchar(255), version varchar(255), state int)');
    await root.query("INSERT INTO glpi_plugins VALUES (1, 'ocsinventoryng', '2.0.5', 1)");
    expect((await inspectGlpi(root, db)).connector).toMatchObject({ mode: 'plugin', pluginVersion: '2.0.5', servers: 0 });
    const db2 = await kvDatabase('gren', [['version', '0.84.8']]);
    await root.query(`USE \`${db2}\``);
    await root.query('CREATE TABLE ocs_glpi_ocsservers (id int PRIMARY KEY)');
    expect((await inspectGlpi(root, db2)).connector.mode).toBe('renamed-0.84');
  });

  it.skipIf(!sharedPath('reference', 'glpi'))(`reads the real 0.83.8, 0.85.5, 9.5.13 and 10.0.22 reference schemas (${SHARED_MISSING_REASON})`, async () => {
    const cases: Array<[string, string, Array<[string, string]>]> = [
      ['0.83.8', 'glpi-0.83.8-empty.sql', []],
      ['0.85.5', 'glpi-0.85.5-empty.sql', [['version', '0.85.5']]],
      [
        '9.5.13',
        'glpi-9.5.13-empty.sql',
        [
          ['version', '9.5.13'],
          ['dbversion', '9.5.13'],
        ],
      ],
      [
        '10.0.22',
        'glpi-10.0.22-empty.sql',
        [
          ['version', '10.0.22'],
          ['dbversion', '10.0.22@abc'],
        ],
      ],
    ];
    for (const [version, file, rows] of cases) {
      const db = await server.freshDatabase(`ref${version.replace(/\./g, '')}`);
      const c = await server.connect(db);
      await c.query("SET SESSION sql_mode = ''");
      await runSqlScript(c, fs.readFileSync(sharedPath('reference', 'glpi', file)!, 'utf8'));
      if (rows.length === 0) await c.query("INSERT INTO glpi_configs (id, version, language, csv_delimiter) VALUES (1, ' 0.83.8', 'fr_FR', ';')");
      for (const [name, value] of rows) await c.query("INSERT INTO glpi_configs (context, name, value) VALUES ('core', ?, ?)", [name, value]);
      await c.end();
      const r = await inspectGlpi(root, db);
      expect(r.version.version, file).toBe(version);
      expect(r.version.status, file).toBe('known');
      expect(r.tableCount, file).toBeGreaterThan(150);
    }
  });
});

describe('inspect: OCS GUI_VERSION', () => {
  async function ocsDb(label: string, gui: string): Promise<string> {
    const db = await server.freshDatabase(label);
    await root.query(`USE \`${db}\``);
    await root.query('CREATE TABLE config (NAME varchar(50) NOT NULL PRIMARY KEY, IVALUE int, TVALUE varchar(255), COMMENTS text) ENGINE=InnoDB');
    await root.query('CREATE TABLE hardware (ID int PRIMARY KEY) ENGINE=InnoDB');
    await root.query("INSERT INTO config VALUES ('GUI_VERSION', 0, ?, 'Version of the installed GUI and database')", [gui]);
    return db;
  }
  it.each([
    ['7005', ['2.1', '2.1.1']],
    ['7006', ['2.1.2']],
    ['7081', ['2.12.4']],
  ])('maps %s to its release', async (gui, releases) => {
    const r = await inspectOcs(root, await ocsDb(`o${gui}`, gui));
    expect(r.version).toMatchObject({ guiVersion: Number(gui), releases, status: 'known' });
  });
  it('reports an unknown GUI_VERSION as unknown', async () => {
    const r = await inspectOcs(root, await ocsDb('o9999', '9999'));
    expect(r.version.status).toBe('unknown');
  });
  it.skipIf(!sharedPath('reference', 'ocs', 'ocsbase_new-2.1.sql'))(`reads the real OCS 2.1 schema as 7005 (${SHARED_MISSING_REASON})`, async () => {
    const db = await server.freshDatabase('ocs21');
    const c = await server.connect(db);
    await c.query("SET SESSION sql_mode = ''");
    await runSqlScript(c, fs.readFileSync(sharedPath('reference', 'ocs', 'ocsbase_new-2.1.sql')!, 'utf8'));
    await c.end();
    const r = await inspectOcs(root, db);
    expect(r.version.guiVersion).toBe(7005);
    expect(r.byEngine.InnoDB.tables).toBeGreaterThan(10);
  });
});

describe('inspect: one clear line and an exit code for bad input', () => {
  it('wrong password → exit 3, password never printed', async () => {
    await root.query("CREATE USER IF NOT EXISTS 'alice'@'127.0.0.1' IDENTIFIED BY 'right-pass'");
    const db = await kvDatabase('gpw', [['version', '9.5.13']]);
    await root.query(`GRANT SELECT ON \`${db}\`.* TO 'alice'@'127.0.0.1'`);
    const dsn = formatDsn({ ...withDatabase(server.dsn, db), user: 'alice' });
    const bad = await runCli(['inspect', '--glpi', dsn], { env: { GLPI_DB_PASSWORD: 'wrong-pass-xyz' } });
    expect(bad.exitCode).toBe(ExitCode.CONNECTION);
    expect(bad.stderr).toMatch(/^error: access denied for user "alice"/m);
    expect(bad.stderr + bad.stdout).not.toContain('wrong-pass-xyz');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const good = await runCli(['--json', 'inspect', '--glpi', dsn], { env: { GLPI_DB_PASSWORD: 'right-pass' } });
    expect(good.exitCode).toBe(0);
    expect(JSON.parse(good.stdout).glpi.version.version).toBe('9.5.13');
    expect(good.stdout).not.toContain('right-pass');
  });
  it('closed port → exit 3', async () => {
    const r = await runCli(['inspect', '--glpi', 'mysql://root@127.0.0.1:1/glpi']);
    expect(r.exitCode).toBe(ExitCode.CONNECTION);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/connection refused/);
  });
  it('non-GLPI and empty databases → exit 11; missing database → exit 4', async () => {
    const other = await server.freshDatabase('other');
    await root.query(`CREATE TABLE \`${other}\`.wp_posts (id int)`);
    const empty = await server.freshDatabase('empty');
    const rOther = await runCli(['inspect', '--glpi', formatDsn(withDatabase(server.dsn, other))], { env: { MYSQL_PWD: server.dsn.password } });
    expect(rOther.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(rOther.stderr).toMatch(/is not a GLPI database/);
    const rEmpty = await runCli(['inspect', '--ocs', formatDsn(withDatabase(server.dsn, empty))], { env: { MYSQL_PWD: server.dsn.password } });
    expect(rEmpty.exitCode).toBe(ExitCode.UNSUPPORTED);
    expect(rEmpty.stderr).toMatch(/is empty/);
    const rMissing = await runCli(['inspect', '--glpi', formatDsn(withDatabase(server.dsn, 'no_such_db_x'))], { env: { MYSQL_PWD: server.dsn.password } });
    expect(rMissing.exitCode).toBe(ExitCode.NOT_FOUND);
  });
  it('inspect never writes: its session is read-only', async () => {
    const { connectReadOnly } = await import('../src/db/connect.ts');
    const db = await kvDatabase('gro', [['version', '9.5.13']]);
    const c = await connectReadOnly(withDatabase(server.dsn, db));
    await expect(c.query("INSERT INTO glpi_configs (context, name, value) VALUES ('x','y','z')")).rejects.toThrow(/READ ONLY/i);
    await c.end();
  });
});
