/**
 * The tender's acceptance rule (§8.11) as implemented by computeVerdict: table-driven edge cases.
 */
import { describe, expect, it } from 'vitest';
import type { Severity } from '../src/audit/finding-types.ts';
import type { VerdictAnomaly, VerdictKind, VerdictStep } from '../src/report/verdict.ts';
import { computeVerdict } from '../src/report/verdict.ts';

function anomalies(spec: Partial<Record<Severity, number>>, resolved = false, lot?: string): VerdictAnomaly[] {
  const out: VerdictAnomaly[] = [];
  for (const sev of ['bloquante', 'majeure', 'mineure'] as Severity[]) {
    for (let i = 0; i < (spec[sev] ?? 0); i++) out.push({ id: `${lot ?? 'x'}-${sev}-${String(i).padStart(2, '0')}`, severity: sev, resolved, lot });
  }
  return out;
}

const passed: VerdictStep[] = [
  { stepId: 'a', status: 'passed' },
  { stepId: 'b', status: 'passed' },
];

const cases: Array<{ name: string; a: VerdictAnomaly[]; steps?: VerdictStep[]; run?: { dryRun?: boolean; complete?: boolean }; kind: VerdictKind; thresholdsMet: boolean }> = [
  { name: 'no anomaly at all', a: [], kind: 'accepted', thresholdsMet: true },
  { name: '0 major, some minor', a: anomalies({ mineure: 5 }), kind: 'accepted', thresholdsMet: true },
  { name: '1 major', a: anomalies({ majeure: 1 }), kind: 'accepted', thresholdsMet: true },
  { name: '2 majors (the limit)', a: anomalies({ majeure: 2 }), kind: 'accepted', thresholdsMet: true },
  { name: '3 majors', a: anomalies({ majeure: 3 }), kind: 'with-reservations', thresholdsMet: false },
  { name: '14 residual (2 major + 12 minor)', a: anomalies({ majeure: 2, mineure: 12 }), kind: 'accepted', thresholdsMet: true },
  { name: '15 residual (all minor)', a: anomalies({ mineure: 15 }), kind: 'with-reservations', thresholdsMet: false },
  { name: '14 minor + 1 resolved blocking', a: [...anomalies({ mineure: 14 }), ...anomalies({ bloquante: 1 }, true)], kind: 'accepted', thresholdsMet: true },
  { name: 'any blocking', a: anomalies({ bloquante: 1 }), kind: 'with-reservations', thresholdsMet: false },
  { name: 'blocking resolved during the rehearsal', a: anomalies({ bloquante: 3, majeure: 5 }, true), kind: 'accepted', thresholdsMet: true },
  { name: '3 majors but all resolved', a: anomalies({ majeure: 3 }, true), kind: 'accepted', thresholdsMet: true },
  { name: '2 majors in each of two lots', a: [...anomalies({ majeure: 2 }, false, 'MAJSER'), ...anomalies({ majeure: 2 }, false, 'SERLOG')], kind: 'accepted', thresholdsMet: true },
  { name: 'a step not run, no anomaly', a: [], steps: [...passed, { stepId: 'c', status: 'not-run' }], kind: 'incomplete', thresholdsMet: true },
  { name: 'a skipped step counts as not run', a: [], steps: [...passed, { stepId: 'c', status: 'skipped' }], kind: 'incomplete', thresholdsMet: true },
  { name: 'dry run, every step passed', a: [], run: { dryRun: true, complete: true }, kind: 'incomplete', thresholdsMet: true },
  { name: 'run not complete', a: [], run: { dryRun: false, complete: false }, kind: 'incomplete', thresholdsMet: true },
  {
    name: 'incomplete and blocking: still incomplete, thresholds already missed',
    a: anomalies({ bloquante: 1 }),
    steps: [{ stepId: 'c', status: 'not-run' }],
    kind: 'incomplete',
    thresholdsMet: false,
  },
  { name: 'a failed step without any anomaly recorded', a: [], steps: [...passed, { stepId: 'c', status: 'failed' }], kind: 'with-reservations', thresholdsMet: true },
];

describe('computeVerdict: §8.11 (no blocking, at most 2 majors per lot, fewer than 15 residual)', () => {
  it.each(cases)('$name → $kind', ({ a, steps, run, kind, thresholdsMet }) => {
    const v = computeVerdict(a, steps ?? passed, run ?? { dryRun: false, complete: true });
    expect(v.kind).toBe(kind);
    expect(v.thresholdsMet).toBe(thresholdsMet);
  });

  it('counts residual anomalies per severity and per lot, and lists the reserves blocking first', () => {
    const v = computeVerdict(
      [
        { id: 'm2', severity: 'mineure', resolved: false },
        { id: 'b1', severity: 'bloquante', resolved: false },
        { id: 'M1', severity: 'majeure', resolved: false, lot: 'SERLOG' },
        { id: 'M2', severity: 'majeure', resolved: false },
        { id: 'm1', severity: 'mineure', resolved: true },
      ],
      passed,
    );
    expect(v.residual).toEqual({ blocking: 1, major: 2, minor: 1, total: 4 });
    expect(v.resolved).toBe(1);
    expect(v.majorsByLot).toEqual([
      { lot: 'MAJSER', major: 1 },
      { lot: 'SERLOG', major: 1 },
    ]);
    expect(v.residualIds).toEqual(['b1', 'M1', 'M2', 'm2']);
    expect(v.reasons).toEqual(['blocking']);
  });

  it('gives every reason that applies, and names the steps not run and failed', () => {
    const v = computeVerdict(anomalies({ bloquante: 1, majeure: 3, mineure: 11 }), [
      { stepId: 's1', status: 'failed' },
      { stepId: 's2', status: 'not-run' },
    ]);
    expect(v.kind).toBe('incomplete');
    expect(v.reasons).toEqual(['steps-not-run', 'failed-steps', 'blocking', 'too-many-majors', 'too-many-residual']);
    expect(v.notRun).toEqual(['s2']);
    expect(v.failed).toEqual(['s1']);
    expect(v.lotsOverMajorLimit).toEqual(['MAJSER']);
  });

  it('is pure: the same input gives the same result and the input is not reordered', () => {
    const a = anomalies({ mineure: 2, bloquante: 1 }).reverse();
    const copy = structuredClone(a);
    expect(computeVerdict(a, passed)).toEqual(computeVerdict(a, passed));
    expect(a).toEqual(copy);
  });
});
