/**
 * The planner: from the versions found (a snapshot manifest or live databases) to the targets, the ordered
 * steps across GLPI, OCS and the connector, computed from the catalog (src/catalog/catalog.ts) and the
 * project's corrective migrations (src/catalog/corrective.ts). Pure: no database, no file system beyond
 * loading the catalog.
 *
 * Rules (each one explained in the plan's notes):
 * - GLPI: fewest hops the maintainers support. From the current version, hop to the newest release (up to
 *   the target or the next --glpi-via waypoint) whose updater accepts the current version; 0.83.8 → 10.0.x
 *   (accepts ≥ 0.80) → 11.0.x (accepts ≥ 0.85.5). A release that requires InnoDB is not a hop target while
 *   the database may still hold MyISAM tables.
 * - GLPI 10.0+ hops: db:update, then the connector plugin, then the conversions (once), then the schema check.
 * - Connector: with the plugin, install (or update) the plugin release matching every GLPI release reached,
 *   from the first one on when there is 0.83/0.84 core OCS data to carry (proven on 10.0.19 + 2.0.5).
 * - OCS: the 2.2 bridge to 7006 when at 7005, then every update file to the target, one step each, with the
 *   PHP-side changes at their GUI_VERSION. Placed after the first plugin that can read the target OCS schema.
 * - Corrective migrations: each before the first step of the kind its `before` names, in the same database.
 *
 * Every text for people (step titles and explanations, notes, reasons for deleted rows) is a message
 * (src/i18n/messages.ts): an id and its parameters, rendered in English or French only where it is shown.
 */
import type { ConnectorInfo, ConnectorMode, GlpiVersionInfo, OcsVersionInfo } from '../inspect/detect.ts';
import { compareDotted } from '../inspect/detect.ts';
import type { Catalog, GlpiBranch, OcsRelease, PluginRelease, RowsDeleted, TableChanges } from '../catalog/catalog.ts';
import { glpiBranchOf, hazardTexts, loadCatalog, newestGlpiRelease, newestOcsRelease, ocsRelease, ocsReleaseShipping, pluginAcceptsOcs, pluginForGlpi, pluginRelease } from '../catalog/catalog.ts';
import type { CorrectiveMigration } from '../catalog/corrective.ts';
import { loadCorrectiveMigrations } from '../catalog/corrective.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Message } from '../i18n/messages.ts';
import { joined, literal, msg } from '../i18n/messages.ts';
import type { ExpectedEffects, PlanFile, PlanStep, StepRequirements } from './plan-types.ts';
import { stepKind } from './kinds.ts';
import { DowngradeError, IncompatibleTargetsError, InconsistentDatabaseError, NoRouteError, UnknownTargetError, UnknownVersionError } from './errors.ts';

export type ConnectorTarget = 'plugin' | 'native' | 'none';

export interface PlanTableInfo {
  name: string;
  engine: string | null;
  collation: string | null;
}

/** What the plan is made for: the versions found, from a snapshot manifest or live databases. */
export interface PlanInput {
  snapshotId?: string;
  glpi?: { database?: string; version: GlpiVersionInfo; connector: ConnectorInfo; tables?: PlanTableInfo[] };
  ocs?: { database?: string; version: OcsVersionInfo };
}

export interface PlanTargets {
  /** A GLPI release ("10.0.22"), a branch ("10.0" = its newest release) or "latest" (default). */
  glpi?: string;
  /** An OCS release ("2.11.1") or "latest" (default). */
  ocs?: string;
  /** Default: plugin when the GLPI database has connector data, none otherwise. */
  connector?: ConnectorTarget;
  /** GLPI releases the route must pass through (e.g. ["0.84.8"] to migrate the OCS data with plugin 1.0.x). */
  glpiVia?: string[];
}

export interface BuildOptions {
  catalog?: Catalog;
  corrective?: CorrectiveMigration[];
  now?: Date;
}

// ----------------------------------------------------------------------------------------------- helpers

const cmp = compareDotted;
const uniq = <T>(xs: T[]) => [...new Set(xs)];

/** Upper-cases the first letter of a catalog fragment that starts a sentence, unless it starts an identifier. */
const sentence = (x: string) => (/^\p{Ll}+[\s,]/u.test(x) ? x.charAt(0).toUpperCase() + x.slice(1) : x);

