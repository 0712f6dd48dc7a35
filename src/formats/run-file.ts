/**
 * `run.yaml` (a run directory's summary, format 1; docs/formats.md): the schema, its types, the one reader
 * (shared by `rehearse --resume`, `dossier`, `dat` and `ci`) and the one writer. The file is derived from the
 * journal (journal.jsonl is the truth). A missing file is a NotFoundError, a file that is not what its format
 * says a VerificationError naming the file and the path inside it.
 *
 * A run directory holds:
 *   run.yaml            RunSummary: what was run, where, with what, and each step's result
 *   journal.jsonl       one JournalEvent per line, appended as things happen (src/formats/journal.ts)
 *   plan.yaml           copy of the plan that was rehearsed (src/formats/plan.ts)
 *   findings.yaml       copy of the audit findings used, if any (src/formats/findings.ts)
 *   evidence/<step>/…   updater output, row counts before/after, checksums, schema diffs
 */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, VerificationError } from '../errors.ts';
import { severity } from './findings.ts';
import { message, messageOrPair, savedTexts, twins } from './message.ts';
import { checkFormat, parseDocument, parseYamlText, readText, writeYamlAtomic, yamlBody, z } from './schema.ts';

export const RUN_FILE = 'run.yaml';
export const RUN_FORMAT = 1;

export const stepStatus = z.enum(['passed', 'failed', 'not-run', 'skipped']);

const tableDelta = z.object({
  table: z.string(),
  before: z.number().nullable(),
  after: z.number().nullable(),
  /** "expected" when the plan's catalog explains it, "anomaly" otherwise. */
  verdict: z.enum(['unchanged', 'expected', 'anomaly']),
  explanation: z.string().optional(),
});

export const anomaly = z.object({
  /** Stable id within a run, e.g. "A-ocs-7037-softwares". */
  id: z.string(),
  stepId: z.string().optional(),
  findingId: z.string().optional(),
  severity,
  title: messageOrPair,
  detail: messageOrPair,
  remedy: messageOrPair.optional(),
  /** Resolved during the rehearsal (e.g. by a corrective migration); residual otherwise. */
  resolved: z.boolean(),
});

/** A step's result; `reason` is a message (older files' English `reason` and French `reasonFr` are read into one). */
export const stepResult = savedTexts(
  ['reason'],
  z.object({
    stepId: z.string(),
    status: stepStatus,
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    durationMs: z.number().optional(),
    /** Why not run / skipped / failed, or what the step did, in one line. */
    reason: message.optional(),
    ...twins('reason'),
    commandForUser: z.string().optional(),
    versionBefore: z.string().optional(),
    versionAfter: z.string().optional(),
    statements: z.object({ total: z.number(), ok: z.number(), expectedErrors: z.number(), failed: z.number() }).optional(),
    tableDeltas: z.array(tableDelta).default([]),
    /** Tables that must not change and did not (count), or that changed (names). */
    untouchedChecked: z.number().optional(),
    untouchedChanged: z.array(z.string()).optional(),
    /** Evidence files, relative to the run directory. */
    evidence: z.array(z.string()).default([]),
    /** Short excerpt of the updater's output, for the dossier. */
    outputExcerpt: z.string().optional(),
  }),
);

/** What differs between two plans, step by step. */
export const planDifference = z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()), moved: z.array(z.string()) });

/** One attempt of a run: the first run, or a later `--new-attempt` with a changed plan (derived from the journal). */
const runAttempt = z.object({
  attempt: z.number(),
  startedAt: z.string(),
  /** sha256 of the plan file the attempt ran. */
  planSha256: z.string().optional(),
  steps: z.number().optional(),
  /** How it ended: complete, incomplete (not-run steps), failed, interrupted, or abandoned (a crash, then a new attempt). */
  outcome: z.enum(['complete', 'incomplete', 'failed', 'interrupted', 'abandoned', 'running']),
  failedSteps: z.array(z.string()),
  /** Why the plan changed (for attempts after the first): steps added, removed, edited or moved. */
  planChanges: planDifference.optional(),
  reason: z.string().optional(),
});

