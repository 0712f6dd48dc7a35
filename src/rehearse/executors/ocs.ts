/**
 * The OCS step executors: the 7005 → 7006 bridge, one official update file, and the PHP-side changes.
 *
 *   ocs-bridge       the official 2.1/2.2 legacy `ocsbase.sql` when a distribution provides one (run to its end,
 *                    like install.php: stopping half-way leaves dropped keys behind), else the tool's own
 *                    bridge, migrations/ocs/bridge-7005-7006.sql (stops at the first real failure).
 *   ocs-update-file  files/update/NNNN.sql from the distribution that reaches furthest; stops at the first real
 *                    failure; GUI_VERSION bumped to NNNN only when every statement succeeded or failed with an
 *                    "already applied" error.
 *   ocs-php-change   the changes ocsreports makes in PHP (src/rehearse/executors/ocs-catalog.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { MIGRATIONS_DIR } from '../../catalog/ocs-releases.ts';
import { resolveOcsSources, sha256File } from '../../distributions/ocs.ts';
import type { PlanStep } from '../../plan/plan-types.ts';
import { failed, notRun, openWritable, writeEvidence } from './common.ts';
import { OCS_BRIDGE_DELETIONS, OCS_BRIDGE_WARNINGS, OCS_PHP_CHANGES, OCS_UPDATE_DELETIONS, type DeletionCounter } from './ocs-catalog.ts';
import { applyOcsSession, readGuiVersion, runOcsSql, writeGuiVersion, type RunOcsSqlResult } from './ocs-sql.ts';
import type { ExecutorContext, ExecutorResult, RowsDeletedOnPurpose, StepExecutor } from './types.ts';
import { msg, type Message } from '../../i18n/messages.ts';
import { render } from '../../i18n/render.ts';

export const OWN_BRIDGE_FILE = path.join(MIGRATIONS_DIR, 'ocs', 'bridge-7005-7006.sql');

type Step<K extends PlanStep['runner']['kind']> = PlanStep & { runner: Extract<PlanStep['runner'], { kind: K }> };

function needOcsDb(ctx: ExecutorContext): string | undefined {
  return ctx.databases.ocs;
}

async function countDeletions(conn: Connection, counters: DeletionCounter[]): Promise<RowsDeletedOnPurpose[]> {
  const out: RowsDeletedOnPurpose[] = [];
  for (const c of counters) {
    try {
      const [rows] = await conn.query(c.countSql);
      out.push({ table: c.table, rows: Number((rows as Array<{ n: number | string }>)[0].n), why: c.why });
    } catch (err) {
      // Table absent at this version: nothing to lose.
      if ((err as { errno?: number }).errno !== 1146) throw err;
    }
  }
  return out;
}

function sqlEvidence(ctx: ExecutorContext, name: string, info: Record<string, unknown>, run: RunOcsSqlResult): string {
  return writeEvidence(ctx, name, { ...info, statements: run.statements, errors: run.errors, stoppedAt: run.stoppedAt ?? null });
}

function summary(run: RunOcsSqlResult): Message {
  const s = run.statements;
  return msg('result.ocs.statements', { total: s.total, ok: s.ok, expectedErrors: s.expectedErrors, failed: s.failed });
}

/** A step with nothing to do: the database is at `gui` already. */
function alreadyDone(reason: Message, gui: number): ExecutorResult {
  return { status: 'passed', reason, versionBefore: String(gui), versionAfter: String(gui), statements: { total: 0, ok: 0, expectedErrors: 0, failed: 0 }, evidence: [] };
}

/** What every result of an SQL file run says the same way: GUI_VERSION before and after, statements, errors, evidence. */
function ranSql(before: number, after: number | undefined, run: RunOcsSqlResult, evidence: string) {
  return {
    versionBefore: String(before),
    versionAfter: after === undefined ? undefined : String(after),
    statements: run.statements,
    errors: run.errors,
    evidence: [evidence],
  };
}

function noOcsDb(stepId: string): Message {
  return msg('result.ocs.no-database', { step: stepId });
}

