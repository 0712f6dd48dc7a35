/**
 * The OCS step executors on a real MariaDB, with real OCS SQL files: Debian's ocsinventory-reports package
 * (fetched with apt-get download into a cache under os.tmpdir(); skipped when apt-get cannot) and
 * ../shared/reference/ocs (skipped when absent). The 2.1 starting database is OCS 2.1's own fresh-install
 * script from ../shared (skipped when absent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { sharedPath } from './helpers/shared.ts';
import { DEBIAN_OCS_CACHE } from './helpers/dist.ts';
import { withDatabase } from '../src/db/dsn.ts';
import { connect } from '../src/db/connect.ts';
import { splitSqlStatements } from '../src/db/sql-script.ts';
import { describeSchema, diffSchemas, formatDifference } from '../src/db/schema.ts';
import { markAsTestInstance, MARKER_SCHEMA } from '../src/db/interlock.ts';
import { InterlockError, InterruptedError, MissingDependencyError } from '../src/errors.ts';
import { detectOcsDist, obtainDebianOcsDist, type OcsDistribution } from '../src/distributions/ocs.ts';
import { ocsBridgeExecutor, ocsPhpChangeExecutor, ocsUpdateFileExecutor } from '../src/rehearse/executors/ocs.ts';
import { applyOcsSession, readGuiVersion } from '../src/rehearse/executors/ocs-sql.ts';
import { ocsStepTables } from '../src/rehearse/executors/index.ts';
import type { ExecutorContext, ExecutorResult, StatementError } from '../src/rehearse/executors/types.ts';
import type { PlanStep, StepRunner } from '../src/plan/plan-types.ts';
import { englishIn, typographyFaults } from './helpers/french.ts';
import { literal } from '../src/i18n/messages.ts';
import { en, fr } from './helpers/reason.ts';

const OCS21 = sharedPath('reference', 'ocs', 'ocsbase_new-2.1.sql');
const REF_OCS = sharedPath('reference', 'ocs');

let server: TestServer;
let root: Connection;
let deb: OcsDistribution | undefined;
let debMissing = '';
let runDir: string;

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-exec-ocs-'));
  try {
    deb = await obtainDebianOcsDist(DEBIAN_OCS_CACHE);
  } catch (err) {
    if (!(err instanceof MissingDependencyError)) throw err;
    debMissing = err.message;
  }
});
afterAll(async () => {
  await root?.end();
  await server?.stop();
  if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
});

function step(id: string, runner: StepRunner, from = '', to = ''): PlanStep {
  return { id, product: 'ocs', database: 'ocs', title: literal(id, id), runner, from, to, requires: {}, before: [], expected: {}, hazards: [], explanation: literal('', '') };
}

function ctx(db: string, dists: OcsDistribution[]): ExecutorContext {
  return { conn: root, dsn: server.dsn, databases: { ocs: db }, runDir, evidenceDir: path.join(runDir, 'evidence', db), dists: { ocs: dists }, log: () => undefined };
}

/** A fresh OCS 2.1 database from OCS 2.1's fresh-install script (utf8/utf8_bin like install.php). */
async function ocs21(label: string, withData: boolean): Promise<string> {
  const db = await server.freshDatabase(label);
  await root.query(`ALTER DATABASE \`${db}\` CHARACTER SET utf8 COLLATE utf8_bin`);
  const c = await connect(withDatabase(server.dsn, db));
  await applyOcsSession(c);
  for (const s of splitSqlStatements(fs.readFileSync(OCS21 as string, 'utf8'))) await c.query(s);
  if (withData) {
    await c.query("INSERT INTO hardware (ID, DEVICEID, NAME, LASTDATE) VALUES (101, 'PC-A-2014-01-01', 'PC-A', NOW()), (102, 'PC-B-2014-01-01', 'PC-B', NOW())");
    await c.query("INSERT INTO accountinfo (HARDWARE_ID, TAG) VALUES (101, 'SITE-A'), (102, 'SITE-B')");
    await c.query(`INSERT INTO softwares (HARDWARE_ID, PUBLISHER, NAME, VERSION) VALUES
      (101, 'Mozilla', 'Firefox', '115.0'), (101, 'Microsoft', 'Office', '2010'),
      (102, NULL, 'Homemade tool', '1.0'), (102, 'Acme', 'Agent', NULL), (102, 'Mozilla', 'Firefox', '115.0')`);
    await c.query("UPDATE config SET IVALUE = 1 WHERE NAME = 'TRACE_DELETED'");
    await c.query(
      "INSERT INTO accountinfo_config (NAME_ACCOUNTINFO, TYPE, NAME, ID_TAB, COMMENT, SHOW_ORDER, ACCOUNT_TYPE) VALUES ('fields_3', 4, 'CHECK', 1, 'c', 3, 'COMPUTERS'), ('fields_4', 6, 'DATE', 1, 'd', 4, 'COMPUTERS')",
    );
  }
  await c.end();
  return db;
}

