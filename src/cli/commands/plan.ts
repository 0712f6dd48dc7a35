import type { Command } from 'commander';
import { Option } from 'commander';
import path from 'node:path';
import { addSourceOptions, collect, CREDENTIALS_HELP, resolveSource } from '../options.ts';
import type { SourceOptions } from '../options.ts';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { UsageError } from '../../errors.ts';
import type { ConnectorTarget, PlanInput } from '../../plan/planner.ts';
import { buildPlan } from '../../plan/planner.ts';
import { writePlan } from '../../plan/io.ts';
import { planInputFromLive, planInputFromSnapshot } from '../../plan/input.ts';
import { PLAN_HEADERS, planRows } from '../../plan/render.ts';
import type { PlanFile } from '../../plan/plan-types.ts';
import { render } from '../../i18n/render.ts';
import type { RehearsalEstimate } from '../../apply/estimate.ts';
import { estimateFromRehearsal } from '../../apply/estimate.ts';
import { formatDuration } from '../output.ts';

interface PlanOptions extends SourceOptions {
  glpiTarget?: string;
  ocsTarget?: string;
  connector?: ConnectorTarget;
  glpiVia?: string[];
  output: string;
  save: boolean;
  explain?: boolean;
  rehearsal?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('plan')
    .argument('[snapshot]', 'snapshot directory (its manifest.yaml says which versions the data has)')
    .description('compute the stepwise upgrade plan (GLPI hops, OCS update files, connector) from a snapshot or live databases, and save it as plan.yaml');
  addSourceOptions(cmd)
    .option('--glpi-target <version>', 'GLPI release (or branch, e.g. 10.0) to reach; default: the newest in the catalog')
    .option('--ocs-target <version>', 'OCS Inventory NG release to reach; default: the newest in the catalog')
    .addOption(
      new Option('--connector <mode>', 'GLPI–OCS link at the end: the ocsinventoryng plugin, GLPI native inventory, or none (default: plugin when the GLPI database has OCS link data)').choices([
        'plugin',
        'native',
        'none',
      ]),
    )
    .option('--glpi-via <version>', 'a GLPI release the route must pass through (repeatable), e.g. 0.84.8', collect)
    .option('-o, --output <file>', 'where to save the plan', 'plan.yaml')
    .option('--no-save', 'print the plan without saving it')
    .option('--explain', "print each step's explanation and the commands to run by hand")
    .option('--rehearsal <run-dir>', "print a rehearsal's downtime estimate for the maintenance window instead, scaled to production's rows when --glpi/--ocs name it (read only)")
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade plan ./snap-2026-03-01                       # newest GLPI 11.0.x and OCS 2.12.x, plan.yaml
  $ glpi-ocs-upgrade plan ./snap --glpi-target 10.0.22 --ocs-target 2.11.1 -o plan-10.yaml
  $ glpi-ocs-upgrade plan ./snap --connector native --explain     # no ocsinventoryng plugin at the end
  $ GLPI_DB_PASSWORD=… glpi-ocs-upgrade plan --glpi mysql://glpi@db1/glpi --ocs mysql://ocs@db1/ocsweb --json
  $ glpi-ocs-upgrade plan --rehearsal run-1 --glpi mysql://glpi@db1/glpi --ocs mysql://ocs@db1/ocsweb
                                                                  # downtime estimate at production's size
${CREDENTIALS_HELP}

Live databases are read with READ ONLY sessions; the plan then has no snapshot id and rehearse asks for one.
Exit codes: 2 bad flags or a downgrade, 4 unknown target release or missing snapshot, 11 version not in the
catalog or a half-upgraded database. See docs/plan.md.`,
    )
    .action(async (snapshot: string | undefined, opts: PlanOptions, command: Command) => {
      const out = outputFor(command);
      const glpi = resolveSource('glpi', opts);
      const ocs = resolveSource('ocs', opts);
      if (opts.rehearsal) {
        if (snapshot) throw new UsageError('give either a snapshot directory or --rehearsal RUN_DIR, not both');
        const r = await estimateFromRehearsal(opts.rehearsal, { glpi, ocs });
        out.result(r.estimate);
        printEstimate(out, r, opts.rehearsal);
        return;
      }
      if (snapshot && (glpi || ocs)) throw new UsageError('give either a snapshot directory or live databases (--glpi/--ocs), not both');
      if (!snapshot && !glpi && !ocs) {
        throw new UsageError('nothing to plan: give a snapshot directory, or --glpi and/or --ocs', { hint: 'glpi-ocs-upgrade plan --help shows examples' });
      }
      const input: PlanInput = snapshot ? await planInputFromSnapshot(snapshot) : await planInputFromLive({ glpi, ocs });
      const plan = buildPlan(input, { glpi: opts.glpiTarget, ocs: opts.ocsTarget, connector: opts.connector, glpiVia: opts.glpiVia });
      if (opts.save) writePlan(opts.output, plan);
      out.result(plan);
      printPlan(out, plan, { explain: Boolean(opts.explain), savedTo: opts.save ? opts.output : undefined, source: snapshot ?? 'live databases', snapshot });
    });
}

function printPlan(out: Output, plan: PlanFile, o: { explain: boolean; savedTo?: string; source: string; snapshot?: string }): void {
  const { c } = out;
  const src: string[] = [];
  if (plan.source.glpi) src.push(`GLPI ${plan.source.glpi.version} (link: ${plan.source.glpi.connector})`);
  if (plan.source.ocs) src.push(`OCS GUI_VERSION ${plan.source.ocs.guiVersion} (${plan.source.ocs.releases.join(' / ')})`);
  const tgt: string[] = [];
  if (plan.targets.glpi) tgt.push(`GLPI ${plan.targets.glpi}`);
  if (plan.targets.ocs) tgt.push(`OCS ${plan.targets.ocs}`);
  tgt.push(`connector: ${plan.targets.connector}`);
  out.say(c.bold(`Upgrade plan for ${o.source}${plan.source.snapshotId ? ` (snapshot ${plan.source.snapshotId.slice(0, 12)})` : ''}`));
  out.say(`  from  ${src.join(', ')}`);
  out.say(`  to    ${tgt.join(', ')}`);
  out.say(`  steps ${plan.steps.length}`);
  out.say();
  out.table(PLAN_HEADERS, planRows(plan), ['r', 'l', 'l', 'l', 'l', 'l', 'l']);
  if (o.explain) {
    plan.steps.forEach((s, i) => {
      out.say();
      out.say(c.bold(`${i + 1}. ${render(s.title, 'en')}`) + c.dim(`  [${s.id}]`));
      out.say(`   ${render(s.explanation, 'en')}`);
      if (s.before.length) out.say(`   before it: ${s.before.join(', ')}`);
      for (const line of s.shell ?? []) out.say(c.cyan(`   $ ${line}`));
    });
  }
  if (plan.notes.length) {
    out.say();
    out.say(c.bold('Why this route'));
    for (const n of plan.notes) out.say(`  - ${render(n, 'en')}`);
  }
  if (plan.hazards && Object.keys(plan.hazards).length) {
    out.say();
    out.say(c.bold('Hazards named in the plan'));
    for (const [id, text] of Object.entries(plan.hazards)) out.say(`  ${c.yellow(id)}: ${text}`);
  }
  if (o.savedTo) {
    out.say();
    out.say(`Plan saved to ${path.resolve(o.savedTo)} (format ${plan.format}).`);
    out.say(`Next: glpi-ocs-upgrade rehearse ${o.savedTo} --snapshot ${o.snapshot ?? 'SNAPSHOT_DIR'}`);
  }
}

function printEstimate(out: Output, r: RehearsalEstimate, runDir: string): void {
  const { c } = out;
  const e = r.estimate;
  const scale = (['glpi', 'ocs'] as const)
    .filter((role) => e.scale[role] !== undefined)
    .map((role) => `${role.toUpperCase()} ×${e.scale[role]!.toFixed(2)}`)
    .join(', ');
  out.say(c.bold(`Downtime estimate for ${runDir} (${r.runId}, ${r.plan.steps.length} steps)`));
  out.say(`  scaled to  ${r.scaledTo === 'production' ? "production's rows" : "the snapshot's rows (give --glpi/--ocs to scale to production's)"}${scale ? `: ${scale}` : ''}`);
  out.say();
  out.table(
    ['step', 'rehearsed', 'estimated'],
    e.steps.map((s) => [s.stepId, formatDuration(s.rehearsedMs), formatDuration(s.estimatedMs)]),
    ['l', 'r', 'r'],
  );
  out.say();
  out.say(`downtime estimate: ${formatDuration(e.totalMs)} (backup ${formatDuration(e.backupMs)}); book ${formatDuration(e.windowMs)} for the window`);
}
