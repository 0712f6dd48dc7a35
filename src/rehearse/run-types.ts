/**
 * A rehearsal's run directory, read by `dossier` and `dat` (format 1). Documented in docs/formats.md.
 *
 *   run.yaml            RunSummary: what was run, where, with what, and each step's result
 *   journal.jsonl       one JournalEvent per line, appended as things happen (resumability)
 *   plan.yaml           copy of the plan that was rehearsed
 *   findings.yaml       copy of the audit findings used (if any)
 *   evidence/<step>/…   updater output, row counts before/after, checksums, schema diffs
 */
import type { Severity, LocalizedText } from '../audit/finding-types.ts';
import type { Message } from '../i18n/messages.ts';

export type StepStatus = 'passed' | 'failed' | 'not-run' | 'skipped';

export interface TableDelta {
  table: string;
  before: number | null;
  after: number | null;
  /** "expected" when the plan's catalog explains it, "anomaly" otherwise. */
  verdict: 'unchanged' | 'expected' | 'anomaly';
  explanation?: string;
}

export interface Anomaly {
  /** Stable id within a run, e.g. "A-ocs-7037-softwares". */
  id: string;
  stepId?: string;
  findingId?: string;
  severity: Severity;
  title: LocalizedText;
  detail: LocalizedText;
  remedy?: LocalizedText;
  /** Resolved during the rehearsal (e.g. by a corrective migration); residual otherwise. */
  resolved: boolean;
}

export interface StepResult {
  stepId: string;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Why not run / skipped / failed, in one line (English); for not-run steps, the exact command the user must run. */
  reason?: string;
  /** The same line in French, printed by the French dossier (absent in runs written by older versions). */
  reasonFr?: string;
  commandForUser?: string;
  versionBefore?: string;
  versionAfter?: string;
  statements?: { total: number; ok: number; expectedErrors: number; failed: number };
  tableDeltas: TableDelta[];
  /** Tables that must not change and did not (count), or that changed (names). */
  untouchedChecked?: number;
  untouchedChanged?: string[];
  /** Evidence files, relative to the run directory. */
  evidence: string[];
  /** Short excerpt of the updater's output, for the dossier. */
  outputExcerpt?: string;
}

export interface RunSummary {
  format: 1;
  tool: { name: 'glpi-ocs-upgrade'; version: string };
  runId: string;
  startedAt: string;
  finishedAt?: string;
  dryRun: boolean;
  complete: boolean;
  snapshot: { dir: string; id: string };
  plan: { file: string; steps: number };
  instance: { kind: 'embedded' | 'external' | 'production'; serverVersion: string; settings: Record<string, unknown> };
  /** What each distribution provided (for OCS, also which 7005→7006 bridge was used). */
  distributions: Array<{ product: string; version: string; path: string; sha256?: string; note?: string }>;
  /** Checks before the first step (restore checksums vs manifest, etc.); title and detail are messages (src/i18n). */
  preChecks: Array<{ id: string; title: Message; status: 'passed' | 'failed'; detail: Message }>;
  steps: StepResult[];
  anomalies: Anomaly[];
  /** Every attempt of this run directory, from the journal (absent in runs written by older versions). */
  attempts?: RunAttempt[];
  /** Every rollback of a step, from the journal. */
  rollbacks?: RollbackRecord[];
}

/** One attempt of a run: the first run, or a later `--new-attempt` with a changed plan (derived from the journal). */
export interface RunAttempt {
  attempt: number;
  startedAt: string;
  /** sha256 of the plan file the attempt ran. */
  planSha256?: string;
  steps?: number;
  /** How it ended: complete, incomplete (not-run steps), failed, interrupted, or abandoned (a crash, then a new attempt). */
  outcome: 'complete' | 'incomplete' | 'failed' | 'interrupted' | 'abandoned' | 'running';
  failedSteps: string[];
  /** Why the plan changed (for attempts after the first): steps added, removed, edited or moved. */
  planChanges?: PlanDifference;
  reason?: string;
}

/** What differs between two plans, step by step. */
export interface PlanDifference {
  added: string[];
  removed: string[];
  changed: string[];
  moved: string[];
}

/** A rollback of a step, as recorded in the journal. */
export interface RollbackRecord {
  stepId: string;
  /** failed: the step failed; interrupted: Ctrl-C or a signal; crash: found half-run on --resume. */
  cause: 'failed' | 'interrupted' | 'crash';
  mode: 'copy' | 'replay' | 'none';
  ok: boolean;
  detail?: string;
}

export type JournalEvent =
  | {
      t: string;
      event: 'run-started';
      runId: string;
      plan: string;
      snapshot: string;
      instance: string;
      /** sha256 of the plan file and its step ids/hashes (absent in journals written before 0.x: not pinned). */
      planSha256?: string;
      steps?: string[];
      stepHashes?: string[];
      pid?: number;
    }
  | {
      t: string;
      event: 'attempt-started';
      attempt: number;
      planSha256: string;
      steps: string[];
      stepHashes: string[];
      changes: PlanDifference;
      /** The instance of this attempt (a new embedded one when the run's own one was gone). */
      instance?: string;
      reason?: string;
      pid?: number;
    }
  | { t: string; event: 'resumed'; pid?: number; attempt?: number }
  | { t: string; event: 'restore-finished'; tables: number; ok: boolean; preChecks?: RunSummary['preChecks'] }
  | { t: string; event: 'step-started'; stepId: string }
  | {
      t: string;
      event: 'step-finished';
      stepId: string;
      status: StepStatus;
      durationMs: number;
      fingerprint?: string;
      /** The step's full result and anomalies: run.yaml is derived from these. */
      result?: StepResult;
      anomalies?: Anomaly[];
    }
  | ({ t: string; event: 'step-rolled-back' } & RollbackRecord)
  | { t: string; event: 'process-started'; stepId: string; pid: number; startTime?: number; command: string }
  | { t: string; event: 'process-finished'; stepId: string; pid: number; exitCode: number }
  | { t: string; event: 'process-stopped'; stepId?: string; pid: number; signal: string; connectionsKilled: number }
  | { t: string; event: 'sessions-killed'; ids: number[] }
  | { t: string; event: 'lock-taken-over'; lock: 'run' | 'instance'; holderPid: number; holderStarted?: string }
  | { t: string; event: 'journal-repaired'; line: number; bytes: number }
  | { t: string; event: 'run-interrupted'; stepId?: string; signal: string }
  | { t: string; event: 'run-finished'; complete: boolean }
  /** [apply] The pre-apply backup of production, taken (or checked) before the first write. */
  | { t: string; event: 'backup-ready'; backupId: string; backupDir: string; taken: boolean };
