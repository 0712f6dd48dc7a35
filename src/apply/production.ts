/**
 * Read-only checks of production before `apply` writes anything (and before `rollback`): that it is what
 * was rehearsed (versions, structure), that nobody else is connected to its databases, that the audit's
 * blocking checks find nothing new, and that a rollback would be possible (LOAD DATA LOCAL INFILE).
 * Every check runs on a READ ONLY session; problems are collected, never fixed.
 */
import type { Connection } from 'mysql2/promise';
import { detectConnector, detectGlpiVersion, detectOcsVersion } from '../inspect/detect.ts';
import { describeSchema, diffSchemas, formatDifference } from '../db/schema.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import type { RecordedState } from '../rehearse/final-state.ts';
import { shapeOf } from '../rehearse/final-state.ts';
import { CHECKS, runAudit } from '../audit/index.ts';
import type { FindingsFile } from '../audit/finding-types.ts';

/** The session reading each role's database (one object for both when they share a server and account). */
export type RoleConnections = Partial<Record<'glpi' | 'ocs', Connection>>;

export interface Problem {
  check: 'versions' | 'structure' | 'sessions' | 'audit' | 'distributions' | 'rollback-possible';
  message: string;
}

/** GLPI version, connector mode/plugin version and OCS GUI_VERSION of production vs the snapshot's. */
export async function compareVersions(conns: RoleConnections, manifest: Manifest): Promise<Problem[]> {
  const out: Problem[] = [];
  for (const d of manifest.databases) {
    const conn = conns[d.role];
    if (!conn) continue;
    if (d.role === 'glpi' && d.glpi) {
      const v = await detectGlpiVersion(conn, d.name);
      if (v.version !== d.glpi.version.version) out.push({ check: 'versions', message: `GLPI ${d.name} is ${v.version ?? 'of unknown version'}, the rehearsal was of ${d.glpi.version.version}` });
      const c = await detectConnector(conn, d.name);
      if (c.mode !== d.glpi.connector.mode || (c.pluginVersion ?? '') !== (d.glpi.connector.pluginVersion ?? '')) {
        out.push({
          check: 'versions',
          message: `the OCS connector of ${d.name} is ${c.mode}${c.pluginVersion ? ` ${c.pluginVersion}` : ''}, the rehearsal had ${d.glpi.connector.mode}${d.glpi.connector.pluginVersion ? ` ${d.glpi.connector.pluginVersion}` : ''}`,
        });
      }
    }
    if (d.role === 'ocs' && d.ocs) {
      const v = await detectOcsVersion(conn, d.name);
      if (v.guiVersion !== d.ocs.version.guiVersion)
        out.push({ check: 'versions', message: `OCS ${d.name} has GUI_VERSION ${v.guiVersion ?? '?'}, the rehearsal started from ${d.ocs.version.guiVersion}` });
    }
  }
  return out;
}

/** Production's structure (tables, columns, indexes, engines, collations) against `expected`. */
export async function compareStructure(conns: RoleConnections, expected: RecordedState, what: string): Promise<{ problems: Problem[]; differences: string[] }> {
  const differences: string[] = [];
  for (const role of ['glpi', 'ocs'] as const) {
    const db = expected.databases[role];
    const conn = conns[role];
    if (!db || !conn) continue;
    const actual = await describeSchema(conn, db.name);
    for (const d of diffSchemas(shapeOf(db), actual)) differences.push(`${db.name}: ${formatDifference(d)}`);
  }
  const problems: Problem[] = differences.length
    ? [{ check: 'structure', message: `the structure differs from ${what} in ${differences.length} point(s): ${differences.slice(0, 4).join('; ')}${differences.length > 4 ? '; …' : ''}` }]
    : [];
  return { problems, differences };
}

export interface OtherSession {
  id: number;
  user: string;
  host: string;
  db: string | null;
  command: string;
  time: number;
  /** What it probably is (OCS communication server, GLPI cron or mail collector, …). */
  likely: string;
}

/**
 * Sessions other than `own` connected to one of `databases` (SHOW PROCESSLIST). The OCS communication
 * server, GLPI's cron and mail collector and any console keep such sessions: they must be stopped.
 */
