/**
 * What gets installed is what was tested: `npm pack` ships the bundled CLI (dist/cli.js) with the files it reads
 * at run time (migrations/, the demo's fixtures, docs), and neither the tests nor the TypeScript sources; the
 * packed tarball installed into an empty project runs without tsx, esbuild or TypeScript.
 * Needs npm and its cache (filled by `npm ci`) or network access to the registry for the runtime dependencies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './helpers/shared.ts';

const BUNDLE = path.join(REPO_ROOT, 'dist', 'cli.js');
const SKIP = fs.existsSync(BUNDLE) ? '' : ' (skipped: no dist/cli.js: run npm run build)';
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-pack-'));
});
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it.skipIf(SKIP !== '')(`ships the bundle and its runtime files; the installed tarball runs without the dev tools${SKIP}`, async () => {
    // --ignore-scripts: the tarball takes the bundle as built by `npm ci` (rebuilding it here would race the
    // other test files that run it).
    const pack = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: REPO_ROOT });
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/cli.js',
        'bin/glpi-ocs-upgrade.js',
        'bin/bundle.js',
        'migrations/glpi-releases.yaml',
        'fixtures/small/manifest.yaml',
        'fixtures/clean/manifest.yaml',
        'package.json',
      ]),
    );
    expect(files.filter((f) => /^(test|bench|src)\//.test(f) || f.startsWith('fixtures/.'))).toEqual([]);

    const project = path.join(work, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), '{ "name": "gou-pack-probe", "version": "1.0.0", "private": true }\n');
    const install = await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(work, info.filename)], { cwd: project, reject: false, all: true, timeout: 240_000 });
    expect(install.exitCode, String(install.all)).toBe(0);
    for (const dev of ['tsx', 'esbuild', 'typescript', 'vitest', '@biomejs/biome']) expect(fs.existsSync(path.join(project, 'node_modules', dev)), dev).toBe(false);

    const bin = path.join(project, 'node_modules', '.bin', 'glpi-ocs-upgrade');
    const help = await execa(bin, ['--help'], { cwd: project, reject: false, env: { NO_COLOR: '1' } });
    expect(help.exitCode, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: glpi-ocs-upgrade/);
    // A real command that reads the packaged catalog (migrations/) and the demo's fixture.
    const fixture = path.join(project, 'node_modules', 'glpi-ocs-upgrade', 'fixtures', 'small');
    const plan = await execa(bin, ['plan', fixture, '-o', path.join(work, 'plan.yaml')], { cwd: project, reject: false, env: { NO_COLOR: '1' } });
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(fs.readFileSync(path.join(work, 'plan.yaml'), 'utf8')).toMatch(/steps:/);
  });
});
