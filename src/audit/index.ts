/**
 * The audit module's public API: the check catalog, running it on connections / live DSNs / a snapshot,
 * and reading and writing the findings file (format 1, docs/formats.md "Findings file").
 */
import fs from 'node:fs';
import type { AuditCheck } from './check-types.ts';
import { isSkip } from './check-types.ts';
import type { Message } from '../i18n/messages.ts';
import { msg } from '../i18n/messages.ts';
import type { AuditDb, AuditOptions } from './context.ts';
import { AuditContext } from './context.ts';
import type { CheckRun, Finding, FindingsFile, Severity } from './finding-types.ts';
import type { ScratchSource } from './reference.ts';
import { createReferenceProvider, embeddedScratch, scratchOn } from './reference.ts';
import { GLPI_CHECKS } from './checks/glpi.ts';
import { OCS_CHECKS } from './checks/ocs.ts';
import { INTERCONNECTION_CHECKS } from './checks/interconnection.ts';
import { TOOL_VERSION } from '../version.ts';
import { readFindingsFile, writeFindingsFile } from '../formats/findings.ts';
import { classifyDatabase } from '../inspect/detect.ts';
import { compareDotted } from '../catalog/version.ts';
import type { Dsn } from '../db/dsn.ts';
import { formatDsn } from '../db/dsn.ts';
import { connectReadOnly } from '../db/connect.ts';
import type { Connection } from '../db/connect.ts';
import { ExitCode, FindingsError, NotFoundError, ToolError, UnsupportedError, UsageError } from '../errors.ts';

export type { AuditCheck } from './check-types.ts';
export type { AuditDb, AuditOptions } from './context.ts';
export { AuditContext } from './context.ts';
export type { CheckRun, Finding, FindingsFile, Severity } from './finding-types.ts';
export { renderFindings } from './report.ts';

/** The catalog: every check, in report order. Ids are unique and stable. */
export const CHECKS: readonly AuditCheck[] = [...GLPI_CHECKS, ...OCS_CHECKS, ...INTERCONNECTION_CHECKS];

export const SEVERITIES: Severity[] = ['bloquante', 'majeure', 'mineure'];

/** 0 for bloquante (worst) … 2 for mineure. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function parseSeverity(text: string): Severity {
  const s = text.trim().toLowerCase();
  const aliases: Record<string, Severity> = { blocking: 'bloquante', major: 'majeure', minor: 'mineure' };
  const v = (SEVERITIES as string[]).includes(s) ? (s as Severity) : aliases[s];
  if (!v) throw new UsageError(`unknown severity "${text}"`, { hint: 'use bloquante, majeure or mineure (or blocking, major, minor)' });
  return v;
}

/** Findings at or above a severity threshold. */
export function findingsAtOrAbove(file: FindingsFile, threshold: Severity): Finding[] {
  return file.findings.filter((f) => severityRank(f.severity) <= severityRank(threshold));
}

/** Throws FindingsError (exit 8) when a finding reaches the threshold. */
export function assertBelowThreshold(file: FindingsFile, threshold: Severity): void {
  const hits = findingsAtOrAbove(file, threshold);
  if (hits.length > 0) {
    throw new FindingsError(`${hits.length} finding(s) at or above "${threshold}": ${hits.map((f) => f.id).join(', ')}`);
  }
}

export type AuditInput =
  /** Connections the caller owns (tests, rehearse): nothing is opened or closed here. */
  | { connections: { glpi?: AuditDb; ocs?: AuditDb }; source?: FindingsFile['source'] }
  /** Production: read-only sessions are opened and closed here. */
  | { live: { glpi?: Dsn; ocs?: Dsn } }
  /** A snapshot directory: restored into an embedded instance (or `instance`), audited there, then dropped. */
  | { snapshot: string; instance?: Dsn };

