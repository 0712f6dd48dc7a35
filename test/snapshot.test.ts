/**
 * snapshot → verify → restore on a real embedded MariaDB, with every byte-level hazard we know of, plus the
 * safety properties: the source is never written, the lock is released when the snapshot dies midway, a
 * damaged snapshot is refused, an unmarked server is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { runCli } from './helpers/cli.ts';
import type { Dsn } from '../src/db/dsn.ts';
import { formatDsn, withDatabase } from '../src/db/dsn.ts';
import { ExitCode, ConnectionError, InterlockError, VerificationError, UsageError, InterruptedError } from '../src/errors.ts';
import { markAsTestInstance, MARKER_SCHEMA } from '../src/db/interlock.ts';
import { takeSnapshot, readManifest, verifySnapshot, restoreSnapshot, deferIndexes, INCOMPLETE_MARKER, unqualifyTrigger } from '../src/snapshot/index.ts';
import type { Manifest, SnapshotProgress } from '../src/snapshot/index.ts';

let server: TestServer;
let root: Connection;
let glpiDb: string;
let ocsDb: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-snapshot-test-'));

/** 3.5 MB, close to the 4 MB max_allowed_packet of this test server, full of bytes that need escaping. */
const BIG_UNITS = 500_000;

async function buildSources(): Promise<void> {
  glpiDb = await server.freshDatabase('glpi', 'utf8');
  ocsDb = await server.freshDatabase('ocs', 'utf8');
  const c = await server.connect();
  await c.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
  await c.query(`USE \`${glpiDb}\``);
  // MyISAM, the GLPI 0.83 engine, with every type whose text form can betray a byte.
  await c.query(`CREATE TABLE glpi_things (
      id int(11) NOT NULL AUTO_INCREMENT,
      name varchar(255) DEFAULT NULL,
      comment text,
      bin varbinary(300) DEFAULT NULL,
      blobby longblob,
      date_mod datetime DEFAULT NULL,
      date_zero datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
      day date NOT NULL DEFAULT '0000-00-00',
      t time DEFAULT NULL,
      ts timestamp NULL DEFAULT NULL,
      ts6 timestamp(6) NULL DEFAULT NULL,
      y year(4) DEFAULT NULL,
      f float DEFAULT NULL,
      fmd float(7,3) DEFAULT NULL,
      d double DEFAULT NULL,
      dec1 decimal(20,6) DEFAULT NULL,
      big bigint(20) unsigned DEFAULT NULL,
      flag bit(1) DEFAULT NULL,
      bits bit(64) DEFAULT NULL,
      e enum('a','b','é') DEFAULT NULL,
      s set('x','y','z') DEFAULT NULL,
      padded char(10) DEFAULT NULL,
      trail varchar(20) DEFAULT NULL,
      name_len int(11) AS (CHAR_LENGTH(name)) VIRTUAL,
      PRIMARY KEY (id),
      KEY name (name),
      KEY date_mod (date_mod)
    ) ENGINE=MyISAM AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8`);
  await c.query(`INSERT INTO glpi_things (id, name, comment, bin, blobby, date_mod, date_zero, day, t, ts, ts6, y, f, fmd, d, dec1, big, flag, bits, e, s, padded, trail) VALUES
      (0, 'row zero keeps id 0', NULL, NULL, NULL, NULL, '0000-00-00 00:00:00', '0000-00-00', '-838:59:59', NULL, NULL, 0000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (1, '', '', '', '', '2012-03-25 02:30:00', '2012-03-25 02:30:00', '2012-03-25', '00:00:00', '2021-03-28 01:30:00', '2021-03-28 01:30:00.123456', 2155, 1.2345678, 1.5, 0.30000000000000004, -12345678901234.123456, 18446744073709551615, b'1', b'1111111111111111111111111111111111111111111111111111111111111111', 'é', 'x,z', 'pad  ', 'trail   '),
      (2, 'tab\there\nnew line\r\\ backslash \\\\N and N', 'NULL', 0x00, 0x1a, '1000-01-01 00:00:00', '9999-12-31 23:59:59', '1000-01-01', '838:59:59', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999', 1901, 3.4028234e38, -9999.999, 2.2250738585072014e-308, 0.000001, 0, b'0', b'0', 'a', '', '', ' '),
      (3, '😀 4-byte? no: utf8 (3-byte) table, so BMP only: € ñ 中文', '\\N', NULL, NULL, NULL, '0000-00-00 00:00:00', '0000-00-00', NULL, NULL, NULL, NULL, 0.1, 0, 1e308, NULL, 1, NULL, b'101', 'b', 'y', 'x', '')`);
  await c.query('UPDATE glpi_things SET bin = ? WHERE id = 1', [Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
  await c.query(`UPDATE glpi_things SET blobby = REPEAT(0x00095c0a0d1aff, ${BIG_UNITS}) WHERE id = 3`);
  await c.query(`INSERT INTO glpi_things (name, comment) SELECT CONCAT('filler ', seq), REPEAT(MD5(seq), 3) FROM seq_1_to_400`);
  // latin1 columns holding UTF-8 bytes (GLPI 0.83 upgraded from older releases), and bytes cp1252 leaves undefined.
  await c.query(`CREATE TABLE glpi_latin (id int NOT NULL, label varchar(100), note text, PRIMARY KEY (id)) ENGINE=MyISAM DEFAULT CHARSET=latin1`);
  await c.query('INSERT INTO glpi_latin VALUES (1, ?, ?), (2, ?, ?), (3, ?, NULL)', [
    Buffer.from('Ã©tÃ© déjà', 'latin1'),
    Buffer.from('caf\xc3\xa9 \x81\x8d\x8f\x90\x9d', 'latin1'),
    Buffer.from([0xe9, 0x20, 0xc3, 0xa9]),
    Buffer.from(''),
    Buffer.from([0x5c, 0x4e]),
  ]);
  // No primary key at all (GLPI has a few), with duplicate rows.
  await c.query(`CREATE TABLE glpi_nopk (a int, b varchar(10)) ENGINE=MyISAM`);
  await c.query(`INSERT INTO glpi_nopk VALUES (1,'x'),(1,'x'),(NULL,NULL),(2,'')`);
  await c.query(`CREATE TABLE glpi_empty (id int PRIMARY KEY, x int) ENGINE=MyISAM`);
  await c.query(`CREATE VIEW glpi_view_named AS SELECT id, name FROM glpi_things WHERE name <> ''`);
  await c.query(`CREATE TRIGGER glpi_nopk_bi BEFORE INSERT ON glpi_nopk FOR EACH ROW SET NEW.b = UPPER(NEW.b)`);

  await c.query(`USE \`${ocsDb}\``);
  // OCS 2.1 mixes InnoDB and MyISAM; an InnoDB table with secondary keys (deferred on restore) and 4-byte text.
  await c.query(`CREATE TABLE softwares (
      ID int(11) NOT NULL AUTO_INCREMENT,
      HARDWARE_ID int(11) NOT NULL DEFAULT 0,
      PUBLISHER varchar(255) DEFAULT NULL,
      NAME varchar(255) DEFAULT NULL,
      VERSION varchar(255) DEFAULT NULL,
      COMMENTS longtext,
      GUID varchar(255) DEFAULT NULL,
      PRIMARY KEY (ID,HARDWARE_ID),
      UNIQUE KEY guid_u (GUID),
      KEY NAME (NAME),
      KEY VERSION (VERSION(20)),
      KEY pub_name (PUBLISHER,NAME)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  await c.query(`INSERT INTO softwares (HARDWARE_ID, PUBLISHER, NAME, VERSION, COMMENTS, GUID)
      SELECT seq % 50, IF(seq % 10 = 0, NULL, CONCAT('Vendor ', seq % 7)), CONCAT('Soft ', MD5(seq)), IF(seq % 9 = 0, '', CONCAT(seq % 5, '.', seq % 3)),
             IF(seq % 4 = 0, NULL, CONCAT('😀 ', REPEAT('x', seq % 50))), UUID() FROM seq_1_to_3000`);
  await c.query(`CREATE TABLE hardware (ID int(11) NOT NULL AUTO_INCREMENT, NAME varchar(255), LASTDATE datetime, PRIMARY KEY (ID)) ENGINE=InnoDB DEFAULT CHARSET=utf8`);
  await c.query(`INSERT INTO hardware (NAME, LASTDATE) SELECT CONCAT('pc-', seq), '0000-00-00 00:00:00' FROM seq_1_to_50`);
  await c.query(`CREATE TABLE accountinfo (HARDWARE_ID int NOT NULL, TAG varchar(255) DEFAULT 'NA', PRIMARY KEY (HARDWARE_ID)) ENGINE=MyISAM DEFAULT CHARSET=utf8`);
  await c.query(`INSERT INTO accountinfo SELECT seq, IF(seq % 3 = 0, NULL, 'NA') FROM seq_1_to_50`);
  await c.query(`CREATE TABLE config (NAME varchar(50) NOT NULL, IVALUE int, TVALUE varchar(255), PRIMARY KEY (NAME)) ENGINE=MyISAM DEFAULT CHARSET=utf8`);
  await c.query(`INSERT INTO config VALUES ('GUI_VERSION', 0, '7005')`);
  await c.query('ANALYZE TABLE softwares, hardware'); // settled InnoDB statistics, as in production
  await c.end();
}

function snapDir(label: string): string {
  return path.join(tmp, label);
}

function sources(dsn: Dsn = server.dsn) {
  return [
    { role: 'glpi' as const, dsn: withDatabase(dsn, glpiDb) },
    { role: 'ocs' as const, dsn: withDatabase(dsn, ocsDb) },
  ];
}

async function checksums(db: string): Promise<Record<string, string>> {
  const [tables] = await root.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1", [db]);
  const out: Record<string, string> = {};
  for (const { t } of tables as Array<{ t: string }>) {
    const [r] = await root.query(`CHECKSUM TABLE \`${db}\`.\`${t}\``);
    out[t] = String((r as Array<{ Checksum: unknown }>)[0].Checksum);
  }
  return out;
}

async function writeCounters(): Promise<Record<string, number>> {
  const [r] = await root.query(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_insert','Com_update','Com_delete','Com_replace','Com_insert_select','Com_update_multi','Com_delete_multi','Com_create_table','Com_drop_table','Com_alter_table','Com_create_db','Com_drop_db','Com_truncate','Com_load','Com_create_view','Com_create_trigger','Com_set_option_global')",
  );
  return Object.fromEntries((r as Array<{ Variable_name: string; Value: string }>).map((x) => [x.Variable_name, Number(x.Value)]));
}

async function globals(): Promise<string> {
  const [r] = await root.query(
    'SELECT @@GLOBAL.sql_mode, @@GLOBAL.time_zone, @@GLOBAL.character_set_server, @@GLOBAL.character_set_results, @@GLOBAL.net_write_timeout, @@GLOBAL.lock_wait_timeout, @@GLOBAL.read_only',
  );
  return JSON.stringify(r);
}

let reference: Manifest;
const referenceDir = () => snapDir('reference');

beforeAll(async () => {
  // A small max_allowed_packet, so that the big row really is near it.
  server = await startTestServer({ maxAllowedPacket: '4M' });
  root = await server.connect();
  await buildSources();
  // A least-privilege account: it cannot write anything, so a snapshot taken with it proves read-only access.
  await root.query("CREATE USER IF NOT EXISTS 'snapreader'@'127.0.0.1' IDENTIFIED BY 'reader-pass'");
  for (const db of [glpiDb, ocsDb]) await root.query(`GRANT SELECT, LOCK TABLES, SHOW VIEW, TRIGGER ON \`${db}\`.* TO 'snapreader'@'127.0.0.1'`);
});
afterAll(async () => {
  await root?.end();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('snapshot → restore round trip', () => {
  it('takes a snapshot with a read-only account, writes nothing to the source, and restores every table byte for byte', async () => {
    const beforeSums = { glpi: await checksums(glpiDb), ocs: await checksums(ocsDb) };
    const beforeCounters = await writeCounters();
    const beforeGlobals = await globals();
    const reader: Dsn = { ...server.dsn, user: 'snapreader', password: 'reader-pass' };
    const events: SnapshotProgress[] = [];
    reference = await takeSnapshot({
      sources: sources(reader),
      outDir: referenceDir(),
      jobs: 2,
      chunkBytes: 40_000, // splits glpi_things and softwares into several primary-key ranges
      onProgress: (e) => {
        events.push(e);
      },
    });
    // Source untouched: same checksums, no write statement executed, no global setting changed.
    expect(await checksums(glpiDb)).toEqual(beforeSums.glpi);
    expect(await checksums(ocsDb)).toEqual(beforeSums.ocs);
    expect(await writeCounters()).toEqual(beforeCounters);
    expect(await globals()).toBe(beforeGlobals);

    // The minimal account has no RELOAD: LOCK TABLES, read by the session holding it; both databases at one instant.
    expect(reference.consistency.method).toBe('table-locks');
    expect(reference.consistency.instants).toBe('one');
    expect(reference.consistency.lockHeldMs).toBeGreaterThanOrEqual(0);
    expect(reference.consistency.longestWriteWaitMs).toBeNull(); // no PROCESS: other sessions are invisible
    expect(reference.consistency.locks!.map((l) => [l.method, l.account])).toEqual([['table-locks', 'snapreader']]);
    // Nor can it see stored routines: said, not silently "none".
    for (const d of reference.databases) {
      expect(d.routinesUnreadable).toMatch(/cannot read mysql\.proc/);
      expect(d.warnings!.join('\n')).toMatch(/routines could not be read/);
    }
    expect(events.some((e) => e.type === 'warning' && /lacks RELOAD/.test(e.message))).toBe(true);
    expect(events.some((e) => e.type === 'locked')).toBe(true);
    expect(events.some((e) => e.type === 'unlocked')).toBe(true);
    const glpi = reference.databases.find((d) => d.role === 'glpi')!;
    const things = glpi.tables.find((t) => t.name === 'glpi_things')!;
    expect(things.rows).toBe(404);
    expect(things.chunkedBy).toBe('id');
    expect(things.files.length).toBeGreaterThan(2);
    expect(things.columns!.map((c) => c.name)).not.toContain('name_len');
    expect(things.columns!.find((c) => c.name === 'f')!.encoding).toBe('float');
    expect(glpi.views.map((v) => v.name)).toEqual(['glpi_view_named']);
    expect(glpi.triggers.map((t) => t.name)).toEqual(['glpi_nopk_bi']);
    const ocs = reference.databases.find((d) => d.role === 'ocs')!;
    expect(ocs.ocs?.version.guiVersion).toBe(7005);
    expect(ocs.tables.find((t) => t.name === 'softwares')!.files.length).toBeGreaterThan(2);
    expect(reference.source.address).toContain('127.0.0.1');
    expect(JSON.stringify(reference)).not.toContain('reader-pass');
    expect(fs.existsSync(path.join(referenceDir(), INCOMPLETE_MARKER))).toBe(false);
    expect((await verifySnapshot(referenceDir())).ok).toBe(true);

    // Restore under other names and prove it.
    const result = await restoreSnapshot(referenceDir(), server.dsn, { databases: { glpi: `${glpiDb}_r`, ocs: `${ocsDb}_r` }, jobs: 2 });
    expect(result.ok).toBe(true);
    expect(result.tables).toHaveLength(8);
    expect(result.views).toBe(1);
    expect(result.triggers).toBe(1);
    expect(await checksums(`${glpiDb}_r`)).toEqual(beforeSums.glpi);
    expect(await checksums(`${ocsDb}_r`)).toEqual(beforeSums.ocs);
    // Same definitions (indexes re-added in their order, AUTO_INCREMENT, charsets, virtual column).
    for (const [src, dst, tables] of [
      [glpiDb, `${glpiDb}_r`, ['glpi_things', 'glpi_latin', 'glpi_nopk', 'glpi_empty']],
      [ocsDb, `${ocsDb}_r`, ['softwares', 'hardware', 'accountinfo', 'config']],
    ] as const) {
      for (const t of tables) {
        const [a] = await root.query(`SHOW CREATE TABLE \`${src}\`.\`${t}\``);
        const [b] = await root.query(`SHOW CREATE TABLE \`${dst}\`.\`${t}\``);
        expect((b as Array<Record<string, string>>)[0]['Create Table'], t).toBe((a as Array<Record<string, string>>)[0]['Create Table']);
      }
    }
    // Byte-level spot checks where checksums are weakest: latin1 bytes, NULL vs '', the big row, id 0.
    const bytes = async (db: string, sql: string) => JSON.stringify((await root.query(sql.replace(/DB/g, `\`${db}\``)))[0]);
    for (const sql of [
      'SELECT id, HEX(label), HEX(note), note IS NULL AS n FROM DB.glpi_latin ORDER BY id',
      'SELECT id, name IS NULL, HEX(name), HEX(comment), HEX(bin), LENGTH(blobby), MD5(blobby), f, d, HEX(bits), date_zero, ts, ts6, t FROM DB.glpi_things WHERE id < 4 ORDER BY id',
      "SELECT COUNT(*), SUM(a IS NULL), SUM(b = '') FROM DB.glpi_nopk",
    ]) {
      expect(await bytes(`${glpiDb}_r`, sql)).toBe(await bytes(glpiDb, sql));
    }
    const [big] = await root.query(`SELECT LENGTH(blobby) AS n FROM \`${glpiDb}_r\`.glpi_things WHERE id = 3`);
    expect(Number((big as Array<{ n: number }>)[0].n)).toBe(BIG_UNITS * 7);
    const [viewRows] = await root.query(`SELECT COUNT(*) AS n FROM \`${glpiDb}_r\`.glpi_view_named`);
    expect(Number((viewRows as Array<{ n: number }>)[0].n)).toBe(403);
    // The trigger came back and works in the restored database.
    await root.query(`INSERT INTO \`${glpiDb}_r\`.glpi_nopk VALUES (9, 'low')`);
    const [trig] = await root.query(`SELECT b FROM \`${glpiDb}_r\`.glpi_nopk WHERE a = 9`);
    expect((trig as Array<{ b: string }>)[0].b).toBe('LOW');
  });

  it('data files load by hand with the standard client semantics (LOAD DATA … CHARACTER SET binary)', async () => {
    const glpi = reference.databases.find((d) => d.role === 'glpi')!;
    const latin = glpi.tables.find((t) => t.name === 'glpi_latin')!;
    const text = zlib.gunzipSync(fs.readFileSync(path.join(referenceDir(), latin.files[1].path)));
    // Three rows, tab-separated, NULL as \N, the latin1 column's UTF-8 bytes untouched.
    const lines = text.toString('latin1').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1].split('\t')[1]).toBe(Buffer.from([0xe9, 0x20, 0xc3, 0xa9]).toString('latin1'));
    expect(lines[1].split('\t')[2]).toBe('');
    expect(lines[2].split('\t')).toEqual(['3', '\\\\N', '\\N']);
    expect(lines[3]).toBe('');
    const schema = zlib.gunzipSync(fs.readFileSync(path.join(referenceDir(), latin.files[0].path))).toString('utf8');
    expect(schema).toMatch(/CREATE TABLE `glpi_latin`/);
  });

  it('refuses a non-empty target unless forced', async () => {
    const target = `${glpiDb}_r`;
    await expect(restoreSnapshot(referenceDir(), server.dsn, { databases: { glpi: target, ocs: `${ocsDb}_r2` } })).rejects.toBeInstanceOf(UsageError);
    const forced = await restoreSnapshot(referenceDir(), server.dsn, { databases: { glpi: target, ocs: `${ocsDb}_r2` }, force: true, jobs: 1 });
    expect(forced.ok).toBe(true);
  });

  it('is consistent: writes issued while the lock is held are not in the snapshot, and checksums agree', async () => {
    const writer = await server.connect();
    let pending: Promise<unknown>[] = [];
    const m = await takeSnapshot({
      sources: sources(),
      outDir: snapDir('consistent'),
      jobs: 2,
      onProgress: async (e) => {
        if (e.type === 'locked') {
          // Both block on the lock; they commit after it is released, while InnoDB tables may still be read.
          pending = [writer.query(`INSERT INTO \`${ocsDb}\`.hardware (NAME) VALUES ('written during snapshot')`), root.query(`INSERT INTO \`${ocsDb}\`.accountinfo VALUES (999, 'during')`)];
        }
        if (e.type === 'unlocked') await Promise.all(pending);
      },
    });
    await Promise.all(pending);
    await writer.end();
    const ocs = m.databases.find((d) => d.role === 'ocs')!;
    expect(ocs.tables.find((t) => t.name === 'hardware')!.rows).toBe(50);
    expect(ocs.tables.find((t) => t.name === 'accountinfo')!.rows).toBe(50);
    const r = await restoreSnapshot(snapDir('consistent'), server.dsn, { databases: { glpi: `${glpiDb}_c`, ocs: `${ocsDb}_c` } });
    expect(r.ok).toBe(true);
    await root.query(`DELETE FROM \`${ocsDb}\`.hardware WHERE NAME = 'written during snapshot'`);
    await root.query(`DELETE FROM \`${ocsDb}\`.accountinfo WHERE HARDWARE_ID = 999`);
  });

  it('a row bigger than one protocol packet (16 MiB) round-trips byte for byte', async () => {
    // The reader decodes row packets itself (raw-query.ts): a row the server splits over several 16 MiB
    // packets must come through whole. The session limit is raised for this test only.
    await root.query('SET GLOBAL max_allowed_packet = 64 * 1024 * 1024');
    try {
      const db = await server.freshDatabase('bigrow', 'utf8mb4');
      const c = await server.connect();
      await c.query(`CREATE TABLE \`${db}\`.huge (id int PRIMARY KEY, a varchar(10), payload longblob, z varchar(10)) ENGINE=InnoDB`);
      // 18 MiB of bytes that mostly need escaping, between two small columns; and a NULL-heavy neighbour row.
      await c.query(`INSERT INTO \`${db}\`.huge VALUES (1, 'before', REPEAT(0x5c0009610a0d1a62, 18 * 131072), 'after'), (2, NULL, NULL, '')`);
      await c.end();
      const before = await checksums(db);
      const dir = snapDir('huge-row');
      const m = await takeSnapshot({ sources: [{ role: 'glpi', dsn: withDatabase(server.dsn, db) }], outDir: dir, jobs: 1 });
      expect(m.databases[0].tables[0].rows).toBe(2);
      const r = await restoreSnapshot(dir, server.dsn, { databases: { glpi: `${db}_r` }, jobs: 1 });
      expect(r.ok).toBe(true);
      expect(await checksums(`${db}_r`)).toEqual(before);
      const [rows] = await root.query(`SELECT id, a, LENGTH(payload) AS n, MD5(payload) AS h, z FROM \`${db}_r\`.huge ORDER BY id`);
      const [orig] = await root.query(`SELECT id, a, LENGTH(payload) AS n, MD5(payload) AS h, z FROM \`${db}\`.huge ORDER BY id`);
      expect(rows).toEqual(orig);
      expect(Number((rows as Array<{ n: number }>)[0].n)).toBe(18 * 1024 * 1024);
    } finally {
      await root.query('SET GLOBAL max_allowed_packet = 4 * 1024 * 1024');
    }
  });

  it('a trigger created with a database-qualified name is restored into the new database, not the source', async () => {
    const db = await server.freshDatabase('qualtrig', 'utf8mb4');
    const c = await server.connect();
    await c.query(`CREATE TABLE \`${db}\`.t (id int PRIMARY KEY, n int) ENGINE=InnoDB`);
    await c.query(`CREATE TRIGGER \`${db}\`.t_bi BEFORE INSERT ON \`${db}\`.t FOR EACH ROW SET NEW.n = NEW.id * 10`);
    await c.end();
    const dir = snapDir('qualified-trigger');
    await takeSnapshot({ sources: [{ role: 'glpi', dsn: withDatabase(server.dsn, db) }], outDir: dir, jobs: 1 });
    const r = await restoreSnapshot(dir, server.dsn, { databases: { glpi: `${db}_r` }, jobs: 1 });
    expect(r.triggers).toBe(1);
    const [where] = await root.query('SELECT TRIGGER_SCHEMA AS s, EVENT_OBJECT_SCHEMA AS o FROM information_schema.TRIGGERS WHERE TRIGGER_NAME = ? ORDER BY 1', ['t_bi']);
    expect(where).toEqual([
      { s: db, o: db },
      { s: `${db}_r`, o: `${db}_r` },
    ]);
    await root.query(`INSERT INTO \`${db}_r\`.t (id) VALUES (7)`);
    const [rows] = await root.query(`SELECT n FROM \`${db}_r\`.t`);
    expect(rows).toEqual([{ n: 70 }]);
    expect(unqualifyTrigger('CREATE TRIGGER IF NOT EXISTS glpi.trg AFTER UPDATE ON `glpi`.`t` FOR EACH ROW INSERT INTO glpi.log VALUES (1)', 'glpi')).toBe(
      'CREATE TRIGGER IF NOT EXISTS trg AFTER UPDATE ON `t` FOR EACH ROW INSERT INTO glpi.log VALUES (1)',
    );
  });

  it('keeps secondary keys in their order when it defers them', () => {
    const create = 'CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `a` int,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `u` (`a`),\n  KEY `k1` (`a`),\n  KEY `k2` (`id`,`a`)\n) ENGINE=InnoDB';
    const d = deferIndexes(create, 'InnoDB');
    expect(d.addKeys).toEqual(['ADD KEY `k1` (`a`)', 'ADD KEY `k2` (`id`,`a`)']);
    expect(d.create).toContain('UNIQUE KEY `u` (`a`)\n) ENGINE=InnoDB');
    expect(deferIndexes(create.replace('InnoDB', 'MyISAM'), 'MyISAM')).toMatchObject({ disableKeys: true, addKeys: [] });
  });
});

describe('verify and restore detect damaged snapshots', () => {
  function copyOf(label: string): string {
    const dir = snapDir(label);
    fs.cpSync(referenceDir(), dir, { recursive: true });
    return dir;
  }
  const dataFile = (m: Manifest) => m.databases.find((d) => d.role === 'glpi')!.tables.find((t) => t.name === 'glpi_things')!.files[1].path;

  it('a missing file: named by verify (exit 5) and refused by restore', async () => {
    const dir = copyOf('missing');
    const victim = dataFile(reference);
    fs.rmSync(path.join(dir, victim));
    const v = await verifySnapshot(dir);
    expect(v.problems).toEqual([{ path: victim, problem: 'missing' }]);
    const cli = await runCli(['verify', dir]);
    expect(cli.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    expect(cli.stderr).toContain(victim);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    await expect(restoreSnapshot(dir, server.dsn, { databases: { glpi: 'never_g1', ocs: 'never_o1' } })).rejects.toBeInstanceOf(VerificationError);
  });

  it('a truncated file: named by verify and refused by restore, which creates nothing', async () => {
    const dir = copyOf('truncated');
    const victim = dataFile(reference);
    const full = path.join(dir, victim);
    fs.truncateSync(full, Math.floor(fs.statSync(full).size / 2));
    expect((await verifySnapshot(dir)).problems).toEqual([{ path: victim, problem: 'size' }]);
    await expect(restoreSnapshot(dir, server.dsn, { databases: { glpi: 'never_g2', ocs: 'never_o2' } })).rejects.toThrow(/truncated/);
    const [r] = await root.query("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('never_g2','never_o2')");
    expect(Number((r as Array<{ n: number }>)[0].n)).toBe(0);
  });

  it('a tampered file (same size) and an extra file: named by verify and refused by restore', async () => {
    const dir = copyOf('tampered');
    const victim = dataFile(reference);
    const full = path.join(dir, victim);
    const buf = fs.readFileSync(full);
    buf[Math.floor(buf.length / 2)] ^= 0xff;
    fs.writeFileSync(full, buf);
    fs.writeFileSync(path.join(dir, 'glpi', 'stray.tsv.gz'), 'x');
    const v = await verifySnapshot(dir);
    expect(v.problems).toEqual([
      { path: victim, problem: 'sha256' },
      { path: 'glpi/stray.tsv.gz', problem: 'extra' },
    ]);
    const cli = await runCli(['--json', 'verify', dir]);
    expect(cli.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    expect(JSON.parse(cli.stdout).problems).toHaveLength(2);
    await expect(restoreSnapshot(dir, server.dsn, { databases: { glpi: 'never_g3', ocs: 'never_o3' } })).rejects.toThrow(/content changed/);
  });

  it('a missing or broken manifest: not found (4) / verification failed (5)', async () => {
    const r = await runCli(['verify', tmp]);
    expect(r.exitCode).toBe(ExitCode.NOT_FOUND);
    const dir = copyOf('badmanifest');
    fs.writeFileSync(path.join(dir, 'manifest.yaml'), 'format: 1\ndatabases: [ {');
    await expect(readManifest(dir)).rejects.toBeInstanceOf(VerificationError);
  });
});

describe('failures midway leave the source unlocked and no half snapshot behind', () => {
  it('the control session holding the lock is killed: clear error, lock gone, directory removed', async () => {
    let control = 0;
    const out = snapDir('killed-control');
    const err = await takeSnapshot({
      sources: sources(),
      outDir: out,
      jobs: 2,
      onProgress: async (e) => {
        if (e.type === 'connections') control = e.control;
        if (e.type === 'locked') {
          await root.query(`KILL ${control}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/lost during the snapshot|closed|killed/i);
    expect(fs.existsSync(out)).toBe(false);
    // A writer gets through at once: with a 5 s lock wait limit it would fail if the lock were still held.
    const w = await server.connect();
    await w.query('SET SESSION lock_wait_timeout = 5');
    await w.query(`INSERT INTO \`${glpiDb}\`.glpi_empty VALUES (1, 1)`);
    await w.query(`DELETE FROM \`${glpiDb}\`.glpi_empty`);
    await w.end();
  });

  it('a reader is killed in the middle of a table: clear error, lock released', async () => {
    let readers: number[] = [];
    const out = snapDir('killed-reader');
    const err = await takeSnapshot({
      sources: sources(),
      outDir: out,
      jobs: 2,
      chunkBytes: 40_000,
      onProgress: async (e) => {
        if (e.type === 'connections') readers = e.readers;
        if (e.type === 'chunk' && e.table === 'glpi_things') await root.query(`KILL ${readers[0]}`).catch(() => undefined);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(fs.existsSync(out)).toBe(false);
    const w = await server.connect();
    await w.query('SET SESSION lock_wait_timeout = 5');
    await w.query(`INSERT INTO \`${glpiDb}\`.glpi_empty VALUES (2, 2)`);
    await w.query(`DELETE FROM \`${glpiDb}\`.glpi_empty`);
    await w.end();
  });

  it('refuses an output directory that is not empty', async () => {
    const err = await takeSnapshot({ sources: sources(), outDir: referenceDir() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
  });
});

describe('restore writes only to test instances', () => {
  it('refuses a server without the test-instance marker (exit 6), from the API and the CLI', async () => {
    await root.query(`DROP DATABASE \`${MARKER_SCHEMA}\``);
    try {
      await expect(restoreSnapshot(referenceDir(), server.dsn, { databases: { glpi: 'never_g4', ocs: 'never_o4' } })).rejects.toBeInstanceOf(InterlockError);
      const cli = await runCli(['restore', referenceDir(), '--instance', formatDsn(server.dsn), '--glpi-db', 'never_g5', '--ocs-db', 'never_o5'], { env: { MYSQL_PWD: server.dsn.password ?? '' } });
      expect(cli.exitCode).toBe(ExitCode.REFUSED);
      expect(cli.stderr).toMatch(/not marked as a test instance/);
    } finally {
      await markAsTestInstance(root, 'test server (re-marked)');
    }
    const [r] = await root.query("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'never\\_%'");
    expect(Number((r as Array<{ n: number }>)[0].n)).toBe(0);
  });
});

describe('the commands', () => {
  it('snapshot --json, verify and restore --instance work end to end', async () => {
    const out = snapDir('cli');
    const env = { MYSQL_PWD: server.dsn.password ?? '' };
    const s = await runCli(['--json', 'snapshot', '--glpi', formatDsn(withDatabase(server.dsn, glpiDb)), '--ocs', formatDsn(withDatabase(server.dsn, ocsDb)), '-o', out, '--jobs', '2'], { env });
    expect(s.exitCode, s.stderr).toBe(0);
    const doc = JSON.parse(s.stdout);
    expect(doc.manifest.databases).toHaveLength(2);
    const v = await runCli(['verify', out]);
    expect(v.exitCode).toBe(0);
    expect(v.stdout).toMatch(/all match the manifest/);
    const r = await runCli(['--json', 'restore', out, '--instance', formatDsn(server.dsn), '--glpi-db', `${glpiDb}_cli`, '--ocs-db', `${ocsDb}_cli`], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).ok).toBe(true);
    const again = await runCli(['restore', out, '--instance', formatDsn(server.dsn), '--glpi-db', `${glpiDb}_cli`, '--ocs-db', `${ocsDb}_cli`], { env });
    expect(again.exitCode).toBe(ExitCode.USAGE);
    expect(again.stderr).toMatch(/--force/);
    const bad = await runCli(['snapshot', '--glpi', formatDsn(withDatabase(server.dsn, glpiDb)), '-o', snapDir('cli-bad'), '--jobs', 'many']);
    expect(bad.exitCode).toBe(ExitCode.USAGE);
  });
});

describe('Ctrl-C', () => {
  // Last in the file: the first interrupt is remembered process-wide.
  it('an interrupted snapshot removes its partial directory and ends with InterruptedError', async () => {
    const out = snapDir('interrupted');
    const err = await takeSnapshot({
      sources: sources(),
      outDir: out,
      jobs: 1,
      onProgress: (e) => {
        if (e.type === 'locked') process.emit('SIGINT', 'SIGINT');
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(fs.existsSync(out)).toBe(false);
    const w = await server.connect();
    await w.query('SET SESSION lock_wait_timeout = 5');
    await w.query(`INSERT INTO \`${glpiDb}\`.glpi_empty VALUES (3, 3)`);
    await w.end();
  });
});
