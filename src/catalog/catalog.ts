/**
 * The upgrade catalog: GLPI releases (migrations/glpi-releases.yaml), OCS releases (ocs-releases.yaml),
 * the OCS bridge, update files and PHP-side changes (ocs-updates.yaml), the ocsinventoryng plugin
 * releases (ocsinventoryng-releases.yaml). Every file is validated on load (schema, then cross-checks);
 * a broken entry ends in a CatalogError naming the file, the path and what is wrong.
 *
 * Adding a release is adding entries to these files, not code.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ExitCode, ToolError } from '../errors.ts';
import { compareDotted, sameVersion } from './version.ts';
import { MIGRATIONS_DIR } from './ocs-releases.ts';
import { S, SchemaError, validate } from './validate.ts';
import type { Schema } from './validate.ts';

/** The catalog itself is broken (a file of migrations/): exit 1, the message names file and path. */
export class CatalogError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.INTERNAL, { hint: options?.hint ?? 'fix the catalog file named above (see docs/plan.md, "The catalog")', cause: options?.cause });
  }
}

// ---------------------------------------------------------------------------------------------- types

export interface TableChanges {
  created?: string[];
  dropped?: string[];
  renamed?: Array<{ from: string; to: string }>;
}

export interface RowsDeleted {
  table: string;
  why: string;
  /** The same reason in French (the French dossier prints it). */
  why_fr: string;
}

export type GlpiUpdaterEntry = 'tools/cliupdate.php' | 'scripts/cliupdate.php' | 'bin/console';

export interface GlpiConsoleCommand {
  command: string;
  args: string[];
  what?: string;
  /** `what` in French; required with `what`. */
  what_fr?: string;
}

export interface GlpiBranch {
  branch: string;
  releases: string[];
  latest: string;
  php: string;
  mysql?: string;
  mariadb?: string;
  /** The updater refuses MyISAM tables (11.0: DatabaseTablesEngine requirement). */
  requires_innodb?: boolean;
  updater: { entry: GlpiUpdaterEntry; command?: string; args: string[]; accepts_from: string; official_cli: boolean };
  conversions?: GlpiConsoleCommand[];
  check?: GlpiConsoleCommand;
  reference_schema?: string;
  reference_version?: string;
  schema_changes?: TableChanges;
  rows_deleted?: RowsDeleted[];
  notes?: string;
  /** `notes` in French; required with `notes`. */
  notes_fr?: string;
}

export interface GlpiHazard {
  id: string;
  at: 'db-update' | 'conversion' | 'plugin-install';
  crosses?: string;
  hop_into?: string;
  command?: string;
  text: string;
}

export interface OcsRelease {
  version: string;
  gui_version: number;
  date?: string;
  php: string;
  mysql: string;
  mariadb?: string;
  mysql_max_exclusive?: string;
  notes?: string;
}

export interface OcsUpdateFile extends TableChanges {
  gui_version: number;
  rows_deleted?: RowsDeleted[];
  hazards?: string[];
  requires?: { mysql?: string; mariadb?: string };
  notes?: string;
  /** `notes` in French; required with `notes`. */
  notes_fr?: string;
}

export interface OcsBridge extends TableChanges {
  id: string;
  from_gui_versions: number[];
  to_gui_version: number;
  release: string;
  file: string;
  split: string;
  sql_mode: string;
  rows_deleted?: RowsDeleted[];
  hazards?: string[];
  notes: string;
  notes_fr: string;
}

export interface OcsPhpChange {
  id: string;
  gui_version: number;
  function: string;
  only_if?: string;
  /** `only_if` in French; required with `only_if`. */
  only_if_fr?: string;
  tables: string[];
  what: string;
  what_fr: string;
  notes?: string;
  /** `notes` in French; required with `notes`. */
  notes_fr?: string;
}

export interface PluginRelease {
  version: string;
  glpi_min: string;
  glpi_max_exclusive: string;
  ocs_gui_max?: number;
  install: 'web' | 'console';
  migrates_core: boolean;
  proven?: string;
  /** `proven` in French; required with `proven`. */
  proven_fr?: string;
}

