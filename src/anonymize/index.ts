/**
 * `anonymize`: a snapshot whose personal data is replaced, consistently across tables and across the GLPI and
 * OCS databases, so that it can leave the customer's premises and still rehearse the same upgrade.
 *
 * How: only the tables with at least one rewriting rule are restored into a throwaway embedded instance,
 * rewritten there with set-based SQL (rules.ts, sql.ts, apply.ts) and snapshotted again; every other table
 * (and the views, triggers and routines) is carried over file by file, byte for byte (checked against the
 * input manifest's sha256 as it is copied). The manifests are merged and the new snapshot's id computed as
 * the snapshot module does; the manifest is marked as anonymized (rules checksum and time; never the salt).
 * Pseudonyms depend only on the value, the namespace and the salt, so rewriting table by table keeps them
 * consistent across tables. User guide: docs/anonymize.md.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import YAML from 'yaml';
import { UsageError, VerificationError } from '../errors.ts';
import type { Dsn } from '../db/dsn.ts';
import { withDatabase } from '../db/dsn.ts';
import { connect } from '../db/connect.ts';
import type { EmbeddedInstance, ServerSettings } from '../db/embedded.ts';
import { startEmbedded } from '../db/embedded.ts';
import { assertWritableDsn } from '../db/interlock.ts';
import { promptPassword } from '../db/credentials.ts';
import { onShutdown } from '../util/shutdown.ts';
import { TOOL_VERSION } from '../version.ts';
import { INCOMPLETE_MARKER, computeSnapshotId, defaultJobs, manifestFiles, readManifest, restoreSnapshot, takeSnapshot } from '../snapshot/index.ts';
import type { DatabaseRole, Manifest, ManifestDatabase, ManifestFile, ManifestTable } from '../snapshot/index.ts';
import { writeManifest } from '../snapshot/manifest.ts';
import { diskError, hashFile } from '../snapshot/files.ts';
import type { AnonymizeRule, RuleSet } from './rules.ts';
import { loadRules } from './rules.ts';
import type { AnonymizationReport, ColumnReport, DatabaseNames } from './apply.ts';
import { anonymizeDatabases, collectIdentities, keptTableReports } from './apply.ts';
import type { Allowance, SweepReport } from './sweep.ts';
import { Sweep } from './sweep.ts';
import type { Scrubber } from './scrub.ts';
import type { Identity } from './detect.ts';

export type { AnonymizeRule, RuleSet, AnonymizeMethod, HashFormat } from './rules.ts';
export { loadRules, parseRules, DEFAULT_RULES_FILE } from './rules.ts';
export type { AnonymizationReport, ColumnReport, ColumnStatus, DatabaseNames } from './apply.ts';
export { anonymizeDatabases } from './apply.ts';
export { digestHex } from './sql.ts';
export type { Allowance, SweepReport, SweepColumn } from './sweep.ts';
export { parseAllowance } from './sweep.ts';
export type { DetectorKind, Identity } from './detect.ts';
export { detect, ruleValue } from './detect.ts';

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
  /** Columns where what the sweep finds is accepted, with the reason (recorded in the report). */
  allow?: Allowance[];
  /** Skip the sweep (the report then says it was not run). Default: run it. */
  sweep?: boolean;
  onPhase?: (phase: 'restore' | 'anonymize' | 'snapshot' | 'sweep', detail?: string) => void;
}

