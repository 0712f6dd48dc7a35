import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { sharedPath, SHARED_MISSING_REASON } from './helpers/shared.ts';
import { runCli } from './helpers/cli.ts';
import { HAZARDS, pairMaker, auditPair } from './audit-db.ts';
import { CHECKS, readFindings, runAudit, writeFindings, findingsAtOrAbove } from '../src/audit/index.ts';
import type { FindingsFile } from '../src/audit/index.ts';
import { scratchOn } from '../src/audit/reference.ts';
import { formatDsn, withDatabase } from '../src/db/dsn.ts';
import { ExitCode } from '../src/errors.ts';
import { renderFindings } from '../src/audit/report.ts';
import { englishIn, typographyFaults } from './helpers/french.ts';
import { msg, type Message } from '../src/i18n/messages.ts';
import { render } from '../src/i18n/render.ts';

const EN = (m: Message | undefined) => (m ? render(m, 'en') : undefined);
const FR = (m: Message | undefined) => (m ? render(m, 'fr') : undefined);

let server: TestServer;
let root: Connection;

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  pair = pairMaker(server, () => root, 'g');
});
afterAll(async () => {
  await root?.end();
  await server?.stop();
});

/** A fresh clean GLPI + OCS pair of databases (set once the server is up). */
let pair: () => Promise<{ glpi: string; ocs: string }>;
const audit = (glpi: string, ocs: string): Promise<FindingsFile> => auditPair(server, glpi, ocs);

const found = (f: FindingsFile) => Object.fromEntries(f.findings.map((x) => [x.id, x.count]));

describe('audit catalog', () => {
  it('has unique ids, bilingual titles, a remedy each, and every named corrective migration exists', async () => {
    const { loadCorrectiveMigrations } = await import('../src/catalog/corrective.ts');
    const migrations = new Set(loadCorrectiveMigrations().map((m) => m.id));
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of CHECKS) {
      expect(render(c.title, 'fr').length, c.id).toBeGreaterThan(10);
      expect(render(c.title, 'en').length, c.id).toBeGreaterThan(10);
      expect(Boolean(c.remedy.migration) || Boolean(c.remedy.manual && render(c.remedy.manual, 'fr') && render(c.remedy.manual, 'en')), c.id).toBe(true);
      if (c.remedy.migration) expect(migrations.has(c.remedy.migration), `${c.id} → ${c.remedy.migration}`).toBe(true);
    }
    // Every corrective migration fixes at least one check that exists.
    for (const m of loadCorrectiveMigrations())
      expect(
        m.fixes.some((f) => ids.includes(f)),
        m.id,
      ).toBe(true);
  });
});

