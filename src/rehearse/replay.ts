/**
 * Replay savepoints: how a step that runs only SQL the tool runs itself (OCS bridge, update files and PHP-side
 * changes, corrective migrations) is undone without copying its tables beforehand. Its database is restored
 * from the snapshot and the steps that passed before it on that database are run again, in plan order, by
 * the same executors; the runner then proves the result equal to the state recorded before the step (row
 * count and CHECKSUM TABLE of every table) and stops with exit 5 otherwise. A copy costs every step the size
 * of its tables; a replay costs only the rare step that fails or is interrupted.
 */
import { render } from '../i18n/render.ts';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { Dsn } from '../db/dsn.ts';
import { VerificationError } from '../errors.ts';
import { writeManifestFile } from '../formats/manifest.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import { manifestFiles, readManifest, restoreSnapshot } from '../snapshot/index.ts';
import { executeStep } from './dispatch.ts';
import type { ExecutorDistributions } from './executors/types.ts';

/** Runner kinds whose steps are SQL the tool runs itself, deterministic given the same database. */
const REPLAYABLE_KINDS = new Set(['ocs-bridge', 'ocs-update-file', 'ocs-php-change', 'corrective-migration']);

/**
 * Steps that may use a replay savepoint: replayable kinds whose database has seen only replayable steps
 * before them in the plan (a GLPI console or plugin step in between would have to be replayed too: those
 * keep copy savepoints).
 */
export function replayableSteps(plan: PlanFile): Set<string> {
  const out = new Set<string>();
  const clean = new Map<string, boolean>();
  for (const s of plan.steps) {
    const ok = (clean.get(s.database) ?? true) && REPLAYABLE_KINDS.has(s.runner.kind);
    clean.set(s.database, ok);
    if (ok) out.add(s.id);
  }
  return out;
}

/** Restores one database (role) of a snapshot, through a snapshot directory that lists only that database. */
async function restoreOneDatabase(snapshotDir: string, role: 'glpi' | 'ocs', dsn: Dsn, name: string, workDir: string): Promise<void> {
  const manifest = await readManifest(snapshotDir);
  const only = { ...manifest, databases: manifest.databases.filter((d) => d.role === role) };
  if (only.databases.length === 0) throw new VerificationError(`the snapshot holds no ${role} database to replay from`);
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(workDir, { recursive: true });
  try {
    writeManifestFile(workDir, only);
    for (const { path: rel } of manifestFiles(only)) {
      const to = path.join(workDir, rel);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      try {
        fs.linkSync(path.join(snapshotDir, rel), to);
      } catch {
        fs.copyFileSync(path.join(snapshotDir, rel), to);
      }
    }
    await restoreSnapshot(workDir, dsn, { databases: { [role]: name }, force: true, verifyFiles: true });
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

export interface ReplayContext {
  conn: Connection;
  dsn: Dsn;
  plan: PlanFile;
  snapshotDir: string;
  runDir: string;
  dbs: { glpi?: string; ocs?: string };
  dists: ExecutorDistributions;
  php?: string;
  log?: (line: string) => void;
}

/**
 * Rebuilds the state before a step from a replay savepoint: restore `role`'s database from the snapshot,
 * then run `stepIds` again. Throws VerificationError when a replayed step does not pass again.
 */
export async function rollbackByReplay(ctx: ReplayContext, role: 'glpi' | 'ocs', stepIds: string[]): Promise<void> {
  const name = ctx.dbs[role];
  if (!name) throw new VerificationError(`no ${role} database in this rehearsal to replay`);
  const work = path.join(ctx.runDir, '.replay');
  await restoreOneDatabase(ctx.snapshotDir, role, ctx.dsn, name, path.join(work, 'snapshot'));
  const byId = new Map(ctx.plan.steps.map((s) => [s.id, s]));
  try {
    for (const id of stepIds) {
      const step: PlanStep | undefined = byId.get(id);
      if (!step) throw new VerificationError(`step ${id} of the savepoint is not in the plan`);
      const evidenceDir = path.join(work, 'evidence', id);
      fs.mkdirSync(evidenceDir, { recursive: true });
      const r = await executeStep(
        step,
        { conn: ctx.conn, dsn: ctx.dsn, databases: ctx.dbs, runDir: ctx.runDir, evidenceDir, dists: ctx.dists, php: ctx.php, log: ctx.log ?? (() => undefined) },
        { dryRun: false },
      );
      if (r.status !== 'passed') {
        throw new VerificationError(`replaying step ${id} to undo the interrupted step did not pass again: ${r.reason ? render(r.reason, 'en') : r.status}`, {
          hint: 'start the rehearsal again in a new run directory',
        });
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
