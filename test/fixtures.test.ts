/**
 * fixtures generate, on a real embedded MariaDB: default rows, GLPI/OCS consistency, every hazard present
 * with its documented count when on and absent when off, determinism (CHECKSUM TABLE), the structure against
 * the 0.83.8 / OCS 2.1 references (when ../shared is present), the real OCS update files on the fixture,
 * and the CLI's errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { sharedPath, sharedSkipNote } from './helpers/shared.ts';
import { runCli } from './helpers/cli.ts';
import { liveDigest } from './helpers/digest.ts';
import { generateFixtures, HAZARDS, HAZARD_NAMES, measureHazards } from '../src/synthetic/index.ts';
import type { GenerateResult, HazardName } from '../src/synthetic/index.ts';
import { describeSchema, diffSchemas, formatDifference } from '../src/db/schema.ts';
import type { SchemaDifference } from '../src/db/schema.ts';
import { runSqlScript } from '../src/db/sql-script.ts';
import { inspectGlpi, inspectOcs } from '../src/inspect/report.ts';
import { formatDsn } from '../src/db/dsn.ts';
import { ExitCode, InterlockError } from '../src/errors.ts';
import { markAsTestInstance } from '../src/db/interlock.ts';
import { readManifest, restoreSnapshot } from '../src/snapshot/index.ts';
import { REPO_ROOT } from './helpers/shared.ts';
import { distSkipReason, glpiDist, phpCommand } from './helpers/dist.ts';

let server: TestServer;
let root: Connection;
let all: GenerateResult;
let clean: GenerateResult;
const N = 20;

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  all = await generateFixtures(server.dsn, { seed: 7, computers: N, hazards: 'all', glpiDb: 'fx_glpi_all', ocsDb: 'fx_ocs_all', replace: true });
  clean = await generateFixtures(server.dsn, { seed: 7, computers: N, hazards: 'none', glpiDb: 'fx_glpi_clean', ocsDb: 'fx_ocs_clean', replace: true });
});
afterAll(async () => {
  await root?.end();
  await server?.stop();
});

async function rows<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const [r] = await root.query(sql, params);
  return r as T[];
}

async function checksums(db: string): Promise<Record<string, string | null>> {
  const tables = await rows<{ t: string }>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [db]);
  const out: Record<string, string | null> = {};
  for (const { t } of tables) {
    const [r] = await rows<{ Checksum: string | null }>(`CHECKSUM TABLE \`${db}\`.\`${t}\``);
    out[t] = r.Checksum === null ? null : String(r.Checksum);
  }
  return out;
}

describe('fixtures: what a real 0.83.8 + OCS 2.1 installation has', () => {
  it('has the default rows the GLPI 10.0 updater needs and a usable super-admin login', async () => {
    const [cfg] = await rows<{ version: string; csv_delimiter: string | null; use_ocs_mode: number }>('SELECT version, csv_delimiter, use_ocs_mode FROM fx_glpi_clean.glpi_configs');
    expect(cfg).toEqual({ version: ' 0.83.8', csv_delimiter: ';', use_ocs_mode: 1 });
    const admin = await rows<{ name: string; profile: string; config: string; entities_id: number; is_recursive: number }>(
      `SELECT u.name, p.name AS profile, p.config, pu.entities_id, pu.is_recursive FROM fx_glpi_clean.glpi_users u
         JOIN fx_glpi_clean.glpi_profiles_users pu ON pu.users_id = u.id JOIN fx_glpi_clean.glpi_profiles p ON p.id = pu.profiles_id WHERE u.name = 'glpi'`,
    );
    expect(admin).toEqual([{ name: 'glpi', profile: 'super-admin', config: 'w', entities_id: 0, is_recursive: 1 }]);
    const counts = await rows<{ t: string; n: number }>(
      `SELECT 'crontasks' AS t, COUNT(*) AS n FROM fx_glpi_clean.glpi_crontasks UNION ALL SELECT 'prefs', COUNT(*) FROM fx_glpi_clean.glpi_displaypreferences
       UNION ALL SELECT 'requesttypes', COUNT(*) FROM fx_glpi_clean.glpi_requesttypes UNION ALL SELECT 'users', COUNT(*) FROM fx_glpi_clean.glpi_users WHERE id BETWEEN 2 AND 5`,
    );
    expect(Object.fromEntries(counts.map((c) => [c.t, Number(c.n)]))).toEqual({ crontasks: 20, prefs: 79, requesttypes: 6, users: 4 });
    const g = await inspectGlpi(root, 'fx_glpi_clean');
    expect(g.version).toMatchObject({ version: '0.83.8', layout: 'wide', status: 'known' });
    expect(g.connector).toMatchObject({ mode: 'core-0.83', servers: 1, links: N - N / 10 });
    const o = await inspectOcs(root, 'fx_ocs_clean');
    expect(o.version.guiVersion).toBe(7005);
    const [trace] = await rows<{ IVALUE: number }>("SELECT IVALUE FROM fx_ocs_clean.config WHERE NAME = 'TRACE_DELETED'");
    expect(Number(trace.IVALUE)).toBe(1);
  });

  it('links GLPI computers to the OCS machines that inventory them: ids, names, serials, UUIDs, tags, software', async () => {
    const linked = await rows<Record<string, unknown>>(
      `SELECT c.id, c.name, h.NAME AS hname, c.serial, b.SSN, c.uuid, h.UUID AS huuid, l.tag, a.TAG AS atag, l.ocs_deviceid, h.DEVICEID, c.is_ocs_import, c.entities_id, e.tag AS etag
         FROM fx_glpi_clean.glpi_ocslinks l JOIN fx_glpi_clean.glpi_computers c ON c.id = l.computers_id
         JOIN fx_ocs_clean.hardware h ON h.ID = l.ocsid JOIN fx_ocs_clean.bios b ON b.HARDWARE_ID = h.ID JOIN fx_ocs_clean.accountinfo a ON a.HARDWARE_ID = h.ID
         JOIN fx_glpi_clean.glpi_entitydatas e ON e.entities_id = c.entities_id`,
    );
    expect(linked.length).toBe(N - N / 10);
    for (const r of linked) {
      expect(r.hname).toBe(r.name);
      expect(r.SSN).toBe(r.serial);
      expect(r.huuid).toBe(r.uuid);
      expect(r.atag).toBe(r.tag);
      expect(r.etag).toBe(r.tag);
      expect(r.DEVICEID).toBe(r.ocs_deviceid);
      expect(Number(r.is_ocs_import)).toBe(1);
    }
    // Same (software, version) set on both sides for every linked computer.
    const diff = await rows<{ n: number }>(
      `SELECT COUNT(*) AS n FROM (
         SELECT l.computers_id, CONVERT(s.name USING utf8mb4) COLLATE utf8mb4_bin AS name, CONVERT(v.name USING utf8mb4) COLLATE utf8mb4_bin AS version FROM fx_glpi_clean.glpi_ocslinks l
           JOIN fx_glpi_clean.glpi_computers_softwareversions cs ON cs.computers_id = l.computers_id
           JOIN fx_glpi_clean.glpi_softwareversions v ON v.id = cs.softwareversions_id JOIN fx_glpi_clean.glpi_softwares s ON s.id = v.softwares_id
         UNION ALL
         SELECT l.computers_id, CONVERT(o.NAME USING utf8mb4) COLLATE utf8mb4_bin, CONVERT(o.VERSION USING utf8mb4) COLLATE utf8mb4_bin FROM fx_glpi_clean.glpi_ocslinks l JOIN fx_ocs_clean.softwares o ON o.HARDWARE_ID = l.ocsid
       ) x GROUP BY computers_id, name, version HAVING COUNT(*) <> 2`,
    );
    expect(diff.length).toBe(0);
    const [{ n: installs }] = await rows<{ n: number }>('SELECT COUNT(*) AS n FROM fx_ocs_clean.softwares');
    expect(Number(installs)).toBeGreaterThan(6 * N);
    // Tickets span several years, with followups.
    const years = await rows<{ y: number }>('SELECT DISTINCT YEAR(date) AS y FROM fx_glpi_clean.glpi_tickets');
    expect(years.length).toBeGreaterThanOrEqual(4);
    const [{ n: fup }] = await rows<{ n: number }>('SELECT COUNT(*) AS n FROM fx_glpi_clean.glpi_ticketfollowups');
    expect(Number(fup)).toBeGreaterThan(0);
  });
});

describe('fixtures: hazards', () => {
  it.each(HAZARD_NAMES.map((n) => [n]))('%s is present with its documented count when on, absent when off', async (name) => {
    const n = name as HazardName;
    expect(all.hazards[n].enabled).toBe(true);
    expect(all.hazards[n].injected).toEqual(HAZARDS[n].injects);
    expect(clean.hazards[n].enabled).toBe(false);
    for (const v of Object.values(clean.hazards[n].injected)) expect(v).toBe(0);
    // The report is what the databases hold, measured again independently.
    const measured = await measureHazards(root, 'fx_glpi_all', 'fx_ocs_all', [n]);
    expect(measured[n]).toEqual(HAZARDS[n].injects);
  });

  it('switches hazards one by one: only the chosen ones are injected', async () => {
    const one = await generateFixtures(server.dsn, { seed: 7, computers: N, hazards: ['dup-slalevels-tickets', 'trace-deleted-off'], glpiDb: 'fx_glpi_one', ocsDb: 'fx_ocs_one', replace: true });
    for (const n of HAZARD_NAMES) {
      const total = Object.values(one.hazards[n].injected).reduce((a, b) => a + b, 0);
      if (n === 'dup-slalevels-tickets' || n === 'trace-deleted-off') expect(one.hazards[n].injected, n).toEqual(HAZARDS[n].injects);
      else expect(total, n).toBe(0);
    }
  });
});

describe('fixtures: determinism', () => {
  it('the same seed and options give identical CHECKSUM TABLE values; another seed does not', async () => {
    const before = { glpi: await checksums('fx_glpi_all'), ocs: await checksums('fx_ocs_all') };
    const again = await generateFixtures(server.dsn, { seed: 7, computers: N, hazards: 'all', glpiDb: 'fx_glpi_all', ocsDb: 'fx_ocs_all', replace: true });
    expect(await checksums('fx_glpi_all')).toEqual(before.glpi);
    expect(await checksums('fx_ocs_all')).toEqual(before.ocs);
    expect(Object.values(before.glpi).filter((v) => v !== '0').length).toBeGreaterThan(40);
    expect(again.rows).toEqual(all.rows);
    const other = await generateFixtures(server.dsn, { seed: 8, computers: N, hazards: 'none', glpiDb: 'fx_glpi_s8', ocsDb: 'fx_ocs_s8', replace: true });
    const a = await checksums('fx_glpi_clean');
    const b = await checksums(other.glpiDb);
    expect(b.glpi_computers).not.toBe(a.glpi_computers);
    expect(b.glpi_configs).toBe(a.glpi_configs);
  });
});

describe('fixtures: the committed fixture set', () => {
  const small = path.join(REPO_ROOT, 'fixtures', 'small');
  const cleanDir = path.join(REPO_ROOT, 'fixtures', 'clean');
  it('restores byte-exact (checksums) and holds the hazards its manifest names, with their documented counts', async () => {
    const ms = await readManifest(small);
    const mc = await readManifest(cleanDir);
    expect(ms.generated).toMatchObject({ seed: 1, computers: 50, hazards: HAZARD_NAMES });
    expect(mc.generated).toMatchObject({ seed: 1, computers: 50, hazards: [] });
    const rs = await restoreSnapshot(small, server.dsn, { databases: { glpi: 'fxc_small_glpi', ocs: 'fxc_small_ocs' }, force: true });
    const rc = await restoreSnapshot(cleanDir, server.dsn, { databases: { glpi: 'fxc_clean_glpi', ocs: 'fxc_clean_ocs' }, force: true });
    expect(rs.ok && rc.ok).toBe(true);
    const hs = await measureHazards(root, 'fxc_small_glpi', 'fxc_small_ocs');
    const hc = await measureHazards(root, 'fxc_clean_glpi', 'fxc_clean_ocs');
    for (const n of HAZARD_NAMES) {
      expect(hs[n], n).toEqual(HAZARDS[n].injects);
      for (const v of Object.values(hc[n] ?? {})) expect(v, n).toBe(0);
    }
    expect((await inspectGlpi(root, 'fxc_small_glpi')).version.version).toBe('0.83.8');
    expect((await inspectOcs(root, 'fxc_clean_ocs')).version.guiVersion).toBe(7005);
  });

  it("without ../shared, generation falls back to the committed clean fixture's DDL: same structure, same hazard counts", async () => {
    const saved = process.env.GOU_SHARED_DIR;
    process.env.GOU_SHARED_DIR = path.join(REPO_ROOT, 'no-such-shared-dir');
    try {
      const r = await generateFixtures(server.dsn, { seed: 2, computers: N, hazards: 'all', glpiDb: 'fx_glpi_fb', ocsDb: 'fx_ocs_fb', replace: true });
      expect(r.schemaSources.glpi.origin).toBe('committed-fixture');
      expect(r.schemaSources.ocs.origin).toBe('committed-fixture');
      for (const n of HAZARD_NAMES) expect(r.hazards[n].injected, n).toEqual(HAZARDS[n].injects);
      expect(diffSchemas(await describeSchema(root, 'fxc_small_glpi'), await describeSchema(root, 'fx_glpi_fb')).map(formatDifference)).toEqual([]);
      expect(diffSchemas(await describeSchema(root, 'fxc_small_ocs'), await describeSchema(root, 'fx_ocs_fb')).map(formatDifference)).toEqual([]);
      expect((await inspectOcs(root, 'fx_ocs_fb')).version.guiVersion).toBe(7005);
    } finally {
      if (saved === undefined) delete process.env.GOU_SHARED_DIR;
      else process.env.GOU_SHARED_DIR = saved;
    }
  });

  it.skipIf(!sharedPath('reference', 'glpi') || !sharedPath('reference', 'ocs'))(
    `regenerating from the manifest's parameters gives the committed checksums${sharedSkipNote(!sharedPath('reference', 'glpi') || !sharedPath('reference', 'ocs'))}`,
    async () => {
      const ms = await readManifest(small);
      await generateFixtures(server.dsn, {
        seed: ms.generated!.seed,
        computers: ms.generated!.computers,
        hazards: ms.generated!.hazards as HazardName[],
        glpiDb: 'glpi',
        ocsDb: 'ocsweb',
        replace: true,
      });
      for (const db of ms.databases) {
        const now = await checksums(db.name);
        for (const t of db.tables) {
          // Fixtures written before the digest carry CHECKSUM TABLE values; a regenerated one carries digests.
          if (t.digest !== undefined) expect((await liveDigest(root, db.name, t.name)).digest, `${db.name}.${t.name}`).toBe(t.digest);
          else expect(now[t.name], `${db.name}.${t.name}`).toBe(t.checksum);
        }
      }
    },
  );
});

describe('fixtures: structure equals the GLPI 0.83.8 / OCS 2.1 references', () => {
  const glpiRef = sharedPath('reference', 'glpi', 'glpi-0.83.8-empty.sql');
  const ocsRef = sharedPath('reference', 'ocs', 'ocsbase_new-2.1.sql');
  it.skipIf(!glpiRef || !ocsRef)(`table by table, apart from the deliberate drift hazards${sharedSkipNote(!glpiRef || !ocsRef)}`, async () => {
    const refGlpi = await server.freshDatabase('ref_glpi');
    const refOcs = await server.freshDatabase('ref_ocs');
    const c = await server.connect();
    await c.query("SET SESSION sql_mode = ''");
    await c.query(`ALTER DATABASE \`${refGlpi}\` COLLATE utf8_unicode_ci`);
    await c.query(`ALTER DATABASE \`${refOcs}\` COLLATE utf8_bin`);
    await c.query(`USE \`${refGlpi}\``);
    await runSqlScript(c, fs.readFileSync(glpiRef!, 'utf8'));
    await c.query(`USE \`${refOcs}\``);
    await runSqlScript(c, fs.readFileSync(ocsRef!, 'utf8'));
    await c.end();
    const expectedGlpi = await describeSchema(root, refGlpi);
    const expectedOcs = await describeSchema(root, refOcs);
    expect(expectedGlpi.size).toBe(203);
    expect(expectedOcs.size).toBe(97);
    // Clean (generated now, and the committed fixtures/clean restored above): no difference at all.
    for (const db of ['fx_glpi_clean', 'fxc_clean_glpi']) expect(diffSchemas(expectedGlpi, await describeSchema(root, db)).map(formatDifference), db).toEqual([]);
    for (const db of ['fx_ocs_clean', 'fxc_clean_ocs']) expect(diffSchemas(expectedOcs, await describeSchema(root, db)).map(formatDifference), db).toEqual([]);
    // All hazards (generated now, and the committed fixtures/small): exactly the declared drift.
    const hazardous = [
      ['glpi', expectedGlpi, 'fx_glpi_all'],
      ['ocs', expectedOcs, 'fx_ocs_all'],
      ['glpi', expectedGlpi, 'fxc_small_glpi'],
      ['ocs', expectedOcs, 'fxc_small_ocs'],
    ] as const;
    for (const [role, expected, db] of hazardous) {
      const diffs = diffSchemas(expected, await describeSchema(root, db));
      const drift = HAZARD_NAMES.flatMap((n) => HAZARDS[n].drift ?? []).filter((d) => d.role === role);
      const allowed = (d: SchemaDifference) => drift.some((x) => x.table === d.table && (x.kinds as string[]).includes(d.kind) && (d.kind !== 'missing-index' || d.index === x.index));
      expect(diffs.filter((d) => !allowed(d)).map(formatDifference), role).toEqual([]);
      for (const x of drift)
        expect(
          diffs.some((d) => d.table === x.table && (x.kinds as string[]).includes(d.kind)),
          `${role} ${x.table}`,
        ).toBe(true);
    }
  });
});

/** The official OCS updater's way: split the whole file on every ';', run each non-blank chunk, ignore errors. */
async function applyOcsFile(c: Connection, file: string): Promise<Array<{ index: number; code: string }>> {
  const errors: Array<{ index: number; code: string }> = [];
  const chunks = fs.readFileSync(file, 'utf8').split(';');
  for (let i = 0; i < chunks.length; i++) {
    if (chunks[i].trim() === '') continue;
    try {
      await c.query(chunks[i]);
    } catch (err) {
      errors.push({ index: i, code: String((err as { code?: string }).code) });
    }
  }
  return errors;
}

