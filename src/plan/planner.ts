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
 * Every text for people (step titles and explanations, notes, reasons for deleted rows) is written in English
 * and in French (`titleFr`, `explanationFr`, `notesFr`, `whyFr`): the French dossier and DAT print the French.
 */
import type { ConnectorInfo, ConnectorMode, GlpiVersionInfo, OcsVersionInfo } from '../inspect/detect.ts';
import { compareDotted } from '../catalog/version.ts';
import type { Catalog, GlpiBranch, OcsRelease, PluginRelease, RowsDeleted, TableChanges } from '../catalog/catalog.ts';
import { glpiBranchOf, hazardTexts, loadCatalog, newestGlpiRelease, newestOcsRelease, ocsRelease, ocsReleaseShipping, pluginAcceptsOcs, pluginForGlpi, pluginRelease } from '../catalog/catalog.ts';
import type { CorrectiveMigration } from '../catalog/corrective.ts';
import { loadCorrectiveMigrations } from '../catalog/corrective.ts';
import { TOOL_VERSION } from '../version.ts';
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

/** A text for people in both languages: English (CLI, JSON, docs/plan.md) and French (dossier, DAT). */
interface Text {
  en: string;
  fr: string;
}
const tx = (en: string, fr: string): Text => ({ en, fr });
const joined = (parts: Text[]): Text => ({ en: parts.map((p) => p.en).join(' '), fr: parts.map((p) => p.fr).join(' ') });
/** "a, b et c": a French enumeration. */
const frList = (xs: string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} et ${xs[xs.length - 1]}` : xs.join(''));
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
  if (rows.length) e.rowsDeleted = rows.map((r) => ({ table: r.table, why: r.why, whyFr: r.why_fr }));
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

function glpiHops(c: Catalog, input: PlanInput, source: string, target: string, via: string[], notes: Text[]): Hop[] {
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
          notes.push(
            tx(
              `GLPI ${r} refuses MyISAM tables and the database may still hold some (GLPI ${cur}): the route stops at an earlier release whose conversions run first.`,
              `GLPI ${r} refuse les tables MyISAM et la base peut encore en contenir (GLPI ${cur}) : le parcours s’arrête à une version antérieure, dont les conversions s’exécutent d’abord.`,
            ),
          );
          continue;
        }
        if (b.requires_innodb && !converted && !input.glpi?.tables?.length) {
          const via10 = glpiBranchOf(c, '10.0.0')?.latest ?? '10.0';
          notes.push(
            tx(
              `GLPI ${r} refuses MyISAM tables; the table engines of this ${cur} database are unknown and assumed InnoDB (GLPI creates InnoDB tables from 9.3). If some are MyISAM, plan again from a snapshot or with --glpi-via ${via10}.`,
              `GLPI ${r} refuse les tables MyISAM ; les moteurs des tables de cette base ${cur} sont inconnus et supposés InnoDB (GLPI crée des tables InnoDB depuis la 9.3). Si certaines sont en MyISAM, refaire le plan à partir d’un instantané ou avec --glpi-via ${via10}.`,
            ),
          );
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
  notes: Text[];
  glpiDb: string;
  ocsDb: string;
}

export function buildPlan(input: PlanInput, targets: PlanTargets = {}, options: BuildOptions = {}): PlanFile {
  const c = options.catalog ?? loadCatalog();
  const corrective = options.corrective ?? loadCorrectiveMigrations();
  const notes: Text[] = [];
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
  if (!glpiSource && targets.glpi) notes.push(tx(`--glpi-target ${targets.glpi} ignored: no GLPI database was given.`, `--glpi-target ${targets.glpi} ignoré : aucune base GLPI n’a été fournie.`));
  const ocsTarget = ocsSourceGui !== undefined ? resolveOcsTarget(c, targets.ocs) : undefined;
  if (ocsSourceGui === undefined && targets.ocs)
    notes.push(tx(`--ocs-target ${targets.ocs} ignored: no OCS database was given.`, `--ocs-target ${targets.ocs} ignoré : aucune base OCS n’a été fournie.`));
  if (glpiSource && glpiTarget && cmp(glpiTarget, glpiSource) < 0) {
    throw new DowngradeError(`GLPI target ${glpiTarget} is older than the database (${glpiSource}): GLPI cannot be downgraded`);
  }
  if (ocsTarget && ocsSourceGui !== undefined && ocsTarget.gui_version < ocsSourceGui) {
    throw new DowngradeError(`OCS target ${ocsTarget.version} (GUI_VERSION ${ocsTarget.gui_version}) is older than the database (GUI_VERSION ${ocsSourceGui}): OCS cannot be downgraded`);
  }
  const sourceMode: ConnectorMode = input.glpi?.connector.mode ?? 'none';
  let connector: ConnectorTarget = targets.connector ?? (sourceMode === 'none' ? 'none' : 'plugin');
  if (!input.glpi && connector !== 'none') {
    notes.push(tx('No GLPI database: no connector step.', 'Pas de base GLPI : aucune étape d’interconnexion.'));
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
      notes.push(tx(`GLPI is already at the target ${glpiTarget}: no GLPI update step.`, `GLPI est déjà à la version cible ${glpiTarget} : aucune étape de mise à jour de GLPI.`));
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
    notes.push(
      ocsAfterGroup >= 0
        ? tx(
            `OCS steps come after the connector plugin that reads the target OCS schema is in place (${plugin?.title ?? 'plugin'}): an older connector cannot read OCS ≥ 2.8 (the softwares table is gone).`,
            `Les étapes OCS viennent après la mise en place du greffon d’interconnexion capable de lire le schéma OCS cible (${plugin?.titleFr ?? 'greffon'}) : un connecteur plus ancien ne sait pas lire OCS à partir de la 2.8 (la table softwares n’existe plus).`,
          )
        : tx('OCS steps come first: they do not depend on any GLPI step here.', 'Les étapes OCS viennent en premier : elles ne dépendent ici d’aucune étape GLPI.'),
    );
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
    notes: notes.map((n) => n.en),
    notesFr: notes.map((n) => n.fr),
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
  const parts = [
    tx(
      `GLPI ${route}: ${n} hop${n > 1 ? 's' : ''}, the fewest the maintainers' updaters support.`,
      `GLPI ${route} : ${n} saut${n > 1 ? 's' : ''}, le plus petit nombre que permettent les outils de mise à jour des mainteneurs.`,
    ),
  ];
  for (const h of hops) {
    parts.push(
      tx(
        `${h.to}'s updater accepts databases from ${h.branch.updater.accepts_from} and runs every migration from ${h.from} itself.`,
        `L’outil de mise à jour de la ${h.to} accepte les bases à partir de la ${h.branch.updater.accepts_from} et enchaîne lui-même toutes les migrations depuis la ${h.from}.`,
      ),
    );
  }
  const sourceBranch = glpiBranchOf(ctx.c, source)!.branch;
  const skipped = ctx.c.glpi.branches.filter((b) => cmp(b.branch, sourceBranch) > 0 && cmp(b.branch, glpiBranchOf(ctx.c, target)!.branch) <= 0 && !hops.some((h) => h.branch === b));
  if (skipped.length) {
    const list = skipped.map((b) => b.branch);
    const advice = 'GLPI recommande lui-même de mettre à jour les bases anciennes en passant par la 10.0.x (PR #13845, ticket #15983).';
    parts.push(
      tx(
        `Intermediate branches ${list.join(', ')} are not installed: each would need its own PHP stack, and GLPI's own advice is to update old databases through 10.0.x (PR #13845, issue #15983).`,
        list.length > 1
          ? `Les branches intermédiaires ${frList(list)} ne sont pas installées : chacune exigerait sa propre pile PHP, et ${advice}`
          : `La branche intermédiaire ${list[0]} n’est pas installée : elle exigerait sa propre pile PHP, et ${advice}`,
      ),
    );
  }
  const newest = ctx.c.glpi.branches[ctx.c.glpi.branches.length - 1];
  if (cmp(target, newest.latest) < 0) {
    parts.push(
      tx(
        `Target ${target} was asked for; the newest release in the catalog is ${newest.latest}.`,
        `La cible ${target} a été demandée ; la version la plus récente du catalogue est la ${newest.latest}.`,
      ),
    );
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
  const why: Text[] = [
    tx(
      `Updates the GLPI database from ${hop.from} to ${hop.to} with the updater of ${hop.to} (${updater}), which accepts databases from ${b.updater.accepts_from}.`,
      `Met à jour la base GLPI de la ${hop.from} à la ${hop.to} avec l’outil de mise à jour de la ${hop.to} (${updater}), qui accepte les bases à partir de la ${b.updater.accepts_from}.`,
    ),
  ];
  if (crossed.length > 1) {
    const list = crossed.map((x) => x.branch);
    why.push(tx(`It runs the migrations of ${list.join(', ')} in one go.`, `Il enchaîne en une seule fois les migrations des branches ${frList(list)}.`));
  }
  if (cmp(b.branch, '10.0') >= 0) {
    why.push(
      tx(
        `It first checks the schema against GLPI's reference for ${hop.from} and refuses (exit 4) on drift.`,
        `Il compare d’abord le schéma à la référence de GLPI pour la ${hop.from} et refuse de poursuivre (code de sortie 4) en cas d’écart.`,
      ),
    );
  }
  if (!b.updater.official_cli) {
    why.push(
      tx(
        `${entry} is not in the release archive: take it from GLPI's git tag ${hop.to}, or run the web updater (install/update.php).`,
        `${entry} ne figure pas dans l’archive de la version : le prendre dans l’étiquette git ${hop.to} de GLPI, ou passer par la mise à jour web (install/update.php).`,
      ),
    );
  }
  if (crossing084 && mode === 'core-0.83') {
    why.push(
      tx(
        'Its 0.84 migration takes OCS mode out of the core: glpi_ocs* tables become ocs_glpi_* (kept for the ocsinventoryng plugin), is_ocs_import becomes is_dynamic, OCS rules, cron task and display preferences are copied to ocs_glpi_* and deleted from the core tables.',
        'Sa migration 0.84 sort le mode OCS du cœur de GLPI : les tables glpi_ocs* deviennent ocs_glpi_* (conservées pour le greffon ocsinventoryng), is_ocs_import devient is_dynamic, et les règles OCS, la tâche automatique et les préférences d’affichage sont copiées dans les tables ocs_glpi_* puis supprimées des tables du cœur.',
      ),
    );
  }
  if (b.notes) why.push(tx(b.notes, b.notes_fr ?? b.notes));
  const hazards = glpiHazards(c, hop);
  if (crossing084 && mode === 'core-0.83') hazards.push('glpi.duplicates.displaypreferences');
  return {
    id: `glpi-${hop.to}-db-update`,
    product: 'glpi',
    database: 'glpi',
    title: `GLPI ${hop.from} → ${hop.to} (${entry === 'bin/console' ? b.updater.command : entry})`,
    titleFr: `GLPI ${hop.from} → ${hop.to} (${entry === 'bin/console' ? b.updater.command : entry})`,
    runner,
    from: hop.from,
    to: hop.to,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'glpi', version: hop.to } },
    before: [],
    expected: effects(changes, rows, 'all'),
    hazards: uniq(hazards),
    explanation: joined(why).en,
    explanationFr: joined(why).fr,
    shell: [consoleShell(b, hop.to, b.updater.command ?? '', b.updater.args, entry)],
  };
}

