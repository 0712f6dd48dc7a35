/**
 * The rehearsal, for real, on the committed fixtures: OCS 2.1 → newest GUI_VERSION the Debian package
 * reaches (and 2.12.4 with ../shared), interruption + resume, the interlock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { execa } from 'execa';
import { REPO_ROOT, sharedPath, sharedSkipNote } from './helpers/shared.ts';
import { BIN, runCli } from './helpers/cli.ts';
import { readManifest } from '../src/snapshot/index.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import { rehearseOrThrow } from '../src/rehearse/runner.ts';
import { detectOcsDist } from '../src/distributions/ocs.ts';
import { debianOcsOrSkip } from './helpers/dist.ts';
import type { OcsDistribution } from '../src/distributions/ocs.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';
import { attachInstance, listInstances, stopInstanceRecord } from '../src/db/embedded.ts';
import mysql from 'mysql2/promise';
import { baseOptions } from '../src/db/connect.ts';
import { databaseState, fingerprint } from '../src/rehearse/checks.ts';
import { startTestServer } from './helpers/server.ts';
import { ExitCode } from '../src/errors.ts';
import { render } from '../src/i18n/render.ts';
import { msg } from '../src/i18n/messages.ts';
import { en, fr } from './helpers/reason.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
const CACHE = path.join(os.tmpdir(), 'gou-test-cache');
// Offline on a cold cache, the tests that need OCS's real update files skip (under CI=true: an error).
const { dist: debianDist, skip: DEBIAN_SKIP } = await debianOcsOrSkip(CACHE);
const debian = debianDist as OcsDistribution;
const withDebian = DEBIAN_SKIP ? ` (skipped: ${DEBIAN_SKIP})` : '';
const itDebian = it.skipIf(DEBIAN_SKIP !== '');
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-rehearse-'));
}, 600_000);

afterAll(async () => {
  // Instances kept by runs of this file only (other test files may be rehearsing at the same time).
  const ours = new Set<string>();
  for (const dir of fs.existsSync(work) ? fs.readdirSync(work) : []) {
    const j = path.join(work, dir, 'journal.jsonl');
    if (!fs.existsSync(j)) continue;
    const label = journalState(new Journal(path.join(work, dir)).read()).instance ?? '';
    if (label.startsWith('embedded:')) ours.add(label.slice('embedded:'.length));
  }
  for (const r of listInstances()) if (r.keep && ours.has(r.name)) await stopInstanceRecord(r);
});

/** An OCS-only plan (the GLPI side needs a GLPI distribution), optionally without a given corrective step. */
async function ocsPlan(file: string, ocsTarget: string, drop: (id: string) => boolean = () => false): Promise<PlanFile> {
  const plan = buildPlan(await planInputFromSnapshot(FIXTURE), { ocs: ocsTarget });
  plan.steps = plan.steps.filter((s) => s.database === 'ocs' && !drop(s.id));
  writePlan(file, plan);
  return plan;
}

function lastFingerprint(runDir: string): string | undefined {
  const st = journalState(new Journal(runDir).read());
  return [...st.finished.values()].filter((f) => f.fingerprint).pop()?.fingerprint;
}

