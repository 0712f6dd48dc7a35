/**
 * `recette.yaml` (format 1): what the customer and the supplier agreed, which no run can know — the contract
 * references, the people who sign, the severities changed by agreement (each with its justification), the
 * lifecycle of each anomaly (owner, deadline, state, the attempt that verified it), the réserves with their
 * deadlines and the results of the manual tests. Read by `dossier --recette FILE` and `dat --recette FILE`;
 * everything in it shows in the documents, and whatever it overrides is marked as such. Documented in
 * docs/formats.md and docs/reports.md; an example in docs/examples/recette.yaml.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import YAML from 'yaml';
import { NotFoundError, VerificationError } from '../errors.ts';
import type { Severity } from '../audit/finding-types.ts';
import { Checker } from './inputs.ts';

export type AnomalyState = 'ouverte' | 'corrigée' | 'vérifiée' | 'close';
export const ANOMALY_STATES: readonly AnomalyState[] = ['ouverte', 'corrigée', 'vérifiée', 'close'];
export type ManualStatus = 'passed' | 'failed' | 'blocked';

export interface RecettePerson {
  name: string;
  role: string;
  organisation?: string;
}

export interface SeverityChange {
  /** An anomaly, audit finding (constat) or risk id: `A-…`, `F-glpi.duplicates.users`, `glpi.duplicates.users`. */
  id: string;
  severity: Severity;
  justification: string;
  /** Day of the agreement (YYYY-MM-DD). */
  agreedOn?: string;
}

export interface AnomalyFollowUp {
  id: string;
  state: AnomalyState;
  owner?: string;
  /** Correction deadline (YYYY-MM-DD). */
  deadline?: string;
  /** Detection day, when it differs from the attempt that raised it. */
  detectedOn?: string;
  /** The attempt (run id, apply id, test id) that verified the correction. */
  verifiedBy?: string;
  note?: string;
}

export interface Reserve {
  id: string;
  text: string;
  deadline: string;
  anomalies: string[];
}

export interface ManualTest {
  id: string;
  title: string;
  tester: string;
  date: string;
  expected?: string;
  observed: string;
  status: ManualStatus;
  /** For a failed test: the anomaly it raises (its severity is required then). */
  anomaly?: { id: string; severity: Severity; title: string };
}

export interface Recette {
  format: 1;
  customer?: string;
  project?: string;
  /** Contract (marché) reference, e.g. MAPA/06/2019/ARS13. */
  contract?: string;
  /** Purchase order (bon de commande) number. */
  order?: string;
  /** People who sign the visa table of the dossier. */
  visas: RecettePerson[];
  /** Who signs the PV for each party. */
  pv: { supplier?: RecettePerson; customer?: RecettePerson };
  severities: SeverityChange[];
  anomalies: AnomalyFollowUp[];
  reserves: Reserve[];
  manualTests: ManualTest[];
  /** Where it was read from (file name only) and its fingerprint, for the sources table. */
  source?: { path: string; bytes: number; sha256: string };
}