export interface RunAuditOptions extends Partial<AuditOptions> {
  /** Directories with glpi-<version>-empty.sql / ocsbase_new-<release>.sql reference schemas. */
  referenceDirs?: string[];
  /** GLPI distributions whose install/mysql/ holds reference schemas. */
  glpiDists?: string[];
  /** Where reference schemas are loaded (default: the snapshot's instance, or an embedded one on demand). */
  scratch?: ScratchSource;
  /** Run only these checks (ids or id prefixes such as "glpi.duplicates"). */
  only?: string[];
  serverBin?: string;
  /** Called after each check (progress display). */
  onCheck?: (run: CheckRun, index: number, total: number) => void;
  /** Called with restore progress in snapshot mode. */
  onStage?: (stage: string) => void;
}

function selected(check: AuditCheck, only?: string[]): boolean {
  if (!only || only.length === 0) return true;
  return only.some((o) => check.id === o || check.id.startsWith(o.endsWith('.') ? o : `${o}.`));
}

/** Refuses databases that are not what they are given as (the checks would report nonsense). */
async function assertKinds(ctx: AuditContext): Promise<void> {
  for (const role of ['glpi', 'ocs'] as const) {
    const db = ctx[role];
    if (!db) continue;
    const kind = await classifyDatabase(db.conn, db.database);
    if (kind === role) continue;
    const what = role === 'glpi' ? 'GLPI' : 'OCS Inventory NG';
    throw new UnsupportedError(
      kind === 'empty'
        ? `database "${db.database}" is empty: nothing to audit`
        : `database "${db.database}" is not a ${what} database (it looks like ${kind === 'other' ? 'something else' : kind.toUpperCase()})`,
      {
        hint: role === 'glpi' ? 'give the GLPI database with --glpi and the OCS one with --ocs' : 'give the OCS database (ocsweb) with --ocs',
      },
    );
  }
}

/** The oldest GLPI this tool upgrades from: older databases need GLPI's own updates to 0.83.8 first. */
export const OLDEST_GLPI_SOURCE = '0.83';

/**
 * Refuses (exit 11, one line) a GLPI database older than 0.83: the checks, the planner and the rehearsal
 * know the 0.83 schema and later ones only, so an audit of 0.78 would report nonsense or nothing.
 */
async function assertSupportedVersion(ctx: AuditContext): Promise<void> {
  if (!ctx.glpi) return;
  const v = (await ctx.glpiVersion()).version;
  if (v && compareDotted(v, OLDEST_GLPI_SOURCE) < 0) {
    throw new UnsupportedError(`database "${ctx.glpi.database}" is GLPI ${v}, older than ${OLDEST_GLPI_SOURCE}: this tool upgrades GLPI from 0.83.x only`, {
      hint: `bring it to GLPI 0.83.8 first with GLPI 0.83.8's own installer (install/update.php), then audit again`,
    });
  }
}

async function runChecks(ctx: AuditContext, opts: RunAuditOptions, source: FindingsFile['source']): Promise<FindingsFile> {
  await assertKinds(ctx);
  await assertSupportedVersion(ctx);
  const checksRun: CheckRun[] = [];
  const findings: Finding[] = [];
  const list = CHECKS.filter((c) => selected(c, opts.only));
  if (opts.only?.length && list.length === 0) throw new UsageError(`no check matches ${opts.only.join(', ')}`, { hint: 'see docs/audit.md for the check ids' });
  let i = 0;
  for (const check of list) {
    i++;
    const base = { id: check.id, family: check.family, title: check.title, severity: check.severity };
    const started = Date.now();
    const why = await notApplicable(ctx, check);
    let run: CheckRun;
    if (why) {
      run = { ...base, status: 'skipped', reason: why };
    } else {
      let outcome: Awaited<ReturnType<typeof check.run>>;
      try {
        outcome = await check.run(ctx);
      } catch (err) {
        if (err instanceof ToolError) throw err;
        const e = err as { sqlMessage?: string; message?: string; code?: string };
        if (e.code && /^(ECONN|PROTOCOL_CONNECTION_LOST|ETIMEDOUT)/.test(e.code)) throw err;
        throw new ToolError(`check ${check.id} failed: ${e.sqlMessage ?? e.message ?? String(err)}`, ExitCode.INTERNAL, { cause: err });
      }
      if (isSkip(outcome)) {
        run = { ...base, status: 'skipped', reason: outcome.skipped };
      } else if (outcome.count > 0) {
        const severity = outcome.severity ?? check.severity;
        run = { ...base, severity, status: 'finding' };
        findings.push({
          id: check.id,
          family: check.family,
          severity,
          title: check.title,
          count: outcome.count,
          evidence: outcome.evidence,
          appliesTo: check.appliesTo.steps,
          remedy: outcome.remedy ?? check.remedy,
        });
      } else {
        run = { ...base, status: 'ok', ...(Object.keys(outcome.evidence).length ? { evidence: outcome.evidence } : {}) };
      }
    }
    run.ms = Date.now() - started;
    checksRun.push(run);
    opts.onCheck?.(run, i, list.length);
  }
  findings.sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  return { format: 1, tool: { name: 'glpi-ocs-upgrade', version: TOOL_VERSION }, createdAt: new Date().toISOString(), source, checksRun, findings };
}

