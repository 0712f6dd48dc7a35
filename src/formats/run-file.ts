/**
 * The one reader of `run.yaml` (a run directory's summary, format 1; docs/formats.md), shared by
 * `rehearse --resume`, `dossier`, `dat` and `ci`. The file is derived from the journal (journal.jsonl is the
 * truth); this reader checks it structurally so that the renderers can trust it: a missing file is a
 * NotFoundError, a file that is not what its format says a VerificationError naming the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { NotFoundError, VerificationError } from '../errors.ts';
import type { RunSummary } from '../rehearse/run-types.ts';
import { upgradeSavedText } from '../i18n/saved.ts';

export const RUN_FILE = 'run.yaml';

type Obj = Record<string, unknown>;

export class Checker {
  constructor(readonly file: string) {}
  fail(field: string, what: string): never {
    throw new VerificationError(`${this.file}: ${field ? `${field} ` : ''}${what}`, {
      hint: 'the file is not in the documented format (docs/formats.md); regenerate it with the command that writes it',
    });
  }
  obj(v: unknown, field: string): Obj {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'must be a mapping');
    return v as Obj;
  }
  arr(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'must be a list');
    return v;
  }
  str(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v;
  }
  optStr(v: unknown, field: string): void {
    if (v !== undefined && v !== null && typeof v !== 'string') this.fail(field, 'must be a string');
  }
  num(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'must be a number');
    return v;
  }
  bool(v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false');
    return v;
  }
  oneOf<T extends string>(v: unknown, field: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail(field, `must be one of ${values.join(', ')}`);
    return v as T;
  }
  text(v: unknown, field: string): void {
    const o = this.obj(v, field);
    this.str(o.fr, `${field}.fr`);
    this.str(o.en, `${field}.en`);
  }
  header(doc: Obj): void {
    if (doc.format !== 1) this.fail('format', `must be 1 (found ${JSON.stringify(doc.format ?? null)})`);
    const tool = this.obj(doc.tool, 'tool');
    this.str(tool.version, 'tool.version');
  }
}

export const SEVERITIES = ['bloquante', 'majeure', 'mineure'] as const;
const STEP_STATUSES = ['passed', 'failed', 'not-run', 'skipped'] as const;

export function checkRunSummary(c: Checker, doc: Obj): RunSummary {
  c.header(doc);
  c.str(doc.runId, 'runId');
  c.str(doc.startedAt, 'startedAt');
  c.optStr(doc.finishedAt, 'finishedAt');
  c.bool(doc.dryRun, 'dryRun');
  c.bool(doc.complete, 'complete');
  const snap = c.obj(doc.snapshot, 'snapshot');
  c.str(snap.dir, 'snapshot.dir');
  c.str(snap.id, 'snapshot.id');
  const plan = c.obj(doc.plan, 'plan');
  c.str(plan.file, 'plan.file');
  const inst = c.obj(doc.instance, 'instance');
  c.oneOf(inst.kind, 'instance.kind', ['embedded', 'external', 'production'] as const);
  c.str(inst.serverVersion, 'instance.serverVersion');
  c.obj(inst.settings ?? {}, 'instance.settings');
  c.arr(doc.distributions ?? [], 'distributions').forEach((d, i) => {
    const o = c.obj(d, `distributions[${i}]`);
    c.str(o.product, `distributions[${i}].product`);
    c.str(o.version, `distributions[${i}].version`);
    c.optStr(o.sha256, `distributions[${i}].sha256`);
  });
  c.arr(doc.preChecks ?? [], 'preChecks').forEach((p, i) => {
    const o = c.obj(p, `preChecks[${i}]`);
    c.str(o.id, `preChecks[${i}].id`);
    c.oneOf(o.status, `preChecks[${i}].status`, ['passed', 'failed'] as const);
    // Title and detail are messages; runs written before messages existed hold English strings with French twins.
    for (const field of ['title', 'detail']) {
      if (typeof o[field] === 'string') c.optStr(o[`${field}Fr`], `preChecks[${i}].${field}Fr`);
      const problem = upgradeSavedText(o, field, `preChecks[${i}]`);
      if (problem) c.fail('', problem);
    }
  });
  c.arr(doc.steps, 'steps').forEach((s, i) => {
    const f = `steps[${i}]`;
    const o = c.obj(s, f);
    c.str(o.stepId, `${f}.stepId`);
    c.oneOf(o.status, `${f}.status`, STEP_STATUSES);
    c.optStr(o.reason, `${f}.reason`);
    c.optStr(o.reasonFr, `${f}.reasonFr`);
    if (o.durationMs !== undefined) c.num(o.durationMs, `${f}.durationMs`);
    c.arr(o.tableDeltas ?? [], `${f}.tableDeltas`).forEach((d, j) => {
      const t = c.obj(d, `${f}.tableDeltas[${j}]`);
      c.str(t.table, `${f}.tableDeltas[${j}].table`);
      c.oneOf(t.verdict, `${f}.tableDeltas[${j}].verdict`, ['unchanged', 'expected', 'anomaly'] as const);
    });
    for (const [j, e] of c.arr(o.evidence ?? [], `${f}.evidence`).entries()) c.str(e, `${f}.evidence[${j}]`);
    o.tableDeltas ??= [];
    o.evidence ??= [];
  });
  c.arr(doc.anomalies ?? [], 'anomalies').forEach((a, i) => {
    const f = `anomalies[${i}]`;
    const o = c.obj(a, f);
    c.str(o.id, `${f}.id`);
    c.oneOf(o.severity, `${f}.severity`, SEVERITIES);
    c.text(o.title, `${f}.title`);
    c.text(o.detail, `${f}.detail`);
    if (o.remedy !== undefined) c.text(o.remedy, `${f}.remedy`);
    c.bool(o.resolved, `${f}.resolved`);
  });
  doc.distributions ??= [];
  doc.preChecks ??= [];
  doc.anomalies ??= [];
  inst.settings ??= {};
  return doc as unknown as RunSummary;
}

/** Reads and checks `run.yaml` of `runDir`. */
export function readRunFile(runDir: string): RunSummary {
  const file = path.join(runDir, RUN_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      throw new NotFoundError(`${runDir} is not a run directory: run.yaml not found`, {
        hint: 'give the directory written by `glpi-ocs-upgrade rehearse` (it holds run.yaml, plan.yaml, journal.jsonl)',
      });
    }
    throw err;
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new VerificationError(`run.yaml: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new VerificationError('run.yaml: not a YAML mapping');
  return checkRunSummary(new Checker('run.yaml'), doc as Obj);
}

/** run.yaml when there is one; with `lenient`, undefined also for a damaged one (the journal is the truth). */
export function readRunFileIfAny(runDir: string, options: { lenient?: boolean } = {}): RunSummary | undefined {
  if (!fs.existsSync(path.join(runDir, RUN_FILE))) return undefined;
  try {
    return readRunFile(runDir);
  } catch (err) {
    if (options.lenient) return undefined;
    throw err;
  }
}
