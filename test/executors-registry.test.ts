/**
 * The typed executor registry (src/rehearse/executors/index.ts): every runner kind of the plan has its
 * executor, and the executor found for a kind is the one for that kind. The compiler already refuses a
 * missing kind; this checks the table the compiler cannot see (a kind mapped to another kind's executor).
 */
import { describe, expect, it } from 'vitest';
import { executorFor, type RunnerKind } from '../src/rehearse/executors/index.ts';

/** Every runner kind, once: `satisfies` makes a kind added to StepRunner without an entry here a build error. */
const KINDS = {
  'ocs-bridge': true,
  'ocs-update-file': true,
  'ocs-php-change': true,
  'glpi-console': true,
  'plugin-install': true,
  'corrective-migration': true,
} as const satisfies Record<RunnerKind, true>;

describe('executor registry', () => {
  it('has one executor per runner kind, each for its own kind', () => {
    for (const kind of Object.keys(KINDS) as RunnerKind[]) {
      const executor = executorFor(kind);
      expect(executor.kind, kind).toBe(kind);
      expect(typeof executor.execute, kind).toBe('function');
    }
  });
});
