/** The GLPI route: the fewest hops the maintainers' updaters support, each hop's db:update, conversions and schema check. */
import type { ConnectorMode } from '../inspect/detect.ts';
import type { Catalog, GlpiBranch } from '../catalog/catalog.ts';
import { glpiBranchOf } from '../catalog/catalog.ts';
import type { Message } from '../i18n/messages.ts';
import { joined, literal, msg } from '../i18n/messages.ts';
import type { PlanStep } from './plan-types.ts';
import { DowngradeError, NoRouteError } from './errors.ts';
import type { Ctx, PlanInput } from './route-common.ts';
import { branchesBetween, cmp, composeTableChanges, dbRequirements, effects, uniq } from './route-common.ts';

export interface Hop {
  from: string;
  to: string;
  branch: GlpiBranch;
}

export function mayHoldMyIsam(input: PlanInput, current: string, conversionsDone: boolean): boolean {
  if (conversionsDone) return false;
  const tables = input.glpi?.tables;
  if (tables?.length) return tables.some((t) => t.name.startsWith('glpi_') && (t.engine ?? '').toLowerCase() === 'myisam');
  // Unknown engines: GLPI created MyISAM tables up to 9.2 (InnoDB is the default of new tables from 9.3).
  return cmp(current, '9.3') < 0;
}

export function glpiHops(c: Catalog, input: PlanInput, source: string, target: string, via: string[], notes: Message[]): Hop[] {
  const hops: Hop[] = [];
  let cur = source;
  let converted = false;
  const waypoints = [...via, target];
  for (const w of waypoints) {
    if (cmp(w, cur) <= 0) {
      throw new DowngradeError(`--glpi-via ${w} is not newer than ${cur}: waypoints must go forward`);
    }
    while (cmp(cur, w) < 0) {
      const candidates = uniq([...c.glpi.branches.map((b) => b.latest), w])
        .filter((r) => cmp(r, cur) > 0 && cmp(r, w) <= 0)
        .sort((a, b) => cmp(b, a));
      let chosen: string | undefined;
      for (const r of candidates) {
        const b = glpiBranchOf(c, r)!;
        if (cmp(cur, b.updater.accepts_from) < 0) continue;
        if (b.requires_innodb && mayHoldMyIsam(input, cur, converted)) {
          notes.push(msg('plan.glpi-myisam-refused', { release: r, current: cur }));
          continue;
        }
        if (b.requires_innodb && !converted && !input.glpi?.tables?.length) {
          const via10 = glpiBranchOf(c, '10.0.0')?.latest ?? '10.0';
          notes.push(msg('plan.glpi-engines-unknown', { release: r, current: cur, via: via10 }));
        }
        chosen = r;
        break;
      }
      if (!chosen) throw new NoRouteError(`no GLPI updater in the catalog accepts a ${cur} database on the way to ${w}`);
      const branch = glpiBranchOf(c, chosen)!;
      hops.push({ from: cur, to: chosen, branch });
      if (branch.conversions) converted = true;
      cur = chosen;
    }
  }
  return hops;
}

export function glpiHazards(c: Catalog, hop: Hop): string[] {
  const crossed = new Set(branchesBetween(c, hop.from, hop.to).map((b) => b.branch));
  return uniq(c.glpi.hazards.filter((h) => h.at === 'db-update' && ((h.crosses && crossed.has(h.crosses)) || h.hop_into === hop.branch.branch)).map((h) => h.id));
}

export function consoleShell(_branch: GlpiBranch, release: string, command: string, args: string[], entry: string): string {
  const where = `cd <glpi-${release}>`;
  if (entry !== 'bin/console') return `${where} && php ${entry} ${args.join(' ')}`.trim();
  return `${where} && php bin/console ${command} ${args.join(' ')}`.trim();
}

export function conversionsNeeded(input: PlanInput, source: string): boolean {
  if (cmp(source, '10.0') < 0) return true;
  const tables = (input.glpi?.tables ?? []).filter((t) => t.name.startsWith('glpi_'));
  if (!tables.length) return true; // unknown: the commands are no-ops on a converted database
  return tables.some((t) => (t.engine ?? '').toLowerCase() !== 'innodb' || !(t.collation ?? '').startsWith('utf8mb4'));
}

export function explainGlpiRoute(ctx: Ctx, source: string, target: string, hops: Hop[]): void {
  if (!hops.length) return;
  const route = [source, ...hops.map((h) => h.to)].join(' → ');
  const n = hops.length;
  const parts: Message[] = [msg('plan.glpi-route', { route, hops: n })];
  for (const h of hops) {
    parts.push(msg('plan.glpi-hop-updater', { to: h.to, acceptsFrom: h.branch.updater.accepts_from, from: h.from }));
  }
  const sourceBranch = glpiBranchOf(ctx.c, source)!.branch;
  const skipped = ctx.c.glpi.branches.filter((b) => cmp(b.branch, sourceBranch) > 0 && cmp(b.branch, glpiBranchOf(ctx.c, target)!.branch) <= 0 && !hops.some((h) => h.branch === b));
  if (skipped.length) {
    const list = skipped.map((b) => b.branch);
    parts.push(msg('plan.glpi-branches-skipped', { branches: list }));
  }
  const newest = ctx.c.glpi.branches[ctx.c.glpi.branches.length - 1];
  if (cmp(target, newest.latest) < 0) {
    parts.push(msg('plan.glpi-older-target', { target, newest: newest.latest }));
  }
  ctx.notes.push(joined(parts));
}