async function ocsUpgrade(db: string, bridge: string, updates: string[]): Promise<string[]> {
  const c = await server.connect(db);
  await c.query("SET NAMES utf8, SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");
  const out: string[] = [];
  for (const e of await applyOcsFile(c, bridge)) out.push(`ocsbase-2.2.sql#${e.index} ${e.code}`);
  for (const f of updates) {
    for (const e of await applyOcsFile(c, f)) out.push(`${path.basename(f)}#${e.index} ${e.code}`);
    await c.query("UPDATE config SET TVALUE = ? WHERE NAME = 'GUI_VERSION'", [path.basename(f, '.sql')]);
  }
  await c.end();
  return out;
}

describe('fixtures: the real OCS update files accept the OCS fixture', () => {
  const bridge = sharedPath('reference', 'ocs', 'ocsbase-2.2.sql');
  const updateDir = sharedPath('reference', 'ocs', 'update-2.12.4');
  const base21 = sharedPath('reference', 'ocs', 'ocsbase_new-2.1.sql');
  it.skipIf(!bridge || !updateDir || !base21)(`2.2 bridge + 7007…7081 give the same SQL errors as on a pristine 2.1 database${sharedSkipNote(!bridge || !updateDir || !base21)}`, async () => {
    const updates = fs
      .readdirSync(updateDir!)
      .filter((f) => /^\d{4}\.sql$/.test(f))
      .sort()
      .map((f) => path.join(updateDir!, f));
    expect(updates.length).toBe(75);
    const pristine = await server.freshDatabase('ocs_pristine');
    const c = await server.connect(pristine);
    await c.query(`ALTER DATABASE \`${pristine}\` COLLATE utf8_bin`);
    await c.query("SET SESSION sql_mode = ''");
    await runSqlScript(c, fs.readFileSync(base21!, 'utf8'));
    await c.end();
    const reference = await ocsUpgrade(pristine, bridge!, updates);
    const cleanPair = await generateFixtures(server.dsn, { seed: 7, computers: N, hazards: 'none', glpiDb: 'fx_glpi_u0', ocsDb: 'fx_ocs_u0', replace: true });
    const allPair = await generateFixtures(server.dsn, { seed: 7, computers: N, hazards: 'all', glpiDb: 'fx_glpi_u1', ocsDb: 'fx_ocs_u1', replace: true });
    const onClean = await ocsUpgrade(cleanPair.ocsDb, bridge!, updates);
    const onAll = await ocsUpgrade(allPair.ocsDb, bridge!, updates);
    // The errors a real 2.1 database produces too (documented in docs/fixtures.md) — plus, with all hazards,
    // exactly the ones the hazards declare.
    expect(onClean).toEqual(reference);
    const declared = HAZARD_NAMES.flatMap((n) => HAZARDS[n].ocsUpdateErrors ?? []);
    expect(onAll.filter((e) => !reference.includes(e))).toEqual(declared);
    expect(reference.filter((e) => !onAll.includes(e))).toEqual([]);
    const [v] = await rows<{ v: string }>("SELECT TVALUE AS v FROM fx_ocs_u1.config WHERE NAME = 'GUI_VERSION'");
    expect(v.v).toBe('7081');
    // 7037 lost exactly the NULL-publisher/version rows the hazard injected.
    const [{ n: softClean }] = await rows<{ n: number }>('SELECT COUNT(*) AS n FROM fx_ocs_u0.software');
    expect(Number(softClean)).toBe(cleanPair.rows['ocs:softwares']);
    const [{ n: softAll }] = await rows<{ n: number }>('SELECT COUNT(*) AS n FROM fx_ocs_u1.software');
    const lost = HAZARDS['ocs-null-software'].injects;
    expect(Number(softAll)).toBe(allPair.rows['ocs:softwares'] - Object.values(lost).reduce((a, b) => a + b, 0));
    const byFile = new Map<string, number>();
    for (const e of reference) byFile.set(e.replace(/#\d+/, ''), (byFile.get(e.replace(/#\d+/, '')) ?? 0) + 1);
    console.log(`OCS update errors on a pristine 2.1 database: ${[...byFile].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  });
});

describe('fixtures: safety and bad input', () => {
  it('refuses a server without the test-instance marker (exit 6) and writes nothing', async () => {
    await root.query('DELETE FROM glpi_ocs_upgrade_marker.test_instance');
    try {
      await expect(generateFixtures(server.dsn, { computers: 10, glpiDb: 'fx_glpi_refused', ocsDb: 'fx_ocs_refused' })).rejects.toBeInstanceOf(InterlockError);
      const [{ n }] = await rows<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'fx\\_%refused'");
      expect(Number(n)).toBe(0);
    } finally {
      await markAsTestInstance(root, 'test server (re-marked)');
    }
  });

  it('one clear line and exit 2 for bad options; an existing database needs --replace', async () => {
    const bad = await runCli(['fixtures', 'generate', '-o', 'x', '--computers', '5']);
    expect(bad.exitCode).toBe(ExitCode.USAGE);
    expect(bad.stderr).toMatch(/^error: --computers must be a whole number from 10 to 50000/m);
    const unknown = await runCli(['fixtures', 'generate', '-o', 'x', '--hazards', 'zero-dates,bogus']);
    expect(unknown.exitCode).toBe(ExitCode.USAGE);
    expect(unknown.stderr).toMatch(/unknown hazard\(s\): bogus/);
    const nowhere = await runCli(['fixtures', 'generate']);
    expect(nowhere.exitCode).toBe(ExitCode.USAGE);
    expect(nowhere.stderr).toMatch(/nowhere to keep the result/);
    const noSchema = await runCli(['fixtures', 'generate', '-o', 'x', '--glpi-schema', path.join(REPO_ROOT, 'no-such-schema.sql')]);
    expect(noSchema.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(noSchema.stderr).toMatch(/^error: --glpi-schema: .* does not exist/m);
    for (const r of [bad, unknown, nowhere, noSchema]) expect(r.stderr).not.toMatch(/\n\s+at /);
    const into = formatDsn({ ...server.dsn, database: undefined });
    const exists = await runCli(['fixtures', 'generate', '--into', into, '--glpi-db', 'fx_glpi_clean', '--ocs-db', 'fx_ocs_cli'], { env: { MYSQL_PWD: server.dsn.password } });
    expect(exists.exitCode).toBe(ExitCode.USAGE);
    expect(exists.stderr).toMatch(/database "fx_glpi_clean" already exists/);
  });

  it('writes a snapshot directory with -o (its manifest names the generation parameters)', async () => {
    const os = await import('node:os');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fx-cli-')), 'snap');
    try {
      const into = formatDsn({ ...server.dsn, database: undefined });
      const r = await runCli(['fixtures', 'generate', '--into', into, '-o', out, '--computers', '10', '--hazards', 'none', '--glpi-db', 'fx_glpi_o', '--ocs-db', 'fx_ocs_o'], {
        env: { MYSQL_PWD: server.dsn.password },
      });
      expect(r.exitCode, r.stderr).toBe(0);
      const m = await readManifest(out);
      expect(m.generated).toEqual({ generator: 'glpi-ocs-upgrade fixtures generate', seed: 1, computers: 10, hazards: [] });
      expect(m.databases.map((d) => [d.role, d.name, d.tables.length])).toEqual([
        ['glpi', 'fx_glpi_o', 203],
        ['ocs', 'fx_ocs_o', 97],
      ]);
      const again = await runCli(['fixtures', 'generate', '-o', out], {});
      expect(again.exitCode).toBe(ExitCode.USAGE);
      expect(again.stderr).toMatch(/is not empty/);
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });

  it('docs/fixtures.md documents every hazard with its exact counts', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'fixtures.md'), 'utf8');
    for (const n of HAZARD_NAMES) {
      const line = doc.split('\n').find((l) => l.startsWith(`| \`${n}\` |`));
      expect(line, n).toBeDefined();
      for (const [k, v] of Object.entries(HAZARDS[n].injects)) expect(line, `${n} ${k}`).toContain(`\`${k}\`: **${v}**`);
    }
  });

  it('generates through the CLI into a test server, --json', async () => {
    const into = formatDsn({ ...server.dsn, database: undefined });
    const r = await runCli(['--json', 'fixtures', 'generate', '--into', into, '--computers', '10', '--hazards', 'zero-dates', '--glpi-db', 'fx_glpi_cli', '--ocs-db', 'fx_ocs_cli', '--seed', '3'], {
      env: { MYSQL_PWD: server.dsn.password },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.hazards['zero-dates'].injected).toEqual(HAZARDS['zero-dates'].injects);
    expect(doc.rows['glpi:glpi_computers']).toBe(10);
    const [{ n }] = await rows<{ n: number }>('SELECT COUNT(*) AS n FROM fx_glpi_cli.glpi_computers');
    expect(Number(n)).toBe(10);
  });
});

/**
 * Runs a GLPI 10.0 tree's real `php bin/console db:update -n` on a database of the test server: the tree is
 * copied to a temporary directory (its config/ and files/ are written by the updater), with a config_db.php
 * pointing at the test server (research: glpi-real-update-run.md §1).
 */
async function runGlpiUpdate(dist: string, database: string): Promise<{ exitCode: number; output: string }> {
  const { execa } = await import('execa');
  const os = await import('node:os');
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'glpi10-'));
  try {
    await execa('cp', ['-a', `${dist}/.`, tree]);
    for (const d of ['_cache', '_cron', '_dumps', '_graphs', '_lock', '_pictures', '_plugins', '_rss', '_sessions', '_tmp', '_uploads', '_log', '_inventories']) {
      fs.mkdirSync(path.join(tree, 'files', d), { recursive: true });
    }
    fs.mkdirSync(path.join(tree, 'marketplace'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'install', 'migrations', 'update_10.0.4_to_10.0.5'), { recursive: true });
    await root.query("CREATE USER IF NOT EXISTS 'glpi_fx'@'127.0.0.1' IDENTIFIED BY 'fx-pass'");
    await root.query(`GRANT ALL ON *.* TO 'glpi_fx'@'127.0.0.1'`);
    const host = `${server.dsn.host}:${server.dsn.port}`;
    fs.writeFileSync(
      path.join(tree, 'config', 'config_db.php'),
      `<?php\nclass DB extends DBmysql {\n   public $dbhost = '${host}';\n   public $dbuser = 'glpi_fx';\n   public $dbpassword = 'fx-pass';\n   public $dbdefault = '${database}';\n}\n`,
    );
    const r = await execa(phpCommand(), ['bin/console', 'db:update', '-n', '--no-telemetry', '--no-ansi', '--lang=en_GB'], { cwd: tree, reject: false, all: true, timeout: 600_000 });
    return { exitCode: r.exitCode ?? -1, output: String(r.all ?? '') };
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}