function conversionSteps(ctx: Ctx, release: string, b: GlpiBranch): PlanStep[] {
  return (b.conversions ?? []).map((conv, i, all) => ({
    id: `glpi-${release}-${conv.command.replace(/^migration:/, '').replace(/_/g, '-')}`,
    product: 'glpi' as const,
    database: 'glpi' as const,
    title: `GLPI ${release}: ${conv.command}`,
    titleFr: `GLPI ${release} : ${conv.command}`,
    runner: { kind: 'glpi-console' as const, release, command: conv.command, args: [...conv.args] },
    from: release,
    to: release,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'glpi' as const, version: release } },
    before: [],
    expected: { tablesTouched: 'all' as const },
    hazards: uniq(ctx.c.glpi.hazards.filter((h) => h.at === 'conversion' && h.command === conv.command).map((h) => h.id)),
    explanation:
      `Conversion ${i + 1} of ${all.length} GLPI ${b.branch} asks for after an update from an older release: ${conv.what ?? conv.command}. ` +
      'It changes no row count; it only touches glpi_% tables (ocs_glpi_* stay as they are). Order as in the real run: myisam_to_innodb, dynamic_row_format, utf8mb4, unsigned_keys, timestamps.',
    explanationFr:
      `Conversion ${i + 1} sur ${all.length} que GLPI ${b.branch} demande après une mise à jour depuis une version antérieure : ${conv.what_fr ?? conv.what ?? conv.command}. ` +
      'Elle ne change aucun nombre de lignes et ne touche que les tables glpi_% (les tables ocs_glpi_* restent en l’état). Ordre identique à celui de l’exécution réelle : myisam_to_innodb, dynamic_row_format, utf8mb4, unsigned_keys, timestamps.',
    shell: [consoleShell(b, release, conv.command, conv.args, 'bin/console')],
  }));
}

