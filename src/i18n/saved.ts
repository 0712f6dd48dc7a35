/**
 * Messages read back from saved files. A message is `{ id, params }`; files written before messages existed
 * hold an English string and, sometimes, its French twin in a `…Fr` field: `fromSaved` turns those into a
 * `literal` message, so every reader sees messages only.
 */
import { en } from './en.ts';
import { literal } from './messages.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCatalogId(id: string): boolean {
  return Object.keys(en).includes(id);
}

/** What is wrong with a saved message, as "<path>: <problem>", or undefined when it is one. */
export function messageProblem(v: unknown, path: string): string | undefined {
  if (!isObject(v)) return `${path}: expected a message (id and params) or a string`;
  const { id, params } = v;
  if (typeof id !== 'string') return `${path}.id: expected a message id`;
  if (!isObject(params)) return `${path}.params: expected a mapping`;
  if (id === 'literal') {
    if (typeof params.en !== 'string') return `${path}.params.en: expected a string`;
    if (typeof params.fr !== 'string') return `${path}.params.fr: expected a string`;
    return undefined;
  }
  if (id === 'joined') {
    if (!Array.isArray(params.parts)) return `${path}.params.parts: expected a list`;
    for (const [i, p] of params.parts.entries()) {
      const problem = messageProblem(p, `${path}.params.parts[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isCatalogId(id)) return `${path}.id: unknown message id "${id}" (a file written by a newer version?)`;
  for (const [k, p] of Object.entries(params)) {
    if (isObject(p) && 'id' in p) {
      const problem = messageProblem(p, `${path}.params.${k}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * A saved text as a message: a message as is, or an older file's English string with its optional French
 * twin as a literal (the English in both languages when there is no twin).
 */
export function fromSaved(v: unknown, fr?: unknown): unknown {
  if (typeof v === 'string') return literal(v, typeof fr === 'string' ? fr : v);
  return v;
}
