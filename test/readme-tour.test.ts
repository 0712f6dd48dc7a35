/**
 * The README's "30-second tour", run as written: production is played by an embedded server loaded from the
 * bundled clean fixture, with real accounts whose passwords come from the environment. Only the product
 * distributions this machine does not have are dropped (`--glpi-dist`, `--plugin-dist`): those steps are then
 * reported "not run", which the tour's commands accept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { execa } from 'execa';
import { REPO_ROOT } from './helpers/shared.ts';
import { BIN } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { restoreSnapshot } from '../src/snapshot/index.ts';

let prod: TestServer;
let work: string;

beforeAll(async () => {
  prod = await startTestServer();
  const restored = await restoreSnapshot(path.join(REPO_ROOT, 'fixtures', 'clean'), prod.dsn, { databases: { glpi: 'glpi', ocs: 'ocsweb' } });
  expect(restored.ok).toBe(true);
  const c = await prod.connect();
  for (const [user, db, pw] of [
    ['glpi', 'glpi', 'S3cret-glpi!'],
    ['ocs', 'ocsweb', 'S3cret-ocs$'],
  ]) {
    await c.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${pw}'`);
    await c.query(`GRANT SELECT, LOCK TABLES, SHOW VIEW, TRIGGER ON \`${db}\`.* TO '${user}'@'127.0.0.1'`);
  }
  await c.end();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-tour-'));
  // `glpi-ocs-upgrade` on PATH, as after a global install.
  fs.mkdirSync(path.join(work, 'bin'));
  fs.writeFileSync(path.join(work, 'bin', 'glpi-ocs-upgrade'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
}, 300_000);

afterAll(async () => {
  await prod?.stop();
});

function tourCommands(): string[] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The 30-second tour'));
  const block = [...section.matchAll(/```sh\n([\s\S]*?)```/g)][0][1];
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('export '));
}

describe('README tour', () => {
  it('runs as written against a production-like server, and never prints a password', async () => {
    const cmds = tourCommands();
    expect(cmds.map((c) => c.split(/\s+/)[1])).toEqual(['inspect', 'snapshot', 'audit', 'plan', 'rehearse', 'dossier']);
    const env = {
      ...process.env,
      PATH: `${path.join(work, 'bin')}:${process.env.PATH}`,
      GLPI_DB_PASSWORD: 'S3cret-glpi!',
      OCS_DB_PASSWORD: 'S3cret-ocs$',
      GOU_CACHE_DIR: path.join(os.tmpdir(), 'gou-test-cache-tour'),
      NO_COLOR: '1',
    };
    for (const raw of cmds) {
      const line = raw
        .replace(/@db1\//g, `@127.0.0.1:${prod.dsn.port}/`)
        .replace(/\s--(glpi|plugin)-dist\s+\S+/g, '')
        .replace(/\s+#.*$/, '');
      const r = await execa('bash', ['-c', line], { cwd: work, env, reject: false, timeout: 900_000 });
      expect(r.exitCode, `${line}\n${r.stderr}`).toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(/S3cret/);
    }
    const run = YAML.parse(fs.readFileSync(path.join(work, 'run-1', 'run.yaml'), 'utf8'));
    expect(run.steps.filter((s: { status: string }) => s.status === 'failed')).toEqual([]);
    expect(run.steps.some((s: { stepId: string; status: string }) => s.stepId === 'ocs-7069' && s.status === 'passed')).toBe(true);
    for (const f of ['snap/manifest.yaml', 'findings.yaml', 'plan.yaml', 'run-1/dossier-de-tests.md', 'run-1/dat.md']) expect(fs.existsSync(path.join(work, f)), f).toBe(true);
    // Nothing written anywhere holds a password.
    const grep = await execa('grep', ['-rl', 'S3cret', work], { reject: false });
    expect(grep.stdout).toBe('');
  }, 1_200_000);
});