function branchesBetween(c: Catalog, from: string, to: string): GlpiBranch[] {
  // Branches whose migrations run when going from release `from` to release `to`: after from's branch, up to to's.
  const fromBranch = glpiBranchOf(c, from)!;
  return c.glpi.branches.filter((b) => cmp(b.branch, fromBranch.branch) > 0 && cmp(b.branch, glpiBranchOf(c, to)!.branch) <= 0);
}

/** Composes the table changes of consecutive migrations into the net effect of one hop. */
export function composeTableChanges(changes: TableChanges[]): Required<TableChanges> {
  const created = new Set<string>();
  const dropped = new Set<string>();
  const renamed = new Map<string, string>(); // original name → current name
  const originOf = (current: string) => [...renamed.entries()].find(([, cur]) => cur === current)?.[0];
  for (const ch of changes) {
    for (const { from, to } of ch.renamed ?? []) {
      if (created.has(from)) {
        created.delete(from);
        created.add(to);
      } else {
        const origin = originOf(from);
        renamed.set(origin ?? from, to);
      }
    }
    for (const t of ch.dropped ?? []) {
      if (created.has(t)) created.delete(t);
      else {
        const origin = originOf(t);
        if (origin) {
          renamed.delete(origin);
          dropped.add(origin);
        } else dropped.add(t);
      }
    }
    for (const t of ch.created ?? []) {
      if (dropped.has(t)) dropped.delete(t); // dropped then recreated: the table exists afterwards
      created.add(t);
    }
  }
  return {
    created: [...created].sort(),
    dropped: [...dropped].sort(),
    renamed: [...renamed.entries()].map(([from, to]) => ({ from, to })).sort((a, b) => a.from.localeCompare(b.from)),
  };
}

function effects(changes: Required<TableChanges>, rows: RowsDeleted[], touched: ExpectedEffects['tablesTouched']): ExpectedEffects {
  const e: ExpectedEffects = {};
  if (changes.created.length) e.tablesCreated = changes.created;
  if (changes.dropped.length) e.tablesDropped = changes.dropped;
  if (changes.renamed.length) e.tablesRenamed = changes.renamed;
  if (rows.length) e.rowsDeleted = rows.map((r) => ({ table: r.table, why: literal(r.why, r.why_fr ?? r.why) }));
  if (touched !== undefined) e.tablesTouched = touched;
  return e;
}

function dbRequirements(x: { mysql?: string; mariadb?: string }): StepRequirements {
  const r: StepRequirements = {};
  if (x.mysql) r.mysql = x.mysql;
  if (x.mariadb) r.mariadb = x.mariadb;
  return r;
}

function maxVersion(a?: string, b?: string): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return cmp(a, b) >= 0 ? a : b;
}

// ----------------------------------------------------------------------------------------------- targets

function resolveGlpiTarget(c: Catalog, wanted: string | undefined): string {
  if (!wanted || wanted === 'latest' || wanted === 'newest') return newestGlpiRelease(c);
  const branch = c.glpi.branches.find((b) => b.branch === wanted);
  if (branch) return branch.latest;
  const b = glpiBranchOf(c, wanted);
  if (!b) {
    throw new UnknownTargetError(`GLPI ${wanted} is not a release the catalog knows`, {
      hint: `known branches: ${c.glpi.branches.map((x) => `${x.branch} (newest ${x.latest})`).join(', ')}`,
    });
  }
  return b.releases.find((r) => cmp(r, wanted) === 0)!;
}

function resolveOcsTarget(c: Catalog, wanted: string | undefined): OcsRelease {
  if (!wanted || wanted === 'latest' || wanted === 'newest') return newestOcsRelease(c);
  const r = ocsRelease(c, wanted);
  if (!r) {
    throw new UnknownTargetError(`OCS Inventory NG ${wanted} is not a release the catalog knows`, {
      hint: `known releases: ${c.ocs.releases.map((x) => x.version).join(', ')}`,
    });
  }
  return r;
}

// ----------------------------------------------------------------------------------------------- GLPI

interface Hop {
  from: string;
  to: string;
  branch: GlpiBranch;
}

function mayHoldMyIsam(input: PlanInput, current: string, conversionsDone: boolean): boolean {
  if (conversionsDone) return false;
  const tables = input.glpi?.tables;
  if (tables?.length) return tables.some((t) => t.name.startsWith('glpi_') && (t.engine ?? '').toLowerCase() === 'myisam');
  // Unknown engines: GLPI created MyISAM tables up to 9.2 (InnoDB is the default of new tables from 9.3).
  return cmp(current, '9.3') < 0;
}