/** Why a check does not apply to these databases (undefined when it does). */
async function notApplicable(ctx: AuditContext, check: AuditCheck): Promise<Message | undefined> {
  const a = check.appliesTo;
  for (const need of a.needs) {
    const name = need === 'glpi' ? 'GLPI' : 'OCS';
    if (!(need === 'glpi' ? ctx.glpi : ctx.ocs)) return msg('audit.skip.no-database', { product: name });
  }
  if (a.glpiVersions && ctx.glpi) {
    const v = (await ctx.glpiVersion()).version;
    const [min, max] = a.glpiVersions;
    if (v && compareDotted(v, min) < 0) return msg('audit.skip.glpi-older', { version: v, min });
    if (v && max && compareDotted(v, max) >= 0) return msg('audit.skip.glpi-newer', { version: v, max });
  }
  if (a.ocsGuiVersions && ctx.ocs) {
    const g = (await ctx.ocsVersion()).guiVersion;
    const [min, max] = a.ocsGuiVersions;
    if (g !== undefined && g < min) return msg('audit.skip.gui-older', { gui: g, min });
    if (g !== undefined && max !== undefined && g >= max) return msg('audit.skip.gui-newer', { gui: g, max });
  }
  if (a.connector && ctx.glpi) {
    const m = (await ctx.connector()).mode;
    if (m === 'none') return msg('audit.skip.no-connector', {});
    if (!a.connector.includes(m)) return msg('audit.skip.connector-form', { mode: m });
  }
  return undefined;
}

function referenceProviderFor(opts: RunAuditOptions, fallback: () => ScratchSource) {
  const dirs = opts.referenceDirs ?? [];
  const dists = opts.glpiDists ?? [];
  if (dirs.length === 0 && dists.length === 0) return undefined;
  for (const d of [...dirs, ...dists]) {
    if (!fs.existsSync(d)) throw new NotFoundError(`reference directory ${d} does not exist`);
  }
  return createReferenceProvider({ dirs, glpiDists: dists, scratch: opts.scratch ?? fallback() });
}

function ctxOptions(opts: RunAuditOptions): Partial<AuditOptions> {
  const o: Partial<AuditOptions> = {};
  if (opts.staleDays !== undefined) o.staleDays = opts.staleDays;
  if (opts.installerProfileId !== undefined) o.installerProfileId = opts.installerProfileId;
  if (opts.ocsServerId !== undefined) o.ocsServerId = opts.ocsServerId;
  if (opts.samples !== undefined) o.samples = opts.samples;
  return o;
}

/**
 * Runs the catalog. Read-only on the audited databases: live DSNs are opened with READ ONLY sessions;
 * reference schemas are loaded only on a test instance (the snapshot's, or an embedded one).
 */
