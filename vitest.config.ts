import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file that needs a server starts its own embedded instance; two cores → two workers.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 180_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