function glpiHops(c: Catalog, input: PlanInput, source: string, target: string, via: string[], notes: Message[]): Hop[] {
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

function glpiHazards(c: Catalog, hop: Hop): string[] {
  const crossed = new Set(branchesBetween(c, hop.from, hop.to).map((b) => b.branch));
  return uniq(c.glpi.hazards.filter((h) => h.at === 'db-update' && ((h.crosses && crossed.has(h.crosses)) || h.hop_into === hop.branch.branch)).map((h) => h.id));
}

function consoleShell(_branch: GlpiBranch, release: string, command: string, args: string[], entry: string): string {
  const where = `cd <glpi-${release}>`;
  if (entry !== 'bin/console') return `${where} && php ${entry} ${args.join(' ')}`.trim();
  return `${where} && php bin/console ${command} ${args.join(' ')}`.trim();
}

// ----------------------------------------------------------------------------------------------- build

interface Ctx {
  c: Catalog;
  input: PlanInput;
  notes: Message[];
  glpiDb: string;
  ocsDb: string;
}

export function buildPlan(input: PlanInput, targets: PlanTargets = {}, options: BuildOptions = {}): PlanFile {
  const c = options.catalog ?? loadCatalog();
  const corrective = options.corrective ?? loadCorrectiveMigrations();
  const notes: Message[] = [];
  const ctx: Ctx = { c, input, notes, glpiDb: input.glpi?.database ?? 'glpi', ocsDb: input.ocs?.database ?? 'ocsweb' };
  if (!input.glpi && !input.ocs) throw new UnknownVersionError('nothing to plan: neither a GLPI nor an OCS database was given');

  // --- sources
  let glpiSource: string | undefined;
  if (input.glpi) {
    const v = input.glpi.version;
    if (v.status === 'inconsistent') {
      throw new InconsistentDatabaseError(`the GLPI database is half-upgraded: ${v.problems.join('; ') || 'its version row and schema disagree'}`, {
        hint: 'restore the last good backup (or snapshot) and plan from it; a half-finished GLPI update cannot be resumed safely',
      });
    }
    if (v.status !== 'known' || !v.version) {
      throw new UnknownVersionError(`the GLPI version cannot be read: ${v.problems.join('; ') || 'no version row'}`);
    }
    if (!glpiBranchOf(c, v.version)) {
      throw new UnknownVersionError(`GLPI ${v.version} is not in the catalog`, {
        hint: `the catalog knows ${c.glpi.branches[0].releases[0]} … ${newestGlpiRelease(c)} (migrations/glpi-releases.yaml)`,
      });
    }
    glpiSource = glpiBranchOf(c, v.version)!.releases.find((r) => cmp(r, v.version!) === 0)!;
    const ahead = tablesOfLaterReleases(c, glpiSource, input.glpi.tables);
    if (ahead.length) {
      throw new InconsistentDatabaseError(
        `the GLPI database is half-upgraded: its version row says ${glpiSource} but it has tables that only later migrations create: ${ahead
          .slice(0, 4)
          .map((a) => `${a.table} (${a.branch})`)
          .join(', ')}${ahead.length > 4 ? ` and ${ahead.length - 4} more` : ''}`,
        { hint: 'restore the last good backup (or snapshot) and plan from it; a half-finished GLPI update cannot be resumed safely' },
      );
    }
  }
  let ocsSourceGui: number | undefined;
  if (input.ocs) {
    const v = input.ocs.version;
    if (v.guiVersion === undefined) throw new UnknownVersionError(`the OCS GUI_VERSION cannot be read: ${v.problems.join('; ') || 'no GUI_VERSION row'}`);
    const known = c.ocs.releases.some((r) => r.gui_version === v.guiVersion);
    if (!known) {
      throw new UnknownVersionError(`OCS GUI_VERSION ${v.guiVersion} is not a release in the catalog`, {
        hint: `known GUI_VERSIONs: ${uniq(c.ocs.releases.map((r) => r.gui_version)).join(', ')} (migrations/ocs-releases.yaml)`,
      });
    }
    ocsSourceGui = v.guiVersion;
  }

  // --- targets
  const glpiTarget = glpiSource ? resolveGlpiTarget(c, targets.glpi) : undefined;
  if (!glpiSource && targets.glpi) notes.push(msg('plan.glpi-target-ignored', { target: targets.glpi }));
  const ocsTarget = ocsSourceGui !== undefined ? resolveOcsTarget(c, targets.ocs) : undefined;
  if (ocsSourceGui === undefined && targets.ocs) notes.push(msg('plan.ocs-target-ignored', { target: targets.ocs }));
  if (glpiSource && glpiTarget && cmp(glpiTarget, glpiSource) < 0) {
    throw new DowngradeError(`GLPI target ${glpiTarget} is older than the database (${glpiSource}): GLPI cannot be downgraded`);
  }
  if (ocsTarget && ocsSourceGui !== undefined && ocsTarget.gui_version < ocsSourceGui) {
    throw new DowngradeError(`OCS target ${ocsTarget.version} (GUI_VERSION ${ocsTarget.gui_version}) is older than the database (GUI_VERSION ${ocsSourceGui}): OCS cannot be downgraded`);
  }
  const sourceMode: ConnectorMode = input.glpi?.connector.mode ?? 'none';
  let connector: ConnectorTarget = targets.connector ?? (sourceMode === 'none' ? 'none' : 'plugin');
  if (!input.glpi && connector !== 'none') {
    notes.push(msg('plan.no-glpi-no-connector', {}));
    connector = 'none';
  }
  for (const w of targets.glpiVia ?? []) {
    if (!glpiBranchOf(c, w)) throw new UnknownTargetError(`--glpi-via ${w} is not a GLPI release the catalog knows`);
  }

  // --- GLPI + connector groups
  const groups: PlanStep[][] = [];
  let ocsAfterGroup = -1;
  if (glpiSource && glpiTarget) {
    const hops = cmp(glpiTarget, glpiSource) > 0 ? glpiHops(c, input, glpiSource, glpiTarget, targets.glpiVia ?? [], notes) : [];
    explainGlpiRoute(ctx, glpiSource, glpiTarget, hops);
    let mode: ConnectorMode = sourceMode;
    let installed: string | undefined = sourceMode === 'plugin' ? input.glpi!.connector.pluginVersion : undefined;
    let converted = !conversionsNeeded(input, glpiSource);
    hops.forEach((hop, i) => {
      const group: PlanStep[] = [];
      group.push(glpiUpdateStep(ctx, hop, mode));
      if (mode === 'core-0.83' && cmp(hop.to, '0.84') >= 0) mode = 'renamed-0.84';
      const last = i === hops.length - 1;
      if (connector === 'plugin') {
        const p = pluginStep(ctx, hop.to, hop.branch, mode, installed, last, ocsTarget);
        if (p) {
          group.push(p.step);
          installed = p.plugin.version;
          mode = 'plugin';
          if (ocsAfterGroup < 0 && ocsTarget && pluginAcceptsOcs(p.plugin, ocsTarget.gui_version)) ocsAfterGroup = i;
        }
      }
      if (hop.branch.conversions && !converted) {
        group.push(...conversionSteps(ctx, hop.to, hop.branch));
        converted = true;
      }
      if (hop.branch.check) group.push(checkStep(ctx, hop.to, hop.branch));
      groups.push(group);
    });
    if (hops.length === 0) {
      notes.push(msg('plan.glpi-at-target', { target: glpiTarget }));
      const branch = glpiBranchOf(c, glpiSource)!;
      const group: PlanStep[] = [];
      if (connector === 'plugin') {
        const p = pluginStep(ctx, glpiSource, branch, mode, installed, true, ocsTarget);
        if (p) {
          group.push(p.step);
          installed = p.plugin.version;
          if (ocsTarget && pluginAcceptsOcs(p.plugin, ocsTarget.gui_version)) ocsAfterGroup = 0;
        }
      }
      if (!converted && branch.conversions) {
        group.push(...conversionSteps(ctx, glpiSource, branch));
        if (branch.check) group.push(checkStep(ctx, glpiSource, branch));
      }
      if (group.length) groups.push(group);
    }
    explainConnector(ctx, sourceMode, connector, installed, ocsTarget);
    if (connector === 'plugin' && ocsTarget) {
      const final = installed ? pluginRelease(c, installed) : undefined;
      if (final && !pluginAcceptsOcs(final, ocsTarget.gui_version)) {
        throw new IncompatibleTargetsError(
          `the connector for GLPI ${glpiTarget} is ocsinventoryng ${final.version}, which cannot read OCS ${ocsTarget.version} (it knows OCS up to GUI_VERSION ${final.ocs_gui_max}); OCS ≥ 2.8 needs plugin ≥ 1.7.1 (GLPI ≥ 9.5)`,
          { hint: `choose --glpi-target 9.5 or newer, or --ocs-target ${c.ocs.releases.filter((r) => r.gui_version <= (final.ocs_gui_max ?? 0)).pop()?.version ?? '2.7'} or older` },
        );
      }
    }
  }

  // --- OCS
  const ocsSteps = ocsTarget && ocsSourceGui !== undefined ? buildOcsSteps(ctx, ocsSourceGui, ocsTarget) : [];
  const ordered: PlanStep[] = [];
  if (ocsSteps.length && ocsAfterGroup < 0) ordered.push(...ocsSteps);
  groups.forEach((g, i) => {
    ordered.push(...g);
    if (i === ocsAfterGroup) ordered.push(...ocsSteps);
  });
  if (ocsSteps.length) {
    const plugin = ocsAfterGroup >= 0 ? groups[ocsAfterGroup].find((s) => s.runner.kind === 'plugin-install') : undefined;
    notes.push(ocsAfterGroup >= 0 ? msg('plan.ocs-after-plugin', { plugin: plugin?.title }) : msg('plan.ocs-first', {}));
  }

  // --- corrective migrations
  const steps = insertCorrective(ctx, ordered, corrective);

  const used = new Set(steps.flatMap((s) => s.hazards));
  const texts = hazardTexts(c);
  for (const m of corrective) for (const f of m.fixes) if (!texts[f]) texts[f] = m.title.en;
  const hazards = Object.fromEntries(
    [...used]
      .sort()
      .filter((h) => texts[h])
      .map((h) => [h, texts[h]]),
  );

  const plan: PlanFile = {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: TOOL_VERSION },
    createdAt: (options.now ?? new Date()).toISOString(),
    source: {},
    targets: { connector },
    steps,
    notes,
    hazards,
  };
  if (input.snapshotId) plan.source.snapshotId = input.snapshotId;
  if (input.glpi && glpiSource) plan.source.glpi = { version: glpiSource, connector: sourceMode + (input.glpi.connector.pluginVersion ? ` ${input.glpi.connector.pluginVersion}` : '') };
  if (input.ocs && ocsSourceGui !== undefined)
    plan.source.ocs = {
      guiVersion: ocsSourceGui,
      releases: input.ocs.version.releases.length ? input.ocs.version.releases : c.ocs.releases.filter((r) => r.gui_version === ocsSourceGui).map((r) => r.version),
    };
  if (glpiTarget) plan.targets.glpi = glpiTarget;
  if (ocsTarget) plan.targets.ocs = ocsTarget.version;
  return plan;
}