interface ChainResult {
  results: Array<{ v: number; r: ExecutorResult }>;
  expected: Array<Pick<StatementError, 'index' | 'code'> & { v: number }>;
  failures: StatementError[];
}

async function chain(db: string, dists: OcsDistribution[], to: number, before?: (v: number) => Promise<void>): Promise<ChainResult> {
  const c = ctx(db, dists);
  const results: ChainResult['results'] = [];
  const bridge = await ocsBridgeExecutor.execute(step('ocs-bridge', { kind: 'ocs-bridge', toGuiVersion: 7006 }) as never, c);
  results.push({ v: 7006, r: bridge });
  if (bridge.status !== 'passed') return summarise(results);
  for (let v = 7007; v <= to; v++) {
    await before?.(v);
    const r = await ocsUpdateFileExecutor.execute(step(`ocs-${v}`, { kind: 'ocs-update-file', guiVersion: v, file: `files/update/${v}.sql` }) as never, c);
    results.push({ v, r });
    if (r.status !== 'passed') break;
  }
  return summarise(results);
}

/**
 * Every executor result with a reason has its French twin (the French dossier prints it): French prose and
 * typography once the server's own messages (quoted as is) are taken out, and not the English text.
 */
function expectFrenchReason(r: ExecutorResult, label = ''): void {
  if (en(r) === undefined) return;
  expect(fr(r), `${label} ${en(r)}`).toEqual(expect.any(String));
  expect(fr(r), label).not.toBe(en(r));
  const prose = (r.errors ?? []).reduce((t, e) => t.split(e.message).join(' '), fr(r)!);
  expect(englishIn(prose), `${label} ${fr(r)}`).toEqual([]);
  expect(typographyFaults(prose), `${label} ${fr(r)}`).toEqual([]);
}

function summarise(results: ChainResult['results']): ChainResult {
  const all = results.flatMap(({ v, r }) => (r.errors ?? []).map((e) => ({ ...e, v })));
  return {
    results,
    expected: all.filter((e) => e.classification === 'expected').map(({ v, index, code }) => ({ v, index, code })),
    failures: all.filter((e) => e.classification === 'failure'),
  };
}