describe('audit on small databases, hazard by hazard', () => {
  it('a clean GLPI 0.83.8 + OCS 2.1 pair gives a clean audit', async () => {
    const { glpi, ocs } = await pair();
    const f = await audit(glpi, ocs);
    expect(found(f)).toEqual({});
    expect(f.format).toBe(1);
    // Only the drift checks are skipped (no reference schema given).
    expect(
      f.checksRun
        .filter((c) => c.status === 'skipped')
        .map((c) => c.id)
        .sort(),
    ).toEqual(['glpi.schema.drift', 'ocs.schema.drift']);
    expect(f.checksRun.filter((c) => c.status === 'ok').length).toBe(CHECKS.length - 2);
    const fields = f.checksRun.find((c) => c.id === 'link.synchronised_fields_empty')?.evidence as { linkedComputers: number; fields: Record<string, { synchronised: boolean }> };
    expect(fields.linkedComputers).toBe(4);
    expect(fields.fields.serial.synchronised).toBe(true);
    expect(fields.fields.contact.synchronised).toBe(false);
  });

  for (const h of HAZARDS) {
    it(`${h.name} → ${Object.entries(h.expect)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`, async () => {
      const { glpi, ocs } = await pair();
      await h.apply(root, glpi, ocs);
      const f = await audit(glpi, ocs);
      expect(found(f)).toEqual(h.expect);
      for (const x of f.findings) {
        expect(x.remedy.migration || x.remedy.manual).toBeTruthy();
        expect(f.checksRun.find((c) => c.id === x.id)?.status).toBe('finding');
      }
    });
  }

  it('evidence carries sample keys and never a password', async () => {
    const { glpi, ocs } = await pair();
    for (const h of HAZARDS.filter((x) => /slalevels|special characters/.test(x.name))) await h.apply(root, glpi, ocs);
    const f = await audit(glpi, ocs);
    const sla = f.findings.find((x) => x.id === 'glpi.duplicates.slalevels_tickets')!;
    expect(sla.evidence).toMatchObject({ table: 'glpi_slalevels_tickets', groups: 2, rowsToRemove: 3 });
    expect((sla.evidence.samples as Array<{ tickets_id: string | number; n: number; ids: number[] }>)[0]).toMatchObject({ n: 3 });
    expect(JSON.stringify(f)).not.toMatch(/oc%24pw|secret/);
    expect(f.checksRun.find((c) => c.id === 'link.glpicrypt_key_needed')).toMatchObject({ status: 'ok', evidence: { servers: [1], passwordEncryptedInSource: false } });
    expect(f.findings[0].severity).toBe('bloquante');
  });

  it('checks that need the OCS database are skipped, with a reason, when only GLPI is given', async () => {
    const { glpi } = await pair();
    const c = await server.connect();
    try {
      const f = await runAudit({ connections: { glpi: { conn: c, database: glpi } } });
      const skipped = f.checksRun.filter((x) => x.status === 'skipped');
      expect(EN(skipped.find((x) => x.id === 'link.vanished_hardware')?.reason)).toMatch(/no OCS database/);
      expect(EN(skipped.find((x) => x.id === 'ocs.trace_deleted_off')?.reason)).toMatch(/no OCS database/);
      expect(FR(skipped.find((x) => x.id === 'ocs.trace_deleted_off')?.reason)).toBe('aucune base OCS fournie');
      expect(found(f)).toEqual({});
    } finally {
      await c.end();
    }
  });

  it('every skip reason has its French twin, in French prose and typography, printed by the French report', async () => {
    const { glpi, ocs } = await pair();
    const c = await server.connect();
    try {
      const both = { glpi: { conn: c, database: glpi }, ocs: { conn: c, database: ocs } };
      const runs = [
        await runAudit({ connections: { glpi: both.glpi } }),
        await runAudit({ connections: { ocs: both.ocs } }),
        await runAudit({ connections: both }),
        await runAudit({ connections: both }, { ocsServerId: 42 }),
      ];
      // No OCS server declared, no batteries or softwares table: more skips, each with its reason.
      await root.query(`DELETE FROM \`${glpi}\`.glpi_ocsservers`);
      await root.query(`DROP TABLE IF EXISTS \`${ocs}\`.batteries, \`${ocs}\`.softwares`);
      const c2 = await server.connect();
      try {
        runs.push(await runAudit({ connections: { glpi: { conn: c2, database: glpi }, ocs: { conn: c2, database: ocs } } }));
      } finally {
        await c2.end();
      }
      const skipped = runs.flatMap((f) => f.checksRun.filter((x) => x.status === 'skipped'));
      const reasons = new Map(skipped.map((x) => [EN(x.reason), FR(x.reason)]));
      expect(reasons.size, [...reasons.keys()].join(' | ')).toBeGreaterThanOrEqual(6);
      for (const [en, fr] of reasons) {
        expect(en).toEqual(expect.any(String));
        expect(fr, en).toEqual(expect.any(String));
        expect(fr, en).not.toBe(en);
        expect(englishIn(fr!), fr).toEqual([]);
        expect(typographyFaults(fr!), fr).toEqual([]);
      }
      expect(reasons.get('no GLPI database given')).toBe('aucune base GLPI fournie');
      expect(reasons.get('no reference schema source was given (--reference-dir or --glpi-dist)')).toBe('aucune source de schéma de référence fournie (--reference-dir ou --glpi-dist)');
      expect(reasons.get('no OCS server with id 42 in glpi_ocsservers')).toBe('aucun serveur OCS d’identifiant 42 dans glpi_ocsservers');
      expect(reasons.get('glpi_ocsservers is empty')).toBe('glpi_ocsservers est vide');
      // The French report prints the French reasons, the English one the English reasons.
      const last = runs[runs.length - 1];
      const fr = renderFindings(last, 'fr').join('\n');
      const en = renderFindings(last, 'en').join('\n');
      for (const k of last.checksRun.filter((x) => x.status === 'skipped')) {
        expect(fr).toContain(`${k.id} : ${FR(k.reason)}`);
        expect(en).toContain(`${k.id}: ${EN(k.reason)}`);
        expect(fr).not.toContain(k.reason);
      }
    } finally {
      await c.end();
    }
  });

  it('--only style selection runs just the matching checks', async () => {
    const { glpi, ocs } = await pair();
    const c = await server.connect();
    try {
      const f = await runAudit({ connections: { glpi: { conn: c, database: glpi }, ocs: { conn: c, database: ocs } } }, { only: ['glpi.duplicates'] });
      expect(f.checksRun.every((x) => x.id.startsWith('glpi.duplicates.'))).toBe(true);
      await expect(runAudit({ connections: { glpi: { conn: c, database: glpi } } }, { only: ['nope'] })).rejects.toMatchObject({ exitCode: ExitCode.USAGE });
    } finally {
      await c.end();
    }
  });
});

