/**
 * The French texts of the audit reach the customer's acceptance documents (test dossier, DAT) and the
 * French audit report: check titles, manual remedies, remedies built in code, corrective migration titles.
 * They must be French prose: no English words outside identifiers and SQL, and French typography
 * (’ apostrophe, « » quotes, a space before « : » and « ; »), as in src/report/i18n/fr.ts.
 * No database is needed: the texts are data.
 */
import { describe, expect, it } from 'vitest';
import { CHECKS, renderFindings } from '../src/audit/index.ts';
import type { FindingsFile } from '../src/audit/index.ts';
import { LATER_UNIQUE_KEYS } from '../src/audit/checks/glpi.ts';
import { coreOnlyMigration } from '../src/audit/checks/interconnection.ts';
import type { LinkTables } from '../src/audit/context.ts';
import { loadCorrectiveMigrations } from '../src/catalog/corrective.ts';

/**
 * English words that have no place in French prose (none of them is also a French word: "on", "or", "as",
 * "but", "table", "type", "version", "source" are left out on purpose).
 */
const ENGLISH_WORDS = [
  'the', 'and', 'with', 'without', 'when', 'where', 'which', 'that', 'this', 'these', 'those', 'of', 'for', 'from',
  'into', 'by', 'is', 'are', 'was', 'were', 'be', 'been', 'has', 'have', 'not', 'to', 'at', 'it', 'its', 'they',
  'their', 'than', 'then', 'only', 'also', 'each', 'every', 'any', 'some', 'more', 'before', 'after', 'already',
  'still', 'never', 'always', 'once', 'must', 'should', 'will', 'would', 'can', 'cannot', 'does', 'if', 'off',
  'added', 'removed', 'deleted', 'kept', 'keep', 'missing', 'duplicate', 'duplicates', 'required', 'requires',
  'row', 'rows', 'key', 'keys', 'column', 'columns', 'link', 'links', 'field', 'fields', 'check', 'checks',
  'update', 'upgrade', 'database', 'databases', 'server', 'schema', 'password', 'plugin', 'found', 'seen',
  'lost', 'fails', 'failed', 'refuses', 'empty', 'newest', 'highest', 'same', 'other', 'others', 'name', 'set',
  'later', 'earlier', 'data', 'value', 'values', 'see', 'note', 'skipped', 'finding', 'findings', 'remedy',
];
const ENGLISH = new RegExp(`(?<![\\p{L}\\p{N}])(${ENGLISH_WORDS.join('|')})(?![\\p{L}\\p{N}])`, 'iu');

/**
 * The prose of a French text: `code` spans removed; column lists in parentheses removed when they follow a
 * table name or hold one ("glpi_states (states_id, name)", "(documentcategories_id, name)"); then every
 * token that is an identifier, an option or SQL — it holds _ . : / = < > * # @ ' ( ) [ ] { } $ % | \ or a
 * digit (glpi_users, db:update, utf8mb4, 'TRACE_DELETED', encrypt(…)), starts with "-" (--skip-db-checks),
 * is a lower-case id of three parts or more (glpi-rename-duplicate-users), or is written in capitals
 * (UPDATE, WHERE, GLPI, TRACE_DELETED).
 */
