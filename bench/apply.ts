/**
 * `npm run bench -- apply [--fixture DIR]`: apply's time minus its backup, against the rehearsal of the same
 * plan in the same run (target: within 10 %). "Production" is an embedded server whose test-instance marker
 * was dropped after the fixture was loaded; the plan is the fixture's OCS path with Debian's update files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { baseOptions } from '../src/db/connect.ts';
import { startEmbedded } from '../src/db/embedded.ts';
import { MARKER_SCHEMA } from '../src/db/interlock.ts';
import { readManifest, restoreSnapshot } from '../src/snapshot/index.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import { rehearseOrThrow } from '../src/rehearse/runner.ts';
import { obtainDebianOcsDist } from '../src/distributions/ocs.ts';
import { runAudit, writeFindings } from '../src/audit/index.ts';
import { applyToProduction } from '../src/apply/apply.ts';
import { defaultCacheDir } from '../src/cli/dist-options.ts';

export interface ApplyBench {
  fixture: string;
  steps: number;
  rehearseMs: number;
  applyMs: number;
  backupMs: number;
  applyMinusBackupMs: number;
  ratio: number;
}

export async function benchApply(argv: string[], log: (s: string) => void): Promise<ApplyBench> {
  const i = argv.indexOf('--fixture');
  const fixture = path.resolve(i >= 0 ? argv[i + 1] : path.join(import.meta.dirname, '..', 'fixtures', 'small'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-bench-apply-'));
  const debian = await obtainDebianOcsDist(defaultCacheDir());
  const prod = await startEmbedded({ name: `bench-apply-${process.pid}` });
  try {
    await restoreSnapshot(fixture, prod.dsn);
    const root = await mysql.createConnection(baseOptions(prod.dsn));
    await root.query(`DROP DATABASE ${MARKER_SCHEMA}`);
    await root.end();
    const manifest = await readManifest(fixture);
    const names = Object.fromEntries(manifest.databases.map((d) => [d.role, d.name])) as { glpi?: string; ocs?: string };
    const findings = await runAudit({ live: { glpi: names.glpi ? { ...prod.dsn, database: names.glpi } : undefined, ocs: names.ocs ? { ...prod.dsn, database: names.ocs } : undefined } });
    writeFindings(path.join(work, 'findings.yaml'), findings);
    const plan = buildPlan(await planInputFromSnapshot(fixture), { ocs: '2.11.1' });
    plan.steps = plan.steps.filter((s) => s.database === 'ocs');
    const planFile = path.join(work, 'plan.yaml');
    writePlan(planFile, plan);
    const runDir = path.join(work, 'run');
    log(`rehearsing ${plan.steps.length} steps…`);
    let t0 = performance.now();
    const run = await rehearseOrThrow({ plan, planPath: planFile, manifest, snapshotDir: fixture, runDir, dists: { ocs: [debian] }, findings });
    const rehearseMs = performance.now() - t0;
    if (!run.complete) throw new Error('the rehearsal is not complete');
    log('applying to "production"…');
    let backupMs = 0;
    t0 = performance.now();
    await applyToProduction({
      runDir,
      sources: { glpi: names.glpi ? { ...prod.dsn, database: names.glpi } : undefined, ocs: names.ocs ? { ...prod.dsn, database: names.ocs } : undefined },
      confirm: `127.0.0.1:${prod.record.port}`,
      dists: { ocs: [debian] },
      onBackup: (ms) => {
        backupMs = ms;
      },
    });
    const applyMs = performance.now() - t0;
    const applyMinusBackupMs = applyMs - backupMs;
    return { fixture, steps: plan.steps.length, rehearseMs, applyMs, backupMs, applyMinusBackupMs, ratio: applyMinusBackupMs / rehearseMs };
  } finally {
    await prod.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function printApplyBench(r: ApplyBench, print: (s: string) => void): void {
  print(`apply vs rehearse, ${r.steps} steps (${path.basename(r.fixture)})`);
  print(`  rehearse (restore + steps)   ${(r.rehearseMs / 1000).toFixed(1)} s`);
  print(`  apply (all)                  ${(r.applyMs / 1000).toFixed(1)} s`);
  print(`  of which backup              ${(r.backupMs / 1000).toFixed(1)} s`);
  print(`  apply minus backup           ${(r.applyMinusBackupMs / 1000).toFixed(1)} s  = ${(r.ratio * 100).toFixed(0)} % of the rehearsal (target ≤ 110 %)`);
}
