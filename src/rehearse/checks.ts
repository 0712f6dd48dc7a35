/**
 * Checks around steps: exact row counts and CHECKSUM TABLE of a database's tables, and the comparison
 * of two such states into table deltas that are either explained by the plan (expected) or anomalies.
 */
import crypto from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import { qi } from '../db/connect.ts';
import { listTables } from '../db/introspect.ts';
import type { ExpectedEffects } from '../plan/plan-types.ts';
import type { TableDelta } from './run-types.ts';

export interface TableState {
  rows: number;
  checksum: string | null;
}

export type DatabaseState = Map<string, TableState>;

/** Row counts (and checksums unless `checksums: false`) of every base table, optionally restricted. */
export async function databaseState(conn: Connection, database: string, options: { only?: Set<string>; checksums?: boolean } = {}): Promise<DatabaseState> {
  const state: DatabaseState = new Map();
  const tables = (await listTables(conn, database)).filter((t) => t.type === 'BASE TABLE' && (!options.only || options.only.has(t.name)));
  for (const t of tables) {
    const [c] = await conn.query(`SELECT COUNT(*) AS n FROM ${qi(database)}.${qi(t.name)}`);
    let checksum: string | null = null;
    if (options.checksums !== false) {
      const [k] = await conn.query(`CHECKSUM TABLE ${qi(database)}.${qi(t.name)}`);
      const v = (k as Array<{ Checksum: string | number | null }>)[0]?.Checksum;
      checksum = v === null || v === undefined ? null : String(v);
    }
    state.set(t.name, { rows: Number((c as Array<{ n: number | string }>)[0].n), checksum });
  }
  return state;
}

/** A short fingerprint of database states: equal fingerprints ⇔ same tables, rows and checksums. */
export function fingerprint(states: Record<string, DatabaseState>): string {
  const h = crypto.createHash('sha256');
  for (const db of Object.keys(states).sort()) {
    for (const [t, s] of [...states[db]].sort(([a], [b]) => a.localeCompare(b))) h.update(`${db}.${t}:${s.rows}:${s.checksum ?? '-'}\n`);
  }
  return h.digest('hex').slice(0, 32);
}

export interface DeltaContext {
  expected: ExpectedEffects;
  /** Rows the executor reported deleting on purpose (table → count), e.g. OCS 7037 softwares. */
  deletedOnPurpose?: Record<string, number>;
}

/**
 * Compares before/after row counts. A change is "expected" when the plan's expected effects cover the
 * table (created, dropped, renamed, rows deleted on purpose, or listed as touched); otherwise an anomaly.
 * Growth in a touched table is expected; a loss is expected only when the plan or the executor says so.
 */
export function tableDeltas(before: DatabaseState, after: DatabaseState, ctx: DeltaContext): TableDelta[] {
  const e = ctx.expected;
  const created = new Set(e.tablesCreated ?? []);
  const dropped = new Set(e.tablesDropped ?? []);
  const renamedFrom = new Map((e.tablesRenamed ?? []).map((r) => [r.from, r.to]));
  const renamedTo = new Map((e.tablesRenamed ?? []).map((r) => [r.to, r.from]));
  const deletions = new Map((e.rowsDeleted ?? []).map((r) => [r.table, r.why]));
  const touchedAll = e.tablesTouched === 'all';
  const touched = new Set(Array.isArray(e.tablesTouched) ? e.tablesTouched : []);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: TableDelta[] = [];
  for (const table of names) {
    const b = before.get(table);
    const a = after.get(table);
    const rb = b?.rows ?? null;
    const ra = a?.rows ?? null;
    if (rb === ra) {
      out.push({ table, before: rb, after: ra, verdict: 'unchanged' });
      continue;
    }
    let explanation: string | undefined;
    if (!b && (created.has(table) || touchedAll || renamedTo.has(table))) {
      explanation = renamedTo.has(table) ? `renamed from ${renamedTo.get(table)}` : 'created by the step';
    } else if (!a && (dropped.has(table) || renamedFrom.has(table) || touchedAll)) {
      explanation = renamedFrom.has(table) ? `renamed to ${renamedFrom.get(table)}` : 'dropped by the step';
    } else if (b && a && ra! > rb!) {
      if (touchedAll || touched.has(table) || created.has(table)) explanation = 'rows added by the step';
    } else if (b && a && ra! < rb!) {
      const purpose = ctx.deletedOnPurpose?.[table];
      if (deletions.has(table)) explanation = `rows deleted on purpose: ${deletions.get(table)}`;
      else if (purpose !== undefined && rb! - ra! === purpose) explanation = `${purpose} row(s) deleted on purpose by the step`;
      else if (!a.rows && dropped.has(table)) explanation = 'emptied by the step';
    }
    if (!explanation && b && a && (created.has(table) || dropped.has(table))) explanation = 'table recreated by the step';
    out.push({ table, before: rb, after: ra, verdict: explanation ? 'expected' : 'anomaly', explanation });
  }
  return out;
}

/** Tables whose checksum changed although the step was not allowed to touch them. */
export function untouchedChanged(before: DatabaseState, after: DatabaseState, mayTouch: Set<string> | 'all'): { checked: number; changed: string[] } {
  if (mayTouch === 'all') return { checked: 0, changed: [] };
  let checked = 0;
  const changed: string[] = [];
  for (const [t, b] of before) {
    if (mayTouch.has(t)) continue;
    const a = after.get(t);
    checked++;
    if (!a || a.checksum !== b.checksum || a.rows !== b.rows) changed.push(t);
  }
  return { checked, changed: changed.sort() };
}
