import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { HAZARDS, pairMaker, auditPair } from './audit-db.ts';
import { applyCorrectiveMigration } from '../src/rehearse/executors/corrective.ts';
import type { FindingsFile } from '../src/audit/index.ts';
import { loadCorrectiveMigrations } from '../src/catalog/corrective.ts';
import { describeSchema, diffSchemas } from '../src/db/schema.ts';
import { markAsTestInstance, MARKER_SCHEMA } from '../src/db/interlock.ts';
import { ExitCode } from '../src/errors.ts';

let server: TestServer;
let root: Connection;

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  pair = pairMaker(server, () => root, 'c');
});
afterAll(async () => {
  await root?.end();
  await server?.stop();
});

/** A fresh clean GLPI + OCS pair of databases (set once the server is up). */
let pair: () => Promise<{ glpi: string; ocs: string }>;
const audit = (glpi: string, ocs: string): Promise<FindingsFile> => auditPair(server, glpi, ocs);

async function checksums(db: string): Promise<Record<string, string>> {
  const [tables] = await root.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [db]);
  const out: Record<string, string> = {};
  for (const { t } of tables as Array<{ t: string }>) {
    const [r] = await root.query(`CHECKSUM TABLE \`${db}\`.\`${t}\``);
    out[t] = String((r as Array<{ Checksum: unknown }>)[0].Checksum);
  }
  return out;
}

/** migration id → the hazard it repairs, the finding that must disappear, and the row delta of its table(s). */
const CASES: Array<{ migration: string; hazard: string; finding: string; rowDelta: Record<string, number> }> = [
  { migration: 'glpi-dedup-slalevels-tickets', hazard: 'duplicate glpi_slalevels_tickets rows', finding: 'glpi.duplicates.slalevels_tickets', rowDelta: { glpi_slalevels_tickets: -3 } },
  { migration: 'glpi-rename-duplicate-states', hazard: 'two states with the same name at the same level', finding: 'glpi.duplicates.states', rowDelta: { glpi_states: 0 } },
  { migration: 'glpi-dedup-tickets-tickets', hazard: 'duplicate ticket links', finding: 'glpi.duplicates.tickets_tickets', rowDelta: { glpi_tickets_tickets: -1 } },
  {
    migration: 'glpi-dedup-tickettemplatehiddenfields',
    hazard: 'duplicate hidden fields of a ticket template',
    finding: 'glpi.duplicates.tickettemplatehiddenfields',
    rowDelta: { glpi_tickettemplatehiddenfields: -2 },
  },
  {
    migration: 'glpi-dedup-tickettemplatemandatoryfields',
    hazard: 'duplicate mandatory fields of a ticket template',
    finding: 'glpi.duplicates.tickettemplatemandatoryfields',
    rowDelta: { glpi_tickettemplatemandatoryfields: -1 },
  },
  { migration: 'glpi-rename-duplicate-users', hazard: 'duplicate users once the 0.83.8 key was dropped', finding: 'glpi.duplicates.users', rowDelta: { glpi_users: 0 } },
  {
    migration: 'glpi-dedup-computers-softwareversions',
    hazard: 'duplicate software installations once the key was dropped',
    finding: 'glpi.duplicates.computers_softwareversions',
    rowDelta: { glpi_computers_softwareversions: -1 },
  },
  { migration: 'glpi-dedup-documents-items', hazard: 'duplicate document links once the key was dropped', finding: 'glpi.duplicates.documents_items', rowDelta: { glpi_documents_items: -1 } },
  {
    migration: 'glpi-dedup-displaypreferences',
    hazard: 'displaypreferences without its unicity key, with duplicates',
    finding: 'glpi.duplicates.displaypreferences',
    rowDelta: { glpi_displaypreferences: -2 },
  },
  { migration: 'glpi-null-zero-dates', hazard: 'zero dates', finding: 'glpi.dates.zero_values', rowDelta: { glpi_computers: 0, glpi_infocoms: 0 } },
  { migration: 'glpi-ocslinks-orphans', hazard: 'a link without its GLPI computer', finding: 'link.orphan_links', rowDelta: { glpi_ocslinks: -1 } },
  { migration: 'glpi-ocslinks-dedup', hazard: 'a computer linked twice', finding: 'link.multiple_links', rowDelta: { glpi_ocslinks: -1 } },
  { migration: 'glpi-repair-charset-locations', hazard: 'glpi_locations converted to latin1', finding: 'glpi.tables.mixed_collations', rowDelta: { glpi_locations: 0 } },
  { migration: 'glpi-repair-charset-computers', hazard: 'glpi_computers converted to latin1', finding: 'glpi.tables.mixed_collations', rowDelta: { glpi_computers: 0 } },
  { migration: 'ocs-softwares-fill-nulls', hazard: 'OCS software with NULL publisher or version', finding: 'ocs.software.null_fields', rowDelta: { softwares: 0 } },
  { migration: 'ocs-tables-to-innodb', hazard: 'OCS inventory tables converted to MyISAM', finding: 'ocs.tables.myisam', rowDelta: { hardware: 0, softwares: 0 } },
];