const SEVERITIES = ['bloquante', 'majeure', 'mineure'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function day(c: Checker, v: unknown, field: string): string {
  const s = c.str(typeof v === 'object' && v instanceof Date ? v.toISOString().slice(0, 10) : v, field);
  if (!DAY.test(s)) c.fail(field, 'must be a day written YYYY-MM-DD');
  return s;
}

function optDay(c: Checker, v: unknown, field: string): string | undefined {
  return v === undefined || v === null ? undefined : day(c, v, field);
}

function optString(c: Checker, v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  return c.str(typeof v === 'number' ? String(v) : v, field);
}

function person(c: Checker, v: unknown, field: string): RecettePerson {
  const o = c.obj(v, field);
  return { name: c.str(o.name, `${field}.name`), role: c.str(o.role, `${field}.role`), organisation: optString(c, o.organisation, `${field}.organisation`) };
}

/** Checks a parsed recette.yaml; `label` names the file in errors. */
export function checkRecette(doc: unknown, label = 'recette.yaml'): Recette {
  const c = new Checker(label);
  const o = c.obj(doc, '');
  if (o.format !== 1) c.fail('format', `must be 1 (found ${JSON.stringify(o.format ?? null)})`);
  const known = new Set(['format', 'customer', 'project', 'contract', 'order', 'visas', 'pv', 'severities', 'anomalies', 'reserves', 'manualTests']);
  for (const k of Object.keys(o)) if (!known.has(k)) c.fail(k, `is not a field of recette.yaml (fields: ${[...known].join(', ')})`);
  const pv = o.pv === undefined || o.pv === null ? {} : c.obj(o.pv, 'pv');
  const r: Recette = {
    format: 1,
    customer: optString(c, o.customer, 'customer'),
    project: optString(c, o.project, 'project'),
    contract: optString(c, o.contract, 'contract'),
    order: optString(c, o.order, 'order'),
    visas: c.arr(o.visas ?? [], 'visas').map((v, i) => person(c, v, `visas[${i}]`)),
    pv: {
      supplier: pv.supplier === undefined ? undefined : person(c, pv.supplier, 'pv.supplier'),
      customer: pv.customer === undefined ? undefined : person(c, pv.customer, 'pv.customer'),
    },
    severities: c.arr(o.severities ?? [], 'severities').map((v, i) => {
      const f = `severities[${i}]`;
      const x = c.obj(v, f);
      const justification = c.str(x.justification, `${f}.justification`);
      if (!justification.trim()) c.fail(`${f}.justification`, 'must say why the severity was changed');
      return { id: c.str(x.id, `${f}.id`), severity: c.oneOf(x.severity, `${f}.severity`, SEVERITIES), justification, agreedOn: optDay(c, x.agreedOn, `${f}.agreedOn`) };
    }),
    anomalies: c.arr(o.anomalies ?? [], 'anomalies').map((v, i) => {
      const f = `anomalies[${i}]`;
      const x = c.obj(v, f);
      return {
        id: c.str(x.id, `${f}.id`),
        state: c.oneOf(x.state, `${f}.state`, ANOMALY_STATES),
        owner: optString(c, x.owner, `${f}.owner`),
        deadline: optDay(c, x.deadline, `${f}.deadline`),
        detectedOn: optDay(c, x.detectedOn, `${f}.detectedOn`),
        verifiedBy: optString(c, x.verifiedBy, `${f}.verifiedBy`),
        note: optString(c, x.note, `${f}.note`),
      };
    }),
    reserves: c.arr(o.reserves ?? [], 'reserves').map((v, i) => {
      const f = `reserves[${i}]`;
      const x = c.obj(v, f);
      return {
        id: optString(c, x.id, `${f}.id`) ?? `R-${String(i + 1).padStart(2, '0')}`,
        text: c.str(x.text, `${f}.text`),
        deadline: day(c, x.deadline, `${f}.deadline`),
        anomalies: c.arr(x.anomalies ?? [], `${f}.anomalies`).map((a, j) => c.str(a, `${f}.anomalies[${j}]`)),
      };
    }),
    manualTests: c.arr(o.manualTests ?? [], 'manualTests').map((v, i) => {
      const f = `manualTests[${i}]`;
      const x = c.obj(v, f);
      const status = c.oneOf(x.status, `${f}.status`, ['passed', 'failed', 'blocked'] as const);
      let anomaly: ManualTest['anomaly'];
      if (x.anomaly !== undefined && x.anomaly !== null) {
        const a = c.obj(x.anomaly, `${f}.anomaly`);
        anomaly = { id: c.str(a.id, `${f}.anomaly.id`), severity: c.oneOf(a.severity, `${f}.anomaly.severity`, SEVERITIES), title: c.str(a.title, `${f}.anomaly.title`) };
      }
      if (status === 'failed' && !anomaly) c.fail(`${f}.anomaly`, 'is required for a failed test (id, severity, title of the anomaly it raises)');
      return {
        id: c.str(x.id, `${f}.id`),
        title: c.str(x.title, `${f}.title`),
        tester: c.str(x.tester, `${f}.tester`),
        date: day(c, x.date, `${f}.date`),
        expected: optString(c, x.expected, `${f}.expected`),
        observed: c.str(x.observed, `${f}.observed`),
        status,
        anomaly,
      };
    }),
  };
  const ids = new Set<string>();
  for (const t of r.manualTests) {
    if (ids.has(t.id)) c.fail('manualTests', `lists ${t.id} twice`);
    ids.add(t.id);
  }
  return r;
}

/** Reads and checks a recette.yaml file. */
export function loadRecette(file: string): Recette {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new NotFoundError(`recette file ${file} not found`, { hint: 'see docs/examples/recette.yaml for the format' });
    throw err;
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new VerificationError(`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const name = file.split(/[\\/]/).pop() ?? 'recette.yaml';
  const r = checkRecette(doc, name);
  const buf = Buffer.from(text, 'utf8');
  r.source = { path: name, bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
  return r;
}

/** Writes a recette file (the writer used by tests and by whoever builds one from another tool). */
export function stringifyRecette(r: Recette): string {
  const { source: _source, ...rest } = r;
  const clean = JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
  for (const k of ['visas', 'severities', 'anomalies', 'reserves', 'manualTests']) if (Array.isArray(clean[k]) && !(clean[k] as unknown[]).length) delete clean[k];
  if (clean.pv && !Object.keys(clean.pv as object).length) delete clean.pv;
  return YAML.stringify(clean, { lineWidth: 0 });
}