describe('OCS distributions', () => {
  it('detects the three layouts, lists update files by number with sha256, and the newest reachable version', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-dist-'));
    try {
      const rel = path.join(base, 'rel');
      fs.mkdirSync(path.join(rel, 'files', 'update'), { recursive: true });
      for (const v of [7007, 7008, 7009, 7011]) fs.writeFileSync(path.join(rel, 'files', 'update', `${v}.sql`), `SELECT ${v};`);
      fs.writeFileSync(path.join(rel, 'files', 'update', 'README'), 'x');
      fs.writeFileSync(path.join(rel, 'var.php'), "<?php\ndefine('GUI_VER', '7008');\ndefine('GUI_VER_SHOW', '9.9');\n");
      fs.writeFileSync(path.join(rel, 'files', 'ocsbase.sql'), 'DROP TABLE IF EXISTS `hardware`;\nCREATE TABLE hardware (ID int);\n');
      const d = detectOcsDist(rel);
      expect(d.layout).toBe('release');
      expect(d.updates.map((u) => u.guiVersion)).toEqual([7007, 7008, 7009, 7011]);
      expect(d.updates[0].sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(d.release).toBe('9.9');
      // var.php's GUI_VER caps what update.php would apply.
      expect(d.newestReachable).toBe(7008);
      expect(d.base?.kind).toBe('destructive-dump');

      const debDir = path.join(base, 'deb');
      const inner = path.join(debDir, 'usr', 'share', 'ocsinventory-reports');
      fs.mkdirSync(path.join(inner, 'files', 'update'), { recursive: true });
      for (const v of [7007, 7008, 7009, 7011]) fs.writeFileSync(path.join(inner, 'files', 'update', `${v}.sql`), `SELECT ${v};`);
      const dd = detectOcsDist(debDir);
      expect(dd.layout).toBe('debian');
      // A gap (no 7010) stops the reachable range.
      expect(dd.newestReachable).toBe(7009);

      const ref = path.join(base, 'ref');
      fs.mkdirSync(path.join(ref, 'update-9.9.9'), { recursive: true });
      fs.writeFileSync(path.join(ref, 'update-9.9.9', '7007.sql'), 'SELECT 1;');
      fs.writeFileSync(path.join(ref, 'ocsbase-2.2.sql'), "DELETE FROM config WHERE name='GUI_VERSION';\ninsert into config values ('GUI_VERSION', 0, '7006', 'x');\n");
      const rd = detectOcsDist(ref);
      expect(rd).toMatchObject({ layout: 'reference', release: '9.9.9', newestReachable: 7007 });
      expect(rd.base?.kind).toBe('bridge-7006');

      expect(() => detectOcsDist(path.join(base, 'nowhere'))).toThrow(/not a directory/);
      fs.mkdirSync(path.join(base, 'empty'));
      expect(() => detectOcsDist(path.join(base, 'empty'))).toThrow(/not an OCS distribution/);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it("obtains Debian's ocsinventory-reports package: 2.11.1, updates 7007…7069, and its ocsbase.sql is a destructive dump", (t) => {
    if (!deb) return t.skip(`Debian package unavailable: ${debMissing}`);
    expect(deb.layout).toBe('debian');
    expect(deb.guiVer).toBe(7069);
    expect(deb.release).toBe('2.11.1');
    expect(deb.updates[0].guiVersion).toBe(7007);
    expect(deb.newestReachable).toBe(7069);
    expect(deb.base?.kind).toBe('destructive-dump');
  });
});

describe('OCS 2.1 → 2.11.1 with Debian’s files and the tool’s own bridge', () => {
  it.skipIf(!OCS21)('takes a 2.1 database with data through every file with zero real failures, same expected errors as a pristine one, and reports 7037 losses', async (t) => {
    if (!deb) return t.skip(`Debian package unavailable: ${debMissing}`);
    const pristine = await chain(await ocs21('deb_pristine', false), [deb], 7069);
    const dataDb = await ocs21('deb_data', true);
    const withData = await chain(dataDb, [deb], 7069);

    for (const c of [pristine, withData]) {
      expect(c.failures).toEqual([]);
      expect(c.results.every(({ r }) => r.status === 'passed')).toBe(true);
      expect(c.results.at(-1)?.r.versionAfter).toBe('7069');
      // Each of the 64 results (bridge and every update file) has a reason and its French twin.
      for (const { v, r } of c.results) {
        expect(en(r), String(v)).toBeDefined();
        expectFrenchReason(r, String(v));
      }
    }
    expect(fr(withData.results[0].r)).toMatch(/^schéma de passage de l’outil, \d+ instructions : \d+ réussies, \d+ erreurs? attendues? \(déjà appliquées?\), 0 en échec$/);
    expect(fr(withData.results.find((x) => x.v === 7009)?.r)).toMatch(/^\d+ instructions : \d+ réussies, [1-9]\d* erreurs? attendues? \(déjà appliquées?\), 0 en échec$/);
    expect(withData.results[0].r.details?.source).toBe('tool');
    expect(withData.expected).toEqual(pristine.expected);
    // The repeated renames of 7069 and the already-present rows of 7009 are "already applied", not failures.
    expect(pristine.expected.map((e) => `${e.v}:${e.code}`)).toEqual(expect.arrayContaining(['7009:1062', '7069:1054']));

    const r7037 = withData.results.find((x) => x.v === 7037)?.r;
    expect(r7037?.rowsDeletedOnPurpose).toEqual([expect.objectContaining({ table: 'softwares', rows: 2 })]);
    expect(r7037?.details).toMatchObject({ softwaresBefore: 5, softwareAfter: 3 });
    const p7037 = pristine.results.find((x) => x.v === 7037)?.r;
    expect(p7037?.rowsDeletedOnPurpose?.[0]?.rows).toBe(0);

    const c = await connect(withDatabase(server.dsn, dataDb));
    expect(await readGuiVersion(c)).toBe(7069);
    const [hw] = await c.query('SELECT COUNT(*) AS n FROM hardware');
    expect(Number((hw as Array<{ n: number }>)[0].n)).toBe(2);
    await c.end();
    // Evidence files exist, relative to the run directory.
    expect(fs.existsSync(path.join(runDir, r7037?.evidence[0] ?? 'none'))).toBe(true);
  });

  it.skipIf(!OCS21)('stops at an injected real error, leaves GUI_VERSION unchanged, and does not run the statements after it', async (t) => {
    if (!deb) return t.skip(`Debian package unavailable: ${debMissing}`);
    const db = await ocs21('inject', false);
    const c = ctx(db, [deb]);
    expect((await ocsBridgeExecutor.execute(step('b', { kind: 'ocs-bridge', toGuiVersion: 7006 }) as never, c)).status).toBe('passed');
    // A copy of the real 7007.sql (outside the repository) with a broken statement inserted before its end.
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-broken-'));
    try {
      fs.mkdirSync(path.join(broken, 'files', 'update'), { recursive: true });
      const real = fs.readFileSync(deb.updates[0].file, 'utf8');
      fs.writeFileSync(path.join(broken, 'files', 'update', '7007.sql'), `ALTER TABLE no_such_table ADD COLUMN x INT;\n${real}`);
      const r = await ocsUpdateFileExecutor.execute(step('ocs-7007', { kind: 'ocs-update-file', guiVersion: 7007, file: '7007.sql' }) as never, ctx(db, [detectOcsDist(broken)]));
      expect(r.status).toBe('failed');
      expect(r.versionBefore).toBe('7006');
      expect(r.versionAfter).toBe('7006');
      expect(r.statements).toMatchObject({ ok: 0, failed: 1 });
      expect(r.errors?.[0]).toMatchObject({ index: 1, code: 1146, classification: 'failure' });
      expect(en(r)).toMatch(/statement 1 failed .*1146/);
      expect(fr(r)).toMatch(/^l’instruction 1 de 7007\.sql a échoué \(1146 .*\) ; GUI_VERSION laissée à 7006$/);
      expectFrenchReason(r, 'injected failure');
      // The same file without the injection then succeeds: nothing after the failure had run.
      const ok = await ocsUpdateFileExecutor.execute(step('ocs-7007', { kind: 'ocs-update-file', guiVersion: 7007, file: '7007.sql' }) as never, c);
      expect(ok.status).toBe('passed');
      expect(ok.statements?.failed).toBe(0);
      expect(ok.versionAfter).toBe('7007');
      expectFrenchReason(ok, 'after the injection');
      // Already applied: passed with nothing to do, in both languages.
      const again = await ocsUpdateFileExecutor.execute(step('ocs-7007', { kind: 'ocs-update-file', guiVersion: 7007, file: '7007.sql' }) as never, c);
      expect(again.status).toBe('passed');
      expect([en(again), fr(again)]).toEqual(['GUI_VERSION is already 7007: 7007.sql was applied before', 'GUI_VERSION vaut déjà 7007 : 7007.sql a déjà été appliqué']);
      // An aborted run stops before the first statement: InterruptedError, GUI_VERSION unchanged.
      const aborted = new AbortController();
      aborted.abort();
      await expect(ocsUpdateFileExecutor.execute(step('ocs-7008', { kind: 'ocs-update-file', guiVersion: 7008, file: '7008.sql' }) as never, { ...c, signal: aborted.signal })).rejects.toBeInstanceOf(
        InterruptedError,
      );
      const check = await connect(withDatabase(server.dsn, db));
      expect(await readGuiVersion(check)).toBe(7007);
      await check.end();
      // Out of order: 7009 on a 7007 database is refused.
      const skip = await ocsUpdateFileExecutor.execute(step('ocs-7009', { kind: 'ocs-update-file', guiVersion: 7009, file: '7009.sql' }) as never, c);
      expect(skip.status).toBe('failed');
      expect(en(skip)).toMatch(/applies to 7008 only/);
      expect(fr(skip)).toBe('GUI_VERSION vaut 7007 : 7009.sql ne s’applique qu’à 7008 (appliquer d’abord les fichiers intermédiaires)');
      expectFrenchReason(skip, 'out of order');
      const bridgeAgain = await ocsBridgeExecutor.execute(step('b', { kind: 'ocs-bridge', toGuiVersion: 7006 }) as never, c);
      expect(fr(bridgeAgain)).toBe('GUI_VERSION vaut déjà 7007 : aucun schéma de passage n’est nécessaire');
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('OCS 2.1 → 2.12.4 with ../shared/reference/ocs (official 2.2 bridge)', () => {
  it.skipIf(!OCS21 || !REF_OCS)('runs the official bridge and 7007…7081 with zero real failures and reports the batteries dropped by 7080', async () => {
    const ref = detectOcsDist(REF_OCS as string);
    expect(ref.base?.kind).toBe('bridge-7006');
    const db = await ocs21('ref_data', true);
    const c = await connect(withDatabase(server.dsn, db));
    const result = await chain(db, [ref], 7081, async (v) => {
      if (v === 7080) await c.query('INSERT INTO batteries (HARDWARE_ID, NAME) VALUES (101, "BAT0"), (102, "BAT1")');
    });
    await c.end();
    expect(result.failures).toEqual([]);
    expect(result.results.at(-1)?.r.versionAfter).toBe('7081');
    const bridge = result.results[0].r;
    expect(bridge.details?.source).toBe('official');
    expect(fr(bridge)).toMatch(/^schéma de passage officiel, \d+ instructions : /);
    for (const { v, r } of result.results) expectFrenchReason(r, String(v));
    expect(String(bridge.details?.warnings)).toMatch(/admin/);
    expect(result.results.find((x) => x.v === 7080)?.r.rowsDeletedOnPurpose).toEqual([expect.objectContaining({ table: 'batteries', rows: 2 })]);
    expect(result.results.find((x) => x.v === 7037)?.r.rowsDeletedOnPurpose?.[0]?.rows).toBe(2);
  });

  it.skipIf(!OCS21 || !REF_OCS)("the tool's own bridge gives the same information_schema as the official 2.2 bridge on a 2.1 database, and after 7081 too", async () => {
    const ref = detectOcsDist(REF_OCS as string);
    const official = await ocs21('br_official', true);
    const ours = await ocs21('br_ours', true);
    const c1 = ctx(official, [ref]);
    const c2 = ctx(ours, []);
    const b1 = await ocsBridgeExecutor.execute(step('b', { kind: 'ocs-bridge', toGuiVersion: 7006 }) as never, c1);
    const b2 = await ocsBridgeExecutor.execute(step('b', { kind: 'ocs-bridge', toGuiVersion: 7006 }) as never, c2);
    expect([b1.details?.source, b2.details?.source]).toEqual(['official', 'tool']);
    expect([b1.status, b2.status, b1.versionAfter, b2.versionAfter]).toEqual(['passed', 'passed', '7006', '7006']);
    const diff = diffSchemas(await describeSchema(root, official), await describeSchema(root, ours)).map(formatDifference);
    expect(diff).toEqual([]);
    // The same configuration rows (names and values) on both sides.
    const cfg = async (db: string) => (await root.query(`SELECT NAME, IVALUE, TVALUE FROM \`${db}\`.config ORDER BY NAME`))[0];
    expect(await cfg(ours)).toEqual(await cfg(official));
    // Running our bridge twice is harmless (idempotent).
    const again = await connect(withDatabase(server.dsn, ours));
    await again.query("UPDATE config SET TVALUE = '7005' WHERE NAME = 'GUI_VERSION'");
    await again.end();
    expect((await ocsBridgeExecutor.execute(step('b', { kind: 'ocs-bridge', toGuiVersion: 7006 }) as never, c2)).statements?.failed).toBe(0);

    // And the two paths end identical at 7081 (update files from the reference layout for both).
    for (const db of [official, ours]) {
      const r = await chain(db, [ref], 7081);
      expect(r.failures).toEqual([]);
    }
    expect(diffSchemas(await describeSchema(root, official), await describeSchema(root, ours)).map(formatDifference)).toEqual([]);
  });
});

describe('OCS PHP-side changes, tables touched, interlock', () => {
  it.skipIf(!OCS21)('converts the pre-2.5 administrative field types and adds LASTDATE to SNMP type tables when SNMP is on', async () => {
    const db = await ocs21('php', true);
    const c = ctx(db, []);
    const r = await ocsPhpChangeExecutor.execute(step('p1', { kind: 'ocs-php-change', guiVersion: 7015, change: 'accountinfo-types-2.5' }) as never, c);
    expect(r.status).toBe('passed');
    expect(r.details?.changedRows).toBe(2);
    expect(fr(r)).toBe('2 ligne(s) de accountinfo_config convertie(s) aux types de champs de la 2.5');
    expectFrenchReason(r, 'accountinfo-types-2.5');
    const [types] = await root.query(`SELECT NAME, TYPE FROM \`${db}\`.accountinfo_config WHERE NAME IN ('CHECK', 'DATE') ORDER BY NAME`);
    expect(types).toEqual([
      { NAME: 'CHECK', TYPE: 5 },
      { NAME: 'DATE', TYPE: 14 },
    ]);
    // Idempotent.
    expect((await ocsPhpChangeExecutor.execute(step('p1', { kind: 'ocs-php-change', guiVersion: 7015, change: 'accountinfo-types-2.5' }) as never, c)).details?.changedRows).toBe(0);

    await root.query(`CREATE TABLE \`${db}\`.snmp_types (ID INT PRIMARY KEY, TABLE_TYPE_NAME VARCHAR(255))`);
    await root.query(`CREATE TABLE \`${db}\`.snmp_router (ID INT PRIMARY KEY, NAME VARCHAR(10))`);
    await root.query(`INSERT INTO \`${db}\`.snmp_types VALUES (1, 'snmp_router'), (2, 'snmp_vanished')`);
    const off = await ocsPhpChangeExecutor.execute(step('p2', { kind: 'ocs-php-change', guiVersion: 7063, change: 'snmp-lastdate-2.10' }) as never, c);
    expect(en(off)).toMatch(/not enabled/);
    expect(fr(off)).toBe('SNMP n’est pas activé (paramètre SNMP de config) : la console officielle ne fait rien non plus');
    expectFrenchReason(off, 'SNMP off');
    await root.query(`REPLACE INTO \`${db}\`.config (NAME, IVALUE, TVALUE, COMMENTS) VALUES ('SNMP', 1, NULL, 'x')`);
    const on = await ocsPhpChangeExecutor.execute(step('p2', { kind: 'ocs-php-change', guiVersion: 7063, change: 'snmp-lastdate-2.10' }) as never, c);
    expect(on.status).toBe('passed');
    expect(en(on)).toMatch(/LASTDATE added to snmp_router.*snmp_vanished does not exist/);
    expect(fr(on)).toBe('colonne LASTDATE ajoutée à snmp_router ; la table de type SNMP snmp_vanished n’existe pas : ignorée');
    expectFrenchReason(on, 'SNMP on');
    const [cols] = await root.query(`SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'snmp_router' ORDER BY ORDINAL_POSITION`, [db]);
    expect((cols as Array<{ c: string }>).map((x) => x.c)).toEqual(['ID', 'LASTDATE', 'NAME']);
    const unknown = await ocsPhpChangeExecutor.execute(step('p3', { kind: 'ocs-php-change', guiVersion: 7063, change: 'nope' }) as never, c);
    expect(unknown.status).toBe('failed');
    expectFrenchReason(unknown, 'unknown change');
    // Without an OCS database: failed, with the reason in both languages.
    const noDb = await ocsPhpChangeExecutor.execute(step('p4', { kind: 'ocs-php-change', guiVersion: 7063, change: 'snmp-lastdate-2.10' }) as never, { ...c, databases: {} });
    expect(noDb.status).toBe('failed');
    expect(fr(noDb)).toBe('l’étape p4 écrit dans la base OCS, mais la répétition n’en a pas');
  });

  it('lists the tables an OCS step may touch from its SQL file, and reports not-run without a distribution', async (t) => {
    if (!deb) return t.skip(`Debian package unavailable: ${debMissing}`);
    const tables = ocsStepTables(step('ocs-7037', { kind: 'ocs-update-file', guiVersion: 7037, file: '7037.sql' }), { ocs: [deb] });
    expect(tables).toEqual(expect.arrayContaining(['softwares', 'software', 'software_name', 'config', 'deleted_equiv']));
    expect(ocsStepTables(step('x', { kind: 'ocs-update-file', guiVersion: 9999, file: '9999.sql' }), { ocs: [deb] })).toBe('all');
    const db = await server.freshDatabase('notrun');
    const r = await ocsUpdateFileExecutor.execute(step('ocs-7007', { kind: 'ocs-update-file', guiVersion: 7007, file: '7007.sql' }) as never, ctx(db, []));
    expect(r.status).toBe('not-run');
    expect(r.commandForUser).toMatch(/--ocs-dist/);
    expect(fr(r)).toBe('aucune distribution OCS fournie (--ocs-dist)');
    expectFrenchReason(r, 'no distribution');
    const other = await ocsUpdateFileExecutor.execute(step('ocs-9999', { kind: 'ocs-update-file', guiVersion: 9999, file: '9999.sql' }) as never, ctx(db, [deb]));
    expect(fr(other)).toBe('aucune des distributions OCS fournies ne contient files/update/9999.sql');
    expectFrenchReason(other, 'file not in the distribution');
  });

  it('refuses to write when the server is not marked as a test instance', async () => {
    const db = await server.freshDatabase('interlock');
    await root.query(`CREATE TABLE \`${db}\`.config (NAME VARCHAR(50) PRIMARY KEY, IVALUE INT, TVALUE VARCHAR(255), COMMENTS TEXT)`);
    await root.query(`INSERT INTO \`${db}\`.config VALUES ('GUI_VERSION', 0, '7005', '')`);
    await root.query(`DROP DATABASE \`${MARKER_SCHEMA}\``);
    try {
      await expect(ocsBridgeExecutor.execute(step('b', { kind: 'ocs-bridge', toGuiVersion: 7006 }) as never, ctx(db, []))).rejects.toBeInstanceOf(InterlockError);
      const [rows] = await root.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'plugins'`, [db]);
      expect(Number((rows as Array<{ n: number }>)[0].n)).toBe(0);
    } finally {
      await markAsTestInstance(root, 'restored by executors-ocs.test.ts');
    }
  });
});
