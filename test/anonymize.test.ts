/**
 * anonymize: a GLPI-0.83.8-like and an OCS-2.1-like database built here with personal data in the column of
 * every default rule, snapshotted with takeSnapshot, anonymized, and the result restored and scanned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Connection } from 'mysql2/promise';
import YAML from 'yaml';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { runCli } from './helpers/cli.ts';
import { sharedPath, SHARED_MISSING_REASON } from './helpers/shared.ts';
import { withDatabase } from '../src/db/dsn.ts';
import { computeSnapshotId, manifestFiles, readManifest, restoreSnapshot, takeSnapshot, verifySnapshot } from '../src/snapshot/index.ts';
import { writeManifest } from '../src/snapshot/manifest.ts';
import type { Manifest } from '../src/snapshot/index.ts';
import { anonymizeSnapshot, digestHex, loadRules, REPORT_NAME } from '../src/anonymize/index.ts';
import type { AnonymizationReport, AnonymizeRule } from '../src/anonymize/index.ts';
import { ExitCode } from '../src/errors.ts';

const SALT_A = 'test-salt-A-9f1c2b7e5d3a4c6b8e0f';
const SALT_B = 'test-salt-B-0a9b8c7d6e5f4a3b2c1d';

let server: TestServer;
let root: Connection;
let tmp: string;
let glpiDb: string;
let ocsDb: string;
let inDir: string;
let outA: string;
let outA2: string;
let outB: string;
let resultA: Awaited<ReturnType<typeof anonymizeSnapshot>>;
const defaults = loadRules();

/** Every personal value put in a rule's column (excluding kept values, NULL and ''). */
const originals = new Set<string>();

// Values shared across tables and databases: the consistency the anonymization must keep.
const LOGIN = 'jdupontzq';
const MAC = 'aa:bb:cc:10:20:30';
const SERIAL = 'CZC1234XYZ';
const DEVICEID = 'PC-JDUPONTZQ-2012-01-01-10-00-00';
const HOST = 'pc-jdupontzq';
const IP = '192.168.77.23';
const DOUBLE_ENCODED = 'CafÃ© Ã  emporter'; // UTF-8 read as latin1 and saved again: an audit hazard to keep

/** What free text (method scrub) quotes in row i: an identity, an e-mail, a phone number, an IP and a MAC address. */
function plantedIn(i: number): string[] {
  return [`Zqglpi_users.realname.${i}-Jérôme`, `prenom.nom${i}.libre@chu-exemple.fr`, `06 12 34 56 7${i}`, `192.168.50.${10 + i}`, `aa:bb:cc:dd:ee:0${i}`];
}

function valueFor(rule: AnonymizeRule, table: string, column: string, i: number): string {
  const n = `${i}`;
  if (rule.method === 'scrub') {
    const [name, email, phone, ip, mac] = plantedIn(i);
    return `&lt;p&gt;${table}.${column} ${i} : ${name} &lt;${email}&gt;, tél. ${phone}, poste ${ip} (${mac}).&lt;/p&gt;`;
  }
  switch (rule.format) {
    case 'mac':
      return `aa:bb:cc:${(0x40 + i).toString(16)}:${(0x50 + column.length).toString(16)}:${(table.length % 255).toString(16).padStart(2, '0')}`;
    case 'ip':
      return `192.168.${table.length}.${i + 100}`;
    case 'email':
      return `prenom.nom${i}.${column.toLowerCase()}@chu-exemple.fr`;
    case 'phone':
      return `06 12 ${table.length} ${column.length} 7${n}`;
    case 'uuid':
      return `4c4c4544-00${n}${table.length % 10}-3510-8052-b4c04f${column.length}zq${n}`.slice(0, 36);
    default:
      return `Zq${table}.${column}.${n}-Jérôme`;
  }
}

/** The synthetic primary key (OCS operators has its own ID column: the login). */
function pkOf(table: string): string {
  return table === 'operators' ? 'rid' : 'id';
}

