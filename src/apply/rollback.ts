/**
 * `rollback`: production given back from the pre-apply backup, then proven byte for byte — every table's
 * row count and content digest equal to the backup's manifest (src/snapshot/digest.ts), and no table that the backup does not hold.
 * With GLPI and OCS on two servers (or accounts), each server gets its own backup back, and each is proven.
 * Refused (exit 15) when there is no verified backup or another session is connected; exit 6 when
 * --confirm does not name every server; exit 13 while another apply or rollback holds the run directory
 * or a server.
 */
import fs from 'node:fs';
import { connect, qi } from '../db/connect.ts';
import { withProductionWrites } from '../db/interlock.ts';
import { ApplyRefusedError, VerificationError } from '../errors.ts';
import { describeProblems, readManifest, restoreSnapshot, tablesDifferingFrom, verifySnapshot } from '../snapshot/index.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import { shadowName } from '../rehearse/savepoint.ts';
import type { OtherSession } from './production.ts';
import { describeSessions, otherSessions } from './production.ts';
import type { ApplyRecord, ServerBackup } from './state.ts';
import { readApplyRecord, recordedBackups, writeApplyRecord } from './state.ts';
import { lockProduction } from './lock.ts';
import { restoreGlpiConfigDir } from './glpi-config.ts';
import type { ProductionServer, ProductionSources } from './servers.ts';
import { describeServers, openReadSessions, productionServers } from './servers.ts';

export interface RollbackOptions {
  runDir: string;
  sources: ProductionSources;
  /** HOST:PORT of every production server the apply wrote. */
  confirm?: string | string[];
  onEvent?: (message: string) => void;
}

export type RollbackResult = NonNullable<ApplyRecord['rollback']> & { backupId: string; backupDir: string; backups: Array<{ id: string; dir: string; hostPort: string }> };

export async function rollbackProduction(opts: RollbackOptions): Promise<RollbackResult> {
  const servers = productionServers(opts.sources, opts.confirm);
  if (!fs.existsSync(opts.runDir)) throw new ApplyRefusedError(`${opts.runDir}: no such run directory: nothing to roll back`);
  const lock = await lockProduction(
    opts.runDir,
    servers.map((s) => s.dsn),
    'rollback',
  );
  if (lock.tookOver) opts.onEvent?.(`took over the lock of ${opts.runDir} left by a process that is no longer running: ${lock.tookOver}`);
  try {
    return await rollbackLocked(opts, servers);
  } finally {
    await lock.release();
  }
}

interface Restore {
  server: ProductionServer;
  backup: ServerBackup;
  manifest: Manifest;
  dbs: { glpi?: string; ocs?: string };
}

