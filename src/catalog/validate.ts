/**
 * A small hand-written schema validator for the catalog's YAML files: each schema node checks one value and
 * reports the exact path of what is wrong ("branches[3].updater.entry: expected one of …, got "bin/consol"").
 * No dependency; the schemas live next to the types they check (src/catalog/catalog.ts, src/plan/io.ts).
 */
import { isVersionRange } from './version.ts';

export class SchemaError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path || '(document)'}: ${message}`);
    this.path = path;
  }
}

export type Schema =
  | { t: 'string'; pattern?: RegExp; what?: string; enum?: readonly string[]; check?: (s: string) => string | undefined }
  | { t: 'int'; min?: number; max?: number }
  | { t: 'number' }
  | { t: 'bool' }
  | { t: 'list'; of: Schema; nonEmpty?: boolean }
  | { t: 'object'; fields: Record<string, Field>; open?: boolean }
  | { t: 'map'; of: Schema }
  | { t: 'union'; options: Schema[]; what: string }
  | { t: 'literal'; value: string | number | boolean }
  | { t: 'any' };

export interface Field {
  schema: Schema;
  optional?: boolean;
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v);
  return `${String(v)} (${typeof v})`;
}

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

export function validate(value: unknown, schema: Schema, path = ''): void {
  switch (schema.t) {
    case 'any':
      return;
    case 'literal':
      if (value !== schema.value) throw new SchemaError(path, `expected ${JSON.stringify(schema.value)}, got ${show(value)}`);
      return;
    case 'string': {
      if (typeof value !== 'string') throw new SchemaError(path, `expected ${schema.what ?? 'a string'}, got ${show(value)}`);
      if (schema.enum && !schema.enum.includes(value)) {
        throw new SchemaError(path, `expected one of ${schema.enum.join(', ')}, got ${show(value)}`);
      }
      if (schema.pattern && !schema.pattern.test(value)) {
        throw new SchemaError(path, `expected ${schema.what ?? `a string matching ${schema.pattern}`}, got ${show(value)}`);
      }
      const problem = schema.check?.(value);
      if (problem) throw new SchemaError(path, problem);
      return;
    }
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new SchemaError(path, `expected an integer, got ${show(value)}`);
      if (schema.min !== undefined && value < schema.min) throw new SchemaError(path, `expected an integer >= ${schema.min}, got ${value}`);
      if (schema.max !== undefined && value > schema.max) throw new SchemaError(path, `expected an integer <= ${schema.max}, got ${value}`);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new SchemaError(path, `expected a number, got ${show(value)}`);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new SchemaError(path, `expected true or false, got ${show(value)}`);
      return;
    case 'list':
      if (!Array.isArray(value)) throw new SchemaError(path, `expected a list, got ${show(value)}`);
      if (schema.nonEmpty && value.length === 0) throw new SchemaError(path, 'expected a non-empty list');
      for (const [i, item] of value.entries()) validate(item, schema.of, join(path, i));
      return;
    case 'map':
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SchemaError(path, `expected a mapping, got ${show(value)}`);
      for (const [k, v] of Object.entries(value)) validate(v, schema.of, join(path, k));
      return;
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SchemaError(path, `expected a mapping, got ${show(value)}`);
      const obj = value as Record<string, unknown>;
      for (const [k, f] of Object.entries(schema.fields)) {
        if (obj[k] === undefined || obj[k] === null) {
          if (!f.optional) throw new SchemaError(join(path, k), 'is required');
          continue;
        }
        validate(obj[k], f.schema, join(path, k));
      }
      if (!schema.open) {
        const unknown = Object.keys(obj).filter((k) => !(k in schema.fields));
        if (unknown.length) {
          throw new SchemaError(join(path, unknown[0]), `unknown key (expected one of ${Object.keys(schema.fields).join(', ')})`);
        }
      }
      return;
    }
    case 'union': {
      for (const o of schema.options) {
        try {
          validate(value, o, path);
          return;
        } catch (e) {
          if (!(e instanceof SchemaError)) throw e;
        }
      }
      throw new SchemaError(path, `expected ${schema.what}, got ${show(value)}`);
    }
  }
}

// Builders, so schemas read like the YAML they check.
export const S = {
  str: (o: Omit<Extract<Schema, { t: 'string' }>, 't'> = {}): Schema => ({ t: 'string', ...o }),
  oneOf: (values: readonly string[]): Schema => ({ t: 'string', enum: values }),
  int: (o: { min?: number; max?: number } = {}): Schema => ({ t: 'int', ...o }),
  num: (): Schema => ({ t: 'number' }),
  bool: (): Schema => ({ t: 'bool' }),
  list: (of: Schema, nonEmpty = false): Schema => ({ t: 'list', of, nonEmpty }),
  map: (of: Schema): Schema => ({ t: 'map', of }),
  obj: (fields: Record<string, Schema | Field>, open = false): Schema => ({
    t: 'object',
    open,
    fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, 'schema' in v ? v : { schema: v }])),
  }),
  opt: (schema: Schema): Field => ({ schema, optional: true }),
  union: (what: string, ...options: Schema[]): Schema => ({ t: 'union', options, what }),
  literal: (value: string | number | boolean): Schema => ({ t: 'literal', value }),
  any: (): Schema => ({ t: 'any' }),
  /** A dotted product version: "0.83.8", "9.1.7.1", "10.0", "2.12.4". */
  version: (): Schema => ({ t: 'string', pattern: /^\d+(\.\d+){0,3}$/, what: 'a dotted version like "10.0.22"' }),
  /** A semver range such as ">=7.4.0 <8.5.0". */
  range: (): Schema => ({
    t: 'string',
    what: 'a semver range like ">=7.4.0 <8.5.0"',
    check: (s) => (isVersionRange(s) ? undefined : `expected a semver range like ">=7.4.0 <8.5.0", got ${JSON.stringify(s)}`),
  }),
  /** A table name (or a pattern like "snmp_*"). */
  table: (): Schema => ({ t: 'string', pattern: /^[A-Za-z0-9_*]+$/, what: 'a table name' }),
};
