/**
 * RUN_DIR/apply/: the production run of a rehearsal. The runner's own files (journal.jsonl, run.yaml,
 * plan.yaml, evidence/) plus apply.yaml (this module): the backup, the checks before the first write, the
 * comparison with the rehearsal at the end, and a rollback's proof (schema, reader and writer in
 * src/formats/apply.ts).
 */
import path from 'node:path';
import { readApplyFile, writeApplyFile } from '../formats/apply.ts';
import type { ApplyRecord } from '../formats/apply.ts';

export const APPLY_DIR = 'apply';
export const APPLY_FILE = 'apply.yaml';

export type { ApplyRecord, PreflightRecord } from '../formats/apply.ts';

export function applyDir(runDir: string): string {
  return path.join(runDir, APPLY_DIR);
}

export function readApplyRecord(runDir: string): ApplyRecord | undefined {
  return readApplyFile(path.join(applyDir(runDir), APPLY_FILE));
}

export function writeApplyRecord(runDir: string, rec: ApplyRecord): void {
  writeApplyFile(path.join(applyDir(runDir), APPLY_FILE), rec);
}
