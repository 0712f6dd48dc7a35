/**
 * `recette.yaml` (format 1): what the customer and the supplier agreed, which no run can know — the contract
 * references, the people who sign, the severities changed by agreement (each with its justification), the
 * lifecycle of each anomaly (owner, deadline, state, the attempt that verified it), the réserves with their
 * deadlines and the results of the manual tests. Read by `dossier --recette FILE` and `dat --recette FILE`.
 * Written by people, so the reader is forgiving where YAML is surprising: a day may be a YAML date, a number
 * where a text is expected is taken as text, an empty field (null) as an absent one. Documented in
 * docs/formats.md and docs/reports.md; an example in docs/examples/recette.yaml.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { NotFoundError, VerificationError } from '../errors.ts';
import { severity } from './findings.ts';
import { checkFormat, parseDocument, parseYamlText, readText, yamlBody, z } from './schema.ts';

export const RECETTE_FORMAT = 1;

export const ANOMALY_STATES = ['ouverte', 'corrigée', 'vérifiée', 'close'] as const;

const absent = (v: unknown) => (v === null ? undefined : v);
/** A text; a number is taken as its text, null as absent. */
const optText = z.preprocess((v) => (typeof v === 'number' ? String(v) : absent(v)), z.string().optional());
/** A day written YYYY-MM-DD (a YAML date is taken as its day). */
const day = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v),
  z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: (iss) => `expected a day written YYYY-MM-DD, got ${JSON.stringify(iss.input)}` }),
);
const optDay = z.preprocess(absent, day.optional());
const list = <T extends z.ZodType>(of: T) => z.preprocess(absent, z.array(of).default([]));

const person = z.object({ name: z.string(), role: z.string(), organisation: optText });

const severityChange = z.object({
  /** An anomaly, audit finding (constat) or risk id: `A-…`, `F-glpi.duplicates.users`, `glpi.duplicates.users`. */
  id: z.string(),
  severity,
  justification: z.string().refine((s) => s.trim() !== '', { error: 'must say why the severity was changed' }),
  /** Day of the agreement (YYYY-MM-DD). */
  agreedOn: optDay,
});

const anomalyFollowUp = z.object({
  id: z.string(),
  state: z.enum(ANOMALY_STATES),
  owner: optText,
  /** Correction deadline (YYYY-MM-DD). */
  deadline: optDay,
  /** Detection day, when it differs from the attempt that raised it. */
  detectedOn: optDay,
  /** The attempt (run id, apply id, test id) that verified the correction. */
  verifiedBy: optText,
  note: optText,
});

const reserve = z.object({ id: optText, text: z.string(), deadline: day, anomalies: list(z.string()) });

const manualTest = z
  .object({
    id: z.string(),
    title: z.string(),
    tester: z.string(),
    date: day,
    expected: optText,
    observed: z.string(),
    status: z.enum(['passed', 'failed', 'blocked']),
    /** For a failed test: the anomaly it raises (its severity is required then). */
    anomaly: z.preprocess(absent, z.object({ id: z.string(), severity, title: z.string() }).optional()),
  })
  .check((ctx) => {
    if (ctx.value.status === 'failed' && !ctx.value.anomaly) {
      ctx.issues.push({ code: 'custom', path: ['anomaly'], input: ctx.value.anomaly, message: 'is required for a failed test (id, severity, title of the anomaly it raises)' });
    }
  });

export const recetteSchema = z
  .strictObject({
    format: z.literal(RECETTE_FORMAT),
    customer: optText,
    project: optText,
    /** Contract (marché) reference, e.g. MAPA/06/2019/ARS13. */
    contract: optText,
    /** Purchase order (bon de commande) number. */
    order: optText,
    /** People who sign the visa table of the dossier. */
    visas: list(person),
    /** Who signs the PV for each party. */
    pv: z.preprocess(absent, z.object({ supplier: person.optional(), customer: person.optional() }).default({})),
    severities: list(severityChange),
    anomalies: list(anomalyFollowUp),
    reserves: list(reserve),
    manualTests: list(manualTest),
  })
  .check((ctx) => {
    const ids = new Set<string>();
    for (const t of ctx.value.manualTests) {
      if (ids.has(t.id)) ctx.issues.push({ code: 'custom', path: ['manualTests'], input: t.id, message: `lists ${t.id} twice` });
      ids.add(t.id);
    }
  });

type Parsed = z.infer<typeof recetteSchema>;
export type AnomalyState = (typeof ANOMALY_STATES)[number];
export type ManualStatus = Parsed['manualTests'][number]['status'];
export type RecettePerson = z.infer<typeof person>;
export type SeverityChange = z.infer<typeof severityChange>;
export type AnomalyFollowUp = z.infer<typeof anomalyFollowUp>;
export type Reserve = Omit<z.infer<typeof reserve>, 'id'> & { id: string };
export type ManualTest = Parsed['manualTests'][number];
export type Recette = Omit<Parsed, 'reserves'> & {
  reserves: Reserve[];
  /** Where it was read from (file name only) and its fingerprint, for the sources table. */
  source?: { path: string; bytes: number; sha256: string };
};

const invalid = (message: string) => new VerificationError(message, { hint: 'see docs/examples/recette.yaml for the format' });

/** Checks a parsed recette.yaml; `label` names the file in errors. Réserves without an id get … */
export function parseRecette(doc: unknown, label = 'recette.yaml'): Recette {
  checkFormat(doc, label, RECETTE_FORMAT, invalid);
  const r = parseDocument(recetteSchema, doc, label, invalid);
  return { ...r, reserves: r.reserves.map((x, i) => ({ ...x, id: x.id ?? `R-${String(i + 1).padStart(2, '0')}` })) };
}

/** The one reader: reads and checks a recette.yaml file, and fingerprints it. */
export function readRecetteFile(file: string): Recette {
  const text = readText(file, () => new NotFoundError(`recette file ${file} not found`, { hint: 'see docs/examples/recette.yaml for the format' }));
  const name = path.basename(file);
  const r = parseRecette(parseYamlText(text, file, invalid), name);
  const buf = Buffer.from(text, 'utf8');
  r.source = { path: name, bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
  return r;
}

/** The one writer's text (used by tests and by whoever builds one from another tool): empty lists left out. */
export function stringifyRecette(r: Recette): string {
  const { source: _source, ...rest } = r;
  const clean: Record<string, unknown> = JSON.parse(JSON.stringify(rest));
  for (const k of ['visas', 'severities', 'anomalies', 'reserves', 'manualTests']) if (Array.isArray(clean[k]) && !(clean[k] as unknown[]).length) delete clean[k];
  if (clean.pv && typeof clean.pv === 'object' && !Object.keys(clean.pv).length) delete clean.pv;
  return yamlBody(clean);
}
