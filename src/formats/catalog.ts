/**
 * The upgrade catalog's files in migrations/ (format 1; docs/plan.md, "The catalog"): GLPI releases
 * (glpi-releases.yaml), OCS releases (ocs-releases.yaml), the OCS bridge, update files and PHP-side changes
 * (ocs-updates.yaml), the ocsinventoryng plugin releases (ocsinventoryng-releases.yaml). One schema per file,
 * its types, and the one reader (the catalog is data shipped with the tool: nothing writes it). A broken
 * entry is reported by `invalid` (the catalog's CatalogError, exit 1) naming the file, the path and what is
 * wrong; the cross-entry checks are in src/catalog/catalog.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { checkFormat, integer, nonEmpty, parseDocument, parseYamlText, patterned, show, z } from './schema.ts';

export const CATALOG_FORMAT = 1;

/** A dotted product version: "0.83.8", "9.1.7.1", "10.0", "2.12.4". */
const version = patterned(/^\d+(\.\d+){0,3}$/, 'a dotted version like "10.0.22"');
/** A semver range such as ">=7.4.0 <8.5.0". */
const range = z
  .string({ error: (iss) => `expected a semver range like ">=7.4.0 <8.5.0", got ${show(iss.input)}` })
  .refine((s) => semver.validRange(s) !== null, { error: (iss) => `expected a semver range like ">=7.4.0 <8.5.0", got ${show(iss.input)}` });
/** A table name (or a pattern like "snmp_*"). */
const table = patterned(/^[A-Za-z0-9_*]+$/, 'a table name');
const branchName = (what: string) => patterned(/^\d+\.\d+$/, what);
const guiVersion = integer().min(1);

const tables = z.array(table);
const renamed = z.array(z.strictObject({ from: table, to: table }));
/** A deletion the plan explains; `why_fr`: the same reason in French (the French dossier prints it). */
const rowsDeleted = z.strictObject({ table, why: z.string(), why_fr: z.string() });
const tableChanges = z.strictObject({ created: tables.optional(), dropped: tables.optional(), renamed: renamed.optional() });
/** A GLPI console command; `what_fr` is required with `what` (cross-checked). */
const consoleCommand = z.strictObject({
  command: patterned(/^[a-z0-9_:]+$/, 'a console command like "migration:utf8mb4"'),
  args: z.array(z.string()),
  what: z.string().optional(),
  what_fr: z.string().optional(),
});
const hazardText = z.strictObject({ id: patterned(/^[a-z0-9_.-]+$/, 'a hazard id like "ocs.batteries.recreated"'), text: z.string() });

const glpiUpdaterEntry = z.enum(['tools/cliupdate.php', 'scripts/cliupdate.php', 'bin/console']);

const glpiBranch = z.strictObject({
  branch: branchName('a branch like "10.0"'),
  releases: nonEmpty(version),
  latest: version,
  php: range,
  mysql: version.optional(),
  mariadb: version.optional(),
  /** The updater refuses MyISAM tables (11.0: DatabaseTablesEngine requirement). */
  requires_innodb: z.boolean().optional(),
  updater: z.strictObject({ entry: glpiUpdaterEntry, command: z.string().optional(), args: z.array(z.string()), accepts_from: version, official_cli: z.boolean() }),
  conversions: nonEmpty(consoleCommand).optional(),
  check: consoleCommand.optional(),
  reference_schema: patterned(/^glpi-[\d.]+-empty\.sql$/, 'a file name like glpi-10.0.22-empty.sql').optional(),
  reference_version: version.optional(),
  schema_changes: tableChanges.optional(),
  rows_deleted: z.array(rowsDeleted).optional(),
  /** `notes_fr` is required with `notes` (cross-checked). */
  notes: z.string().optional(),
  notes_fr: z.string().optional(),
});

const glpiHazard = z.strictObject({
  id: patterned(/^[a-z0-9_.-]+$/, 'a hazard id'),
  at: z.enum(['db-update', 'conversion', 'plugin-install']),
  crosses: branchName('a branch').optional(),
  hop_into: branchName('a branch').optional(),
  command: z.string().optional(),
  text: z.string(),
});

export const glpiReleasesSchema = z.strictObject({ format: z.literal(CATALOG_FORMAT), branches: nonEmpty(glpiBranch), hazards: z.array(glpiHazard) });

