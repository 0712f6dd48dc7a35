import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { createSavepoint, rollbackSavepoint, dropSavepoint } from '../src/rehearse/savepoint.ts';
import { databaseState, fingerprint, refreshState, serverNow, stateDifferences, tableDeltas, untouchedChanged } from '../src/rehearse/checks.ts';
import { replayableSteps } from '../src/rehearse/replay.ts';
import { indexOnlyTablesInOcsSql } from '../src/rehearse/executors/ocs-sql.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';
import { executeStep } from '../src/rehearse/dispatch.ts';
import type { ExecutorContext, ExecutorResult } from '../src/rehearse/executors/types.ts';
import type { PlanStep, StepRunner } from '../src/plan/plan-types.ts';
import { englishIn, typographyFaults } from './helpers/french.ts';
import { literal } from '../src/i18n/messages.ts';
import { en, fr } from './helpers/reason.ts';

let server: TestServer;
let c: Connection;
beforeAll(async () => {
  server = await startTestServer();
  c = await server.connect();
});
afterAll(async () => {
  await c?.end();
  await server?.stop();
});

describe('savepoints', () => {
  it('puts tables back byte for byte after a half-run step, dropping what it created', async () => {
    const db = await server.freshDatabase('sp');
    await c.query("SET SESSION sql_mode = ''");
    await c.query(`CREATE TABLE \`${db}\`.a (id int PRIMARY KEY, d datetime, t text CHARACTER SET latin1) ENGINE=MyISAM`);
    await c.query(`CREATE TABLE \`${db}\`.b (id int PRIMARY KEY, v varchar(10)) ENGINE=InnoDB`);
    await c.query(`INSERT INTO \`${db}\`.a VALUES (1, '0000-00-00 00:00:00', 0xC3A9C3A8), (2, NULL, '')`);
    await c.query(`INSERT INTO \`${db}\`.b VALUES (1, 'x')`);
    const before = await databaseState(c, db);
    const sp = await createSavepoint(c, db, ['a', 'new_table']);
    // The "step": alters a, deletes rows, creates a table, then dies.
    await c.query(`ALTER TABLE \`${db}\`.a ADD COLUMN extra int`);
    await c.query(`DELETE FROM \`${db}\`.a WHERE id = 2`);
    await c.query(`CREATE TABLE \`${db}\`.new_table (id int)`);
    expect(fingerprint({ db: await databaseState(c, db) })).not.toBe(fingerprint({ db: before }));
    await rollbackSavepoint(c, sp);
    await dropSavepoint(c, sp);
    const after = await databaseState(c, db);
    expect([...after.keys()].sort()).toEqual(['a', 'b']);
    expect(fingerprint({ db: after })).toBe(fingerprint({ db: before }));
  });

  it('with "all", also drops tables the step created that it did not name', async () => {
    const db = await server.freshDatabase('spall');
    await c.query(`CREATE TABLE \`${db}\`.a (id int PRIMARY KEY)`);
    const before = await databaseState(c, db);
    const sp = await createSavepoint(c, db, 'all');
    await c.query(`CREATE TABLE \`${db}\`.surprise (id int)`);
    await c.query(`INSERT INTO \`${db}\`.a VALUES (5)`);
    await rollbackSavepoint(c, sp);
    expect(fingerprint({ db: await databaseState(c, db) })).toBe(fingerprint({ db: before }));
  });
});

/** Waits until the server's clock is in a later second than `t` (so that UPDATE_TIME can tell them apart). */
async function nextSecond(t: number): Promise<void> {
  while (Math.floor(await serverNow(c)) <= Math.floor(t)) await new Promise((r) => setTimeout(r, 100));
}

