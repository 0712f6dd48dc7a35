/**
 * `apply`: the rehearsed plan, carried out on production exactly as rehearsed.
 *
 *   1. refuse unless --confirm names the production server (exit 6, before any connection);
 *   2. refuse (exit 15) unless RUN_DIR is a complete rehearsal of the same plan, production is what was
 *      rehearsed (versions; structure equal to the rehearsal's restored snapshot), the audit's blocking
 *      checks find nothing new, nobody else is connected to the two databases, and a rollback would work —
 *      all read only, nothing written;
 *   3. back production up (the `snapshot` code) and verify the copy, or check the one named by --backup;
 *      nothing is written to production before this;
 *   4. run the plan through the rehearsal's runner (same executors, checks, journal, --resume) against
 *      production, inside the confirmed write scope (src/db/interlock.ts withProductionWrites);
 *   5. prove the final structure and per-table figures against the rehearsal's.
 *
 * Savepoints on production: the runner still takes one before each step (a copy of the tables the step may
 * touch in a `<db>__gou_savepoint` schema on the same server, or nothing for steps it can replay from the
 * backup), but a failed step is never rolled back on its own. The run stops with the database as the step
 * left it; the user chooses: fix the cause and `apply --resume` (which says it undoes the half-run step from
 * its savepoint, journals it, and runs it again), or `rollback` (the whole backup).
 */
import { render } from '../i18n/render.ts';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { connect, connectReadOnly } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { confirmationMatches, hostPortOf, withProductionWrites } from '../db/interlock.ts';
import { listTables, serverInfo } from '../db/introspect.ts';
import { ApplyRefusedError, InterlockError, InterruptedError, StepFailedError, UsageError } from '../errors.ts';
import { writePlan } from '../plan/index.ts';
import { readManifest, takeSnapshot, verifySnapshot, describeProblems } from '../snapshot/index.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { databaseState } from '../rehearse/checks.ts';
import type { RunnerEvent } from '../rehearse/runner.ts';
import { rehearse } from '../rehearse/runner.ts';
import { Journal, journalState } from '../rehearse/journal.ts';
import type { RunSummary } from '../rehearse/run-types.ts';
import type { ExecutorDistributions } from '../rehearse/executors/types.ts';
import { captureState, FINAL_STATE_FILE, writeRecordedState } from '../rehearse/final-state.ts';
import type { Rehearsal } from './rehearsal.ts';
import { loadRehearsal } from './rehearsal.ts';
import type { Problem } from './production.ts';
import { compareStructure, compareVersions, describeSessions, newBlockingFindings, otherSessions, rollbackPossible } from './production.ts';
import type { ApplyRecord, PreflightRecord } from './state.ts';
import { applyDir, readApplyRecord, writeApplyRecord } from './state.ts';
import type { DowntimeEstimate } from './estimate.ts';
import { estimateDowntime } from './estimate.ts';
import { describeDistributions } from '../distributions/index.ts';
import { msg } from '../i18n/messages.ts';

export interface ProductionSources {
  glpi?: Dsn;
  ocs?: Dsn;
}

export interface ApplyOptions {
  runDir: string;
  sources: ProductionSources;
  confirm?: string;
  /** The plan the user means to apply: refused unless it is the rehearsed one (sha256). */
  planFile?: string;
  allowNotRun?: string[];
  /** An existing backup taken in the same window (row counts and checksums must still match). */
  backup?: string;
  /** Where to write the backup (default RUN_DIR/apply/backup). */
  backupDir?: string;
  dists: ExecutorDistributions;
  php?: string;
  referenceDirs?: string[];
  glpiDists?: string[];
  dryRun?: boolean;
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunnerEvent) => void;
  /** bench/apply.ts: the backup's wall time, reported apart. */
  onBackup?: (ms: number) => void;
}

export interface ApplyResult {
  record: ApplyRecord;
  summary?: RunSummary;
  estimate: DowntimeEstimate;
  rehearsal: Rehearsal;
}

