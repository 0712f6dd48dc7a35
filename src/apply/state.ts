/**
 * RUN_DIR/apply/: the production run of a rehearsal. The runner's own files (journal.jsonl, run.yaml,
 * plan.yaml, evidence/) plus apply.yaml (this module): the backup, the checks before the first write, the
 * comparison with the rehearsal at the end, and a rollback's proof.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Message } from '../i18n/messages.ts';
import { upgradeSavedText } from '../i18n/saved.ts';

export const APPLY_DIR = 'apply';
export const APPLY_FILE = 'apply.yaml';

export interface PreflightRecord {
  check: string;
  status: 'passed' | 'allowed';
  /** What was checked and found: a message (src/i18n), rendered by the CLI and the go-live report. */
  detail: Message;
}

export interface ApplyRecord {
  format: 1;
  rehearsal: { runId: string; planSha256: string; snapshotId: string };
  production: { hostPort: string; databases: { glpi?: string; ocs?: string }; serverVersion: string };
  allowNotRun: string[];
  preflight: PreflightRecord[];
  backup?: { id: string; dir: string; taken: boolean; readyAt: string; elapsedMs: number; rows: Record<string, number> };
  startedAt: string;
  finishedAt?: string;
  /** Filled when the apply is complete: production's final state against the rehearsal's. */
  final?: { structureEqual: boolean; structureDifferences: string[]; tablesCompared: number; tablesDiffering: Array<{ table: string; rows: number; rehearsalRows: number; checksumEqual: boolean }> };
  rollback?: { startedAt: string; finishedAt: string; tables: number; ok: boolean; differing: string[] };
}

export function applyDir(runDir: string): string {
  return path.join(runDir, APPLY_DIR);
}

export function readApplyRecord(runDir: string): ApplyRecord | undefined {
  const f = path.join(applyDir(runDir), APPLY_FILE);
  if (!fs.existsSync(f)) return undefined;
  const rec = YAML.parse(fs.readFileSync(f, 'utf8')) as ApplyRecord;
  // apply.yaml written before messages existed: each check's detail and its French twin become a literal message.
  for (const [i, p] of (rec.preflight ?? []).entries()) upgradeSavedText(p, 'detail', `preflight[${i}]`);
  return rec;
}

export function writeApplyRecord(runDir: string, rec: ApplyRecord): void {
  const f = path.join(applyDir(runDir), APPLY_FILE);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(`${f}.tmp`, YAML.stringify(rec, { lineWidth: 0 }));
  fs.renameSync(`${f}.tmp`, f);
}