export async function otherSessions(conn: Connection, databases: { glpi?: string; ocs?: string }, own: number[]): Promise<OtherSession[]> {
  const [rows] = await conn.query('SHOW FULL PROCESSLIST');
  const mine = new Set(own);
  const out: OtherSession[] = [];
  for (const r of rows as Array<Record<string, unknown>>) {
    const id = Number(r.Id);
    const db = r.db === null || r.db === undefined ? null : String(r.db);
    if (mine.has(id) || db === null) continue;
    const role = db === databases.glpi ? 'glpi' : db === databases.ocs ? 'ocs' : undefined;
    if (!role) continue;
    out.push({
      id,
      user: String(r.User ?? ''),
      host: String(r.Host ?? ''),
      db,
      command: String(r.Command ?? ''),
      time: Number(r.Time ?? 0),
      likely: role === 'ocs' ? 'the OCS communication server (ocsinventory-server) or the OCS console' : 'GLPI (its cron, the mail collector or a web session)',
    });
  }
  return out;
}

export function describeSessions(list: OtherSession[]): string {
  return list.map((s) => `session ${s.id} ${s.user}@${s.host} on ${s.db} (${s.command}, ${s.time} s) — probably ${s.likely}`).join('; ');
}

/** The audit's blocking checks, read only on production; findings not in the rehearsal's findings are new. */
export async function newBlockingFindings(
  conns: RoleConnections,
  databases: { glpi?: string; ocs?: string },
  rehearsed: FindingsFile | undefined,
  references: { referenceDirs?: string[]; glpiDists?: string[] },
): Promise<{ problems: Problem[]; checked: number; found: string[]; notRehearsed: string[] }> {
  const blocking = CHECKS.filter((c) => c.severity === 'bloquante' || c.id.startsWith('glpi.duplicates')).map((c) => c.id);
  const audit = await runAudit(
    {
      connections: {
        glpi: databases.glpi && conns.glpi ? { conn: conns.glpi, database: databases.glpi, address: 'production:glpi' } : undefined,
        ocs: databases.ocs && conns.ocs ? { conn: conns.ocs, database: databases.ocs, address: 'production:ocs' } : undefined,
      },
    },
    { only: blocking, referenceDirs: references.referenceDirs, glpiDists: references.glpiDists },
  );
  // New: a blocking check the rehearsal did not meet, or one that now hits more rows or groups than the
  // rehearsal's corrective steps were proven on.
  const known = new Map((rehearsed?.findings ?? []).map((f) => [f.id, f.count]));
  const blockingFound = audit.findings.filter((f) => f.severity === 'bloquante');
  const found = blockingFound.map((f) => f.id);
  // A check the rehearsal's audit could not run (no reference schema: `audit` without --glpi-dist, while apply
  // has it) met nothing there: what it finds now was in the rehearsed data as well when the structure is the
  // rehearsed one (checked apart), so it is reported, not refused.
  const unaudited = new Set((rehearsed?.checksRun ?? []).filter((c) => c.status === 'skipped').map((c) => c.id));
  const notRehearsed = blockingFound.filter((f) => !known.has(f.id) && unaudited.has(f.id)).map((f) => `${f.id} (${f.count})`);
  const fresh = blockingFound
    .filter((f) => !(unaudited.has(f.id) && !known.has(f.id)))
    .filter((f) => !known.has(f.id) || f.count > known.get(f.id)!)
    .map((f) => (known.has(f.id) ? `${f.id} (${f.count} now, ${known.get(f.id)} rehearsed)` : `${f.id} (${f.count})`));
  return {
    problems: fresh.length ? [{ check: 'audit', message: `new blocking finding(s) on production, not in the rehearsal: ${fresh.join(', ')}` }] : [],
    checked: audit.checksRun.length,
    found,
    notRehearsed,
  };
}

/** `rollback` loads the backup with LOAD DATA LOCAL INFILE: without it, there would be no way back. */
export async function rollbackPossible(conn: Connection): Promise<Problem[]> {
  const [li] = await conn.query('SELECT @@GLOBAL.local_infile AS li');
  return Number((li as Array<{ li: unknown }>)[0]?.li) === 1 ? [] : [{ check: 'rollback-possible', message: 'local_infile is OFF on production: `rollback` could not load the backup back' }];
}
