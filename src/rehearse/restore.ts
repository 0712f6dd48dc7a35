/**
 * The rehearsal's first act: restore the snapshot into the test instance under its own database names and
 * prove it arrived intact (every table's row count and CHECKSUM TABLE equal to the manifest's).
 */
import type { Dsn } from '../db/dsn.ts';
import { RestoreMismatchError, restoreSnapshot } from '../snapshot/index.ts';
import type { RestoreResult } from '../snapshot/index.ts';
import type { RunSummary } from './run-types.ts';
import { msg } from '../i18n/messages.ts';

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
      title: msg('precheck.restore.title', { role: role.toUpperCase() }),
      status: bad.length ? 'failed' : 'passed',
      detail: bad.length
        ? msg('precheck.restore.differs', {
            count: bad.length,
            tables: bad.slice(0, 5).map((t) => ({
              table: t.table,
              rows: t.rows,
              expectedRows: t.expectedRows,
              checksum: String(t.checksum),
              expectedChecksum: String(t.expectedChecksum),
            })),
          })
        : msg('precheck.restore.ok', { tables: tables.length, rows }),
    });
  }
  return { ok: r.ok, tables: r.tables.length, checks };
}
