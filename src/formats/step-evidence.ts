/**
 * A step's own evidence files that the runner reads back (docs/formats.md, run directory):
 * `evidence/<step>/savepoint.json` (written before the step's executor runs, removed when the step is over:
 * how `--resume` undoes a half-run step) and `evidence/<step>/result.json` (the step's result and anomalies;
 * read back only for journals written before step results went into the journal). The schemas, the types, one
 * reader and one atomic writer each. Both readers are forgiving by design: a file that is absent, torn or not
 * of the format reads as absent, which is what the runner falls back on (no savepoint: the step never started;
 * no result: run.yaml's record).
 */
import { writeFileAtomic } from './atomic.ts';
import { anomaly, stepResult } from './run-file.ts';
import type { Anomaly, StepResult } from './run-file.ts';
import { readJsonIfValid, z } from './schema.ts';

export const savepointSchema = z.object({
  database: z.string(),
  shadow: z.string(),
  /** Tables that existed and were copied. */
  saved: z.array(z.string()),
  /** Tables named by the step that did not exist before it (dropped on rollback). */
  absent: z.array(z.string()),
  /** True when every table of the database was saved (step touches 'all'). */
  whole: z.boolean(),
  /**
   * 'copy' (default): the tables above were copied into the shadow database. 'replay': nothing was copied;
   * the pre-step state is rebuilt by restoring the database from the snapshot and running again the steps
   * listed in `replay` (src/rehearse/replay.ts), then proven equal to the recorded state.
   */
  mode: z.enum(['copy', 'replay']).optional(),
  /** Replay savepoints: ids of the steps that passed on this database before the step, in plan order. */
  replay: z.array(z.string()).optional(),
});

export type Savepoint = z.infer<typeof savepointSchema>;

/** What the dossier reads back of an OCS bridge step's evidence `bridge.json` (written by the OCS executor): whose script ran. */
const bridgeEvidenceSchema = z.object({ source: z.enum(['tool', 'official']) });

/** Whose bridge script ran, from `bridge.json`, or undefined when absent, unreadable or not saying. */
export function readBridgeSource(file: string): 'tool' | 'official' | undefined {
  return readJsonIfValid(file, bridgeEvidenceSchema)?.source;
}

/** What the runner reads back of result.json (the file also records the executor's result and the row counts before). */
const stepResultFileSchema = z.object({ result: stepResult.optional(), anomalies: z.array(anomaly).optional() });

/** The savepoint of a step, or undefined when absent, torn or not a savepoint. */
export function readSavepointJson(file: string): Savepoint | undefined {
  return readJsonIfValid(file, savepointSchema);
}

/** Atomic: a kill during this write leaves no savepoint file (`fault`: the test-only fault point). */
export function writeSavepointJson(file: string, sp: Savepoint, fault?: string): void {
  writeFileAtomic(file, JSON.stringify(sp, null, 2), { fault });
}

/** A step's result.json (result and anomalies), or undefined when absent, torn or not of the format. */
export function readStepResultJson(file: string): { result?: StepResult; anomalies?: Anomaly[] } | undefined {
  return readJsonIfValid(file, stepResultFileSchema);
}

export function writeStepResultJson(file: string, doc: { result: StepResult; anomalies: Anomaly[]; executor: unknown; rowsBefore: Record<string, number> }): void {
  writeFileAtomic(file, JSON.stringify(doc, null, 2));
}
