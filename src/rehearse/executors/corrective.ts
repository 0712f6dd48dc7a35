/**
 * The executor of `corrective-migration` steps: one of the project's corrective migrations
 * (migrations/corrective/<id>.yaml, loaded by src/catalog/corrective.ts) applied on the test instance:
 * interlock, precheck, statements, postcheck, and the row counts of every table it may touch before and
 * after. The audit only detects what a migration fixes; running it is this module's job. Tests call
 * `applyCorrectiveMigration` to prove each migration removes its finding and nothing else.
 */
import { literal } from '../../i18n/messages.ts';
import type { Connection } from 'mysql2/promise';
import type { CorrectiveMigration } from '../../catalog/corrective.ts';
import { correctiveMigration, renderCorrectiveSql } from '../../catalog/corrective.ts';
import { assertWritable } from '../../db/interlock.ts';
import type { Dsn } from '../../db/dsn.ts';
import { qi, queryRows } from '../../db/connect.ts';
import { StepFailedError } from '../../errors.ts';
import type { ExpectedEffects } from '../../plan/plan-types.ts';
import { writeEvidence } from './common.ts';
import { msg } from '../../i18n/messages.ts';
import type { ExecutorContext, ExecutorResult, StepExecutor, StepOf } from './types.ts';

export interface CorrectiveNames {
  /** The database the migration fixes. */
  db: string;
  glpi_db?: string;
  ocs_db?: string;
}

export interface CorrectiveResult {
  id: string;
  /** sha256 of the migration file (journals record it). */
  checksum: string;
  /** Rows per touched table (null when the table does not exist). */
  rowsBefore: Record<string, number | null>;
  rowsAfter: Record<string, number | null>;
  precheck: number;
  postcheck: number;
  /** False when the precheck found nothing to do: no statement was run. */
  applied: boolean;
  statementsRun: number;
  ok: boolean;
  elapsedMs: number;
}

async function scalar(conn: Connection, sql: string): Promise<number> {
  const [r] = await conn.query(sql);
  const first = (r as Array<Record<string, unknown>>)[0];
  return first ? Number(Object.values(first)[0] ?? 0) : 0;
}

async function rowCounts(conn: Connection, db: string, tables: string[]): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const t of tables) {
    try {
      out[t] = await scalar(conn, `SELECT COUNT(*) FROM ${qi(db)}.${qi(t)}`);
    } catch {
      out[t] = null;
    }
  }
  return out;
}

function dsnOf(conn: Connection): Dsn {
  const c = conn.config;
  return { user: c.user ?? '?', host: c.host ?? 'localhost', port: c.port ?? 3306, socket: c.socketPath, testInstance: false };
}

/**
 * Runs one corrective migration in `names.db`. Refuses (InterlockError, exit 6) unless the server is a
 * marked test instance. Statements run with the session sql_mode GLPI < 10 used (no strict flags), in
 * the target database; the session's sql_mode and default database are restored afterwards.
 * A failing statement ends as StepFailedError (exit 7) naming the migration and the statement.
 */
export async function applyCorrectiveMigration(conn: Connection, migration: CorrectiveMigration, names: CorrectiveNames, options: { dsn?: Dsn } = {}): Promise<CorrectiveResult> {
  const started = Date.now();
  await assertWritable(conn, options.dsn ?? dsnOf(conn), `apply corrective migration ${migration.id}`);
  const render = (sql: string) => renderCorrectiveSql(sql, names);
  const rowsBefore = await rowCounts(conn, names.db, migration.touches);
  const [state] = await queryRows<{ m: string; d: string | null }>(conn, 'SELECT @@SESSION.sql_mode AS m, DATABASE() AS d');
  let statementsRun = 0;
  let precheck: number;
  let postcheck: number;
  try {
    // Checks and statements run in the target database (DATABASE() names it), without strict flags.
    await conn.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");
    await conn.query(`USE ${qi(names.db)}`);
    precheck = await scalar(conn, render(migration.precheck));
    if (precheck > 0) {
      for (const [i, stmt] of migration.statements.entries()) {
        try {
          await conn.query(render(stmt));
          statementsRun++;
        } catch (err) {
          const e = err as { sqlMessage?: string; message?: string };
          throw new StepFailedError(`corrective migration ${migration.id}: statement ${i + 1} failed: ${e.sqlMessage ?? e.message}`, { cause: err });
        }
      }
    }
    postcheck = await scalar(conn, render(migration.postcheck));
  } finally {
    await conn.query('SET SESSION sql_mode = ?', [state.m]).catch(() => undefined);
    if (state.d) await conn.query(`USE ${qi(state.d)}`).catch(() => undefined);
  }
  const rowsAfter = await rowCounts(conn, names.db, migration.touches);
  return {
    id: migration.id,
    checksum: migration.checksum,
    rowsBefore,
    rowsAfter,
    precheck,
    postcheck,
    applied: precheck > 0,
    statementsRun,
    ok: postcheck === 0,
    elapsedMs: Date.now() - started,
  };
}

/** Tables a corrective-migration step may touch: the migration's declared `touches` ('all' when unknown). */
export function correctiveStepTables(step: StepOf<'corrective-migration'>): string[] | 'all' {
  const m = correctiveMigration(step.runner.migration);
  return m ? m.touches : 'all';
}

/**
 * What a corrective-migration step is expected to change: its declared `touches` tables may lose rows
 * (duplicates, orphans) or change in place: that is its purpose, so those deltas are explained.
 */
export function correctiveExpectedEffects(step: StepOf<'corrective-migration'>): ExpectedEffects {
  const m = correctiveMigration(step.runner.migration);
  if (!m) return step.expected;
  const why = literal(`corrective migration ${m.id}: ${m.title.params.en}`, `migration corrective ${m.id} : ${m.title.params.fr}`);
  return {
    ...step.expected,
    tablesTouched: [...new Set([...(Array.isArray(step.expected.tablesTouched) ? step.expected.tablesTouched : []), ...m.touches])],
    rowsDeleted: [...(step.expected.rowsDeleted ?? []), ...m.touches.map((table) => ({ table, why }))],
  };
}

async function runCorrective(step: StepOf<'corrective-migration'>, ctx: ExecutorContext): Promise<ExecutorResult> {
  const m = correctiveMigration(step.runner.migration);
  if (!m) {
    return {
      status: 'failed',
      reason: msg('result.corrective.missing', { migration: step.runner.migration }),
      evidence: [],
    };
  }
  const db = ctx.databases[m.database];
  if (!db) return { status: 'not-run', reason: msg('result.corrective.no-database', { role: m.database }), evidence: [] };
  const r = await applyCorrectiveMigration(ctx.conn, m, { db, glpi_db: ctx.databases.glpi, ocs_db: ctx.databases.ocs }, { dsn: ctx.dsn });
  const evidence = writeEvidence(ctx, 'corrective.json', r);
  const changed = Object.keys(r.rowsBefore).filter((t) => r.rowsBefore[t] !== r.rowsAfter[t]);
  return {
    status: r.ok ? 'passed' : 'failed',
    reason: !r.applied
      ? msg('result.corrective.nothing', {})
      : r.ok
        ? msg('result.corrective.done', { precheck: r.precheck, postcheck: r.postcheck, statements: r.statementsRun })
        : msg('result.corrective.still', { postcheck: r.postcheck }),
    evidence: [evidence],
    details: { checksum: r.checksum, changedTables: changed },
  };
}

export const correctiveExecutor: StepExecutor<'corrective-migration'> = {
  kind: 'corrective-migration',
  execute: runCorrective,
};
