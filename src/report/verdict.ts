/**
 * The acceptance rule of the tender (§8.11), as a pure function.
 *
 * Provisional acceptance of a lot is pronounced when, among the anomalies still open (residual):
 *   - none is blocking;
 *   - no lot has more than 2 major ones;
 *   - there are fewer than 15 in all (every severity counted).
 * Beyond those limits the acceptance is provisional "with reservations" (the supplier gets a period to fix
 * them). On top of the tender's rule, the tool refuses to conclude on an incomplete test campaign: a step
 * or check that was not run (no distribution, dry run, interrupted run) makes the verdict "incomplete",
 * and a failed step or check keeps the verdict from "accepted" even if no anomaly was recorded for it.
 */
import type { Severity } from '../audit/finding-types.ts';
import type { StepStatus } from '../rehearse/run-types.ts';

/** The tender's thresholds (§8.11). */
export const ACCEPTANCE_RULE = {
  maxBlocking: 0,
  maxMajorPerLot: 2,
  /** Strictly fewer than this many residual anomalies. */
  residualLimit: 15,
} as const;

export const DEFAULT_LOT = 'MAJSER';

export interface VerdictAnomaly {
  id: string;
  severity: Severity;
  /** Resolved during the rehearsal: not residual, not counted. */
  resolved: boolean;
  /** The tender's lot; the tool works on lot MAJSER. */
  lot?: string;
}

export interface VerdictStep {
  stepId: string;
  status: StepStatus;
}

export type VerdictKind = 'accepted' | 'with-reservations' | 'incomplete';

/** Why the verdict is not "accepted" (several can apply). */
export type VerdictReason = 'steps-not-run' | 'run-not-complete' | 'dry-run' | 'failed-steps' | 'blocking' | 'too-many-majors' | 'too-many-residual';

export interface Verdict {
  kind: VerdictKind;
  /** Whether the anomaly thresholds alone are met (regardless of completeness). */
  thresholdsMet: boolean;
  reasons: VerdictReason[];
  residual: { blocking: number; major: number; minor: number; total: number };
  resolved: number;
  /** Residual major anomalies per lot, lots sorted by name. */
  majorsByLot: Array<{ lot: string; major: number }>;
  /** Lots over the major limit. */
  lotsOverMajorLimit: string[];
  notRun: string[];
  failed: string[];
  /** Residual anomaly ids, blocking first, then major, then minor, each sorted by id (the reserves). */
  residualIds: string[];
}

const SEVERITY_ORDER: Record<Severity, number> = { bloquante: 0, majeure: 1, mineure: 2 };

export function compareAnomalies(a: { severity: Severity; id: string }, b: { severity: Severity; id: string }): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function computeVerdict(anomalies: readonly VerdictAnomaly[], steps: readonly VerdictStep[], run: { dryRun?: boolean; complete?: boolean } = {}): Verdict {
  const residualList = anomalies.filter((a) => !a.resolved).sort(compareAnomalies);
  const residual = {
    blocking: residualList.filter((a) => a.severity === 'bloquante').length,
    major: residualList.filter((a) => a.severity === 'majeure').length,
    minor: residualList.filter((a) => a.severity === 'mineure').length,
    total: residualList.length,
  };
  const lots = new Map<string, number>();
  for (const a of residualList) {
    const lot = a.lot ?? DEFAULT_LOT;
    lots.set(lot, (lots.get(lot) ?? 0) + (a.severity === 'majeure' ? 1 : 0));
  }
  const majorsByLot = [...lots.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([lot, major]) => ({ lot, major }));
  const lotsOverMajorLimit = majorsByLot.filter((l) => l.major > ACCEPTANCE_RULE.maxMajorPerLot).map((l) => l.lot);

  const notRun = steps.filter((s) => s.status === 'not-run' || s.status === 'skipped').map((s) => s.stepId);
  const failed = steps.filter((s) => s.status === 'failed').map((s) => s.stepId);

  const reasons: VerdictReason[] = [];
  if (notRun.length) reasons.push('steps-not-run');
  if (run.dryRun) reasons.push('dry-run');
  if (run.complete === false) reasons.push('run-not-complete');
  if (failed.length) reasons.push('failed-steps');
  if (residual.blocking > ACCEPTANCE_RULE.maxBlocking) reasons.push('blocking');
  if (lotsOverMajorLimit.length) reasons.push('too-many-majors');
  if (residual.total >= ACCEPTANCE_RULE.residualLimit) reasons.push('too-many-residual');

  const thresholdsMet = !reasons.some((r) => r === 'blocking' || r === 'too-many-majors' || r === 'too-many-residual');
  const incomplete = notRun.length > 0 || Boolean(run.dryRun) || run.complete === false;
  const kind: VerdictKind = incomplete ? 'incomplete' : thresholdsMet && failed.length === 0 ? 'accepted' : 'with-reservations';
  return {
    kind,
    thresholdsMet,
    reasons,
    residual,
    resolved: anomalies.length - residualList.length,
    majorsByLot,
    lotsOverMajorLimit,
    notRun,
    failed,
    residualIds: residualList.map((a) => a.id),
  };
}