/** A rollback of a step, as recorded in the journal. */
export const rollbackRecord = z.object({
  stepId: z.string(),
  /** failed: the step failed; interrupted: Ctrl-C or a signal; crash: found half-run on --resume. */
  cause: z.enum(['failed', 'interrupted', 'crash']),
  mode: z.enum(['copy', 'replay', 'none']),
  ok: z.boolean(),
  detail: z.string().optional(),
});

/** Checks before the first step (restore checksums vs manifest, etc.): title and detail are messages. */
export const preCheck = savedTexts(
  ['title', 'detail'],
  z.object({
    id: z.string(),
    title: message,
    status: z.enum(['passed', 'failed']),
    detail: message,
    ...twins('title', 'detail'),
  }),
);

export const runSchema = z.object({
  format: z.literal(RUN_FORMAT),
  tool: z.object({ name: z.literal('glpi-ocs-upgrade'), version: z.string() }),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  dryRun: z.boolean(),
  complete: z.boolean(),
  snapshot: z.object({ dir: z.string(), id: z.string() }),
  plan: z.object({ file: z.string(), steps: z.number() }),
  instance: z.object({ kind: z.enum(['embedded', 'external', 'production']), serverVersion: z.string(), settings: z.record(z.string(), z.unknown()).default({}) }),
  /** What each distribution provided (for OCS, also which 7005→7006 bridge was used). */
  distributions: z.array(z.object({ product: z.string(), version: z.string(), path: z.string(), sha256: z.string().optional(), note: z.string().optional() })).default([]),
  preChecks: z.array(preCheck).default([]),
  steps: z.array(stepResult),
  anomalies: z.array(anomaly).default([]),
  /** Every attempt of this run directory, from the journal (absent in runs written by older versions). */
  attempts: z.array(runAttempt).optional(),
  /** Every rollback of a step, from the journal. */
  rollbacks: z.array(rollbackRecord).optional(),
});

export type StepStatus = z.infer<typeof stepStatus>;
export type TableDelta = z.infer<typeof tableDelta>;
export type Anomaly = z.infer<typeof anomaly>;
export type StepResult = z.infer<typeof stepResult>;
export type PlanDifference = z.infer<typeof planDifference>;
export type RunAttempt = z.infer<typeof runAttempt>;
export type RollbackRecord = z.infer<typeof rollbackRecord>;
export type RunSummary = z.infer<typeof runSchema>;

const invalid = (message: string) => new VerificationError(message, { hint: 'the file is not in the documented format (docs/formats.md); regenerate it with the command that writes it' });

/** Checks a parsed run.yaml. */
export function parseRunSummary(doc: unknown, label = RUN_FILE): RunSummary {
  checkFormat(doc, label, RUN_FORMAT, invalid);
  return parseDocument(runSchema, doc, label, invalid);
}

/** Reads and checks `run.yaml` of `runDir`. */
export function readRunFile(runDir: string): RunSummary {
  const text = readText(path.join(runDir, RUN_FILE), () => {
    return new NotFoundError(`${runDir} is not a run directory: run.yaml not found`, {
      hint: 'give the directory written by `glpi-ocs-upgrade rehearse` (it holds run.yaml, plan.yaml, journal.jsonl)',
    });
  });
  return parseRunSummary(parseYamlText(text, RUN_FILE, invalid));
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

/** The one writer of run.yaml (atomic). */
export function writeRunFile(runDir: string, run: RunSummary): void {
  // No comment line: the dossier prints run.yaml's fingerprint, which must not change with this tool's version.
  const file = path.join(runDir, RUN_FILE);
  writeYamlAtomic(file, yamlBody(run), { what: `writing ${file}` });
}
