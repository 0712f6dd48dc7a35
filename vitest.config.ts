import { defineConfig } from 'vitest/config';

/**
 * Three projects (docs/testing.md):
 *   unit         no server, no external program: seconds (`npm run test:unit`)
 *   external     the real product distributions and updaters: PHP + GLPI/plugin trees (../shared/dist),
 *                Debian's OCS console package (apt-get download), OCS's reference update files
 *   integration  everything else: each file starts its own embedded MariaDB
 * A test file not listed below is an integration test: a new file that starts a server cannot land in the
 * fast project by mistake.
 */
export const UNIT = [
  'test/audit-french.test.ts',
  'test/bin.test.ts',
  'test/catalog-reference.test.ts',
  'test/catalog.test.ts',
  'test/distributions.test.ts',
  'test/dsn-credentials.test.ts',
  'test/errors.test.ts',
  'test/executors-registry.test.ts',
  'test/formats.test.ts',
  'test/i18n.test.ts',
  'test/junit.test.ts',
  'test/plan.test.ts',
  'test/report-cli.test.ts',
  'test/report-verdict.test.ts',
  'test/report.test.ts',
  'test/version.test.ts',
];
export const EXTERNAL = [
  'test/anonymize-rehearse.test.ts',
  'test/ci-pipeline.test.ts',
  'test/demo.test.ts',
  'test/apply-glpi.test.ts',
  'test/executors-glpi.test.ts',
  'test/executors-ocs.test.ts',
  'test/fixtures.test.ts',
  'test/package.test.ts',
  'test/rehearse.test.ts',
  'test/apply.test.ts',
  'test/functional-e2e.test.ts',
  'test/glpi-lang.test.ts',
  'test/rehearse-glpi-orphan.test.ts',
];

// Each test file that needs a server starts its own embedded instance. The projects do not `extends: true`
// the root: the root's globalSetup then runs once for the whole run instead of once per project.
const base = { pool: 'forks' as const, testTimeout: 300_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    // Two cores → two workers, shared by the projects.
    maxWorkers: 2,
    // Once for the whole run, whichever projects run: embedded-instance sweep, then the distributions.
    globalSetup: ['test/global-setup.ts', 'test/global-setup-dist.ts'],
    projects: [
      { test: { ...base, name: 'unit', include: UNIT } },
      { test: { ...base, name: 'integration', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...EXTERNAL] } },
      { test: { ...base, name: 'external', include: EXTERNAL } },
    ],
  },
});
