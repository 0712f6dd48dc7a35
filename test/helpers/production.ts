/**
 * "Production" for the apply tests (test/apply.test.ts, test/apply-glpi.test.ts): an embedded server loaded with
 * the bundled fixture and then unmarked (NOT a test instance any more), audited live, with one database's part
 * of the fixture's plan rehearsed on a separate embedded instance, and what the tests read back from it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import mysql from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { expect } from 'vitest';
import { runAudit, writeFindings } from '../../src/audit/index.ts';
import type { ApplyRecord } from '../../src/apply/state.ts';
import { baseOptions } from '../../src/db/connect.ts';
import { startEmbedded } from '../../src/db/embedded.ts';
import type { EmbeddedInstance } from '../../src/db/embedded.ts';
import { isMarkedTestInstance, MARKER_SCHEMA } from '../../src/db/interlock.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../../src/plan/index.ts';
import type { PlanFile } from '../../src/plan/plan-types.ts';
import type { PlanTargets } from '../../src/plan/planner.ts';
import { databaseState } from '../../src/rehearse/checks.ts';
import type { ExecutorDistributions } from '../../src/rehearse/executors/types.ts';
import type { RunSummary } from '../../src/rehearse/run-types.ts';
import { rehearseOrThrow } from '../../src/rehearse/runner.ts';
import { readManifest, restoreSnapshot } from '../../src/snapshot/index.ts';
import { REPO_ROOT } from './shared.ts';

export const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');

export interface ProductionOptions {
  /** Name of the embedded "production" server (the pid is appended) and prefix of the work directory. */
  name: string;
  /** The part of the fixture's plan that is kept and rehearsed. */
  database: 'glpi' | 'ocs';
  targets: PlanTargets;
  dists: ExecutorDistributions;
  php?: string;
  /** GLPI trees the live audit uses as reference (the schema drift check). */
  glpiDists?: string[];
}

export interface Production {
  /** Temporary directory: snapshot/ (the fixture), findings.yaml, plan.yaml, rehearsal/. */
  work: string;
  prod: EmbeddedInstance;
  /** `127.0.0.1:<port>`, what --confirm names. */
  hostPort: string;
  /** A root connection to production. */
  root: Connection;
  /** The rehearsal's run directory. */
  rehearsed: string;
  plan: PlanFile;
  run: RunSummary;
  /** The embedded server's root password (embedded servers refuse an empty one), given as a user would. */
  env: { readonly MYSQL_PWD: string };
  dsnFor(db: string): string;
  /** A fresh copy of the rehearsal's run directory (one apply per copy), at the same depth. */
  copyRun(name: string): string;
  /** apply/apply.yaml of a run directory. */
  record(runDir: string): ApplyRecord;
  /** Every table of both databases (or of `only`) that differs (rows + CHECKSUM TABLE) from the fixture's manifest, on `conn`. */
  differencesFromFixture(conn?: Connection, only?: string): Promise<string[]>;
  /** Closes the connection, stops the server and removes the work directory (kept with GOU_KEEP_TEST_WORK). */
  close(): Promise<void>;
}

export async function rehearsedProduction(o: ProductionOptions): Promise<Production> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `gou-${o.name}-`));
  fs.cpSync(FIXTURE, path.join(work, 'snapshot'), { recursive: true });
  const prod = await startEmbedded({ name: `${o.name}-prod-${process.pid}` });
  const hostPort = `127.0.0.1:${prod.record.port}`;
  // Load the fixture while the server is still a test instance, then make it "production".
  await restoreSnapshot(FIXTURE, prod.dsn);
  const root = await mysql.createConnection(baseOptions(prod.dsn));
  await root.query(`DROP DATABASE ${MARKER_SCHEMA}`);
  expect(await isMarkedTestInstance(root)).toBe(false);
  // Audit production (read only), plan, rehearse on a separate embedded instance.
  const findings = await runAudit({ live: { glpi: { ...prod.dsn, database: 'glpi' }, ocs: { ...prod.dsn, database: 'ocsweb' } } }, o.glpiDists ? { glpiDists: o.glpiDists } : {});
  writeFindings(path.join(work, 'findings.yaml'), findings);
  const plan = buildPlan(await planInputFromSnapshot(FIXTURE), o.targets);
  plan.steps = plan.steps.filter((s) => s.database === o.database);
  const planFile = path.join(work, 'plan.yaml');
  writePlan(planFile, plan);
  const rehearsed = path.join(work, 'rehearsal');
  const run = await rehearseOrThrow({
    plan,
    planPath: planFile,
    manifest: await readManifest(FIXTURE),
    snapshotDir: path.join(work, 'snapshot'),
    runDir: rehearsed,
    dists: o.dists,
    php: o.php,
    findings,
  });
  return {
    work,
    prod,
    hostPort,
    root,
    rehearsed,
    plan,
    run,
    env: {
      get MYSQL_PWD() {
        return prod.dsn.password ?? '';
      },
    },
    dsnFor: (db) => `mysql://root@127.0.0.1:${prod.record.port}/${db}`,
    copyRun(name) {
      const to = path.join(work, name);
      fs.cpSync(rehearsed, to, { recursive: true });
      return to;
    },
    record: (runDir) => YAML.parse(fs.readFileSync(path.join(runDir, 'apply', 'apply.yaml'), 'utf8')) as ApplyRecord,
    async differencesFromFixture(conn = root, only) {
      const m = await readManifest(FIXTURE);
      const off: string[] = [];
      for (const d of m.databases) {
        if (only && d.name !== only) continue;
        const now = await databaseState(conn, d.name);
        for (const t of d.tables) {
          const s = now.get(t.name);
          if (!s || s.rows !== t.rows || s.checksum !== t.checksum) off.push(`${d.name}.${t.name}`);
        }
        for (const t of now.keys()) if (!d.tables.some((x) => x.name === t)) off.push(`${d.name}.${t} (extra)`);
      }
      return off;
    },
    async close() {
      await root.end().catch(() => undefined);
      await prod.stop();
      if (!process.env.GOU_KEEP_TEST_WORK) fs.rmSync(work, { recursive: true, force: true });
    },
  };
}