async function buildDatabase(role: 'glpi' | 'ocs', db: string): Promise<void> {
  const rules = defaults.rules.filter((r) => r.database === role);
  const tables = [...new Set(rules.map((r) => r.table))];
  for (const table of tables) {
    const trules = rules.filter((r) => r.table === table);
    const cols = trules.flatMap((r) => (r.column.endsWith('*') ? ['fields_3', 'fields_4'] : [r.column]));
    const charset = role === 'ocs' && table === 'hardware' ? 'latin1' : 'utf8';
    const typeOf = (c: string) => {
      if (table === 'glpi_users' && c === 'password') return 'char(40)';
      if (table === 'glpi_users' && c === 'registration_number') return 'varchar(8)'; // narrower than real: truncation
      if (table === 'netmap' && c === 'MAC') return 'varchar(17)';
      if (table === 'netmap' && c === 'IP') return 'varchar(15)';
      if (/content|text|comment|notepad|message|COMMENTS/i.test(c)) return 'longtext';
      return 'varchar(255)';
    };
    const defs = cols.map((c) => `\`${c}\` ${typeOf(c)} DEFAULT NULL`);
    const pk = pkOf(table);
    const keys = [`PRIMARY KEY (${pk})`];
    // A non-unique index on a MyISAM table with rules: the rewrite leaves it disabled, the output keeps it.
    if (table === 'glpi_users') keys.push('UNIQUE KEY unicity (name)', 'KEY keepme (keepme)');
    if (table === 'netmap') keys.push('UNIQUE KEY mac (MAC)');
    if (table === 'hardware') keys.push('KEY DEVICEID (DEVICEID)', 'KEY USERID (USERID)');
    if (table === 'networks') keys.push('KEY MACADDR (MACADDR)');
    const extra = table === 'glpi_tickets' ? ', ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP' : '';
    const engine = role === 'ocs' && table !== 'operators' ? 'InnoDB' : 'MyISAM';
    await root.query(
      `CREATE TABLE \`${db}\`.\`${table}\` (${pk} int NOT NULL AUTO_INCREMENT, keepme varchar(255) DEFAULT NULL${extra}, ${defs.join(', ')}, ${keys.join(', ')}) ENGINE=${engine} DEFAULT CHARSET=${charset}`,
    );
    // Rows 1–3: personal data; row 4: NULLs; row 5: empty strings; row 6: kept values where a rule has some.
    for (let i = 1; i <= 6; i++) {
      const values = cols.map((c) => {
        const rule = trules.find((r) => r.column === c) ?? trules.find((r) => r.column.endsWith('*'))!;
        if (i === 4) return null;
        if (i === 5) return '';
        if (i === 6) return rule.keep_values?.[0] ?? null;
        if (rule.method === 'keep') return null;
        const v = valueFor(rule, table, c, i);
        return typeOf(c) === 'char(40)' ? v.slice(0, 40) : typeOf(c) === 'varchar(8)' ? `R${i}zqxwvu` : v;
      });
      await root.query(
        `INSERT INTO \`${db}\`.\`${table}\` (keepme${extra ? ', ts' : ''}, ${cols.map((c) => `\`${c}\``).join(', ')}) VALUES (?${extra ? ", '2012-01-01 00:00:00'" : ''}, ${cols.map(() => '?').join(', ')})`,
        [DOUBLE_ENCODED, ...values],
      );
    }
  }
  // Untouched tables (no rule): must come out byte-identical.
  if (role === 'glpi') {
    await root.query(`CREATE TABLE \`${db}\`.glpi_softwares (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(255)) ENGINE=MyISAM DEFAULT CHARSET=utf8`);
    await root.query(`INSERT INTO \`${db}\`.glpi_softwares (name) VALUES ('MicrosoftÂ® Office'), ('7-Zip'), ('7-Zip')`);
  } else {
    await root.query(`CREATE TABLE \`${db}\`.softwares (ID int NOT NULL AUTO_INCREMENT PRIMARY KEY, HARDWARE_ID int, NAME varchar(255)) ENGINE=InnoDB DEFAULT CHARSET=utf8`);
    await root.query(`INSERT INTO \`${db}\`.softwares (HARDWARE_ID, NAME) VALUES (1, 'Adobe Reader'), (2, NULL)`);
  }
}

/** The shared values, placed where the consistency must show. */
async function placeSharedValues(): Promise<void> {
  const g = (t: string) => `\`${glpiDb}\`.\`${t}\``;
  const o = (t: string) => `\`${ocsDb}\`.\`${t}\``;
  await root.query(`UPDATE ${g('glpi_users')} SET name = ? WHERE id = 1`, [LOGIN]);
  await root.query(`UPDATE ${g('glpi_computers')} SET contact = ?, name = ?, serial = ? WHERE id IN (1, 2)`, [LOGIN, HOST, SERIAL]);
  await root.query(`UPDATE ${o('hardware')} SET USERID = ?, NAME = ?, DEVICEID = ?, IPADDR = ? WHERE id = 1`, [LOGIN.toUpperCase(), HOST.toUpperCase(), DEVICEID, IP]);
  await root.query(`UPDATE ${g('glpi_ocslinks')} SET ocs_deviceid = ? WHERE id = 1`, [DEVICEID]);
  await root.query(`UPDATE ${o('bios')} SET SSN = ? WHERE id = 1`, [SERIAL]);
  await root.query(`UPDATE ${o('networks')} SET MACADDR = ?, IPADDRESS = ? WHERE id = 1`, [MAC.toUpperCase(), IP]);
  await root.query(`UPDATE ${g('glpi_networkports')} SET mac = ?, ip = ? WHERE id = 1`, [MAC, IP]);
  await root.query(`UPDATE ${o('accesslog')} SET USERID = ? WHERE id = 1`, [LOGIN]);
  // What free text quotes (plantedIn(1)), also in the columns of its kind: the free text must get the same values.
  const [, email, phone, ip, mac] = plantedIn(1);
  await root.query(`UPDATE ${g('glpi_useremails')} SET email = ? WHERE id = 1`, [email]);
  await root.query(`UPDATE ${g('glpi_users')} SET phone = ? WHERE id = 1`, [phone]);
  await root.query(`UPDATE ${g('glpi_networkports')} SET ip = ?, mac = ? WHERE id = 2`, [ip, mac]);
  // latin1 column holding UTF-8 bytes (a login with an accent, written by a UTF-8 client into latin1).
  await root.query(`UPDATE ${o('hardware')} SET WORKGROUP = CONVERT(CAST(CONVERT('Hôpital-Zq' USING utf8mb4) AS BINARY) USING latin1) WHERE id = 2`);
}

async function collectOriginals(): Promise<void> {
  // (As the other originals: the stored bytes read as latin1.)
  for (let i = 1; i <= 3; i++) for (const v of plantedIn(i)) originals.add(Buffer.from(v, 'utf8').toString('latin1'));
  for (const [role, db] of [
    ['glpi', glpiDb],
    ['ocs', ocsDb],
  ] as const) {
    for (const r of defaults.rules.filter((x) => x.database === role && x.method !== 'keep')) {
      const cols = r.column.endsWith('*') ? ['fields_3', 'fields_4'] : [r.column];
      for (const c of cols) {
        const [rows] = await root.query(`SELECT CAST(\`${c}\` AS BINARY) AS v FROM \`${db}\`.\`${r.table}\``);
        for (const { v } of rows as Array<{ v: Buffer | null }>) {
          if (v === null || v.length === 0) continue;
          const s = v.toString('latin1');
          if ((r.keep_values ?? []).some((k) => k.toLowerCase() === s.toLowerCase())) continue;
          if (r.method === 'fixed' && s === r.value) continue;
          // Free text keeps its words: what must go is what it quotes.
          if (r.method === 'scrub') continue;
          originals.add(s);
        }
      }
    }
  }
}

