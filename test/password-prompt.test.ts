/**
 * The password prompt is asked once per account: `snapshot --jobs 3` opens a control connection, three
 * readers and a monitor, all to the same account; the password typed at the first prompt, asked before the
 * progress display takes the terminal, serves them all. Two roles on one account share one prompt too.
 * The CLI runs in a real pseudo-terminal (util-linux `script`), the test types the password when asked and
 * counts the prompts. The password never appears on a command line or in the output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { BIN } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/shared.ts';
import { formatDsn, withDatabase } from '../src/db/dsn.ts';

let server: TestServer;
let root: Connection;
let db: string;
const password = crypto.randomBytes(12).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-prompt-test-'));
const scriptBin = ['/usr/bin/script', '/bin/script'].find((f) => fs.existsSync(f));

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  db = await server.freshDatabase('prompted');
  for (const t of ['a', 'b', 'c']) {
    await root.query(`CREATE TABLE \`${db}\`.${t} (id int PRIMARY KEY, v varchar(20)) ENGINE=InnoDB`);
    await root.query(`INSERT INTO \`${db}\`.${t} VALUES (1, 'x'), (2, 'y')`);
  }
  // Just enough of a GLPI 0.83 database for inspect to read it and go on to the OCS role.
  await root.query(`CREATE TABLE \`${db}\`.glpi_configs (id int PRIMARY KEY, version varchar(20))`);
  await root.query(`INSERT INTO \`${db}\`.glpi_configs VALUES (1, '0.83.8')`);
  await root.query(`CREATE USER 'prompted'@'127.0.0.1' IDENTIFIED BY ?`, [password]);
  await root.query(`GRANT ALL PRIVILEGES ON *.* TO 'prompted'@'127.0.0.1'`);
}, 120_000);

afterAll(async () => {
  await root?.query(`DROP USER IF EXISTS 'prompted'@'127.0.0.1'`).catch(() => undefined);
  await root?.end();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI in a pseudo-terminal, typing `password` at every prompt; returns the prompts seen and the output. */
async function inTerminal(args: string[]): Promise<{ prompts: number; exitCode: number; output: string }> {
  const command = [process.execPath, BIN, ...args].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', GLPI_DB_PASSWORD: undefined, OCS_DB_PASSWORD: undefined, MYSQL_PWD: undefined };
  const child = execa(scriptBin ?? 'script', ['-qefc', command, '/dev/null'], { reject: false, env, extendEnv: false, cwd: REPO_ROOT, stdin: 'pipe', timeout: 120_000 });
  let output = '';
  let prompts = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    const seen = output.split('Password for ').length - 1;
    for (; prompts < seen; prompts++) child.stdin?.write(`${password}\r`);
  });
  // `script` ends when its input does: close it once the program has said its last word.
  child.stdout?.on('end', () => child.stdin?.end());
  const r = await child;
  return { prompts, exitCode: r.exitCode ?? -1, output };
}

describe.skipIf(!scriptBin)('password prompt', () => {
  it('snapshot --jobs 3 asks once for the five connections of one account', async () => {
    const dsn = formatDsn({ ...withDatabase(server.dsn, db), user: 'prompted', password: undefined, testInstance: false });
    const out = path.join(tmp, 'snap');
    const r = await inTerminal(['snapshot', '--glpi', dsn, '--jobs', '3', '-o', out]);
    expect(r.output).not.toContain(password);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.prompts).toBe(1);
    expect(fs.existsSync(path.join(out, 'manifest.yaml'))).toBe(true);
  }, 180_000);

  it('two roles on the same account (inspect --glpi … --ocs …) share one prompt', async () => {
    const dsn = formatDsn({ ...withDatabase(server.dsn, db), user: 'prompted', password: undefined, testInstance: false });
    const r = await inTerminal(['inspect', '--glpi', dsn, '--ocs', dsn]);
    expect(r.output).not.toContain(password);
    expect(r.prompts).toBe(1);
    // Both connections work past the one prompt: the GLPI role is read, the OCS role refused for what it is.
    expect(r.output).toContain('is not an OCS database');
  }, 180_000);
});
