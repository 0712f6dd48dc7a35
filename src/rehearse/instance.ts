/**
 * The test instance of a run: an embedded server started for it (or attached again on --resume), or an
 * external marked server; and, before anything touches it on --resume, whatever a killed rehearsal left
 * running against it: its updater process group (recorded in the journal) and the sessions it holds.
 */
import type { Connection } from 'mysql2/promise';
import type { Dsn } from '../db/dsn.ts';
import { formatDsn } from '../db/dsn.ts';
import type { EmbeddedInstance, ServerSettings } from '../db/embedded.ts';
import { attachInstance, startEmbedded } from '../db/embedded.ts';
import { UsageError, VerificationError } from '../errors.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import type { Journal } from './journal.ts';
import type { JournalState } from '../formats/journal.ts';
import { processCommand, stopProcessGroup } from './processes.ts';

export interface TestInstance {
  embedded?: EmbeddedInstance;
  dsn: Dsn;
  label: string;
}

export function instanceLabel(embedded: EmbeddedInstance | undefined, dsn: Dsn): string {
  return embedded ? `embedded:${embedded.record.name}` : formatDsn(dsn);
}

/** Names of the databases on the test instance: the snapshot's own names. */
export function databaseNames(manifest: Manifest): { glpi?: string; ocs?: string } {
  const out: { glpi?: string; ocs?: string } = {};
  for (const d of manifest.databases) out[d.role] = d.name;
  return out;
}

export async function acquireInstance(o: {
  resume: boolean;
  /** A new attempt may start a new embedded instance when the run's own one is gone (stopped after a complete run). */
  newAttempt?: boolean;
  previous: JournalState;
  runId: string;
  manifest: Manifest;
  instance?: Dsn;
  serverBin?: string;
  serverSettings?: ServerSettings;
}): Promise<TestInstance> {
  if (o.resume) {
    const label = o.previous.instance ?? '';
    if (label.startsWith('embedded:')) {
      const embedded = attachInstance(label.slice('embedded:'.length));
      if (!embedded && o.newAttempt) return acquireInstance({ ...o, resume: false, newAttempt: false, runId: `${o.runId}-a${Date.now().toString(36)}` });
      if (!embedded) {
        throw new VerificationError(`the test instance of ${o.runId} (${label}) is no longer running`, {
          hint: 'start the rehearsal again in a new run directory (the snapshot is intact)',
        });
      }
      return { embedded, dsn: embedded.dsn, label };
    }
    if (!o.instance) throw new UsageError(`this run used ${label}: pass the same --instance to resume it`);
    return { dsn: o.instance, label: formatDsn(o.instance) };
  }
  if (o.instance) return { dsn: o.instance, label: formatDsn(o.instance) };
  const embedded = await startEmbedded({
    serverBin: o.serverBin,
    keep: true,
    // Unique even for two rehearsals started in the same second.
    name: `rehearse-${o.runId.replace(/^run-/, '')}-${process.pid}`,
    settings: {
      // Mimic production unless told otherwise: its sql_mode and character set.
      sqlMode: o.manifest.source.sqlMode,
      characterSetServer: o.manifest.source.characterSetServer,
      collationServer: o.manifest.source.collationServer,
      ...o.serverSettings,
    },
  });
  return { embedded, dsn: embedded.dsn, label: instanceLabel(embedded, embedded.dsn) };
}

/**
 * Stops what a killed rehearsal left running: each external process the journal shows started and never
 * finished (if it is still the same process: pid and start time), by its process group, then every session
 * other than ours on the run's databases (KILL), which a dead updater's half-run statement may still hold.
 * Journaled and said; returns the lines said.
 */
export async function stopLeftovers(conn: Connection, ourConnections: number[], databases: string[], previous: JournalState, journal: Journal, say: (line: string) => void): Promise<string[]> {
  const said: string[] = [];
  const tell = (line: string) => {
    said.push(line);
    say(line);
  };
  for (const p of previous.openProcesses) {
    const what = processCommand(p.pid);
    const signal = await stopProcessGroup(p.pid, p.startTime);
    if (signal) {
      tell(`stopped the updater left running by the interrupted rehearsal: pid ${p.pid} (step ${p.stepId}${what ? `: ${what}` : ''}) with ${signal}`);
    }
    journal.append({ event: 'process-stopped', stepId: p.stepId, pid: p.pid, signal: signal ?? 'already-gone', connectionsKilled: 0 });
  }
  if (databases.length === 0) return said;
  const [rows] = await conn.query(
    `SELECT ID AS id, USER AS user, DB AS db, COMMAND AS command, TIME AS time FROM information_schema.PROCESSLIST
      WHERE DB IN (${databases.map(() => '?').join(', ')}) AND ID <> CONNECTION_ID()`,
    databases,
  );
  const leftovers = (rows as Array<{ id: number; user: string; db: string; command: string; time: number }>).filter(
    (r) => !ourConnections.includes(Number(r.id)) && r.user !== 'system user' && r.command !== 'Daemon',
  );
  if (leftovers.length === 0) return said;
  for (const r of leftovers) await conn.query(`KILL CONNECTION ${Number(r.id)}`).catch(() => undefined);
  // KILL marks the session; a running statement stops at its next check: wait until they are gone.
  const ids = leftovers.map((r) => Number(r.id));
  for (let i = 0; i < 300; i++) {
    const [left] = await conn.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID IN (${ids.join(', ')})`);
    if (Number((left as Array<{ n: number }>)[0].n) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  journal.append({ event: 'sessions-killed', ids });
  tell(`killed ${ids.length} session(s) left on ${databases.join(', ')} by the interrupted rehearsal (connection ${ids.join(', ')})`);
  return said;
}