function checkStep(_ctx: Ctx, release: string, b: GlpiBranch): PlanStep {
  const chk = b.check!;
  return {
    id: `glpi-${release}-check-schema`,
    product: 'glpi',
    database: 'glpi',
    title: `GLPI ${release}: ${chk.command} ${chk.args.filter((a) => a !== '-n').join(' ')}`.trim(),
    titleFr: `GLPI ${release} : ${chk.command} ${chk.args.filter((a) => a !== '-n').join(' ')}`.trim(),
    runner: { kind: 'glpi-console', release, command: chk.command, args: [...chk.args] },
    from: release,
    to: release,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'glpi', version: release } },
    before: [],
    expected: { tablesTouched: [] },
    hazards: [],
    explanation: `Read-only proof for the dossier: the database now matches GLPI ${release}'s reference schema, conversions included (exit 0 = "Database schema is OK", 2 = differences).`,
    explanationFr: `Preuve en lecture seule pour le dossier : la base correspond désormais au schéma de référence de GLPI ${release}, conversions comprises (code de sortie 0 : schéma conforme ; 2 : écarts).`,
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
    ctx.notes.push(
      tx(
        `No ocsinventoryng release supports GLPI ${glpiRelease}: the connector waits for a later step.`,
        `Aucune version d’ocsinventoryng ne prend en charge GLPI ${glpiRelease} : l’interconnexion attend une étape ultérieure.`,
      ),
    );
    return undefined;
  }
  const carriesCore = mode === 'renamed-0.84' || mode === 'core-0.83';
  if (mode === 'plugin' && installed && cmp(installed, p.version) >= 0) return undefined;
  if (mode === 'none' && !lastHop) return undefined; // fresh install: only on the final GLPI release
  const update = mode === 'plugin';
  const cm = c.plugin.coreMigration;
  const why: Text[] = [];
  if (carriesCore) {
    why.push(
      tx(
        `Installs ocsinventoryng ${p.version}, the release for GLPI ${b.branch} (accepts ${p.glpi_min} ≤ GLPI < ${p.glpi_max_exclusive}). Its install finds the ocs_glpi_* tables left by GLPI's 0.84 migration and carries the OCS servers, links, admin-info links, registry keys, OCS rules, cron task and display preferences into its own tables, then drops the ocs_glpi_* copies it consumed (the rules copies stay).`,
        `Installe ocsinventoryng ${p.version}, la version du greffon prévue pour GLPI ${b.branch} (compatible avec GLPI à partir de la ${p.glpi_min}, jusqu’à la ${p.glpi_max_exclusive} exclue). Son installation trouve les tables ocs_glpi_* laissées par la migration 0.84 de GLPI et reprend dans ses propres tables les serveurs OCS, les liens, les liens d’informations administratives, les clés de registre, les règles OCS, la tâche automatique et les préférences d’affichage, puis supprime les copies ocs_glpi_* qu’elle a reprises (les copies des règles restent).`,
      ),
    );
    if (p.proven) why.push(tx(`Proven: ${p.proven}.`, `Validé par un essai réel : ${p.proven_fr ?? p.proven}.`));
    why.push(
      tx(
        'Dump the ocs_glpi_* tables first: the install consumes them, and the checks after it compare against them.',
        'Sauvegarder d’abord les tables ocs_glpi_* : l’installation les consomme, et les contrôles qui la suivent s’y comparent.',
      ),
    );
  } else if (update) {
    why.push(
      tx(
        `Updates ocsinventoryng ${installed ?? '(unknown version)'} → ${p.version}, the release for GLPI ${b.branch}; its install hook runs the plugin's cumulative migrations.`,
        `Met à jour ocsinventoryng de ${installed ?? '(version inconnue)'} à ${p.version}, la version du greffon prévue pour GLPI ${b.branch} ; sa procédure d’installation exécute les migrations cumulées du greffon.`,
      ),
    );
  } else {
    why.push(
      tx(
        `Installs ocsinventoryng ${p.version} fresh (no connector data to carry), the release for GLPI ${b.branch}.`,
        `Installe ocsinventoryng ${p.version} à neuf (aucune donnée d’interconnexion à reprendre), la version du greffon prévue pour GLPI ${b.branch}.`,
      ),
    );
  }
  if (cmp(b.branch, '11.0') >= 0) {
    why.push(tx('GLPI 11 suspends plugins during db:update: install and activate again.', 'GLPI 11 suspend les greffons pendant db:update : il faut de nouveau installer et activer le greffon.'));
  }
  if (p.install === 'web') {
    why.push(
      tx(
        `GLPI ${glpiRelease} has no plugin command line: install it from the web interface (Setup > Plugins), logged in as a super-admin.`,
        `GLPI ${glpiRelease} n’a pas de commande pour les greffons : l’installer depuis l’interface web (Configuration > Plugins), connecté avec un compte super-admin.`,
      ),
    );
  }
  if (ocsTarget && p.ocs_gui_max !== undefined && ocsTarget.gui_version > p.ocs_gui_max) {
    why.push(
      tx(
        `This release reads OCS only up to GUI_VERSION ${p.ocs_gui_max}: the OCS upgrade waits for a later plugin.`,
        `Cette version ne lit OCS que jusqu’à GUI_VERSION ${p.ocs_gui_max} : la mise à jour d’OCS attend une version ultérieure du greffon.`,
      ),
    );
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
    title: `${update ? 'Update' : 'Install'} ocsinventoryng ${p.version} on GLPI ${glpiRelease}`,
    titleFr: update ? `Mise à jour du greffon ocsinventoryng en ${p.version} sur GLPI ${glpiRelease}` : `Installation du greffon ocsinventoryng ${p.version} sur GLPI ${glpiRelease}`,
    runner: { kind: 'plugin-install', pluginVersion: p.version, glpiRelease },
    from: update ? (installed ?? 'plugin') : carriesCore ? 'ocs_glpi_*' : 'none',
    to: p.version,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'connector', version: p.version } },
    before: [],
    expected: carriesCore ? { tablesCreated: [...cm.created], tablesDropped: [...cm.dropped], tablesTouched: 'all' } : { tablesTouched: 'all' },
    hazards: uniq(hazards),
    explanation: joined(why).en,
    explanationFr: joined(why).fr,
    shell,
  };
  return { step, plugin: p };
}

