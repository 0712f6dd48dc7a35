/**
 * Texts saved in files are messages (src/i18n/messages.ts): `{ id, params }`, rendered in a language only when
 * shown. Files written before messages existed hold an English string and, sometimes, its French twin in a
 * `…Fr` field: `savedTexts` turns those into `literal` messages before the schema sees the object, so every
 * reader gets messages only and the twins never reach the types.
 */
import { literal, type Message } from '../i18n/messages.ts';
import { fromSaved, messageProblem } from '../i18n/saved.ts';
import { describeIssue, isMapping, show, z } from './schema.ts';

/** A message saved in a file (catalog id, `literal` or `joined`); a bad one is refused at the path inside it. */
export const message = z
  .custom<Message>(() => true)
  .superRefine((v, ctx) => {
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required', input: v });
      return;
    }
    const problem = messageProblem(v, '@');
    if (problem === undefined) return;
    const m = /^@((?:\.[^.[:]+|\[\d+\])*): (.*)$/.exec(problem);
    const path = [...(m?.[1] ?? '').matchAll(/\.([^.[:]+)|\[(\d+)\]/g)].map((x) => (x[2] === undefined ? x[1] : Number(x[2])));
    const what = m?.[2] ?? problem;
    ctx.addIssue({ code: 'custom', message: path.length ? what : `${what}, got ${show(v)}`, path, input: v });
  });

/** A text in both languages, `{ en, fr }`: in data files, and in files written before messages existed. */
const pair = z.object({ fr: z.string(), en: z.string() });

/**
 * A message, or a text as files written before messages existed hold it, `{ en, fr }` (check titles, manual
 * remedies, anomalies): that pair is read as a literal message, so readers see messages only.
 */
export const messageOrPair = z.preprocess((v, ctx) => {
  if (!isMapping(v) || 'id' in v || !('en' in v || 'fr' in v)) return v;
  const r = pair.safeParse(v, { reportInput: true });
  if (r.success) return literal(r.data.en, r.data.fr);
  for (const issue of r.error.issues) {
    const what = describeIssue({ ...issue, path: [] }).replace(/^\(document\): /, '');
    ctx.addIssue({ code: 'custom', message: what, path: issue.path, input: v });
  }
  return literal('', '');
}, message);

/**
 * A text that a data file gives in both languages (`{ fr, en }`: a corrective migration's title), so that
 * adding one stays a data change: it enters the program as a literal message.
 */
export const bilingual = pair.transform((p) => literal(p.en, p.fr));

/**
 * The French twin of an older file's English text, present only until `savedTexts` folds it in: a twin left
 * after that is one that is not a string.
 */
const twin = z.undefined({ error: (iss) => `expected a string (the French twin of an older file's text), got ${show(iss.input)}` }).optional();

/** `{ <field>Fr: twin }` for each field: what an object of `savedTexts` accepts besides its messages. */
export function twins<const F extends string>(...fields: F[]): { [K in `${F}Fr`]: typeof twin } {
  return Object.fromEntries(fields.map((f) => [`${f}Fr`, twin])) as { [K in `${F}Fr`]: typeof twin };
}

/**
 * `schema`, read from a mapping where each of `fields` may be an older file's English string with its French
 * twin `<field>Fr`: both become one literal message first. A twin that is not a string is left for the schema
 * to refuse (by its `twins(...)` entry), naming it.
 */
export function savedTexts<T extends z.ZodType>(fields: readonly string[], schema: T) {
  return z.preprocess((v) => {
    if (!isMapping(v)) return v;
    const o: Record<string, unknown> = { ...v };
    for (const f of fields) {
      if (typeof o[f] !== 'string') continue;
      const fr = o[`${f}Fr`];
      o[f] = fromSaved(o[f], typeof fr === 'string' ? fr : undefined);
      if (fr === undefined || typeof fr === 'string') delete o[`${f}Fr`];
    }
    return o;
  }, schema);
}
