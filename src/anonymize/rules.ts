/**
 * Anonymization rules: data, not code. The defaults live in migrations/anonymize-rules.yaml; a user file
 * given with `--rules FILE` (same format) overrides them rule by rule (same database, table and column),
 * adds new ones, or switches one off with `method: keep`.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import YAML from 'yaml';
import { NotFoundError, UsageError, fromSystemError } from '../errors.ts';
import { PACKAGE_ROOT } from '../paths.ts';

export const RULES_FORMAT = 1;
export const DEFAULT_RULES_FILE = path.join(PACKAGE_ROOT, 'migrations', 'anonymize-rules.yaml');

export type AnonymizeMethod = 'pseudonym' | 'hash' | 'fixed' | 'scrub' | 'keep';
export type HashFormat = 'hex' | 'text' | 'mac' | 'ip' | 'email' | 'phone' | 'uuid';
export type MatchMode = 'ci' | 'exact';

export interface AnonymizeRule {
  database: 'glpi' | 'ocs';
  table: string;
  /** A column name, or a prefix glob ending in `*` (e.g. `fields_*` for OCS accountinfo's admin-defined columns). */
  column: string;
  method: AnonymizeMethod;
  /** hash: the shape of the result (default hex). */
  format?: HashFormat;
  /** pseudonym: text put before the hex digits. */
  prefix?: string;
  /** Hex digits of the digest used (pseudonym, hex, text, email; default 16). */
  length?: number;
  /** fixed: the value written. */
  value?: string;
  /**
   * Which values are "the same": ci (default: case and trailing spaces ignored, like the _ci collations the
   * unique keys use) or exact (the characters as stored).
   */
  match?: MatchMode;
  /** Rules with the same namespace give the same result for the same value. Default: database.table.column. */
  namespace?: string;
  /** Values left unchanged (compared like `match`). */
  keep_values?: string[];
  /**
   * The column holds identities (login: matched in any case; name: matched when written with a capital): their
   * original values are looked for in free text (method scrub, replaced by this rule's pseudonym) and by the sweep.
   */
  identity?: IdentityKind;
}

export type IdentityKind = 'login' | 'name';

export interface RuleSet {
  rules: AnonymizeRule[];
  /** sha256 of the canonical JSON of the effective rules (recorded in the manifest, never the salt). */
  checksum: string;
  /** Where they came from, for the report. */
  sources: string[];
}

const METHODS: AnonymizeMethod[] = ['pseudonym', 'hash', 'fixed', 'scrub', 'keep'];
const FORMATS: HashFormat[] = ['hex', 'text', 'mac', 'ip', 'email', 'phone', 'uuid'];
const NAME_RE = /^[A-Za-z0-9_$]+$/;
const COLUMN_RE = /^[A-Za-z0-9_$]+\*?$/;

export function ruleKey(r: Pick<AnonymizeRule, 'database' | 'table' | 'column'>): string {
  return `${r.database}.${r.table}.${r.column}`;
}

export function namespaceOf(r: AnonymizeRule): string {
  return r.namespace ?? ruleKey(r);
}

function fail(source: string, msg: string): never {
  throw new UsageError(`${source}: ${msg}`, { hint: 'docs/anonymize.md describes the rules file format' });
}

