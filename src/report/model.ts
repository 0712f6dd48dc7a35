/**
 * What the documents say, computed from the inputs independently of the language: the test cases (one
 * per pre-check, per plan step and per audit check), the versions before/targeted/reached, the anomaly
 * register, the verdict, the exit criteria and the requirement → test case traceability.
 * Everything is ordered deterministically (plan order, then ids), nothing depends on the clock.
 */
import { render } from '../i18n/render.ts';
import type { Anomaly, RunSummary, StepResult } from '../rehearse/run-types.ts';
import type { PlanFile, PlanStep, Product } from '../plan/plan-types.ts';
import type { Finding, FindingsFile } from '../audit/finding-types.ts';
import type { RunInputs } from './inputs.ts';
import type { Verdict } from './verdict.ts';
import { compareAnomalies, computeVerdict } from './verdict.ts';
import type { Recette, ManualTest } from './recette.ts';
import type { Constat, RegisterAnomaly, Risk } from './registers.ts';
import { buildRegisters, isResidual } from './registers.ts';
import type { Catalog } from '../catalog/catalog.ts';
import { glpiBranchOf, loadCatalog, newestGlpiRelease, newestOcsRelease } from '../catalog/catalog.ts';
import { compareDotted } from '../catalog/version.ts';

export type CaseStatus = 'passed' | 'failed' | 'not-run';

export interface TestCase {
  /** CT-PRE-01, CT-ETP-01, CT-AUD-01 … numbered in document order. */
  id: string;
  kind: 'pre-check' | 'step' | 'audit-check' | 'manual';
  /** The step id or check id it comes from. */
  ref: string;
  status: CaseStatus;
  planStep?: PlanStep;
  result?: StepResult;
  preCheck?: RunSummary['preChecks'][number];
  auditCheck?: FindingsFile['checksRun'][number];
  findings: Finding[];
  anomalies: Anomaly[];
  /** For steps: the result was absent from run.yaml (the plan had it, the run did not report it). */
  missingResult?: boolean;
  /** A manual test of recette.yaml. */
  manual?: ManualTest;
  /** For the OCS bridge step: whose script ran (the tool's own bridge or OCS 2.2's files/ocsbase.sql). */
  bridgeSource?: 'tool' | 'official';
}

export type RequirementKey = 'glpiLatest' | 'ocsLatest' | 'connectorUpdated' | 'corrective' | 'dataMeetsNeeds' | 'testedBeforeDelivery';

export interface RequirementRow {
  id: string;
  key: RequirementKey;
  /** Section of the tender. */
  ref: string;
  cases: TestCase[];
  status: 'met' | 'failed' | 'not-proven' | 'no-test' | 'needs-review' | 'older-target';
  /** For older-target: the newest release of the target's branch and of the catalog. */
  newest?: { branch?: string; overall: string };
}

export interface VersionRow {
  product: Product;
  before?: string;
  target?: string;
  reached?: string;
}

export interface ExitCriterion {
  key: 'allStepsRun' | 'allCasesPassed' | 'preChecks' | 'noBlocking' | 'majors' | 'residual' | 'deltasExplained' | 'functionalValidation';
  met: boolean | undefined;
  detail?: string;
}