describe('schema drift against a reference schema', () => {
  it('a tiny reference in a scratch database: missing key and altered column are reported, extra tables are not', async () => {
    const { glpi, ocs } = await pair();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-ref-'));
    // A reference made of two of the test tables exactly as the builder creates them.
    const [[a]] = (await root.query(`SHOW CREATE TABLE \`${glpi}\`.glpi_displaypreferences`)) as unknown as [[Record<string, string>]];
    const [[b]] = (await root.query(`SHOW CREATE TABLE \`${glpi}\`.glpi_users`)) as unknown as [[Record<string, string>]];
    fs.writeFileSync(path.join(dir, 'glpi-0.83.8-empty.sql'), `${a['Create Table']};\n${b['Create Table']};\n`);
    const c = await server.connect();
    const scratch = scratchOn(server.dsn);
    try {
      const run = () => runAudit({ connections: { glpi: { conn: c, database: glpi }, ocs: { conn: c, database: ocs } } }, { referenceDirs: [dir], scratch, only: ['glpi.schema'] });
      const clean = await run();
      expect(clean.checksRun[0]).toMatchObject({ id: 'glpi.schema.drift', status: 'ok' });
      await root.query(`ALTER TABLE \`${glpi}\`.glpi_displaypreferences DROP INDEX unicity`);
      await root.query(`ALTER TABLE \`${glpi}\`.glpi_users MODIFY name varchar(100) DEFAULT NULL`);
      const drift = await run();
      const f = drift.findings[0];
      expect(f).toMatchObject({ id: 'glpi.schema.drift', count: 2, severity: 'bloquante' });
      expect((f.evidence.differences as string[]).join('\n')).toMatch(/glpi_displaypreferences: index unicity UNIQUE \(users_id, itemtype, num\) missing/);
      expect((f.evidence.differences as string[]).join('\n')).toMatch(/glpi_users\.name: type is "varchar\(100\)"/);
      // Scratch databases are dropped afterwards.
      const [dbs] = await root.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'gou\\_ref\\_%'");
      expect(dbs).toEqual([]);
    } finally {
      await scratch.close();
      await c.end();
    }
  });

  it.skipIf(!sharedPath('reference', 'glpi', 'glpi-0.83.8-empty.sql'))(
    `GLPI's real 0.83.8 reference: a database loaded from it is clean, a dropped key is drift${sharedPath('reference') ? '' : ` (${SHARED_MISSING_REASON})`}`,
    async () => {
      const refDir = sharedPath('reference', 'glpi')!;
      const db = await server.freshDatabase('real083');
      await root.query(`ALTER DATABASE \`${db}\` CHARACTER SET utf8 COLLATE utf8_unicode_ci`);
      const { runSqlScript } = await import('../src/db/sql-script.ts');
      const c = await server.connect(db);
      const scratch = scratchOn(server.dsn);
      try {
        await c.query("SET SESSION sql_mode = ''");
        await runSqlScript(c, fs.readFileSync(path.join(refDir, 'glpi-0.83.8-empty.sql'), 'utf8'));
        await c.query("INSERT INTO glpi_configs (id, version, csv_delimiter) VALUES (1, ' 0.83.8', ';')");
        const run = () => runAudit({ connections: { glpi: { conn: c, database: db } } }, { referenceDirs: [refDir], scratch });
        const clean = await run();
        expect(found(clean)).toEqual({});
        expect(clean.checksRun.find((x) => x.id === 'glpi.schema.drift')?.status).toBe('ok');
        await c.query('ALTER TABLE glpi_displaypreferences DROP INDEX unicity');
        await c.query('INSERT INTO glpi_slalevels_tickets (tickets_id, slalevels_id) VALUES (1, 1), (1, 1)');
        const bad = await run();
        expect(found(bad)).toEqual({ 'glpi.schema.drift': 1, 'glpi.duplicates.slalevels_tickets': 1 });
      } finally {
        await scratch.close();
        await c.end();
      }
    },
  );
});