describe('rehearse on the committed fixtures', () => {
  itDebian(`takes OCS 2.1 to 2.11.1 (7069) with the real update files: every row change explained, 7037 losses reported${withDebian}`, async () => {
    const planFile = path.join(work, 'plan-nofix.yaml');
    // Without the corrective migration that fills NULL software fields, update 7037 loses those rows:
    // the rehearsal must report them as an anomaly with their count.
    const plan = await ocsPlan(planFile, '2.11.1', (id) => id === 'fix-ocs-softwares-fill-nulls');
    const runDir = path.join(work, 'run-nofix');
    const run = await rehearseOrThrow({ plan, planPath: planFile, manifest: await readManifest(FIXTURE), snapshotDir: FIXTURE, runDir, dists: { ocs: [debian] } });
    expect(run.preChecks.every((c) => c.status === 'passed')).toBe(true);
    // Pre-checks and step reasons carry their French twins (the French dossier prints them).
    for (const c of run.preChecks) {
      expect(render(c.title, 'fr'), c.id).toMatch(/^Restauration de la base (GLPI|OCS) conforme au manifeste de l’instantané$/);
      expect(render(c.detail, 'fr'), c.id).toMatch(/^\d+ tables et \d+ lignes restaurées ; /);
    }
    for (const s of run.steps) {
      expect(en(s), s.stepId).toEqual(expect.any(String));
      expect(fr(s), `${s.stepId}: ${en(s)}`).not.toBe(en(s));
    }
    const failed = run.steps.filter((s) => s.status !== 'passed');
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([]);
    expect(run.complete).toBe(true);
    const last = run.steps[run.steps.length - 1];
    expect(last.versionAfter).toBe('7069');
    const unexplained = run.steps.flatMap((s) => s.tableDeltas.filter((d) => d.verdict === 'anomaly').map((d) => `${s.stepId}:${d.table}`));
    expect(unexplained).toEqual([]);
    expect(run.steps.flatMap((s) => s.untouchedChanged ?? [])).toEqual([]);
    const loss = run.anomalies.find((a) => a.stepId === 'ocs-7037' && a.id.includes('deleted-softwares'));
    expect(loss, JSON.stringify(run.anomalies.map((a) => a.id))).toBeDefined();
    // The fixture's ocs-null-software hazard: 3 NULL publishers + 2 NULL versions.
    expect(loss!.title).toEqual(msg('anomaly.deleted.title', { rows: 5, table: 'softwares' }));
    // The summary and journal are on disk for the dossier.
    const onDisk = YAML.parse(fs.readFileSync(path.join(runDir, 'run.yaml'), 'utf8'));
    expect(onDisk.steps).toHaveLength(plan.steps.length);
  });

  itDebian(`with the corrective migration, 7037 loses nothing${withDebian}`, async () => {
    const planFile = path.join(work, 'plan-fix.yaml');
    const plan = await ocsPlan(planFile, '2.11.1');
    expect(plan.steps.some((s) => s.id === 'fix-ocs-softwares-fill-nulls')).toBe(true);
    const run = await rehearseOrThrow({ plan, planPath: planFile, manifest: await readManifest(FIXTURE), snapshotDir: FIXTURE, runDir: path.join(work, 'run-fix'), dists: { ocs: [debian] } });
    expect(run.complete).toBe(true);
    expect(run.anomalies.filter((a) => a.id.includes('deleted-softwares'))).toEqual([]);
    expect(run.steps.find((s) => s.stepId === 'fix-ocs-softwares-fill-nulls')?.status).toBe('passed');
  });

  it.skipIf(!sharedPath('reference', 'ocs', 'update-2.12.4'))(`reaches 2.12.4 (7081) with the reference update files${sharedSkipNote(!sharedPath('reference', 'ocs', 'update-2.12.4'))}`, async () => {
    const reference = detectOcsDist(sharedPath('reference', 'ocs')!);
    const planFile = path.join(work, 'plan-2124.yaml');
    const plan = await ocsPlan(planFile, '2.12.4');
    const run = await rehearseOrThrow({ plan, planPath: planFile, manifest: await readManifest(FIXTURE), snapshotDir: FIXTURE, runDir: path.join(work, 'run-2124'), dists: { ocs: [reference] } });
    expect(run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.stepId}: ${en(s)}`)).toEqual([]);
    expect(run.steps[run.steps.length - 1].versionAfter).toBe('7081');
    expect(run.steps.flatMap((s) => s.tableDeltas.filter((d) => d.verdict === 'anomaly').map((d) => `${s.stepId}:${d.table}`))).toEqual([]);
  });

  itDebian(
    `killed mid-step (SIGKILL), then --resume, ends with the same tables as an uninterrupted run${withDebian}`,
    async () => {
      const planFile = path.join(work, 'plan-kill.yaml');
      await ocsPlan(planFile, '2.11.1');
      const args = (runDir: string) => ['rehearse', planFile, '--snapshot', FIXTURE, '-o', runDir, '--ocs-dist', debian.dir];
      // Reference: an uninterrupted run.
      const ref = await runCli(args(path.join(work, 'run-ref')));
      expect(ref.exitCode, ref.stderr).toBe(0);
      // Interrupted: kill -9 once the 20th step has started.
      const killedDir = path.join(work, 'run-killed');
      const child = execa(process.execPath, [BIN, ...args(killedDir)], { reject: false, env: { NO_COLOR: '1' } });
      const journal = new Journal(killedDir);
      const deadline = Date.now() + 240_000;
      while (Date.now() < deadline) {
        const started = fs.existsSync(journal.file) ? journal.read().filter((e) => e.event === 'step-started').length : 0;
        if (started >= 20) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      await child;
      const st = journalState(journal.read());
      expect(st.complete).toBe(false);
      // It was really cut mid-way: some steps finished, not all.
      expect(st.finished.size).toBeGreaterThanOrEqual(19);
      expect(st.finished.size).toBeLessThan(YAML.parse(fs.readFileSync(planFile, 'utf8')).steps.length);
      const resumed = await runCli([...args(killedDir), '--resume']);
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/resuming/);
      expect(journalState(journal.read()).complete).toBe(true);
      expect(lastFingerprint(killedDir)).toBe(lastFingerprint(path.join(work, 'run-ref')));
      // Steps that passed before the kill are taken over (from run.yaml or their evidence), not run again.
      const steps = (dir: string) =>
        (YAML.parse(fs.readFileSync(path.join(dir, 'run.yaml'), 'utf8')).steps as Array<{ stepId: string; status: string; reason?: string }>).map((s) => [s.stepId, s.status, s.reason]);
      expect(steps(killedDir)).toEqual(steps(path.join(work, 'run-ref')));
    },
    900_000,
  );

  itDebian(
    `a failed OCS step is undone by restoring its database and replaying the steps before it${withDebian}`,
    async () => {
      // A copy of Debian's distribution whose 7020.sql changes a row, then fails for real.
      const broken = path.join(work, 'ocs-broken');
      fs.cpSync(debian.root, broken, { recursive: true });
      fs.appendFileSync(
        path.join(broken, 'files', 'update', '7020.sql'),
        "\nUPDATE config SET COMMENTS = 'changed by a broken update' WHERE NAME = 'GUI_VERSION';\nINSERT INTO gou_no_such_table VALUES (1);\n",
      );
      const planFile = path.join(work, 'plan-broken.yaml');
      const plan = await ocsPlan(planFile, '2.11.1');
      const runDir = path.join(work, 'run-broken');
      const manifest = await readManifest(FIXTURE);
      const run = await rehearseOrThrow({ plan, planPath: planFile, manifest, snapshotDir: FIXTURE, runDir, dists: { ocs: [detectOcsDist(broken)] } });
      const step = run.steps.find((s) => s.stepId === 'ocs-7020')!;
      expect(step.status).toBe('failed');
      expect(en(step)).toMatch(/7020\.sql statement \d+ failed \(1146/);
      expect(fr(step)).toMatch(/^l’instruction \d+ de 7020\.sql a échoué \(1146 .*\) ; GUI_VERSION laissée à 7019$/);
      expect(run.anomalies.find((a) => a.id === 'A-ocs-7020-failed')?.detail).toEqual(msg('anomaly.step-failed.detail', { reason: step.reason! }));
      expect(run.steps.find((s) => s.stepId === 'ocs-7019')?.status).toBe('passed');
      // The rollback is journaled (and so shown in the dossier and run.yaml).
      expect(new Journal(runDir).read().filter((e) => e.event === 'step-rolled-back')).toEqual([expect.objectContaining({ stepId: 'ocs-7020', cause: 'failed', mode: 'replay', ok: true })]);
      expect(run.rollbacks).toEqual([expect.objectContaining({ stepId: 'ocs-7020', cause: 'failed', ok: true })]);
      const dependent = run.steps.find((s) => s.stepId === 'ocs-7021');
      expect(dependent?.status).toBe('not-run');
      expect(en(dependent)).toBe('not run: it depends on step ocs-7020, which did not pass');
      expect(fr(dependent)).toBe('non exécutée : elle dépend de l’étape ocs-7020, qui n’a pas réussi');
      // The instance is kept after a failed run: its databases are exactly as after ocs-7019.
      const label = journalState(new Journal(runDir).read()).instance!;
      const inst = attachInstance(label.slice('embedded:'.length))!;
      expect(inst).toBeDefined();
      const c = await mysql.createConnection(baseOptions(inst.dsn));
      try {
        const names = Object.fromEntries(manifest.databases.map((d) => [d.role, d.name]));
        const states = { glpi: await databaseState(c, names.glpi), ocs: await databaseState(c, names.ocs) };
        expect(fingerprint(states)).toBe(lastFingerprint(runDir));
        const [rows] = await c.query(`SELECT TVALUE, COMMENTS FROM \`${names.ocs}\`.config WHERE NAME = 'GUI_VERSION'`);
        expect((rows as Array<{ TVALUE: string; COMMENTS: string }>)[0]).toEqual(expect.objectContaining({ TVALUE: '7019' }));
        expect((rows as Array<{ COMMENTS: string }>)[0].COMMENTS).not.toBe('changed by a broken update');
        // A replay savepoint copies nothing: no shadow database was made.
        const [shadow] = await c.query('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', ['%gou_savepoint']);
        expect(Number((shadow as Array<{ n: number }>)[0].n)).toBe(0);
      } finally {
        await c.end();
      }
    },
    600_000,
  );

  it('refuses to write to a server not marked as a test instance (exit 6)', async () => {
    const server = await startTestServer();
    try {
      const c = await server.connect();
      await c.query('DROP DATABASE glpi_ocs_upgrade_marker');
      await c.end();
      const planFile = path.join(work, 'plan-lock.yaml');
      await ocsPlan(planFile, '2.11.1');
      const r = await runCli(['rehearse', planFile, '--snapshot', FIXTURE, '-o', path.join(work, 'run-lock'), '--instance', `mysql://root@127.0.0.1:${server.dsn.port}/`], {
        env: { INSTANCE_DB_PASSWORD: server.dsn.password ?? '' },
      });
      expect(r.exitCode).toBe(ExitCode.REFUSED);
      expect(r.stderr).toMatch(/not marked as a test instance/);
    } finally {
      await server.stop();
    }
  });
});