function notOcs(db: string): Message {
  return msg('result.ocs.not-ocs', { database: db });
}

export const ocsBridgeExecutor: StepExecutor<'ocs-bridge'> = {
  kind: 'ocs-bridge',
  async execute(step: Step<'ocs-bridge'>, ctx: ExecutorContext): Promise<ExecutorResult> {
    const db = needOcsDb(ctx);
    if (!db) return failed(noOcsDb(step.id));
    const sources = resolveOcsSources(ctx.dists.ocs ?? []);
    const conn = await openWritable(ctx, db, `run the OCS bridge on ${db}`);
    try {
      await applyOcsSession(conn);
      const before = await readGuiVersion(conn);
      if (before === undefined) return failed(notOcs(db));
      if (before >= 7006) return alreadyDone(msg('result.ocs.bridge-not-needed', { gui: before }), before);
      if (sources.bridge) {
        const file = sources.bridge.file;
        ctx.log(`OCS bridge: official ${path.basename(file)} from ${sources.bridge.dist.dir}`);
        const deleted = await countDeletions(conn, OCS_BRIDGE_DELETIONS);
        const run = await runOcsSql(conn, fs.readFileSync(file, 'utf8'), { mode: 'bridge', continueOnFailure: true, signal: ctx.signal, log: ctx.log });
        const after = await readGuiVersion(conn);
        const ev = sqlEvidence(ctx, 'bridge.json', { source: 'official', file, sha256: sources.bridge.sha256, warnings: OCS_BRIDGE_WARNINGS, rowsDeletedOnPurpose: deleted }, run);
        const ok = run.statements.failed === 0 && after === 7006;
        const first = run.errors.find((e) => e.classification === 'failure');
        return {
          status: ok ? 'passed' : 'failed',
          reason: ok
            ? msg('result.ocs.official-bridge', { summary: summary(run) })
            : run.statements.failed > 0
              ? msg('result.ocs.official-bridge-failed', { failed: run.statements.failed, index: first?.index, message: first?.message })
              : msg('result.ocs.official-bridge-version', { is: msg('result.ocs.gui-version', { gui: after }) }),
          ...ranSql(before, after, run, ev),
          rowsDeletedOnPurpose: deleted,
          details: { source: 'official', file, sha256: sources.bridge.sha256, warnings: OCS_BRIDGE_WARNINGS },
        };
      }
      if (before !== 7005) {
        return failed(msg('result.ocs.tool-bridge-7005-only', { gui: before }), {
          versionBefore: String(before),
          commandForUser: 'pass --ocs-dist DIR with an unpacked OCS 2.2 release (its files/ocsbase.sql is the official bridge)',
        });
      }
      ctx.log(`OCS bridge: the tool's own ${path.relative(path.dirname(MIGRATIONS_DIR), OWN_BRIDGE_FILE)}`);
      const run = await runOcsSql(conn, fs.readFileSync(OWN_BRIDGE_FILE, 'utf8'), { signal: ctx.signal, log: ctx.log });
      if (!run.stoppedAt) await writeGuiVersion(conn, 7006);
      const after = await readGuiVersion(conn);
      const sha256 = sha256File(OWN_BRIDGE_FILE);
      const ev = sqlEvidence(ctx, 'bridge.json', { source: 'tool', file: 'migrations/ocs/bridge-7005-7006.sql', sha256 }, run);
      const ok = !run.stoppedAt && after === 7006;
      return {
        status: ok ? 'passed' : 'failed',
        reason: ok ? msg('result.ocs.tool-bridge', { summary: summary(run) }) : msg('result.ocs.tool-bridge-failed', { index: run.stoppedAt?.index, message: run.stoppedAt?.message }),
        ...ranSql(before, after, run, ev),
        rowsDeletedOnPurpose: [],
        details: { source: 'tool', sha256 },
      };
    } finally {
      await conn.end().catch(() => undefined);
    }
  },
};

