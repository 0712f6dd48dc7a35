/**
 * What every saved-file format of src/formats shares: zod schemas (the TypeScript types are inferred from
 * them), YAML parsing and one-line errors that name the file, the path inside it and what was expected:
 * `plan.yaml: steps[3].runner.kind: expected one of ocs-bridge, …, got "foo"`.
 *
 * Each format module (plan.ts, run-file.ts, journal.ts, findings.ts, manifest.ts, catalog.ts, corrective.ts,
 * rules.ts, recette.ts, apply.ts, functional-results.ts, step-evidence.ts, recorded-state.ts, instance-record.ts,
 * lock.ts; message.ts for the texts they carry) holds one schema, one reader and one writer; the error class of each reader is the one its
 * stage used before (VerificationError, CatalogError, UsageError…), so exit codes are unchanged.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { fromSystemError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';

export { z };

/** A value as the messages show it: strings quoted (cut at 60 characters), lists and mappings by kind. */
export function show(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v);
  return `${String(v)} (${typeof v})`;
}

/** Whether `v` is a mapping (not a list), to read its keys without a cast. */
export function isMapping(v: unknown): v is { [key: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at `key` of a mapping or list, undefined for anything else. */
function member(v: unknown, key: PropertyKey): unknown {
  if (Array.isArray(v)) return typeof key === 'number' ? v[key] : undefined;
  return isMapping(v) && typeof key === 'string' ? v[key] : undefined;
}

/** `steps[3].runner.kind` from zod's path. */
export function pathString(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
};

function values(vs: ReadonlyArray<unknown>): string {
  return vs.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

/**
 * One issue as `path: what was expected, got what`. Schemas that need a better word than zod's give a custom
 * message (`{ error: … }`), used as it is.
 */
export function describeIssue(issue: z.core.$ZodIssue, known?: string[]): string {
  const at = pathString(issue.path);
  const input = (issue as { input?: unknown }).input;
  if (input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union')) return `${at || '(document)'}: is required`;
  let what: string;
  // A message given by the schema (`{ error: … }`) is used as it is; zod's own ones are reworded below.
  const given = issue.code !== 'unrecognized_keys' && !/^(Invalid|Too (small|big)|Expected|Unrecognized)/.test(issue.message);
  if (given) return `${at || '(document)'}: ${issue.message}`;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) what = 'is required';
      else what = `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${show(input)}`;
      break;
    case 'invalid_value':
      what = issue.values.length === 1 ? `expected ${JSON.stringify(issue.values[0])}, got ${show(input)}` : `expected one of ${values(issue.values)}, got ${show(input)}`;
      break;
    case 'unrecognized_keys': {
      const key = `${at ? `${at}.` : ''}${issue.keys[0]}`;
      return known ? `${key}: unknown key (expected one of ${known.join(', ')})` : `${key}: unknown key`;
    }
    case 'invalid_union': {
      const d = issue as { discriminator?: string; options?: unknown[] };
      if (d.discriminator && d.options) {
        const got = isMapping(input) ? input[d.discriminator] : input;
        what = got === undefined ? 'is required' : `expected one of ${values(d.options)}, got ${show(got)}`;
      } else if (issue.message && !issue.message.startsWith('Invalid input')) {
        what = issue.message;
      } else {
        what = `expected one of the documented forms, got ${show(input)}`;
      }
      break;
    }
    case 'too_small':
      what = issue.origin === 'array' ? 'expected a non-empty list' : `expected ${issue.origin === 'string' ? 'a non-empty string' : `a value >= ${String(issue.minimum)}`}, got ${show(input)}`;
      break;
    case 'too_big':
      what = `expected a value <= ${String(issue.maximum)}, got ${show(input)}`;
      break;
    default:
      what = issue.message;
  }
  return `${at || '(document)'}: ${what}`;
}

/** A string that must match `pattern`; `what` says what in the message ("a dotted version like "10.0.22""). */
export function patterned(pattern: RegExp, what: string) {
  return z.string({ error: (iss) => `expected ${what}, got ${show(iss.input)}` }).regex(pattern, { error: (iss) => `expected ${what}, got ${show(iss.input)}` });
}

/** An integer (zod says "number" for a string given where an integer is expected). */
export function integer() {
  return z.int({ error: (iss) => `expected an integer, got ${show(iss.input)}` });
}

/** A list, with its own message when empty. */
export function nonEmpty<T extends z.ZodType>(of: T) {
  return z.array(of).min(1, { error: 'expected a non-empty list' });
}

type Def = { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; valueType?: z.ZodType; options?: z.ZodType[]; discriminator?: string };

function defOf(s: z.ZodType): Def {
  return s._zod.def as Def;
}

/** The keys a mapping may have at `at` in `doc` (for "unknown key (expected one of …)"). */
export function keysAt(schema: z.ZodType, doc: unknown, at: ReadonlyArray<PropertyKey>): string[] | undefined {
  let s: z.ZodType | undefined = schema;
  let v: unknown = doc;
  let i = 0;
  while (s) {
    const d = defOf(s);
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default') s = d.innerType;
    else if (d.type === 'pipe') s = d.in;
    else if (d.type === 'union' && d.options) {
      const here = v;
      s =
        d.options.find((o) => {
          const od = defOf(o);
          if (!od.shape || !isMapping(here)) return false;
          if (d.discriminator) return od.shape[d.discriminator]?.safeParse(here[d.discriminator]).success === true;
          return true;
        }) ?? undefined;
    } else if (i === at.length) return d.shape ? Object.keys(d.shape) : undefined;
    else {
      const k = at[i++];
      v = member(v, k);
      if (d.type === 'object') s = d.shape?.[String(k)];
      else if (d.type === 'array') s = d.element;
      else if (d.type === 'record') s = d.valueType;
      else return undefined;
    }
  }
  return undefined;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * `output` with the keys of each mapping in the order `input` had them (keys the schema added, such as
 * defaults, last). zod builds its output in the schema's order; a file read and written again (findings
 * copied into a run directory, a manifest rewritten by anonymize, step results replayed from the journal)
 * must keep its bytes, which the documents fingerprint.
 */
export function orderLike(input: unknown, output: unknown, seen: Map<object, unknown> = new Map()): unknown {
  // A mapping or list that appears twice in the input (a YAML alias) stays one shared value, so that writing it
  // again gives the same anchors and aliases.
  if (input && typeof input === 'object' && seen.has(input)) return seen.get(input);
  let out: unknown = output;
  if (Array.isArray(output) && Array.isArray(input)) out = output.map((o, i) => orderLike(input[i], o, seen));
  else if (isPlain(output) && isPlain(input)) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(input)) if (k in output) o[k] = orderLike(input[k], output[k], seen);
    for (const k of Object.keys(output)) if (!(k in o)) o[k] = output[k];
    out = o;
  }
  if (input && typeof input === 'object') seen.set(input, out);
  return out;
}

