/**
 * A run directory is one run of one plan (issue 17), on the committed fixture with short OCS plans and the
 * real embedded server: the plan pinned (exit 14) and a new attempt shown in the dossier; one process at a
 * time (exit 13), a dead holder's lock taken over; a kill during the savepoint write, then a resume that
 * succeeds; a torn journal line read the same by the dossier and --resume; the real signal journaled; a
 * refused run leaves no directory behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import mysql from 'mysql2/promise';
import { REPO_ROOT } from './helpers/shared.ts';
import { BIN, runCli } from './helpers/cli.ts';
import { readManifest } from '../src/snapshot/index.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import type { RehearseOptions } from '../src/rehearse/runner.ts';
import { rehearse } from '../src/rehearse/runner.ts';
import { obtainDebianOcsDist } from '../src/distributions/ocs.ts';
import type { OcsDistribution } from '../src/distributions/ocs.ts';
import { Journal, journalState } from '../src/rehearse/journal.ts';
import { parseJournal } from '../src/formats/journal.ts';
import { attachInstance, listInstances, stopInstanceRecord } from '../src/db/embedded.ts';
import { baseOptions } from '../src/db/connect.ts';
import { databaseState, fingerprint } from '../src/rehearse/checks.ts';
import { ExitCode } from '../src/errors.ts';
import { loadRunInputs, renderDossier } from '../src/report/index.ts';
import type { Manifest } from '../src/snapshot/manifest-types.ts';
import { startTestServer } from './helpers/server.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
const CACHE = path.join(os.tmpdir(), 'gou-test-cache');
let debian: OcsDistribution;
let manifest: Manifest;
let work: string;

beforeAll(async () => {
  debian = await obtainDebianOcsDist(CACHE);
  manifest = await readManifest(FIXTURE);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-runner-'));
}, 600_000);

afterAll(async () => {
  const ours = new Set<string>();
  for (const dir of fs.existsSync(work) ? fs.readdirSync(work) : []) {
    const j = path.join(work, dir, 'journal.jsonl');
    if (!fs.existsSync(j)) continue;
    let label = '';
    try {
      label = journalState(parseJournal(fs.readFileSync(j, 'utf8')).events).instance ?? '';
    } catch {
      continue; // the corrupt journal made on purpose (its instance is the torn run's)
    }
    if (label.startsWith('embedded:')) ours.add(label.slice('embedded:'.length));
  }
  for (const r of listInstances()) if (r.keep && ours.has(r.name)) await stopInstanceRecord(r);
});

/** The first `n` OCS steps of the fixture's plan, minus `drop`. */
async function shortPlan(file: string, n: number, drop: string[] = []): Promise<PlanFile> {
  const plan = buildPlan(await planInputFromSnapshot(FIXTURE), { ocs: '2.11.1' });
  plan.steps = plan.steps
    .filter((s) => s.database === 'ocs')
    .slice(0, n)
    .filter((s) => !drop.includes(s.id));
  writePlan(file, plan);
  return plan;
}

function options(plan: PlanFile, planPath: string, runDir: string, extra: Partial<RehearseOptions> = {}): RehearseOptions {
  return { plan, planPath, manifest, snapshotDir: FIXTURE, runDir, dists: { ocs: [debian] }, ...extra };
}

/** Runs `plan` and interrupts it (SIGTERM as the abort reason) once `afterSteps` steps have ended. */
async function interruptedRun(plan: PlanFile, planPath: string, runDir: string, afterSteps: number) {
  const controller = new AbortController();
  let ended = 0;
  return rehearse(
    options(plan, planPath, runDir, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.kind === 'step-end' && ++ended === afterSteps) controller.abort('SIGTERM');
      },
    }),
  );
}

async function instanceFingerprint(runDir: string): Promise<string> {
  const label = journalState(new Journal(runDir).read()).instance!;
  const inst = attachInstance(label.slice('embedded:'.length));
  if (!inst) throw new Error(`instance ${label} is not running`);
  const c = await mysql.createConnection(baseOptions(inst.dsn));
  try {
    const names = Object.fromEntries(manifest.databases.map((d) => [d.role, d.name]));
    return fingerprint({ glpi: await databaseState(c, names.glpi), ocs: await databaseState(c, names.ocs) });
  } finally {
    await c.end();
  }
}

