/**
 * The three registers of the dossier, kept apart because the tender's acceptance rule (§8.11) applies to
 * the anomalies of the delivery only:
 *
 *   - constats sur l'existant: what the audit found wrong in production before any upgrade (duplicates,
 *     TRACE_DELETED off, machines never imported…), with the remedy applied during the rehearsal or proposed;
 *   - risques: predictions (what a later step is known to do, e.g. the plugin migration losing profile
 *     rights) that no run has confirmed;
 *   - anomalies: what an attempt actually observed — a rehearsal (an anomaly the run raised itself), a
 *     manual test of recette.yaml, or (through `extraAnomalies`) an apply or a functional test — each with a
 *     lifecycle (ouverte → corrigée → vérifiée → close), a detection date, an owner, a deadline and the
 *     attempt that verified it.
 *
 * Severities are the tool's defaults unless recette.yaml changes them by agreement; a change is kept next to
 * the default with its justification, so the documents can mark it.
 */
import type { Finding, Severity } from '../audit/finding-types.ts';
import { literal, type Message } from '../i18n/messages.ts';
import type { Anomaly } from '../rehearse/run-types.ts';
import type { PlanStep } from '../plan/plan-types.ts';
import type { AnomalyFollowUp, AnomalyState, Recette, SeverityChange } from './recette.ts';
import type { RunInputs } from './inputs.ts';
import { compareAnomalies } from './verdict.ts';

/**
 * Audit checks whose finding is a prediction about a later step rather than a state of production: the
 * `plugin.*` checks describe what the ocsinventoryng plugin's migration will do to data that is fine today.
 */
export const PREDICTION_PREFIXES = ['plugin.'] as const;

export function isPrediction(findingId: string): boolean {
  return PREDICTION_PREFIXES.some((p) => findingId.startsWith(p));
}

export interface SeverityInfo {
  severity: Severity;
  /** The tool's default, kept when recette.yaml changed it. */
  defaultSeverity: Severity;
  change?: SeverityChange;
}

export interface Constat extends SeverityInfo {
  id: string;
  finding?: Finding;
  title: Message;
  count?: number;
  /** applied: the remedy ran and the check found nothing afterwards; proposed: to do (manual or not run). */
  remedy: 'applied' | 'proposed';
  remedyText?: Message;
  migration?: string;
  /** The attempt whose result shows the remedy worked. */
  verifiedBy?: string;
}

export interface Risk extends SeverityInfo {
  id: string;
  finding?: Finding;
  title: Message;
  count?: number;
  remedyText?: Message;
  /** The plan steps the prediction is about, and whether each ran. */
  steps: Array<{ id: string; ran: boolean }>;
}

export type AnomalyOrigin = 'rehearsal' | 'manual-test' | 'apply' | 'functional';

export interface RegisterAnomaly extends SeverityInfo {
  id: string;
  origin: AnomalyOrigin;
  title: Message;
  detail?: Message;
  remedy?: Message;
  stepId?: string;
  /** The run, apply or test that observed it. */
  attempt: string;
  detectedOn: string;
  state: AnomalyState;
  /** The state comes from recette.yaml rather than from the attempt. */
  stateAgreed: boolean;
  owner?: string;
  deadline?: string;
  verifiedBy?: string;
  note?: string;
  lot?: string;
}

/** Ouverte and corrigée (not yet verified) count as residual for §8.11; vérifiée and close do not. */
export function isResidual(a: { state: AnomalyState }): boolean {
  return a.state === 'ouverte' || a.state === 'corrigée';
}

export interface Registers {
  constats: Constat[];
  risks: Risk[];
  anomalies: RegisterAnomaly[];
  /** recette.yaml entries that name nothing known (printed as a warning in the dossier). */
  unknownIds: string[];
}

function severityOf(recette: Recette | undefined, ids: string[], defaultSeverity: Severity, used: Set<string>): SeverityInfo {
  const change = recette?.severities.find((x) => ids.includes(x.id));
  if (change) used.add(change.id);
  return { severity: change?.severity ?? defaultSeverity, defaultSeverity, change };
}

const dayOf = (iso: string) => iso.slice(0, 10);

/**
 * Builds the registers from a run's inputs, recette.yaml and anomalies observed elsewhere (apply, functional
 * tests), whose lifecycle recette.yaml may also carry.
 */
