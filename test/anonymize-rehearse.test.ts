/**
 * anonymize, end to end: the committed fixture (every hazard) and its anonymized copy give the same audit
 * findings and, rehearsed with the same plan and OCS's real update files (Debian's ocsinventory-reports),
 * the same step results: status, table deltas (verdicts and row counts), anomalies. Any difference is a
 * hazard the anonymizer destroyed (or created), shown as a diff of the two normalized results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './helpers/shared.ts';
import { readManifest } from '../src/snapshot/index.ts';
import { anonymizeSnapshot } from '../src/anonymize/index.ts';
import type { AnonymizeSnapshotResult } from '../src/anonymize/index.ts';
import { runAudit } from '../src/audit/index.ts';
import type { FindingsFile } from '../src/audit/finding-types.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import { rehearseOrThrow } from '../src/rehearse/runner.ts';
import type { RunSummary } from '../src/rehearse/run-types.ts';
import { obtainDebianOcsDist } from '../src/distributions/ocs.ts';
import type { OcsDistribution } from '../src/distributions/ocs.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';
import { listInstances, stopInstanceRecord } from '../src/db/embedded.ts';
import { render } from '../src/i18n/render.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
const CACHE = path.join(os.tmpdir(), 'gou-test-cache');
const SALT = 'rehearse-salt-5e0c1a7b9d2f4e6a8c3b';
const OCS_TARGET = '2.11.1';

let debian: OcsDistribution;
let work: string;
let anonDir: string;
let anon: AnonymizeSnapshotResult;

beforeAll(async () => {
  debian = await obtainDebianOcsDist(CACHE);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-anon-rehearse-'));
  anonDir = path.join(work, 'anon');
  anon = await anonymizeSnapshot(FIXTURE, anonDir, { salt: SALT, jobs: 2 });
}, 600_000);

afterAll(async () => {
  // Instances kept by failed runs of this file only (other test files may be rehearsing at the same time).
  const ours = new Set<string>();
  for (const dir of work && fs.existsSync(work) ? fs.readdirSync(work) : []) {
    const j = path.join(work, dir, 'journal.jsonl');
    if (!fs.existsSync(j)) continue;
    const label = journalState(new Journal(path.join(work, dir)).read()).instance ?? '';
    if (label.startsWith('embedded:')) ours.add(label.slice('embedded:'.length));
  }
  for (const r of listInstances()) if (r.keep && ours.has(r.name)) await stopInstanceRecord(r);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The plan for a snapshot: GLPI corrective migrations + OCS to OCS_TARGET (GLPI and plugin steps are "not run" without their distributions). */
async function planFor(dir: string): Promise<PlanFile> {
  return buildPlan(await planInputFromSnapshot(dir), { ocs: OCS_TARGET });
}

/** What must not change with the data: findings by id, with severity, count and the steps they apply to; every check's status. */
function auditShape(f: FindingsFile) {
  return {
    findings: f.findings.map((x) => ({ id: x.id, severity: x.severity, count: x.count, appliesTo: x.appliesTo ?? [] })).sort((a, b) => a.id.localeCompare(b.id)),
    checks: f.checksRun.map((c) => `${c.id}: ${c.status}`).sort(),
  };
}

/** What must not change with the data in a rehearsal: per step, status, versions, statements, table deltas; the anomalies. */
function runShape(r: RunSummary) {
  return {
    complete: r.complete,
    preChecks: r.preChecks.map((c) => `${c.id}: ${c.status}`),
    steps: r.steps.map((s) => ({
      step: s.stepId,
      status: s.status,
      versions: `${s.versionBefore ?? '-'} → ${s.versionAfter ?? '-'}`,
      statements: s.statements ?? null,
      deltas: s.tableDeltas.map((d) => `${d.table}: ${d.before ?? 'null'} → ${d.after ?? 'null'} (${d.verdict})`),
      untouchedChecked: s.untouchedChecked ?? null,
      untouchedChanged: s.untouchedChanged ?? [],
    })),
    anomalies: r.anomalies
      .map((a) => ({ id: a.id, step: a.stepId ?? null, finding: a.findingId ?? null, severity: a.severity, resolved: a.resolved, title: render(a.title, 'en'), detail: render(a.detail, 'en') }))
      .sort((a, b) => a.id.localeCompare(b.id)),
  };
}

describe('anonymize: a rehearsal on the anonymized snapshot', () => {
  let original: { findings: FindingsFile; plan: PlanFile; run: RunSummary };
  let anonymized: { findings: FindingsFile; plan: PlanFile; run: RunSummary };

  async function auditAndRehearse(dir: string, label: string) {
    const findings = await runAudit({ snapshot: dir });
    const plan = await planFor(dir);
    const planPath = path.join(work, `plan-${label}.yaml`);
    writePlan(planPath, plan);
    const run = await rehearseOrThrow({ plan, planPath, manifest: await readManifest(dir), snapshotDir: dir, runDir: path.join(work, `run-${label}`), dists: { ocs: [debian] }, findings });
    return { findings, plan, run };
  }

  beforeAll(async () => {
    original = await auditAndRehearse(FIXTURE, 'original');
    anonymized = await auditAndRehearse(anonDir, 'anonymized');
  }, 900_000);

  it('the sweep finds nothing left in any text column of the fixture with the default rules', () => {
    const sweep = anon.report.sweep!;
    expect(sweep.scanned.tables).toBe(300);
    expect(sweep.columns).toEqual([]);
    expect(sweep.remaining).toBe(0);
    // Free text was rewritten where the fixture quotes something (the network ports' subnets and gateways, the history…).
    expect(sweep.identities).toBeGreaterThan(40);
  });

  it('is a different snapshot: personal data was rewritten', async () => {
    expect(anon.manifest.id).not.toBe((await readManifest(FIXTURE)).id);
    expect(anon.manifest.anonymized?.source).toBe((await readManifest(FIXTURE)).id);
    expect(anon.report.totals.rowsChanged).toBeGreaterThan(200);
  });

  it('gives the same plan (only the snapshot id differs)', () => {
    const strip = (p: PlanFile) => ({ ...p, createdAt: '', source: { ...p.source, snapshotId: '' } });
    expect(strip(anonymized.plan)).toEqual(strip(original.plan));
  });

  it('gives the same audit findings (ids, severities, counts) and check statuses', () => {
    const a = auditShape(original.findings);
    // The fixture has every hazard: a comparison of two near-empty lists would prove nothing.
    expect(a.findings.length).toBeGreaterThan(10);
    expect(auditShape(anonymized.findings)).toEqual(a);
  });

  it('gives the same step results, table deltas and anomalies', () => {
    const a = runShape(original.run);
    // The original run exercises what is compared: OCS updates that pass, GLPI steps not run, expected row
    // changes, and an anomaly register fed by the findings.
    expect(a.steps.filter((s) => s.status === 'passed').length).toBeGreaterThan(10);
    expect(a.steps.some((s) => s.status !== 'passed')).toBe(true);
    expect(a.steps.some((s) => s.deltas.some((d) => d.endsWith('(expected)')))).toBe(true);
    expect(a.anomalies.length).toBeGreaterThan(5);
    expect(original.run.steps[original.run.steps.length - 1]).toBeDefined();
    expect(runShape(anonymized.run)).toEqual(a);
  });
});