/** One server for both databases; the DSN the runner uses (no default database). */
export function productionTarget(sources: ProductionSources): Dsn {
  const list = [sources.glpi, sources.ocs].filter((d): d is Dsn => Boolean(d));
  if (list.length === 0) throw new UsageError('give production with --glpi and/or --ocs (or --glpi-dir / --ocs-dir)');
  const hp = new Set(list.map(hostPortOf));
  if (hp.size > 1) throw new ApplyRefusedError(`GLPI and OCS are on two servers (${[...hp].join(', ')}): apply needs both databases on one server`);
  const users = new Set(list.map((d) => d.user));
  if (users.size > 1)
    throw new ApplyRefusedError(`--glpi and --ocs name two accounts (${[...users].join(', ')}): apply runs the plan with one account that has all rights on both databases`, {
      hint: 'give the same user in both addresses',
    });
  return { ...list[0], database: undefined };
}

function checkNames(reh: Rehearsal, sources: ProductionSources): { glpi?: string; ocs?: string } {
  const out: { glpi?: string; ocs?: string } = {};
  for (const d of reh.manifest.databases) {
    const dsn = sources[d.role];
    if (!dsn) throw new ApplyRefusedError(`the rehearsal has a ${d.role} database (${d.name}): give production's with --${d.role}`);
    if (dsn.database !== d.name) throw new ApplyRefusedError(`production's ${d.role} database is "${dsn.database}", the rehearsed one is "${d.name}"`);
    out[d.role] = d.name;
  }
  return out;
}

function refuseOn(problems: Problem[]): void {
  if (problems.length === 0) return;
  const hint = problems.some((p) => p.check === 'sessions')
    ? "stop the OCS communication server (ocsinventory-server / Apache), GLPI's cron and mail collector, then run apply again"
    : problems.some((p) => p.check === 'structure' || p.check === 'versions')
      ? 'production changed since the snapshot: take a new snapshot, plan and rehearse again'
      : problems.some((p) => p.check === 'audit')
        ? 'audit production, add the corrective steps to the plan and rehearse again'
        : problems.some((p) => p.check === 'distributions')
          ? 'give the same --ocs-dist / --glpi-dist / --plugin-dist as the rehearsal (run.yaml, distributions)'
          : undefined;
  throw new ApplyRefusedError(`apply refused, nothing was written: ${problems.map((p) => p.message).join(' | ')}`, { hint });
}

async function estimatedRows(conn: Connection, dbs: { glpi?: string; ocs?: string }): Promise<Partial<Record<'glpi' | 'ocs', number>>> {
  const out: Partial<Record<'glpi' | 'ocs', number>> = {};
  for (const role of ['glpi', 'ocs'] as const) {
    const db = dbs[role];
    if (db) out[role] = (await listTables(conn, db)).filter((t) => t.type === 'BASE TABLE').reduce((n, t) => n + t.estimatedRows, 0);
  }
  return out;
}

/** A --backup named by the user: intact, of these databases, and equal (rows, CHECKSUM TABLE) to production now. */
async function checkGivenBackup(dir: string, conn: Connection, dbs: { glpi?: string; ocs?: string }): Promise<Manifest> {
  const v = await verifySnapshot(dir);
  if (!v.ok) throw new ApplyRefusedError(`the backup ${dir} does not match its manifest: ${describeProblems(v.problems)}`);
  const m = await readManifest(dir);
  for (const role of ['glpi', 'ocs'] as const) {
    const name = dbs[role];
    if (!name) continue;
    const d = m.databases.find((x) => x.role === role);
    if (!d || d.name !== name) throw new ApplyRefusedError(`the backup ${dir} holds no copy of ${name}`);
    const now = await databaseState(conn, name);
    const off: string[] = [];
    for (const t of d.tables) {
      const s = now.get(t.name);
      if (!s || s.rows !== t.rows || s.checksum !== t.checksum) off.push(t.name);
    }
    for (const t of now.keys()) if (!d.tables.some((x) => x.name === t)) off.push(t);
    if (off.length)
      throw new ApplyRefusedError(`the backup ${dir} is no longer production's state: ${name} changed since in ${off.slice(0, 5).join(', ')}${off.length > 5 ? '…' : ''}`, {
        hint: 'let apply take a new backup (omit --backup)',
      });
  }
  return m;
}

