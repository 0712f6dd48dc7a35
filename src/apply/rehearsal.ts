/**
 * What `apply` carries out: a complete rehearsal run directory, read back and checked — the plan it ran
 * (by sha256), every step passed (a step not run stays refused unless named with --allow-not-run), the
 * structure the rehearsal started from and the one it ended with (src/rehearse/final-state.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApplyRefusedError } from '../errors.ts';
import { readPlan } from '../plan/index.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import { readFindings } from '../audit/index.ts';
import type { FindingsFile } from '../audit/finding-types.ts';
import { readManifest } from '../snapshot/index.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { readRunSummary } from '../rehearse/runner.ts';
import type { RunSummary } from '../rehearse/run-types.ts';
import { Journal } from '../rehearse/journal.ts';
import { FINAL_STATE_FILE, STRUCTURE_BEFORE_FILE, readRecordedState } from '../rehearse/final-state.ts';
import type { RecordedState } from '../rehearse/final-state.ts';

export interface Rehearsal {
  runDir: string;
  summary: RunSummary;
  plan: PlanFile;
  planPath: string;
  planSha256: string;
  /** The snapshot the rehearsal restored (for its manifest: versions, row counts). */
  manifest: Manifest;
  snapshotDir: string;
  findings?: FindingsFile;
  structureBefore: RecordedState;
  finalState: RecordedState;
  /** Steps the rehearsal did not run and the user allowed (--allow-not-run). */
  allowedNotRun: string[];
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Reads RUN_DIR and refuses (exit 15) anything but a complete rehearsal of `planFile` (when given). */
export async function loadRehearsal(runDir: string, opts: { planFile?: string; allowNotRun?: string[] } = {}): Promise<Rehearsal> {
  const refuse = (msg: string, hint?: string): never => {
    throw new ApplyRefusedError(`${runDir}: ${msg}`, { hint });
  };
  const summary = readRunSummary(runDir);
  if (!summary) refuse('not a rehearsal run directory (no run.yaml)', 'give the run directory written by `rehearse -o DIR`');
  const s = summary!;
  if (s.instance.kind === 'production') refuse('this is an apply directory, not a rehearsal');
  const planPath = path.join(runDir, s.plan.file);
  if (!fs.existsSync(planPath)) refuse(`the rehearsed plan ${s.plan.file} is missing`);
  const planSha256 = sha256File(planPath);
  // The runner records the plan's sha256 when the run starts (issue 17): the copy must still be that plan.
  const started = new Journal(runDir).read().find((e) => e.event === 'run-started') as { planSha256?: string; sha256?: string } | undefined;
  const pinned = started?.planSha256 ?? started?.sha256;
  if (pinned && pinned !== planSha256) refuse(`${s.plan.file} was changed after the rehearsal (sha256 ${planSha256.slice(0, 12)}… ≠ ${pinned.slice(0, 12)}…)`);
  if (opts.planFile && sha256File(opts.planFile) !== planSha256) {
    refuse(
      `the plan ${opts.planFile} is not the rehearsed plan (sha256 ${sha256File(opts.planFile).slice(0, 12)}… ≠ ${planSha256.slice(0, 12)}…)`,
      'rehearse this plan first, then apply that run directory',
    );
  }
  if (s.dryRun) refuse('this was a dry run: nothing was rehearsed for real');
  const failed = s.steps.filter((x) => x.status === 'failed').map((x) => x.stepId);
  if (failed.length) refuse(`the rehearsal has failed step(s): ${failed.join(', ')}`, 'fix them and rehearse again (--resume), then apply');
  const allow = new Set(opts.allowNotRun ?? []);
  const plan = readPlan(planPath);
  const missing = plan.steps.filter((p) => !s.steps.some((x) => x.stepId === p.id)).map((p) => p.id);
  if (missing.length) refuse(`the rehearsal did not reach step(s) ${missing.slice(0, 5).join(', ')}: it is incomplete`, 'finish it with rehearse --resume');
  const notRun = s.steps.filter((x) => x.status !== 'passed').map((x) => x.stepId);
  const refused = notRun.filter((id) => !allow.has(id));
  if (refused.length) {
    refuse(`step(s) not run in the rehearsal: ${refused.join(', ')}`, `rehearse them (give the distribution they need), or name each one with --allow-not-run STEP (recorded in the go-live report)`);
  }
  const unknownAllow = [...allow].filter((id) => !notRun.includes(id));
  if (unknownAllow.length) refuse(`--allow-not-run ${unknownAllow.join(', ')}: not a step the rehearsal left not run`);
  const snapshotDir = path.resolve(runDir, s.snapshot.dir);
  const manifest = await readManifest(snapshotDir).catch(() => refuse(`the rehearsal's snapshot ${snapshotDir} is no longer readable`, 'keep the snapshot next to its run directory'));
  if (manifest.id !== s.snapshot.id) refuse(`the snapshot in ${snapshotDir} is not the one rehearsed`);
  const structureBefore = readRecordedState(path.join(runDir, STRUCTURE_BEFORE_FILE));
  const finalState = readRecordedState(path.join(runDir, FINAL_STATE_FILE));
  if (!structureBefore || !finalState)
    refuse('the rehearsal did not record its structure before and after (evidence/structure-before.json, final-state.json)', 'rehearse again with this version of the tool');
  const findingsFile = path.join(runDir, 'findings.yaml');
  return {
    runDir,
    summary: s,
    plan,
    planPath,
    planSha256,
    manifest,
    snapshotDir,
    findings: fs.existsSync(findingsFile) ? readFindings(findingsFile) : undefined,
    structureBefore: structureBefore!,
    finalState: finalState!,
    allowedNotRun: notRun.filter((id) => allow.has(id)),
  };
}
