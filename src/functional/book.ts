/**
 * The scenario book: scenarios/builtin.yaml of the package, plus the customer's own files (`--scenarios`).
 * A scenario or manual case whose id is already in the book replaces it; new ones are appended.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { NotFoundError, UsageError } from '../errors.ts';
import { PACKAGE_ROOT } from '../paths.ts';
import type { AppName, ManualCase, Scenario, ScenarioAssertion, ScenarioBook, ScenarioStep } from './types.ts';
import { literal, type LiteralMessage } from '../i18n/messages.ts';

export const BUILTIN_BOOK = path.join(PACKAGE_ROOT, 'scenarios', 'builtin.yaml');

const STEP_KEYS = ['goto', 'login', 'probe', 'click', 'wait_for', 'console', 'screenshot'] as const;
const ASSERT_KEYS = ['status', 'no_php_errors', 'selector', 'no_selector', 'text', 'text_matches', 'exact_text', 'exact_value', 'console_ok'] as const;

function bad(file: string, where: string, what: string): never {
  throw new UsageError(`${file}: ${where}: ${what}`, { hint: 'see docs/functional.md for the scenario format' });
}

/** A text the book gives in both languages (`{ fr, en }`): it enters the program as a literal message. */
function localized(file: string, where: string, v: unknown): LiteralMessage {
  const o = v as { fr?: unknown; en?: unknown } | undefined;
  if (!o || typeof o.fr !== 'string' || typeof o.en !== 'string' || !o.fr.trim() || !o.en.trim()) bad(file, where, 'needs a French and an English text (fr:, en:)');
  return literal(o.en, o.fr);
}

/** A YAML mapping (not a list, not a scalar). */
function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneKey(file: string, where: string, v: unknown, allowed: readonly string[]): [string, unknown] {
  if (!isMapping(v)) bad(file, where, `expected a mapping with one of ${allowed.join(', ')}`);
  const keys = Object.keys(v);
  if (keys.length !== 1 || !allowed.includes(keys[0])) bad(file, where, `expected exactly one of ${allowed.join(', ')}, got ${keys.join(', ') || 'nothing'}`);
  return [keys[0], v[keys[0]]];
}

function parseStep(file: string, where: string, v: unknown): ScenarioStep {
  const [k, val] = oneKey(file, where, v, STEP_KEYS);
  if (k === 'screenshot') return { screenshot: true };
  if (k === 'login') {
    if (val !== 'glpi' && val !== 'ocs') bad(file, where, 'login: glpi or login: ocs');
    return { login: val };
  }
  if (typeof val !== 'string' || !val.trim()) bad(file, where, `${k}: needs a text`);
  return { [k]: val } as ScenarioStep;
}

function parseAssertion(file: string, where: string, v: unknown): ScenarioAssertion {
  const [k, val] = oneKey(file, where, v, ASSERT_KEYS);
  switch (k) {
    case 'status':
      if (typeof val !== 'number' || !Number.isInteger(val)) bad(file, where, 'status: an HTTP status code');
      return { status: val };
    case 'no_php_errors':
    case 'console_ok':
      if (val !== true) bad(file, where, `${k}: true`);
      return { [k]: true } as ScenarioAssertion;
    case 'exact_value': {
      const o = val as { selector?: unknown; equals?: unknown };
      if (!o || typeof o.selector !== 'string' || typeof o.equals !== 'string') bad(file, where, 'exact_value: { selector: CSS, equals: "{variable}" }');
      return { exact_value: { selector: o.selector, equals: o.equals } };
    }
    case 'text_matches':
      if (typeof val !== 'string') bad(file, where, 'text_matches: a regular expression');
      try {
        new RegExp(val.replace(/\{(\w+)\}/g, '0'));
      } catch {
        bad(file, where, `text_matches: not a valid regular expression: ${val}`);
      }
      return { text_matches: val };
    default:
      if (typeof val !== 'string' || !val.trim()) bad(file, where, `${k}: needs a text`);
      return { [k]: val } as ScenarioAssertion;
  }
}

