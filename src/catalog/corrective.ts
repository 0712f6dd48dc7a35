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
import { ExitCode, ToolError } from '../errors.ts';
import { parseCorrectiveFile } from '../formats/corrective.ts';
import type { CorrectiveFile } from '../formats/corrective.ts';
import { MIGRATIONS_DIR } from './ocs-releases.ts';

export type { CorrectiveBefore } from '../formats/corrective.ts';

export type CorrectiveMigration = CorrectiveFile & {
  /** sha256 of the file: recorded in journals so a changed migration is noticed (Flyway-style validate). */
  checksum: string;
};

export const CORRECTIVE_DIR = path.join(MIGRATIONS_DIR, 'corrective');

/** Parses one migration file (schema in src/formats/corrective.ts); a broken file is a ToolError, exit 1. */
export function parseCorrectiveMigration(file: string, text: string, checksum: string): CorrectiveMigration {
  const m = parseCorrectiveFile(text, path.basename(file, '.yaml'), path.relative(process.cwd(), file), (message) => new ToolError(message, ExitCode.INTERNAL));
  return {
    id: m.id,
    database: m.database,
    title: m.title,
    fixes: m.fixes,
    before: m.before,
    touches: m.touches,
    precheck: m.precheck,
    statements: m.statements,
    postcheck: m.postcheck,
    ...(m.optional === true ? { optional: true } : {}),
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