async function dumpAll(db: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const [tables] = await root.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [db]);
  for (const { t } of tables as Array<{ t: string }>) {
    const [cols] = await root.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, t]);
    const sel = (cols as Array<{ c: string }>).map((x) => `CAST(\`${x.c}\` AS BINARY)`).join(', 0x1f, ');
    const [rows] = await root.query({ sql: `SELECT CONCAT_WS(0x1e, ${sel}) AS b FROM \`${db}\`.\`${t}\``, rowsAsArray: true });
    for (const r of rows as Array<[Buffer | null]>) if (r[0]) parts.push(Buffer.from(r[0]));
  }
  return Buffer.concat(parts);
}

async function allFileBytes(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const walk = async (d: string) => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        const raw = await fsp.readFile(full);
        parts.push(raw);
        if (e.name.endsWith('.gz')) parts.push(zlib.gunzipSync(raw));
      }
    }
  };
  await walk(dir);
  return Buffer.concat(parts);
}

function found(haystack: Buffer, value: string): boolean {
  const lower = Buffer.from(haystack.toString('latin1').toLowerCase(), 'latin1');
  for (const enc of ['utf8', 'latin1'] as const) {
    if (lower.includes(Buffer.from(value.toLowerCase(), enc))) return true;
  }
  return false;
}

async function restoreInto(dir: string, label: string): Promise<{ glpi: string; ocs: string }> {
  const names = { glpi: `${glpiDb}_${label}g`.slice(0, 64), ocs: `${ocsDb}_${label}o`.slice(0, 64) };
  await restoreSnapshot(dir, server.dsn, { databases: names, jobs: 2 });
  return names;
}

async function one<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T> {
  const [rows] = await root.query(sql, params);
  return (rows as T[])[0];
}

function tableChecksums(m: Manifest): Map<string, string | null> {
  return new Map(m.databases.flatMap((d) => d.tables.map((t) => [`${d.role}.${t.name}`, t.digest ?? t.checksum ?? null] as [string, string | null])));
}

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gou-anon-'));
  glpiDb = await server.freshDatabase('glpi');
  ocsDb = await server.freshDatabase('ocs');
  await buildDatabase('glpi', glpiDb);
  await buildDatabase('ocs', ocsDb);
  await placeSharedValues();
  await collectOriginals();
  inDir = path.join(tmp, 'in');
  await takeSnapshot({
    sources: [
      { role: 'glpi', dsn: withDatabase(server.dsn, glpiDb) },
      { role: 'ocs', dsn: withDatabase(server.dsn, ocsDb) },
    ],
    outDir: inDir,
    jobs: 2,
  });
  outA = path.join(tmp, 'outA');
  outA2 = path.join(tmp, 'outA2');
  outB = path.join(tmp, 'outB');
  resultA = await anonymizeSnapshot(inDir, outA, { salt: SALT_A, instance: server.dsn, jobs: 2 });
});