function parseScenario(file: string, i: number, v: unknown): Scenario {
  const o = isMapping(v) ? v : {};
  const where = `scenarios[${i}]${typeof o.id === 'string' ? ` (${o.id})` : ''}`;
  if (typeof o.id !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(o.id)) bad(file, where, 'id: letters, digits, "-", "_" or "."');
  if (o.app !== 'glpi' && o.app !== 'ocs') bad(file, where, 'app: glpi or ocs');
  if (typeof o.requirement !== 'string' || !o.requirement.trim()) bad(file, where, 'requirement: the requirement it covers');
  if (!Array.isArray(o.steps) || o.steps.length === 0) bad(file, where, 'steps: a non-empty list');
  if (!Array.isArray(o.assert) || o.assert.length === 0) bad(file, where, 'assert: a non-empty list');
  return {
    id: o.id,
    app: o.app as AppName,
    requirement: o.requirement,
    title: localized(file, `${where}.title`, o.title),
    expected: o.expected === undefined ? undefined : localized(file, `${where}.expected`, o.expected),
    steps: o.steps.map((s, j) => parseStep(file, `${where}.steps[${j}]`, s)),
    assert: o.assert.map((a, j) => parseAssertion(file, `${where}.assert[${j}]`, a)),
  };
}

function parseManual(file: string, i: number, v: unknown): ManualCase {
  const o = isMapping(v) ? v : {};
  const where = `manual[${i}]${typeof o.id === 'string' ? ` (${o.id})` : ''}`;
  if (typeof o.id !== 'string' || !o.id.trim()) bad(file, where, 'id: needed');
  if (typeof o.requirement !== 'string' || !o.requirement.trim()) bad(file, where, 'requirement: the requirement it covers');
  return {
    id: o.id,
    requirement: o.requirement,
    title: localized(file, `${where}.title`, o.title),
    procedure: localized(file, `${where}.procedure`, o.procedure),
    expected: localized(file, `${where}.expected`, o.expected),
  };
}

export function parseBook(text: string, file: string): { scenarios: Scenario[]; manual: ManualCase[] } {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const o = isMapping(doc) ? doc : {};
  if (o.format !== undefined && o.format !== 1) bad(file, 'format', 'only format 1 is known');
  if (o.scenarios !== undefined && !Array.isArray(o.scenarios)) bad(file, 'scenarios', 'a list');
  if (o.manual !== undefined && !Array.isArray(o.manual)) bad(file, 'manual', 'a list');
  const scenarios = ((o.scenarios as unknown[]) ?? []).map((s, i) => parseScenario(file, i, s));
  const manual = ((o.manual as unknown[]) ?? []).map((m, i) => parseManual(file, i, m));
  const ids = [...scenarios.map((s) => s.id), ...manual.map((m) => m.id)];
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) bad(file, dup, 'this id is used twice');
  return { scenarios, manual };
}

function merge<T extends { id: string }>(base: T[], extra: T[]): T[] {
  const out = [...base];
  for (const e of extra) {
    const i = out.findIndex((b) => b.id === e.id);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** The built-in book, then each extra file in order (NotFoundError for a missing file, UsageError for a bad one). */
export function loadBook(extraFiles: string[] = [], builtin = BUILTIN_BOOK): ScenarioBook {
  const files = [builtin, ...extraFiles];
  let scenarios: Scenario[] = [];
  let manual: ManualCase[] = [];
  for (const f of files) {
    if (!fs.existsSync(f)) throw new NotFoundError(`scenario book ${f} does not exist`);
    const b = parseBook(fs.readFileSync(f, 'utf8'), f);
    scenarios = merge(scenarios, b.scenarios);
    manual = merge(manual, b.manual);
  }
  return { scenarios, manual, sources: files };
}