describe('findings file and thresholds', () => {
  it('writes and reads YAML and JSON; thresholds pick the right findings; bad files are refused', async () => {
    const { glpi, ocs } = await pair();
    for (const h of HAZARDS.filter((x) => /slalevels|batteries|TRACE_DELETED/.test(x.name))) await h.apply(root, glpi, ocs);
    const f = await audit(glpi, ocs);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-findings-'));
    for (const name of ['findings.yaml', 'findings.json']) {
      writeFindings(path.join(dir, name), f);
      expect(readFindings(path.join(dir, name))).toEqual(f);
    }
    expect(findingsAtOrAbove(f, 'bloquante').map((x) => x.id)).toEqual(['glpi.duplicates.slalevels_tickets']);
    expect(findingsAtOrAbove(f, 'majeure').length).toBe(2);
    expect(findingsAtOrAbove(f, 'mineure').length).toBe(3);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'format: 2\nfindings: []\nchecksRun: []\n');
    expect(() => readFindings(path.join(dir, 'bad.yaml'))).toThrow(/bad\.yaml: format 2 is newer than this tool understands \(format 1\)/);
    expect(() => readFindings(path.join(dir, 'missing.yaml'))).toThrow(/does not exist/);
  });
});

describe('audit of live DSNs never writes', () => {
  it('every statement the audit sends runs in a READ ONLY session (general log) and checksums are unchanged', async () => {
    const { glpi, ocs } = await pair();
    for (const h of HAZARDS.filter((x) => /slalevels|linked twice|deleted_equiv/.test(x.name))) await h.apply(root, glpi, ocs);
    const tables = async (db: string) => ((await root.query(`SELECT TABLE_NAME t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [db]))[0] as Array<{ t: string }>).map((r) => r.t);
    const sums = async () => {
      const out: Record<string, unknown> = {};
      for (const db of [glpi, ocs]) for (const t of await tables(db)) out[`${db}.${t}`] = ((await root.query(`CHECKSUM TABLE \`${db}\`.\`${t}\``))[0] as Array<{ Checksum: unknown }>)[0].Checksum;
      return out;
    };
    const before = await sums();
    const refDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-ref-live-'));
    const [[ddl]] = (await root.query(`SHOW CREATE TABLE \`${glpi}\`.glpi_displaypreferences`)) as unknown as [[Record<string, string>]];
    fs.writeFileSync(path.join(refDir, 'glpi-0.83.8-empty.sql'), `${ddl['Create Table']};\n`);
    const [[me]] = (await root.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
    await root.query("SET GLOBAL log_output = 'TABLE'");
    await root.query('TRUNCATE mysql.general_log');
    await root.query('SET GLOBAL general_log = 1');
    let f: FindingsFile;
    try {
      // With a reference directory: the scratch database must go to a separate embedded instance, not here.
      f = await runAudit({ live: { glpi: withDatabase(server.dsn, glpi), ocs: withDatabase(server.dsn, ocs) } }, { referenceDirs: [refDir] });
    } finally {
      await root.query('SET GLOBAL general_log = 0');
    }
    expect(found(f)).toEqual({ 'glpi.duplicates.slalevels_tickets': 3, 'link.multiple_links': 1, 'ocs.deleted_equiv_backlog': 2 });
    expect(f.checksRun.find((c) => c.id === 'glpi.schema.drift')?.status).toBe('ok');
    const [log] = await root.query(
      "SELECT thread_id AS t, command_type AS k, CONVERT(argument USING utf8mb4) AS a FROM mysql.general_log WHERE thread_id <> ? AND command_type IN ('Query', 'Connect') ORDER BY event_time, thread_id",
      [me.id],
    );
    const byThread = new Map<number, string[]>();
    for (const r of log as Array<{ t: number; k: string; a: string }>) {
      if (r.k !== 'Query') continue;
      (byThread.get(Number(r.t)) ?? byThread.set(Number(r.t), []).get(Number(r.t))!).push(r.a.trim());
    }
    expect(byThread.size).toBe(2); // one read-only session per database
    for (const statements of byThread.values()) {
      expect(statements[0]).toBe('SET SESSION TRANSACTION READ ONLY');
      for (const s of statements.slice(1)) expect(s, s).toMatch(/^(SELECT|SHOW|\/\*)/i);
    }
    expect(await sums()).toEqual(before);
  });
});

