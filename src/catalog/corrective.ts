/**
 * The project's own corrective migrations: one YAML file each in migrations/corrective/<id>.yaml.
 * Each fixes what an audit check finds, on the test instance, before the plan step it names.
 *
 *   id: glpi-dedup-slalevels-tickets            # = file name
 *   database: glpi                              # glpi | ocs
 *   title: { fr: "…", en: "…" }
 *   fixes: [glpi.duplicates.slalevels_tickets]  # audit check ids
 *   before: glpi-db-update                      # plan step kind it must precede (see below)
 *   touches: [glpi_slalevels_tickets]           # the only tables it may change
 *   precheck: "SELECT COUNT(*) …"               # > 0: there is something to fix
 *   statements: ["DELETE …", "…"]               # run in order, in the target database
 *   postcheck: "SELECT COUNT(*) …"              # must return 0 afterwards
 *   optional: true                              # (optional, default false) the plan may leave it out
 *
 * `before` names a step kind: glpi-db-update, ocs-bridge, ocs-update-file, plugin-install, any.
 * SQL may use {{db}} for the database being fixed and {{ocs_db}} / {{glpi_db}} for the other one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ExitCode, ToolError } from '../errors.ts';
import type { LocalizedText } from '../audit/finding-types.ts';
import { MIGRATIONS_DIR } from './ocs-releases.ts';

export type CorrectiveBefore = 'glpi-db-update' | 'ocs-bridge' | 'ocs-update-file' | 'plugin-install' | 'any';

export interface CorrectiveMigration {
  id: string;
  database: 'glpi' | 'ocs';
  title: LocalizedText;
  fixes: string[];
  before: CorrectiveBefore;
  touches: string[];
  precheck: string;
  statements: string[];
  postcheck: string;
  /** Not needed on the default path (e.g. GLPI 10.0 already does it): the plan may leave it out. */
  optional?: boolean;
  /** sha256 of the file: recorded in journals so a changed migration is noticed (Flyway-style validate). */
  checksum: string;
}

const BEFORE: CorrectiveBefore[] = ['glpi-db-update', 'ocs-bridge', 'ocs-update-file', 'plugin-install', 'any'];

export const CORRECTIVE_DIR = path.join(MIGRATIONS_DIR, 'corrective');

function fail(file: string, what: string): never {
  throw new ToolError(`${path.relative(process.cwd(), file)}: ${what}`, ExitCode.INTERNAL);
}

export function parseCorrectiveMigration(file: string, text: string, checksum: string): CorrectiveMigration {
  const doc = YAML.parse(text) as Record<string, unknown>;
  const id = path.basename(file, '.yaml');
  if (!doc || typeof doc !== 'object') fail(file, 'not a YAML mapping');
  if (doc.id !== id) fail(file, `id must equal the file name (${id})`);
  if (doc.database !== 'glpi' && doc.database !== 'ocs') fail(file, 'database must be glpi or ocs');
  const title = doc.title as LocalizedText;
  if (!title || typeof title.fr !== 'string' || typeof title.en !== 'string') fail(file, 'title needs fr and en');
  const strings = (k: string) => {
    const v = doc[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(file, `${k} must be a list of strings`);
    return v as string[];
  };
  if (!BEFORE.includes(doc.before as CorrectiveBefore)) fail(file, `before must be one of ${BEFORE.join(', ')}`);
  for (const k of ['precheck', 'postcheck']) if (typeof doc[k] !== 'string' || !/^\s*select/i.test(doc[k] as string)) fail(file, `${k} must be a SELECT`);
  if (doc.optional !== undefined && typeof doc.optional !== 'boolean') fail(file, 'optional must be true or false');
  const statements = strings('statements');
  if (statements.length === 0) fail(file, 'statements must not be empty');
  return {
    id,
    database: doc.database,
    title,
    fixes: strings('fixes'),
    before: doc.before as CorrectiveBefore,
    touches: strings('touches'),
    precheck: doc.precheck as string,
    statements,
    postcheck: doc.postcheck as string,
    ...(doc.optional === true ? { optional: true } : {}),
    checksum,
  };
}

let cache: CorrectiveMigration[] | undefined;

export function loadCorrectiveMigrations(dir = CORRECTIVE_DIR): CorrectiveMigration[] {
  if (cache && dir === CORRECTIVE_DIR) return cache;
  let files: string[] = [];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
  } catch {
    files = [];
  }
  const out = files.map((f) => {
    const full = path.join(dir, f);
    const buf = fs.readFileSync(full);
    const checksum = crypto.createHash('sha256').update(buf).digest('hex');
    return parseCorrectiveMigration(full, buf.toString('utf8'), checksum);
  });
  if (dir === CORRECTIVE_DIR) cache = out;
  return out;
}

export function correctiveMigration(id: string): CorrectiveMigration | undefined {
  return loadCorrectiveMigrations().find((m) => m.id === id);
}

/** Replaces {{db}}, {{glpi_db}}, {{ocs_db}} in a migration's SQL. */
export function renderCorrectiveSql(sql: string, names: { db: string; glpi_db?: string; ocs_db?: string }): string {
  return sql.replace(/\{\{\s*(db|glpi_db|ocs_db)\s*\}\}/g, (_, k: 'db' | 'glpi_db' | 'ocs_db') => {
    const v = names[k];
    if (!v) throw new ToolError(`corrective migration uses {{${k}}} but no such database is known`, ExitCode.USAGE);
    return `\`${v.replace(/`/g, '``')}\``;
  });
}
