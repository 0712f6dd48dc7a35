import fs from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { addSourceOptions, CREDENTIALS_HELP, collect, resolveSource, resolveTarget } from '../options.ts';
import type { SourceOptions } from '../options.ts';
import { outputFor } from '../context.ts';
import { formatDuration } from '../output.ts';
import { NotFoundError, UsageError } from '../../errors.ts';
import type { AuditInput, RunAuditOptions } from '../../audit/index.ts';
import { assertBelowThreshold, parseSeverity, renderFindings, runAudit, writeFindings } from '../../audit/index.ts';
import { checkLine } from '../../audit/report.ts';

interface AuditCliOptions extends SourceOptions {
  output?: string;
  failOn?: string;
  lang?: 'fr' | 'en';
  referenceDir?: string[];
  glpiDist?: string[];
  only?: string[];
  staleDays?: string;
  installerProfile?: string;
  ocsServerId?: string;
  instance?: string;
  serverBin?: string;
}

function integer(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new UsageError(`${name} must be a whole number${min ? ` ≥ ${min}` : ''}, not "${v}"`);
  return Number(v);
}

export function register(program: Command): void {
  const cmd = program
    .command('audit')
    .argument('[snapshot-dir]', 'a snapshot directory (restored into a throwaway embedded instance, then audited)')
    .description('find, read-only, what will break the upgrade and what is wrong with the GLPI–OCS interconnection');
  addSourceOptions(cmd)
    .option('-o, --output <file>', 'write the findings file (YAML, or JSON when the name ends in .json) for plan, dossier and dat')
    .addOption(new Option('--fail-on <severity>', 'exit with code 8 when a finding has this severity or worse').choices(['bloquante', 'majeure', 'mineure', 'blocking', 'major', 'minor']))
    .addOption(new Option('--lang <lang>', 'language of the report').choices(['fr', 'en']).default('fr'))
    .option('--reference-dir <dir>', 'directory with glpi-<version>-empty.sql / ocsbase_new-<release>.sql reference schemas (repeatable)', collect)
    .option('--glpi-dist <dir>', 'a GLPI distribution whose install/mysql/ holds reference schemas (repeatable)', collect)
    .option('--only <id>', 'run only this check or family prefix, e.g. glpi.duplicates (repeatable)', collect)
    .option('--stale-days <n>', 'a link is stale when OCS inventoried the machine this many days after the last GLPI sync', '30')
    .option('--installer-profile <id>', 'GLPI profile of the user who will install the ocsinventoryng plugin', '4')
    .option('--ocs-server-id <id>', 'which glpi_ocsservers row is the OCS database given (when GLPI declares several)')
    .option('--instance <dsn>', 'restore the snapshot into this test server instead of a throwaway embedded one')
    .option('--server-bin <path>', 'mariadbd or mysqld binary for the embedded instances (default: found on PATH)')
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade audit ./snap-2026-11-23 -o findings.yaml
  $ GLPI_DB_PASSWORD=… OCS_DB_PASSWORD=… glpi-ocs-upgrade audit --glpi mysql://glpi@db1/glpi --ocs mysql://ocs@db1/ocsweb
  $ glpi-ocs-upgrade audit ./snap --reference-dir ../reference/glpi --reference-dir ../reference/ocs --fail-on majeure
  $ glpi-ocs-upgrade audit ./snap --only glpi.duplicates --json
${CREDENTIALS_HELP}

Live databases are read through READ ONLY sessions; reference schemas are loaded into scratch databases
on a separate embedded instance, never on the audited server. Exit code 8 when --fail-on is reached.
Check ids, severities and remedies: docs/audit.md.`,
    )
    .action(async (snapshotDir: string | undefined, opts: AuditCliOptions, command: Command) => {
      const out = outputFor(command);
      const glpi = resolveSource('glpi', opts);
      const ocs = resolveSource('ocs', opts);
      if (snapshotDir && (glpi || ocs)) throw new UsageError('give either a snapshot directory or --glpi/--ocs, not both');
      if (!snapshotDir && !glpi && !ocs) {
        throw new UsageError('nothing to audit: give a snapshot directory or --glpi and/or --ocs', { hint: 'glpi-ocs-upgrade audit --help shows examples' });
      }
      if (snapshotDir && !fs.existsSync(snapshotDir)) throw new NotFoundError(`snapshot directory ${snapshotDir} does not exist`);
      if (opts.instance && !snapshotDir) throw new UsageError('--instance is only used with a snapshot directory');
      const threshold = opts.failOn ? parseSeverity(opts.failOn) : undefined;
      let input: AuditInput;
      if (snapshotDir) {
        const instance = opts.instance ? (await resolveTarget({ instance: opts.instance, passwordEnv: opts.passwordEnv, defaultsFile: opts.defaultsFile })).dsn : undefined;
        input = { snapshot: snapshotDir, instance };
      } else {
        input = { live: { glpi, ocs } };
      }
      const runOpts: RunAuditOptions = {
        referenceDirs: opts.referenceDir,
        glpiDists: opts.glpiDist,
        only: opts.only,
        staleDays: integer('--stale-days', opts.staleDays),
        installerProfileId: integer('--installer-profile', opts.installerProfile),
        ocsServerId: integer('--ocs-server-id', opts.ocsServerId),
        serverBin: opts.serverBin,
        onStage: (s) => out.detail(s),
        onCheck: (run, i, total) => out.detail(`[${i}/${total}] ${checkLine(run)}${run.ms !== undefined ? ` ${formatDuration(run.ms)}` : ''}`),
      };
      const started = Date.now();
      const findings = await runAudit(input, runOpts);
      if (opts.output) writeFindings(opts.output, findings);
      out.result(findings);
      const { c } = out;
      for (const line of renderFindings(findings, opts.lang ?? 'fr', { bold: c.bold, red: c.red, yellow: c.yellow, dim: c.dim })) out.say(line);
      out.say();
      const fr = (opts.lang ?? 'fr') === 'fr';
      const took = formatDuration(Date.now() - started);
      const written = opts.output ? (fr ? ` ; anomalies écrites dans ${opts.output}` : `; findings written to ${opts.output}`) : '';
      out.say(c.dim(`${findings.checksRun.length} ${fr ? 'contrôles en' : 'checks in'} ${took}${written}`));
      if (threshold) assertBelowThreshold(findings, threshold);
    });
}
