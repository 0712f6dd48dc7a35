import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { formatDuration } from '../output.ts';
import { addDistOptions, resolveDists } from '../dist-options.ts';
import type { DistOptions } from '../dist-options.ts';
import { collect } from '../options.ts';
import { progressPrinter } from './rehearse.ts';
import { DEMO_FIXTURE, runPipeline } from '../../pipeline/index.ts';
import type { PipelineResult } from '../../pipeline/index.ts';
import { FindingsError, NotFoundError, StepFailedError, ToolError } from '../../errors.ts';
import { onInterrupt } from '../../util/shutdown.ts';
import type { Severity } from '../../audit/finding-types.ts';

interface PipelineCliOptions extends DistOptions {
  out: string;
  lang: 'fr' | 'en';
  referenceDir?: string[];
  serverBin?: string;
  glpiTarget?: string;
  ocsTarget?: string;
}

function verdictLabel(r: PipelineResult, lang: 'fr' | 'en'): string {
  const v = r.verdict.kind;
  if (lang === 'fr')
    return v === 'accepted' ? 'recette provisoire prononçable' : v === 'with-reservations' ? 'recette provisoire avec réserves' : 'dossier incomplet : recette non prononçable en l’état';
  return v === 'accepted'
    ? 'provisional acceptance can be pronounced'
    : v === 'with-reservations'
      ? 'provisional acceptance with reservations'
      : 'incomplete dossier: acceptance cannot be pronounced yet';
}

function summarize(out: Output, r: PipelineResult, lang: 'fr' | 'en', started: number): void {
  const count = (s: string) => r.run.steps.filter((x) => x.status === s).length;
  out.result({
    verdict: r.verdict,
    complete: r.run.complete,
    steps: { total: r.run.steps.length, passed: count('passed'), failed: count('failed'), notRun: count('not-run') },
    findings: r.findings.findings.length,
    files: { snapshot: r.snapshotDir, findings: r.findingsFile, plan: r.planFile, run: r.runDir, dossier: r.dossierFile, dat: r.datFile, junit: r.junitFile },
  });
  out.say('');
  out.say(`${out.c.bold('Done')} in ${formatDuration(Date.now() - started)}.`);
  out.say(`  findings   ${r.findingsFile} (${r.findings.findings.length})`);
  out.say(`  plan       ${r.planFile} (${r.plan.steps.length} steps)`);
  out.say(`  rehearsal  ${r.runDir}: ${count('passed')} passed, ${count('failed')} failed, ${count('not-run')} not run`);
  out.say(`  dossier    ${r.dossierFile}`);
  out.say(`  DAT        ${r.datFile}`);
  out.say(`  JUnit      ${r.junitFile}`);
  const colour = r.verdict.kind === 'accepted' ? out.c.green : r.verdict.kind === 'with-reservations' ? out.c.yellow : out.c.red;
  out.say(`  verdict    ${colour(verdictLabel(r, lang))}`);
  if (r.run.steps.some((s) => s.status === 'not-run')) {
    out.say(out.c.dim('  (steps not run need product distributions: see the dossier for the exact commands, or pass --glpi-dist/--plugin-dist/--php)'));
  }
}

function commonOptions(cmd: Command): Command {
  cmd
    .addOption(new Option('--lang <lang>', 'language of the documents').choices(['fr', 'en']).default('fr'))
    .option('--reference-dir <dir>', 'directory of reference schemas (glpi-<v>-empty.sql, ocsbase_new-<r>.sql) for the drift checks (repeatable)', collect)
    .option('--glpi-target <version>', 'GLPI target release (default: newest stable)')
    .option('--ocs-target <version>', 'OCS target release (default: newest stable)')
    .option('--server-bin <path>', 'mariadbd binary for the embedded servers');
  return addDistOptions(cmd);
}

async function execute(cmd: Command, o: PipelineCliOptions, mode: { snapshotDir: string; takeSnapshot: boolean; dryRun: boolean }): Promise<PipelineResult> {
  const out = outputFor(cmd);
  const started = Date.now();
  if (!fs.existsSync(path.join(mode.snapshotDir, 'manifest.yaml'))) {
    throw new NotFoundError(`no snapshot at ${mode.snapshotDir} (manifest.yaml missing)`);
  }
  const dists = await resolveDists(o);
  const controller = new AbortController();
  const stop = onInterrupt(() => controller.abort());
  try {
    const result = await runPipeline({
      snapshotDir: mode.snapshotDir,
      outDir: o.out,
      takeSnapshot: mode.takeSnapshot,
      dryRun: mode.dryRun,
      lang: o.lang,
      dists,
      php: o.php,
      targets: { glpi: o.glpiTarget, ocs: o.ocsTarget },
      referenceDirs: o.referenceDir,
      glpiDistDirs: o.glpiDist,
      serverBin: o.serverBin,
      signal: controller.signal,
      onStage: (s) => {
        if (!out.json && !out.quiet) process.stderr.write(`${out.c.cyan('▸')} ${s}\n`);
      },
      onEvent: out.verbose ? progressPrinter(out) : undefined,
    });
    summarize(out, result, o.lang, started);
    return result;
  } finally {
    stop();
  }
}