export const ocsUpdateFileExecutor: StepExecutor<'ocs-update-file'> = {
  kind: 'ocs-update-file',
  async execute(step: Step<'ocs-update-file'>, ctx: ExecutorContext): Promise<ExecutorResult> {
    const db = needOcsDb(ctx);
    const target = step.runner.guiVersion;
    if (!db) return failed(noOcsDb(step.id));
    const sources = resolveOcsSources(ctx.dists.ocs ?? []);
    const source = sources.updates.get(target);
    const file = source?.file ?? (path.isAbsolute(step.runner.file) && fs.existsSync(step.runner.file) ? step.runner.file : undefined);
    if (!file) {
      const have = (ctx.dists.ocs ?? []).length === 0 ? msg('result.ocs.no-dist', {}) : msg('result.ocs.no-update-file', { target });
      return notRun(have, `glpi-ocs-upgrade rehearse PLAN --resume --ocs-dist DIR   # DIR: an unpacked OCS release (or Debian's ocsinventory-reports package) that ships files/update/${target}.sql`);
    }
    const sha256 = source?.sha256 ?? sha256File(file);
    const conn = await openWritable(ctx, db, `run OCS update ${target} on ${db}`);
    try {
      await applyOcsSession(conn);
      const before = await readGuiVersion(conn);
      if (before === undefined) return failed(notOcs(db));
      if (before >= target) return alreadyDone(msg('result.ocs.file-applied-before', { gui: before, target }), before);
      if (before !== target - 1) {
        return failed(msg('result.ocs.file-out-of-order', { gui: before, target }), { versionBefore: String(before), versionAfter: String(before) });
      }
      const deleted = await countDeletions(conn, OCS_UPDATE_DELETIONS[target] ?? []);
      const extra: Record<string, number> = {};
      if (target === 7037) extra.softwaresBefore = await countOrZero(conn, 'softwares');
      ctx.log(`OCS update ${target}: ${file}`);
      const run = await runOcsSql(conn, fs.readFileSync(file, 'utf8'), { signal: ctx.signal, log: ctx.log });
      if (!run.stoppedAt) await writeGuiVersion(conn, target);
      if (target === 7037) extra.softwareAfter = await countOrZero(conn, 'software');
      const after = await readGuiVersion(conn);
      const ev = sqlEvidence(ctx, `update-${target}.json`, { file, sha256, distribution: source?.dist.dir, rowsDeletedOnPurpose: deleted, counts: extra }, run);
      const ok = !run.stoppedAt && after === target;
      return {
        status: ok ? 'passed' : 'failed',
        reason: ok
          ? summary(run)
          : run.stoppedAt
            ? msg('result.ocs.file-failed', { target, index: run.stoppedAt.index, code: String(run.stoppedAt.code), message: run.stoppedAt.message, after })
            : msg('result.ocs.file-version', { target, after }),
        ...ranSql(before, after, run, ev),
        rowsDeletedOnPurpose: deleted,
        details: { file, sha256, ...extra },
      };
    } finally {
      await conn.end().catch(() => undefined);
    }
  },
};

async function countOrZero(conn: Connection, table: string): Promise<number> {
  try {
    const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number((rows as Array<{ n: number | string }>)[0].n);
  } catch {
    return 0;
  }
}

async function tableExists(conn: Connection, table: string): Promise<boolean> {
  const [rows] = await conn.query("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'", [table]);
  return Number((rows as Array<{ n: number | string }>)[0].n) > 0;
}

