/**
 * Anonymization rules files (format 1; docs/anonymize.md): the defaults in migrations/anonymize-rules.yaml
 * and a user's `--rules FILE`. The schema, its types and the one reader (the tool never writes a rules file).
 * A bad file is a UsageError (exit 2) naming the file, the path inside it (`rules[3].method`) and what was
 * expected.
 */
import { NotFoundError, UsageError } from '../errors.ts';
import { checkFormat, describeIssue, integer, isMapping, keysAt, parseYamlText, patterned, readText, z } from './schema.ts';

export const RULES_FORMAT = 1;

const METHODS = ['pseudonym', 'hash', 'fixed', 'scrub', 'keep'] as const;
const FORMATS = ['hex', 'text', 'mac', 'ip', 'email', 'phone', 'uuid'] as const;

const method = z.enum(METHODS);
const hashFormat = z.enum(FORMATS);
const matchMode = z.enum(['ci', 'exact']);
const identityKind = z.enum(['login', 'name']);

const rawRule = z.strictObject({
  database: z.enum(['glpi', 'ocs']),
  table: patterned(/^[A-Za-z0-9_$]+$/, 'a plain table name'),
  /** A column name, or a prefix glob ending in `*` (e.g. `fields_*` for OCS accountinfo's admin-defined columns). */
  column: patterned(/^[A-Za-z0-9_$]+\*?$/, 'a plain column name or a prefix ending in *'),
  method,
  /** hash: the shape of the result (default hex). */
  format: hashFormat.optional(),
  /** pseudonym: text put before the hex digits. */
  prefix: patterned(/^[\x20-\x26\x28-\x5b\x5d-\x7e]{0,32}$/, 'up to 32 printable ASCII characters without quote or backslash').optional(),
  /** Hex digits of the digest used (pseudonym, hex, text, email; default 16). */
  length: integer().min(4).max(64).optional(),
  /** fixed: the value written. */
  value: z.string().optional(),
  /**
   * Which values are "the same": ci (default: case and trailing spaces ignored, like the _ci collations the
   * unique keys use) or exact (the characters as stored).
   */
  match: matchMode.optional(),
  /** Rules with the same namespace give the same result for the same value. Default: database.table.column. */
  namespace: patterned(/^[A-Za-z0-9_.-]{1,64}$/, 'a namespace of [A-Za-z0-9_.-], 1 to 64 characters').optional(),
  /** Values left unchanged (compared like `match`). */
  keep_values: z.array(z.string()).optional(),
  /**
   * The column holds identities (login: matched in any case; name: matched when written with a capital): their
   * original values are looked for in free text (method scrub, replaced by this rule's pseudonym) and by the sweep.
   */
  identity: identityKind.optional(),
});

type RawRule = z.infer<typeof rawRule>;

/** What one field of a rule allows given its method, or undefined when it is fine. */
function ruleProblem(r: RawRule): { key: keyof RawRule; what: string } | undefined {
  if (r.format !== undefined && r.method !== 'hash') return { key: 'format', what: `is for method hash, one of ${FORMATS.join(', ')}` };
  if (r.method === 'fixed' && r.value === undefined) return { key: 'value', what: 'is required: method fixed needs a string value' };
  if (r.method !== 'fixed' && r.value !== undefined) return { key: 'value', what: 'is only for method fixed' };
  if (r.identity !== undefined && r.method !== 'pseudonym' && r.method !== 'hash' && r.method !== 'keep') return { key: 'identity', what: 'is for methods pseudonym and hash' };
  if (r.method === 'scrub') {
    const extra = (['format', 'prefix', 'length', 'namespace', 'keep_values', 'match'] as const).find((k) => r[k] !== undefined);
    if (extra) return { key: extra, what: 'is not for method scrub (it uses the rules of the identities and of the email, phone, ip and mac namespaces)' };
  }
  return undefined;
}

/** One rule, with its defaults applied (hash: format hex); fields in this order, absent ones left out (the checksum depends on it). */
const rule = rawRule
  .check((ctx) => {
    const p = ruleProblem(ctx.value);
    if (p) ctx.issues.push({ code: 'custom', path: [p.key], input: ctx.value[p.key], message: p.what });
  })
  .transform((r) => {
    const out: AnonymizeRule = { database: r.database, table: r.table, column: r.column, method: r.method };
    if (r.method === 'hash') out.format = r.format ?? 'hex';
    if (r.prefix !== undefined) out.prefix = r.prefix;
    if (r.length !== undefined) out.length = r.length;
    if (r.value !== undefined) out.value = r.value;
    if (r.match !== undefined) out.match = r.match;
    if (r.namespace !== undefined) out.namespace = r.namespace;
    if (r.keep_values !== undefined) out.keep_values = [...r.keep_values];
    if (r.identity !== undefined) out.identity = r.identity;
    return out;
  });

export const rulesSchema = z.strictObject({ format: z.literal(RULES_FORMAT), rules: z.array(rule) }).check((ctx) => {
  const seen = new Set<string>();
  ctx.value.rules.forEach((r, i) => {
    const k = `${r.database}.${r.table}.${r.column}`;
    if (seen.has(k)) ctx.issues.push({ code: 'custom', path: ['rules', i], input: k, message: `${k} has two rules` });
    seen.add(k);
  });
});

export type AnonymizeMethod = z.infer<typeof method>;
export type HashFormat = z.infer<typeof hashFormat>;
export type MatchMode = z.infer<typeof matchMode>;
export type IdentityKind = z.infer<typeof identityKind>;
export type AnonymizeRule = RawRule;

export const rulesError = (message: string) => new UsageError(message, { hint: 'docs/anonymize.md describes the rules file format' });

/** Parses a rules document (YAML text); `source` names it in errors. */
export function parseRulesText(text: string, source: string): AnonymizeRule[] {
  const doc = parseYamlText(text, source, rulesError);
  checkFormat(doc, source, RULES_FORMAT, rulesError);
  const r = rulesSchema.safeParse(doc, { reportInput: true });
  if (!r.success) {
    const issue = r.error.issues[0];
    // Name the rule too: "rules[3] (glpi.glpi_users.name).method: …".
    const i = issue.path[0] === 'rules' && typeof issue.path[1] === 'number' ? issue.path[1] : undefined;
    const rules = isMapping(doc) ? doc.rules : undefined;
    const named = i !== undefined && Array.isArray(rules) ? rules[i] : undefined;
    const label = isMapping(named) && typeof named.table === 'string' && typeof named.column === 'string' ? ` (rule ${String(named.database)}.${named.table}.${named.column})` : '';
    throw rulesError(`${source}: ${describeIssue(issue, issue.code === 'unrecognized_keys' ? keysAt(rulesSchema, doc, issue.path) : undefined)}${label}`);
  }
  return r.data.rules;
}

/** The one reader of a rules file. */
export function readRulesFile(file: string, source: string): AnonymizeRule[] {
  return parseRulesText(
    readText(file, () => new NotFoundError(`rules file ${file} does not exist`)),
    source,
  );
}
