/**
 * `anonymize`: a snapshot whose personal data is replaced, consistently across tables and across the GLPI and
 * OCS databases, so that it can leave the customer's premises and still rehearse the same upgrade.
 *
 * How: restore the snapshot into a throwaway embedded instance, rewrite the personal-data columns with
 * set-based SQL (rules.ts, sql.ts, apply.ts), take a new snapshot of the result, and mark its manifest as
 * anonymized (rules checksum and time; never the salt). User guide: docs/anonymize.md.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { UsageError } from '../errors.ts';
import type { Dsn } from '../db/dsn.ts';
import { withDatabase } from '../db/dsn.ts';
import { connect } from '../db/connect.ts';
import type { EmbeddedInstance, ServerSettings } from '../db/embedded.ts';
import { startEmbedded } from '../db/embedded.ts';
import { promptPassword } from '../db/credentials.ts';
import { defaultJobs, readManifest, restoreSnapshot, takeSnapshot } from '../snapshot/index.ts';
import type { DatabaseRole, Manifest } from '../snapshot/index.ts';
import { writeManifest } from '../snapshot/manifest.ts';
import type { RuleSet } from './rules.ts';
import { loadRules } from './rules.ts';
import type { AnonymizationReport, DatabaseNames } from './apply.ts';
import { anonymizeDatabases } from './apply.ts';

export type { AnonymizeRule, RuleSet, AnonymizeMethod, HashFormat } from './rules.ts';
export { loadRules, parseRules, DEFAULT_RULES_FILE } from './rules.ts';
export type { AnonymizationReport, ColumnReport, ColumnStatus, DatabaseNames } from './apply.ts';
export { anonymizeDatabases } from './apply.ts';
export { digestHex } from './sql.ts';

export const REPORT_NAME = 'anonymization-report.yaml';
export const DEFAULT_SALT_ENV = 'GOU_ANONYMIZE_SALT';

/**
 * The salt: from the environment variable (default GOU_ANONYMIZE_SALT), else a prompt on a terminal.
 * Never from the command line, never stored, never printed.
 */
