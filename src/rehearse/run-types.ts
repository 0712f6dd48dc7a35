/**
 * A rehearsal's run directory, read by `dossier` and `dat` (format 1). Documented in docs/formats.md. The
 * types are inferred from the schemas in src/formats/run-file.ts and src/formats/journal.ts.
 *
 *   run.yaml            RunSummary: what was run, where, with what, and each step's result
 *   journal.jsonl       one JournalEvent per line, appended as things happen (resumability)
 *   plan.yaml           copy of the plan that was rehearsed
 *   findings.yaml       copy of the audit findings used (if any)
 *   evidence/<step>/…   updater output, row counts before/after, checksums, schema diffs
 */
export type { Anomaly, PlanDifference, RollbackRecord, RunAttempt, RunSummary, StepResult, StepStatus, TableDelta } from '../formats/run-file.ts';
export type { JournalEvent } from '../formats/journal.ts';