export interface DossierModel {
  inputs: RunInputs;
  cases: TestCase[];
  /** The run's anomalies as recorded (all kinds); the registers below sort them out. */
  anomalies: Anomaly[];
  /** Audit findings about production before the upgrade. */
  constats: Constat[];
  /** Predictions no run confirmed. */
  risks: Risk[];
  /** What an attempt observed: the only items §8.11 counts. */
  register: RegisterAnomaly[];
  recette?: Recette;
  /** recette.yaml ids that match nothing. */
  unknownRecetteIds: string[];
  /** The run went to its end (run-finished in the journal, or finishedAt), even if steps were not run. */
  finished: boolean;
  /** Audit checks that were not run (skipped), with their reasons. */
  auditSkipped: Array<FindingsFile['checksRun'][number]>;
  verdict: Verdict;
  versions: VersionRow[];
  requirements: RequirementRow[];
  exitCriteria: ExitCriterion[];
  /** Date of the document: the run's end (or start), never the clock. */
  date: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

function stepStatus(r: StepResult | undefined): CaseStatus {
  if (!r) return 'not-run';
  return r.status === 'passed' ? 'passed' : r.status === 'failed' ? 'failed' : 'not-run';
}

function isCorrective(s: PlanStep): boolean {
  return s.runner.kind === 'corrective-migration';
}

/** The plan steps in plan order, then results the plan does not know (in run order). */
function orderedSteps(plan: PlanFile, run: RunSummary): Array<{ step?: PlanStep; result?: StepResult; id: string }> {
  const results = new Map(run.steps.map((r) => [r.stepId, r]));
  const out: Array<{ step?: PlanStep; result?: StepResult; id: string }> = plan.steps.map((s) => ({ step: s, result: results.get(s.id), id: s.id }));
  const known = new Set(plan.steps.map((s) => s.id));
  for (const r of run.steps) if (!known.has(r.stepId)) out.push({ result: r, id: r.stepId });
  return out;
}

export interface ModelOptions {
  recette?: Recette;
  /** The catalog of releases, to tell whether the targets are the newest (default: the tool's; null: none). */
  catalog?: Catalog | null;
  /** Anomalies observed outside the rehearsal (apply, functional tests), added by their sections' hooks. */
  extraAnomalies?: RegisterAnomaly[];
}

function defaultCatalog(): Catalog | undefined {
  try {
    return loadCatalog();
  } catch {
    return undefined;
  }
}

/** Whose bridge script ran: from the evidence (bridge.json), else the reason or the distributions recorded. */
function bridgeSourceOf(inputs: RunInputs, r: StepResult | undefined): 'tool' | 'official' | undefined {
  if (!r) return undefined;
  const ev = inputs.bridges?.[r.stepId];
  if (ev) return ev;
  if (r.reason && /^tool's bridge/i.test(render(r.reason, 'en'))) return 'tool';
  if (inputs.run.distributions.some((d) => /(^|\/)migrations\/ocs\/bridge-[^/]*\.sql$/.test(d.path))) return 'tool';
  return r.status === 'passed' || r.status === 'failed' ? 'official' : undefined;
}

export function buildDossierModel(inputs: RunInputs, options: ModelOptions = {}): DossierModel {
  const { run, plan, findings } = inputs;
  const recette = options.recette;
  const anomalies = [...run.anomalies].sort(compareAnomalies);
  const findingById = new Map((findings?.findings ?? []).map((f) => [f.id, f]));
  const cases: TestCase[] = [];

  run.preChecks.forEach((p, i) => {
    cases.push({
      id: `CT-PRE-${pad(i + 1)}`,
      kind: 'pre-check',
      ref: p.id,
      status: p.status === 'passed' ? 'passed' : 'failed',
      preCheck: p,
      findings: [],
      anomalies: anomalies.filter((a) => a.stepId === p.id),
    });
  });

  orderedSteps(plan, run).forEach((s, i) => {
    const hazards = (s.step?.hazards ?? []).map((h) => findingById.get(h)).filter((f): f is Finding => Boolean(f));
    cases.push({
      id: `CT-ETP-${pad(i + 1)}`,
      kind: 'step',
      ref: s.id,
      status: stepStatus(s.result),
      planStep: s.step,
      result: s.result,
      findings: hazards,
      anomalies: anomalies.filter((a) => a.stepId === s.id),
      missingResult: !s.result,
      bridgeSource: s.step?.runner.kind === 'ocs-bridge' ? bridgeSourceOf(inputs, s.result) : undefined,
    });
  });

  const passedMigrations = new Set(
    cases.filter((c) => c.kind === 'step' && c.status === 'passed' && c.planStep?.runner.kind === 'corrective-migration').map((c) => (c.planStep!.runner as { migration: string }).migration),
  );
  (findings?.checksRun ?? []).forEach((k, i) => {
    const found = (findings?.findings ?? []).filter((f) => f.id === k.id || f.id.startsWith(`${k.id}.`));
    const linked = anomalies.filter((a) => a.findingId !== undefined && found.some((f) => f.id === a.findingId));
    let status: CaseStatus;
    if (k.status === 'ok') status = 'passed';
    else if (k.status === 'skipped') status = 'not-run';
    else {
      // A hazard found on the source is dealt with when its anomalies are resolved, or when the corrective
      // migration it names passed during the rehearsal.
      const corrected =
        found.length > 0 &&
        found.every((f) => {
          const its = linked.filter((a) => a.findingId === f.id);
          if (its.length) return its.every((a) => a.resolved);
          return f.remedy.migration !== undefined && passedMigrations.has(f.remedy.migration);
        });
      status = corrected ? 'passed' : 'failed';
    }
    cases.push({ id: `CT-AUD-${pad(i + 1)}`, kind: 'audit-check', ref: k.id, status, auditCheck: k, findings: found, anomalies: linked });
  });

  (recette?.manualTests ?? []).forEach((t, i) => {
    cases.push({
      id: `CT-MAN-${pad(i + 1)}`,
      kind: 'manual',
      ref: t.id,
      status: t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'not-run',
      manual: t,
      findings: [],
      anomalies: [],
    });
  });

  const registers = buildRegisters(inputs, recette, passedMigrations, options.extraAnomalies);
  const finished = Boolean(run.finishedAt) || inputs.journal.some((e) => e.event === 'run-finished');
  const runCases = cases.filter((c) => c.kind !== 'audit-check');
  const verdict = computeVerdict(
    registers.anomalies.map((a) => ({ id: a.id, severity: a.severity, resolved: !isResidual(a), lot: a.lot })),
    runCases.map((c) => ({ stepId: c.ref, status: c.status === 'not-run' ? 'not-run' : c.status })),
    // A run that went to its end is complete as a run: the steps it did not run are counted as such.
    { dryRun: run.dryRun, complete: run.complete || finished },
  );

  const versions = computeVersions(inputs, cases);
  const catalog = options.catalog === null ? undefined : (options.catalog ?? defaultCatalog());
  const requirements = computeRequirements(cases, plan, catalog);
  const stepCases = cases.filter((c) => c.kind === 'step');
  const deltas = stepCases.flatMap((c) => c.result?.tableDeltas ?? []);
  const unexplained = deltas.filter((d) => d.verdict === 'anomaly').length;
  const exitCriteria: ExitCriterion[] = [
    { key: 'allStepsRun', met: stepCases.every((c) => c.status !== 'not-run') && !run.dryRun && (run.complete || finished), detail: String(stepCases.filter((c) => c.status === 'not-run').length) },
    { key: 'allCasesPassed', met: runCases.every((c) => c.status === 'passed'), detail: String(runCases.filter((c) => c.status === 'failed').length) },
    { key: 'preChecks', met: run.preChecks.length > 0 && run.preChecks.every((p) => p.status === 'passed'), detail: String(run.preChecks.length) },
    { key: 'noBlocking', met: verdict.residual.blocking === 0, detail: String(verdict.residual.blocking) },
    { key: 'majors', met: verdict.lotsOverMajorLimit.length === 0, detail: String(verdict.residual.major) },
    { key: 'residual', met: !verdict.reasons.includes('too-many-residual'), detail: String(verdict.residual.total) },
    { key: 'deltasExplained', met: unexplained === 0, detail: String(unexplained) },
    { key: 'functionalValidation', met: undefined },
  ];

  const functional = recette?.manualTests ?? [];
  exitCriteria[exitCriteria.length - 1] = {
    key: 'functionalValidation',
    met: functional.length ? functional.every((t) => t.status === 'passed') : undefined,
    detail: functional.length ? `${String(functional.filter((t) => t.status === 'passed').length)}/${String(functional.length)}` : undefined,
  };

  return {
    inputs,
    cases,
    anomalies,
    constats: registers.constats,
    risks: registers.risks,
    register: registers.anomalies,
    recette,
    unknownRecetteIds: registers.unknownIds,
    finished,
    auditSkipped: (findings?.checksRun ?? []).filter((k) => k.status === 'skipped'),
    verdict,
    versions,
    requirements,
    exitCriteria,
    date: run.finishedAt ?? run.startedAt,
  };
}

function computeVersions(inputs: RunInputs, cases: TestCase[]): VersionRow[] {
  const { plan, manifest } = inputs;
  const glpiDb = manifest?.databases.find((d) => d.role === 'glpi');
  const ocsDb = manifest?.databases.find((d) => d.role === 'ocs');
  const reached = (product: Product): string | undefined => {
    const steps = cases.filter((c) => c.kind === 'step' && c.planStep?.product === product && c.planStep && !isCorrective(c.planStep));
    if (!steps.length) return undefined;
    let last: string | undefined;
    for (const c of steps) {
      if (c.status !== 'passed') break;
      last = c.result?.versionAfter ?? c.planStep!.to;
    }
    return last;
  };
  const ocsBefore = plan.source.ocs?.releases?.length
    ? `${plan.source.ocs.releases.join(' / ')} (GUI_VERSION ${plan.source.ocs.guiVersion})`
    : ocsDb?.ocs?.version.guiVersion !== undefined
      ? `GUI_VERSION ${ocsDb.ocs.version.guiVersion}`
      : undefined;
  const connectorBefore = plan.source.glpi?.connector ?? glpiDb?.glpi?.connector.mode;
  return [
    { product: 'glpi', before: plan.source.glpi?.version ?? glpiDb?.glpi?.version.version, target: plan.targets.glpi, reached: reached('glpi') },
    { product: 'ocs', before: ocsBefore, target: plan.targets.ocs, reached: reached('ocs') },
    { product: 'connector', before: connectorBefore, target: plan.targets.connector, reached: reached('connector') },
  ];
}

const REQUIREMENTS: Array<{ id: string; key: RequirementKey; ref: string; select: (c: TestCase) => boolean; review?: boolean }> = [
  { id: 'EX-01', key: 'glpiLatest', ref: '§6.1.2', select: (c) => c.kind === 'step' && c.planStep?.product === 'glpi' && !isCorrective(c.planStep) },
  { id: 'EX-02', key: 'ocsLatest', ref: '§6.1.2', select: (c) => c.kind === 'step' && c.planStep?.product === 'ocs' && !isCorrective(c.planStep) },
  {
    id: 'EX-03',
    key: 'connectorUpdated',
    ref: '§6.1.2',
    select: (c) => c.kind === 'step' && (c.planStep?.product === 'connector' || c.planStep?.runner.kind === 'plugin-install'),
  },
  {
    id: 'EX-04',
    key: 'corrective',
    ref: '§6.1.2',
    select: (c) => (c.kind === 'step' && c.planStep !== undefined && isCorrective(c.planStep)) || (c.kind === 'audit-check' && c.auditCheck?.family === 'interconnection'),
  },
  {
    id: 'EX-05',
    key: 'dataMeetsNeeds',
    ref: '§6.1.2',
    select: (c) => c.kind === 'pre-check' || (c.kind === 'audit-check' && c.auditCheck?.family === 'interconnection'),
    review: true,
  },
  { id: 'EX-06', key: 'testedBeforeDelivery', ref: '§8.5', select: (c) => c.kind !== 'audit-check' },
];

/** The newest releases when `target` is older than the newest of its branch or of the catalog. */
function olderThanNewest(key: RequirementKey, plan: PlanFile, catalog: Catalog | undefined): RequirementRow['newest'] {
  if (!catalog) return undefined;
  if (key === 'glpiLatest' && plan.targets.glpi) {
    const t = plan.targets.glpi;
    const branch = glpiBranchOf(catalog, t)?.latest;
    const overall = newestGlpiRelease(catalog);
    if ((branch && compareDotted(t, branch) < 0) || compareDotted(t, overall) < 0) return { branch: branch && branch !== overall ? branch : undefined, overall };
  }
  if (key === 'ocsLatest' && plan.targets.ocs) {
    const overall = newestOcsRelease(catalog).version;
    if (compareDotted(plan.targets.ocs, overall) < 0) return { overall };
  }
  return undefined;
}

function computeRequirements(cases: TestCase[], plan: PlanFile, catalog: Catalog | undefined): RequirementRow[] {
  return REQUIREMENTS.map((r) => {
    const selected = cases.filter(r.select);
    let status: RequirementRow['status'];
    const newest = olderThanNewest(r.key, plan, catalog);
    if (!selected.length) status = 'no-test';
    else if (selected.some((c) => c.status === 'failed')) status = 'failed';
    else if (selected.some((c) => c.status === 'not-run')) status = 'not-proven';
    else if (newest) status = 'older-target';
    else status = r.review ? 'needs-review' : 'met';
    return { id: r.id, key: r.key, ref: r.ref, cases: selected, status, newest };
  });
}