export async function applyToProduction(opts: ApplyOptions): Promise<ApplyResult> {
  const target = productionTarget(opts.sources);
  // 1. The named confirmation, before anything is opened.
  if (!confirmationMatches(target, opts.confirm)) {
    throw new InterlockError(`--confirm ${opts.confirm ?? '(missing)'} does not name the production server ${hostPortOf(target)}: nothing was done`, {
      hint: `type production's address exactly: --confirm ${hostPortOf(target)}`,
    });
  }
  const reh = await loadRehearsal(opts.runDir, { planFile: opts.planFile, allowNotRun: opts.allowNotRun });
  const dbs = checkNames(reh, opts.sources);
  const dir = applyDir(opts.runDir);
  const journal = new Journal(dir);
  const previous = journalState(journal.read());
  const prior = readApplyRecord(opts.runDir);
  if (prior?.rollback) throw new ApplyRefusedError(`production was rolled back to the backup ${prior.backup?.id.slice(0, 12)}… after this apply`, { hint: `move ${dir} aside to apply again` });
  if (opts.resume && !previous.runId && !prior?.backup) throw new ApplyRefusedError(`nothing to resume: no apply journal in ${dir}`);
  if (!opts.resume && (previous.runId || prior?.backup))
    throw new ApplyRefusedError(`${dir} already holds an apply`, { hint: 'continue it with apply --resume, or give production back with rollback' });
  if (opts.resume && previous.complete) throw new ApplyRefusedError('this apply is already complete');
  const steps = reh.plan.steps.filter((s) => !reh.allowedNotRun.includes(s.id));
  const external = steps.filter((s) => s.runner.kind === 'glpi-console' || s.runner.kind === 'plugin-install');
  if (external.length) {
    throw new ApplyRefusedError(
      `step(s) ${external
        .slice(0, 3)
        .map((s) => s.id)
        .join(', ')}${external.length > 3 ? '…' : ''} run GLPI's console: not supported on production by this version of apply`,
      {
        hint: 'run them by hand as the rehearsal’s evidence shows, and name them with --allow-not-run',
      },
    );
  }

  // 2. Read-only checks.
  const ro = await connectReadOnly(target);
  let estimate: DowntimeEstimate;
  const preflight: PreflightRecord[] = [];
  let serverVersion = '';
  try {
    serverVersion = (await serverInfo(ro)).version;
    const problems: Problem[] = [];
    const sessions = await otherSessions(ro, dbs, [ro.threadId ?? -1]);
    if (sessions.length) problems.push({ check: 'sessions', message: `other sessions are connected: ${describeSessions(sessions)}` });
    else
      preflight.push({
        check: 'sessions',
        status: 'passed',
        detail: msg('apply.preflight.sessions', {}),
      });
    if (!opts.resume) {
      const v = await compareVersions(ro, reh.manifest);
      problems.push(...v);
      if (!v.length)
        preflight.push({
          check: 'versions',
          status: 'passed',
          detail: msg('apply.preflight.versions', {}),
        });
      const s = await compareStructure(ro, reh.structureBefore, 'the rehearsed snapshot');
      problems.push(...s.problems);
      if (!s.problems.length)
        preflight.push({
          check: 'structure',
          status: 'passed',
          detail: msg('apply.preflight.structure', {}),
        });
      const a = await newBlockingFindings(ro, dbs, reh.findings, { referenceDirs: opts.referenceDirs, glpiDists: opts.glpiDists });
      problems.push(...a.problems);
      if (!a.problems.length)
        preflight.push({
          check: 'audit',
          status: 'passed',
          detail: msg('apply.preflight.audit', { checked: a.checked, found: a.found }),
        });
    }
    if (!opts.resume) {
      // The same distributions as the rehearsal (product and version; the paths may differ).
      const key = (d: { product: string; version: string }) => `${d.product} ${d.version}`;
      const rehearsedDists = reh.summary.distributions.map(key).sort();
      const given = describeDistributions(opts.dists).map(key).sort();
      if (rehearsedDists.join('|') !== given.join('|')) {
        problems.push({ check: 'distributions', message: `the distributions given (${given.join(', ') || 'none'}) are not the rehearsal's (${rehearsedDists.join(', ') || 'none'})` });
      } else {
        preflight.push({
          check: 'distributions',
          status: 'passed',
          detail: msg('apply.preflight.distributions', { given }),
        });
      }
    }
    const r = await rollbackPossible(ro);
    problems.push(...r);
    if (!r.length)
      preflight.push({
        check: 'rollback-possible',
        status: 'passed',
        detail: msg('apply.preflight.rollback-possible', {}),
      });
    refuseOn(problems);
    for (const id of reh.allowedNotRun)
      preflight.push({
        check: 'allow-not-run',
        status: 'allowed',
        detail: msg('apply.preflight.allow-not-run', { step: id }),
      });
    estimate = estimateDowntime(reh.plan, reh.summary, reh.manifest, await estimatedRows(ro, dbs));
  } finally {
    await ro.end().catch(() => undefined);
  }
  const record: ApplyRecord = prior ?? {
    format: 1,
    rehearsal: { runId: reh.summary.runId, planSha256: reh.planSha256, snapshotId: reh.manifest.id },
    production: { hostPort: hostPortOf(target), databases: dbs, serverVersion },
    allowNotRun: reh.allowedNotRun,
    preflight,
    startedAt: new Date().toISOString(),
  };
  if (opts.dryRun) return { record, estimate, rehearsal: reh };

  // 3. Backup first.
  fs.mkdirSync(dir, { recursive: true });
  if (!record.backup) {
    const t0 = Date.now();
    let manifest: Manifest;
    let backupDir: string;
    let taken: boolean;
    if (opts.backup) {
      const c = await connectReadOnly(target);
      try {
        manifest = await checkGivenBackup(opts.backup, c, dbs);
      } finally {
        await c.end().catch(() => undefined);
      }
      backupDir = path.resolve(opts.backup);
      taken = false;
    } else {
      backupDir = path.resolve(opts.backupDir ?? path.join(dir, 'backup'));
      opts.onEvent?.({ kind: 'info', message: `backing production up into ${backupDir}` });
      manifest = await takeSnapshot({ sources: (['glpi', 'ocs'] as const).filter((r) => opts.sources[r] && dbs[r]).map((role) => ({ role, dsn: opts.sources[role]! })), outDir: backupDir });
      const v = await verifySnapshot(backupDir);
      if (!v.ok) throw new ApplyRefusedError(`the backup just taken does not verify: ${describeProblems(v.problems)}; nothing was written`);
      taken = true;
    }
    const elapsedMs = Date.now() - t0;
    opts.onBackup?.(elapsedMs);
    record.backup = {
      id: manifest.id,
      dir: backupDir,
      taken,
      readyAt: new Date().toISOString(),
      elapsedMs,
      rows: Object.fromEntries(manifest.databases.map((d) => [d.role, d.tables.reduce((n, t) => n + t.rows, 0)])),
    };
    journal.append({ event: 'backup-ready', backupId: manifest.id, backupDir, taken });
    writeApplyRecord(opts.runDir, record);
    opts.onEvent?.({ kind: 'info', message: `backup ${manifest.id.slice(0, 12)} ${taken ? 'taken and verified' : 'checked'}: ${backupDir}` });
    // Someone may have connected while the backup was taken.
    const c = await connectReadOnly(target);
    try {
      const late = await otherSessions(c, dbs, [c.threadId ?? -1]);
      if (late.length) refuseOn([{ check: 'sessions', message: `other sessions connected during the backup: ${describeSessions(late)}` }]);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  const backupManifest = await readManifest(record.backup.dir);

  // 4. The plan, through the rehearsal's runner.
  const planPath = path.join(dir, 'plan.applied.yaml');
  if (!opts.resume || !fs.existsSync(planPath)) writePlan(planPath, { ...reh.plan, steps });
  const plan = { ...reh.plan, steps };
  let summary: RunSummary;
  try {
    const outcome = await withProductionWrites(target, opts.confirm, () =>
      rehearse({
        plan,
        planPath,
        manifest: backupManifest,
        snapshotDir: record.backup!.dir,
        runDir: dir,
        resume: Boolean(opts.resume && previous.runId),
        dists: opts.dists,
        php: opts.php,
        findings: reh.findings,
        audit: { referenceDirs: opts.referenceDirs, glpiDists: opts.glpiDists },
        signal: opts.signal,
        onEvent: opts.onEvent,
        target: { kind: 'production', dsn: target, confirmedHostPort: opts.confirm! },
      }),
    );
    if (outcome.error) throw outcome.error;
    if (!outcome.summary) throw new Error('the runner returned no summary');
    summary = outcome.summary;
  } catch (err) {
    if (err instanceof InterruptedError) {
      throw new InterruptedError('apply interrupted: production is as the journal says', {
        hint: `continue with: glpi-ocs-upgrade apply ${opts.runDir} --confirm ${hostPortOf(target)} --resume (same options), or give production back with: glpi-ocs-upgrade rollback ${opts.runDir} --confirm ${hostPortOf(target)}`,
      });
    }
    throw err;
  }

  // 5. The end state against the rehearsal's.
  const failed = summary.steps.filter((s) => s.status === 'failed');
  if (failed.length === 0 && summary.complete) {
    const c = await connect(target);
    try {
      const st: Partial<Record<'glpi' | 'ocs', Awaited<ReturnType<typeof databaseState>>>> = {};
      for (const role of ['glpi', 'ocs'] as const) if (dbs[role]) st[role] = await databaseState(c, dbs[role]!);
      const now = await captureState(c, dbs, st);
      writeRecordedState(path.join(dir, FINAL_STATE_FILE), now);
      const s = await compareStructure(c, reh.finalState, 'the rehearsal’s final structure');
      const differing: NonNullable<ApplyRecord['final']>['tablesDiffering'] = [];
      let compared = 0;
      for (const role of ['glpi', 'ocs'] as const) {
        const mine = now.databases[role]?.tables ?? {};
        const theirs = reh.finalState.databases[role]?.tables ?? {};
        for (const [t, f] of Object.entries(mine)) {
          compared++;
          const r = theirs[t];
          if (!r || r.rows !== f.rows || r.checksum !== f.checksum)
            differing.push({ table: `${dbs[role]}.${t}`, rows: f.rows, rehearsalRows: r?.rows ?? 0, checksumEqual: r?.checksum === f.checksum });
        }
      }
      record.final = { structureEqual: s.differences.length === 0, structureDifferences: s.differences, tablesCompared: compared, tablesDiffering: differing };
    } finally {
      await c.end().catch(() => undefined);
    }
    record.finishedAt = new Date().toISOString();
  }
  writeApplyRecord(opts.runDir, record);
  if (failed.length) {
    throw new StepFailedError(
      `step ${failed[0].stepId} failed on production: ${failed[0].reason ? render(failed[0].reason, 'en') : 'see the evidence'}; production is left as the step left it (nothing was rolled back)`,
      {
        hint: `either fix the cause and run: glpi-ocs-upgrade apply ${opts.runDir} --confirm ${hostPortOf(target)} --resume (same options); or give production back with: glpi-ocs-upgrade rollback ${opts.runDir} --confirm ${hostPortOf(target)}`,
      },
    );
  }
  return { record, summary, estimate, rehearsal: reh };
}
