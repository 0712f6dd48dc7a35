/**
 * The functional stage for real: the bundled fixture (whose double-encoded ticket titles no corrective
 * migration repairs) rehearsed through its GLPI steps with the real GLPI 10.0.19 updater and plugin 2.0.5,
 * then served by PHP's built-in server and driven by Debian's Chromium.
 *
 *  - the exact-text scenario fails and quotes the wrong characters (« Ã© », « â€” »), the login page passes;
 *  - Ctrl-C during the stage (the CLI, as a user runs it) leaves no PHP server and no Chromium behind.
 *
 * Needs GLPI_DIST and PLUGIN_DIST (unpacked GLPI 10.0.x with vendor/, ocsinventoryng 2.0.5), php, and
 * Chromium at /usr/bin/chromium (or GOU_CHROMIUM); skipped with the reason otherwise.
 */
import { distSkipReason, glpiDist, phpCommand, pluginDist } from './helpers/dist.ts';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/shared.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import { readManifest } from '../src/snapshot/index.ts';
import { rehearseOrThrow } from '../src/rehearse/runner.ts';
import type { RunSummary } from '../src/rehearse/run-types.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';
import { attachInstance } from '../src/db/embedded.ts';
import { detectGlpiDist, detectPluginDist } from '../src/distributions/glpi.ts';
import { functionalAfterRehearsal } from '../src/functional/after-rehearsal.ts';
import { OWNER_ENV } from '../src/functional/php-server.ts';
import { en, fr } from './helpers/reason.ts';

// GLPI_DIST/PLUGIN_DIST, or ../shared/dist unpacked by the global setup (test/helpers/dist.ts).
const GLPI_DIST = glpiDist();
const PLUGIN_DIST = pluginDist('2.0.5');
const PHP = phpCommand();
const CHROMIUM = process.env.GOU_CHROMIUM ?? '/usr/bin/chromium';
const DIST_SKIP = distSkipReason({ glpi: true, plugin: '2.0.5', php: true });
const SKIP = DIST_SKIP ? DIST_SKIP : !fs.existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}: apt-get install chromium or set GOU_CHROMIUM` : '';

/** Processes whose environment names `owner` as the functional stage's owner (servers, browser). */
function leftovers(owner: number): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (env.split('\0').includes(`${OWNER_ENV}=${owner}`)) out.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 80)}`);
    } catch {
      /* gone or not ours */
    }
  }
  return out;
}

let work: string;
let runDir: string;
let plan: PlanFile;
let run: RunSummary;
let databases: { glpi?: string; ocs?: string };

describe.skipIf(SKIP !== '')(`functional stage on the rehearsed fixture ${SKIP ? `(skipped: ${SKIP})` : ''}`, () => {
  const dists = () => ({ glpi: [detectGlpiDist(GLPI_DIST!)], plugin: [detectPluginDist(PLUGIN_DIST!)], ocs: [] });

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-fn-e2e-'));
    const snapshot = path.join(REPO_ROOT, 'fixtures', 'small');
    const full = buildPlan(await planInputFromSnapshot(snapshot), { glpi: detectGlpiDist(GLPI_DIST!).version });
    // The GLPI database's steps only (the OCS chain is not needed here and takes minutes).
    plan = { ...full, steps: full.steps.filter((s) => s.database === 'glpi') };
    const planFile = path.join(work, 'plan.yaml');
    writePlan(planFile, plan);
    runDir = path.join(work, 'run');
    const manifest = await readManifest(snapshot);
    databases = Object.fromEntries(manifest.databases.map((d) => [d.role, d.name]));
    run = await rehearseOrThrow({ plan, planPath: planFile, manifest, snapshotDir: snapshot, runDir, dists: dists(), php: PHP, keepInstance: true });
    expect(run.steps.filter((s) => s.status === 'failed')).toEqual([]);
  }, 1_500_000);

  afterAll(async () => {
    const label = runDir ? (journalState(new Journal(runDir).read()).instance ?? '') : '';
    if (label.startsWith('embedded:')) await attachInstance(label.slice('embedded:'.length))?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('the double-encoded ticket title fails the exact-text scenario, quoting the wrong characters; the login page passes', async () => {
    const res = await functionalAfterRehearsal({ plan, run, runDir, dists: dists(), databases, keepInstance: true, php: PHP, chromium: CHROMIUM, only: ['CT-FON-01', 'CT-FON-05'] });
    const byId = Object.fromEntries(res.scenarios.map((s) => [s.id, s]));
    expect(byId['CT-FON-01'].status).toBe('passed');
    const text = byId['CT-FON-05'];
    expect(text.status).toBe('failed');
    expect(en(text)).toMatch(/double-encoded characters shown: .*« (Ã©|â€”) »/);
    expect(fr(text)).toMatch(/«\s(Ã©|â€”)\s»/); // French quotes with non-breaking spaces
    expect(text.values?.ticket_name).toMatch(/Ã©|â€”/); // the database itself holds the mojibake
    const png = fs.readFileSync(path.join(runDir, 'functional', text.screenshot!));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'functional', 'results.json'), 'utf8')).scenarios).toHaveLength(2);
    expect(JSON.stringify(res)).not.toMatch(/password"\s*:/i);
    expect(leftovers(process.pid)).toEqual([]);
  }, 600_000);

  it('Ctrl-C during the stage: exit 130, no PHP server and no Chromium left', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'functional', runDir, '--glpi-dist', GLPI_DIST!, '--plugin-dist', PLUGIN_DIST!, '--php', PHP, '--chromium', CHROMIUM, '--keep-instance', '--only', 'CT-FON-02', '--only', 'CT-FON-03'],
      { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until both a PHP server and the browser run for it, then interrupt.
    const deadline = Date.now() + 240_000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = leftovers(child.pid!);
      if (seen.some((l) => /php/.test(l)) && seen.some((l) => /chrom/i.test(l))) break;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(
      seen.some((l) => /chrom/i.test(l)),
      `no browser seen; stderr: ${stderr}`,
    ).toBe(true);
    child.kill('SIGINT');
    const code = await exited;
    await new Promise((r) => setTimeout(r, 1000));
    expect(leftovers(child.pid!)).toEqual([]);
    expect(code).toBe(130);
  }, 600_000);
});
