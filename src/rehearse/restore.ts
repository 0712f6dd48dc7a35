/**
 * The rehearsal's first act: restore the snapshot into the test instance under its own database names and
 * prove it arrived intact (every table's row count and CHECKSUM TABLE equal to the manifest's).
 */
import type { Dsn } from '../db/dsn.ts';
import { RestoreMismatchError, restoreSnapshot } from '../snapshot/index.ts';
import type { RestoreResult } from '../snapshot/index.ts';
import type { RunSummary } from './run-types.ts';

export interface RehearsalRestore {
  ok: boolean;
  tables: number;
  checks: RunSummary['preChecks'];
}

export async function restoreForRehearsal(snapshotDir: string, dsn: Dsn, databases: { glpi?: string; ocs?: string }, options: { force?: boolean } = {}): Promise<RehearsalRestore> {
  let r: RestoreResult;
  try {
    // force: a new attempt (or a resume whose restore was cut) replaces the run's own databases.
    r = await restoreSnapshot(snapshotDir, dsn, { databases, verifyFiles: true, force: options.force });
  } catch (err) {
    // A mismatch is evidence for the dossier, not a crash: record it as a failed pre-check.
    if (!(err instanceof RestoreMismatchError)) throw err;
    r = err.result;
  }
  const checks: RunSummary['preChecks'] = [];
  for (const role of ['glpi', 'ocs'] as const) {
    const tables = r.tables.filter((t) => t.role === role);
    if (tables.length === 0) continue;
    const bad = tables.filter((t) => !t.ok);
    const rows = tables.reduce((s, t) => s + t.rows, 0);
    checks.push({
      id: `restore-${role}`,
      title: `Restore of the ${role.toUpperCase()} database matches the snapshot manifest`,
      titleFr: `Restauration de la base ${role.toUpperCase()} conforme au manifeste de l’instantané`,
      status: bad.length ? 'failed' : 'passed',
      detail: bad.length
        ? `${bad.length} table(s) differ: ${bad
            .slice(0, 5)
            .map((t) => `${t.table} (rows ${t.rows}/${t.expectedRows}, checksum ${t.checksum}/${t.expectedChecksum})`)
            .join(', ')}`
        : `${tables.length} tables, ${rows} rows: row counts and CHECKSUM TABLE equal to the manifest`,
      detailFr: bad.length
        ? `${bad.length} table(s) différente(s) : ${bad
            .slice(0, 5)
            .map((t) => `${t.table} (lignes ${t.rows}/${t.expectedRows}, somme de contrôle ${t.checksum}/${t.expectedChecksum})`)
            .join(', ')}`
        : `${tables.length} tables et ${rows} lignes restaurées ; nombre de lignes et CHECKSUM TABLE identiques au manifeste pour chaque table`,
    });
  }
  return { ok: r.ok, tables: r.tables.length, checks };
}