const ocsRelease = z.strictObject({
  version,
  gui_version: guiVersion,
  date: z.string().optional(),
  php: range,
  mysql: version,
  mariadb: version.optional(),
  mysql_max_exclusive: version.optional(),
  notes: z.string().optional(),
});

export const ocsReleasesSchema = z.strictObject({ format: z.literal(CATALOG_FORMAT), releases: nonEmpty(ocsRelease) });

const ocsBridge = z.strictObject({
  id: z.string(),
  from_gui_versions: nonEmpty(guiVersion),
  to_gui_version: guiVersion,
  release: version,
  file: z.string(),
  split: z.enum(['naive-semicolon']),
  sql_mode: z.string(),
  created: tables.optional(),
  dropped: tables.optional(),
  renamed: renamed.optional(),
  rows_deleted: z.array(rowsDeleted).optional(),
  hazards: z.array(z.string()).optional(),
  notes: z.string(),
  notes_fr: z.string(),
});

const ocsPhpChange = z.strictObject({
  id: z.string(),
  gui_version: guiVersion,
  function: z.string(),
  /** `only_if_fr` is required with `only_if` (cross-checked), like `notes_fr` with `notes`. */
  only_if: z.string().optional(),
  only_if_fr: z.string().optional(),
  tables: nonEmpty(z.string()),
  what: z.string(),
  what_fr: z.string(),
  notes: z.string().optional(),
  notes_fr: z.string().optional(),
});

const ocsUpdateFile = z.strictObject({
  gui_version: guiVersion,
  created: tables.optional(),
  dropped: tables.optional(),
  renamed: renamed.optional(),
  rows_deleted: z.array(rowsDeleted).optional(),
  hazards: z.array(z.string()).optional(),
  requires: z.strictObject({ mysql: version.optional(), mariadb: version.optional() }).optional(),
  notes: z.string().optional(),
  notes_fr: z.string().optional(),
});

export const ocsUpdatesSchema = z.strictObject({
  format: z.literal(CATALOG_FORMAT),
  bridge: ocsBridge,
  php_changes: z.array(ocsPhpChange),
  update_files: nonEmpty(ocsUpdateFile),
  hazards: z.array(hazardText),
});

const pluginRelease = z.strictObject({
  version,
  glpi_min: version,
  glpi_max_exclusive: version,
  ocs_gui_max: guiVersion.optional(),
  install: z.enum(['web', 'console']),
  migrates_core: z.boolean(),
  /** `proven_fr` is required with `proven` (cross-checked). */
  proven: z.string().optional(),
  proven_fr: z.string().optional(),
});

const pluginCoreMigration = z.strictObject({ created: tables, dropped: tables, kept: tables, hazards: z.array(z.string()) });

export const pluginReleasesSchema = z.strictObject({
  format: z.literal(CATALOG_FORMAT),
  core_migration: pluginCoreMigration,
  releases: nonEmpty(pluginRelease),
  hazards: z.array(hazardText),
});

export type TableChanges = z.infer<typeof tableChanges>;
export type RowsDeleted = z.infer<typeof rowsDeleted>;
export type GlpiUpdaterEntry = z.infer<typeof glpiUpdaterEntry>;
export type GlpiConsoleCommand = z.infer<typeof consoleCommand>;
export type GlpiBranch = z.infer<typeof glpiBranch>;
export type GlpiHazard = z.infer<typeof glpiHazard>;
export type OcsRelease = z.infer<typeof ocsRelease>;
export type OcsUpdateFile = z.infer<typeof ocsUpdateFile>;
export type OcsBridge = z.infer<typeof ocsBridge>;
export type OcsPhpChange = z.infer<typeof ocsPhpChange>;
export type PluginRelease = z.infer<typeof pluginRelease>;
export type PluginCoreMigration = z.infer<typeof pluginCoreMigration>;
export type HazardText = z.infer<typeof hazardText>;

/** The one reader of a catalog file: `name` in `dir`, checked against `schema`. */
export function readCatalogFile<S extends z.ZodType>(dir: string, name: string, schema: S, invalid: (message: string, cause?: unknown) => Error): z.output<S> {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`catalog file ${name} cannot be read in ${dir}: ${(err as Error).message}`, err);
  }
  const doc = parseYamlText(text, name, (m) => invalid(m));
  checkFormat(doc, name, CATALOG_FORMAT, (m) => invalid(m));
  return parseDocument(schema, doc, name, (m) => invalid(m));
}