afterAll(async () => {
  await root?.end();
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('anonymize: no personal data survives', () => {
  it('the sweep finds nothing left in any text column, and says what it scanned', async () => {
    const sweep = resultA.report.sweep!;
    expect(sweep.columns).toEqual([]);
    expect(sweep.remaining).toBe(0);
    expect(sweep.scanned.tables).toBe(resultA.manifest.databases.reduce((n, d) => n + d.tables.length, 0));
    expect(sweep.identities).toBeGreaterThan(6);
    // The addresses and phone numbers this run wrote are recognised, not counted.
    expect(sweep.pseudonymsRecognised).toBeGreaterThan(20);
  });

  it('the fixture has personal data in the column of every default rule', async () => {
    expect(originals.size).toBeGreaterThan(250);
    const report = resultA.report;
    for (const r of defaults.rules.filter((x) => x.method !== 'keep')) {
      const cols = report.columns.filter((c) => c.database === r.database && c.table === r.table && (r.column.endsWith('*') ? c.column.startsWith('fields_') : c.column === r.column));
      expect(cols.length, `${r.database}.${r.table}.${r.column}`).toBeGreaterThan(0);
      for (const c of cols) {
        expect(c.status, `${c.table}.${c.column}`).toBe('anonymized');
        // rows 1–3 always, row 6 too when the rule keeps no value (it holds NULL then: not counted).
        expect(c.rowsChanged, `${c.table}.${c.column}`).toBe(3);
        expect(c.rows).toBe(6);
      }
    }
  });

  it('scans every table of the restored anonymized databases and every file of the snapshot: no original value anywhere', async () => {
    const names = await restoreInto(outA, 'a');
    const bytes = Buffer.concat([await dumpAll(names.glpi), await dumpAll(names.ocs)]);
    const files = await allFileBytes(outA);
    const leftInDb = [...originals].filter((v) => found(bytes, v));
    const leftInFiles = [...originals].filter((v) => found(files, v));
    expect(leftInDb).toEqual([]);
    expect(leftInFiles).toEqual([]);
    // The scan itself works: the originals are found in the input snapshot's files.
    const inFiles = await allFileBytes(inDir);
    expect([...originals].filter((v) => !found(inFiles, v))).toEqual([]);
  });

  it('never writes the salt into the output directory, and records the rules checksum in the manifest', async () => {
    for (const dir of [outA]) {
      const files = await allFileBytes(dir);
      expect(files.includes(Buffer.from(SALT_A))).toBe(false);
      expect(files.includes(Buffer.from(Buffer.from(SALT_A).toString('hex')))).toBe(false);
    }
    const m = await readManifest(outA);
    expect(m.anonymized).toMatchObject({ rulesChecksum: defaults.checksum, source: (await readManifest(inDir)).id });
    expect(JSON.stringify(m)).not.toContain(SALT_A);
    const report = YAML.parse(await fsp.readFile(path.join(outA, REPORT_NAME), 'utf8')) as AnonymizationReport;
    expect(report.rulesChecksum).toBe(defaults.checksum);
    expect(report.columns.find((c) => c.table === 'glpi_users' && c.column === 'name')).toMatchObject({ method: 'pseudonym', rowsChanged: 3, status: 'anonymized' });
    // Every data file is listed and intact; the report beside the manifest is accepted by verify.
    const v = await verifySnapshot(outA);
    expect(v.problems).toEqual([]);
  });
});

describe('anonymize: consistency and what the upgrade needs', () => {
  it('maps the same login, host, device id, serial, MAC and IP to the same value across tables and databases (HMAC-SHA256)', async () => {
    const names = { glpi: `${glpiDb}_ag`.slice(0, 64), ocs: `${ocsDb}_ao`.slice(0, 64) };
    const login = `user-${digestHex(SALT_A, 'login', LOGIN).slice(0, 16)}`;
    const u = await one<{ name: string }>(`SELECT name FROM \`${names.glpi}\`.glpi_users WHERE id = 1`);
    expect(u.name).toBe(login);
    const c = await one<{ contact: string; name: string; serial: string }>(`SELECT contact, name, serial FROM \`${names.glpi}\`.glpi_computers WHERE id = 1`);
    expect(c.contact).toBe(login);
    const h = await one<{ USERID: string; NAME: string; DEVICEID: string; IPADDR: string }>(`SELECT USERID, NAME, DEVICEID, IPADDR FROM \`${names.ocs}\`.hardware WHERE id = 1`);
    expect(h.USERID).toBe(login.toUpperCase()); // upper case in, upper case out: same value under the _ci collations
    expect(h.NAME.toLowerCase()).toBe(c.name);
    expect(c.name).toMatch(/^pc-[0-9a-f]{16}$/);
    const a = await one<{ USERID: string }>(`SELECT USERID FROM \`${names.ocs}\`.accesslog WHERE id = 1`);
    expect(a.USERID).toBe(login);
    const link = await one<{ ocs_deviceid: string }>(`SELECT ocs_deviceid FROM \`${names.glpi}\`.glpi_ocslinks WHERE id = 1`);
    expect(link.ocs_deviceid.toLowerCase()).toBe(h.DEVICEID.toLowerCase());
    const b = await one<{ SSN: string }>(`SELECT SSN FROM \`${names.ocs}\`.bios WHERE id = 1`);
    expect(b.SSN).toBe(c.serial);
    const n = await one<{ MACADDR: string; IPADDRESS: string }>(`SELECT MACADDR, IPADDRESS FROM \`${names.ocs}\`.networks WHERE id = 1`);
    const p = await one<{ mac: string; ip: string }>(`SELECT mac, ip FROM \`${names.glpi}\`.glpi_networkports WHERE id = 1`);
    expect(n.MACADDR).toMatch(/^02(:[0-9A-F]{2}){5}$/);
    expect(p.mac).toBe(n.MACADDR.toLowerCase());
    expect(p.ip).toMatch(/^10\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
    expect(n.IPADDRESS).toBe(p.ip);
    expect(h.IPADDR).toBe(p.ip);
  });

  it('rewrites free text with the same values as the columns: a name, an e-mail, a phone, an IP and a MAC quoted in a ticket', async () => {
    const names = { glpi: `${glpiDb}_ag`.slice(0, 64), ocs: `${ocsDb}_ao`.slice(0, 64) };
    const u = await one<{ realname: string; phone: string }>(`SELECT realname, phone FROM \`${names.glpi}\`.glpi_users WHERE id = 1`);
    const e = await one<{ email: string }>(`SELECT email FROM \`${names.glpi}\`.glpi_useremails WHERE id = 1`);
    const p = await one<{ ip: string; mac: string }>(`SELECT ip, mac FROM \`${names.glpi}\`.glpi_networkports WHERE id = 2`);
    const t = await one<{ content: string; ts: string }>(`SELECT content, ts FROM \`${names.glpi}\`.glpi_tickets WHERE id = 1`);
    expect(u.realname).toMatch(/^Nom-[0-9a-f]{16}$/);
    expect(e.email).toMatch(/^u[0-9a-f]{12}@example\.invalid$/);
    expect(t.content).toBe(`&lt;p&gt;glpi_tickets.content 1 : ${u.realname} &lt;${e.email}&gt;, tél. ${u.phone}, poste ${p.ip} (${p.mac}).&lt;/p&gt;`);
    // The same in OCS's free fields, and the ON UPDATE timestamp of the ticket is kept.
    const a = await one<{ f: string }>(`SELECT fields_3 AS f FROM \`${names.ocs}\`.accountinfo WHERE id = 1`);
    expect(a.f).toContain(`${u.realname} &lt;${e.email}&gt;, tél. ${u.phone}, poste ${p.ip} (${p.mac})`);
    expect(t.ts).toBe('2012-01-01 00:00:00');
    const report = resultA.report.columns.find((c) => c.table === 'glpi_tickets' && c.column === 'content')!;
    expect(report).toMatchObject({ method: 'scrub', rowsChanged: 3, replacements: { identity: 3, email: 3, phone: 3, ipv4: 3, mac: 3 } });
  });

  it('keeps keys, types, row counts, NULLs, empty strings, kept values, duplicates and untouched data', async () => {
    const orig = await restoreInto(inDir, 'i');
    const anon = { glpi: `${glpiDb}_ag`.slice(0, 64), ocs: `${ocsDb}_ao`.slice(0, 64) };
    for (const role of ['glpi', 'ocs'] as const) {
      const [tables] = await root.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [orig[role]]);
      for (const { t } of tables as Array<{ t: string }>) {
        const [[a]] = (await root.query(`SHOW CREATE TABLE \`${orig[role]}\`.\`${t}\``)) as unknown as [[Record<string, string>]];
        const [[b]] = (await root.query(`SHOW CREATE TABLE \`${anon[role]}\`.\`${t}\``)) as unknown as [[Record<string, string>]];
        expect(b['Create Table'].replace(/AUTO_INCREMENT=\d+ /, ''), t).toBe(a['Create Table'].replace(/AUTO_INCREMENT=\d+ /, ''));
        const [cols] = await root.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [orig[role], t]);
        const shape = (db: string) =>
          `SELECT ${(cols as Array<{ c: string }>).map((x) => `SUM(\`${x.c}\` IS NULL) AS \`n_${x.c}\`, SUM(\`${x.c}\` = '') AS \`e_${x.c}\``).join(', ')}, COUNT(*) AS cnt, GROUP_CONCAT(${pkOf(t)} ORDER BY 1) AS ids FROM \`${db}\`.\`${t}\``;
        expect(await one(shape(anon[role])), t).toEqual(await one(shape(orig[role])));
      }
    }
    // Kept values, double-encoded text in non-personal columns, ON UPDATE timestamps.
    expect((await one<{ name: string }>(`SELECT name FROM \`${anon.glpi}\`.glpi_users WHERE id = 6`)).name).toBe('glpi');
    expect((await one<{ DEVICEID: string }>(`SELECT DEVICEID FROM \`${anon.ocs}\`.hardware WHERE id = 6`)).DEVICEID).toBe('_SYSTEMGROUP_');
    expect((await one<{ mac: string }>(`SELECT mac FROM \`${anon.glpi}\`.glpi_networkports WHERE id = 6`)).mac).toBe('00:00:00:00:00:00');
    // The non-personal column of every rule table (double-encoded text) is byte-identical, row by row.
    for (const role of ['glpi', 'ocs'] as const) {
      for (const t of new Set(defaults.rules.filter((r) => r.database === role).map((r) => r.table))) {
        const pk = pkOf(t);
        const q = `SELECT COUNT(*) AS n FROM \`${anon[role]}\`.\`${t}\` a JOIN \`${orig[role]}\`.\`${t}\` o USING (${pk}) WHERE BINARY a.keepme = BINARY o.keepme`;
        expect(Number((await one<{ n: string }>(q)).n), t).toBe(6);
      }
    }
    expect(Number((await one<{ n: string }>(`SELECT COUNT(*) AS n FROM \`${anon.glpi}\`.glpi_users WHERE BINARY keepme = BINARY ?`, [DOUBLE_ENCODED])).n)).toBe(6);
    expect((await one<{ ts: string }>(`SELECT MIN(ts) AS ts FROM \`${anon.glpi}\`.glpi_tickets`)).ts).toBe('2012-01-01 00:00:00');
    // Duplicates stay duplicates (two computers with one serial), distinct stays distinct.
    const [serials] = await root.query(`SELECT serial FROM \`${anon.glpi}\`.glpi_computers WHERE id IN (1, 2, 3) ORDER BY id`);
    const s = (serials as Array<{ serial: string }>).map((x) => x.serial);
    expect(s[0]).toBe(s[1]);
    expect(s[2]).not.toBe(s[0]);
    // Lengths: a varchar(8) gets a truncated pseudonym; char(40) a 40-digit hex.
    const ur = await one<{ registration_number: string; password: string }>(`SELECT registration_number, password FROM \`${anon.glpi}\`.glpi_users WHERE id = 2`);
    expect(ur.registration_number).toMatch(/^MAT-[0-9a-f]{4}$/);
    expect(ur.password).toMatch(/^[0-9a-f]{40}$/);
    // The latin1 column holding UTF-8 bytes now holds ASCII; its charset is unchanged (SHOW CREATE TABLE above).
    // (with the marker that keeps the audit's "UTF-8 bytes in a latin1 column" finding: the bytes of "é").
    const wg = await one<{ w: Buffer }>(`SELECT CAST(WORKGROUP AS BINARY) AS w FROM \`${anon.ocs}\`.hardware WHERE id = 2`);
    expect(Buffer.from(wg.w).toString('latin1')).toMatch(/^dom-[0-9a-f]{16} \xc3\xb4$/);
    // Tables without personal data are byte-identical (same CHECKSUM TABLE as the input snapshot).
    const inSums = tableChecksums(await readManifest(inDir));
    const outSums = tableChecksums(resultA.manifest);
    expect(outSums.get('glpi.glpi_softwares')).toBe(inSums.get('glpi.glpi_softwares'));
    expect(outSums.get('ocs.softwares')).toBe(inSums.get('ocs.softwares'));
    expect(outSums.get('glpi.glpi_users')).not.toBe(inSums.get('glpi.glpi_users'));
  });

  it('is deterministic for a salt and different for another salt', async () => {
    await anonymizeSnapshot(inDir, outA2, { salt: SALT_A, instance: server.dsn, jobs: 2 });
    await anonymizeSnapshot(inDir, outB, { salt: SALT_B, instance: server.dsn, jobs: 2 });
    const a = tableChecksums(resultA.manifest);
    const a2 = tableChecksums(await readManifest(outA2));
    const b = tableChecksums(await readManifest(outB));
    expect(a2).toEqual(a);
    for (const t of ['glpi.glpi_users', 'ocs.hardware', 'ocs.networks', 'glpi.glpi_tickets']) expect(b.get(t), t).not.toBe(a.get(t));
    expect(b.get('glpi.glpi_softwares')).toBe(a.get('glpi.glpi_softwares'));
    const filesB = await allFileBytes(outB);
    expect(filesB.includes(Buffer.from(SALT_B))).toBe(false);
  });

  it('refuses a non-empty output directory before doing any work', async () => {
    await expect(anonymizeSnapshot(inDir, outA, { salt: SALT_A, instance: server.dsn })).rejects.toMatchObject({ exitCode: ExitCode.USAGE });
  });
});