describe('checks between steps: carried forward unless the table shows a sign of change', () => {
  async function tables(label: string): Promise<string> {
    const db = await server.freshDatabase(label);
    for (const [t, engine] of [
      ['a', 'InnoDB'],
      ['b', 'MyISAM'],
      ['c', 'InnoDB'],
      ['d', 'InnoDB'],
      ['e', 'MyISAM'],
    ] as const) {
      await c.query(`CREATE TABLE \`${db}\`.${t} (id int PRIMARY KEY, v varchar(20), w int) ENGINE=${engine}`);
      await c.query(`INSERT INTO \`${db}\`.${t} SELECT seq, CONCAT('value ', seq), seq % 7 FROM \`${db}\`.seq_1_to_500`);
    }
    return db;
  }

  it('reads again the tables that changed (rows, DDL, in-place updates of tables the step may touch) and carries the others', async () => {
    const db = await tables('refresh');
    const since = await serverNow(c);
    const before = await databaseState(c, db);
    // The "step", within the same second as `since` for the in-place updates of a and b (named).
    await c.query(`UPDATE \`${db}\`.a SET w = w + 1 WHERE id = 3`);
    await c.query(`UPDATE \`${db}\`.b SET v = 'changed' WHERE id = 4`);
    await c.query(`DELETE FROM \`${db}\`.c WHERE id = 9`);
    await c.query(`ALTER TABLE \`${db}\`.d ADD COLUMN extra int DEFAULT 5`);
    const r = await refreshState(c, db, before, { since, mayTouch: new Set(['a', 'b']) });
    expect(r.measured).toEqual(['a', 'b', 'c', 'd']);
    // e was carried forward, and the carried state is the exact state.
    expect(fingerprint({ db: r.state })).toBe(fingerprint({ db: await databaseState(c, db) }));
    expect(stateDifferences(before, r.state)).toEqual(['a', 'b', 'c', 'd']);
    // c and d are outside the step's reach: their change is reported.
    expect(untouchedChanged(before, r.state, new Set(['a', 'b'])).changed).toEqual(['c', 'd']);
  });

  it('sees an in-place update of a table the step may not touch once a second has passed since its last change', async () => {
    const db = await tables('refresh2');
    await nextSecond(await serverNow(c));
    const since = await serverNow(c);
    const before = await databaseState(c, db);
    await nextSecond(since);
    await c.query(`UPDATE \`${db}\`.c SET w = w + 1 WHERE id = 3`);
    await c.query(`UPDATE \`${db}\`.e SET v = 'changed' WHERE id = 4`);
    const r = await refreshState(c, db, before, { since, mayTouch: new Set(['a']) });
    expect(r.measured).toEqual(['c', 'e']);
    expect(untouchedChanged(before, r.state, new Set(['a'])).changed).toEqual(['c', 'e']);
    expect(fingerprint({ db: r.state })).toBe(fingerprint({ db: await databaseState(c, db) }));
  });

  it('a table the step only re-indexes is counted and keeps its checksum; one whose rows moved is read in full', async () => {
    const db = await tables('refresh-idx');
    const since = await serverNow(c);
    const before = await databaseState(c, db);
    await c.query(`ALTER TABLE \`${db}\`.a ADD INDEX w (w), DROP PRIMARY KEY, ADD PRIMARY KEY (id)`);
    await c.query(`ALTER TABLE \`${db}\`.b ADD INDEX v (v)`);
    await c.query(`DELETE FROM \`${db}\`.b WHERE id = 1`); // contrary to what its SQL says: rows moved
    const r = await refreshState(c, db, before, { since, mayTouch: new Set(['a', 'b']), indexOnly: new Set(['a', 'b']) });
    expect(r.measured).toEqual(['a', 'b']);
    const exact = await databaseState(c, db);
    // a: same rows, same checksum (an index does not enter CHECKSUM TABLE), carried forward.
    expect(r.state.get('a')).toMatchObject({ rows: 500, checksum: before.get('a')!.checksum });
    expect(r.state.get('a')!.meta).not.toBe(before.get('a')!.meta);
    expect(exact.get('a')!.checksum).toBe(before.get('a')!.checksum);
    // b: its count moved, so its checksum was read again.
    expect(r.state.get('b')!.rows).toBe(499);
    expect(r.state.get('b')!.checksum).toBe(exact.get('b')!.checksum);
    expect(fingerprint({ db: r.state })).toBe(fingerprint({ db: exact }));
    // With measure: false, nothing is read: only the carried-forward tables come back.
    const plan = await refreshState(c, db, r.state, { since: r.now, mayTouch: new Set<string>(), measure: false });
    expect(plan.measured).toEqual([]);
    expect(fingerprint({ db: plan.state })).toBe(fingerprint({ db: exact }));
  });

  it('reads which tables an OCS file only re-indexes', () => {
    const sql = [
      'ALTER TABLE `accesslog`\n  DROP PRIMARY KEY,\n  DROP INDEX `ID`,\n  ADD PRIMARY KEY (`ID`),\n  ADD INDEX(`HARDWARE_ID`);',
      'CREATE FULLTEXT INDEX name_ft_idx ON softwares (NAME);',
      'ALTER TABLE `hardware` ADD INDEX (`NAME`);',
      'ALTER TABLE `hardware` ADD COLUMN `ARCHIVE` INT(11) DEFAULT NULL;',
      'ALTER IGNORE TABLE `bios` ADD UNIQUE KEY `hw` (`HARDWARE_ID`);',
      'ALTER TABLE `archive` ADD FOREIGN KEY (`HARDWARE_ID`) REFERENCES `hardware`(`ID`);',
      "INSERT INTO config VALUES ('X', 1, '', '');",
      'ALTER TABLE `drives` ADD UNIQUE (`ID`, `HARDWARE_ID`);',
    ].join('\n');
    expect(indexOnlyTablesInOcsSql(sql)).toEqual(['accesslog', 'drives', 'softwares']);
  });

  it('a table created or dropped by the step is measured or gone; several connections give the same state', async () => {
    const db = await tables('refresh3');
    const since = await serverNow(c);
    const before = await databaseState(c, db);
    await c.query(`CREATE TABLE \`${db}\`.f (id int PRIMARY KEY)`);
    await c.query(`INSERT INTO \`${db}\`.f VALUES (1), (2)`);
    await c.query(`DROP TABLE \`${db}\`.b`);
    const other = await server.connect();
    try {
      const r = await refreshState(c, db, before, { since, mayTouch: 'all', conns: [c, other] });
      expect(r.measured).toContain('f');
      expect([...r.state.keys()]).toEqual(['a', 'c', 'd', 'e', 'f']);
      expect(r.state.get('f')?.rows).toBe(2);
      const full = await databaseState(c, db, { conns: [c, other] });
      expect(fingerprint({ db: r.state })).toBe(fingerprint({ db: full }));
      expect(fingerprint({ db: full })).toBe(fingerprint({ db: await databaseState(c, db) }));
    } finally {
      await other.end();
    }
  });
});

