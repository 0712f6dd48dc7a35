import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import mysql from 'mysql2/promise';
import { attachInstance, cleanStaleInstances, findServerBinary, firstErrorLine, listInstances, PASSWORD_FILE, restartInstance, startEmbedded, stopInstanceRecord } from '../src/db/embedded.ts';
import type { InstanceRecord } from '../src/db/embedded.ts';
import { baseOptions } from '../src/db/connect.ts';
import { isMarkedTestInstance } from '../src/db/interlock.ts';
import { ExitCode, type ToolError } from '../src/errors.ts';
import { REPO_ROOT } from './helpers/shared.ts';

const HELPERS = path.join(REPO_ROOT, 'test', 'helpers');

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

async function loginError(options: mysql.ConnectionOptions): Promise<string | undefined> {
  try {
    const c = await mysql.createConnection({ ...options, connectTimeout: 10_000 });
    await c.end();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

describe('embedded instance', () => {
  it('starts two at once with chosen settings, marks them, and removes everything on stop', async () => {
    const [a, b] = await Promise.all([startEmbedded({ settings: { sqlMode: '', characterSetServer: 'utf8mb3', collationServer: 'utf8mb3_unicode_ci', lowerCaseTableNames: 1 } }), startEmbedded()]);
    try {
      expect(a.record.port).not.toBe(b.record.port);
      const c = await mysql.createConnection(baseOptions(a.dsn));
      const [r] = await c.query('SELECT @@GLOBAL.sql_mode AS m, @@character_set_server AS cs, @@lower_case_table_names AS l');
      const row = (r as any[])[0];
      expect({ ...row, l: Number(row.l) }).toMatchObject({ m: '', cs: 'utf8mb3', l: 1 });
      expect(await isMarkedTestInstance(c)).toBe(true);
      await c.end();
      expect(fs.existsSync(a.record.datadir)).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(fs.existsSync(a.record.baseDir)).toBe(false);
    expect(fs.existsSync(b.record.baseDir)).toBe(false);
    expect(listInstances().some((r) => r.id === a.record.id || r.id === b.record.id)).toBe(false);
  });

  it('accepts no password-less login, and its password is in no command line, log or registry file', async () => {
    const inst = await startEmbedded();
    try {
      const pw = inst.dsn.password!;
      expect(pw.length).toBeGreaterThanOrEqual(24);
      // Empty password, over TCP and over the socket: refused. The right one: accepted.
      expect(await loginError({ host: '127.0.0.1', port: inst.record.port, user: 'root', password: '' })).toBe('ER_ACCESS_DENIED_ERROR');
      expect(await loginError({ socketPath: inst.record.socket, user: 'root', password: '' })).toBe('ER_ACCESS_DENIED_ERROR');
      expect(await loginError({ host: '127.0.0.1', port: inst.record.port, user: 'root', password: pw })).toBeUndefined();
      // No other account without a password.
      const c = await mysql.createConnection(baseOptions(inst.dsn));
      const [users] = await c.query("SELECT CONCAT(user, '@', host) AS u FROM mysql.user WHERE authentication_string = '' AND user <> 'mariadb.sys'");
      expect(users).toEqual([]);
      await c.end();
      // Not on the command lines of the server or its watchdog, not in the error log or the registry.
      for (const pid of [inst.record.pid, inst.record.watchdogPid]) {
        expect(pid).toBeTruthy();
        expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(pw);
      }
      expect(fs.readFileSync(path.join(inst.record.baseDir, 'error.log'), 'utf8')).not.toContain(pw);
      expect(fs.readFileSync(path.join(process.env.GOU_STATE_DIR!, 'instances', `${inst.record.id}.json`), 'utf8')).not.toContain(pw);
      // Not kept: no password file at all. The server directory is the owner's only.
      expect(fs.existsSync(path.join(inst.record.baseDir, PASSWORD_FILE))).toBe(false);
      expect(fs.statSync(inst.record.baseDir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(inst.record.datadir).mode & 0o077).toBe(0);
    } finally {
      await inst.stop();
    }
  });

  it('cleans an instance whose owner died', async () => {
    const inst = await startEmbedded();
    // Pretend the owner crashed: rewrite its registry entry with a dead owner pid.
    const file = path.join(process.env.GOU_STATE_DIR!, 'instances', `${inst.record.id}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...inst.record, ownerPid: 2 ** 22 + 12345 }));
    expect(cleanStaleInstances()).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(inst.record.baseDir)).toBe(false);
    expect(await waitFor(() => !alive(inst.record.pid), 10_000)).toBe(true);
    inst.stopSync();
  });

  it('dies with its owner: kill -9 of the owning process stops the server and deletes its files', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HELPERS, 'embedded-child.ts'), 'hold'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env },
    });
    let rec: InstanceRecord | undefined;
    try {
      rec = await new Promise<InstanceRecord>((resolve, reject) => {
        let buf = '';
        child.stdout!.on('data', (b: Buffer) => {
          buf += b.toString();
          if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]) as InstanceRecord);
        });
        child.on('exit', (code) => reject(new Error(`child exited ${code} before starting its server`)));
      });
      expect(alive(rec.pid)).toBe(true);
      process.kill(child.pid!, 'SIGKILL');
      expect(await waitFor(() => !alive(rec!.pid), 20_000)).toBe(true);
      expect(await waitFor(() => !fs.existsSync(rec!.baseDir), 20_000)).toBe(true);
    } finally {
      if (alive(child.pid)) process.kill(child.pid!, 'SIGKILL');
      if (rec && alive(rec.pid)) process.kill(rec.pid, 'SIGKILL');
    }
  });

  it('a kept instance: password in a 0600 file, attachable, and restartable on its kept datadir after its server died', async () => {
    const inst = await startEmbedded({ keep: true, name: `kept-${process.pid}` });
    try {
      const file = inst.passwordFile!;
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, 'utf8').trim()).toBe(inst.dsn.password);
      expect(inst.record.watchdogPid).toBeUndefined();
      const attached = attachInstance(inst.record.name)!;
      expect(attached.dsn.password).toBe(inst.dsn.password);
      const c = await mysql.createConnection(baseOptions(attached.dsn));
      await c.query('CREATE DATABASE kept_probe');
      await c.query('CREATE TABLE kept_probe.t (id INT PRIMARY KEY) ENGINE=InnoDB');
      await c.query('INSERT INTO kept_probe.t VALUES (1), (2), (3)');
      await c.end();

      // The server dies unexpectedly: its datadir stays, the registry says it is stopped.
      process.kill(inst.record.pid, 'SIGKILL');
      expect(await waitFor(() => !alive(inst.record.pid), 10_000)).toBe(true);
      cleanStaleInstances();
      expect(fs.existsSync(inst.record.datadir)).toBe(true);
      expect(listInstances().find((r) => r.id === inst.record.id)?.alive).toBe(false);
      expect(attachInstance(inst.record.name)).toBeUndefined();

      const again = (await restartInstance(inst.record.name))!;
      expect(again).toBeDefined();
      expect(again.record.pid).not.toBe(inst.record.pid);
      const c2 = await mysql.createConnection(baseOptions(again.dsn));
      const [rows] = await c2.query('SELECT COUNT(*) AS n FROM kept_probe.t');
      expect(Number((rows as Array<{ n: number }>)[0].n)).toBe(3);
      expect(await isMarkedTestInstance(c2)).toBe(true);
      await c2.end();
      await again.stop();
      expect(fs.existsSync(inst.record.baseDir)).toBe(false);
    } finally {
      const left = listInstances().find((r) => r.id === inst.record.id);
      if (left) await stopInstanceRecord(left);
    }
  });

  it('when the bootstrap fails, says the first real error line, not the generic advice', async () => {
    try {
      await startEmbedded({ serverBin: path.join(HELPERS, 'fake-mariadbd-bootstrap-fails.sh') });
      expect.unreachable();
    } catch (err) {
      const e = err as ToolError;
      expect(e.exitCode).toBe(ExitCode.MISSING_DEPENDENCY);
      expect(e.message).toBe("cannot initialise the embedded server's datadir: ERROR: 1051  Unknown table 'mysql.tmp_user_sys'");
    }
  });

  it('picks the first real error line out of server output', () => {
    const installDb = [
      "Installing MariaDB/MySQL system tables in '/x/data' ...",
      "2026-12-06 20:20:50 1 [Warning] Could not remove temporary table: '/tmp/#sql-temptable-6c15-1-4', error: 2",
      "ERROR: 1051  Unknown table 'mysql.tmp_user_sys'",
      '2026-12-06 20:20:50 0 [ERROR] Aborting',
      'Installation of system tables failed!  Examine the logs in',
      'Please check all of the above before submitting a bug report',
    ].join('\n');
    expect(firstErrorLine(installDb)).toBe("ERROR: 1051  Unknown table 'mysql.tmp_user_sys'");
    const full = [
      '2026-12-06 20:28:00 0 [Note] InnoDB: Using io_uring',
      '2026-12-06 20:28:00 0 [ERROR] InnoDB: preallocating 268435456 bytes for file ./ib_logfile101 failed with error 28',
      '2026-12-06 20:28:00 0 [ERROR] Aborting',
    ].join('\n');
    expect(firstErrorLine(full)).toBe('[ERROR] InnoDB: preallocating 268435456 bytes for file ./ib_logfile101 failed with error 28');
  });

  it('says what to install when the server binary given is not executable', () => {
    try {
      findServerBinary('/nonexistent/mariadbd');
      expect.unreachable();
    } catch (err) {
      expect((err as ToolError).exitCode).toBe(ExitCode.MISSING_DEPENDENCY);
      expect((err as ToolError).message).toMatch(/\/nonexistent\/mariadbd \(from --server-bin\) is not an executable file/);
    }
  });
});
