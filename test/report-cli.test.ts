/**
 * The `dossier` and `dat` commands through the real executable: files written, --json, exit codes
 * (4 missing directory, 5 malformed input, 8 --fail-unless-accepted, 9 pandoc missing), --help examples.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { execaSync } from 'execa';
import { runCli } from './helpers/cli.ts';
import { ExitCode } from '../src/errors.ts';
import { loadRunInputs, renderDossier } from '../src/report/index.ts';
import { tempRoot, writeRunDir } from './report-fixture.ts';

const roots: string[] = [];
function emptyDir(label: string): string {
  const r = tempRoot(label);
  roots.push(r);
  return r;
}
function runDir(label: string): string {
  return writeRunDir(emptyDir(label));
}
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function hasPandoc(): boolean {
  try {
    execaSync('pandoc', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('dossier command', () => {
  it('writes dossier-de-tests.md in the run directory, identical to renderDossier, and prints the verdict', async () => {
    const dir = runDir('cli-d');
    const r = await runCli(['dossier', dir]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`wrote ${path.join(dir, 'dossier-de-tests.md')}`);
    expect(r.stdout).toContain('verdict: incomplete');
    expect(fs.readFileSync(path.join(dir, 'dossier-de-tests.md'), 'utf8')).toBe(renderDossier(loadRunInputs(dir)));
  });

  it('--json, --lang en, -o; --fail-unless-accepted exits 8 after writing', async () => {
    const dir = runDir('cli-j');
    const out = path.join(dir, 'test-dossier.md');
    const r = await runCli(['dossier', dir, '--lang', 'en', '-o', out, '--json', '--fail-unless-accepted']);
    expect(r.exitCode).toBe(ExitCode.FINDINGS);
    expect(r.stderr).toMatch(/^error: the verdict is "incomplete", not an acceptance/);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ file: out, format: 'md', verdict: 'incomplete', residual: { blocking: 1, major: 1, minor: 0, total: 2 }, registers: { anomalies: 2, constats: 3, risks: 0 } });
    expect(fs.readFileSync(out, 'utf8')).toContain('# Test dossier — upgrade of the GLPI and OCS servers (lot MAJSER)');
  });

  it('exit 4 with one line for a missing run directory, exit 5 for a malformed run.yaml', async () => {
    const missing = await runCli(['dossier', path.join(emptyDir('cli-m'), 'nope')]);
    expect(missing.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(missing.stderr.trim().split('\n')[0]).toMatch(/^error: run directory .* does not exist$/);
    expect(missing.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const dir = runDir('cli-bad');
    fs.writeFileSync(path.join(dir, 'run.yaml'), 'format: 3\n');
    const bad = await runCli(['dossier', dir]);
    expect(bad.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    expect(bad.stderr).toMatch(/^error: run\.yaml: format 3 is newer than this tool understands \(format 1\)/);
  });

  it('--format docx without pandoc on PATH: exit 9 and a clear message (PATH stripped)', async () => {
    const dir = runDir('cli-nop');
    const r = await runCli(['dossier', dir, '--format', 'docx'], { env: { PATH: '' } });
    expect(r.exitCode).toBe(ExitCode.MISSING_DEPENDENCY);
    expect(r.stderr).toMatch(/^error: pandoc is needed for --format docx but was not found on PATH/);
    expect(r.stderr).toContain('hint: install it');
    expect(fs.existsSync(path.join(dir, 'dossier-de-tests.docx'))).toBe(false);
  });

  it.skipIf(!hasPandoc())('--format html through pandoc (skipped when pandoc is not installed)', async () => {
    const dir = runDir('cli-html');
    const r = await runCli(['dossier', dir, '--format', 'html']);
    expect(r.exitCode).toBe(0);
    const html = fs.readFileSync(path.join(dir, 'dossier-de-tests.html'), 'utf8');
    expect(html).toContain('<table');
    expect(html).toContain('Anomalies de la livraison');
  });

  it('--recette FILE: the agreed data shows in the dossier; -o into a directory that does not exist yet', async () => {
    const dir = runDir('cli-recette');
    const recette = path.join(dir, '..', 'recette.yaml');
    fs.writeFileSync(
      recette,
      'format: 1\ncustomer: ARS PACA\ncontract: MAPA/06/2019/ARS13\nseverities:\n  - id: A-ocs-7037-softwares\n    severity: mineure\n    justification: lignes reconstruites par la synchronisation suivante\n',
    );
    const out = path.join(dir, 'livrables', 'lot-majser', 'dossier.md');
    const r = await runCli(['dossier', dir, '--recette', recette, '-o', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ residual: { blocking: 1, major: 0, minor: 1, total: 2 } });
    const md = fs.readFileSync(out, 'utf8');
    expect(md).toContain('| Référence du marché | MAPA/06/2019/ARS13 |');
    expect(md).toContain('Mineure, modifiée par accord (défaut de l’outil : majeure)');
    const bad = await runCli(['dossier', dir, '--recette', path.join(dir, 'nope.yaml')]);
    expect(bad.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(bad.stderr.trim().split('\n')[0]).toMatch(/^error: recette file .*nope\.yaml not found$/);
  });

  it('--help shows examples', async () => {
    const r = await runCli(['dossier', '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--fail-unless-accepted');
  });
});

describe('dat command', () => {
  it('from a run directory: dat.md beside the run, with the number of items to complete', async () => {
    const dir = runDir('cli-dat');
    const r = await runCli(['dat', dir]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/wrote .*dat\.md \(\d+ items marked "À compléter"\)/);
    const md = fs.readFileSync(path.join(dir, 'dat.md'), 'utf8');
    expect(md).toContain('```mermaid');
    expect(md).toContain('GLPI Agent');
  });

  it('from a snapshot directory alone, in English, as JSON', async () => {
    const snap = path.join(path.dirname(runDir('cli-snap')), 'snapshot');
    const out = path.join(snap, 'dat-en.md');
    const r = await runCli(['dat', snap, '--lang', 'en', '-o', out, '--json']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: out, source: 'snapshot' });
    expect(fs.readFileSync(out, 'utf8')).toContain('**To be completed** — No plan came with the snapshot');
  });

  it('exit 4 for a directory that is neither a run nor a snapshot', async () => {
    const r = await runCli(['dat', emptyDir('cli-empty')]);
    expect(r.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(r.stderr).toMatch(/neither a run directory \(run\.yaml\) nor a snapshot directory/);
  });
});