/** Checks one rule's shape; returns it with defaults applied. */
function checkRule(raw: unknown, source: string, index: number): AnonymizeRule {
  const where = `rule #${index + 1}`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(source, `${where} is not a mapping`);
  const r = raw as Record<string, unknown>;
  const known = new Set(['database', 'table', 'column', 'method', 'format', 'prefix', 'length', 'value', 'match', 'namespace', 'keep_values', 'identity']);
  for (const k of Object.keys(r)) if (!known.has(k)) fail(source, `${where}: unknown key "${k}"`);
  if (r.database !== 'glpi' && r.database !== 'ocs') fail(source, `${where}: database must be glpi or ocs`);
  if (typeof r.table !== 'string' || !NAME_RE.test(r.table)) fail(source, `${where}: table must be a plain table name`);
  if (typeof r.column !== 'string' || !COLUMN_RE.test(r.column)) fail(source, `${where} (${String(r.table)}): column must be a plain column name or a prefix ending in *`);
  const at = `${where} (${r.database}.${r.table}.${r.column})`;
  if (typeof r.method !== 'string' || !METHODS.includes(r.method as AnonymizeMethod)) fail(source, `${at}: method must be one of ${METHODS.join(', ')}`);
  if (r.format !== undefined && (r.method !== 'hash' || !FORMATS.includes(r.format as HashFormat))) {
    fail(source, `${at}: format is for method hash, one of ${FORMATS.join(', ')}`);
  }
  if (r.prefix !== undefined && (typeof r.prefix !== 'string' || !/^[\x20-\x7e]{0,32}$/.test(r.prefix) || /['\\]/.test(r.prefix))) {
    fail(source, `${at}: prefix must be up to 32 printable ASCII characters without quote or backslash`);
  }
  if (r.length !== undefined && (!Number.isInteger(r.length) || (r.length as number) < 4 || (r.length as number) > 64)) fail(source, `${at}: length must be an integer from 4 to 64`);
  if (r.method === 'fixed' && typeof r.value !== 'string') fail(source, `${at}: method fixed needs a string value`);
  if (r.method !== 'fixed' && r.value !== undefined) fail(source, `${at}: value is only for method fixed`);
  if (r.match !== undefined && r.match !== 'ci' && r.match !== 'exact') fail(source, `${at}: match must be ci or exact`);
  if (r.namespace !== undefined && (typeof r.namespace !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(r.namespace))) fail(source, `${at}: namespace must be [A-Za-z0-9_.-]{1,64}`);
  if (r.keep_values !== undefined && (!Array.isArray(r.keep_values) || r.keep_values.some((v) => typeof v !== 'string'))) fail(source, `${at}: keep_values must be a list of strings`);
  if (r.identity !== undefined && r.identity !== 'login' && r.identity !== 'name') fail(source, `${at}: identity must be login or name`);
  if (r.identity !== undefined && r.method !== 'pseudonym' && r.method !== 'hash' && r.method !== 'keep') fail(source, `${at}: identity is for methods pseudonym and hash`);
  if (r.method === 'scrub' && (r.format !== undefined || r.prefix !== undefined || r.length !== undefined || r.namespace !== undefined || r.keep_values !== undefined || r.match !== undefined)) {
    fail(source, `${at}: method scrub takes no format, prefix, length, namespace, match or keep_values (it uses the rules of the identities and of the email, phone, ip and mac namespaces)`);
  }
  const rule: AnonymizeRule = { database: r.database, table: r.table, column: r.column, method: r.method as AnonymizeMethod };
  if (r.method === 'hash') rule.format = (r.format as HashFormat | undefined) ?? 'hex';
  if (r.prefix !== undefined) rule.prefix = r.prefix as string;
  if (r.length !== undefined) rule.length = r.length as number;
  if (r.value !== undefined) rule.value = r.value as string;
  if (r.match !== undefined) rule.match = r.match as MatchMode;
  if (r.namespace !== undefined) rule.namespace = r.namespace as string;
  if (r.keep_values !== undefined) rule.keep_values = [...(r.keep_values as string[])];
  if (r.identity !== undefined) rule.identity = r.identity as IdentityKind;
  return rule;
}

/** Parses a rules document (YAML text). */
export function parseRules(text: string, source: string): AnonymizeRule[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    fail(source, `not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const d = doc as { format?: unknown; rules?: unknown };
  if (!d || typeof d !== 'object') fail(source, 'empty');
  if (d.format !== RULES_FORMAT) fail(source, `format must be ${RULES_FORMAT}`);
  if (!Array.isArray(d.rules)) fail(source, 'a "rules" list is required');
  const rules = d.rules.map((r, i) => checkRule(r, source, i));
  const seen = new Set<string>();
  for (const r of rules) {
    const k = ruleKey(r);
    if (seen.has(k)) fail(source, `${k} has two rules`);
    seen.add(k);
  }
  return rules;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`rules file ${file} does not exist`);
    throw fromSystemError(err, `reading ${file}`) ?? err;
  }
}

/**
 * Rules sharing a namespace must transform alike (same method, format, prefix, length, match and kept values),
 * otherwise the "same value → same result everywhere" promise would not hold.
 */
export function checkNamespaces(rules: AnonymizeRule[], source: string): void {
  const first = new Map<string, AnonymizeRule>();
  const shape = (r: AnonymizeRule) => JSON.stringify([r.method, r.format ?? null, r.prefix ?? '', r.length ?? null, r.match ?? 'ci', [...(r.keep_values ?? [])].sort()]);
  for (const r of rules) {
    if (r.method === 'keep' || r.method === 'fixed' || r.method === 'scrub') continue;
    const ns = namespaceOf(r);
    const f = first.get(ns);
    if (!f) first.set(ns, r);
    else if (shape(f) !== shape(r)) {
      fail(source, `${ruleKey(r)} and ${ruleKey(f)} share namespace "${ns}" but transform differently (method, format, prefix, length, match and keep_values must be the same)`);
    }
  }
}

function canonicalChecksum(rules: AnonymizeRule[]): string {
  const sorted = [...rules].sort((a, b) => ruleKey(a).localeCompare(ruleKey(b)));
  return crypto.createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** The effective rules: the defaults, overridden and extended by `overrideFile` when given. */
export function loadRules(options: { overrideFile?: string; defaultsFile?: string } = {}): RuleSet {
  const defaultsFile = options.defaultsFile ?? DEFAULT_RULES_FILE;
  const defaults = parseRules(readText(defaultsFile), path.basename(defaultsFile));
  const byKey = new Map(defaults.map((r) => [ruleKey(r), r]));
  const sources = [path.basename(defaultsFile)];
  if (options.overrideFile) {
    for (const r of parseRules(readText(options.overrideFile), options.overrideFile)) byKey.set(ruleKey(r), r);
    sources.push(path.basename(options.overrideFile));
  }
  const rules = [...byKey.values()];
  checkNamespaces(rules, options.overrideFile ?? path.basename(defaultsFile));
  return { rules, checksum: canonicalChecksum(rules), sources };
}