describe('fixtures: the real GLPI 10.0 updater accepts the GLPI fixture', () => {
  const dist = glpiDist();
  const skip = distSkipReason({ glpi: true, php: true });
  it.skipIf(skip !== '')(
    `php bin/console db:update -n${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      // Clean fixture: the update goes through to 10.0.x.
      const ok = await runGlpiUpdate(dist!, 'fx_glpi_clean');
      expect(ok.exitCode, ok.output.slice(-2000)).toBe(0);
      expect(ok.output).toMatch(/Migration done/);
      const [v] = await rows<{ value: string }>("SELECT value FROM fx_glpi_clean.glpi_configs WHERE context = 'core' AND name = 'version'");
      expect(v.value).toMatch(/^10\.0\./);
      const [admin] = await rows<{ n: number }>(
        "SELECT COUNT(*) AS n FROM fx_glpi_clean.glpi_users u JOIN fx_glpi_clean.glpi_profiles_users pu ON pu.users_id = u.id JOIN fx_glpi_clean.glpi_profiles p ON p.id = pu.profiles_id WHERE u.name = 'glpi' AND p.name = 'super-admin'",
      );
      expect(Number(admin.n)).toBe(1);
      // All hazards: the schema pre-check refuses (drift), exit 4, nothing migrated.
      const refused = await runGlpiUpdate(dist!, 'fx_glpi_all');
      expect(refused.exitCode, refused.output.slice(-2000)).toBe(4);
      expect(refused.output).toMatch(/not consistent/i);
      // Only the 9.1 duplicates: the update dies half-way (exit 1), the version is left at 0.85.
      await generateFixtures(server.dsn, { seed: 7, computers: N, hazards: ['dup-slalevels-tickets'], glpiDb: 'fx_glpi_sla', ocsDb: 'fx_ocs_sla', replace: true });
      const half = await runGlpiUpdate(dist!, 'fx_glpi_sla');
      expect(half.exitCode).toBe(1);
      expect(half.output).toMatch(/Duplicate entry .* for key 'unicity'/);
      const [hv] = await rows<{ value: string }>("SELECT value FROM fx_glpi_sla.glpi_configs WHERE context = 'core' AND name = 'version'");
      expect(hv.value).toBe('0.85');
    },
    1_200_000,
  ); // three real updates: 17–64 s each on an idle machine, much more on a loaded one
});