function explainConnector(ctx: Ctx, source: ConnectorMode, target: ConnectorTarget, installed: string | undefined, ocsTarget: OcsRelease | undefined): void {
  const { notes } = ctx;
  if (target === 'plugin') {
    if (source === 'core-0.83' || source === 'renamed-0.84') {
      notes.push(
        tx(
          "Connector: GLPI's 0.84 migration renames the 0.83 core OCS tables to ocs_glpi_*; the ocsinventoryng plugin release of the GLPI step reached then carries them into its tables. This late migration was rehearsed for real (GLPI 10.0.19 + plugin 2.0.5: servers, links, rules, cron task kept; the OCS password and profile rights need the fixes listed as hazards). The alternative, migrating at a 0.84 hop with plugin 1.0.x (--glpi-via 0.84.8), needs a PHP 5 stack and the web interface, and was not rehearsed.",
          'Interconnexion : la migration 0.84 de GLPI renomme en ocs_glpi_* les tables OCS du cœur de GLPI 0.83 ; la version du greffon ocsinventoryng correspondant à la version de GLPI atteinte les reprend ensuite dans ses propres tables. Cette migration tardive a été répétée en conditions réelles (GLPI 10.0.19 et greffon 2.0.5 : serveurs, liens, règles et tâche automatique conservés ; le mot de passe OCS et les droits des profils demandent les corrections indiquées parmi les risques). L’autre voie, une migration lors d’un saut par la 0.84 avec le greffon 1.0.x (--glpi-via 0.84.8), exige une pile PHP 5 et l’interface web, et n’a pas été répétée.',
        ),
      );
    }
    if (installed) {
      notes.push(
        tx(
          `Connector at the end: ocsinventoryng ${installed}${ocsTarget ? `, which reads OCS ${ocsTarget.version} (OCS ≥ 2.8 needs plugin ≥ 1.7.1)` : ''}.`,
          `Interconnexion à l’arrivée : ocsinventoryng ${installed}${ocsTarget ? `, qui lit OCS ${ocsTarget.version} (à partir d’OCS 2.8, il faut le greffon 1.7.1 ou plus récent)` : ''}.`,
        ),
      );
    }
  } else if (target === 'native') {
    notes.push(
      tx(
        "Connector: GLPI's native inventory (GLPI Agent) is the maintainers' recommended direction for new setups, but nothing migrates OCS data into it: agents are redeployed and computers are inventoried again. No connector step is planned; the ocs_glpi_* / plugin tables are left as they are (archive or drop them after acceptance).",
        'Interconnexion : l’inventaire natif de GLPI (GLPI Agent) est la voie que recommandent les mainteneurs pour les nouvelles installations, mais rien n’y migre les données OCS : les agents sont redéployés et les ordinateurs inventoriés de nouveau. Aucune étape d’interconnexion n’est prévue ; les tables ocs_glpi_* et celles du greffon restent en l’état (les archiver ou les supprimer après la recette).',
      ),
    );
  } else if (source !== 'none') {
    notes.push(
      tx(
        "Connector: none asked for; the connector data is left as it is (GLPI's updates deactivate plugins).",
        'Interconnexion : aucune n’est demandée ; les données d’interconnexion restent en l’état (les mises à jour de GLPI désactivent les greffons).',
      ),
    );
  }
}