/**
 * Tables present in the database that only the migrations of a later branch create (glpi_profilerights in a
 * "0.83.8" database, ocs_glpi_* before 0.84…): the version row and the schema disagree. Tables that a later
 * migration drops or renames are left out (they may legitimately exist already).
 */
export function tablesOfLaterReleases(c: Catalog, source: string, tables: PlanTableInfo[] | undefined): Array<{ table: string; branch: string }> {
  if (!tables?.length) return [];
  const present = new Set(tables.map((t) => t.name));
  const sourceBranch = glpiBranchOf(c, source)!.branch;
  const later = c.glpi.branches.filter((b) => cmp(b.branch, sourceBranch) > 0);
  const existedBefore = new Set(later.flatMap((b) => [...(b.schema_changes?.dropped ?? []), ...(b.schema_changes?.renamed ?? []).map((r) => r.from)]));
  const out: Array<{ table: string; branch: string }> = [];
  for (const b of later) {
    for (const t of [...(b.schema_changes?.created ?? []), ...(b.schema_changes?.renamed ?? []).map((r) => r.to)]) {
      if (present.has(t) && !existedBefore.has(t)) out.push({ table: t, branch: b.branch });
    }
  }
  return out;
}

function conversionsNeeded(input: PlanInput, source: string): boolean {
  if (cmp(source, '10.0') < 0) return true;
  const tables = (input.glpi?.tables ?? []).filter((t) => t.name.startsWith('glpi_'));
  if (!tables.length) return true; // unknown: the commands are no-ops on a converted database
  return tables.some((t) => (t.engine ?? '').toLowerCase() !== 'innodb' || !(t.collation ?? '').startsWith('utf8mb4'));
}

