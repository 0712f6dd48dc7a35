import fs from 'node:fs';
import { render } from '../../i18n/render.ts';
import path from 'node:path';
import type { Command } from 'commander';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { formatDuration } from '../output.ts';
import { addServerSettingsOptions, collect, serverSettingsFrom, CREDENTIALS_HELP } from '../options.ts';
import type { ServerSettingsOptions } from '../options.ts';
import { addDistOptions, resolveDists } from '../dist-options.ts';
import type { DistOptions } from '../dist-options.ts';
import { parseDsn } from '../../db/dsn.ts';
import { resolvePassword } from '../../db/credentials.ts';
import { readPlan } from '../../plan/index.ts';
import { readManifest } from '../../snapshot/index.ts';
import { readFindings } from '../../audit/index.ts';
import type { RunnerEvent } from '../../rehearse/runner.ts';
import { rehearse } from '../../rehearse/runner.ts';
import type { RunSummary } from '../../rehearse/run-types.ts';
import { runToJUnit } from '../../rehearse/junit.ts';
import { onInterrupt } from '../../util/shutdown.ts';
import { InterruptedError, StepFailedError } from '../../errors.ts';
import { functionalAfterRehearsal, functionalWanted } from '../../functional/after-rehearsal.ts';
import { reportFunctional, scenarioPrinter } from './functional.ts';
import { databaseNames } from '../../rehearse/instance.ts';

