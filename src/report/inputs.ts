/**
 * Loads what `dossier` and `dat` read: a rehearsal's run directory (run.yaml, journal.jsonl, plan.yaml,
 * findings.yaml, evidence/…) and the snapshot manifest it points to, or a snapshot directory alone.
 *
 * Every file is read and checked by its one reader in src/formats (schema, format version, required fields
 * and their types), so the renderers can trust them. A missing run directory or required file is a
 * NotFoundError; a file that is not what its format says is a VerificationError naming the file and field.
 * Nothing here reads the clock or a database: same files in, same inputs out.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, VerificationError } from '../errors.ts';
import type { JournalEvent, RunSummary } from '../rehearse/run-types.ts';
import type { PlanFile } from '../plan/plan-types.ts';
import type { FindingsFile } from '../audit/finding-types.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { readFindingsFile } from '../formats/findings.ts';
import { readJournalFile } from '../formats/journal.ts';
import { parseManifest } from '../formats/manifest.ts';
import { readPlanFile } from '../formats/plan.ts';
import { readRunFile } from '../formats/run-file.ts';
import { readBridgeSource } from '../formats/step-evidence.ts';
import { parseYamlText, readText } from '../formats/schema.ts';

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
// Files

function fingerprint(file: string, rel: string): SourceFile {
  const buf = fs.readFileSync(file);
  return { path: rel, bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') };
}

/** The documents' error for a file that is not what its format says (exit 5). */
const invalid = (message: string) => new VerificationError(message, { hint: 'the file is not in the documented format (docs/formats.md); regenerate it with the command that writes it' });

/** A manifest read where it was found (its name in messages is `label`). */
function readManifestAt(file: string, label: string): Manifest {
  const text = readText(file, () => new NotFoundError(`${label} not found`));
  return parseManifest(parseYamlText(text, 'manifest.yaml', invalid), 'manifest.yaml');
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
  const manifest = readManifestAt(file, 'manifest.yaml in the snapshot directory');
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
  // The plan as rehearsed: its before: links are not checked against this version's corrective migrations.
  const plan = readPlanFile(planFile);
  sources.push(fingerprint(planFile, path.basename(planFile)));

  let findings: FindingsFile | undefined;
  const findingsFile = path.join(runDir, 'findings.yaml');
  if (fs.existsSync(findingsFile)) {
    findings = readFindingsFile(findingsFile, { label: 'findings.yaml', invalid, missing: () => new NotFoundError('findings.yaml not found') });
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
    manifest = readManifestAt(manifestFile, 'manifest.yaml of the snapshot');
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
    // An unreadable bridge.json is ignored: the dossier falls back on the run's own record.
    const source = readBridgeSource(path.resolve(runDir, rel));
    const step = run.steps.find((s) => s.evidence.includes(rel));
    if (step && source) bridges[step.stepId] = source;
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