describe('replay savepoints', () => {
  it('are used for SQL steps the tool runs itself, until a step of another kind writes the same database', () => {
    const step = (id: string, database: 'glpi' | 'ocs', kind: string) => ({ id, database, runner: { kind } });
    const plan = {
      steps: [
        step('fix-glpi', 'glpi', 'corrective-migration'),
        step('fix-ocs', 'ocs', 'corrective-migration'),
        step('ocs-bridge-7006', 'ocs', 'ocs-bridge'),
        step('glpi-10.0', 'glpi', 'glpi-console'),
        step('ocs-7007', 'ocs', 'ocs-update-file'),
        step('fix-glpi-after', 'glpi', 'corrective-migration'),
        step('plugin', 'glpi', 'plugin-install'),
      ],
    } as unknown as PlanFile;
    expect([...replayableSteps(plan)]).toEqual(['fix-glpi', 'fix-ocs', 'ocs-bridge-7006', 'ocs-7007']);
  });
});

describe('table deltas', () => {
  const s = (entries: Array<[string, number, string]>) => new Map(entries.map(([t, rows, checksum]) => [t, { rows, checksum }]));
  it('explains what the plan expects and raises the rest as anomalies', () => {
    const before = s([
      ['softwares', 10, 'a'],
      ['hardware', 5, 'b'],
      ['batteries', 3, 'c'],
      ['config', 20, 'd'],
    ]);
    const after = s([
      ['softwares', 7, 'x'],
      ['hardware', 4, 'b2'],
      ['batteries', 0, 'c2'],
      ['config', 21, 'd2'],
      ['snmp', 0, 'e'],
    ]);
    const deltas = tableDeltas(before, after, {
      expected: { tablesCreated: ['snmp'], tablesDropped: ['batteries'], tablesTouched: ['config', 'softwares'] },
      deletedOnPurpose: { softwares: 3 },
    });
    const byTable = Object.fromEntries(deltas.map((d) => [d.table, d.verdict]));
    expect(byTable).toEqual({ batteries: 'expected', config: 'expected', hardware: 'anomaly', snmp: 'expected', softwares: 'expected' });
    // A deletion count that differs from what the executor reported is not explained.
    const off = tableDeltas(before, after, { expected: { tablesTouched: ['softwares'] }, deletedOnPurpose: { softwares: 2 } });
    expect(off.find((d) => d.table === 'softwares')?.verdict).toBe('anomaly');
  });
  it('flags checksum changes of tables the step must not touch', () => {
    const before = s([
      ['a', 1, 'x'],
      ['b', 1, 'y'],
    ]);
    const after = s([
      ['a', 1, 'x'],
      ['b', 1, 'z'],
    ]);
    expect(untouchedChanged(before, after, new Set(['a']))).toEqual({ checked: 1, changed: ['b'] });
    expect(untouchedChanged(before, after, new Set(['b']))).toEqual({ checked: 1, changed: [] });
  });
});