export async function resolveSalt(opts: { saltEnv?: string; env?: NodeJS.ProcessEnv; prompt?: boolean } = {}): Promise<string> {
  const name = opts.saltEnv ?? DEFAULT_SALT_ENV;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--salt-env needs an environment variable name, not "${name}"`);
  const value = (opts.env ?? process.env)[name];
  if (value !== undefined && value !== '') return checkSalt(value, `$${name}`);
  if ((opts.prompt ?? true) && process.stdin.isTTY) return checkSalt(await promptPassword('the anonymization salt'), 'the salt typed');
  throw new UsageError(`no anonymization salt: set the environment variable ${name} (or name another one with --salt-env)`, {
    hint: 'use a long random secret kept apart from the snapshot, e.g. export GOU_ANONYMIZE_SALT="$(openssl rand -hex 32)"; the same salt gives the same pseudonyms',
  });
}

function checkSalt(salt: string, where: string): string {
  if (salt.length < 8) throw new UsageError(`${where} is too short for a salt (at least 8 characters; 32 random bytes recommended)`);
  return salt;
}

export interface AnonymizeSnapshotOptions {
  salt: string;
  rules?: RuleSet;
  /** Write into this test server instead of a fresh embedded instance (databases get temporary names). */
  instance?: Dsn;
  serverBin?: string;
  settings?: ServerSettings;
  jobs?: number;
  compressionLevel?: number;
  onPhase?: (phase: 'restore' | 'anonymize' | 'snapshot', detail?: string) => void;
}

export interface AnonymizeSnapshotResult {
  manifest: Manifest;
  report: AnonymizationReport;
  outDir: string;
  timings: { restoreMs: number; anonymizeMs: number; snapshotMs: number; totalMs: number };
}

async function assertOutputFree(outDir: string): Promise<void> {
  try {
    const entries = await fsp.readdir(outDir);
    if (entries.length > 0) throw new UsageError(`${outDir} is not empty`, { hint: 'give a new directory for the anonymized snapshot' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
}

/** The cheap checks, before any server is started: the input is a snapshot, the output is new or empty. */
export async function checkAnonymizeDirs(inDir: string, outDir: string): Promise<Manifest> {
  const input = await readManifest(inDir);
  const resolvedOut = path.resolve(outDir);
  if (resolvedOut === path.resolve(inDir)) throw new UsageError('the output directory must differ from the snapshot being anonymized');
  await assertOutputFree(resolvedOut);
  return input;
}

/** Restores `inDir`, anonymizes it, and writes the anonymized snapshot to `outDir` (new or empty). */
export async function anonymizeSnapshot(inDir: string, outDir: string, opts: AnonymizeSnapshotOptions): Promise<AnonymizeSnapshotResult> {
  const started = Date.now();
  const input = await checkAnonymizeDirs(inDir, outDir);
  const resolvedOut = path.resolve(outDir);
  const rules = opts.rules ?? loadRules();
  let embedded: EmbeddedInstance | undefined;
  let target: Dsn;
  const names: DatabaseNames = {};
  const tempNames = Boolean(opts.instance);
  if (opts.instance) target = opts.instance;
  else {
    embedded = await startEmbedded({ serverBin: opts.serverBin, settings: opts.settings, name: 'anonymize' });
    target = embedded.dsn;
  }
  const suffix = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  for (const db of input.databases) names[db.role] = tempNames ? `gou_anon_${db.role}_${suffix}` : db.name;
  const dropTemp = async () => {
    if (!tempNames) return;
    const c = await connect(target);
    try {
      for (const n of Object.values(names)) await c.query(`DROP DATABASE IF EXISTS \`${n}\``);
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  try {
    opts.onPhase?.('restore');
    const t0 = Date.now();
    await restoreSnapshot(inDir, target, { databases: names as Partial<Record<DatabaseRole, string>>, jobs: opts.jobs, force: false });
    const t1 = Date.now();
    opts.onPhase?.('anonymize');
    const conn = await connect(target);
    let report: AnonymizationReport;
    try {
      report = await anonymizeDatabases(conn, target, names, rules, opts.salt, { jobs: opts.jobs ?? defaultJobs(), openExtra: () => connect(target) });
    } finally {
      await conn.end().catch(() => undefined);
    }
    const t2 = Date.now();
    opts.onPhase?.('snapshot');
    const sources = input.databases.map((db) => ({ role: db.role, dsn: withDatabase(target, names[db.role]!) }));
    const taken = await takeSnapshot({
      sources,
      outDir: resolvedOut,
      jobs: opts.jobs,
      compressionLevel: opts.compressionLevel ?? input.compression?.level,
      // Always a "generated" snapshot for the dump (no address of the throwaway server is recorded).
      generated: input.generated ?? undefined,
    });
    const t3 = Date.now();
    // The manifest describes the original installation (names, server settings), without its address.
    const { address: _address, ...source } = input.source;
    void _address;
    const manifest: Manifest = {
      ...taken,
      source,
      databases: taken.databases.map((d) => ({ ...d, name: input.databases.find((x) => x.role === d.role)?.name ?? d.name })),
      anonymized: { rulesChecksum: rules.checksum, at: report.at, source: input.id },
    };
    if (!input.generated) delete manifest.generated;
    await writeManifest(resolvedOut, manifest);
    await writeReport(resolvedOut, report);
    return { manifest, report, outDir: resolvedOut, timings: { restoreMs: t1 - t0, anonymizeMs: t2 - t1, snapshotMs: t3 - t2, totalMs: Date.now() - started } };
  } finally {
    if (embedded) await embedded.stop();
    else await dropTemp().catch(() => undefined);
  }
}

export async function writeReport(dir: string, report: AnonymizationReport): Promise<void> {
  const text = `# glpi-ocs-upgrade anonymization report (format ${report.format}); see docs/anonymize.md\n` + YAML.stringify(report, { lineWidth: 0 });
  await fsp.writeFile(path.join(dir, REPORT_NAME), text);
}
