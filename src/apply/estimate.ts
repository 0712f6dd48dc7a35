/**
 * Downtime estimate for the maintenance window: each step's duration in the rehearsal, scaled by the
 * ratio of production's rows to the snapshot's rows in the step's database (the rehearsal ran on the
 * snapshot's data), plus the backup (the snapshot's own duration, scaled the same way) and a margin.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { connectReadOnly } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { listTables } from '../db/introspect.ts';
import { NotFoundError, UsageError } from '../errors.ts';
import { readPlan } from '../plan/index.ts';
import { readRunSummary } from '../rehearse/runner.ts';
import { readManifest } from '../snapshot/index.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import type { RunSummary } from '../rehearse/run-types.ts';

export interface DowntimeEstimate {
  /** Rows now / rows in the snapshot, per database role. */
  scale: Partial<Record<'glpi' | 'ocs', number>>;
  steps: Array<{ stepId: string; rehearsedMs: number; estimatedMs: number }>;
  backupMs: number;
  totalMs: number;
  /** totalMs × 1.5: what to book for the window (checks, restarts, go/no-go). */
  windowMs: number;
}

export function snapshotRows(manifest: Manifest): Partial<Record<'glpi' | 'ocs', number>> {
  const out: Partial<Record<'glpi' | 'ocs', number>> = {};
  for (const d of manifest.databases) out[d.role] = d.tables.reduce((n, t) => n + t.rows, 0);
  return out;
}

export function estimateDowntime(plan: PlanFile, run: RunSummary, manifest: Manifest, productionRows?: Partial<Record<'glpi' | 'ocs', number>>): DowntimeEstimate {
  const before = snapshotRows(manifest);
  const scale: DowntimeEstimate['scale'] = {};
  for (const role of ['glpi', 'ocs'] as const) {
    if (before[role] === undefined) continue;
    const now = productionRows?.[role] ?? before[role]!;
    scale[role] = before[role]! > 0 ? Math.max(1, now / before[role]!) : 1;
  }
  const byId = new Map(run.steps.map((s) => [s.stepId, s]));
  const steps = plan.steps.map((s) => {
    const rehearsedMs = byId.get(s.id)?.durationMs ?? 0;
    return { stepId: s.id, rehearsedMs, estimatedMs: Math.round(rehearsedMs * (scale[s.database] ?? 1)) };
  });
  const overall = Math.max(scale.glpi ?? 1, scale.ocs ?? 1);
  const backupMs = Math.round((manifest.stats?.elapsedMs ?? 0) * overall);
  const totalMs = steps.reduce((n, s) => n + s.estimatedMs, 0) + backupMs;
  return { scale, steps, backupMs, totalMs, windowMs: Math.round(totalMs * 1.5) };
}

/** Production's rows now (the server's estimates, information_schema), per database role. */
export async function estimatedRows(conns: Partial<Record<'glpi' | 'ocs', Connection>>, dbs: { glpi?: string; ocs?: string }): Promise<Partial<Record<'glpi' | 'ocs', number>>> {
  const out: Partial<Record<'glpi' | 'ocs', number>> = {};
  for (const role of ['glpi', 'ocs'] as const) {
    const db = dbs[role];
    const conn = conns[role];
    if (db && conn) out[role] = (await listTables(conn, db)).filter((t) => t.type === 'BASE TABLE').reduce((n, t) => n + t.estimatedRows, 0);
  }
  return out;
}

export interface RehearsalEstimate {
  runId: string;
  plan: PlanFile;
  estimate: DowntimeEstimate;
  /** Rows the estimate is scaled to: production's (read only, when its addresses were given) or the snapshot's. */
  scaledTo: 'production' | 'snapshot';
}

/**
 * `plan --rehearsal RUN_DIR`: the maintenance-window estimate of a rehearsal, scaled to production's row
 * counts when `production` names its databases (READ ONLY sessions), else to the snapshot's. The databases
 * read are the snapshot's names, on the servers of the addresses given.
 */
export async function estimateFromRehearsal(runDir: string, production: { glpi?: Dsn; ocs?: Dsn } = {}): Promise<RehearsalEstimate> {
  const summary = readRunSummary(runDir);
  if (!summary) throw new NotFoundError(`${runDir}: not a rehearsal run directory (no run.yaml)`, { hint: 'give the run directory written by `rehearse -o DIR`' });
  if (summary.instance.kind === 'production') throw new UsageError(`${runDir} is an apply directory: give the rehearsal's run directory`);
  const planPath = path.join(runDir, summary.plan.file);
  if (!fs.existsSync(planPath)) throw new NotFoundError(`${runDir}: the rehearsed plan ${summary.plan.file} is missing`);
  const plan = readPlan(planPath);
  const snapshotDir = path.resolve(runDir, summary.snapshot.dir);
  const manifest = await readManifest(snapshotDir);
  const dbs: { glpi?: string; ocs?: string } = {};
  for (const d of manifest.databases) {
    const dsn = production[d.role];
    if (!dsn) continue;
    if (dsn.database && dsn.database !== d.name) throw new UsageError(`--${d.role} names the database "${dsn.database}", the rehearsed one is "${d.name}"`);
    dbs[d.role] = d.name;
  }
  const conns: Partial<Record<'glpi' | 'ocs', Connection>> = {};
  try {
    for (const role of ['glpi', 'ocs'] as const) if (dbs[role]) conns[role] = await connectReadOnly({ ...production[role]!, database: undefined });
    const rows = await estimatedRows(conns, dbs);
    return { runId: summary.runId, plan, estimate: estimateDowntime(plan, summary, manifest, rows), scaledTo: Object.keys(rows).length ? 'production' : 'snapshot' };
  } finally {
    for (const c of Object.values(conns)) await c.end().catch(() => undefined);
  }
}