describe('corrective migrations', () => {
  it('every migration file has a test case here', () => {
    expect(
      loadCorrectiveMigrations()
        .map((m) => m.id)
        .sort(),
    ).toEqual(CASES.map((c) => c.migration).sort());
  });

  for (const k of CASES) {
    it(`${k.migration}: removes ${k.finding}, changes nothing outside ${Object.keys(k.rowDelta).join(', ')}, and is idempotent`, async () => {
      const m = loadCorrectiveMigrations().find((x) => x.id === k.migration)!;
      const hazard = HAZARDS.find((h) => h.name === k.hazard)!;
      const { glpi, ocs } = await pair();
      await hazard.apply(root, glpi, ocs);
      const before = await audit(glpi, ocs);
      expect(before.findings.map((f) => f.id)).toContain(k.finding);
      const target = m.database === 'glpi' ? glpi : ocs;
      const other = m.database === 'glpi' ? ocs : glpi;
      const sumTarget = await checksums(target);
      const sumOther = await checksums(other);

      const c = await server.connect();
      try {
        const r = await applyCorrectiveMigration(c, m, { db: target, glpi_db: glpi, ocs_db: ocs });
        expect(r).toMatchObject({ id: k.migration, ok: true, applied: true, postcheck: 0, statementsRun: m.statements.length });
        expect(r.precheck).toBeGreaterThan(0);
        for (const [t, d] of Object.entries(k.rowDelta)) expect(r.rowsAfter[t]! - r.rowsBefore[t]!, t).toBe(d);
        // The session's sql_mode is restored.
        const [[mode]] = (await c.query('SELECT @@SESSION.sql_mode AS m')) as unknown as [[{ m: string }]];
        expect(mode.m).toMatch(/STRICT_TRANS_TABLES/);
        // Idempotent: nothing left to do.
        const again = await applyCorrectiveMigration(c, m, { db: target, glpi_db: glpi, ocs_db: ocs });
        expect(again).toMatchObject({ applied: false, precheck: 0, postcheck: 0, ok: true, statementsRun: 0 });
      } finally {
        await c.end();
      }

      const after = await audit(glpi, ocs);
      expect(after.findings.map((f) => f.id)).not.toContain(k.finding);
      const newTarget = await checksums(target);
      for (const [t, sum] of Object.entries(sumTarget)) {
        if (!m.touches.includes(t)) expect(newTarget[t], `${t} must be untouched`).toBe(sum);
      }
      expect(await checksums(other)).toEqual(sumOther);
    });
  }

  it('glpi-dedup-displaypreferences re-adds the unique key; glpi-repair-charset-computers restores the exact clean definition and data', async () => {
    const { glpi, ocs } = await pair();
    const cleanShape = (await describeSchema(root, glpi)).get('glpi_computers')!;
    const cleanSum = (await checksums(glpi)).glpi_computers;
    for (const name of ['displaypreferences without its unicity key, with duplicates', 'glpi_computers converted to latin1']) {
      await HAZARDS.find((h) => h.name === name)!.apply(root, glpi, ocs);
    }
    const c = await server.connect();
    try {
      for (const id of ['glpi-dedup-displaypreferences', 'glpi-repair-charset-computers']) {
        const r = await applyCorrectiveMigration(c, loadCorrectiveMigrations().find((x) => x.id === id)!, { db: glpi });
        expect(r.ok, id).toBe(true);
      }
    } finally {
      await c.end();
    }
    const [idx] = await root.query(`SHOW INDEX FROM \`${glpi}\`.glpi_displaypreferences WHERE Key_name = 'unicity'`);
    expect((idx as Array<{ Non_unique: number; Column_name: string }>).map((x) => [Number(x.Non_unique), x.Column_name])).toEqual([
      [0, 'users_id'],
      [0, 'itemtype'],
      [0, 'num'],
    ]);
    const repaired = (await describeSchema(root, glpi)).get('glpi_computers')!;
    expect(diffSchemas(new Map([['glpi_computers', cleanShape]]), new Map([['glpi_computers', repaired]]))).toEqual([]);
    expect((await checksums(glpi)).glpi_computers).toBe(cleanSum);
    const [[row]] = (await root.query(`SELECT name, comment FROM \`${glpi}\`.glpi_computers WHERE id = 1`)) as unknown as [[{ name: string; comment: string }]];
    expect(row).toEqual({ name: 'PC-ÉTÉ-001', comment: 'Poste de la Société Générale Électronique' });
  });

  it('renames keep every reference: duplicate users become name-dupID, the newest keeps its name', async () => {
    const { glpi, ocs } = await pair();
    await HAZARDS.find((h) => h.name === 'duplicate users once the 0.83.8 key was dropped')!.apply(root, glpi, ocs);
    await root.query(`INSERT INTO \`${glpi}\`.glpi_users (id, name, auths_id, authtype) VALUES (10, 'bob', 0, 1)`);
    const c = await server.connect();
    try {
      await applyCorrectiveMigration(c, loadCorrectiveMigrations().find((x) => x.id === 'glpi-rename-duplicate-users')!, { db: glpi });
    } finally {
      await c.end();
    }
    const [rows] = await root.query(`SELECT id, name FROM \`${glpi}\`.glpi_users WHERE name LIKE 'bob%' ORDER BY id`);
    const names = (rows as Array<{ id: number; name: string }>).map((r) => `${r.id}:${r.name}`);
    // 0.83.8's key is UNIQUE(name), whatever the authentication source: 3, 4, 5, 10 → 10 (newest) keeps its
    // name and the key is re-added (GLPI's schema check refuses the database without it).
    expect(names).toEqual(['3:bob-dup3', '4:bob-dup4', '5:bob-dup5', '10:bob']);
    const [keys] = await root.query(`SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'glpi_users' AND INDEX_NAME = 'unicity' AND NON_UNIQUE = 0`, [
      glpi,
    ]);
    expect(Number((keys as Array<{ n: number }>)[0].n)).toBe(1);
  });

  it('refuses a server that is not a marked test instance (exit 6), and writes nothing', async () => {
    const { glpi, ocs } = await pair();
    await HAZARDS.find((h) => h.name === 'duplicate ticket links')!.apply(root, glpi, ocs);
    const before = await checksums(glpi);
    await root.query(`DROP DATABASE \`${MARKER_SCHEMA}\``);
    const c = await server.connect();
    try {
      await expect(applyCorrectiveMigration(c, loadCorrectiveMigrations().find((x) => x.id === 'glpi-dedup-tickets-tickets')!, { db: glpi })).rejects.toMatchObject({
        exitCode: ExitCode.REFUSED,
      });
    } finally {
      await c.end();
      await markAsTestInstance(root, 'restored by audit-corrective.test.ts');
    }
    expect(await checksums(glpi)).toEqual(before);
  });

  it('a failing statement ends as StepFailedError (exit 7) naming the migration', async () => {
    const { glpi } = await pair();
    await root.query(`ALTER TABLE \`${glpi}\`.glpi_displaypreferences DROP INDEX unicity`);
    // A non-unique index already named "unicity" makes the re-add fail.
    await root.query(`ALTER TABLE \`${glpi}\`.glpi_displaypreferences ADD INDEX unicity (users_id)`);
    const c = await server.connect();
    try {
      await expect(applyCorrectiveMigration(c, loadCorrectiveMigrations().find((x) => x.id === 'glpi-dedup-displaypreferences')!, { db: glpi })).rejects.toMatchObject({
        exitCode: ExitCode.STEP_FAILED,
        message: expect.stringMatching(/^corrective migration glpi-dedup-displaypreferences: statement 2 failed/),
      });
    } finally {
      await c.end();
    }
  });
});
