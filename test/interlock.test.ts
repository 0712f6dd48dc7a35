/**
 * The interlock comes first: every writing command given an unmarked server is refused (exit 6) before
 * any DDL or DML reaches that server. The server's general log records every statement it received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './helpers/shared.ts';
import { runCli } from './helpers/cli.ts';
import { startTestServer } from './helpers/server.ts';
import type { TestServer } from './helpers/server.ts';
import { buildPlan, planInputFromSnapshot, writePlan } from '../src/plan/index.ts';
import { ExitCode } from '../src/errors.ts';
import { isMarkedTestInstance, MARKER_SCHEMA } from '../src/db/interlock.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
const WRITES = /^\s*(CREATE|DROP|ALTER|RENAME|TRUNCATE|INSERT|UPDATE|DELETE|REPLACE|LOAD|GRANT|REVOKE|SET\s+GLOBAL|FLUSH|LOCK|CALL|HANDLER|XA|SAVEPOINT)\b/i;

let server: TestServer;
let work: string;
let logFile: string;
let target: string;
let password: string;

/** Statements the server received since `from` (byte offset in the general log). */
function statementsSince(from: number): string[] {
  const text = fs.readFileSync(logFile, 'utf8').slice(from);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /\b(Query|Execute|Prepare)\t(.*)$/.exec(line);
    if (m) out.push(m[2]);
  }
  return out;
}

function logSize(): number {
  return fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-interlock-'));
  server = await startTestServer();
  if (!server.embedded) return;
  password = server.dsn.password ?? '';
  target = `mysql://root@127.0.0.1:${server.dsn.port}/`;
  logFile = path.join(server.embedded.record.baseDir, 'general.log');
  const c = await server.connect();
  await c.query(`DROP DATABASE ${MARKER_SCHEMA}`);
  expect(await isMarkedTestInstance(c)).toBe(false);
  await c.query(`SET GLOBAL general_log_file = ?`, [logFile]);
  await c.query('SET GLOBAL general_log = 1');
  await c.end();
  const plan = buildPlan(await planInputFromSnapshot(FIXTURE), { ocs: '2.11.1' });
  plan.steps = plan.steps.filter((s) => s.database === 'ocs');
  writePlan(path.join(work, 'plan.yaml'), plan);
});

afterAll(async () => {
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const commands: Array<[string, () => string[]]> = [
  ['restore --instance', () => ['restore', FIXTURE, '--instance', target, '--force']],
  ['rehearse --instance', () => ['rehearse', path.join(work, 'plan.yaml'), '--snapshot', FIXTURE, '-o', path.join(work, 'run'), '--instance', target]],
  ['anonymize --instance', () => ['anonymize', FIXTURE, '-o', path.join(work, 'anon'), '--instance', target]],
  ['fixtures generate --into', () => ['fixtures', 'generate', '--into', target, '--computers', '10', '--replace']],
  ['audit SNAPSHOT --instance', () => ['audit', FIXTURE, '--instance', target]],
];

describe('the interlock passes before anything is written', () => {
  it.each(commands)('%s on an unmarked server: exit 6, and no DDL or DML reached it', async (_label, args) => {
    if (!server.embedded) {
      // MARIADB_URL servers: enabling the general log there is not ours to do.
      console.warn('skipped: needs the embedded server (unset MARIADB_URL)');
      return;
    }
    const from = logSize();
    const r = await runCli(args(), { env: { INSTANCE_DB_PASSWORD: password, GOU_ANONYMIZE_SALT: 'interlock-test-salt' } });
    expect(r.stderr).toMatch(/not marked as a test instance/);
    expect(r.exitCode).toBe(ExitCode.REFUSED);
    const received = statementsSince(from);
    // The check itself did reach the server (the log works)…
    expect(received.some((q) => q.includes(MARKER_SCHEMA))).toBe(true);
    // …and nothing that writes.
    expect(received.filter((q) => WRITES.test(q))).toEqual([]);
  });

  it('the general log does see a write (the detection works)', async () => {
    if (!server.embedded) return;
    const from = logSize();
    const c = await server.connect();
    await c.query('DROP DATABASE IF EXISTS gou_interlock_probe');
    await c.end();
    expect(statementsSince(from).filter((q) => WRITES.test(q))).toEqual(['DROP DATABASE IF EXISTS gou_interlock_probe']);
  });
});
