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
 * One module per part: sources.ts (the versions found, checked), targets.ts (the targets resolved),
 * route-glpi.ts, route-connector.ts, route-ocs.ts (the three routes), corrective-steps.ts (corrective
 * migrations placed), route-common.ts (input, context and effects helpers); this file orders the steps.
 *
 * Every text for people (step titles and explanations, notes, reasons for deleted rows) is a message
 * (src/i18n/messages.ts): an id and its parameters, rendered in English or French only where it is shown.
 */
import type { ConnectorMode } from '../inspect/detect.ts';
import { glpiBranchOf, hazardTexts, loadCatalog, pluginAcceptsOcs, pluginRelease } from '../catalog/catalog.ts';
import { loadCorrectiveMigrations } from '../catalog/corrective.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Message } from '../i18n/messages.ts';
import { msg } from '../i18n/messages.ts';
import type { PlanFile, PlanStep } from './plan-types.ts';
import { IncompatibleTargetsError, UnknownVersionError } from './errors.ts';
import type { BuildOptions, Ctx, PlanInput, PlanTargets } from './route-common.ts';
import { cmp } from './route-common.ts';
import { validateSources } from './sources.ts';
import { resolveTargets } from './targets.ts';
import { checkStep, conversionSteps, conversionsNeeded, explainGlpiRoute, glpiHops, glpiUpdateStep } from './route-glpi.ts';
import { explainConnector, pluginStep } from './route-connector.ts';
import { buildOcsSteps } from './route-ocs.ts';
import { insertCorrective } from './corrective-steps.ts';

export type { BuildOptions, ConnectorTarget, PlanInput, PlanTableInfo, PlanTargets } from './route-common.ts';
export { composeTableChanges } from './route-common.ts';
export { tablesOfLaterReleases } from './sources.ts';

export function buildPlan(input: PlanInput, targets: PlanTargets = {}, options: BuildOptions = {}): PlanFile {
  const c = options.catalog ?? loadCatalog();
  const corrective = options.corrective ?? loadCorrectiveMigrations();
  const notes: Message[] = [];
  const ctx: Ctx = { c, input, notes, glpiDb: input.glpi?.database ?? 'glpi', ocsDb: input.ocs?.database ?? 'ocsweb' };
  if (!input.glpi && !input.ocs) throw new UnknownVersionError('nothing to plan: neither a GLPI nor an OCS database was given');

  const { glpiSource, ocsSourceGui } = validateSources(c, input);
  const { glpiTarget, ocsTarget, sourceMode, connector } = resolveTargets(c, input, targets, { glpiSource, ocsSourceGui }, notes);

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
  for (const m of corrective) for (const f of m.fixes) if (!texts[f]) texts[f] = m.title.params.en;
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