function explainGlpiRoute(ctx: Ctx, source: string, target: string, hops: Hop[]): void {
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

function glpiUpdateStep(ctx: Ctx, hop: Hop, mode: ConnectorMode): PlanStep {
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

function conversionSteps(ctx: Ctx, release: string, b: GlpiBranch): PlanStep[] {
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

function checkStep(_ctx: Ctx, release: string, b: GlpiBranch): PlanStep {
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

function pluginStep(
  ctx: Ctx,
  glpiRelease: string,
  b: GlpiBranch,
  mode: ConnectorMode,
  installed: string | undefined,
  lastHop: boolean,
  ocsTarget: OcsRelease | undefined,
): { step: PlanStep; plugin: PluginRelease } | undefined {
  const { c } = ctx;
  const p = pluginForGlpi(c, glpiRelease);
  if (!p) {
    ctx.notes.push(msg('plan.no-plugin-for-glpi', { release: glpiRelease }));
    return undefined;
  }
  const carriesCore = mode === 'renamed-0.84' || mode === 'core-0.83';
  if (mode === 'plugin' && installed && cmp(installed, p.version) >= 0) return undefined;
  if (mode === 'none' && !lastHop) return undefined; // fresh install: only on the final GLPI release
  const update = mode === 'plugin';
  const cm = c.plugin.coreMigration;
  const why: Message[] = [];
  if (carriesCore) {
    why.push(msg('step.plugin.carries-core', { version: p.version, branch: b.branch, min: p.glpi_min, maxExclusive: p.glpi_max_exclusive }));
    if (p.proven) why.push(msg('step.plugin.proven', { proven: literal(p.proven, p.proven_fr ?? p.proven) }));
    why.push(msg('step.plugin.dump-first', {}));
  } else if (update) {
    why.push(msg('step.plugin.update', { installed, version: p.version, branch: b.branch }));
  } else {
    why.push(msg('step.plugin.fresh', { version: p.version, branch: b.branch }));
  }
  if (cmp(b.branch, '11.0') >= 0) {
    why.push(msg('step.plugin.glpi11', {}));
  }
  if (p.install === 'web') {
    why.push(msg('step.plugin.web-install', { release: glpiRelease }));
  }
  if (ocsTarget && p.ocs_gui_max !== undefined && ocsTarget.gui_version > p.ocs_gui_max) {
    why.push(msg('step.plugin.ocs-limit', { guiMax: p.ocs_gui_max }));
  }
  const hazards = [...(carriesCore ? cm.hazards : []), 'connector.glpicrypt-key', 'connector.exit-code-unreliable', 'connector.trace-deleted'];
  const cmdPrefix = cmp(b.branch, '10.0') >= 0 ? '' : 'glpi:';
  const shell =
    p.install === 'console'
      ? [
          `cp -r <ocsinventoryng-${p.version}> <glpi-${glpiRelease}>/plugins/ocsinventoryng`,
          `cd <glpi-${glpiRelease}> && php bin/console ${cmdPrefix}plugin:install -n --username=<glpi super-admin> ocsinventoryng`,
          `cd <glpi-${glpiRelease}> && php bin/console ${cmdPrefix}plugin:activate -n ocsinventoryng`,
        ]
      : [`cp -r <ocsinventoryng-${p.version}> <glpi-${glpiRelease}>/plugins/ocsinventoryng`, 'GLPI web interface: Setup > Plugins > OCS Inventory NG: Install, then Enable'];
  const step: PlanStep = {
    id: `connector-plugin-${p.version}`,
    product: 'connector',
    database: 'glpi',
    title: msg('step.plugin.title', { update, version: p.version, release: glpiRelease }),
    runner: { kind: 'plugin-install', pluginVersion: p.version, glpiRelease },
    from: update ? (installed ?? 'plugin') : carriesCore ? 'ocs_glpi_*' : 'none',
    to: p.version,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'connector', version: p.version } },
    before: [],
    expected: carriesCore ? { tablesCreated: [...cm.created], tablesDropped: [...cm.dropped], tablesTouched: 'all' } : { tablesTouched: 'all' },
    hazards: uniq(hazards),
    explanation: joined(why),
    shell,
  };
  return { step, plugin: p };
}

function explainConnector(ctx: Ctx, source: ConnectorMode, target: ConnectorTarget, installed: string | undefined, ocsTarget: OcsRelease | undefined): void {
  const { notes } = ctx;
  if (target === 'plugin') {
    if (source === 'core-0.83' || source === 'renamed-0.84') {
      notes.push(msg('plan.connector-late-migration', {}));
    }
    if (installed) {
      notes.push(msg('plan.connector-end', { installed, ocs: ocsTarget?.version }));
    }
  } else if (target === 'native') {
    notes.push(msg('plan.connector-native', {}));
  } else if (source !== 'none') {
    notes.push(msg('plan.connector-none', {}));
  }
}

// ----------------------------------------------------------------------------------------------- OCS

function buildOcsSteps(ctx: Ctx, sourceGui: number, target: OcsRelease): PlanStep[] {
  const { c, notes } = ctx;
  const steps: PlanStep[] = [];
  const bridge = c.ocs.bridge;
  let cur = sourceGui;
  if (target.gui_version === sourceGui) {
    notes.push(msg('plan.ocs-at-target', { target: target.version, gui: sourceGui }));
    return steps;
  }
  const dist = (version: string) => ({ product: 'ocs' as const, version });
  if (cur < bridge.to_gui_version) {
    if (!bridge.from_gui_versions.includes(cur)) throw new NoRouteError(`no bridge in the catalog starts from OCS GUI_VERSION ${cur}`);
    const rel = ocsRelease(c, bridge.release)!;
    steps.push({
      id: `ocs-bridge-${bridge.to_gui_version}`,
      product: 'ocs',
      database: 'ocs',
      title: msg('step.ocs-bridge.title', { from: cur, to: bridge.to_gui_version, file: bridge.file, release: bridge.release }),
      runner: { kind: 'ocs-bridge', toGuiVersion: 7006 },
      from: String(cur),
      to: String(bridge.to_gui_version),
      requires: { ...dbRequirements(rel), distribution: dist(bridge.release) },
      before: [],
      expected: effects(composeTableChanges([bridge]), bridge.rows_deleted ?? [], 'all'),
      hazards: [...(bridge.hazards ?? []), 'ocs.install-php.never'],
      explanation: msg('step.ocs-bridge.explanation', {
        from: cur,
        to: bridge.to_gui_version,
        file: bridge.file,
        release: bridge.release,
        notes: literal(bridge.notes, bridge.notes_fr),
      }),
      shell: [`mysql --force --default-character-set=utf8 --init-command="SET sql_mode='${bridge.sql_mode}'" ${ctx.ocsDb} < <ocsreports-${bridge.release}>/${bridge.file}`],
    });
    cur = bridge.to_gui_version;
    notes.push(msg('plan.ocs-bridge', { source: sourceGui, file: bridge.file, release: bridge.release, to: bridge.to_gui_version, target: target.gui_version }));
  } else if (cur === bridge.to_gui_version) {
    notes.push(msg('plan.ocs-7006', { gui: cur }));
  }
  const firstUpdate = steps.length;
  // SQL minimums accumulate (a FULLTEXT index added by 7022 stays); the last file also needs what the target release needs.
  let need: { mysql?: string; mariadb?: string } = { mysql: c.ocs.releases[0].mysql, mariadb: c.ocs.releases[0].mariadb };
  for (const f of c.ocs.updateFiles) {
    if (f.gui_version > target.gui_version) break;
    need = { mysql: maxVersion(need.mysql, f.requires?.mysql), mariadb: maxVersion(need.mariadb, f.requires?.mariadb) };
    if (f.gui_version <= cur) continue;
    const rel = ocsReleaseShipping(c, f.gui_version)!;
    const req = f.gui_version === target.gui_version ? { mysql: maxVersion(need.mysql, target.mysql), mariadb: maxVersion(need.mariadb, target.mariadb) } : need;
    const fileName = `files/update/${f.gui_version}.sql`;
    const why: Message[] = [msg('step.ocs-file.applies', { file: fileName, release: rel.version, gui: f.gui_version })];
    if (f.notes) why.push(literal(`${f.notes.charAt(0).toUpperCase() + f.notes.slice(1)}.`, `${sentence(f.notes_fr ?? f.notes)}.`));
    steps.push({
      id: `ocs-${f.gui_version}`,
      product: 'ocs',
      database: 'ocs',
      title: msg('step.ocs-file.title', { from: f.gui_version - 1, to: f.gui_version, file: fileName }),
      runner: { kind: 'ocs-update-file', guiVersion: f.gui_version, file: fileName },
      from: String(f.gui_version - 1),
      to: String(f.gui_version),
      requires: { ...dbRequirements(req), distribution: dist(target.version) },
      before: [],
      expected: effects(composeTableChanges([f]), f.rows_deleted ?? [], 'all'),
      hazards: [...(f.hazards ?? [])],
      explanation: joined(why),
      shell: [
        `mysql --force --default-character-set=utf8 --init-command="SET sql_mode='NO_ENGINE_SUBSTITUTION'" ${ctx.ocsDb} < <ocsreports-${target.version}>/${fileName}`,
        `mysql ${ctx.ocsDb} -e "UPDATE config SET TVALUE='${f.gui_version}' WHERE NAME='GUI_VERSION'"`,
      ],
    });
    for (const ch of c.ocs.phpChanges) {
      if (ch.gui_version !== f.gui_version || ch.gui_version <= sourceGui) continue;
      steps.push({
        id: `ocs-php-${ch.id}`,
        product: 'ocs',
        database: 'ocs',
        title: msg('step.ocs-php.title', { gui: ch.gui_version, fn: ch.function }),
        runner: { kind: 'ocs-php-change', guiVersion: ch.gui_version, change: ch.id },
        from: String(ch.gui_version),
        to: String(ch.gui_version),
        requires: {},
        before: [],
        expected: { tablesTouched: ch.tables.every((t) => /^[a-z_]+$/.test(t)) ? [...ch.tables] : 'all' },
        hazards: [],
        explanation: msg('step.ocs-php.explanation', {
          gui: ch.gui_version,
          fn: ch.function,
          what: literal(ch.what, sentence(ch.what_fr)),
          onlyIf: ch.only_if ? literal(ch.only_if, ch.only_if_fr ?? ch.only_if) : undefined,
          notes: ch.notes ? literal(ch.notes, sentence(ch.notes_fr ?? ch.notes)) : undefined,
        }),
        shell: [`open the OCS ${target.version} console once as an administrator (it runs ${ch.function}()), or let glpi-ocs-upgrade rehearse replicate it`],
      });
    }
  }
  if (steps.length > firstUpdate) {
    const firstFile = steps.find((s) => s.runner.kind === 'ocs-update-file');
    if (firstFile) firstFile.hazards.unshift('ocs.update.errors-ignored');
    const lastFile = [...steps].reverse().find((s) => s.runner.kind === 'ocs-update-file');
    if (lastFile) lastFile.hazards.push('ocs.server.version-mismatch');
    const n = steps.length - firstUpdate;
    notes.push(msg('plan.ocs-steps', { count: n, target: target.version, gui: target.gui_version }));
  }
  return steps;
}

// ----------------------------------------------------------------------------------------------- corrective

/** A corrective migration's SQL with {{db}}, {{glpi_db}}, {{ocs_db}} replaced by the source database names. */
function sqlFor(ctx: Ctx, m: CorrectiveMigration, sql: string): string {
  const names: Record<string, string> = { db: m.database === 'glpi' ? ctx.glpiDb : ctx.ocsDb, glpi_db: ctx.glpiDb, ocs_db: ctx.ocsDb };
  return sql.trim().replace(/\{\{\s*(db|glpi_db|ocs_db)\s*\}\}/g, (_, k: string) => `\`${names[k]}\``);
}

function insertCorrective(ctx: Ctx, steps: PlanStep[], migrations: CorrectiveMigration[]): PlanStep[] {
  const out = [...steps];
  const included: string[] = [];
  const skipped: string[] = [];
  for (const m of migrations) {
    const idx = out.findIndex((s) => s.database === m.database && s.runner.kind !== 'corrective-migration' && (m.before === 'any' || stepKind(s) === m.before));
    if (idx < 0) {
      skipped.push(m.id);
      continue;
    }
    const target = out[idx];
    target.before.push(m.id);
    target.hazards = uniq([...target.hazards, ...m.fixes]);
    out.splice(idx, 0, {
      id: `fix-${m.id}`,
      product: target.product === 'connector' ? 'connector' : m.database,
      database: m.database,
      title: msg('step.corrective.title', { id: m.id }),
      runner: { kind: 'corrective-migration', migration: m.id },
      from: target.from,
      to: target.from,
      requires: {},
      before: [],
      expected: { tablesTouched: [...m.touches] },
      hazards: [...m.fixes],
      explanation: msg('step.corrective.explanation', { id: m.id, title: literal(m.title.en, sentence(m.title.fr)), before: target.id }),
      shell: [`-- on the ${m.database} database, when "${sqlFor(ctx, m, m.precheck)}" returns more than 0:`, ...m.statements.map((x) => sqlFor(ctx, m, x))],
    });
    included.push(m.id);
  }
  if (!migrations.length) ctx.notes.push(msg('plan.corrective-none', {}));
  else {
    if (included.length) {
      ctx.notes.push(msg('plan.corrective-planned', { ids: included }));
    }
    if (skipped.length) {
      ctx.notes.push(msg('plan.corrective-skipped', { ids: skipped }));
    }
  }
  return out;
}