interface RehearseCliOptions extends ServerSettingsOptions, DistOptions {
  snapshot: string;
  out?: string;
  findings?: string;
  instance?: string;
  dryRun?: boolean;
  resume?: boolean;
  newAttempt?: boolean;
  keepInstance?: boolean;
  junit?: string;
  referenceDir?: string[];
  passwordEnv?: string;
  defaultsFile?: string;
  functional?: boolean;
  scenarios?: string[];
  chromium?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('rehearse')
    .description('apply a plan, step by step, to a throwaway copy restored from a snapshot; resumable, with evidence')
    .argument('<plan>', 'plan.yaml made by `plan` for this snapshot')
    .requiredOption('--snapshot <dir>', 'the snapshot directory the plan was made for')
    .option('-o, --out <dir>', 'run directory (journal, evidence, run.yaml)', 'run')
    .option('--findings <file>', 'findings.yaml from `audit` (its findings enter the anomaly register)')
    .option('--instance <dsn>', 'an existing test server (must be marked: see `instance mark`) instead of an embedded one')
    .option('--dry-run', 'run what needs no external distribution; list the rest as not run')
    .option('--resume', 'continue an interrupted or failed run in --out, after rolling back a half-run step')
    .option(
      '--new-attempt',
      'start a new attempt in an existing run directory, e.g. with a changed plan: the journal records the change, the snapshot is restored again and every step runs again; earlier attempts stay in the dossier',
    )
    .option('--keep-instance', 'keep the embedded server running after a complete run (for inspection)')
    .option('--junit <file>', 'also write the steps as JUnit XML (for CI)')
    .option('--reference-dir <dir>', 'reference schemas (glpi-<v>-empty.sql, ocsbase_new-<r>.sql) to re-check drift findings after corrective migrations (repeatable)', collect)
    .option('--password-env <name>', 'environment variable holding the --instance password')
    .option('--defaults-file <file>', 'MySQL option file for the --instance account')
    .option('--functional', 'run the functional tests after the steps (default: when a GLPI step runs with --glpi-dist)')
    .option('--no-functional', 'do not run the functional tests (browser scenarios) after the steps')
    .option('--scenarios <file>', 'extra functional scenario book (YAML, see docs/functional.md; repeatable)', collect)
    .option('--chromium <path>', 'Chromium executable for the functional tests (default: /usr/bin/chromium)');
  addDistOptions(cmd);
  addServerSettingsOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ glpi-ocs-upgrade rehearse plan.yaml --snapshot snap/ -o run-1 --ocs-dist debian --dry-run
  $ glpi-ocs-upgrade rehearse plan.yaml --snapshot snap/ -o run-1 --findings findings.yaml \\
      --ocs-dist ~/dist/ocsreports-2.12.4 --glpi-dist ~/dist/glpi-10.0.22 --php /usr/bin/php8.2
  $ glpi-ocs-upgrade rehearse plan.yaml --snapshot snap/ -o run-1 --resume        # after Ctrl-C or a fix
  $ glpi-ocs-upgrade rehearse plan-v2.yaml --snapshot snap/ -o run-1 --new-attempt # the plan changed

A run directory is one run of one plan: --resume with another plan is refused (exit 14) naming the steps
that differ; --new-attempt records the change and starts again from the snapshot. Only one process works on
a run directory (and on an instance's databases) at a time: a second one exits 13 naming the holder.

The embedded server copies production's sql_mode and character set from the snapshot manifest unless
--sql-mode / --character-set-server say otherwise. Steps whose distribution is missing are "not run",
with the exact command to run by hand; the run is then incomplete, never passed.
Exit codes: 0 complete or incomplete without failure, 7 a step failed, 13 busy, 14 plan changed,
130 interrupted (then --resume).
${CREDENTIALS_HELP}`,
  );
  cmd.action(async (planFile: string, opts: RehearseCliOptions, command: Command) => {
    const out = outputFor(command);
    const plan = readPlan(planFile);
    const manifest = await readManifest(opts.snapshot);
    const findings = opts.findings ? readFindings(opts.findings) : undefined;
    const dists = await resolveDists(opts);
    const instance = opts.instance ? resolvePassword(parseDsn(opts.instance), 'instance', { passwordEnv: opts.passwordEnv, defaultsFile: opts.defaultsFile }).dsn : undefined;
    const controller = new AbortController();
    const stopListening = onInterrupt((signal) => {
      out.warn(`${signal} received: stopping after the current statement (press again to stop at once)`);
      // The signal's name is the abort reason: the journal records the real one.
      controller.abort(signal);
    });
    try {
      // --- functional stage (issue 19): wanted → the runner keeps its instance for it; it stops it after.
      const functional = opts.functional ?? functionalWanted(plan, dists, opts.dryRun);
      // ---
      const { summary: run, error } = await rehearse({
        plan,
        planPath: planFile,
        manifest,
        snapshotDir: opts.snapshot,
        runDir: opts.out ?? 'run',
        instance,
        serverBin: opts.serverBin,
        serverSettings: pickSettings(opts),
        dryRun: opts.dryRun,
        resume: opts.resume,
        newAttempt: opts.newAttempt,
        keepInstance: opts.keepInstance || functional,
        dists,
        php: opts.php,
        findings,
        audit: { referenceDirs: opts.referenceDir, glpiDists: opts.glpiDist },
        signal: controller.signal,
        onEvent: progressPrinter(out),
      });
      // --- functional stage (issue 19), only when no step failed (a failed run keeps its instance for --resume).
      if (run && !error && functional && !run.steps.some((st) => st.status === 'failed')) {
        const databases = databaseNames(manifest);
        if (!out.json && !out.quiet) process.stderr.write('functional tests: serving the upgraded applications, scenarios in headless Chromium\n');
        const res = await functionalAfterRehearsal({
          plan,
          run,
          runDir: opts.out ?? 'run',
          dists,
          databases,
          instance,
          keepInstance: opts.keepInstance,
          php: opts.php,
          chromium: opts.chromium,
          scenarios: opts.scenarios,
          signal: controller.signal,
          onScenario: scenarioPrinter(out),
        });
        finish(out, run, opts);
        reportFunctional(out, res, path.join(opts.out ?? 'run', 'functional'), false); // --json: run.yaml's result only; the scenarios are in functional/results.json
        return;
      }
      // ---
      // The summary is printed even when the run stopped (Ctrl-C keeps what was done), then the error.
      if (run && (!error || error instanceof InterruptedError)) finish(out, run, opts, Boolean(error));
      if (error) throw error;
    } finally {
      stopListening();
    }
  });
}

/** Only the settings the user set explicitly (the rest come from the manifest). */
function pickSettings(o: ServerSettingsOptions) {
  const s = serverSettingsFrom(o);
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
}

export function progressPrinter(out: Output): (e: RunnerEvent) => void {
  return (e) => {
    if (out.json || out.quiet) return;
    const width = (n: number) => String(n).length;
    switch (e.kind) {
      case 'info':
        process.stderr.write(`${out.c.dim('·')} ${e.message}\n`);
        break;
      case 'step-skip':
        if (out.verbose) process.stderr.write(`[${String(e.index + 1).padStart(width(e.total))}/${e.total}] ${e.step.id} ${out.c.dim(e.reason)}\n`);
        break;
      case 'step-end': {
        const r = e.result;
        const status = r.status === 'passed' ? out.c.green('passed') : r.status === 'failed' ? out.c.red('FAILED') : out.c.yellow(r.status);
        const extra = r.status === 'passed' ? (r.durationMs !== undefined ? ` (${formatDuration(r.durationMs)})` : '') : r.reason ? ` — ${render(r.reason, 'en')}` : '';
        process.stderr.write(`[${String(e.index + 1).padStart(width(e.total))}/${e.total}] ${e.step.id} ${status}${extra}\n`);
        break;
      }
      default:
        break;
    }
  };
}

function finish(out: Output, run: RunSummary, opts: { out?: string; junit?: string }, stopped = false): void {
  const runDir = opts.out ?? 'run';
  if (opts.junit) {
    fs.mkdirSync(path.dirname(path.resolve(opts.junit)), { recursive: true });
    fs.writeFileSync(opts.junit, runToJUnit(run));
  }
  const count = (s: string) => run.steps.filter((x) => x.status === s).length;
  const residual = run.anomalies.filter((a) => !a.resolved);
  out.result({
    runDir,
    complete: run.complete,
    steps: { passed: count('passed'), failed: count('failed'), notRun: count('not-run') },
    anomalies: { residual: residual.length, total: run.anomalies.length },
    summary: run,
  });
  out.say('');
  out.say(
    `${run.complete ? out.c.green('complete') : out.c.yellow('incomplete')}: ${count('passed')} passed, ${count('failed')} failed, ${count('not-run')} not run; ` +
      `${residual.length} residual anomal${residual.length === 1 ? 'y' : 'ies'} (${residual.filter((a) => a.severity === 'bloquante').length} bloquante, ${residual.filter((a) => a.severity === 'majeure').length} majeure)`,
  );
  out.say(`run directory: ${runDir} (run.yaml, journal.jsonl, evidence/)`);
  if (stopped) return;
  out.say(`next: glpi-ocs-upgrade dossier ${runDir}`);
  if (count('failed') > 0) {
    throw new StepFailedError(
      `${count('failed')} step(s) failed: ${run.steps
        .filter((s) => s.status === 'failed')
        .map((s) => s.stepId)
        .join(', ')}`,
      {
        hint: `read ${path.join(runDir, 'run.yaml')} and the evidence; fix the cause, then --resume or rehearse again`,
      },
    );
  }
}
