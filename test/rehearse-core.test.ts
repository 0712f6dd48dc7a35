import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { createSavepoint, rollbackSavepoint, dropSavepoint } from '../src/rehearse/savepoint.ts';
import { databaseState, fingerprint, tableDeltas, untouchedChanged } from '../src/rehearse/checks.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';

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

describe('table deltas', () => {
  const s = (entries: Array<[string, number, string]>) => new Map(entries.map(([t, rows, checksum]) => [t, { rows, checksum }]));
  it('explains what the plan expects and raises the rest as anomalies', () => {
    const before = s([['softwares', 10, 'a'], ['hardware', 5, 'b'], ['batteries', 3, 'c'], ['config', 20, 'd']]);
    const after = s([['softwares', 7, 'x'], ['hardware', 4, 'b2'], ['batteries', 0, 'c2'], ['config', 21, 'd2'], ['snmp', 0, 'e']]);
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
    const before = s([['a', 1, 'x'], ['b', 1, 'y']]);
    const after = s([['a', 1, 'x'], ['b', 1, 'z']]);
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
