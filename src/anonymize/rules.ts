/**
 * Anonymization rules: data, not code. The defaults live in migrations/anonymize-rules.yaml; a user file
 * given with `--rules FILE` (same format) overrides them rule by rule (same database, table and column),
 * adds new ones, or switches one off with `method: keep`.
 */
import path from 'node:path';
import crypto from 'node:crypto';
import { parseRulesText, readRulesFile, rulesError } from '../formats/rules.ts';
import type { AnonymizeRule } from '../formats/rules.ts';
import { PACKAGE_ROOT } from '../paths.ts';

export const DEFAULT_RULES_FILE = path.join(PACKAGE_ROOT, 'migrations', 'anonymize-rules.yaml');

export type { AnonymizeMethod, AnonymizeRule, HashFormat, IdentityKind, MatchMode } from '../formats/rules.ts';
export { RULES_FORMAT } from '../formats/rules.ts';

export interface RuleSet {
  rules: AnonymizeRule[];
  /** sha256 of the canonical JSON of the effective rules (recorded in the manifest, never the salt). */
  checksum: string;
  /** Where they came from, for the report. */
  sources: string[];
}

export function ruleKey(r: Pick<AnonymizeRule, 'database' | 'table' | 'column'>): string {
  return `${r.database}.${r.table}.${r.column}`;
}

export function namespaceOf(r: AnonymizeRule): string {
  return r.namespace ?? ruleKey(r);
}

/** Parses a rules document (YAML text): the one reader of src/formats/rules.ts. */
export function parseRules(text: string, source: string): AnonymizeRule[] {
  return parseRulesText(text, source);
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
      throw rulesError(`${source}: ${ruleKey(r)} and ${ruleKey(f)} share namespace "${ns}" but transform differently (method, format, prefix, length, match and keep_values must be the same)`);
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
  const defaults = readRulesFile(defaultsFile, path.basename(defaultsFile));
  const byKey = new Map(defaults.map((r) => [ruleKey(r), r]));
  const sources = [path.basename(defaultsFile)];
  if (options.overrideFile) {
    for (const r of readRulesFile(options.overrideFile, options.overrideFile)) byKey.set(ruleKey(r), r);
    sources.push(path.basename(options.overrideFile));
  }
  const rules = [...byKey.values()];
  checkNamespaces(rules, options.overrideFile ?? path.basename(defaultsFile));
  return { rules, checksum: canonicalChecksum(rules), sources };
}