export interface AnonymizeSnapshotResult {
  manifest: Manifest;
  report: AnonymizationReport;
  outDir: string;
  /** Tables restored, rewritten and snapshotted again; tables whose files were copied unchanged. */
  tables: { rewritten: number; copied: number };
  /**
   * restore, anonymize (the rewrite) and snapshot follow each other; copyMs is the copy of the unchanged files,
   * done while the restore and the rewrite run.
   */
  timings: { restoreMs: number; anonymizeMs: number; snapshotMs: number; copyMs: number; sweepMs: number; totalMs: number };
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

/** The format-1 default of `Manifest.data` (absent from older manifests). */
const DEFAULT_DATA_FORMAT: NonNullable<Manifest['data']> = {
  format: 'tsv',
  timeZone: '+00:00',
  characterSet: 'binary',
  fieldsTerminatedBy: '\t',
  escapedBy: '\\',
  linesTerminatedBy: '\n',
  nullAs: '\\N',
};

function dataFormatKey(m: Manifest): string {
  return JSON.stringify(Object.entries(m.data ?? DEFAULT_DATA_FORMAT).sort(([a], [b]) => a.localeCompare(b)));
}

function tableKey(role: DatabaseRole, table: string): string {
  return `${role}\u0000${table.toLowerCase()}`;
}

/** The tables of a snapshot that have at least one rule rewriting something (any method but keep). */
export function tablesToRewrite(m: Manifest, rules: RuleSet): Set<string> {
  const wanted = new Set(rules.rules.filter((r) => r.method !== 'keep').map((r) => tableKey(r.database, r.table)));
  const out = new Set<string>();
  for (const db of m.databases) for (const t of db.tables) if (wanted.has(tableKey(db.role, t.name))) out.add(tableKey(db.role, t.name));
  return out;
}

/** Column names of a table, from its schema file (CREATE TABLE as SHOW CREATE TABLE renders it). */
function schemaColumns(dir: string, t: ManifestTable): string[] {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(dir, t.files[0].path))).toString('utf8');
  const create = text.slice(text.search(/CREATE\s+TABLE/i));
  const names: string[] = [];
  for (const m of create.matchAll(/^ {2}`((?:[^`]|``)+)` /gm)) names.push(m[1].replace(/``/g, '`'));
  return names;
}