export interface PluginCoreMigration {
  created: string[];
  dropped: string[];
  kept: string[];
  hazards: string[];
}

export interface HazardText {
  id: string;
  text: string;
}

export interface Catalog {
  dir: string;
  glpi: { branches: GlpiBranch[]; hazards: GlpiHazard[] };
  ocs: { releases: OcsRelease[]; bridge: OcsBridge; updateFiles: OcsUpdateFile[]; phpChanges: OcsPhpChange[]; hazards: HazardText[] };
  plugin: { releases: PluginRelease[]; coreMigration: PluginCoreMigration; hazards: HazardText[] };
}

// ---------------------------------------------------------------------------------------------- schemas

const tables = S.list(S.table());
const renamed = S.list(S.obj({ from: S.table(), to: S.table() }));
const rowsDeleted = S.list(S.obj({ table: S.table(), why: S.str(), why_fr: S.str() }));
const consoleCommand = S.obj({
  command: S.str({ pattern: /^[a-z0-9_:]+$/, what: 'a console command like "migration:utf8mb4"' }),
  args: S.list(S.str()),
  what: S.opt(S.str()),
  what_fr: S.opt(S.str()),
});
const hazardText = S.obj({ id: S.str({ pattern: /^[a-z0-9_.-]+$/, what: 'a hazard id like "ocs.batteries.recreated"' }), text: S.str() });

const GLPI_SCHEMA: Schema = S.obj({
  format: S.literal(1),
  branches: S.list(
    S.obj({
      branch: S.str({ pattern: /^\d+\.\d+$/, what: 'a branch like "10.0"' }),
      releases: S.list(S.version(), true),
      latest: S.version(),
      php: S.range(),
      mysql: S.opt(S.version()),
      mariadb: S.opt(S.version()),
      requires_innodb: S.opt(S.bool()),
      updater: S.obj({
        entry: S.oneOf(['tools/cliupdate.php', 'scripts/cliupdate.php', 'bin/console']),
        command: S.opt(S.str()),
        args: S.list(S.str()),
        accepts_from: S.version(),
        official_cli: S.bool(),
      }),
      conversions: S.opt(S.list(consoleCommand, true)),
      check: S.opt(consoleCommand),
      reference_schema: S.opt(S.str({ pattern: /^glpi-[\d.]+-empty\.sql$/, what: 'a file name like glpi-10.0.22-empty.sql' })),
      reference_version: S.opt(S.version()),
      schema_changes: S.opt(S.obj({ created: S.opt(tables), dropped: S.opt(tables), renamed: S.opt(renamed) })),
      rows_deleted: S.opt(rowsDeleted),
      notes: S.opt(S.str()),
      notes_fr: S.opt(S.str()),
    }),
    true,
  ),
  hazards: S.list(
    S.obj({
      id: S.str({ pattern: /^[a-z0-9_.-]+$/, what: 'a hazard id' }),
      at: S.oneOf(['db-update', 'conversion', 'plugin-install']),
      crosses: S.opt(S.str({ pattern: /^\d+\.\d+$/, what: 'a branch' })),
      hop_into: S.opt(S.str({ pattern: /^\d+\.\d+$/, what: 'a branch' })),
      command: S.opt(S.str()),
      text: S.str(),
    }),
  ),
});

const OCS_RELEASES_SCHEMA: Schema = S.obj({
  format: S.literal(1),
  releases: S.list(
    S.obj({
      version: S.version(),
      gui_version: S.int({ min: 1 }),
      date: S.opt(S.str()),
      php: S.range(),
      mysql: S.version(),
      mariadb: S.opt(S.version()),
      mysql_max_exclusive: S.opt(S.version()),
      notes: S.opt(S.str()),
    }),
    true,
  ),
});

