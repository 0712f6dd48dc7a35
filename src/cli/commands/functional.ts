import fs from 'node:fs';
import { render } from '../../i18n/render.ts';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { formatDuration } from '../output.ts';
import { collect } from '../options.ts';
import { addDistOptions, resolveDists } from '../dist-options.ts';
import type { DistOptions } from '../dist-options.ts';
import { parseDsn } from '../../db/dsn.ts';
import { resolvePassword } from '../../db/credentials.ts';
import { NotFoundError, StepFailedError, UsageError } from '../../errors.ts';
import { readPlan } from '../../plan/index.ts';
import { readManifest } from '../../snapshot/index.ts';
import { readRunSummary } from '../../rehearse/runner.ts';
import { Journal, journalState } from '../../rehearse/journal.ts';
import { onInterrupt } from '../../util/shutdown.ts';
import { functionalAfterRehearsal } from '../../functional/after-rehearsal.ts';
import { DEFAULT_CHROMIUM } from '../../functional/index.ts';
import type { FunctionalResults, ScenarioResult } from '../../functional/types.ts';
import { databaseNames } from '../../rehearse/instance.ts';

interface FunctionalCliOptions extends DistOptions {
  chromium?: string;
  scenarios?: string[];
  only?: string[];
  lang: 'fr' | 'en';
  instance?: string;
  passwordEnv?: string;
  defaultsFile?: string;
  keepInstance?: boolean;
}

export function scenarioPrinter(out: Output): (r: ScenarioResult) => void {
  return (r) => {
    if (out.json || out.quiet) return;
    const status = r.status === 'passed' ? out.c.green('passed') : r.status === 'failed' ? out.c.red('FAILED') : out.c.yellow('not run');
    process.stderr.write(`  ${r.id} ${status} ${out.c.dim(render(r.title, 'en'))}${r.status !== 'passed' && r.reason ? ` — ${render(r.reason, 'en')}` : ''}\n`);
  };
}

/** One line per scenario and the totals; StepFailedError (exit 7) when a scenario failed. */
export function reportFunctional(out: Output, res: FunctionalResults, dir: string, emitResult = true): void {
  const count = (s: string) => res.scenarios.filter((x) => x.status === s).length;
  if (emitResult) out.result({ dir, durationMs: res.durationMs, passed: count('passed'), failed: count('failed'), notRun: count('not-run'), results: res });
  out.say(
    `functional tests: ${count('passed')} passed, ${count('failed')} failed, ${count('not-run')} not run in ${formatDuration(res.durationMs)} (${path.join(dir, 'results.json')}, screenshots beside it)`,
  );
  for (const r of res.scenarios.filter((x) => x.status === 'not-run').slice(0, 1)) {
    if (r.commandForUser) out.say(out.c.dim(`  not run: ${r.reason ? render(r.reason, 'en') : ''}; to run them: ${r.commandForUser}`));
  }
  if (count('failed') > 0) {
    throw new StepFailedError(
      `${count('failed')} functional scenario(s) failed: ${res.scenarios
        .filter((s) => s.status === 'failed')
        .map((s) => s.id)
        .join(', ')}`,
      {
        hint: `read ${path.join(dir, 'results.json')} and the screenshots`,
      },
    );
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('functional')
    .description('serve the rehearsed GLPI and OCS console and run the functional scenarios in headless Chromium (screenshots for the dossier)')
    .argument('<run-dir>', 'a rehearsal run directory whose test instance is still running (rehearse --keep-instance)')
    .option('--chromium <path>', `Chromium executable (default: ${DEFAULT_CHROMIUM})`)
    .option('--scenarios <file>', 'extra scenario book (YAML, same format as scenarios/builtin.yaml; repeatable)', collect)
    .option('--only <id>', 'run only this scenario (repeatable)', collect)
    .addOption(new Option('--lang <lang>', 'language of the messages').choices(['fr', 'en']).default('fr'))
    .option('--instance <dsn>', 'the external test server the rehearsal used (default: the embedded one named in the journal)')
    .option('--password-env <name>', 'environment variable holding the --instance password')
    .option('--defaults-file <file>', 'MySQL option file for the --instance account')
    .option('--keep-instance', 'keep the embedded test instance running afterwards (default: stop it)');
  addDistOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ glpi-ocs-upgrade rehearse plan.yaml --snapshot snap/ -o run-1 --keep-instance --no-functional \\
      --glpi-dist ~/dist/glpi-10.0.19 --plugin-dist ~/dist/ocsinventoryng --ocs-dist debian
  $ glpi-ocs-upgrade functional run-1 --glpi-dist ~/dist/glpi-10.0.19 --plugin-dist ~/dist/ocsinventoryng \\
      --ocs-dist debian --scenarios my-scenarios.yaml
  $ glpi-ocs-upgrade dossier run-1 --format docx            # the "Tests fonctionnels" section, screenshots included

Writes RUN_DIR/functional/results.json and one PNG per scenario; the dossier picks them up. A scenario that
cannot run here (no PHP, no Chromium, no distribution, no data) is "not run" with the command that runs it.
Exit codes: 0 no failure, 7 a scenario failed, 4 no run directory, 130 interrupted.`,
  );
  cmd.action(async (runDir: string, opts: FunctionalCliOptions, command: Command) => {
    const out = outputFor(command);
    const run = readRunSummary(runDir);
    if (!run) throw new NotFoundError(`${runDir} holds no rehearsal (run.yaml missing)`);
    const planFile = path.join(runDir, 'plan.yaml');
    if (!fs.existsSync(planFile)) throw new NotFoundError(`${planFile} is missing`);
    const plan = readPlan(planFile);
    const manifest = await readManifest(path.resolve(runDir, run.snapshot.dir));
    const databases = databaseNames(manifest);
    const label = journalState(new Journal(runDir).read()).instance ?? '';
    if (!opts.instance && !label.startsWith('embedded:')) throw new UsageError(`this run used ${label || 'an external instance'}: pass the same --instance`);
    const instance = opts.instance ? resolvePassword(parseDsn(opts.instance), 'instance', { passwordEnv: opts.passwordEnv, defaultsFile: opts.defaultsFile }).dsn : undefined;
    const dists = await resolveDists(opts);
    const controller = new AbortController();
    const stop = onInterrupt((signal) => {
      out.warn(`${signal} received: stopping the browser and the servers`);
      controller.abort();
    });
    try {
      const res = await functionalAfterRehearsal({
        plan,
        run,
        runDir,
        dists,
        databases,
        instance,
        keepInstance: opts.keepInstance,
        php: opts.php,
        chromium: opts.chromium,
        scenarios: opts.scenarios,
        only: opts.only,
        lang: opts.lang,
        signal: controller.signal,
        onScenario: scenarioPrinter(out),
      });
      reportFunctional(out, res, path.join(runDir, 'functional'));
    } finally {
      stop();
    }
  });
}
