/**
 * The upgrade catalog: GLPI releases (migrations/glpi-releases.yaml), OCS releases (ocs-releases.yaml),
 * the OCS bridge, update files and PHP-side changes (ocs-updates.yaml), the ocsinventoryng plugin
 * releases (ocsinventoryng-releases.yaml). Every file is validated on load (its schema in
 * src/formats/catalog.ts, then the cross-checks here); a broken entry ends in a CatalogError naming the file,
 * the path and what is wrong.
 *
 * Adding a release is adding entries to these files, not code.
 */
import { ExitCode, ToolError } from '../errors.ts';
import { compareDotted, sameVersion } from './version.ts';
import { MIGRATIONS_DIR } from './ocs-releases.ts';
import { isMapping } from '../formats/schema.ts';
import { glpiReleasesSchema, ocsReleasesSchema, ocsUpdatesSchema, pluginReleasesSchema, readCatalogFile } from '../formats/catalog.ts';
import type { GlpiBranch, GlpiHazard, HazardText, OcsBridge, OcsPhpChange, OcsRelease, OcsUpdateFile, PluginCoreMigration, PluginRelease } from '../formats/catalog.ts';

/** The catalog itself is broken (a file of migrations/): exit 1, the message names file and path. */
export class CatalogError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.INTERNAL, { hint: options?.hint ?? 'fix the catalog file named above (see docs/plan.md, "The catalog")', cause: options?.cause });
  }
}

// ---------------------------------------------------------------------------------------------- types

export type {
  GlpiBranch,
  GlpiConsoleCommand,
  GlpiHazard,
  GlpiUpdaterEntry,
  HazardText,
  OcsBridge,
  OcsPhpChange,
  OcsRelease,
  OcsUpdateFile,
  PluginCoreMigration,
  PluginRelease,
  RowsDeleted,
  TableChanges,
} from '../formats/catalog.ts';

export interface Catalog {
  dir: string;
  glpi: { branches: GlpiBranch[]; hazards: GlpiHazard[] };
  ocs: { releases: OcsRelease[]; bridge: OcsBridge; updateFiles: OcsUpdateFile[]; phpChanges: OcsPhpChange[]; hazards: HazardText[] };
  plugin: { releases: PluginRelease[]; coreMigration: PluginCoreMigration; hazards: HazardText[] };
}

// ---------------------------------------------------------------------------------------------- loading

export const CATALOG_FILES = {
  glpi: 'glpi-releases.yaml',
  ocsReleases: 'ocs-releases.yaml',
  ocsUpdates: 'ocs-updates.yaml',
  plugin: 'ocsinventoryng-releases.yaml',
} as const;

