/**
 * Nothing left running (issue 17): the tool is killed (SIGKILL) while GLPI's real updater runs; the PHP
 * process lives on against the test instance. --resume must stop it (and its sessions) before it rolls the
 * step back, say so, journal it, and end with the same tables as an uninterrupted run.
 *
 * The kill is timed on the updater itself: the test waits for the journal's process-started line of the
 * db:update step (written as soon as PHP is spawned), then for the updater to have changed the database,
 * then kills the tool. Needs GLPI_DIST and php; skipped with a message otherwise.
 */
import { distSkipReason, glpiDist, phpCommand } from './helpers/dist.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import mysql from 'mysql2/promise';
import { REPO_ROOT } from './helpers/shared.ts';
import { BIN } from './helpers/cli.ts';
import { GLPI_UPDATE_VOLATILE_TABLES } from './helpers/glpi-volatile.ts';
import { readManifest } from '../src/snapshot/index.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import { rehearse } from '../src/rehearse/runner.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';
import { detectGlpiDist } from '../src/distributions/glpi.ts';
import { attachInstance, listInstances, stopInstanceRecord } from '../src/db/embedded.ts';
import { baseOptions } from '../src/db/connect.ts';
import { isSameProcessAlive } from '../src/rehearse/processes.ts';
import type { Manifest } from '../src/snapshot/manifest-types.ts';
import { en } from './helpers/reason.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
// GLPI_DIST, or ../shared/dist unpacked by the global setup (test/helpers/dist.ts); under CI=true a skip
// while the distributions are present is a failure of the global setup.
const GLPI_DIST = glpiDist();
const PHP = phpCommand();
const SKIP = distSkipReason({ glpi: true, php: true });

let work: string;
let manifest: Manifest;
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-orphan-'));
  manifest = await readManifest(FIXTURE);
});
afterAll(async () => {
  const ours = new Set<string>();
  for (const dir of fs.existsSync(work) ? fs.readdirSync(work) : []) {
    const j = path.join(work, dir, 'journal.jsonl');
    if (!fs.existsSync(j)) continue;
    const label = journalState(new Journal(path.join(work, dir)).read()).instance ?? '';
    if (label.startsWith('embedded:')) ours.add(label.slice('embedded:'.length));
  }
  for (const r of listInstances()) if (r.keep && ours.has(r.name)) await stopInstanceRecord(r);
  if (!process.env.GOU_KEEP_TEST_WORK) fs.rmSync(work, { recursive: true, force: true });
});

async function glpiChecksums(runDir: string): Promise<Map<string, string>> {
  const label = journalState(new Journal(runDir).read()).instance!;
  const inst = attachInstance(label.slice('embedded:'.length));
  if (!inst) throw new Error(`instance ${label} is not running`);
  const c = await mysql.createConnection(baseOptions(inst.dsn));
  try {
    const db = manifest.databases.find((d) => d.role === 'glpi')!.name;
    const [tables] = await c.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1`, [db]);
    const out = new Map<string, string>();
    for (const { t } of tables as Array<{ t: string }>) {
      const [r] = await c.query(`CHECKSUM TABLE \`${db}\`.\`${t}\``);
      out.set(t, String((r as Array<{ Checksum: unknown }>)[0].Checksum));
    }
    return out;
  } finally {
    await c.end();
  }
}

