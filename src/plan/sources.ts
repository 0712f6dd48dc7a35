/** The planner's sources: the GLPI and OCS versions found, checked against the catalog before any route. */
import type { Catalog } from '../catalog/catalog.ts';
import { glpiBranchOf, newestGlpiRelease } from '../catalog/catalog.ts';
import { InconsistentDatabaseError, UnknownVersionError } from './errors.ts';
import type { PlanInput, PlanTableInfo } from './route-common.ts';
import { cmp, uniq } from './route-common.ts';

/** The GLPI release and the OCS GUI_VERSION to plan from; throws a typed error for a database the catalog cannot route. */
export function validateSources(c: Catalog, input: PlanInput): { glpiSource?: string; ocsSourceGui?: number } {
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

  return { glpiSource, ocsSourceGui };
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