async function rollbackLocked(opts: RollbackOptions, servers: ProductionServer[]): Promise<RollbackResult> {
  const record = readApplyRecord(opts.runDir);
  if (!record?.backup) throw new ApplyRefusedError(`${opts.runDir}: no pre-apply backup recorded (apply never reached its backup): nothing to roll back`);
  const backups = recordedBackups(record);
  const restores: Restore[] = [];
  for (const backup of backups) {
    const roles = backup.roles ?? [];
    const server = servers.find((s) => roles.every((r) => s.roles.includes(r)));
    if (!server) {
      throw new ApplyRefusedError(`the backup ${backup.id.slice(0, 12)}… holds ${roles.join(' and ')}: give that database's address (--${roles[0]}) to give it back`);
    }
    if (backup.hostPort && backup.hostPort !== server.hostPort) throw new ApplyRefusedError(`this apply wrote ${roles.join(' and ')} on ${backup.hostPort}, not on ${server.hostPort}`);
    const v = await verifySnapshot(backup.dir);
    if (!v.ok)
      throw new ApplyRefusedError(`the backup ${backup.dir} does not match its manifest: ${describeProblems(v.problems)}`, {
        hint: 'restore a copy of the backup directory from where you keep it, then run rollback again',
      });
    const manifest = await readManifest(backup.dir);
    if (manifest.id !== backup.id) throw new ApplyRefusedError(`the backup in ${backup.dir} is not the one apply took (${backup.id.slice(0, 12)}…)`);
    const dbs: { glpi?: string; ocs?: string } = {};
    for (const d of manifest.databases) {
      const given = opts.sources[d.role];
      if (given && given.database !== d.name) throw new ApplyRefusedError(`production's ${d.role} database is "${given.database}", the backup holds "${d.name}"`);
      dbs[d.role] = d.name;
    }
    restores.push({ server, backup, manifest, dbs });
  }
  // Nobody else on any of the databases, before anything is written to any server.
  const ro = await openReadSessions(restores.map((r) => r.server));
  try {
    const sessions: OtherSession[] = [];
    for (const r of restores) {
      const conn = ro.all.find((x) => x.server === r.server)!.conn;
      sessions.push(...(await otherSessions(conn, r.dbs, [conn.threadId ?? -1])));
    }
    if (sessions.length)
      throw new ApplyRefusedError(`rollback refused, nothing was written: other sessions are connected: ${describeSessions(sessions)}`, {
        hint: 'stop them (OCS communication server, GLPI cron, mail collector), then run rollback again',
      });
  } finally {
    await ro.end();
  }
  const startedAt = new Date().toISOString();
  for (const r of restores) {
    opts.onEvent?.(`restoring backup ${r.manifest.id.slice(0, 12)} into ${r.server.hostPort}`);
    await withProductionWrites(r.server.dsn, r.server.confirmed, async () => {
      await restoreSnapshot(r.backup.dir, r.server.dsn, { force: true, verifyFiles: false });
      // Savepoint copies a failed step left behind.
      const c = await connect(r.server.dsn);
      try {
        for (const name of Object.values(r.dbs)) if (name) await c.query(`DROP DATABASE IF EXISTS ${qi(shadowName(name))}`);
      } finally {
        await c.end().catch(() => undefined);
      }
    });
  }
  // The proof, read again on fresh read-only sessions.
  const differing: string[] = [];
  let tables = 0;
  const check = await openReadSessions(restores.map((r) => r.server));
  try {
    for (const r of restores) {
      const c = check.all.find((x) => x.server === r.server)!.conn;
      for (const d of r.manifest.databases) {
        const diff = await tablesDifferingFrom(c, d.name, d);
        tables += diff.tables;
        differing.push(...diff.differing.map((t) => `${d.name}.${t}`));
      }
    }
  } finally {
    await check.end();
  }
  // GLPI's config_db.php as it was before the apply (only once the databases are proven).
  const glpiConfigDb = differing.length === 0 && record.glpiConfig ? restoreGlpiConfigDir(record.glpiConfig) : undefined;
  if (glpiConfigDb && glpiConfigDb !== 'unchanged')
    opts.onEvent?.(`${record.glpiConfig!.dir}/config_db.php ${glpiConfigDb === 'removed' ? 'removed (apply had written it)' : 'put back as it was before the apply'}`);
  const result = { startedAt, finishedAt: new Date().toISOString(), tables, ok: differing.length === 0, differing, ...(glpiConfigDb ? { glpiConfigDb } : {}) };
  record.rollback = result;
  writeApplyRecord(opts.runDir, record);
  if (!result.ok) throw new VerificationError(`after the rollback, ${differing.length} table(s) differ from the backup: ${differing.slice(0, 5).join(', ')}`);
  opts.onEvent?.(`given back: ${describeServers(restores.map((r) => r.server))}`);
  return {
    ...result,
    backupId: restores[0].manifest.id,
    backupDir: restores[0].backup.dir,
    backups: restores.map((r) => ({ id: r.manifest.id, dir: r.backup.dir, hostPort: r.server.hostPort })),
  };
}
