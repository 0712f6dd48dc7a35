/**
 * RUN_DIR/apply/: the production run of a rehearsal. The runner's own files (journal.jsonl, run.yaml,
 * plan.yaml, evidence/) plus apply.yaml (this module): the backup, the checks before the first write, the
 * comparison with the rehearsal at the end, and a rollback's proof.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { GlpiConfigRecord } from './glpi-config.ts';

export const APPLY_DIR = 'apply';
export const APPLY_FILE = 'apply.yaml';

export interface PreflightRecord {
  check: string;
  status: 'passed' | 'allowed';
  detail: string;
  /** The same in French (go-live report). */
  detailFr: string;
}

/** A pre-apply backup of one production server (its databases). */
export interface ServerBackup {
  id: string;
  dir: string;
  taken: boolean;
  readyAt: string;
  elapsedMs: number;
  rows: Record<string, number>;
  /** The databases it holds (absent in records of one server: both). */
  roles?: Array<'glpi' | 'ocs'>;
  hostPort?: string;
}

export interface ApplyRecord {
  format: 1;
  rehearsal: { runId: string; planSha256: string; snapshotId: string };
  /** hostPort: the server, or `glpi HOST:PORT, ocs HOST:PORT` when they are two (hostPorts then says which). */
  production: { hostPort: string; hostPorts?: Partial<Record<'glpi' | 'ocs', string>>; databases: { glpi?: string; ocs?: string }; serverVersion: string };
  allowNotRun: string[];
  preflight: PreflightRecord[];
  /** The backup (with two servers: the first one's; `backups` lists both). */
  backup?: ServerBackup;
  backups?: ServerBackup[];
  startedAt: string;
  finishedAt?: string;
  /** Filled when the apply is complete: production's final state against the rehearsal's. */
  final?: { structureEqual: boolean; structureDifferences: string[]; tablesCompared: number; tablesDiffering: Array<{ table: string; rows: number; rehearsalRows: number; checksumEqual: boolean }> };
  /** The read-only functional scenarios run against production after the apply (`apply --functional`). */
  functional?: { resultsFile: string; passed: number; failed: number; notRun: number; error?: string };
  /** The GLPI side beyond the database (src/apply/glpi-config.ts): config dir, glpicrypt.key, maintenance mode. */
  glpiConfig?: GlpiConfigRecord;
  rollback?: { startedAt: string; finishedAt: string; tables: number; ok: boolean; differing: string[]; glpiConfigDb?: 'removed' | 'restored' | 'unchanged' };
}

export function applyDir(runDir: string): string {
  return path.join(runDir, APPLY_DIR);
}

export function readApplyRecord(runDir: string): ApplyRecord | undefined {
  const f = path.join(applyDir(runDir), APPLY_FILE);
  return fs.existsSync(f) ? (YAML.parse(fs.readFileSync(f, 'utf8')) as ApplyRecord) : undefined;
}

export function writeApplyRecord(runDir: string, rec: ApplyRecord): void {
  const f = path.join(applyDir(runDir), APPLY_FILE);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(`${f}.tmp`, YAML.stringify(rec, { lineWidth: 0 }));
  fs.renameSync(`${f}.tmp`, f);
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