// ----------------------------------------------------------------------------------------------- OCS

function buildOcsSteps(ctx: Ctx, sourceGui: number, target: OcsRelease): PlanStep[] {
  const { c, notes } = ctx;
  const steps: PlanStep[] = [];
  const bridge = c.ocs.bridge;
  let cur = sourceGui;
  if (target.gui_version === sourceGui) {
    notes.push(
      tx(`OCS is already at the target ${target.version} (GUI_VERSION ${sourceGui}): no OCS step.`, `OCS est déjà à la version cible ${target.version} (GUI_VERSION ${sourceGui}) : aucune étape OCS.`),
    );
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
      title: `OCS ${cur} → ${bridge.to_gui_version}: ${bridge.file} of OCS ${bridge.release} (bridge)`,
      titleFr: `OCS ${cur} → ${bridge.to_gui_version} : script de passage ${bridge.file} d’OCS ${bridge.release}`,
      runner: { kind: 'ocs-bridge', toGuiVersion: 7006 },
      from: String(cur),
      to: String(bridge.to_gui_version),
      requires: { ...dbRequirements(rel), distribution: dist(bridge.release) },
      before: [],
      expected: effects(composeTableChanges([bridge]), bridge.rows_deleted ?? [], 'all'),
      hazards: [...(bridge.hazards ?? []), 'ocs.install-php.never'],
      explanation: `No update file exists below 7007: GUI_VERSION ${cur} is brought to ${bridge.to_gui_version} by ${bridge.file} of OCS ${bridge.release}, the last re-runnable CREATE + ALTER script. ${bridge.notes}`,
      explanationFr: `Aucun fichier de mise à jour n’existe en deçà de 7007 : GUI_VERSION ${cur} est porté à ${bridge.to_gui_version} par le ${bridge.file} d’OCS ${bridge.release}, le dernier script CREATE + ALTER qui puisse être rejoué. ${bridge.notes_fr}`,
      shell: [`mysql --force --default-character-set=utf8 --init-command="SET sql_mode='${bridge.sql_mode}'" ${ctx.ocsDb} < <ocsreports-${bridge.release}>/${bridge.file}`],
    });
    cur = bridge.to_gui_version;
    notes.push(
      tx(
        `OCS: GUI_VERSION ${sourceGui} has no update file; the bridge (${bridge.file} of OCS ${bridge.release}) brings it to ${bridge.to_gui_version}, then every files/update/NNNN.sql up to ${target.gui_version} runs one by one. The install.php of later releases is never used: 2.3–2.5 skip update files, 2.6–2.8 loop, 2.8.1+ drop every table.`,
        `OCS : GUI_VERSION ${sourceGui} n’a pas de fichier de mise à jour ; le script de passage (${bridge.file} d’OCS ${bridge.release}) porte la base à ${bridge.to_gui_version}, puis les fichiers files/update/NNNN.sql jusqu’à ${target.gui_version} s’exécutent l’un après l’autre. Le script install.php des versions ultérieures n’est jamais utilisé : celui des 2.3 à 2.5 saute des fichiers de mise à jour, celui des 2.6 à 2.8 tourne en boucle, et à partir de la 2.8.1 il supprime toutes les tables.`,
      ),
    );
  } else if (cur === bridge.to_gui_version) {
    notes.push(
      tx(
        `OCS: GUI_VERSION ${cur} (2.1.2's 7006 adds snmp_mibs, the bridge's adds plugins; 7009 and 7011 make both converge), so the update files start at ${cur + 1}.`,
        `OCS : GUI_VERSION ${cur} (la 7006 de la 2.1.2 ajoute snmp_mibs, celle du script de passage ajoute plugins ; 7009 et 7011 font converger les deux), les fichiers de mise à jour commencent donc à ${cur + 1}.`,
      ),
    );
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
    const why: Text[] = [
      tx(
        `Applies ${fileName} (part of OCS ${rel.version}) and sets GUI_VERSION to ${f.gui_version}; statements split on ';' like the official updater, but a real error stops the plan.`,
        `Applique ${fileName} (livré avec OCS ${rel.version}) et porte GUI_VERSION à ${f.gui_version} ; les instructions sont découpées sur « ; » comme le fait l’installateur officiel, mais une véritable erreur arrête le plan.`,
      ),
    ];
    if (f.notes) why.push(tx(`${f.notes.charAt(0).toUpperCase() + f.notes.slice(1)}.`, `${sentence(f.notes_fr ?? f.notes)}.`));
    steps.push({
      id: `ocs-${f.gui_version}`,
      product: 'ocs',
      database: 'ocs',
      title: `OCS ${f.gui_version - 1} → ${f.gui_version}: ${fileName}`,
      titleFr: `OCS ${f.gui_version - 1} → ${f.gui_version} : ${fileName}`,
      runner: { kind: 'ocs-update-file', guiVersion: f.gui_version, file: fileName },
      from: String(f.gui_version - 1),
      to: String(f.gui_version),
      requires: { ...dbRequirements(req), distribution: dist(target.version) },
      before: [],
      expected: effects(composeTableChanges([f]), f.rows_deleted ?? [], 'all'),
      hazards: [...(f.hazards ?? [])],
      explanation: joined(why).en,
      explanationFr: joined(why).fr,
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
        title: `OCS ${ch.gui_version}: PHP-side change ${ch.function}()`,
        titleFr: `OCS ${ch.gui_version} : modification de schéma faite en PHP par ${ch.function}()`,
        runner: { kind: 'ocs-php-change', guiVersion: ch.gui_version, change: ch.id },
        from: String(ch.gui_version),
        to: String(ch.gui_version),
        requires: {},
        before: [],
        expected: { tablesTouched: ch.tables.every((t) => /^[a-z_]+$/.test(t)) ? [...ch.tables] : 'all' },
        hazards: [],
        explanation: `The OCS console does this in PHP (${ch.function}() on every page), not in an update file: the tool replicates it at GUI_VERSION ${ch.gui_version}. ${ch.what}${ch.only_if ? ` (only when ${ch.only_if})` : ''}.${ch.notes ? ` ${ch.notes}.` : ''}`,
        explanationFr:
          `La console OCS fait cette modification en PHP (${ch.function}(), à chaque affichage de page) et non dans un fichier de mise à jour : l’outil la reproduit à GUI_VERSION ${ch.gui_version}. ` +
          `${sentence(ch.what_fr)}${ch.only_if ? ` (seulement si ${ch.only_if_fr ?? ch.only_if})` : ''}.${ch.notes ? ` ${sentence(ch.notes_fr ?? ch.notes)}.` : ''}`,
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
    notes.push(
      tx(
        `OCS: ${n} step(s) up to ${target.version} (GUI_VERSION ${target.gui_version}); the update files come from the OCS ${target.version} distribution (--ocs-dist). Upgrade the Perl communication server to the same release before agents send inventories.`,
        `OCS : ${n} étape${n > 1 ? 's' : ''} jusqu’à la ${target.version} (GUI_VERSION ${target.gui_version}) ; les fichiers de mise à jour proviennent de la distribution d’OCS ${target.version} (--ocs-dist). Mettre le serveur de communication Perl à la même version avant que les agents n’envoient leurs inventaires.`,
      ),
    );
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
      title: `Corrective migration ${m.id}`,
      titleFr: `Migration corrective ${m.id}`,
      runner: { kind: 'corrective-migration', migration: m.id },
      from: target.from,
      to: target.from,
      requires: {},
      before: [],
      expected: { tablesTouched: [...m.touches] },
      hazards: [...m.fixes],
      explanation: `${m.title.en}. Runs only when its pre-check finds something to fix, before ${target.id}; its post-check must then return 0 (migrations/corrective/${m.id}.yaml).`,
      explanationFr: `${sentence(m.title.fr)}. Ne s’exécute que si son contrôle préalable trouve quelque chose à corriger, avant l’étape ${target.id} ; son contrôle final doit alors renvoyer 0 (migrations/corrective/${m.id}.yaml).`,
      shell: [`-- on the ${m.database} database, when "${sqlFor(ctx, m, m.precheck)}" returns more than 0:`, ...m.statements.map((x) => sqlFor(ctx, m, x))],
    });
    included.push(m.id);
  }
  if (!migrations.length) ctx.notes.push(tx('Corrective migrations: none in migrations/corrective/ yet.', 'Migrations correctives : aucune dans migrations/corrective/ pour l’instant.'));
  else {
    if (included.length) {
      ctx.notes.push(
        tx(
          `Corrective migrations planned (each runs only if its pre-check finds something): ${included.join(', ')}.`,
          `Migrations correctives prévues (chacune ne s’exécute que si son contrôle préalable trouve quelque chose) : ${included.join(', ')}.`,
        ),
      );
    }
    if (skipped.length) {
      ctx.notes.push(
        tx(
          `Corrective migrations not applicable to this plan (no step of the kind they precede): ${skipped.join(', ')}.`,
          `Migrations correctives sans objet pour ce plan (aucune étape du type qu’elles précèdent) : ${skipped.join(', ')}.`,
        ),
      );
    }
  }
  return out;
}