describe('the plan is pinned', () => {
  it('an interrupted run keeps its summary and journals the real signal; --resume with a changed plan is refused (exit 14) naming the step; --new-attempt is recorded and shown in the dossier', async () => {
    const planA = path.join(work, 'plan-a.yaml');
    const plan = await shortPlan(planA, 6);
    const runDir = path.join(work, 'run-pinned');
    const first = await interruptedRun(plan, planA, runDir, 2);
    expect(first.error?.constructor.name).toBe('InterruptedError');
    expect((first.error as { exitCode?: number }).exitCode).toBe(ExitCode.INTERRUPTED);
    // The summary survives Ctrl-C.
    expect(first.summary?.steps.filter((s) => s.status === 'passed').length).toBe(2);
    const events = new Journal(runDir).read();
    expect(events.find((e) => e.event === 'run-interrupted')).toMatchObject({ signal: 'SIGTERM' });
    const started = events.find((e) => e.event === 'run-started');
    expect(started).toMatchObject({ steps: plan.steps.map((s) => s.id), planSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The case: a corrective step removed from the plan by hand, then --resume.
    const removed = 'fix-ocs-softwares-fill-nulls';
    expect(plan.steps.findIndex((s) => s.id === removed)).toBeGreaterThan(1);
    const planB = path.join(work, 'plan-b.yaml');
    const edited = await shortPlan(planB, 6, [removed]);
    const before = fs.readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8');
    const refused = await runCli(['rehearse', planB, '--snapshot', FIXTURE, '-o', runDir, '--ocs-dist', debian.dir, '--resume']);
    expect(refused.exitCode, refused.stderr).toBe(ExitCode.PLAN_CHANGED);
    expect(refused.stderr).toContain(`removed: ${removed}`);
    expect(refused.stderr).toMatch(/--new-attempt/);
    // Refused before anything was written.
    expect(fs.readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8')).toBe(before);

    // The same change as a new attempt, said explicitly.
    const second = await rehearse(options(edited, planB, runDir, { newAttempt: true }));
    expect(second.error).toBeUndefined();
    expect(second.summary?.complete).toBe(true);
    expect(second.summary?.steps.map((s) => s.stepId)).toEqual(edited.steps.map((s) => s.id));
    const st = journalState(new Journal(runDir).read());
    expect(st.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'interrupted'],
      [2, 'complete'],
    ]);
    expect(st.attempts[1].planChanges?.removed).toEqual([removed]);
    expect(second.summary?.attempts).toHaveLength(2);
    // The plan of the first attempt is kept beside the new one.
    expect(fs.existsSync(path.join(runDir, 'plan.attempt-1.yaml'))).toBe(true);
    const fr = renderDossier(loadRunInputs(runDir));
    expect(fr).toMatch(/^## (\d+\. )?Tentatives et retours arrière$/m);
    expect(fr).toMatch(/\| 1 \| .* \| interrompue \|/);
    expect(fr).toMatch(/\| 2 \| .* \| terminée, toutes les étapes réussies \|/);
    expect(fr).toContain(`retirées\u00a0: \`${removed}\``);
    const en = renderDossier(loadRunInputs(runDir), { lang: 'en' });
    expect(en).toMatch(/^## (\d+\. )?Attempts and rollbacks$/m);
    expect(en).toContain(`removed: \`${removed}\``);
  }, 900_000);
});

describe('one process at a time', () => {
  it('two concurrent resumes: one refused at once (exit 13) naming the holder, the other completes', async () => {
    const planFile = path.join(work, 'plan-busy.yaml');
    const plan = await shortPlan(planFile, 5);
    const runDir = path.join(work, 'run-busy');
    await interruptedRun(plan, planFile, runDir, 1);
    const [a, b] = await Promise.all([rehearse(options(plan, planFile, runDir, { resume: true })), rehearse(options(plan, planFile, runDir, { resume: true }))]);
    const refused = [a, b].filter((r) => r.error);
    expect(refused).toHaveLength(1);
    expect((refused[0].error as { exitCode?: number }).exitCode).toBe(ExitCode.BUSY);
    expect(refused[0].error!.message).toMatch(new RegExp(`locked by pid ${process.pid} `));
    expect([a, b].find((r) => !r.error)?.summary?.complete).toBe(true);
    // The lock is released at the end.
    expect(fs.existsSync(path.join(runDir, '.lock'))).toBe(false);
  }, 900_000);

  it('a lock left by a dead process is taken over, with a message and a journal line', async () => {
    const planFile = path.join(work, 'plan-stale.yaml');
    const plan = await shortPlan(planFile, 4);
    const runDir = path.join(work, 'run-stale');
    await interruptedRun(plan, planFile, runDir, 1);
    const dead = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    fs.writeFileSync(path.join(runDir, '.lock'), JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), command: 'rehearse', since: '2026-01-01T00:00:00Z' }));
    const said: string[] = [];
    const r = await rehearse(options(plan, planFile, runDir, { resume: true, onEvent: (e) => e.kind === 'info' && said.push(e.message) }));
    expect(r.error).toBeUndefined();
    expect(said.join('\n')).toMatch(new RegExp(`took over the lock .* pid ${dead.stdout} `));
    expect(new Journal(runDir).read().find((e) => e.event === 'lock-taken-over')).toMatchObject({ holderPid: Number(dead.stdout) });
  }, 900_000);

  it('two runs on the same instance databases: the second is refused (exit 13) and leaves no run directory behind', async () => {
    const server = await startTestServer();
    try {
      const planFile = path.join(work, 'plan-inst.yaml');
      const plan = await shortPlan(planFile, 4);
      const c = await server.connect();
      for (const d of manifest.databases) await c.query(`DROP DATABASE IF EXISTS \`${d.name}\``);
      await c.end();
      let secondRun: ReturnType<typeof rehearse> | undefined;
      const otherDir = path.join(work, 'run-inst-2');
      const first = await rehearse(
        options(plan, planFile, path.join(work, 'run-inst-1'), {
          instance: server.dsn,
          onEvent: (e) => {
            if (e.kind === 'step-start' && e.index === 1) secondRun ??= rehearse(options(plan, planFile, otherDir, { instance: server.dsn }));
          },
        }),
      );
      expect(first.error).toBeUndefined();
      const second = await secondRun;
      expect((second?.error as { exitCode?: number } | undefined)?.exitCode).toBe(ExitCode.BUSY);
      expect(second?.error?.message).toMatch(/is locked by another rehearsal of .*connection \d+/);
      expect(fs.existsSync(otherDir)).toBe(false);
    } finally {
      await server.stop();
    }
  }, 900_000);
});