/** Cross-entry checks that a schema cannot express. Each failure names the file and the entry. */
function crossCheck(c: Catalog): void {
  const fail = (file: string, what: string): never => {
    throw new CatalogError(`${file}: ${what}`);
  };
  // Texts that flow into the plan's explanations need their French twin: the French dossier and DAT print them.
  const french = (file: string, at: string, o: object, keys: string[]) => {
    if (!isMapping(o)) return;
    for (const k of keys) {
      const fr = o[`${k}_fr`];
      if (o[k] !== undefined && (typeof fr !== 'string' || !fr.trim())) fail(file, `${at}.${k}_fr is required with ${k} (the French documents print it)`);
      if (o[k] === undefined && fr !== undefined) fail(file, `${at}.${k}_fr is given without ${k}`);
    }
  };
  const g = CATALOG_FILES.glpi;
  c.glpi.branches.forEach((b, i) => {
    const at = `branches[${i}] (${b.branch})`;
    french(g, at, b, ['notes']);
    for (const [k, conv] of (b.conversions ?? []).entries()) french(g, `${at}.conversions[${k}]`, conv, ['what']);
    if (b.check) french(g, `${at}.check`, b.check, ['what']);
    if (!b.releases.some((r) => sameVersion(r, b.latest))) fail(g, `${at}.latest ${b.latest} is not in its releases list`);
    for (const r of b.releases) {
      if (!(r === b.branch || r.startsWith(`${b.branch}.`))) fail(g, `${at}.releases: ${r} does not belong to branch ${b.branch}`);
    }
    for (let k = 1; k < b.releases.length; k++) {
      if (compareDotted(b.releases[k - 1], b.releases[k]) > 0) fail(g, `${at}.releases: ${b.releases[k - 1]} is listed before ${b.releases[k]}`);
    }
    if (i > 0 && compareDotted(c.glpi.branches[i - 1].branch, b.branch) >= 0) fail(g, `${at}: branches must be in ascending order (after ${c.glpi.branches[i - 1].branch})`);
    if (b.updater.entry === 'bin/console' && !b.updater.command) fail(g, `${at}.updater.command is required with entry bin/console`);
    if (b.updater.entry !== 'bin/console' && (b.conversions || b.check)) fail(g, `${at}: conversions and check need entry bin/console`);
    if (compareDotted(b.updater.accepts_from, b.branch) > 0) fail(g, `${at}.updater.accepts_from ${b.updater.accepts_from} is newer than the branch itself`);
  });
  const branchNames = new Set(c.glpi.branches.map((b) => b.branch));
  c.glpi.hazards.forEach((h, i) => {
    const br = h.crosses ?? h.hop_into;
    if (h.at === 'db-update' && !br) fail(g, `hazards[${i}] (${h.id}): a db-update hazard needs crosses or hop_into`);
    if (br && !branchNames.has(br)) fail(g, `hazards[${i}] (${h.id}): branch ${br} is not in the catalog`);
    if (h.at === 'conversion' && !h.command) fail(g, `hazards[${i}] (${h.id}): a conversion hazard needs command`);
  });

  const r = CATALOG_FILES.ocsReleases;
  c.ocs.releases.forEach((rel, i) => {
    if (i > 0 && rel.gui_version < c.ocs.releases[i - 1].gui_version) fail(r, `releases[${i}] (${rel.version}): gui_version ${rel.gui_version} is lower than the previous release's`);
    if (i > 0 && compareDotted(rel.version, c.ocs.releases[i - 1].version) <= 0) fail(r, `releases[${i}] (${rel.version}): versions must be in ascending order`);
  });
  const u = CATALOG_FILES.ocsUpdates;
  const files = c.ocs.updateFiles;
  const first = c.ocs.bridge.to_gui_version + 1;
  files.forEach((f, i) => {
    french(u, `update_files[${i}] (${f.gui_version})`, f, ['notes']);
    if (f.gui_version !== first + i)
      fail(u, `update_files[${i}]: expected gui_version ${first + i} (the files follow each other from the bridge's ${c.ocs.bridge.to_gui_version} without gap), got ${f.gui_version}`);
  });
  const last = files[files.length - 1].gui_version;
  for (const rel of c.ocs.releases) {
    if (rel.gui_version > last) fail(r, `release ${rel.version} has gui_version ${rel.gui_version} but ${u} stops at ${last}`);
  }
  const hazardIds = new Set(c.ocs.hazards.map((h) => h.id));
  for (const f of files) for (const h of f.hazards ?? []) if (!hazardIds.has(h)) fail(u, `update file ${f.gui_version}: hazard ${h} is not defined under hazards`);
  for (const h of c.ocs.bridge.hazards ?? []) if (!hazardIds.has(h)) fail(u, `bridge: hazard ${h} is not defined under hazards`);
  c.ocs.phpChanges.forEach((p, i) => {
    french(u, `php_changes[${i}] (${p.id})`, p, ['only_if', 'notes']);
    if (p.gui_version < first || p.gui_version > last) fail(u, `php_changes[${i}] (${p.id}): gui_version ${p.gui_version} is outside ${first}…${last}`);
  });
  if (!c.ocs.releases.some((rel) => rel.version === c.ocs.bridge.release)) fail(u, `bridge.release ${c.ocs.bridge.release} is not in ${r}`);

  const p = CATALOG_FILES.plugin;
  const pluginHazards = new Set(c.plugin.hazards.map((h) => h.id));
  for (const h of c.plugin.coreMigration.hazards) if (!pluginHazards.has(h)) fail(p, `core_migration.hazards: ${h} is not defined under hazards`);
  c.plugin.releases.forEach((rel, i) => {
    french(p, `releases[${i}] (${rel.version})`, rel, ['proven']);
    if (compareDotted(rel.glpi_min, rel.glpi_max_exclusive) >= 0) fail(p, `releases[${i}] (${rel.version}): glpi_min ${rel.glpi_min} must be lower than glpi_max_exclusive ${rel.glpi_max_exclusive}`);
    if (i > 0 && compareDotted(rel.version, c.plugin.releases[i - 1].version) <= 0) fail(p, `releases[${i}] (${rel.version}): versions must be in ascending order`);
  });
}

