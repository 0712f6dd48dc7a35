/**
 * The embedded servers and privacy, through the real executable: files private whatever the umask,
 * a full disk reported as exit 10, kept instances and their password file, `instance unmark`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { BIN, runCli } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/shared.ts';
import { startTestServer } from './helpers/server.ts';
import { ExitCode } from '../src/errors.ts';
import { isMarkedTestInstance } from '../src/db/interlock.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-embedded-cli-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** Runs the CLI under `umask 022`, as a default shell would. */
async function cliUnderUmask022(args: string[], env: Record<string, string> = {}) {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await execa('/bin/sh', ['-c', `umask 022 && exec ${quoted}`], { reject: false, env: { NO_COLOR: '1', ...env }, cwd: REPO_ROOT, timeout: 300_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Every directory 0700 and every file 0600 under `dir` (itself included). */
function modes(dir: string): { dirs: Set<string>; files: Set<string>; count: number } {
  const dirs = new Set<string>();
  const files = new Set<string>();
  let count = 0;
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    count++;
    if (st.isDirectory()) {
      dirs.add((st.mode & 0o777).toString(8));
      for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    } else files.add((st.mode & 0o777).toString(8));
  };
  walk(dir);
  return { dirs, files, count };
}

describe('private by default', () => {
  it('fixtures generate under umask 022, into an existing 0755 directory: directories 0700, files 0600', async () => {
    const out = path.join(work, 'fixtures-out');
    fs.mkdirSync(out, { mode: 0o755 });
    fs.chmodSync(out, 0o755);
    const r = await cliUnderUmask022(['fixtures', 'generate', '-o', out, '--computers', '10', '--hazards', 'none']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const m = modes(out);
    expect(m.count).toBeGreaterThan(10);
    expect([...m.dirs]).toEqual(['700']);
    expect([...m.files]).toEqual(['600']);
  });

  it('anonymize under umask 022: the new snapshot directory and the files it writes are private', async () => {
    const out = path.join(work, 'anon-out');
    const r = await cliUnderUmask022(['anonymize', FIXTURE, '-o', out], { GOU_ANONYMIZE_SALT: 'private-by-default-test' });
    expect(r.exitCode).toBe(0);
    const m = modes(out);
    expect([...m.dirs]).toEqual(['700']);
    // What anonymize writes itself (the rewritten tables, manifest, report) is 0600. Files it copies unchanged
    // keep their source's mode (fs.copyFile copies it): 0644 here, from the committed fixtures — reported to
    // the owner of src/anonymize; a snapshot taken by this version is 0600 already, and so are its copies.
    expect(fs.statSync(path.join(out, 'manifest.yaml')).mode & 0o777).toBe(0o600);
    const rewritten = fs.readdirSync(path.join(out, 'glpi')).filter((f) => f.startsWith('glpi_users.'));
    expect(rewritten.length).toBeGreaterThan(0);
    for (const f of rewritten) expect(fs.statSync(path.join(out, 'glpi', f)).mode & 0o777).toBe(0o600);
  });
});

describe('instance start / status / stop', () => {
  it('a kept instance tells where its password is (0600 file), never prints it, and needs it to log in', async () => {
    const name = `cli-kept-${process.pid}`;
    const started = await cliUnderUmask022(['--json', 'instance', 'start', '--name', name], { GOU_STATE_DIR: process.env.GOU_STATE_DIR! });
    try {
      expect(started.exitCode).toBe(0);
      const info = JSON.parse(started.stdout) as { passwordFile: string; port: number };
      expect(fs.statSync(info.passwordFile).mode & 0o777).toBe(0o600);
      const password = fs.readFileSync(info.passwordFile, 'utf8').trim();
      expect(started.stdout + started.stderr).not.toContain(password);
      // Writing commands attach to it by name (the password is read from the file).
      const marked = await runCli(['instance', 'mark', '--instance', `mysql://root@127.0.0.1:${info.port}/`, '--confirm', `127.0.0.1:${info.port}`], {
        env: { GOU_STATE_DIR: process.env.GOU_STATE_DIR, INSTANCE_DB_PASSWORD: '' },
      });
      expect(marked.exitCode).toBe(ExitCode.CONNECTION);
      expect(marked.stderr).toMatch(/access denied/);
      const ok = await runCli(['instance', 'mark', '--instance', `mysql://root@127.0.0.1:${info.port}/`, '--confirm', `127.0.0.1:${info.port}`], {
        env: { GOU_STATE_DIR: process.env.GOU_STATE_DIR, INSTANCE_DB_PASSWORD: password },
      });
      expect(ok.exitCode).toBe(0);
      expect(ok.stdout).toMatch(/already marked/);

      // Its server dies: the datadir is kept, and `instance restart` brings it back with the same password.
      const env = { GOU_STATE_DIR: process.env.GOU_STATE_DIR };
      process.kill((JSON.parse(started.stdout) as { pid: number }).pid, 'SIGKILL');
      let status: { instances: Array<{ name: string; alive: boolean }> } = { instances: [] };
      for (let i = 0; i < 100; i++) {
        status = JSON.parse((await runCli(['--json', 'instance', 'status'], { env })).stdout) as typeof status;
        if (status.instances.find((x) => x.name === name)?.alive === false) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status.instances.find((x) => x.name === name)?.alive).toBe(false);
      const human = await runCli(['instance', 'status'], { env });
      expect(human.stdout).toMatch(/stopped \(datadir kept\)/);
      const restarted = await runCli(['--json', 'instance', 'restart', name], { env });
      expect(restarted.stderr).toBe('');
      expect(restarted.exitCode).toBe(0);
      const port = (JSON.parse(restarted.stdout) as { port: number }).port;
      const again = await runCli(['instance', 'mark', '--instance', `mysql://root@127.0.0.1:${port}/`, '--confirm', `127.0.0.1:${port}`], {
        env: { ...env, INSTANCE_DB_PASSWORD: password },
      });
      expect(again.stdout).toMatch(/already marked/);
    } finally {
      const stopped = await runCli(['instance', 'stop', name], { env: { GOU_STATE_DIR: process.env.GOU_STATE_DIR } });
      expect(stopped.exitCode).toBe(0);
    }
  });
});

describe('instance unmark', () => {
  it('removes the marker after a named confirmation; writing commands then refuse the server (exit 6)', async () => {
    const server = await startTestServer();
    try {
      const dsn = `mysql://root@127.0.0.1:${server.dsn.port}/`;
      const env = { INSTANCE_DB_PASSWORD: server.dsn.password ?? '' };
      const wrong = await runCli(['instance', 'unmark', '--instance', dsn, '--confirm', '127.0.0.1:1'], { env });
      expect(wrong.exitCode).toBe(ExitCode.USAGE);
      let c = await server.connect();
      expect(await isMarkedTestInstance(c)).toBe(true);
      await c.end();

      const r = await runCli(['instance', 'unmark', '--instance', dsn, '--confirm', `127.0.0.1:${server.dsn.port}`], { env });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/no longer marked as a test instance/);
      c = await server.connect();
      expect(await isMarkedTestInstance(c)).toBe(false);
      await c.end();

      const refused = await runCli(['restore', FIXTURE, '--instance', dsn, '--force'], { env });
      expect(refused.exitCode).toBe(ExitCode.REFUSED);

      const again = await runCli(['instance', 'unmark', '--instance', dsn, '--confirm', `127.0.0.1:${server.dsn.port}`], { env });
      expect(again.exitCode).toBe(0);
      expect(again.stdout).toMatch(/was not marked/);
    } finally {
      await server.stop();
    }
  });
});

describe('full disk', () => {
  it('an embedded server on a full file system: exit 10 with one clear line', async (ctx) => {
    const mnt = path.join(work, 'small-fs');
    fs.mkdirSync(mnt);
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mnt], { reject: false });
    if (mounted.exitCode !== 0) {
      ctx.skip(`cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN): ${String(mounted.stderr).trim()}`);
      return;
    }
    try {
      const r = await runCli(['instance', 'start', '--name', 'full-disk'], { env: { GOU_STATE_DIR: path.join(mnt, 'state') } });
      expect(r.exitCode).toBe(ExitCode.DISK_FULL);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^error: cannot initialise the embedded server's datadir: no space left on device under .*small-fs\/state \(.*InnoDB.*error 28\)$/);
      expect(lines.slice(1).every((l) => l.startsWith('hint: '))).toBe(true);
      expect(fs.readdirSync(path.join(mnt, 'state', 'servers'))).toEqual([]);
    } finally {
      await execa('umount', [mnt], { reject: false });
    }
  });
});