export function buildRegisters(inputs: RunInputs, recette: Recette | undefined, passedMigrations: Set<string>, extraAnomalies: RegisterAnomaly[] = []): Registers {
  const { run, plan, findings } = inputs;
  const used = new Set<string>();
  const followUps = new Map<string, AnomalyFollowUp>((recette?.anomalies ?? []).map((f) => [f.id, f]));
  const runAnomalyByFinding = new Map(run.anomalies.filter((a) => a.findingId).map((a) => [a.findingId!, a]));
  const stepRan = new Map(run.steps.map((r) => [r.stepId, r.status === 'passed' || r.status === 'failed']));

  const allFindings: Finding[] = [...(findings?.findings ?? [])];
  // Anomalies a run derived from a finding that findings.yaml does not carry (no findings file): kept.
  const orphanFindingAnomalies = run.anomalies.filter((a) => a.findingId && !allFindings.some((f) => f.id === a.findingId));

  const constats: Constat[] = [];
  const risks: Risk[] = [];
  const stepsAbout = (f: Finding | undefined, id: string): PlanStep[] =>
    plan.steps.filter((s) => (f?.appliesTo ?? []).includes(s.id) || s.hazards.includes(id) || (id.startsWith('plugin.') && s.runner.kind === 'plugin-install'));

  const classify = (id: string, f: Finding | undefined, a: Anomaly | undefined) => {
    const title = f?.title ?? a!.title;
    const sev = severityOf(recette, [id, `F-${id}`, ...(a ? [a.id] : [])], f?.severity ?? a!.severity, used);
    const remedyText = f?.remedy.manual ?? a?.remedy;
    if (isPrediction(id)) {
      risks.push({ id, finding: f, title, count: f?.count, remedyText, ...sev, steps: stepsAbout(f, id).map((s) => ({ id: s.id, ran: stepRan.get(s.id) ?? false })) });
      return;
    }
    const migration = f?.remedy.migration;
    const applied = a ? a.resolved : migration !== undefined && passedMigrations.has(migration);
    constats.push({ id, finding: f, title, count: f?.count, ...sev, remedy: applied ? 'applied' : 'proposed', remedyText, migration, verifiedBy: applied ? run.runId : undefined });
  };
  for (const f of allFindings) classify(f.id, f, runAnomalyByFinding.get(f.id));
  for (const a of orphanFindingAnomalies) classify(a.findingId!, undefined, a);

  const anomalies: RegisterAnomaly[] = [];
  const lifecycle = (base: Omit<RegisterAnomaly, 'state' | 'stateAgreed' | 'owner' | 'deadline' | 'verifiedBy' | 'note'>, defaultState: AnomalyState, defaultVerifiedBy?: string): RegisterAnomaly => {
    const f = followUps.get(base.id);
    if (f) used.add(f.id);
    return {
      ...base,
      detectedOn: f?.detectedOn ?? base.detectedOn,
      state: f?.state ?? defaultState,
      stateAgreed: Boolean(f),
      owner: f?.owner,
      deadline: f?.deadline,
      verifiedBy: f?.verifiedBy ?? (f && f.state !== defaultState ? undefined : defaultVerifiedBy),
      note: f?.note,
    };
  };
  for (const a of run.anomalies.filter((x) => !x.findingId)) {
    anomalies.push(
      lifecycle(
        {
          id: a.id,
          origin: 'rehearsal',
          title: a.title,
          detail: a.detail,
          remedy: a.remedy,
          stepId: a.stepId,
          attempt: run.runId,
          detectedOn: dayOf(run.startedAt),
          ...severityOf(recette, [a.id], a.severity, used),
        },
        a.resolved ? 'vérifiée' : 'ouverte',
        a.resolved ? run.runId : undefined,
      ),
    );
  }
  for (const t of recette?.manualTests ?? []) {
    if (t.status !== 'failed' || !t.anomaly) continue;
    anomalies.push(
      lifecycle(
        {
          id: t.anomaly.id,
          origin: 'manual-test',
          title: literal(t.anomaly.title, t.anomaly.title),
          detail: literal(t.observed, t.observed),
          attempt: t.id,
          detectedOn: t.date,
          ...severityOf(recette, [t.anomaly.id], t.anomaly.severity, used),
        },
        'ouverte',
      ),
    );
  }
  for (const a of extraAnomalies) {
    const sev = severityOf(recette, [a.id], a.defaultSeverity, used);
    anomalies.push(lifecycle({ ...a, ...sev }, a.state, a.verifiedBy));
  }
  anomalies.sort(compareAnomalies);
  constats.sort(compareAnomalies);
  risks.sort(compareAnomalies);

  const unknownIds = [...(recette?.severities ?? []).map((x) => x.id), ...(recette?.anomalies ?? []).map((x) => x.id)].filter((id) => !used.has(id));
  return { constats, risks, anomalies, unknownIds: [...new Set(unknownIds)].sort() };
}