export function prose(text: string): string {
  return text
    .replace(/`[^`]*`/g, ' ')
    .replace(/(\S*_\S*\s+)?\(([a-z0-9_]+(?:,\s*[a-z0-9_]+)*)\)/g, (all, table: string | undefined, list: string) => (table || list.includes('_') ? ` ${table ?? ''} ` : all))
    .split(/\s+/)
    .map((t) => t.replace(/^[«»(),;:!?.…—–]+|[«»(),;:!?.…—–]+$/gu, ''))
    .filter(
      (t) =>
        t !== '' &&
        !/[_.:/=<>*#@'()[\]{}$%|\\\d]/.test(t) &&
        !t.startsWith('-') &&
        !/^[a-z0-9]+(-[a-z0-9]+){2,}$/.test(t) &&
        !(t.length > 1 && t === t.toUpperCase()),
    )
    .join(' ');
}

/** English words found in the prose of a French text. */
export function englishIn(text: string): string[] {
  const p = prose(text);
  return [...p.matchAll(new RegExp(ENGLISH.source, 'giu'))].map((m) => m[1]);
}

/** French typography faults: straight apostrophe in a word, no space before : or ;, quotes other than « ». */
export function typographyFaults(text: string): string[] {
  const out: string[] = [];
  const t = text.replace(/`[^`]*`/g, ' ');
  if (/\p{L}'\p{L}/u.test(t)) out.push('straight apostrophe (use ’)');
  // A colon glued to the word before it and followed by a space ends a French clause badly ("db:update" is not).
  if (/[^\s]:(\s|$)/u.test(t)) out.push('no space before « : »');
  if (/[^\s];/u.test(t)) out.push('no space before « ; »');
  if (/"|“|”/.test(t)) out.push('English double quotes (use « »)');
  if (/«[^\s\u00a0\u202f]|[^\s\u00a0\u202f]»/u.test(t)) out.push('no space inside « »');
  return out;
}

/** Every French text the audit and the corrective migrations produce, with where it comes from. */
function frenchTexts(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of CHECKS) {
    out.push([`${c.id} title`, c.title.fr]);
    if (c.remedy.manual) out.push([`${c.id} remedy`, c.remedy.manual.fr]);
  }
  // Remedies built in code for the connector forms where the corrective migration does not apply.
  const forms: Array<LinkTables | undefined> = [
    undefined,
    { mode: 'renamed-0.84', links: 'ocs_glpi_ocslinks', servers: 'ocs_glpi_ocsservers', serverColumn: 'ocsservers_id' },
    { mode: 'plugin', links: 'glpi_plugin_ocsinventoryng_ocslinks', servers: 'glpi_plugin_ocsinventoryng_ocsservers', serverColumn: 'plugin_ocsinventoryng_ocsservers_id' },
  ];
  for (const lt of forms) {
    const r = coreOnlyMigration(lt, 'glpi-ocslinks-orphans');
    if (r?.manual) out.push([`coreOnlyMigration(${lt?.mode ?? 'none'}) remedy`, r.manual.fr]);
  }
  for (const m of loadCorrectiveMigrations()) out.push([`migrations/corrective/${m.id}.yaml title`, m.title.fr]);
  return out;
}

/** The French audit report (audit command, --lang fr) of a findings file where every check found something. */
function frenchReport(): string[] {
  const file: FindingsFile = {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: '0.0.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    source: { live: {} },
    checksRun: CHECKS.map((c) => ({ id: c.id, family: c.family, title: c.title, status: 'finding' as const, severity: c.severity })),
    findings: CHECKS.map((c) => ({ id: c.id, family: c.family, severity: c.severity, title: c.title, count: 1, evidence: {}, remedy: c.remedy })),
  };
  return renderFindings(file, 'fr');
}

describe('the sanitiser and the detectors can fail', () => {
  it('find the English fragments the French titles used to carry', () => {
    expect(englishIn('Doublons dans glpi_documentcategories (name) : collision avec la clé unique ajoutée en 9.2 (documentcategories_id, name), documentcategories_id added as 0 for every row')).toEqual([
      'added',
      'for',
      'every',
      'row',
    ]);
    expect(englishIn('collision avec la clé unique ajoutée en 0.83.8 (unicity, required by every later schema check)')).toEqual(['required', 'by', 'every', 'later', 'schema', 'check']);
    expect(englishIn('Duplicates in the table')).toEqual(['Duplicates', 'the']);
  });

  it('leave identifiers, SQL and code spans alone', () => {
    expect(englishIn('Colonnes `the_key` et glpi_users.name, db:update, migration:unsigned_keys')).toEqual([]);
    expect(englishIn("exécuter UPDATE config SET IVALUE = 1 WHERE NAME = 'TRACE_DELETED' AND IN (…)")).toEqual([]);
    expect(englishIn('encrypt(rawurldecode(decrypt(valeur))) ; clé « unicity »')).toEqual([]);
    expect(englishIn('glpi_states (states_id, name), --skip-db-checks, migration glpi-rename-duplicate-users')).toEqual([]);
    // A parenthesised list of plain words is prose, not a column list.
    expect(englishIn('les lignes (keep, rows)')).toEqual(['keep', 'rows']);
  });

  it('see typography faults', () => {
    expect(typographyFaults("l'instance de test")).toEqual(['straight apostrophe (use ’)']);
    expect(typographyFaults('Doublons: collision; fin')).toEqual(['no space before « : »', 'no space before « ; »']);
    expect(typographyFaults('le statut "actif" et «nom»')).toEqual(['English double quotes (use « »)', 'no space inside « »']);
    expect(typographyFaults("l’instance : db:update ; UPDATE t SET c = 'w' WHERE id = 1 ; « nom (ID) »")).toEqual([]);
  });
});

describe('French texts of the audit and the corrective migrations', () => {
  const texts = frenchTexts();

  it('cover every check, every manual remedy and every corrective migration', () => {
    expect(CHECKS.length).toBeGreaterThanOrEqual(40);
    const migrations = loadCorrectiveMigrations();
    expect(migrations.length).toBeGreaterThan(10);
    expect(texts.length).toBe(CHECKS.length + CHECKS.filter((c) => c.remedy.manual).length + 3 + migrations.length);
    // The unique keys whose French wording differs from the English one are in the titles walked here.
    for (const k of LATER_UNIQUE_KEYS.filter((x) => x.addedInFr)) {
      expect(texts.find(([where]) => where === `${k.id} title`)?.[1]).toContain(k.addedInFr);
    }
  });

  it.each(texts)('%s: no English word in the prose', (_where, text) => {
    expect(englishIn(text), text).toEqual([]);
  });

  it.each(texts)('%s: French typography', (_where, text) => {
    expect(typographyFaults(text), text).toEqual([]);
  });

  it('the French audit report of every finding has no English word and French typography', () => {
    const lines = frenchReport();
    expect(lines.length).toBeGreaterThan(CHECKS.length * 2);
    expect(lines[0]).toMatch(/^Bilan : \d+ contrôles — /);
    for (const line of lines) {
      expect(englishIn(line), line).toEqual([]);
      expect(typographyFaults(line), line).toEqual([]);
    }
  });
});
