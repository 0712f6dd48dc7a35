/**
 * Helpers shared by the step executors: own connections to the test instance (behind the interlock),
 * evidence files, and result shapes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { connect } from '../../db/connect.ts';
import { withDatabase } from '../../db/dsn.ts';
import { assertWritable } from '../../db/interlock.ts';
import type { Message } from '../../i18n/messages.ts';
import type { ExecutorContext, ExecutorResult } from './types.ts';

/**
 * Opens a dedicated connection to `database` on the test instance, after checking the interlock on the
 * runner's connection and on the new one (both must reach a marked test instance).
 */
export async function openWritable(ctx: ExecutorContext, database: string, action: string): Promise<Connection> {
  await assertWritable(ctx.conn, ctx.dsn, action);
  const conn = await connect(withDatabase(ctx.dsn, database), { promptOnDenied: false });
  try {
    await assertWritable(conn, ctx.dsn, action);
  } catch (err) {
    await conn.end().catch(() => undefined);
    throw err;
  }
  return conn;
}

/** Writes an evidence file under ctx.evidenceDir and returns its path relative to the run directory. */
export function writeEvidence(ctx: ExecutorContext, name: string, content: string | object): string {
  fs.mkdirSync(ctx.evidenceDir, { recursive: true });
  const file = path.join(ctx.evidenceDir, name);
  const text = typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`;
  fs.writeFileSync(file, text);
  return path.relative(ctx.runDir, file).split(path.sep).join('/');
}

export function notRun(reason: Message, commandForUser: string, extra: Partial<ExecutorResult> = {}): ExecutorResult {
  return { status: 'not-run', reason, commandForUser, evidence: [], ...extra };
}

export function failed(reason: Message, extra: Partial<ExecutorResult> = {}): ExecutorResult {
  return { status: 'failed', reason, evidence: [], ...extra };
}

/** "GLPI"/"OCS" for a database role. */
export function roleName(role: string): string {
  return role === 'glpi' ? 'GLPI' : role === 'ocs' ? 'OCS' : role;
}

/** Last lines of a long output, for the dossier. */
export function tailExcerpt(text: string, lines = 15, maxChars = 2000): string {
  const out = text.trim().split('\n').slice(-lines).join('\n');
  return out.length > maxChars ? out.slice(out.length - maxChars) : out;
}

/** Quotes one shell word for a command shown to the user (never containing a password). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
