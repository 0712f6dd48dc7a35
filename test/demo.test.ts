/**
 * `demo` with the real GLPI 10.0.19 tree and the ocsinventoryng 2.0.5 plugin (../shared/dist, or GLPI_DIST and
 * PLUGIN_DIST): the demo targets the GLPI release the distribution allows, and the real updater and the real
 * plugin install run on the bundled fixture. The OCS steps are left out (--no-ocs-fetch): rehearse.test.ts
 * covers them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { runCli } from './helpers/cli.ts';
import { distSkipReason, glpiDist, phpCommand, pluginDist } from './helpers/dist.ts';
import { en } from './helpers/reason.ts';
import type { Message } from '../src/i18n/messages.ts';

const SKIP = distSkipReason({ glpi: true, plugin: '2.0.5', php: true });
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-demo-'));
});
afterAll(() => {
  if (work && !process.env.GOU_KEEP_TEST_WORK) fs.rmSync(work, { recursive: true, force: true });
});

describe('demo with the real GLPI 10.0.19 and ocsinventoryng 2.0.5', () => {
  it.skipIf(SKIP !== '')(
    `targets GLPI 10.0.19 and runs its db:update and the plugin install on the bundled fixture${SKIP ? ` (skipped: ${SKIP})` : ''}`,
    async () => {
      const out = path.join(work, 'out');
      const r = await runCli(['demo', '-o', out, '--lang', 'en', '--no-ocs-fetch', '--glpi-dist', glpiDist()!, '--plugin-dist', pluginDist('2.0.5')!, '--php', phpCommand()], { timeoutMs: 1_800_000 });
      expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
      expect(r.stderr).toMatch(/plan: GLPI target 10\.0\.19, the newest release among the given GLPI distributions/);
      const run = YAML.parse(fs.readFileSync(path.join(out, 'run', 'run.yaml'), 'utf8')) as { steps: Array<{ stepId: string; status: string; reason?: Message; versionAfter?: string }> };
      const step = (id: string) => run.steps.find((s) => s.stepId === id);
      expect(step('glpi-10.0.19-db-update'), JSON.stringify(run.steps.map((s) => s.stepId))).toMatchObject({ status: 'passed', versionAfter: '10.0.19' });
      expect(step('connector-plugin-2.0.5')).toMatchObject({ status: 'passed', versionAfter: '2.0.5' });
      const glpiSteps = run.steps.filter((s) => s.stepId.startsWith('glpi-') || s.stepId.startsWith('connector-'));
      expect(glpiSteps.filter((s) => s.status !== 'passed').map((s) => `${s.stepId}: ${s.status} ${en(s)}`)).toEqual([]);
      // What ran, in the test log.
      console.log(`demo on the bundled fixture: ${glpiSteps.map((s) => `${s.stepId} ${s.status}`).join(', ')}`);
    },
    1_800_000,
  );
});
