/**
 * Detectors of English prose and French typography faults in French texts (audit texts, rehearsal reasons,
 * documents): used by test/audit-french.test.ts, test/report.test.ts and the executor tests.
 */

/**
 * English words that have no place in French prose (none of them is also a French word: "on", "or", "as",
 * "but", "table", "type", "version", "source" are left out on purpose).
 */
export const ENGLISH_WORDS = [
  'the',
  'and',
  'with',
  'without',
  'when',
  'where',
  'which',
  'that',
  'this',
  'these',
  'those',
  'of',
  'for',
  'from',
  'into',
  'by',
  'is',
  'are',
  'was',
  'were',
  'be',
  'been',
  'has',
  'have',
  'not',
  'to',
  'at',
  'it',
  'its',
  'they',
  'their',
  'than',
  'then',
  'only',
  'also',
  'each',
  'every',
  'any',
  'some',
  'more',
  'before',
  'after',
  'already',
  'still',
  'never',
  'always',
  'once',
  'must',
  'should',
  'will',
  'would',
  'can',
  'cannot',
  'does',
  'if',
  'off',
  'added',
  'removed',
  'deleted',
  'kept',
  'keep',
  'missing',
  'duplicate',
  'duplicates',
  'required',
  'requires',
  'row',
  'rows',
  'key',
  'keys',
  'column',
  'columns',
  'link',
  'links',
  'field',
  'fields',
  'check',
  'checks',
  'update',
  'upgrade',
  'database',
  'databases',
  'server',
  'schema',
  'password',
  'plugin',
  'found',
  'seen',
  'lost',
  'fails',
  'failed',
  'refuses',
  'empty',
  'newest',
  'highest',
  'same',
  'other',
  'others',
  'name',
  'set',
  'later',
  'earlier',
  'data',
  'value',
  'values',
  'see',
  'note',
  'skipped',
  'finding',
  'findings',
  'remedy',
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
    .filter((t) => t !== '' && !/[_.:/=<>*#@'()[\]{}$%|\\\d]/.test(t) && !t.startsWith('-') && !/^[a-z0-9]+(-[a-z0-9]+){2,}$/.test(t) && !(t.length > 1 && t === t.toUpperCase()))
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