/** Copies files listed in the input manifest, checking each copy's size and sha256 against it. */
async function copyChecked(inDir: string, outDir: string, files: ManifestFile[], concurrency: number): Promise<void> {
  const queue = [...files].sort((a, b) => b.bytes - a.bytes);
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const dst = path.join(outDir, f.path);
      try {
        await fsp.copyFile(path.join(inDir, f.path), dst);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new VerificationError(`snapshot ${inDir} does not match its manifest: ${f.path}: missing`, { hint: 'run `verify` for the full list; take the snapshot again or copy it again' });
        }
        throw diskError(err, `copying ${f.path}`);
      }
      const h = await hashFile(dst);
      if (h.bytes !== f.bytes || h.sha256 !== f.sha256) {
        throw new VerificationError(`snapshot ${inDir} does not match its manifest: ${f.path}: ${h.bytes !== f.bytes ? 'wrong size (truncated?)' : 'content changed (sha256)'}`, {
          hint: 'run `verify` for the full list; take the snapshot again or copy it again',
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/**
 * A snapshot directory holding only the selected tables of `input` (schema and data files linked to the
 * input's, no views, triggers or routines: they are carried over), for restoreSnapshot. Undefined when
 * nothing is selected.
 */
async function stageTables(inDir: string, stageDir: string, input: Manifest, selected: Set<string>): Promise<Manifest | undefined> {
  const databases: ManifestDatabase[] = input.databases
    .map((db) => ({ ...db, tables: db.tables.filter((t) => selected.has(tableKey(db.role, t.name))), views: [], triggers: [], routines: [] }))
    .filter((db) => db.tables.length > 0);
  if (databases.length === 0) return undefined;
  const staged: Manifest = { ...input, databases };
  staged.id = computeSnapshotId(manifestFiles(staged));
  for (const f of manifestFiles(staged)) {
    const dst = path.join(stageDir, f.path);
    await fsp.mkdir(path.dirname(dst), { recursive: true });
    try {
      await fsp.symlink(path.join(inDir, f.path), dst);
    } catch {
      await fsp.copyFile(path.join(inDir, f.path), dst);
    }
  }
  await writeManifest(stageDir, staged);
  return staged;
}

/** Restores `inDir`, anonymizes it, and writes the anonymized snapshot to `outDir` (new or empty). */
export async function anonymizeSnapshot(inDir: string, outDir: string, opts: AnonymizeSnapshotOptions): Promise<AnonymizeSnapshotResult> {
  const started = Date.now();
  const input = await checkAnonymizeDirs(inDir, outDir);
  const resolvedIn = path.resolve(inDir);
  const resolvedOut = path.resolve(outDir);
  const rules = opts.rules ?? loadRules();
  const jobs = opts.jobs ?? defaultJobs();
  const inputRoles = new Set(input.databases.map((d) => d.role));
  const totalTables = input.databases.reduce((n, d) => n + d.tables.length, 0);

  // The output directory: marked incomplete until the merged manifest is written; emptied on failure.
  const existed = fs.existsSync(resolvedOut);
  try {
    await fsp.mkdir(resolvedOut, { recursive: true });
    await fsp.writeFile(path.join(resolvedOut, INCOMPLETE_MARKER), `anonymized snapshot in progress since ${new Date(started).toISOString()} (pid ${process.pid})\n`);
  } catch (err) {
    throw diskError(err, `creating ${resolvedOut}`);
  }
  const clearOutput = (keepMarker: boolean) => {
    try {
      if (!existed && !keepMarker) fs.rmSync(resolvedOut, { recursive: true, force: true });
      else for (const e of fs.readdirSync(resolvedOut)) if (!(keepMarker && e === INCOMPLETE_MARKER)) fs.rmSync(path.join(resolvedOut, e), { recursive: true, force: true });
    } catch {
      /* the marker file says the directory is incomplete */
    }
  };
  const removeShutdownHook = onShutdown(() => clearOutput(false));

  let embedded: EmbeddedInstance | undefined;
  let target: Dsn;
  const names: DatabaseNames = {};
  const tempNames = Boolean(opts.instance);
  let inflight: Promise<unknown> | undefined;
  const dropTemp = async () => {
    if (!tempNames || Object.keys(names).length === 0) return;
    const c = await connect(target);
    try {
      for (const n of Object.values(names)) await c.query(`DROP DATABASE IF EXISTS \`${n}\``);
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  /**
   * One pass: restore, rewrite and snapshot the selected tables, and copy the other files (other tables,
   * views, triggers, routines) into the output directory; returns the new snapshot of the selected tables,
   * the report and the timings.
   */
  const runPass = async (selection: Set<string>, force: boolean) => {
    const isSelected = (role: DatabaseRole, table: string) => selection.has(tableKey(role, table));
    const timings = { restoreMs: 0, anonymizeMs: 0, snapshotMs: 0, copyMs: 0, sweepMs: 0 };
    for (const db of input.databases) await fsp.mkdir(path.join(resolvedOut, db.role), { recursive: true });
    const carried: ManifestFile[] = input.databases.flatMap((db) => [
      ...db.tables.filter((t) => !isSelected(db.role, t.name)).flatMap((t) => t.files),
      ...db.views.map((v) => v.file),
      ...db.triggers.map((t) => t.file),
      ...db.routines.map((r) => r.file),
    ]);
    const copying = (async () => {
      const t = Date.now();
      await copyChecked(resolvedIn, resolvedOut, carried, 1);
      timings.copyMs = Date.now() - t;
    })();
    inflight = copying;
    copying.catch(() => undefined);

    // Restore what is rewritten.
    opts.onPhase?.('restore');
    const t0 = Date.now();
    const stageDir = path.join(resolvedOut, '.anonymize-stage');
    const restored = await stageTables(resolvedIn, stageDir, input, selection);
    const restoredRoles = new Set((restored?.databases ?? []).map((d) => d.role));
    const restoredNames: DatabaseNames = {};
    for (const role of restoredRoles) restoredNames[role] = names[role];
    if (restored) {
      // These databases are rewritten, snapshotted and dropped: no MyISAM index is rebuilt, here or after the
      // rewrite (keysStayDisabled below); SHOW CREATE TABLE, hence the new snapshot's schema, is unchanged.
      await restoreSnapshot(stageDir, target, { databases: restoredNames as Partial<Record<DatabaseRole, string>>, jobs, force, keepKeysDisabled: true });
    }
    await fsp.rm(stageDir, { recursive: true, force: true });
    timings.restoreMs = Date.now() - t0;

    // Rewrite. The rules of tables that were not restored rewrite nothing (only `keep`, or no such table):
    // reported from the schema files.
    opts.onPhase?.('anonymize');
    const t1 = Date.now();
    const restoredRule = (r: AnonymizeRule) => restoredRoles.has(r.database) && isSelected(r.database, r.table);
    const inDb = rules.rules.filter((r) => inputRoles.has(r.database));
    const rewritten = inDb.filter(restoredRule);
    let report: AnonymizationReport | undefined;
    let sweep: Sweep | undefined;
    let sweepCarried: Promise<void> | undefined;
    let scrubber: Scrubber | undefined;
    const pseudonyms = new Set<string>();
    if (restored) {
      const conn = await connect(target);
      try {
        const ruleSet = { ...rules, rules: rewritten };
        // The identities' original values, before anything is rewritten (free text and the sweep look for them).
        const identities: Identity[] = await collectIdentities(conn, restoredNames, ruleSet);
        if (opts.sweep !== false) {
          sweep = new Sweep(identities);
          // The tables copied unchanged are swept from the input's files while the database works.
          const s = sweep;
          const carriedTables = input.databases.flatMap((db) => db.tables.filter((t) => !isSelected(db.role, t.name)).map((t) => ({ role: db.role, t })));
          sweepCarried = (async () => {
            for (const { role, t } of carriedTables) await s.scanTable(resolvedIn, role, t);
          })();
          sweepCarried.catch(() => undefined);
          inflight = Promise.all([copying, sweepCarried]);
          inflight.catch(() => undefined);
        }
        report = await anonymizeDatabases(conn, target, restoredNames, ruleSet, opts.salt, {
          jobs,
          openExtra: () => connect(target),
          identities,
          onScrubbed: (x) => (scrubber = x),
          keysStayDisabled: true,
        });
        if (sweep) {
          // The columns holding the rules' addresses, phones and e-mails: what the sweep finds there is this run's result.
          for (const c of report.columns) if (c.status === 'anonymized' && c.format) sweep.addRuleColumn(c.database, c.table, c.column, c.format);
        }
      } finally {
        await conn.end().catch(() => undefined);
      }
    } else if (opts.sweep !== false) {
      sweep = new Sweep([]);
      const s = sweep;
      sweepCarried = (async () => {
        for (const db of input.databases) for (const t of db.tables) await s.scanTable(resolvedIn, db.role, t);
      })();
      sweepCarried.catch(() => undefined);
      inflight = Promise.all([copying, sweepCarried]);
      inflight.catch(() => undefined);
    }
    for (const v of (scrubber as Scrubber | undefined)?.emitted ?? []) pseudonyms.add(v);
    const others = new Map<string, AnonymizeRule[]>();
    for (const r of inDb.filter((x) => !restoredRule(x))) {
      const k = `${r.database}\u0000${r.table}`;
      others.set(k, [...(others.get(k) ?? []), r]);
    }
    const extra: ColumnReport[] = [];
    for (const list of others.values()) {
      const t = input.databases.find((d) => d.role === list[0].database)?.tables.find((x) => x.name.toLowerCase() === list[0].table.toLowerCase());
      extra.push(...keptTableReports(list, t ? schemaColumns(resolvedIn, t) : undefined, t?.rows ?? 0));
    }
    const reportKey = (c: ColumnReport) => `${c.database}\u0000${c.table}`;
    const columns = [...(report?.columns ?? []), ...extra].sort((a, b) => (reportKey(a) < reportKey(b) ? -1 : reportKey(a) > reportKey(b) ? 1 : 0));
    const anonymizedCols = columns.filter((c) => c.status === 'anonymized');
    const fullReport: AnonymizationReport = {
      format: 1,
      rulesChecksum: rules.checksum,
      rulesSources: rules.sources,
      at: report?.at ?? new Date().toISOString(),
      elapsedMs: report?.elapsedMs ?? 0,
      ...(report?.phases ? { phases: report.phases } : {}),
      columns,
      totals: {
        columns: anonymizedCols.length,
        rowsChanged: anonymizedCols.reduce((s, c) => s + c.rowsChanged, 0),
        tables: new Set(anonymizedCols.map((c) => `${c.database}.${c.table}`)).size,
      },
    };
    timings.anonymizeMs = Date.now() - t1;

    // Snapshot what was rewritten, beside the copies.
    opts.onPhase?.('snapshot');
    const t2 = Date.now();
    let taken: Manifest | undefined;
    if (restored) {
      const partialDir = path.join(resolvedOut, '.anonymize-new');
      taken = await takeSnapshot({
        sources: [...restoredRoles].map((role) => ({ role, dsn: withDatabase(target, names[role]!) })),
        outDir: partialDir,
        jobs,
        // Nothing else writes to these databases.
        lock: false,
        compressionLevel: input.compression?.level,
        // No address of the throwaway server is recorded (the merged manifest keeps the original's source anyway).
        generated: input.generated ?? undefined,
      });
      for (const f of manifestFiles(taken)) await fsp.rename(path.join(partialDir, f.path), path.join(resolvedOut, f.path));
      await fsp.rm(partialDir, { recursive: true, force: true });
    }
    await copying;
    timings.snapshotMs = Date.now() - t2;

    // The sweep: the new snapshot's tables, then what was swept alongside.
    let sweepReport: SweepReport | undefined;
    if (sweep) {
      opts.onPhase?.('sweep');
      const t3 = Date.now();
      sweep.setPseudonyms(pseudonyms);
      for (const db of taken?.databases ?? []) for (const t of db.tables) await sweep.scanTable(resolvedOut, db.role, t);
      await sweepCarried;
      sweepReport = sweep.finish(opts.allow ?? [], pseudonyms);
      timings.sweepMs = Date.now() - t3;
    }
    inflight = undefined;
    if (sweepReport) fullReport.sweep = sweepReport;
    const rewrittenTables = restored ? restored.databases.reduce((n, d) => n + d.tables.length, 0) : 0;
    return { taken, report: fullReport, timings, rewritten: rewrittenTables, copied: totalTables - rewrittenTables };
  };

  try {
    if (opts.instance) {
      target = opts.instance;
      // The interlock first: nothing (not even the clean-up's DROP DATABASE IF EXISTS) reaches an unmarked server.
      await assertWritableDsn(target, 'anonymize databases');
    } else {
      embedded = await startEmbedded({ serverBin: opts.serverBin, settings: opts.settings, name: 'anonymize' });
      target = embedded.dsn;
    }
    const suffix = `${Date.now().toString(36)}${process.pid.toString(36)}`;
    for (const db of input.databases) names[db.role] = tempNames ? `gou_anon_${db.role}_${suffix}` : db.name;

    let selection = tablesToRewrite(input, rules);
    let pass = await runPass(selection, false);
    if (pass.taken && dataFormatKey(pass.taken) !== dataFormatKey(input)) {
      // The input's data files are not encoded as this version writes them: they cannot sit in one manifest
      // with new ones. Start again, re-encoding every table (a restore and snapshot of every table).
      clearOutput(true);
      selection = new Set(input.databases.flatMap((d) => d.tables.map((t) => tableKey(d.role, t.name))));
      pass = await runPass(selection, true);
    }
    const reencoded = pass.copied === 0 && pass.taken !== undefined;
    const taken = pass.taken;
    const takenTables = new Map((taken?.databases ?? []).flatMap((d) => d.tables.map((t) => [tableKey(d.role, t.name), t] as [string, ManifestTable])));
    const databases: ManifestDatabase[] = input.databases.map((db) => ({
      ...db,
      tables: db.tables.map((t) => {
        if (!selection.has(tableKey(db.role, t.name))) return t;
        const nt = takenTables.get(tableKey(db.role, t.name));
        if (!nt) throw new Error(`anonymize: ${db.role}.${t.name} was restored but is missing from the new snapshot`);
        return nt;
      }),
    }));
    // The manifest describes the original installation (names, server settings), without its address.
    const { address: _address, ...source } = input.source;
    void _address;
    const manifest: Manifest = {
      format: input.format,
      tool: { name: 'glpi-ocs-upgrade', version: TOOL_VERSION },
      createdAt: new Date(started).toISOString(),
      id: '',
      source,
      consistency: input.consistency,
      compression: input.compression,
      // Every data file is as the input's, or (all re-encoded) as the new snapshot's.
      ...(reencoded ? (taken?.data ? { data: taken.data } : {}) : input.data ? { data: input.data } : {}),
      stats: { jobs, elapsedMs: 0, rows: 0, bytes: 0 },
      databases,
      ...(input.generated ? { generated: input.generated } : {}),
      anonymized: { rulesChecksum: rules.checksum, at: pass.report.at, source: input.id },
    };
    manifest.id = computeSnapshotId(manifestFiles(manifest));
    manifest.stats = {
      jobs,
      elapsedMs: Date.now() - started,
      rows: databases.reduce((n, d) => n + d.tables.reduce((m, t) => m + t.rows, 0), 0),
      bytes: manifestFiles(manifest).reduce((n, f) => n + f.bytes, 0),
    };
    await writeReport(resolvedOut, pass.report);
    await writeManifest(resolvedOut, manifest);
    await fsp.rm(path.join(resolvedOut, INCOMPLETE_MARKER), { force: true });
    removeShutdownHook();
    return {
      manifest,
      report: pass.report,
      outDir: resolvedOut,
      tables: { rewritten: pass.rewritten, copied: pass.copied },
      timings: { ...pass.timings, totalMs: Date.now() - started },
    };
  } catch (err) {
    await inflight?.catch(() => undefined);
    clearOutput(false);
    removeShutdownHook();
    throw err;
  } finally {
    if (embedded) await embedded.stop();
    else await dropTemp().catch(() => undefined);
  }
}

export async function writeReport(dir: string, report: AnonymizationReport): Promise<void> {
  const text = `# glpi-ocs-upgrade anonymization report (format ${report.format}); see docs/anonymize.md\n${YAML.stringify(report, { lineWidth: 0 })}`;
  await fsp.writeFile(path.join(dir, REPORT_NAME), text);
}