export function glpiUpdateStep(ctx: Ctx, hop: Hop, mode: ConnectorMode): PlanStep {
  const { c } = ctx;
  const b = hop.branch;
  const crossed = branchesBetween(c, hop.from, hop.to);
  const changes = composeTableChanges(crossed.map((x) => x.schema_changes ?? {}));
  const rows = crossed.flatMap((x) => x.rows_deleted ?? []);
  const entry = b.updater.entry;
  const runner: PlanStep['runner'] =
    entry === 'bin/console'
      ? { kind: 'glpi-console', release: hop.to, command: b.updater.command!, args: [...b.updater.args] }
      : { kind: 'glpi-console', release: hop.to, command: '', args: [...b.updater.args], entry };
  const crossing084 = cmp(hop.from, '0.84') < 0 && cmp(hop.to, '0.84') >= 0;
  const updater = entry === 'bin/console' ? `bin/console ${b.updater.command}` : entry;
  const why: Message[] = [msg('step.glpi-update.updates', { from: hop.from, to: hop.to, updater, acceptsFrom: b.updater.accepts_from })];
  if (crossed.length > 1) {
    const list = crossed.map((x) => x.branch);
    why.push(msg('step.glpi-update.branches', { branches: list }));
  }
  if (cmp(b.branch, '10.0') >= 0) {
    why.push(msg('step.glpi-update.schema-check', { from: hop.from }));
  }
  if (!b.updater.official_cli) {
    why.push(msg('step.glpi-update.not-in-archive', { entry, to: hop.to }));
  }
  if (crossing084 && mode === 'core-0.83') {
    why.push(msg('step.glpi-update.ocs-out-of-core', {}));
  }
  if (b.notes) why.push(literal(b.notes, b.notes_fr ?? b.notes));
  const hazards = glpiHazards(c, hop);
  if (crossing084 && mode === 'core-0.83') hazards.push('glpi.duplicates.displaypreferences');
  return {
    id: `glpi-${hop.to}-db-update`,
    product: 'glpi',
    database: 'glpi',
    title: msg('step.glpi-update.title', { from: hop.from, to: hop.to, updater: (entry === 'bin/console' ? b.updater.command : entry) ?? '' }),
    runner,
    from: hop.from,
    to: hop.to,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'glpi', version: hop.to } },
    before: [],
    expected: effects(changes, rows, 'all'),
    hazards: uniq(hazards),
    explanation: joined(why),
    shell: [consoleShell(b, hop.to, b.updater.command ?? '', b.updater.args, entry)],
  };
}

export function conversionSteps(ctx: Ctx, release: string, b: GlpiBranch): PlanStep[] {
  return (b.conversions ?? []).map((conv, i, all) => ({
    id: `glpi-${release}-${conv.command.replace(/^migration:/, '').replace(/_/g, '-')}`,
    product: 'glpi' as const,
    database: 'glpi' as const,
    title: msg('step.conversion.title', { release, command: conv.command }),
    runner: { kind: 'glpi-console' as const, release, command: conv.command, args: [...conv.args] },
    from: release,
    to: release,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'glpi' as const, version: release } },
    before: [],
    expected: { tablesTouched: 'all' as const },
    hazards: uniq(ctx.c.glpi.hazards.filter((h) => h.at === 'conversion' && h.command === conv.command).map((h) => h.id)),
    explanation: msg('step.conversion.explanation', {
      index: i + 1,
      total: all.length,
      branch: b.branch,
      what: literal(conv.what ?? conv.command, conv.what_fr ?? conv.what ?? conv.command),
    }),
    shell: [consoleShell(b, release, conv.command, conv.args, 'bin/console')],
  }));
}

export function checkStep(_ctx: Ctx, release: string, b: GlpiBranch): PlanStep {
  const chk = b.check!;
  return {
    id: `glpi-${release}-check-schema`,
    product: 'glpi',
    database: 'glpi',
    title: msg('step.check.title', { release, command: `${chk.command} ${chk.args.filter((a) => a !== '-n').join(' ')}`.trim() }),
    runner: { kind: 'glpi-console', release, command: chk.command, args: [...chk.args] },
    from: release,
    to: release,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'glpi', version: release } },
    before: [],
    expected: { tablesTouched: [] },
    hazards: [],
    explanation: msg('step.check.explanation', { release }),
    shell: [consoleShell(b, release, chk.command, chk.args, 'bin/console')],
  };
}