/** Applies one PHP-side change; returns the statements run and notes (messages). Idempotent. */
export async function applyOcsPhpChange(conn: Connection, id: string): Promise<{ statements: number; changedRows: number; notes: Message[] }> {
  const notes: Message[] = [];
  switch (id) {
    case 'accountinfo-types-2.5': {
      if (!(await tableExists(conn, 'accountinfo_config'))) return { statements: 0, changedRows: 0, notes: [msg('result.ocs-php.no-table', { table: 'accountinfo_config' })] };
      const [res] = await conn.query('UPDATE accountinfo_config SET TYPE = CASE TYPE WHEN 4 THEN 5 WHEN 6 THEN 14 WHEN 7 THEN 11 END WHERE TYPE IN (4, 6, 7)');
      const changed = Number((res as { affectedRows?: number }).affectedRows ?? 0);
      notes.push(msg('result.ocs-php.accountinfo-converted', { rows: changed }));
      return { statements: 1, changedRows: changed, notes };
    }
    case 'snmp-lastdate-2.10': {
      const [cfg] = await conn.query("SELECT IVALUE FROM config WHERE NAME = 'SNMP'");
      const enabled = Number((cfg as Array<{ IVALUE: number | null }>)[0]?.IVALUE ?? 0) !== 0;
      if (!enabled) {
        return { statements: 0, changedRows: 0, notes: [msg('result.ocs-php.snmp-off', {})] };
      }
      if (!(await tableExists(conn, 'snmp_types'))) return { statements: 0, changedRows: 0, notes: [msg('result.ocs-php.no-table', { table: 'snmp_types' })] };
      const [types] = await conn.query('SELECT DISTINCT TABLE_TYPE_NAME AS t FROM snmp_types WHERE TABLE_TYPE_NAME IS NOT NULL');
      let statements = 0;
      for (const { t } of types as Array<{ t: string }>) {
        if (!(await tableExists(conn, t))) {
          notes.push(msg('result.ocs-php.snmp-table-missing', { table: t }));
          continue;
        }
        const [has] = await conn.query("SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'LASTDATE'", [t]);
        if (Number((has as Array<{ n: number | string }>)[0].n) > 0) continue;
        await conn.query(`ALTER TABLE \`${t.replace(/`/g, '``')}\` ADD COLUMN \`LASTDATE\` DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP AFTER \`ID\``);
        statements++;
        notes.push(msg('result.ocs-php.lastdate-added', { table: t }));
      }
      return { statements, changedRows: 0, notes };
    }
    default:
      throw new Error(`unknown OCS PHP-side change "${id}" (known: ${OCS_PHP_CHANGES.map((c) => c.id).join(', ')})`);
  }
}

export const ocsPhpChangeExecutor: StepExecutor<'ocs-php-change'> = {
  kind: 'ocs-php-change',
  async execute(step: Step<'ocs-php-change'>, ctx: ExecutorContext): Promise<ExecutorResult> {
    const db = needOcsDb(ctx);
    if (!db) return failed(noOcsDb(step.id));
    if (!OCS_PHP_CHANGES.some((c) => c.id === step.runner.change)) {
      return failed(msg('result.ocs.php-unknown', { change: step.runner.change, known: OCS_PHP_CHANGES.map((c) => c.id) }));
    }
    const conn = await openWritable(ctx, db, `apply the OCS change ${step.runner.change} on ${db}`);
    try {
      await applyOcsSession(conn);
      const before = await readGuiVersion(conn);
      let r: Awaited<ReturnType<typeof applyOcsPhpChange>>;
      try {
        r = await applyOcsPhpChange(conn, step.runner.change);
      } catch (err) {
        const e = err as { errno?: number; sqlMessage?: string; message?: string };
        return failed(msg('result.ocs.php-error', { change: step.runner.change, error: String(e.sqlMessage ?? e.message) }), { versionBefore: before === undefined ? undefined : String(before) });
      }
      for (const n of r.notes) ctx.log(`  ${render(n, 'en')}`);
      const ev = writeEvidence(ctx, `php-change-${step.runner.change}.json`, { change: step.runner.change, ...r });
      const v = before === undefined ? undefined : String(before);
      return {
        status: 'passed',
        reason: r.notes.length ? msg('result.list', { items: r.notes }) : msg('result.ocs-php.nothing', {}),
        versionBefore: v,
        versionAfter: v,
        statements: { total: r.statements, ok: r.statements, expectedErrors: 0, failed: 0 },
        evidence: [ev],
        details: { changedRows: r.changedRows },
      };
    } finally {
      await conn.end().catch(() => undefined);
    }
  },
};