/**
 * The JSON file `file` read with `schema`, or undefined when it is absent, unreadable, torn or not what the
 * schema says (the small files of running processes: records, locks, step evidence).
 */
export function readJsonIfValid<S extends z.ZodType>(file: string, schema: S): z.output<S> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const r = schema.safeParse(doc);
  return r.success ? (orderLike(doc, r.data) as z.output<S>) : undefined;
}

/** Parses `doc` with `schema`; the first issue becomes `invalid("<label>: <path>: <what>")`. */
export function parseDocument<S extends z.ZodType>(schema: S, doc: unknown, label: string, invalid: (message: string) => Error): z.output<S> {
  const r = schema.safeParse(doc, { reportInput: true });
  if (r.success) return orderLike(doc, r.data) as z.output<S>;
  const issue = r.error.issues[0];
  const known = issue.code === 'unrecognized_keys' ? keysAt(schema, doc, issue.path) : undefined;
  throw invalid(`${label}: ${describeIssue(issue, known)}`);
}

/** Parses YAML text: bad YAML becomes `invalid("<label>: not valid YAML (<first line of the parser's message>)")`. */
export function parseYamlText(text: string, label: string, invalid: (message: string) => Error): unknown {
  try {
    return YAML.parse(text);
  } catch (err) {
    throw invalid(`${label}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
}

/**
 * The format version a document declares, checked before the schema: a newer one than this tool reads
 * gives `newer(message)` (a different exit code for some formats), any other mismatch `invalid(message)`.
 */
export function checkFormat(doc: unknown, label: string, current: number, invalid: (message: string) => Error, newer: (message: string) => Error = invalid): void {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalid(`${label}: (document): expected a mapping, got ${show(doc)}`);
  const f = (doc as { format?: unknown }).format;
  if (f === current) return;
  if (typeof f === 'number' && f > current) throw newer(`${label}: format ${f} is newer than this tool understands (format ${current})`);
  throw invalid(`${label}: format: expected ${current}, got ${show(f)}`);
}

/** YAML as every writer of the tool writes it: a comment line, then the document (no line folding). */
export function yamlText(header: string, doc: unknown): string {
  return `${header}\n${yamlBody(doc)}`;
}

/** The YAML of a document, without a comment line. */
export function yamlBody(doc: unknown): string {
  return YAML.stringify(doc, { lineWidth: 0 });
}

/** Writes YAML text atomically. */
export function writeYamlAtomic(file: string, text: string, options: { mode?: number; what?: string } = {}): void {
  writeFileAtomic(file, text, options);
}

/** Reads a text file; ENOENT/EISDIR become `missing()`, other failures are rethrown. */
export function readText(file: string, missing: (code: 'ENOENT' | 'EISDIR' | 'ENOTDIR') => Error): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw missing(code);
    throw fromSystemError(err, `reading ${file}`) ?? err;
  }
}

/** A text file's content, or undefined when it does not exist (other failures are typed and rethrown). */
export function readTextIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw fromSystemError(err, `reading ${file}`) ?? err;
  }
}
