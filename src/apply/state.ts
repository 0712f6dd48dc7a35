/**
 * RUN_DIR/apply/: the production run of a rehearsal. The runner's own files (journal.jsonl, run.yaml,
 * plan.yaml, evidence/) plus apply.yaml (this module): the backup, the checks before the first write, the
 * comparison with the rehearsal at the end, and a rollback's proof (schema, reader and writer in
 * src/formats/apply.ts).
 */
import path from 'node:path';
import { readApplyFile, writeApplyFile } from '../formats/apply.ts';
import type { ApplyRecord, ServerBackup } from '../formats/apply.ts';

export const APPLY_DIR = 'apply';
export const APPLY_FILE = 'apply.yaml';

export type { ApplyRecord, PreflightRecord, ServerBackup } from '../formats/apply.ts';

export function applyDir(runDir: string): string {
  return path.join(runDir, APPLY_DIR);
}

export function readApplyRecord(runDir: string): ApplyRecord | undefined {
  return readApplyFile(path.join(applyDir(runDir), APPLY_FILE));
}

export function writeApplyRecord(runDir: string, rec: ApplyRecord): void {
  writeApplyFile(path.join(applyDir(runDir), APPLY_FILE), rec);
}

/** Every backup of the record, each with the roles it holds and its server. */
export function recordedBackups(rec: ApplyRecord): ServerBackup[] {
  if (rec.backups?.length) return rec.backups.map((b) => ({ ...b }));
  if (!rec.backup) return [];
  const roles = rec.backup.roles ?? (['glpi', 'ocs'] as const).filter((r) => rec.production.databases[r]);
  return [{ ...rec.backup, roles, hostPort: rec.backup.hostPort ?? rec.production.hostPort }];
}

/** The HOST:PORT of every server the apply wrote (for --confirm hints). */
export function recordedHostPorts(rec: ApplyRecord): string[] {
  return rec.production.hostPorts ? [...new Set(Object.values(rec.production.hostPorts).filter((x): x is string => Boolean(x)))] : [rec.production.hostPort];
}

/** The runner directories of an apply: RUN_DIR/apply, or one per server (RUN_DIR/apply/glpi, …/ocs). */
export function appliedRunDirs(runDir: string, rec: ApplyRecord): string[] {
  const several = rec.backups && rec.backups.length > 1;
  return several ? rec.backups!.map((b) => path.join(applyDir(runDir), (b.roles ?? []).join('+'))) : [applyDir(runDir)];
}