describe('corrective migrations inside a rehearsal', () => {
  it('their deletions are explained by the migration, and their findings are recorded as resolved', async () => {
    const planFile = path.join(work, 'plan-glpi-fix.yaml');
    const plan = buildPlan(await planInputFromSnapshot(FIXTURE), { ocs: '2.11.1' });
    plan.steps = plan.steps.filter((s) => s.runner.kind === 'corrective-migration' && s.database === 'glpi');
    writePlan(planFile, plan);
    const { runAudit } = await import('../src/audit/index.ts');
    const findings = await runAudit({ snapshot: FIXTURE });
    const run = await rehearseOrThrow({ plan, planPath: planFile, manifest: await readManifest(FIXTURE), snapshotDir: FIXTURE, runDir: path.join(work, 'run-glpi-fix'), dists: {}, findings });
    const dedup = run.steps.find((s) => s.stepId === 'fix-glpi-dedup-slalevels-tickets')!;
    expect(dedup.status).toBe('passed');
    expect(dedup.tableDeltas).toEqual([expect.objectContaining({ table: 'glpi_slalevels_tickets', verdict: 'expected' })]);
    expect(dedup.tableDeltas[0].after).toBeLessThan(dedup.tableDeltas[0].before!);
    expect(run.anomalies.filter((a) => a.id.startsWith('A-'))).toEqual([]);
    expect(run.anomalies.find((a) => a.id === 'F-glpi.duplicates.slalevels_tickets')?.resolved).toBe(true);
    // The fixture's latin1 glpi_locations: repaired by its migration, proven by re-running the audit check.
    expect(en(run.steps.find((s) => s.stepId === 'fix-glpi-repair-charset-locations'))).toMatch(/pre-check \d+ → post-check 0/);
    expect(fr(run.steps.find((s) => s.stepId === 'fix-glpi-repair-charset-locations'))).toMatch(/^contrôle préalable : \d+ ligne\(s\) → contrôle final : 0 ; \d+ instruction\(s\)$/);
    const latin1 = run.anomalies.find((a) => a.id === 'F-glpi.tables.mixed_collations')!;
    expect(latin1.resolved).toBe(true);
    expect(latin1.detail).toEqual(msg('anomaly.finding.detail', { count: expect.any(Number), recheck: true }));
  });
});
