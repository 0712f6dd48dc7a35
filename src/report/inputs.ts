/**
 * Loads what `dossier` and `dat` read: a rehearsal's run directory (run.yaml, journal.jsonl, plan.yaml,
 * findings.yaml, evidence/…) and the snapshot manifest it points to, or a snapshot directory alone.
 *
 * The files are read with the `yaml` package and checked structurally here (format 1, required fields and
 * their types), so the renderers can trust them. A missing run directory or required file is a
 * NotFoundError; a file that is not what its format says is a VerificationError naming the file and field.
 * Nothing here reads the clock or a database: same files in, same inputs out.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { NotFoundError, VerificationError } from '../errors.ts';
import type { JournalEvent, RunSummary } from '../rehearse/run-types.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import type { FindingsFile } from '../audit/finding-types.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { readJournalFile } from '../formats/journal.ts';
import { Checker, readRunFile } from '../formats/run-file.ts';
import { planTextProblem, upgradePlanTexts } from '../plan/saved-texts.ts';
import { fromSaved, messageProblem } from '../i18n/saved.ts';

/** A file the document was generated from, with its fingerprint (printed in the dossier). */
export interface SourceFile {
  /** Path relative to the run (or snapshot) directory. */
  path: string;
  bytes: number;
  sha256: string;
}

/** An evidence file named by a step, fingerprinted at load time; `missing` when the run dir lacks it. */
export interface EvidenceFile {
  path: string;
  bytes?: number;
  sha256?: string;
  missing?: boolean;
}

export interface RunInputs {
  kind: 'run';
  run: RunSummary;
  plan: PlanFile;
  findings?: FindingsFile;
  /** Absent when the snapshot directory named by run.yaml is not reachable from here (see warnings). */
  manifest?: Manifest;
  journal: JournalEvent[];
  /** Fingerprints of run.yaml, plan.yaml, findings.yaml, journal.jsonl and the manifest, in that order. */
  sources: SourceFile[];
  /** Evidence files by path (as written in run.yaml). */
  evidence: Record<string, EvidenceFile>;
  /** Inputs that were not available, which the documents mention. */
  warnings: InputWarning[];
  /** For each OCS bridge step, whose script ran, from its evidence bridge.json (`source: tool|official`). */
  bridges?: Record<string, 'tool' | 'official'>;
  /**
   * Fingerprints of the distributions the run used, by run.yaml index, computed here when run.yaml has none
   * and the directory or file is still reachable: the SHA-256 of a file, or a tree hash of a directory
   * (see `treeHash`).
   */
  distributionHashes?: Record<number, { sha256: string; method: 'file' | 'tree' }>;
}

export type InputWarning = 'no-findings' | 'no-manifest';

export interface SnapshotInputs {
  kind: 'snapshot';
  manifest: Manifest;
  sources: SourceFile[];
  warnings: InputWarning[];
}

export type ReportInputs = RunInputs | SnapshotInputs;

// ---------------------------------------------------------------------------------------------------------
// Structural checks

type Obj = Record<string, unknown>;

/** One structural checker for every saved file (src/formats/run-file.ts). */
export { Checker };

const SEVERITIES = ['bloquante', 'majeure', 'mineure'] as const;

function checkPlan(c: Checker, doc: Obj): PlanFile {
  c.header(doc);
  // An older plan's English texts and French twins become literal messages; French notes that do not go one
  // for one with the English ones are ignored (English shown).
  doc.notes ??= [];
  upgradePlanTexts(doc);
  c.str(doc.createdAt, 'createdAt');
  c.obj(doc.source ?? {}, 'source');
  const targets = c.obj(doc.targets, 'targets');
  c.optStr(targets.glpi, 'targets.glpi');
  c.optStr(targets.ocs, 'targets.ocs');
  c.arr(doc.steps, 'steps').forEach((s, i) => {
    const f = `steps[${i}]`;
    const o = c.obj(s, f);
    c.str(o.id, `${f}.id`);
    c.oneOf(o.product, `${f}.product`, ['glpi', 'ocs', 'connector'] as const);
    c.oneOf(o.database, `${f}.database`, ['glpi', 'ocs'] as const);
    c.str(c.obj(o.runner, `${f}.runner`).kind, `${f}.runner.kind`);
    c.str(String(o.from ?? ''), `${f}.from`);
    c.str(String(o.to ?? ''), `${f}.to`);
    o.from = String(o.from);
    o.to = String(o.to);
    o.requires ??= {};
    o.before ??= [];
    o.expected ??= {};
    o.hazards ??= [];
  });
  c.arr(doc.notes, 'notes');
  const problem = planTextProblem(doc);
  if (problem) c.fail('', problem);
  doc.source ??= {};
  return doc as unknown as PlanFile;
}

