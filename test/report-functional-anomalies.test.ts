/**
 * A failed functional scenario is a delivery anomaly: it enters the §8.11 register (major by default, the
 * customer's agreed severity applies) and the verdict counts it; a scenario not run is not an anomaly.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDossierModel, loadRunInputs } from '../src/report/index.ts';
import { functionalAnomalies } from '../src/report/functional-anomalies.ts';
import type { FunctionalResults, ScenarioResult } from '../src/functional/types.ts';
import { writeRunDir } from './report-fixture.ts';
import { literal, msg } from '../src/i18n/messages.ts';

function scenario(id: string, status: ScenarioResult['status']): ScenarioResult {
  return {
    id,
    title: literal(`Scenario ${id}`, `Scénario ${id}`),
    requirement: 'EX-05',
    app: 'glpi',
    status,
    reason: status === 'failed' ? literal('the page shows « Ã© »', 'la page affiche « Ã© »') : undefined,
    http: [],
    phpErrors: [],
    assertions: [],
    durationMs: 1,
  };
}

const results: FunctionalResults = {
  format: 1,
  startedAt: '2026-12-06T10:00:00.000Z',
  finishedAt: '2026-12-06T10:00:40.000Z',
  durationMs: 40_000,
  environment: {},
  scenarios: [scenario('CT-FON-01', 'passed'), scenario('CT-FON-05', 'failed'), scenario('CT-FON-08', 'not-run')],
  manual: [],
  sources: [],
};

describe('functional anomalies', () => {
  it('a failed scenario is an open major anomaly with its reason; passed and not-run scenarios are not', () => {
    const list = functionalAnomalies(results);
    expect(list.map((a) => [a.id, a.origin, a.severity, a.state])).toEqual([['A-CT-FON-05-failed', 'functional', 'majeure', 'ouverte']]);
    expect(list[0].title).toEqual(msg('anomaly.functional.title', { id: 'CT-FON-05', title: literal('Scenario CT-FON-05', 'Scénario CT-FON-05') }));
    expect(list[0].detail).toEqual(msg('anomaly.functional.detail', { reason: literal('the page shows « Ã© »', 'la page affiche « Ã© »') }));
    expect(functionalAnomalies(undefined)).toEqual([]);
  });

  it('the verdict counts it among the residual anomalies', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-fn-anom-'));
    try {
      const inputs = loadRunInputs(writeRunDir(root));
      const without = buildDossierModel(inputs);
      const withFn = buildDossierModel(inputs, { extraAnomalies: functionalAnomalies(results) });
      expect(withFn.register.map((a) => a.id)).toContain('A-CT-FON-05-failed');
      expect(withFn.verdict.residual.major).toBe(without.verdict.residual.major + 1);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
