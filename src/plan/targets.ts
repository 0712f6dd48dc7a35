/** The planner's targets: the GLPI release, the OCS release and the connector asked for, resolved in the catalog. */
import type { ConnectorMode } from '../inspect/detect.ts';
import type { Catalog, OcsRelease } from '../catalog/catalog.ts';
import { glpiBranchOf, newestGlpiRelease, newestOcsRelease, ocsRelease } from '../catalog/catalog.ts';
import type { Message } from '../i18n/messages.ts';
import { msg } from '../i18n/messages.ts';
import { DowngradeError, UnknownTargetError } from './errors.ts';
import type { ConnectorTarget, PlanInput, PlanTargets } from './route-common.ts';
import { cmp } from './route-common.ts';

export interface ResolvedTargets {
  glpiTarget?: string;
  ocsTarget?: OcsRelease;
  /** The connector form found in the GLPI database, and the connector to end with. */
  sourceMode: ConnectorMode;
  connector: ConnectorTarget;
}

/** Resolves the targets against the sources (a note for a target without its database); refuses a downgrade or an unknown waypoint. */
export function resolveTargets(c: Catalog, input: PlanInput, targets: PlanTargets, sources: { glpiSource?: string; ocsSourceGui?: number }, notes: Message[]): ResolvedTargets {
  const { glpiSource, ocsSourceGui } = sources;
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

  return { glpiTarget, ocsTarget, sourceMode, connector };
}

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