export async function runAudit(input: AuditInput, opts: RunAuditOptions = {}): Promise<FindingsFile> {
  if ('connections' in input) {
    const refs = referenceProviderFor(opts, () => embeddedScratch(opts.serverBin));
    const ctx = new AuditContext(input.connections.glpi, input.connections.ocs, ctxOptions(opts), refs);
    try {
      return await runChecks(ctx, opts, input.source ?? { live: { glpi: input.connections.glpi?.address, ocs: input.connections.ocs?.address } });
    } finally {
      if (!opts.scratch) await refs?.close();
    }
  }
  if ('live' in input) {
    const opened: Connection[] = [];
    try {
      const open = async (dsn: Dsn | undefined): Promise<AuditDb | undefined> => {
        if (!dsn) return undefined;
        const conn = await connectReadOnly(dsn);
        opened.push(conn);
        return { conn, database: dsn.database!, address: formatDsn(dsn) };
      };
      const glpi = await open(input.live.glpi);
      const ocs = await open(input.live.ocs);
      return await runAudit({ connections: { glpi, ocs }, source: { live: { glpi: glpi?.address, ocs: ocs?.address } } }, opts);
    } finally {
      for (const c of opened) await c.end().catch(() => undefined);
    }
  }
  return auditSnapshot(input.snapshot, input.instance, opts);
}

async function auditSnapshot(dir: string, instance: Dsn | undefined, opts: RunAuditOptions): Promise<FindingsFile> {
  const { restoreSnapshot } = await import('../snapshot/index.ts');
  const { startEmbedded } = await import('../db/embedded.ts');
  const { assertWritable } = await import('../db/interlock.ts');
  const { connect, qi } = await import('../db/connect.ts');
  const embedded = instance ? undefined : await startEmbedded({ serverBin: opts.serverBin, name: 'audit-snapshot' });
  const target = instance ?? embedded!.dsn;
  const suffix = Date.now().toString(36);
  let conn: Connection | undefined;
  let restored: { databases: Partial<Record<'glpi' | 'ocs', string>>; snapshotId: string } | undefined;
  try {
    conn = await connect({ ...target, database: undefined });
    await assertWritable(conn, target, 'restore a snapshot for the audit');
    opts.onStage?.('restoring the snapshot');
    // On an instance the user gave, restore under fresh names so nothing of theirs is touched.
    const names = instance ? await manifestRoles(dir, suffix) : undefined;
    restored = await restoreSnapshot(dir, target, names ? { databases: names } : {});
    // The restored copy is audited like production: through a read-only session.
    await conn.query('SET SESSION TRANSACTION READ ONLY');
    opts.onStage?.('auditing');
    const db = (role: 'glpi' | 'ocs'): AuditDb | undefined => (restored!.databases[role] ? { conn: conn!, database: restored!.databases[role]!, address: `snapshot:${role}` } : undefined);
    const scratch = opts.scratch ?? scratchOn(target);
    try {
      return await runAudit({ connections: { glpi: db('glpi'), ocs: db('ocs') }, source: { snapshotId: restored.snapshotId } }, { ...opts, scratch });
    } finally {
      if (!opts.scratch) await scratch.close();
    }
  } finally {
    if (instance && restored && conn) {
      await conn.query('SET SESSION TRANSACTION READ WRITE').catch(() => undefined);
      for (const name of Object.values(restored.databases)) if (name) await conn.query(`DROP DATABASE IF EXISTS ${qi(name)}`).catch(() => undefined);
    }
    await conn?.end().catch(() => undefined);
    await embedded?.stop();
  }
}

async function manifestRoles(dir: string, suffix: string): Promise<Partial<Record<'glpi' | 'ocs', string>>> {
  const { readManifest } = await import('../snapshot/index.ts');
  const m = await readManifest(dir);
  const out: Partial<Record<'glpi' | 'ocs', string>> = {};
  for (const d of m.databases) out[d.role] = `${d.name}_audit_${suffix}`.slice(0, 64);
  return out;
}

/** Reads and validates a findings file (YAML or JSON): a bad one is a UsageError naming the file and the path. */
export function readFindings(file: string): FindingsFile {
  return readFindingsFile(file, {
    invalid: (message) => new UsageError(message),
    missing: () => new NotFoundError(`findings file ${file} does not exist`, { hint: 'make one with: glpi-ocs-upgrade audit SNAPSHOT_DIR -o findings.yaml' }),
  });
}

/** Writes a findings file: JSON when the name ends in .json, YAML otherwise. */
export function writeFindings(file: string, findings: FindingsFile): void {
  writeFindingsFile(file, findings);
}
