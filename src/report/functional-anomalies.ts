/**
 * Functional scenarios that failed are delivery anomalies: what a test of the upgraded application actually
 * observed (tender §8.11 counts them). Major by default — the customer's agreed severity in recette.yaml
 * overrides it like any other — and open until a later run passes the scenario. A scenario that did not run
 * is not an anomaly (the dossier lists it as not run, with its command).
 */
import { msg } from '../i18n/messages.ts';
import type { FunctionalResults } from '../functional/types.ts';
import type { RegisterAnomaly } from './registers.ts';

export function functionalAnomalies(results: FunctionalResults | undefined): RegisterAnomaly[] {
  if (!results) return [];
  return results.scenarios
    .filter((s) => s.status === 'failed')
    .map((s) => ({
      id: `A-${s.id}-failed`,
      origin: 'functional' as const,
      title: msg('anomaly.functional.title', { id: s.id, title: s.title }),
      detail: msg('anomaly.functional.detail', s.reason ? { reason: s.reason } : {}),
      attempt: `functional ${results.startedAt}`,
      detectedOn: results.finishedAt.slice(0, 10),
      severity: 'majeure' as const,
      defaultSeverity: 'majeure' as const,
      state: 'ouverte' as const,
      stateAgreed: false,
    }));
}