describe('journal', () => {
  it('records what finished and what was in flight, tolerating a torn last line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-journal-'));
    const j = new Journal(dir);
    j.append({ event: 'run-started', runId: 'r1', plan: 'p', snapshot: 's', instance: 'i' });
    j.append({ event: 'restore-finished', tables: 3, ok: true });
    j.append({ event: 'step-started', stepId: 'one' });
    j.append({ event: 'step-finished', stepId: 'one', status: 'passed', durationMs: 5, fingerprint: 'f1' });
    j.append({ event: 'step-started', stepId: 'two' });
    fs.appendFileSync(j.file, '{"t":"2026-01-01T00:00:00Z","event":"step-fin');
    const st = journalState(j.read());
    expect(st.runId).toBe('r1');
    expect(st.restored).toBe(true);
    expect(st.finished.get('one')).toEqual({ status: 'passed', fingerprint: 'f1' });
    expect(st.inFlight).toBe('two');
    expect(st.complete).toBe(false);
  });
});

describe('step reasons in English and in French', () => {
  const step = (id: string, database: 'glpi' | 'ocs', runner: StepRunner): PlanStep => ({
    id,
    product: database === 'glpi' ? 'glpi' : 'ocs',
    database,
    title: literal(id, id),
    runner,
    from: '',
    to: '',
    requires: {},
    before: [],
    expected: {},
    hazards: [],
    explanation: literal('', ''),
  });
  const ctxFor = (runDir: string, databases: ExecutorContext['databases']): ExecutorContext => ({
    conn: c,
    dsn: server.dsn,
    databases,
    runDir,
    evidenceDir: path.join(runDir, 'evidence', 'x'),
    dists: {},
    php: '/nonexistent/php',
    log: () => undefined,
  });
  /** The twin is there, is not the English text, and is French prose with French typography. */
  const expectTwin = (r: ExecutorResult, label: string) => {
    expect(en(r), label).toEqual(expect.any(String));
    expect(fr(r), `${label}: ${en(r)}`).toEqual(expect.any(String));
    expect(fr(r), label).not.toBe(en(r));
    expect(englishIn(fr(r)!), `${label}: ${fr(r)}`).toEqual([]);
    expect(typographyFaults(fr(r)!), `${label}: ${fr(r)}`).toEqual([]);
  };

  it('corrective migrations, steps without their database, distribution or executor, and dry runs all carry a French reason', async () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-reasons-'));
    try {
      const db = await server.freshDatabase('reasons');
      await c.query(`CREATE TABLE \`${db}\`.glpi_slalevels_tickets (id INT PRIMARY KEY, tickets_id INT, slalevels_id INT, date DATETIME)`);
      await c.query(`INSERT INTO \`${db}\`.glpi_slalevels_tickets VALUES (1, 7, 1, NULL), (2, 7, 1, NULL), (3, 7, 1, NULL), (4, 8, 1, NULL)`);
      const ctx = ctxFor(runDir, { glpi: db });
      const fix = step('fix-glpi-dedup-slalevels-tickets', 'glpi', { kind: 'corrective-migration', migration: 'glpi-dedup-slalevels-tickets' });
      const applied = await executeStep(fix, ctx, { dryRun: false });
      expect(applied.status).toBe('passed');
      expect([en(applied), fr(applied)]).toEqual(['pre-check 2 → post-check 0; 1 statement(s)', 'contrôle préalable : 2 ligne(s) → contrôle final : 0 ; 1 instruction(s)']);
      const nothing = await executeStep(fix, ctx, { dryRun: false });
      expect(nothing.status).toBe('passed');
      expect(fr(nothing)).toBe('rien à corriger : le contrôle préalable ne trouve aucune ligne');

      const results: Array<[string, ExecutorResult]> = [
        ['corrective applied', applied],
        ['corrective with nothing to fix', nothing],
        ['unknown corrective migration', await executeStep(step('fix-x', 'glpi', { kind: 'corrective-migration', migration: 'no-such-migration' }), ctx, { dryRun: false })],
        ['corrective without its database', await executeStep(step('fix-o', 'ocs', { kind: 'corrective-migration', migration: 'ocs-softwares-fill-nulls' }), ctx, { dryRun: false })],
        ['OCS bridge without the OCS database', await executeStep(step('ocs-bridge-7006', 'ocs', { kind: 'ocs-bridge', toGuiVersion: 7006 }), ctx, { dryRun: false })],
        [
          'OCS update without a distribution',
          await executeStep(step('ocs-7007', 'ocs', { kind: 'ocs-update-file', guiVersion: 7007, file: '7007.sql' }), ctxFor(runDir, { ocs: db }), { dryRun: false }),
        ],
        [
          'GLPI console without a distribution',
          await executeStep(step('glpi-db-update', 'glpi', { kind: 'glpi-console', release: '10.0.22', command: 'db:update', args: [] }), ctx, { dryRun: false }),
        ],
        ['GLPI console, dry run', await executeStep(step('glpi-db-update', 'glpi', { kind: 'glpi-console', release: '10.0.22', command: 'db:update', args: [] }), ctx, { dryRun: true })],
        [
          'GLPI < 9.4 CLI updater',
          await executeStep(step('glpi-0.84', 'glpi', { kind: 'glpi-console', release: '0.84.8', command: 'update', args: [], entry: 'scripts/cliupdate.php' }), ctx, { dryRun: false }),
        ],
        [
          'GLPI console without the GLPI database',
          await executeStep(step('glpi-db-update', 'glpi', { kind: 'glpi-console', release: '10.0.22', command: 'db:update', args: [] }), ctxFor(runDir, {}), { dryRun: false }),
        ],
        ['plugin without its release', await executeStep(step('plugin', 'glpi', { kind: 'plugin-install', pluginVersion: '2.0.5', glpiRelease: '10.0.22' }), ctx, { dryRun: false })],
        ['plugin, dry run', await executeStep(step('plugin', 'glpi', { kind: 'plugin-install', pluginVersion: '2.0.5', glpiRelease: '10.0.22' }), ctx, { dryRun: true })],
      ];
      for (const [label, r] of results) expectTwin(r, label);
      const byLabel = Object.fromEntries(results);
      expect(fr(byLabel['GLPI console without a distribution'])).toBe('aucune distribution de GLPI 10.0.22 : indiquer avec --glpi-dist DIR l’archive décompressée de GLPI 10.0.22');
      expect(fr(byLabel['GLPI console, dry run'])).toBe('exécution à blanc : aucune distribution de GLPI 10.0.22 : indiquer avec --glpi-dist DIR l’archive décompressée de GLPI 10.0.22');
      expect(en(byLabel['GLPI console, dry run'])).toMatch(/^dry run: no GLPI 10\.0\.22 distribution/);
      expect(fr(byLabel['corrective without its database'])).toBe('la répétition n’a pas de base OCS');
    } finally {
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  });
});