const caches = new Map<string, Catalog>();

/** Loads and validates the whole catalog (cached per directory). Throws CatalogError on any problem. */
export function loadCatalog(dir: string = MIGRATIONS_DIR): Catalog {
  const hit = caches.get(dir);
  if (hit) return hit;
  const invalid = (message: string, cause?: unknown) => new CatalogError(message, { cause });
  const glpi = readCatalogFile(dir, CATALOG_FILES.glpi, glpiReleasesSchema, invalid);
  const ocsReleases = readCatalogFile(dir, CATALOG_FILES.ocsReleases, ocsReleasesSchema, invalid);
  const ocsUpdates = readCatalogFile(dir, CATALOG_FILES.ocsUpdates, ocsUpdatesSchema, invalid);
  const plugin = readCatalogFile(dir, CATALOG_FILES.plugin, pluginReleasesSchema, invalid);
  const catalog: Catalog = {
    dir,
    glpi: { branches: glpi.branches, hazards: glpi.hazards },
    ocs: {
      releases: ocsReleases.releases,
      bridge: ocsUpdates.bridge,
      updateFiles: ocsUpdates.update_files,
      phpChanges: ocsUpdates.php_changes,
      hazards: ocsUpdates.hazards,
    },
    plugin: { releases: plugin.releases, coreMigration: plugin.core_migration, hazards: plugin.hazards },
  };
  crossCheck(catalog);
  caches.set(dir, catalog);
  return catalog;
}

// ---------------------------------------------------------------------------------------------- look-ups

/** The GLPI branch a release belongs to (by its releases list), or undefined. */
export function glpiBranchOf(c: Catalog, version: string): GlpiBranch | undefined {
  return c.glpi.branches.find((b) => b.releases.some((r) => sameVersion(r, version)));
}

export function newestGlpiRelease(c: Catalog): string {
  return c.glpi.branches[c.glpi.branches.length - 1].latest;
}

export function ocsRelease(c: Catalog, version: string): OcsRelease | undefined {
  return c.ocs.releases.find((r) => sameVersion(r.version, version));
}

export function newestOcsRelease(c: Catalog): OcsRelease {
  return c.ocs.releases[c.ocs.releases.length - 1];
}

/** The first release whose GUI_VERSION is at least `gui` (the release that ships update file `gui`). */
export function ocsReleaseShipping(c: Catalog, gui: number): OcsRelease | undefined {
  return c.ocs.releases.find((r) => r.gui_version >= gui);
}

/** The newest plugin release that accepts this GLPI release. */
export function pluginForGlpi(c: Catalog, glpiVersion: string): PluginRelease | undefined {
  const fits = c.plugin.releases.filter((p) => compareDotted(glpiVersion, p.glpi_min) >= 0 && compareDotted(glpiVersion, p.glpi_max_exclusive) < 0);
  return fits[fits.length - 1];
}

export function pluginRelease(c: Catalog, version: string): PluginRelease | undefined {
  return c.plugin.releases.find((p) => sameVersion(p.version, version));
}

export function pluginAcceptsOcs(p: PluginRelease, gui: number): boolean {
  return p.ocs_gui_max === undefined || gui <= p.ocs_gui_max;
}

/** All hazard texts by id (GLPI, OCS, plugin). */
export function hazardTexts(c: Catalog): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of [...c.glpi.hazards, ...c.ocs.hazards, ...c.plugin.hazards]) out[h.id] ??= h.text;
  return out;
}
