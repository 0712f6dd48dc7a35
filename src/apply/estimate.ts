/**
 * Downtime estimate for the maintenance window: each step's duration in the rehearsal, scaled by the
 * ratio of production's rows to the snapshot's rows in the step's database (the rehearsal ran on the
 * snapshot's data), plus the backup (the snapshot's own duration, scaled the same way) and a margin.
 */
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