function checkFindings(c: Checker, doc: Obj): FindingsFile {
  c.header(doc);
  c.str(doc.createdAt, 'createdAt');
  c.arr(doc.checksRun ?? [], 'checksRun').forEach((k, i) => {
    const o = c.obj(k, `checksRun[${i}]`);
    c.str(o.id, `checksRun[${i}].id`);
    c.text(o.title, `checksRun[${i}].title`);
    c.oneOf(o.status, `checksRun[${i}].status`, ['ok', 'finding', 'skipped'] as const);
    // A skip reason is a message; files written before messages existed hold `reason` and `reasonFr` strings.
    if (o.reason !== undefined && o.reason !== null) {
      if (typeof o.reason === 'string') c.optStr(o.reasonFr, `checksRun[${i}].reasonFr`);
      o.reason = fromSaved(o.reason, o.reasonFr);
      const problem = messageProblem(o.reason, `checksRun[${i}].reason`);
      if (problem) c.fail('', problem);
    }
    delete o.reasonFr;
  });
  c.arr(doc.findings ?? [], 'findings').forEach((x, i) => {
    const o = c.obj(x, `findings[${i}]`);
    c.str(o.id, `findings[${i}].id`);
    c.oneOf(o.severity, `findings[${i}].severity`, SEVERITIES);
    c.text(o.title, `findings[${i}].title`);
    c.num(o.count, `findings[${i}].count`);
    o.evidence ??= {};
    o.remedy ??= {};
  });
  doc.checksRun ??= [];
  doc.findings ??= [];
  doc.source ??= {};
  return doc as unknown as FindingsFile;
}

function checkManifest(c: Checker, doc: Obj): Manifest {
  c.header(doc);
  c.str(doc.id, 'id');
  c.str(doc.createdAt, 'createdAt');
  const src = c.obj(doc.source, 'source');
  c.str(src.serverVersion, 'source.serverVersion');
  c.arr(doc.databases, 'databases').forEach((d, i) => {
    const f = `databases[${i}]`;
    const o = c.obj(d, f);
    c.oneOf(o.role, `${f}.role`, ['glpi', 'ocs'] as const);
    c.str(o.name, `${f}.name`);
    c.arr(o.tables, `${f}.tables`).forEach((t, j) => {
      const tt = c.obj(t, `${f}.tables[${j}]`);
      c.str(tt.name, `${f}.tables[${j}].name`);
      c.num(tt.rows, `${f}.tables[${j}].rows`);
      tt.files ??= [];
      if (typeof tt.checksum === 'number') tt.checksum = String(tt.checksum);
    });
    o.views ??= [];
    o.triggers ??= [];
    o.routines ??= [];
  });
  doc.consistency ??= { method: 'no-lock', lockHeldMs: 0 };
  return doc as unknown as Manifest;
}

// ---------------------------------------------------------------------------------------------------------
// Files