describe('a killed rehearsal leaves nothing running', () => {
  it.skipIf(SKIP !== '')(
    `kill -9 during db:update: --resume stops the orphan updater first, rolls back, and ends like an uninterrupted run ${SKIP ? `(skipped: ${SKIP})` : ''}`,
    async () => {
      const dist = detectGlpiDist(GLPI_DIST as string);
      const plan = buildPlan(await planInputFromSnapshot(FIXTURE), { glpi: dist.version });
      // The GLPI side without the connector plugin (that needs PLUGIN_DIST).
      plan.steps = plan.steps.filter((s) => s.database === 'glpi' && s.product !== 'connector' && s.runner.kind !== 'plugin-install');
      const update = plan.steps.find((s) => s.runner.kind === 'glpi-console' && s.runner.command === 'db:update');
      expect(update).toBeDefined();
      const planFile = path.join(work, 'plan.yaml');
      writePlan(planFile, plan);
      const opts = (runDir: string) => ({ plan, planPath: planFile, manifest, snapshotDir: FIXTURE, runDir, dists: { glpi: [dist] }, php: PHP, keepInstance: true });

      const refDir = path.join(work, 'run-ref');
      const ref = await rehearse(opts(refDir));
      expect(ref.error).toBeUndefined();
      expect(ref.summary?.steps.filter((s) => s.status !== 'passed').map((s) => `${s.stepId}: ${en(s)}`)).toEqual([]);

      const runDir = path.join(work, 'run-killed');
      const child = execa(process.execPath, [BIN, 'rehearse', planFile, '--snapshot', FIXTURE, '-o', runDir, '--glpi-dist', dist.dir, '--php', PHP], { reject: false, env: { NO_COLOR: '1' } });
      const journal = new Journal(runDir);
      let proc: { pid: number; startTime?: number } | undefined;
      const deadline = Date.now() + 600_000;
      while (!proc && Date.now() < deadline) {
        const e = fs.existsSync(journal.file) ? journal.read().find((x) => x.event === 'process-started' && x.stepId === update!.id) : undefined;
        if (e && e.event === 'process-started') proc = { pid: e.pid, startTime: e.startTime };
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(proc, 'the db:update process never appeared in the journal').toBeDefined();
      // Let the updater change the database (its first migration, 0.83 → 0.84, renames tables) before the kill.
      const label = journalState(journal.read()).instance!;
      const inst = attachInstance(label.slice('embedded:'.length))!;
      const c = await mysql.createConnection(baseOptions(inst.dsn));
      const glpiDb = manifest.databases.find((d) => d.role === 'glpi')!.name;
      for (let i = 0; i < 600; i++) {
        const [rows] = await c.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'ocs\\_glpi\\_%'`, [glpiDb]);
        if (Number((rows as Array<{ n: number }>)[0].n) > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await c.end();
      child.kill('SIGKILL');
      await child;
      // The orphan: the updater outlives the tool.
      expect(isSameProcessAlive(proc!.pid, proc!.startTime)).toBe(true);

      const said: string[] = [];
      const resumed = await rehearse({ ...opts(runDir), resume: true, onEvent: (e) => e.kind === 'info' && said.push(e.message) });
      expect(resumed.error).toBeUndefined();
      expect(isSameProcessAlive(proc!.pid, proc!.startTime)).toBe(false);
      const text = said.join('\n');
      expect(text).toMatch(new RegExp(`stopped the updater left running by the interrupted rehearsal: pid ${proc!.pid} \\(step ${update!.id}`));
      // Stopped before the rollback, and both journaled.
      expect(text.indexOf('stopped the updater')).toBeLessThan(text.indexOf(`rolling back the interrupted step ${update!.id}`));
      const events = journal.read();
      const stopped = events.findIndex((e) => e.event === 'process-stopped' && e.pid === proc!.pid);
      const rolled = events.findIndex((e) => e.event === 'step-rolled-back' && e.stepId === update!.id);
      expect(stopped).toBeGreaterThan(-1);
      expect(rolled).toBeGreaterThan(stopped);
      expect(events[rolled]).toMatchObject({ cause: 'crash', ok: true });
      expect(resumed.summary?.complete).toBe(true);

      const a = await glpiChecksums(refDir);
      const b = await glpiChecksums(runDir);
      expect([...b.keys()]).toEqual([...a.keys()]);
      const differ = [...a.keys()].filter((t) => a.get(t) !== b.get(t));
      expect(
        differ.filter((t) => !GLPI_UPDATE_VOLATILE_TABLES.has(t)),
        `tables that differ: ${differ.join(', ')}`,
      ).toEqual([]);
    },
    1_800_000,
  );
});