const OCS_UPDATES_SCHEMA: Schema = S.obj({
  format: S.literal(1),
  bridge: S.obj({
    id: S.str(),
    from_gui_versions: S.list(S.int({ min: 1 }), true),
    to_gui_version: S.int({ min: 1 }),
    release: S.version(),
    file: S.str(),
    split: S.oneOf(['naive-semicolon']),
    sql_mode: S.str(),
    created: S.opt(tables),
    dropped: S.opt(tables),
    renamed: S.opt(renamed),
    rows_deleted: S.opt(rowsDeleted),
    hazards: S.opt(S.list(S.str())),
    notes: S.str(),
    notes_fr: S.str(),
  }),
  php_changes: S.list(
    S.obj({
      id: S.str(),
      gui_version: S.int({ min: 1 }),
      function: S.str(),
      only_if: S.opt(S.str()),
      only_if_fr: S.opt(S.str()),
      tables: S.list(S.str(), true),
      what: S.str(),
      what_fr: S.str(),
      notes: S.opt(S.str()),
      notes_fr: S.opt(S.str()),
    }),
  ),
  update_files: S.list(
    S.obj({
      gui_version: S.int({ min: 1 }),
      created: S.opt(tables),
      dropped: S.opt(tables),
      renamed: S.opt(renamed),
      rows_deleted: S.opt(rowsDeleted),
      hazards: S.opt(S.list(S.str())),
      requires: S.opt(S.obj({ mysql: S.opt(S.version()), mariadb: S.opt(S.version()) })),
      notes: S.opt(S.str()),
      notes_fr: S.opt(S.str()),
    }),
    true,
  ),
  hazards: S.list(hazardText),
});

const PLUGIN_SCHEMA: Schema = S.obj({
  format: S.literal(1),
  core_migration: S.obj({ created: tables, dropped: tables, kept: tables, hazards: S.list(S.str()) }),
  releases: S.list(
    S.obj({
      version: S.version(),
      glpi_min: S.version(),
      glpi_max_exclusive: S.version(),
      ocs_gui_max: S.opt(S.int({ min: 1 })),
      install: S.oneOf(['web', 'console']),
      migrates_core: S.bool(),
      proven: S.opt(S.str()),
      proven_fr: S.opt(S.str()),
    }),
    true,
  ),
  hazards: S.list(hazardText),
});

// ---------------------------------------------------------------------------------------------- loading

export const CATALOG_FILES = {
  glpi: 'glpi-releases.yaml',
  ocsReleases: 'ocs-releases.yaml',
  ocsUpdates: 'ocs-updates.yaml',
  plugin: 'ocsinventoryng-releases.yaml',
} as const;

function readYaml(dir: string, name: string): unknown {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CatalogError(`catalog file ${name} cannot be read in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return YAML.parse(text);
  } catch (err) {
    throw new CatalogError(`${name}: not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

function checked<T>(dir: string, name: string, schema: Schema): T {
  const doc = readYaml(dir, name);
  try {
    validate(doc, schema);
  } catch (err) {
    if (err instanceof SchemaError) throw new CatalogError(`${name}: ${err.message}`, { cause: err });
    throw err;
  }
  return doc as T;
}

/** Cross-entry checks that a schema cannot express. Each failure names the file and the entry. */
function crossCheck(c: Catalog): void {
  const fail = (file: string, what: string): never => {
    throw new CatalogError(`${file}: ${what}`);
  };
  // Texts that flow into the plan's explanations need their French twin: the French dossier and DAT print them.
  const french = (file: string, at: string, entry: object, keys: string[]) => {
    const o = entry as Record<string, unknown>;
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
  const glpi = checked<{ branches: GlpiBranch[]; hazards: GlpiHazard[] }>(dir, CATALOG_FILES.glpi, GLPI_SCHEMA);
  const ocsReleases = checked<{ releases: OcsRelease[] }>(dir, CATALOG_FILES.ocsReleases, OCS_RELEASES_SCHEMA);
  const ocsUpdates = checked<{ bridge: OcsBridge; php_changes: OcsPhpChange[]; update_files: OcsUpdateFile[]; hazards: HazardText[] }>(dir, CATALOG_FILES.ocsUpdates, OCS_UPDATES_SCHEMA);
  const plugin = checked<{ releases: PluginRelease[]; core_migration: PluginCoreMigration; hazards: HazardText[] }>(dir, CATALOG_FILES.plugin, PLUGIN_SCHEMA);
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