function fingerprint(file: string, rel: string): SourceFile {
  const buf = fs.readFileSync(file);
  return { path: rel, bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
}

function readYaml(file: string, label: string): Obj {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new NotFoundError(`${label} not found`);
    throw err;
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new VerificationError(`${label}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new VerificationError(`${label}: not a YAML mapping`);
  return doc as Obj;
}

function assertDir(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new NotFoundError(`${what} ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new NotFoundError(`${what} ${dir} is not a directory`);
}

/** Reads and checks a snapshot directory's manifest.yaml. */
export function loadSnapshotInputs(snapshotDir: string): SnapshotInputs {
  assertDir(snapshotDir, 'snapshot directory');
  const file = path.join(snapshotDir, 'manifest.yaml');
  const manifest = checkManifest(new Checker('manifest.yaml'), readYaml(file, 'manifest.yaml in the snapshot directory'));
  return { kind: 'snapshot', manifest, sources: [fingerprint(file, 'manifest.yaml')], warnings: [] };
}

/**
 * Reads and checks a run directory. The snapshot named by run.yaml (`snapshot.dir`, relative to the run
 * directory or absolute) is read when present; when it is not, the documents are still produced, with a
 * warning, from what run.yaml records. A manifest whose id differs from run.yaml's is refused.
 */
export function loadRunInputs(runDir: string, options: { snapshotDir?: string } = {}): RunInputs {
  assertDir(runDir, 'run directory');
  const runFile = path.join(runDir, 'run.yaml');
  if (!fs.existsSync(runFile)) {
    throw new NotFoundError(`${runDir} is not a run directory: run.yaml not found`, {
      hint: 'give the directory written by `glpi-ocs-upgrade rehearse` (it holds run.yaml, plan.yaml, journal.jsonl)',
    });
  }
  const warnings: InputWarning[] = [];
  const run = readRunFile(runDir);
  const sources: SourceFile[] = [fingerprint(runFile, 'run.yaml')];

  const planName = path.basename(run.plan.file || 'plan.yaml');
  const planFile = fs.existsSync(path.join(runDir, 'plan.yaml')) ? path.join(runDir, 'plan.yaml') : path.join(runDir, planName);
  const plan = checkPlan(new Checker(path.basename(planFile)), readYaml(planFile, `${path.basename(planFile)} in the run directory`));
  sources.push(fingerprint(planFile, path.basename(planFile)));

  let findings: FindingsFile | undefined;
  const findingsFile = path.join(runDir, 'findings.yaml');
  if (fs.existsSync(findingsFile)) {
    findings = checkFindings(new Checker('findings.yaml'), readYaml(findingsFile, 'findings.yaml'));
    sources.push(fingerprint(findingsFile, 'findings.yaml'));
  } else {
    warnings.push('no-findings');
  }

  const journalFile = path.join(runDir, 'journal.jsonl');
  // The one journal reader (src/formats/journal.ts), as --resume reads it: a torn last line is left out.
  const journal = readJournalFile(journalFile).events;
  if (fs.existsSync(journalFile)) sources.push(fingerprint(journalFile, 'journal.jsonl'));

  let manifest: Manifest | undefined;
  const snapDir = options.snapshotDir ?? (path.isAbsolute(run.snapshot.dir) ? run.snapshot.dir : path.resolve(runDir, run.snapshot.dir));
  const manifestFile = path.join(snapDir, 'manifest.yaml');
  if (fs.existsSync(manifestFile)) {
    manifest = checkManifest(new Checker('manifest.yaml'), readYaml(manifestFile, 'manifest.yaml of the snapshot'));
    if (manifest.id !== run.snapshot.id) {
      throw new VerificationError(`the snapshot at ${run.snapshot.dir} (id ${manifest.id.slice(0, 12)}…) is not the one this run restored (id ${run.snapshot.id.slice(0, 12)}…)`, {
        hint: 'point to the right snapshot with --snapshot DIR',
      });
    }
    sources.push(fingerprint(manifestFile, 'snapshot/manifest.yaml'));
  } else {
    warnings.push('no-manifest');
  }

  const evidence: Record<string, EvidenceFile> = {};
  const paths = [...new Set(run.steps.flatMap((s) => s.evidence))].sort();
  for (const rel of paths) {
    const abs = path.resolve(runDir, rel);
    if (!abs.startsWith(path.resolve(runDir) + path.sep) || !fs.existsSync(abs) || !fs.statSync(abs).isFile()) {
      evidence[rel] = { path: rel, missing: true };
    } else {
      const fp = fingerprint(abs, rel);
      evidence[rel] = { path: rel, bytes: fp.bytes, sha256: fp.sha256 };
    }
  }
  const bridges: Record<string, 'tool' | 'official'> = {};
  for (const rel of paths) {
    if (path.basename(rel) !== 'bridge.json' || evidence[rel].missing) continue;
    try {
      const j = JSON.parse(fs.readFileSync(path.resolve(runDir, rel), 'utf8')) as { source?: unknown };
      const step = run.steps.find((s) => s.evidence.includes(rel));
      if (step && (j.source === 'tool' || j.source === 'official')) bridges[step.stepId] = j.source;
    } catch {
      /* an unreadable bridge.json is ignored: the dossier falls back on the run's own record */
    }
  }
  const distributionHashes: Record<number, { sha256: string; method: 'file' | 'tree' }> = {};
  run.distributions.forEach((d, i) => {
    if (d.sha256) return;
    const h = distributionHash(d.path);
    if (h) distributionHashes[i] = h;
  });
  return { kind: 'run', run, plan, findings, manifest, journal, sources, evidence, warnings, bridges, distributionHashes };
}

/** The tool's own files (migrations/…) are resolved from the package root, `~/` from the home directory. */
function resolveDistPath(p: string): string | undefined {
  if (p.startsWith('~/')) return path.join(process.env.HOME ?? '', p.slice(2));
  if (path.isAbsolute(p)) return p;
  if (p.startsWith('migrations/')) return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', p);
  return undefined;
}

/**
 * Tree hash of a directory: the SHA-256 of the lines `<sha256 of the file>  <path relative to the root>`,
 * one per regular file, sorted by path (bytewise), each ending with a newline — the output of
 * `find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum` in the directory.
 * Symbolic links are not followed. The same tree gives the same hash wherever it is unpacked.
 */
export function treeHash(dir: string): string {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) files.push(r);
    }
  };
  walk('');
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const h = crypto.createHash('sha256');
  for (const f of files)
    h.update(
      `${crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(dir, f)))
        .digest('hex')}  ${f}\n`,
    );
  return h.digest('hex');
}

function distributionHash(p: string): { sha256: string; method: 'file' | 'tree' } | undefined {
  const abs = resolveDistPath(p);
  if (!abs || !fs.existsSync(abs)) return undefined;
  try {
    const st = fs.statSync(abs);
    if (st.isFile()) return { sha256: crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex'), method: 'file' };
    if (st.isDirectory()) return { sha256: treeHash(abs), method: 'tree' };
  } catch {
    return undefined;
  }
  return undefined;
}

/** A run directory (run.yaml) or a snapshot directory (manifest.yaml), whichever `dir` is. */
export function loadReportInputs(dir: string, options: { snapshotDir?: string } = {}): ReportInputs {
  assertDir(dir, 'directory');
  if (fs.existsSync(path.join(dir, 'run.yaml'))) return loadRunInputs(dir, options);
  if (fs.existsSync(path.join(dir, 'manifest.yaml'))) return loadSnapshotInputs(dir);
  throw new NotFoundError(`${dir} is neither a run directory (run.yaml) nor a snapshot directory (manifest.yaml)`);
}