describe('crash safety', () => {
  it('killed during the savepoint write, the resume succeeds and ends where an uninterrupted run ends', async () => {
    const planFile = path.join(work, 'plan-sp.yaml');
    const plan = await shortPlan(planFile, 6);
    const target = plan.steps[3].id;
    const refDir = path.join(work, 'run-sp-ref');
    const ref = await rehearse(options(plan, planFile, refDir, { keepInstance: true }));
    expect(ref.summary?.complete).toBe(true);
    const runDir = path.join(work, 'run-sp');
    const killed = await execa(process.execPath, [BIN, 'rehearse', planFile, '--snapshot', FIXTURE, '-o', runDir, '--ocs-dist', debian.dir], {
      reject: false,
      env: { NO_COLOR: '1', GOU_FAULT: `savepoint-write@${target}` },
    });
    expect(killed.signal).toBe('SIGKILL');
    // Killed mid-write: the temporary file is half written, no savepoint.json.
    const ev = path.join(runDir, 'evidence', target);
    expect(fs.readdirSync(ev).some((f) => /^\.savepoint\.json\.tmp-\d+$/.test(f))).toBe(true);
    expect(fs.existsSync(path.join(ev, 'savepoint.json'))).toBe(false);
    expect(journalState(new Journal(runDir).read()).inFlight).toBe(target);
    const said: string[] = [];
    const resumed = await rehearse(options(plan, planFile, runDir, { resume: true, keepInstance: true, onEvent: (e) => e.kind === 'info' && said.push(e.message) }));
    expect(resumed.error).toBeUndefined();
    expect(resumed.summary?.complete).toBe(true);
    expect(said.join('\n')).toContain(`step ${target} was cut while its savepoint was being taken`);
    expect(new Journal(runDir).read().find((e) => e.event === 'step-rolled-back')).toMatchObject({ stepId: target, cause: 'crash', mode: 'none', ok: true });
    expect(await instanceFingerprint(runDir)).toBe(await instanceFingerprint(refDir));
  }, 900_000);

  it('a torn last line is read the same by the dossier and --resume, reported, cut off; a corrupt middle line is an error naming it', async () => {
    const planFile = path.join(work, 'plan-torn.yaml');
    const plan = await shortPlan(planFile, 4);
    const runDir = path.join(work, 'run-torn');
    await interruptedRun(plan, planFile, runDir, 1);
    const file = path.join(runDir, 'journal.jsonl');
    const intact = fs.readFileSync(file, 'utf8');
    const lines = intact.trimEnd().split('\n').length;
    fs.appendFileSync(file, '{"t":"2026-01-01T00:00:00.000Z","event":"step-sta');
    const viaDossier = loadRunInputs(runDir).journal;
    const viaResume = new Journal(runDir).read();
    expect(viaDossier).toEqual(viaResume);
    expect(viaResume).toEqual(parseJournal(intact).events);
    expect(new Journal(runDir).readWithDamage().torn?.line).toBe(lines + 1);

    // A bad line in the middle is corruption: both readers refuse it, naming the line.
    const corrupt = path.join(work, 'run-corrupt');
    fs.cpSync(runDir, corrupt, { recursive: true });
    const parts = intact.split('\n');
    parts[1] = '{"t": garbage';
    fs.writeFileSync(path.join(corrupt, 'journal.jsonl'), parts.join('\n'));
    expect(() => loadRunInputs(corrupt)).toThrow(/journal\.jsonl line 2: not valid JSON/);
    expect(() => new Journal(corrupt).read()).toThrow(/journal\.jsonl line 2: not valid JSON/);

    const said: string[] = [];
    const r = await rehearse(options(plan, planFile, runDir, { resume: true, onEvent: (e) => e.kind === 'info' && said.push(e.message) }));
    expect(r.error).toBeUndefined();
    expect(r.summary?.complete).toBe(true);
    expect(said.join('\n')).toMatch(new RegExp(`line ${lines + 1} is torn`));
    const after = new Journal(runDir).readWithDamage();
    expect(after.torn).toBeUndefined();
    expect(after.events.find((e) => e.event === 'journal-repaired')).toMatchObject({ line: lines + 1 });
    expect(loadRunInputs(runDir).journal).toEqual(after.events);
  }, 900_000);
});