export function register(program: Command): void {
  const demo = program
    .command('demo')
    .description('run the whole pipeline on the bundled fixtures: snapshot → audit → plan → rehearse → dossier + DAT')
    .option('-o, --out <dir>', 'output directory (rewritten)', 'demo-output')
    .option('--fixture <dir>', 'snapshot to start from', DEMO_FIXTURE)
    .option('--no-ocs-fetch', "do not fetch Debian's ocsinventory-reports package for the OCS steps");
  commonOptions(demo).addHelpText(
    'after',
    `
Examples:
  $ glpi-ocs-upgrade demo                         # French documents in ./demo-output
  $ glpi-ocs-upgrade demo --lang en -o /tmp/demo
  $ glpi-ocs-upgrade demo --glpi-dist ~/dist/glpi-10.0.19 --plugin-dist ~/dist/ocsinventoryng   # real GLPI updater and plugin

Everything runs on throwaway embedded MariaDB servers: nothing outside the output directory is written.
The OCS update files come from Debian's ocsinventory-reports package (fetched once into the cache) unless
--ocs-dist is given; GLPI steps run only with --glpi-dist (otherwise "not run", with the exact command).
Without --glpi-target, the GLPI target is the newest release given with --glpi-dist; a plugin step whose
release no --plugin-dist provides is announced before the rehearsal.`,
  );
  demo.action(async (o: PipelineCliOptions & { fixture: string; ocsFetch: boolean }, cmd: Command) => {
    if (!o.ocsDist?.length && o.ocsFetch) o.ocsDist = ['debian'];
    try {
      const r = await execute(cmd, o, { snapshotDir: o.fixture, takeSnapshot: true, dryRun: false });
      const failed = r.run.steps.filter((s) => s.status === 'failed');
      if (failed.length) {
        throw new StepFailedError(`${failed.length} step(s) failed: ${failed.map((s) => s.stepId).join(', ')}`, {
          hint: `the dossier ${r.dossierFile} says why (evidence in ${r.runDir}/evidence)`,
        });
      }
    } catch (err) {
      if (err instanceof ToolError && o.ocsDist?.[0] === 'debian' && /apt-get|dpkg-deb/.test(err.message)) {
        throw new ToolError(err.message, err.exitCode, { hint: 'run the demo without the OCS steps: glpi-ocs-upgrade demo --no-ocs-fetch' });
      }
      throw err;
    }
  });

  const ci = program
    .command('ci')
    .description('dry-run the pipeline on a snapshot for CI: audit → plan → rehearse --dry-run → dossier, JUnit, exit codes')
    .requiredOption('--snapshot <dir>', 'snapshot directory (e.g. the bundled fixtures/small, or a cached customer snapshot)')
    .option('-o, --out <dir>', 'output directory (rewritten)', 'out/ci')
    .addOption(new Option('--fail-on <severity>', 'exit 8 when a residual anomaly of this severity or worse remains').choices(['bloquante', 'majeure', 'mineure']))
    .option('--full', 'run the steps that need distributions too, when given (not a dry run)');
  commonOptions(ci).addHelpText(
    'after',
    `
Examples:
  $ glpi-ocs-upgrade ci --snapshot fixtures/small --ocs-dist debian --fail-on bloquante
  $ glpi-ocs-upgrade --json ci --snapshot .cache/snap -o out/ci > out/ci/summary.json

Exit codes: 0 ok, 7 a step failed, 8 --fail-on reached, 130 interrupted. Outputs: findings.yaml,
plan.yaml, run/ (run.yaml, dossier-de-tests.md, dat.md), junit.xml. Example pipelines: docs/ci/.`,
  );
  ci.action(async (o: PipelineCliOptions & { snapshot: string; failOn?: Severity; full?: boolean }, cmd: Command) => {
    const r = await execute(cmd, o, { snapshotDir: o.snapshot, takeSnapshot: false, dryRun: !o.full });
    const failed = r.run.steps.filter((s) => s.status === 'failed');
    if (failed.length) throw new StepFailedError(`${failed.length} step(s) failed: ${failed.map((s) => s.stepId).join(', ')}`);
    if (o.failOn) {
      const rank: Record<Severity, number> = { bloquante: 0, majeure: 1, mineure: 2 };
      const hit = r.run.anomalies.filter((a) => !a.resolved && rank[a.severity] <= rank[o.failOn!]);
      if (hit.length)
        throw new FindingsError(
          `${hit.length} residual anomal${hit.length === 1 ? 'y' : 'ies'} at or above "${o.failOn}": ${hit
            .slice(0, 5)
            .map((a) => a.id)
            .join(', ')}${hit.length > 5 ? ', …' : ''}`,
        );
    }
  });
}
