/**
 * `apply` and `rollback` against "production": an embedded server that is NOT marked as a test instance
 * (the marker is dropped after the fixture is loaded), with the bundled fixture's OCS plan rehearsed first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { execa } from 'execa';
import mysql from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { BIN, runCli } from './helpers/cli.ts';
import { FIXTURE, rehearsedProduction, type Production } from './helpers/production.ts';
import { restoreSnapshot } from '../src/snapshot/index.ts';
import { obtainDebianOcsDist } from '../src/distributions/ocs.ts';
import type { OcsDistribution } from '../src/distributions/ocs.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';
import { baseOptions } from '../src/db/connect.ts';
import { startEmbedded } from '../src/db/embedded.ts';
import type { EmbeddedInstance } from '../src/db/embedded.ts';
import { isMarkedTestInstance, MARKER_SCHEMA } from '../src/db/interlock.ts';
import { ExitCode } from '../src/errors.ts';
import { englishIn, typographyFaults } from './helpers/french.ts';
import { LOCK_FILE } from '../src/rehearse/lock.ts';
import { processStartTime } from '../src/rehearse/processes.ts';
import { PRODUCTION_LOCK_NAME } from '../src/apply/lock.ts';

const CACHE = path.join(os.tmpdir(), 'gou-test-cache');
let debian: OcsDistribution;
let P: Production;
let work: string;
let prod: EmbeddedInstance;
let hostPort: string;
let rehearsed: string;
let root: Connection;
let env: Production['env'];

function applyArgs(runDir: string, ...extra: string[]): string[] {
  return ['apply', runDir, '--glpi', P.dsnFor('glpi'), '--ocs', P.dsnFor('ocsweb'), '--ocs-dist', debian.dir, '--confirm', hostPort, ...extra];
}
function rollbackArgs(runDir: string, confirm = hostPort): string[] {
  return ['rollback', runDir, '--glpi', P.dsnFor('glpi'), '--ocs', P.dsnFor('ocsweb'), '--confirm', confirm];
}

beforeAll(async () => {
  debian = await obtainDebianOcsDist(CACHE);
  P = await rehearsedProduction({ name: 'apply', database: 'ocs', targets: { ocs: '2.11.1' }, dists: { ocs: [debian] } });
  ({ work, prod, hostPort, rehearsed, root, env } = P);
  expect(P.run.complete).toBe(true);
}, 900_000);

afterAll(async () => {
  await P?.close();
});

describe('apply refuses, writing nothing', () => {
  it('a wrong --confirm exits 6; a plan other than the rehearsed one exits 15', async () => {
    const runDir = P.copyRun('refuse-confirm');
    const wrong = await runCli(['apply', runDir, '--glpi', P.dsnFor('glpi'), '--ocs', P.dsnFor('ocsweb'), '--ocs-dist', debian.dir, '--confirm', '127.0.0.1:1'], { env });
    expect(wrong.exitCode, wrong.stderr).toBe(ExitCode.REFUSED);
    expect(wrong.stderr).toMatch(/--confirm 127\.0\.0\.1:1 does not name the production server/);
    const other = path.join(work, 'other-plan.yaml');
    fs.writeFileSync(other, `${fs.readFileSync(path.join(runDir, 'plan.yaml'), 'utf8')}\n# edited\n`);
    const plan = await runCli(applyArgs(runDir, '--plan', other), { env });
    expect(plan.exitCode, plan.stderr).toBe(ExitCode.APPLY_REFUSED);
    expect(plan.stderr).toMatch(/is not the rehearsed plan \(sha256/);
    expect(plan.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);
    expect(await P.differencesFromFixture()).toEqual([]);
  });

  it('--dry-run: the read-only checks and a downtime estimate from the rehearsal, nothing written', async () => {
    const runDir = P.copyRun('dry-run');
    const r = await runCli([...applyArgs(runDir, '--dry-run'), '--json'], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { preflight: Array<{ check: string; status: string }>; estimate: { totalMs: number; steps: unknown[]; windowMs: number } };
    expect(doc.preflight.map((p) => p.check)).toEqual(['sessions', 'versions', 'structure', 'audit', 'distributions', 'rollback-possible']);
    expect(doc.estimate.steps.length).toBeGreaterThan(50);
    expect(doc.estimate.totalMs).toBeGreaterThan(0);
    expect(doc.estimate.windowMs).toBeGreaterThan(doc.estimate.totalMs);
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);
    expect(await P.differencesFromFixture()).toEqual([]);
    // Not the rehearsal's distributions: refused.
    const noDist = await runCli(
      applyArgs(runDir).filter((a, i, all) => a !== '--ocs-dist' && all[i - 1] !== '--ocs-dist'),
      { env },
    );
    expect(noDist.exitCode, noDist.stderr).toBe(ExitCode.APPLY_REFUSED);
    expect(noDist.stderr).toMatch(/the distributions given \(none\) are not the rehearsal's/);
  });

  it('another session connected to a database: refused, naming it', async () => {
    const runDir = P.copyRun('refuse-session');
    const other = await mysql.createConnection(baseOptions({ ...prod.dsn, database: 'ocsweb' }));
    try {
      const r = await runCli(applyArgs(runDir), { env });
      expect(r.exitCode, r.stderr).toBe(ExitCode.APPLY_REFUSED);
      expect(r.stderr).toContain(`session ${other.threadId} root@`);
      expect(r.stderr).toMatch(/on ocsweb .*OCS communication server/);
    } finally {
      await other.end();
    }
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);
  });

  it('a structure change in production after the snapshot: refused', async () => {
    const runDir = P.copyRun('refuse-structure');
    await root.query('ALTER TABLE ocsweb.accountinfo ADD COLUMN fields_99 VARCHAR(10) NULL');
    try {
      const r = await runCli(applyArgs(runDir), { env });
      expect(r.exitCode, r.stderr).toBe(ExitCode.APPLY_REFUSED);
      expect(r.stderr).toMatch(/structure differs from the rehearsed snapshot .*accountinfo.*fields_99/);
    } finally {
      await root.query('ALTER TABLE ocsweb.accountinfo DROP COLUMN fields_99');
    }
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);
  });

  it('a new blocking finding: refused, listing it', async () => {
    const runDir = P.copyRun('refuse-hazard');
    // Two rows colliding on glpi_states (states_id, name): glpi.duplicates.states is blocking, and the
    // fixture (hence the rehearsal) has no such duplicate.
    await root.query('CREATE TEMPORARY TABLE glpi.tmp_state SELECT * FROM glpi.glpi_states ORDER BY id LIMIT 1');
    await root.query("UPDATE glpi.tmp_state SET id = 900001, name = 'zz-new-duplicate'");
    await root.query('INSERT INTO glpi.glpi_states SELECT * FROM glpi.tmp_state');
    await root.query('UPDATE glpi.tmp_state SET id = 900002');
    await root.query('INSERT INTO glpi.glpi_states SELECT * FROM glpi.tmp_state');
    await root.query('DROP TEMPORARY TABLE glpi.tmp_state');
    try {
      const r = await runCli(applyArgs(runDir), { env });
      expect(r.exitCode, r.stderr).toBe(ExitCode.APPLY_REFUSED);
      expect(r.stderr).toMatch(/new blocking finding\(s\) on production, not in the rehearsal: .*glpi\.duplicates\.states \(1\)/);
    } finally {
      await root.query('DELETE FROM glpi.glpi_states WHERE id IN (900001, 900002)');
    }
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);
    expect(await P.differencesFromFixture()).toEqual([]);
  });
});

describe('plan --rehearsal: the downtime estimate before the window', () => {
  it("prints the rehearsal's estimate, scaled to production's rows when its addresses are given, reading only", async () => {
    const atSnapshot = await runCli(['plan', '--rehearsal', rehearsed, '--json'], { env });
    expect(atSnapshot.exitCode, atSnapshot.stderr).toBe(0);
    const e0 = JSON.parse(atSnapshot.stdout) as { scale: Record<string, number>; steps: Array<{ stepId: string; rehearsedMs: number; estimatedMs: number }>; totalMs: number; windowMs: number };
    expect(e0.scale).toEqual({ glpi: 1, ocs: 1 });
    expect(e0.steps.length).toBeGreaterThan(50);
    expect(e0.steps.every((s) => s.estimatedMs === s.rehearsedMs)).toBe(true);
    expect(e0.windowMs).toBeGreaterThan(e0.totalMs);
    // Production grown: 4× the OCS rows of one big table → an OCS scale above 1.
    await root.query('CREATE TABLE ocsweb.zz_grown (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB');
    try {
      await root.query('INSERT INTO ocsweb.zz_grown SELECT seq, REPEAT("x", 20) FROM ocsweb.seq_1_to_200000');
      await root.query('ANALYZE TABLE ocsweb.zz_grown');
      const r = await runCli(['plan', '--rehearsal', rehearsed, '--glpi', P.dsnFor('glpi'), '--ocs', P.dsnFor('ocsweb')], { env: { ...env, NO_COLOR: '1' } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/scaled to {2}production's rows: GLPI ×\d+\.\d\d, OCS ×\d+\.\d\d/);
      const ocsScale = Number(/OCS ×(\d+\.\d\d)/.exec(r.stdout)![1]);
      expect(ocsScale).toBeGreaterThan(1.5);
      expect(r.stdout).toMatch(/downtime estimate: .* book .* for the window/);
    } finally {
      await root.query('DROP TABLE ocsweb.zz_grown');
    }
  });
});

describe('one apply or rollback at a time', () => {
  it('a run directory held by a live process: apply and rollback exit 13 naming it', async () => {
    const runDir = P.copyRun('busy-dir');
    const holder = { pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname(), command: 'apply', since: new Date().toISOString() };
    fs.writeFileSync(path.join(runDir, LOCK_FILE), `${JSON.stringify(holder)}\n`);
    const a = await runCli(applyArgs(runDir, '--dry-run'), { env });
    expect(a.exitCode, a.stderr).toBe(ExitCode.BUSY);
    expect(a.stderr).toContain(`is locked by pid ${process.pid} on ${os.hostname()} (apply, since`);
    const r = await runCli(rollbackArgs(runDir), { env });
    expect(r.exitCode, r.stderr).toBe(ExitCode.BUSY);
    expect(r.stderr).toContain(`is locked by pid ${process.pid}`);
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);
    // Its lock is left alone; once it is gone, the same command passes.
    expect(JSON.parse(fs.readFileSync(path.join(runDir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    fs.rmSync(path.join(runDir, LOCK_FILE));
    const ok = await runCli(applyArgs(runDir, '--dry-run'), { env });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(fs.existsSync(path.join(runDir, LOCK_FILE))).toBe(false);
  });

  it('a production server held by another apply (its named lock): apply and rollback of another run directory exit 13 naming the holder', async () => {
    const runDir = P.copyRun('busy-server');
    const other = await mysql.createConnection(baseOptions(prod.dsn));
    try {
      const [got] = await other.query('SELECT GET_LOCK(?, 0) AS g', [PRODUCTION_LOCK_NAME]);
      expect(Number((got as Array<{ g: number }>)[0].g)).toBe(1);
      const a = await runCli(applyArgs(runDir, '--dry-run'), { env });
      expect(a.exitCode, a.stderr).toBe(ExitCode.BUSY);
      expect(a.stderr).toContain(`production server ${hostPort} is locked by another apply or rollback: connection ${other.threadId} (root@`);
      const r = await runCli(rollbackArgs(runDir), { env });
      expect(r.exitCode, r.stderr).toBe(ExitCode.BUSY);
      expect(r.stderr).toContain(`connection ${other.threadId}`);
      // The run directory's lock was given back on the refusal.
      expect(fs.existsSync(path.join(runDir, LOCK_FILE))).toBe(false);
    } finally {
      await other.end();
    }
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);
    expect(await P.differencesFromFixture()).toEqual([]);
  });
});

describe('apply and rollback', () => {
  it('applies the rehearsed plan: backup before any write (general log), same structure and checksums as the rehearsal', async () => {
    const runDir = P.copyRun('apply-a');
    await root.query("SET GLOBAL log_output = 'TABLE'");
    await root.query('TRUNCATE mysql.general_log');
    await root.query("SET GLOBAL general_log = 'ON'");
    const t0 = new Date();
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(applyArgs(runDir), { env });
    } finally {
      await root.query("SET GLOBAL general_log = 'OFF'");
    }
    expect(r.exitCode, r.stderr).toBe(0);
    const [rows] = await root.query(
      "SELECT UNIX_TIMESTAMP(event_time) * 1000 AS t, CONVERT(argument USING utf8mb4) AS q FROM mysql.general_log WHERE command_type = 'Query' AND event_time >= FROM_UNIXTIME(?) ORDER BY event_time",
      [Math.floor(t0.getTime() / 1000)],
    );
    const applied = YAML.parse(fs.readFileSync(path.join(runDir, 'apply', 'run.yaml'), 'utf8'));
    const rec = P.record(runDir);
    const dataAfterApply = await P.differencesFromFixture();
    // rollback, byte for byte (first, so that a failed assertion below leaves production as the fixture).
    const back = await runCli(rollbackArgs(runDir), { env });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await P.differencesFromFixture()).toEqual([]);
    expect(P.record(runDir).rollback?.ok).toBe(true);

    expect(dataAfterApply.length).toBeGreaterThan(50);
    expect(rec.final?.structureEqual).toBe(true);
    expect(rec.final?.tablesDiffering).toEqual([]);
    expect(rec.final?.tablesCompared).toBeGreaterThan(250);
    expect(rec.backup?.taken).toBe(true);
    expect(applied.complete).toBe(true);
    expect(applied.instance.kind).toBe('production');
    // No write statement reached the server before the backup was ready.
    const ready = new Journal(path.join(runDir, 'apply')).read().find((e) => e.event === 'backup-ready')!;
    const readyAt = new Date(ready.t).getTime();
    const writes = (rows as Array<{ t: string | number; q: string }>)
      .map((x) => ({ t: Number(x.t), q: x.q }))
      .filter((x) => /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|ALTER|DROP|TRUNCATE|RENAME|LOAD)\b/i.test(x.q) && !/general_log/.test(x.q));
    expect(writes.length).toBeGreaterThan(10);
    expect(writes.filter((w) => w.t < readyAt - 1000).map((w) => w.q)).toEqual([]);
    // The French go-live report: backup, rollback command, steps.
    const report = fs.readFileSync(path.join(runDir, 'apply', 'compte-rendu-mise-en-production.md'), 'utf8');
    expect(report).toContain(rec.backup!.id);
    expect(report).toContain(`glpi-ocs-upgrade rollback ${runDir} --confirm ${hostPort}`);
    expect(report).toMatch(/structure finale .* identique/);
    expect(typographyFaults(report.replace(/\|[^\n]*\|/g, ''))).toEqual([]);
    expect(englishIn(report.replace(/\|[^\n]*\|/g, ''))).toEqual([]);
  });

  it('a failing step stops everything, nothing rolled back silently; rollback gives production back byte for byte', async () => {
    const runDir = P.copyRun('apply-fail');
    // A FAKE of the OCS distribution, only to make one update file fail on production.
    const broken = path.join(work, 'broken-ocs-dist');
    fs.cpSync(debian.dir, broken, { recursive: true });
    const updates = fs
      .readdirSync(path.join(broken), { recursive: true })
      .map(String)
      .filter((f) => /update\/7040\.sql$/.test(f));
    expect(updates.length).toBeGreaterThan(0);
    fs.appendFileSync(path.join(broken, updates[0]), '\nTHIS IS NOT SQL;\n');
    const args = applyArgs(runDir).map((a) => (a === debian.dir ? broken : a));
    const r = await runCli(args, { env });
    expect(r.exitCode, r.stderr).toBe(ExitCode.STEP_FAILED);
    expect(r.stderr).toMatch(/failed on production.*nothing was rolled back/);
    expect(r.stderr).toMatch(/--resume.*rollback/s);
    // Half-migrated: production is not the fixture any more, and no later step ran.
    expect((await P.differencesFromFixture()).length).toBeGreaterThan(0);
    const applied = YAML.parse(fs.readFileSync(path.join(runDir, 'apply', 'run.yaml'), 'utf8'));
    const failedAt = applied.steps.findIndex((s: { status: string }) => s.status === 'failed');
    expect(applied.steps.slice(failedAt + 1).every((s: { status: string }) => s.status === 'not-run')).toBe(true);
    // Not rolled back behind the user's back: the step's savepoint is kept for --resume, nothing undone.
    const failedId = applied.steps[failedAt].stepId as string;
    expect(fs.existsSync(path.join(runDir, 'apply', 'evidence', failedId, 'savepoint.json'))).toBe(true);
    expect(new Journal(path.join(runDir, 'apply')).read().filter((e) => (e.event as string) === 'step-rolled-back')).toEqual([]);
    // A wrong confirmation of the rollback: refused.
    const wrong = await runCli(rollbackArgs(runDir, '127.0.0.1:1'), { env });
    expect(wrong.exitCode).toBe(ExitCode.REFUSED);
    const back = await runCli(rollbackArgs(runDir), { env });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await P.differencesFromFixture()).toEqual([]);
    const [shadows] = await root.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '%gou_savepoint%'");
    expect(shadows).toEqual([]);
  });

  it('kill -9 mid-step, then apply --resume, ends like an uninterrupted apply', async () => {
    const runDir = P.copyRun('apply-killed');
    const child = execa(process.execPath, [BIN, ...applyArgs(runDir)], { reject: false, env: { NO_COLOR: '1', ...env } });
    const journal = new Journal(path.join(runDir, 'apply'));
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      const started = fs.existsSync(journal.file) ? journal.read().filter((e) => e.event === 'step-started').length : 0;
      if (started >= 15) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    child.kill('SIGKILL');
    await child;
    const st = journalState(journal.read());
    expect(st.complete).toBe(false);
    expect(st.finished.size).toBeGreaterThanOrEqual(14);
    // Without --resume: refused (an apply is already there).
    const again = await runCli(applyArgs(runDir), { env });
    expect(again.exitCode).toBe(ExitCode.APPLY_REFUSED);
    const resumed = await runCli(applyArgs(runDir, '--resume'), { env });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    // The half-run step was undone on the user's --resume, said so and journaled.
    expect(resumed.stderr).toMatch(/rolling back the interrupted step /);
    expect(new Journal(path.join(runDir, 'apply')).read().filter((e) => e.event === 'step-rolled-back')).toHaveLength(1);
    const rec = P.record(runDir);
    expect(rec.final?.structureEqual).toBe(true);
    expect(rec.final?.tablesDiffering).toEqual([]);
    const back = await runCli(rollbackArgs(runDir), { env });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await P.differencesFromFixture()).toEqual([]);
  });
});

describe('GLPI and OCS on two servers', () => {
  let prod2: EmbeddedInstance | undefined;
  let root2: Connection | undefined;
  afterAll(async () => {
    await root2?.end().catch(() => undefined);
    await prod2?.stop();
  });

  it('each server confirmed, backed up, applied and given back on its own', async () => {
    // OCS on a second unmarked server; GLPI stays on the first.
    prod2 = await startEmbedded({ name: `apply-prod2-${process.pid}` });
    await restoreSnapshot(FIXTURE, prod2.dsn);
    root2 = await mysql.createConnection(baseOptions(prod2.dsn));
    await root2.query('DROP DATABASE glpi');
    await root2.query(`DROP DATABASE ${MARKER_SCHEMA}`);
    expect(await isMarkedTestInstance(root2)).toBe(false);
    const hostPort2 = `127.0.0.1:${prod2.record.port}`;
    // The second server's password comes from the OCS role's own variable (two accounts, two passwords).
    const env2 = { ...env, OCS_DB_PASSWORD: prod2.dsn.password ?? '' };
    const ocs2 = `mysql://root@127.0.0.1:${prod2.record.port}/ocsweb`;
    const runDir = P.copyRun('two-servers');
    const args = (...extra: string[]) => ['apply', runDir, '--glpi', P.dsnFor('glpi'), '--ocs', ocs2, '--ocs-dist', debian.dir, ...extra];

    // Only one of the two servers confirmed: refused before anything is opened.
    const one = await runCli(args('--confirm', hostPort), { env: env2 });
    expect(one.exitCode, one.stderr).toBe(ExitCode.REFUSED);
    expect(one.stderr).toContain(`does not name the production server ${hostPort2} (GLPI and OCS are on ${hostPort} and ${hostPort2}: confirm each)`);
    expect(fs.existsSync(path.join(runDir, 'apply'))).toBe(false);

    const r = await runCli(args('--confirm', hostPort, '--confirm', hostPort2), { env: env2 });
    expect(r.exitCode, r.stderr).toBe(0);
    const rec = P.record(runDir);
    expect(rec.production.hostPorts).toEqual({ glpi: hostPort, ocs: hostPort2 });
    expect(rec.backups?.map((b) => [b.roles, b.hostPort, b.taken])).toEqual([
      [['ocs'], hostPort2, true],
      [['glpi'], hostPort, true],
    ]);
    expect(rec.final?.structureEqual).toBe(true);
    expect(rec.final?.tablesDiffering).toEqual([]);
    // The OCS steps ran on the second server only, from their own runner directory.
    const applied = YAML.parse(fs.readFileSync(path.join(runDir, 'apply', 'ocs', 'run.yaml'), 'utf8'));
    expect(applied.complete).toBe(true);
    expect(applied.steps.length).toBeGreaterThan(50);
    expect((await P.differencesFromFixture(root2, 'ocsweb')).length).toBeGreaterThan(50);
    expect(await P.differencesFromFixture(root)).toEqual([]);
    const report = fs.readFileSync(path.join(runDir, 'apply', 'compte-rendu-mise-en-production.md'), 'utf8');
    expect(report).toContain(`glpi-ocs-upgrade rollback ${runDir} --confirm ${hostPort2} --confirm ${hostPort}`);

    // Rollback: both backups given back, each proven.
    const back = await runCli(['rollback', runDir, '--glpi', P.dsnFor('glpi'), '--ocs', ocs2, '--confirm', hostPort, '--confirm', hostPort2], { env: env2 });
    expect(back.exitCode, back.stderr).toBe(0);
    expect(back.stdout + back.stderr).toContain(`on ${hostPort2} and backup`);
    expect(await P.differencesFromFixture(root2, 'ocsweb')).toEqual([]);
    expect(await P.differencesFromFixture(root)).toEqual([]);
    expect(P.record(runDir).rollback?.ok).toBe(true);
  });
});