describe('the shared journal reader and plan comparison (no server)', () => {
  it('tolerates only an unterminated last line; a complete bad last line is corruption', () => {
    const ok = '{"t":"1","event":"run-started","runId":"r","plan":"plan.yaml","snapshot":"s","instance":"i"}\n{"t":"2","event":"step-started","stepId":"a"}\n';
    expect(parseJournal(ok).events).toHaveLength(2);
    expect(parseJournal(`${ok}{"t":"3","ev`).torn).toEqual({ line: 3, bytes: 12, offset: Buffer.byteLength(ok) });
    expect(() => parseJournal(`${ok}{"t":"3","ev\n`)).toThrow(/line 3: not valid JSON/);
    expect(() => parseJournal('{"t":"1"}\n')).toThrow(/line 1: event: is required/);
    // Every line is checked against its event's schema (src/formats/journal.ts), naming the field.
    expect(() => parseJournal('{"t":"1","event":"run-started"}\n')).toThrow(/line 1: runId: is required/);
    expect(() => parseJournal('{"event":"step-started","stepId":"a"}\n')).toThrow(/line 1: t: is required/);
  });

  it('names the steps removed, added, edited and moved', async () => {
    const { planDifference } = await import('../src/formats/journal.ts');
    const d = planDifference({ steps: ['a', 'b', 'c', 'd'], stepHashes: ['1', '2', '3', '4'] }, { steps: ['a', 'd', 'c', 'e'], stepHashes: ['1', '4', '9', '5'] });
    expect(d).toEqual({ added: ['e'], removed: ['b'], changed: ['c'], moved: ['d', 'c'] });
  });
});