describe('audit command', () => {
  it('--help shows examples; nothing to audit → exit 2; missing snapshot dir → exit 4', async () => {
    const help = await runCli(['audit', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/--fail-on/);
    const none = await runCli(['audit']);
    expect(none.exitCode).toBe(ExitCode.USAGE);
    expect(none.stderr).toMatch(/^error: nothing to audit/m);
    const missing = await runCli(['audit', path.join(os.tmpdir(), 'no-such-snapshot-xyz')]);
    expect(missing.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('on live DSNs: grouped French report, -o findings file, --json, and --fail-on exit 8', async () => {
    const { glpi, ocs } = await pair();
    for (const h of HAZARDS.filter((x) => /slalevels|TRACE_DELETED/.test(x.name))) await h.apply(root, glpi, ocs);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-audit-cli-'));
    const out = path.join(dir, 'findings.yaml');
    const args = ['--glpi', formatDsn(withDatabase(server.dsn, glpi)), '--ocs', formatDsn(withDatabase(server.dsn, ocs))];
    const env = { MYSQL_PWD: server.dsn.password };
    const human = await runCli(['audit', ...args, '-o', out], { env });
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/Mise à jour de GLPI/);
    expect(human.stdout).toMatch(/\[BLOQUANTE\] glpi\.duplicates\.slalevels_tickets \(3\)/);
    expect(human.stdout).toMatch(/migration corrective glpi-dedup-slalevels-tickets/);
    expect(human.stdout).toMatch(/Interconnexion GLPI–OCS/);
    expect(
      readFindings(out)
        .findings.map((x) => x.id)
        .sort(),
    ).toEqual(['glpi.duplicates.slalevels_tickets', 'ocs.trace_deleted_off']);
    const json = await runCli(['--json', 'audit', ...args, '--lang', 'en'], { env });
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout).findings.length).toBe(2);
    const gate = await runCli(['audit', ...args, '--fail-on', 'majeure'], { env });
    expect(gate.exitCode).toBe(ExitCode.FINDINGS);
    expect(gate.stderr).toMatch(/^error: 2 finding\(s\) at or above "majeure"/m);
    const bad = await runCli(['audit', ...args, '--stale-days', 'abc'], { env });
    expect(bad.exitCode).toBe(ExitCode.USAGE);
  });
});

describe('other inputs', () => {
  it('a database that is not GLPI (or is empty) is refused with exit 11', async () => {
    const other = await server.freshDatabase('notglpi');
    await root.query(`CREATE TABLE \`${other}\`.wp_posts (id int)`);
    const empty = await server.freshDatabase('emptydb');
    const c = await server.connect();
    try {
      await expect(runAudit({ connections: { glpi: { conn: c, database: other } } })).rejects.toMatchObject({
        exitCode: ExitCode.UNSUPPORTED,
        message: expect.stringMatching(/is not a GLPI database/),
      });
      await expect(runAudit({ connections: { ocs: { conn: c, database: empty } } })).rejects.toMatchObject({ exitCode: ExitCode.UNSUPPORTED, message: expect.stringMatching(/is empty/) });
    } finally {
      await c.end();
    }
  });

  it('the 0.84 renamed connector tables (ocs_glpi_*) are audited too; the core-only migration becomes a manual remedy', async () => {
    const { glpi, ocs } = await pair();
    await HAZARDS.find((h) => h.name === 'a computer linked twice')!.apply(root, glpi, ocs);
    await root.query(`RENAME TABLE \`${glpi}\`.glpi_ocslinks TO \`${glpi}\`.ocs_glpi_ocslinks, \`${glpi}\`.glpi_ocsservers TO \`${glpi}\`.ocs_glpi_ocsservers`);
    const f = await audit(glpi, ocs);
    expect(found(f)).toEqual({ 'link.multiple_links': 1 });
    expect(f.findings[0].remedy.manual).toEqual(msg('audit.remedy.same-fix', { migration: 'glpi-ocslinks-dedup', table: 'ocs_glpi_ocslinks' }));
    expect(f.checksRun.find((c) => c.id === 'plugin.lost_profile_rights')?.status).toBe('skipped');
  });

  it('a snapshot directory is restored into an embedded instance and gives the same findings as the live audit', async () => {
    const { glpi, ocs } = await pair();
    for (const h of HAZARDS.filter((x) => /slalevels|never imported|NULL publisher/.test(x.name))) await h.apply(root, glpi, ocs);
    const live = await audit(glpi, ocs);
    const { takeSnapshot } = await import('../src/snapshot/index.ts');
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gou-audit-snap-')), 'snap');
    await takeSnapshot({
      sources: [
        { role: 'glpi', dsn: withDatabase(server.dsn, glpi) },
        { role: 'ocs', dsn: withDatabase(server.dsn, ocs) },
      ],
      outDir: dir,
      jobs: 1,
    });
    const r = await runCli(['--json', 'audit', dir]);
    expect(r.exitCode, r.stderr).toBe(0);
    const snap = JSON.parse(r.stdout) as FindingsFile;
    expect(snap.source.snapshotId).toMatch(/^[0-9a-f]{16,}/);
    expect(found(snap)).toEqual(found(live));
    expect(found(snap)).toEqual({ 'glpi.duplicates.slalevels_tickets': 3, 'link.never_imported': 2, 'ocs.software.null_fields': 3 });
  });
});
