/**
 * `rollback`: production given back from the pre-apply backup, then proven byte for byte — every table's
 * row count and CHECKSUM TABLE equal to the backup's manifest, and no table that the backup does not hold.
 * Refused (exit 15) when there is no verified backup or another session is connected; exit 6 when
 * --confirm does not name the server.
 */
import { connect, connectReadOnly, qi } from '../db/connect.ts';
import { confirmationMatches, hostPortOf, withProductionWrites } from '../db/interlock.ts';
import { ApplyRefusedError, InterlockError, VerificationError } from '../errors.ts';
import { describeProblems, readManifest, restoreSnapshot, verifySnapshot } from '../snapshot/index.ts';
import { shadowName } from '../rehearse/savepoint.ts';
import { databaseState } from '../rehearse/checks.ts';
import { describeSessions, otherSessions } from './production.ts';
import type { ProductionSources } from './apply.ts';
import { productionTarget } from './apply.ts';
import type { ApplyRecord } from './state.ts';
import { readApplyRecord, writeApplyRecord } from './state.ts';

export interface RollbackOptions {
  runDir: string;
  sources: ProductionSources;
  confirm?: string;
  onEvent?: (message: string) => void;
}

export async function rollbackProduction(opts: RollbackOptions): Promise<NonNullable<ApplyRecord['rollback']> & { backupId: string; backupDir: string }> {
  const target = productionTarget(opts.sources);
  if (!confirmationMatches(target, opts.confirm)) {
    throw new InterlockError(`--confirm ${opts.confirm ?? '(missing)'} does not name the production server ${hostPortOf(target)}: nothing was done`, {
      hint: `type production's address exactly: --confirm ${hostPortOf(target)}`,
    });
  }
  const record = readApplyRecord(opts.runDir);
  if (!record?.backup) throw new ApplyRefusedError(`${opts.runDir}: no pre-apply backup recorded (apply never reached its backup): nothing to roll back`);
  if (record.production.hostPort !== hostPortOf(target)) {
    throw new ApplyRefusedError(`this apply ran on ${record.production.hostPort}, not on ${hostPortOf(target)}`);
  }
  const backup = record.backup;
  const v = await verifySnapshot(backup.dir);
  if (!v.ok)
    throw new ApplyRefusedError(`the backup ${backup.dir} does not match its manifest: ${describeProblems(v.problems)}`, {
      hint: 'restore a copy of the backup directory from where you keep it, then run rollback again',
    });
  const manifest = await readManifest(backup.dir);
  if (manifest.id !== backup.id) throw new ApplyRefusedError(`the backup in ${backup.dir} is not the one apply took (${backup.id.slice(0, 12)}…)`);
  const dbs: { glpi?: string; ocs?: string } = {};
  for (const d of manifest.databases) {
    if (opts.sources[d.role] && opts.sources[d.role]!.database !== d.name)
      throw new ApplyRefusedError(`production's ${d.role} database is "${opts.sources[d.role]!.database}", the backup holds "${d.name}"`);
    dbs[d.role] = d.name;
  }
  const ro = await connectReadOnly(target);
  try {
    const sessions = await otherSessions(ro, dbs, [ro.threadId ?? -1]);
    if (sessions.length)
      throw new ApplyRefusedError(`rollback refused, nothing was written: other sessions are connected: ${describeSessions(sessions)}`, {
        hint: 'stop them (OCS communication server, GLPI cron, mail collector), then run rollback again',
      });
  } finally {
    await ro.end().catch(() => undefined);
  }
  const startedAt = new Date().toISOString();
  opts.onEvent?.(`restoring backup ${manifest.id.slice(0, 12)} into ${hostPortOf(target)}`);
  await withProductionWrites(target, opts.confirm, async () => {
    await restoreSnapshot(backup.dir, target, { force: true, verifyFiles: false });
    // Savepoint copies a failed step left behind.
    const c = await connect(target);
    try {
      for (const name of Object.values(dbs)) if (name) await c.query(`DROP DATABASE IF EXISTS ${qi(shadowName(name))}`);
    } finally {
      await c.end().catch(() => undefined);
    }
  });
  // The proof, read again on a fresh read-only session.
  const differing: string[] = [];
  let tables = 0;
  const c = await connectReadOnly(target);
  try {
    for (const d of manifest.databases) {
      const now = await databaseState(c, d.name);
      for (const t of d.tables) {
        tables++;
        const s = now.get(t.name);
        if (!s || s.rows !== t.rows || s.checksum !== t.checksum) differing.push(`${d.name}.${t.name}`);
      }
      for (const t of now.keys()) if (!d.tables.some((x) => x.name === t)) differing.push(`${d.name}.${t} (not in the backup)`);
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  const result = { startedAt, finishedAt: new Date().toISOString(), tables, ok: differing.length === 0, differing };
  record.rollback = result;
  writeApplyRecord(opts.runDir, record);
  if (!result.ok) throw new VerificationError(`after the rollback, ${differing.length} table(s) differ from the backup: ${differing.slice(0, 5).join(', ')}`);
  return { ...result, backupId: manifest.id, backupDir: backup.dir };
}
