/**
 * The content digest that proves a snapshot and its restores (src/snapshot/digest.ts): what it tells apart,
 * that it does not depend on the order rows come in, and that a live table read back gives the manifest's value
 * exactly when its rows are the same. Manifests written before the digest (CHECKSUM TABLE) are still proven.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { withDatabase } from '../src/db/dsn.ts';
import { RowDigest, proveTable, readManifest, restoreSnapshot, tablesDifferingFrom, takeSnapshot } from '../src/snapshot/index.ts';
import type { Manifest } from '../src/snapshot/index.ts';

/** A text-protocol row payload: each value length-encoded (short values only), null as 0xFB. */
function packet(values: Array<string | null>): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (v === null) parts.push(Buffer.from([0xfb]));
    else {
      const b = Buffer.from(v, 'latin1');
      parts.push(Buffer.from([b.length]), b);
    }
  }
  return Buffer.concat(parts);
}

function digestOf(rows: Array<Array<string | null>>): string {
  const d = new RowDigest();
  for (const r of rows) {
    const p = packet(r);
    d.addRow(p, 0, p.length);
  }
  return d.toString();
}

describe('RowDigest', () => {
  const rows = [
    ['1', 'Jean', 'Dupont'],
    ['2', '', null],
    ['3', 'a\tb\\c', 'é'],
    ['0', 'x'.repeat(200), '7'],
  ];

  it('is the same whatever the order of the rows, and chunks add up to the whole', () => {
    const whole = digestOf(rows);
    expect(whole).toMatch(/^[0-9a-f]{16}$/);
    expect(digestOf([...rows].reverse())).toBe(whole);
    const a = new RowDigest();
    const b = new RowDigest();
    rows.forEach((r, i) => {
      const p = packet(r);
      (i % 2 ? a : b).addRow(p, 0, p.length);
    });
    a.add(b);
    expect(a.toString()).toBe(whole);
    expect(a.rows).toBe(4);
  });

  it('tells apart a changed byte, NULL from an empty string, a value moved to the next column, a lost and a doubled row', () => {
    const whole = digestOf(rows);
    const variants: Array<Array<Array<string | null>>> = [
      [['1', 'Jean', 'Dupond'], ...rows.slice(1)],
      [rows[0], ['2', null, null], ...rows.slice(2)],
      [rows[0], ['2', '', ''], ...rows.slice(2)],
      [['1', 'JeanDupont', ''], ...rows.slice(1)],
      [['1', 'Jea', 'nDupont'], ...rows.slice(1)],
      rows.slice(1),
      [...rows, rows[0]],
      [],
    ];
    const seen = new Set([whole]);
    for (const v of variants) {
      const d = digestOf(v);
      expect(seen.has(d), JSON.stringify(v)).toBe(false);
      seen.add(d);
    }
  });

  it('reads a row from the middle of a larger buffer (the packet as mysql2 hands it over)', () => {
    const p = packet(['42', 'hello', null]);
    const framed = Buffer.concat([Buffer.from([1, 2, 3]), p, Buffer.from([9, 9])]);
    const d = new RowDigest();
    d.addRow(framed, 3, 3 + p.length);
    expect(d.toString()).toBe(digestOf([['42', 'hello', null]]));
  });
});

