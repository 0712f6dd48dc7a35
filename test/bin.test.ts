/**
 * The executable runs both ways: from the bundle dist/cli.js (built by `npm ci` through "prepare") and from
 * the TypeScript sources (GOU_NO_BUNDLE=1, or whenever a source is newer than the bundle), with the same result.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { BIN, runCli } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/shared.ts';
// @ts-expect-error: a plain JavaScript module of the launcher, without type declarations
import { freshBundle } from '../bin/bundle.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('bin/glpi-ocs-upgrade.js', () => {
  it('runs from the TypeScript sources when told to', async () => {
    const r = await runCli(['--version'], { env: { GOU_NO_BUNDLE: '1' } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  // Fresh after `npm ci` / `npm run build` (as in CI); stale while sources are being edited.
  const fresh = freshBundle();
  it.skipIf(!fresh)('runs the bundle when it is newer than every source, with the same answers (stale bundle here: run npm run build)', async () => {
    // Which module the launcher would load, asked in a new process.
    const probe = `import('${path.join(REPO_ROOT, 'bin', 'bundle.js')}').then((m) => console.log(m.freshBundle() ?? 'sources'))`;
    const which = async () => String((await execa(process.execPath, ['--input-type=module', '-e', probe])).stdout).trim();
    const bundle = path.join(REPO_ROOT, 'dist', 'cli.js');
    expect(await which()).toBe(bundle);
    const viaBundle = await runCli(['plan', '--help']);
    const viaSources = await runCli(['plan', '--help'], { env: { GOU_NO_BUNDLE: '1' } });
    expect(viaBundle.exitCode).toBe(0);
    expect(viaBundle.stdout).toBe(viaSources.stdout);
    // The bundle finds the package's own files (migrations/, package.json) from dist/.
    const v = await runCli(['--version']);
    expect(v.stdout.trim()).toBe(pkg.version);
  });

  // `glpi-ocs-upgrade audit --help | head -3`: the reader closes the pipe before the help is written.
  it.each(['audit --help', '--json plan --help'])('%s into a closed pipe ends quietly, exit 0, no stack trace', async (command) => {
    const args = command.split(' ');
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.destroy(); // the read end is closed before the CLI has started
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