describe('anonymize: only the tables with rules are rewritten, the others are copied', () => {
  const filesOf = (m: Manifest) => new Map(manifestFiles(m).map((f) => [f.path, f.sha256]));

  it('copies the files of tables without rules byte for byte, re-snapshots the others, and merges the manifests', async () => {
    const input = await readManifest(inDir);
    const out = resultA.manifest;
    expect(out.id).toBe(computeSnapshotId(manifestFiles(out)));
    expect(out.id).not.toBe(input.id);
    const inFiles = filesOf(input);
    const ruleTables = new Set(defaults.rules.map((r) => `${r.database}.${r.table}`));
    for (const db of out.databases) {
      const orig = input.databases.find((d) => d.role === db.role)!;
      expect(db.tables.map((t) => t.name)).toEqual(orig.tables.map((t) => t.name));
      for (const t of db.tables) {
        const o = orig.tables.find((x) => x.name === t.name)!;
        expect(t.rows, t.name).toBe(o.rows);
        if (ruleTables.has(`${db.role}.${t.name}`)) {
          expect(t.digest ?? t.checksum, t.name).not.toBe(o.digest ?? o.checksum);
          // Rewritten with its MyISAM indexes left disabled (restore keepKeysDisabled): the structure written is
          // the input's, every index included (only the comment line names the throwaway database).
          const structure = async (dir: string, file: string) =>
            zlib
              .gunzipSync(await fsp.readFile(path.join(dir, file)))
              .toString('utf8')
              .split('\n')
              .slice(1)
              .join('\n');
          expect(await structure(outA, t.files[0].path), t.name).toBe(await structure(inDir, o.files[0].path));
        } else {
          expect(t, t.name).toEqual(o);
          for (const f of t.files) expect(await fsp.readFile(path.join(outA, f.path))).toEqual(await fsp.readFile(path.join(inDir, f.path)));
        }
      }
    }
    expect(resultA.tables).toEqual({ rewritten: ruleTables.size, copied: 2 });
    // Nothing left behind by the work (staging, partial snapshot, marker): verify lists no extra file.
    expect((await verifySnapshot(outA)).problems).toEqual([]);
    expect(fs.readdirSync(outA).sort()).toEqual([REPORT_NAME, 'glpi', 'manifest.yaml', 'ocs']);
    expect(inFiles.size).toBeGreaterThan(0);
  });

  it('carries views and triggers over unchanged, and no trigger fires during the rewrite', async () => {
    const db = await server.freshDatabase('glpitrg');
    await root.query(`CREATE TABLE \`${db}\`.glpi_users (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(255), realname varchar(255)) ENGINE=MyISAM DEFAULT CHARSET=utf8`);
    await root.query(`CREATE TABLE \`${db}\`.audit_trail (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, what varchar(255)) ENGINE=MyISAM DEFAULT CHARSET=utf8`);
    await root.query(`INSERT INTO \`${db}\`.glpi_users (name, realname) VALUES ('jdupontzq', 'Dupont'), ('mmartinzq', 'Martin')`);
    const c = await server.connect();
    try {
      await c.query(`USE \`${db}\``);
      await c.query('CREATE VIEW v_users AS SELECT id, name FROM glpi_users');
      await c.query("CREATE TRIGGER users_au AFTER UPDATE ON glpi_users FOR EACH ROW INSERT INTO audit_trail (what) VALUES (CONCAT('was ', OLD.name))");
    } finally {
      await c.end();
    }
    const dir = path.join(tmp, 'trg-in');
    const out = path.join(tmp, 'trg-out');
    const input = await takeSnapshot({ sources: [{ role: 'glpi', dsn: withDatabase(server.dsn, db) }], outDir: dir, jobs: 2 });
    const r = await anonymizeSnapshot(dir, out, { salt: SALT_A, instance: server.dsn, jobs: 2 });
    expect(r.tables).toEqual({ rewritten: 1, copied: 1 });
    const [gi, go] = [input.databases[0], r.manifest.databases[0]];
    expect(go.views).toEqual(gi.views);
    expect(go.triggers).toEqual(gi.triggers);
    expect(go.tables.find((t) => t.name === 'audit_trail')).toEqual(gi.tables.find((t) => t.name === 'audit_trail'));
    const restored = `${db}_r`;
    await restoreSnapshot(out, server.dsn, { databases: { glpi: restored }, jobs: 2 });
    const [users] = await root.query(`SELECT name FROM \`${restored}\`.v_users ORDER BY id`);
    expect((users as Array<{ name: string }>).map((u) => u.name)).toEqual([
      `user-${digestHex(SALT_A, 'login', 'jdupontzq').slice(0, 16)}`,
      `user-${digestHex(SALT_A, 'login', 'mmartinzq').slice(0, 16)}`,
    ]);
    expect(Number((await one<{ n: string }>(`SELECT COUNT(*) AS n FROM \`${restored}\`.audit_trail`)).n)).toBe(0);
    expect(Number((await one<{ n: string }>(`SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`, [restored])).n)).toBe(1);
  });

  it('reports the rules of a table that is not rewritten (all its rules switched to keep) from its schema', async () => {
    const f = path.join(tmp, 'keep-bios.yaml');
    const keepBios = defaults.rules.filter((r) => r.database === 'ocs' && r.table === 'bios').map((r) => ({ database: r.database, table: r.table, column: r.column, method: 'keep' }));
    await fsp.writeFile(f, YAML.stringify({ format: 1, rules: [...keepBios, { database: 'ocs', table: 'bios', column: 'NOSUCHCOL', method: 'keep' }] }));
    const out = path.join(tmp, 'keep-bios-out');
    const r = await anonymizeSnapshot(inDir, out, { salt: SALT_A, rules: loadRules({ overrideFile: f }), instance: server.dsn, jobs: 2 });
    const bios = r.report.columns.filter((c) => c.table === 'bios');
    expect(bios.length).toBe(keepBios.length + 1);
    for (const c of bios) expect(c, c.column).toMatchObject(c.column === 'NOSUCHCOL' ? { status: 'column-absent', rowsChanged: 0 } : { status: 'kept', rowsChanged: 0, rows: 6 });
    expect(r.tables.copied).toBe(3);
    const input = await readManifest(inDir);
    const ob = r.manifest.databases.find((d) => d.role === 'ocs')!.tables.find((t) => t.name === 'bios');
    expect(ob).toEqual(input.databases.find((d) => d.role === 'ocs')!.tables.find((t) => t.name === 'bios'));
    // The other tables are anonymized exactly as with the default rules.
    const a = tableChecksums(resultA.manifest);
    for (const [k, v] of tableChecksums(r.manifest)) if (k !== 'ocs.bios') expect(v, k).toBe(a.get(k));
  });

  it('re-encodes every table when the input data files are in another encoding than this version writes', async () => {
    const dir = path.join(tmp, 'other-format');
    fs.cpSync(inDir, dir, { recursive: true });
    const m = await readManifest(dir);
    // A data format this version does not write (as after a change of the snapshot encoder).
    (m as unknown as { data: Record<string, unknown> }).data = { ...m.data, variant: 'older' };
    await writeManifest(dir, m);
    const out = path.join(tmp, 'other-format-out');
    const r = await anonymizeSnapshot(dir, out, { salt: SALT_A, instance: server.dsn, jobs: 2 });
    expect(r.tables.copied).toBe(0);
    expect(r.manifest.data).toEqual(resultA.manifest.data);
    expect(tableChecksums(r.manifest)).toEqual(tableChecksums(resultA.manifest));
    expect((await verifySnapshot(out)).problems).toEqual([]);
    await restoreSnapshot(out, server.dsn, { databases: { glpi: `${glpiDb}_ofg`.slice(0, 64), ocs: `${ocsDb}_ofo`.slice(0, 64) }, jobs: 2 });
  });

  it('fails on a damaged file of a table it copies (exit 5) and leaves no half-written snapshot', async () => {
    const dir = path.join(tmp, 'damaged');
    fs.cpSync(inDir, dir, { recursive: true });
    const m = await readManifest(dir);
    const soft = m.databases.find((d) => d.role === 'ocs')!.tables.find((t) => t.name === 'softwares')!;
    const file = path.join(dir, soft.files[1].path);
    const bytes = await fsp.readFile(file);
    bytes[bytes.length - 10] ^= 0xff;
    await fsp.writeFile(file, bytes);
    const out = path.join(tmp, 'damaged-out');
    await expect(anonymizeSnapshot(dir, out, { salt: SALT_A, instance: server.dsn, jobs: 2 })).rejects.toMatchObject({
      exitCode: ExitCode.VERIFICATION_FAILED,
      message: expect.stringContaining(`${soft.files[1].path}: content changed`),
    });
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('anonymize: rules and the command line', () => {
  it('lets a rules file override a default, add a rule and switch one off; rejects inconsistent namespaces', async () => {
    const f = path.join(tmp, 'rules.yaml');
    await fsp.writeFile(
      f,
      YAML.stringify({
        format: 1,
        rules: [
          { database: 'glpi', table: 'glpi_tickets', column: 'content', method: 'keep' },
          { database: 'glpi', table: 'glpi_users', column: 'comment', method: 'fixed', value: 'n/a' },
          { database: 'glpi', table: 'glpi_plugin_x', column: 'owner', method: 'pseudonym', namespace: 'login', prefix: 'user-', keep_values: ['glpi', 'post-only', 'tech', 'normal'] },
        ],
      }),
    );
    const rs = loadRules({ overrideFile: f });
    expect(rs.rules.find((r) => r.table === 'glpi_tickets' && r.column === 'content')?.method).toBe('keep');
    expect(rs.rules.find((r) => r.table === 'glpi_plugin_x')).toBeDefined();
    expect(rs.checksum).not.toBe(defaults.checksum);
    await fsp.writeFile(f, YAML.stringify({ format: 1, rules: [{ database: 'ocs', table: 't', column: 'c', method: 'pseudonym', namespace: 'login', prefix: 'x-' }] }));
    expect(() => loadRules({ overrideFile: f })).toThrow(/share namespace "login"/);
    await fsp.writeFile(f, YAML.stringify({ format: 1, rules: [{ database: 'ocs', table: 't', column: 'c', method: 'hash', salt: 'x' }] }));
    expect(() => loadRules({ overrideFile: f })).toThrow(/rules\[0\]\.salt: unknown key \(expected one of database, table, column/);
  });

  it('the command: salt from the environment only (missing → exit 2, one line), --json report, never prints the salt', async () => {
    const out = path.join(tmp, 'cli-out');
    const missing = await runCli(['anonymize', inDir, '-o', out], { env: { GOU_ANONYMIZE_SALT: undefined } });
    expect(missing.exitCode).toBe(ExitCode.USAGE);
    expect(missing.stderr).toMatch(/^error: no anonymization salt: set the environment variable GOU_ANONYMIZE_SALT/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const noSuch = await runCli(['anonymize', path.join(tmp, 'nope'), '-o', out, '--salt-env', 'MY_SALT'], { env: { MY_SALT: SALT_A } });
    expect(noSuch.exitCode).toBe(ExitCode.NOT_FOUND);
    const r = await runCli(['anonymize', inDir, '-o', out, '--salt-env', 'MY_SALT', '--json', '--jobs', '2'], { env: { MY_SALT: SALT_A } });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { report: AnonymizationReport; outDir: string };
    expect(doc.report.totals.columns).toBe(resultA.report.totals.columns);
    expect(r.stdout + r.stderr).not.toContain(SALT_A);
    // Same salt through the embedded instance → the same data as through the test server.
    expect(tableChecksums(await readManifest(out))).toEqual(tableChecksums(resultA.manifest));
    const help = await runCli(['anonymize', '--help']);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/GOU_ANONYMIZE_SALT/);
  });
});

describe('anonymize: default rules against the reference schemas', () => {
  const GLPI_SQL = sharedPath('reference', 'glpi', 'glpi-0.83.8-empty.sql');
  const OCS_SQL = sharedPath('reference', 'ocs', 'ocsbase_new-2.1.sql');

  function columnsByTable(sql: string): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const m of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?`?(\w+)`?\s*\(([\s\S]*?)\n\)\s*ENGINE/gi)) {
      const cols = new Set<string>();
      for (const line of m[2].split('\n')) {
        const c = /^\s*`?(\w+)`?\s+[a-z]/i.exec(line);
        if (c && !/^(PRIMARY|UNIQUE|KEY|INDEX|FULLTEXT|CONSTRAINT)$/i.test(c[1])) cols.add(c[1].toLowerCase());
      }
      out.set(m[1].toLowerCase(), cols);
    }
    return out;
  }

  it.skipIf(!GLPI_SQL || !OCS_SQL)(`every default rule names a real GLPI 0.83.8 / OCS 2.1 column (${SHARED_MISSING_REASON} when skipped)`, () => {
    const schemas = {
      glpi: columnsByTable(fs.readFileSync(GLPI_SQL!, 'latin1')),
      ocs: columnsByTable(fs.readFileSync(OCS_SQL!, 'latin1')),
    };
    expect(schemas.glpi.size).toBeGreaterThan(200);
    expect(schemas.ocs.size).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const r of defaults.rules) {
      const cols = schemas[r.database].get(r.table.toLowerCase());
      if (!cols) missing.push(`${r.database}.${r.table}`);
      else if (!r.column.endsWith('*') && !cols.has(r.column.toLowerCase())) missing.push(`${r.database}.${r.table}.${r.column}`);
    }
    expect(missing).toEqual([]);
  });
});

describe('anonymize: the generated fixture with every hazard', () => {
  it('gives the same hazard counts and the same audit findings after anonymization', async () => {
    const { generateFixtures, writeFixtureSnapshot, measureHazards } = await import('../src/synthetic/index.ts');
    const { runAudit } = await import('../src/audit/index.ts');
    const gen = await generateFixtures({ conn: root, dsn: server.dsn }, { seed: 7, computers: 10, hazards: 'all', glpiDb: `${glpiDb}_fg`, ocsDb: `${ocsDb}_fo` });
    const fxIn = path.join(tmp, 'fx-in');
    const fxOut = path.join(tmp, 'fx-out');
    await writeFixtureSnapshot(server.dsn, gen, fxIn, { jobs: 2 });
    const r = await anonymizeSnapshot(fxIn, fxOut, { salt: SALT_A, instance: server.dsn, jobs: 2 });
    expect(r.manifest.generated).toEqual((await readManifest(fxIn)).generated);
    expect(r.report.totals.rowsChanged).toBeGreaterThan(100);
    const before = await restoreInto(fxIn, 'fb');
    const after = await restoreInto(fxOut, 'fa');
    expect(await measureHazards(root, after.glpi, after.ocs)).toEqual(await measureHazards(root, before.glpi, before.ocs));
    const audit = async (names: { glpi: string; ocs: string }) => {
      const f = await runAudit({ connections: { glpi: { conn: root, database: names.glpi }, ocs: { conn: root, database: names.ocs } } });
      return {
        findings: f.findings.map((x) => ({ id: x.id, severity: x.severity, count: x.count })).sort((a, b) => a.id.localeCompare(b.id)),
        checks: f.checksRun.map((c) => `${c.id}:${c.status}`).sort(),
      };
    };
    const a = await audit(before);
    expect(a.findings.length).toBeGreaterThan(5);
    expect(await audit(after)).toEqual(a);
  });
});