describe('digest of live tables (real server)', () => {
  let server: TestServer;
  let root: Connection;
  let tmp: string;
  let db: string;
  let manifest: Manifest;

  beforeAll(async () => {
    server = await startTestServer();
    root = await server.connect();
    tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gou-digest-'));
    db = await server.freshDatabase('dg');
    await root.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
    await root.query(`CREATE TABLE \`${db}\`.m (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(64), f float, b bit(3), e enum('','x','y'), t timestamp NULL) ENGINE=MyISAM`);
    await root.query(`CREATE TABLE \`${db}\`.i (id int NOT NULL PRIMARY KEY, body text) ENGINE=InnoDB DEFAULT CHARSET=latin1`);
    await root.query("SET SESSION time_zone = '+02:00'");
    await root.query(`INSERT INTO \`${db}\`.m VALUES (0, 'zero', 1.1, b'101', '', '2024-03-31 02:30:00'), (1, NULL, NULL, NULL, NULL, NULL), (2, '', 3.4028e38, b'000', 'y', '2020-01-01 00:00:00')`);
    await root.query(`INSERT INTO \`${db}\`.i SELECT seq, CONCAT('ligne ', seq, CHAR(233), REPEAT('x', 300)) FROM \`${db}\`.seq_1_to_3000`);
    await root.query(`ANALYZE TABLE \`${db}\`.i`);
    manifest = await takeSnapshot({ sources: [{ role: 'glpi', dsn: withDatabase(server.dsn, db) }], outDir: path.join(tmp, 'snap'), chunkBytes: 16 * 1024, jobs: 2 });
  }, 120_000);

  afterAll(async () => {
    await root?.end();
    await server?.stop();
    if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('the manifest records a digest per table (no CHECKSUM TABLE), the same as the live table read back', async () => {
    const tables = manifest.databases[0].tables;
    expect(tables.map((t) => t.name).sort()).toEqual(['i', 'm']);
    for (const t of tables) {
      expect(t.digest).toMatch(/^[0-9a-f]{16}$/);
      expect(t.checksum).toBeUndefined();
      const p = await proveTable(root, db, t);
      expect(p).toEqual({ rows: t.rows, checksum: t.digest, expected: t.digest });
    }
    // The InnoDB table was copied in several chunks, whose digests add up to the whole table's.
    expect(tables.find((t) => t.name === 'i')!.files.length).toBeGreaterThan(2);
    // The session's own settings are put back after the read.
    const [s] = await root.query('SELECT @@session.time_zone AS z, @@session.character_set_results AS c');
    expect((s as Array<{ z: string; c: string }>)[0]).toMatchObject({ z: '+02:00' });
    expect((s as Array<{ c: string | null }>)[0].c).not.toBe('binary');
  });

  it('a restore is proven by the digest, and a changed, lost or extra row afterwards is named', async () => {
    const target = `${db}_r`;
    const r = await restoreSnapshot(path.join(tmp, 'snap'), server.dsn, { databases: { glpi: target } });
    expect(r.ok).toBe(true);
    expect(r.tables.every((t) => t.checksum === t.expectedChecksum && /^[0-9a-f]{16}$/.test(t.checksum ?? ''))).toBe(true);
    const m = (await readManifest(path.join(tmp, 'snap'))).databases[0];
    expect(await tablesDifferingFrom(root, target, m)).toEqual({ tables: 2, differing: [] });

    await root.query(`UPDATE \`${target}\`.i SET body = CONCAT(body, ' ') WHERE id = 1500`);
    expect((await tablesDifferingFrom(root, target, m)).differing).toEqual(['i']);
    await root.query(`UPDATE \`${target}\`.i SET body = TRIM(TRAILING ' ' FROM body) WHERE id = 1500`);
    expect((await tablesDifferingFrom(root, target, m)).differing).toEqual([]);

    // The timestamp is read in UTC whatever the session's zone: the same rows give the same digest.
    await root.query("SET SESSION time_zone = '-05:00'");
    expect((await tablesDifferingFrom(root, target, m)).differing).toEqual([]);

    await root.query(`DELETE FROM \`${target}\`.m WHERE id = 1`);
    await root.query(`CREATE TABLE \`${target}\`.extra (x int)`);
    expect((await tablesDifferingFrom(root, target, m)).differing).toEqual(['m', 'extra (not in the backup)']);
  });

  it('a manifest written before the digest is proven by CHECKSUM TABLE, as then', async () => {
    const t = manifest.databases[0].tables.find((x) => x.name === 'i')!;
    const [ck] = await root.query({ sql: `CHECKSUM TABLE \`${db}\`.i`, rowsAsArray: true });
    const old = { ...t, digest: undefined, checksum: String((ck as unknown[][])[0][1]) };
    expect(await proveTable(root, db, old)).toEqual({ rows: t.rows, checksum: old.checksum, expected: old.checksum });
  });
});
