/**
 * Distributions named on the command line: detection errors end as typed errors with their exit codes,
 * and the description lists which bridge the rehearsal will use. Uses small synthetic trees only. Also the
 * tests' own distribution cache (test/helpers/dist.ts) and the demo's choice of targets from distributions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeDistributions, loadDistributions, classifyOcsBase, obtainDebianOcsDist } from '../src/distributions/index.ts';
import { ExitCode, MissingDependencyError, NotFoundError, UsageError } from '../src/errors.ts';
import { pluginSqlErrors } from '../src/rehearse/executors/plugin-install.ts';
import { glpiTargetWithin, pluginMismatches } from '../src/pipeline/index.ts';
import type { GlpiDistribution } from '../src/distributions/glpi.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import { assertDistsUsableInCi, type SharedTarball, unpackVerified, withLock } from './helpers/dist.ts';
import { classifyOcsError, splitLikeOcsreports, tablesNamedInOcsSql } from '../src/rehearse/executors/ocs-sql.ts';

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-dist-test-'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

function glpiTree(version: string): string {
  const dir = fs.mkdtempSync(path.join(base, 'glpi-'));
  fs.mkdirSync(path.join(dir, 'version'));
  fs.writeFileSync(path.join(dir, 'version', version), '');
  return dir;
}

describe('loadDistributions', () => {
  it('detects what it is given and describes which bridge will be used', () => {
    const ocs = path.join(base, 'ocs');
    fs.mkdirSync(path.join(ocs, 'files', 'update'), { recursive: true });
    fs.writeFileSync(path.join(ocs, 'files', 'update', '7007.sql'), 'SELECT 1;');
    const d = loadDistributions({ ocsDist: [ocs], glpiDist: [glpiTree('10.0.19')] });
    expect(d.ocs?.[0].newestReachable).toBe(7007);
    const lines = describeDistributions(d);
    expect(lines.map((l) => l.note).join('\n')).toMatch(/bridge 7005→7006: the tool's own; update files reach GUI_VERSION 7007/);
    expect(lines.map((l) => l.note).join('\n')).toMatch(/GLPI 10\.0\.19 \(no vendor\/: cannot run\)/);
  });

  it('refuses a missing directory (exit 4) and two trees of the same GLPI release (exit 2)', () => {
    let err: unknown;
    try {
      loadDistributions({ ocsDist: [path.join(base, 'absent')] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).exitCode).toBe(ExitCode.NOT_FOUND);
    expect(() => loadDistributions({ glpiDist: [glpiTree('10.0.19'), glpiTree('10.0.19')] })).toThrow(UsageError);
  });
});

describe('obtainDebianOcsDist', () => {
  it('ends with MissingDependencyError (exit 9) when apt-get is not on PATH', async () => {
    const saved = process.env.PATH;
    process.env.PATH = path.join(base, 'empty-path');
    try {
      const err = await obtainDebianOcsDist(path.join(base, 'cache')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MissingDependencyError);
      expect((err as MissingDependencyError).exitCode).toBe(ExitCode.MISSING_DEPENDENCY);
      expect((err as Error).message).toMatch(/apt-get is not available/);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('OCS SQL rules (pure)', () => {
  it('splits on every semicolon like ocsreports, keeping comment-only chunks and dropping blank ones', () => {
    expect(splitLikeOcsreports("A;\n\n;-- note\n;B 'x;y';")).toEqual(['A', '-- note', "B 'x", "y'"]);
  });

  it('classifies only "already applied" errors as expected', () => {
    expect(classifyOcsError(1060, 'ALTER TABLE t ADD c INT').classification).toBe('expected');
    expect(classifyOcsError(1061, 'ALTER TABLE t ADD KEY k (c)').classification).toBe('expected');
    expect(classifyOcsError(1091, 'ALTER TABLE t DROP INDEX k').classification).toBe('expected');
    expect(classifyOcsError(1050, 'CREATE TABLE t (a int)').classification).toBe('expected');
    expect(classifyOcsError(1062, "INSERT INTO config VALUES ('X', 0, '', 'select me')").classification).toBe('expected');
    expect(classifyOcsError(1062, 'INSERT INTO a (x) SELECT x FROM b').classification).toBe('failure');
    expect(classifyOcsError(1062, 'ALTER TABLE t ADD UNIQUE u (c)').classification).toBe('failure');
    expect(classifyOcsError(1146, 'ALTER TABLE nope ADD c INT').classification).toBe('failure');
    expect(classifyOcsError(1054, 'UPDATE bios SET HARDWARE_ID = 1 WHERE bios.DEVICEID = 2', 'update', "Unknown column 'bios.DEVICEID' in 'WHERE'").classification).toBe('failure');
    expect(classifyOcsError(1054, 'UPDATE bios SET HARDWARE_ID = 1 WHERE bios.DEVICEID = 2', 'bridge', "Unknown column 'bios.DEVICEID' in 'WHERE'").classification).toBe('expected');
    expect(classifyOcsError(1064, 'ALTER TABLE t ADDD c').classification).toBe('failure');
  });

  it('classifies base scripts: a DROP TABLE dump is destructive, a 7006 create-or-alter script is a bridge', () => {
    expect(classifyOcsBase("DROP TABLE IF EXISTS `accountinfo`;\nINSERT INTO config VALUES ('GUI_VERSION',0,'7068','x');").kind).toBe('destructive-dump');
    expect(classifyOcsBase("DELETE FROM config WHERE name='GUI_VERSION';\ninsert into config values ('GUI_VERSION', 0, '7006', 'x');")).toEqual({ kind: 'bridge-7006', guiVersion: 7006 });
    expect(classifyOcsBase("insert into config values ('GUI_VERSION', 0, '7011', 'x');").kind).toBe('other');
  });

  it('names the tables an SQL file writes', () => {
    expect(tablesNamedInOcsSql('CREATE TABLE IF NOT EXISTS `a` (x int);\nALTER TABLE b ADD y int;\nRENAME TABLE `c` TO `d`;\nINSERT IGNORE INTO e (x) SELECT x FROM f;\nDROP TABLE g;')).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'g',
    ]);
  });
});

describe('plugin install output', () => {
  it('accepts only the known harmless history_sofware error', () => {
    const out = 'Processing plugin "ocsinventoryng"...\nSQL Error "1054": Unknown column \'history_sofware\' in \'glpi_plugin_ocsinventoryng_ocsservers\'\nPHP Warning (2): Undefined array key "x"';
    expect(pluginSqlErrors(out, ["sql-errors.log:   Error: Unknown column 'history_sofware' in 'x'"])).toEqual([]);
    expect(pluginSqlErrors('ok', ["sql-errors.log:   Error: Duplicate entry '1' for key 'PRIMARY'"])).toHaveLength(1);
  });
});

describe('test/helpers/dist.ts: the shared distributions cache', () => {
  // A small tarball shaped like ../shared/dist's: one folder inside.
  function tarball(label: string, content: string): { file: string; spec: SharedTarball } {
    const src = fs.mkdtempSync(path.join(base, `src-${label}-`));
    fs.mkdirSync(path.join(src, 'tree', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'tree', 'sub', 'file.txt'), content);
    const file = path.join(base, `${label}.tar.xz`);
    execFileSync('tar', ['-cJf', file, '-C', src, 'tree']);
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    return { file, spec: { file: path.basename(file), sha256, inner: 'tree' } };
  }
  const read = (dir: string) => fs.readFileSync(path.join(dir, 'sub', 'file.txt'), 'utf8');

  it('unpacks once with a stamp, then reuses it; refuses a tarball whose checksum differs', () => {
    const { file, spec } = tarball('once', 'v1');
    const dir = path.join(base, 'cache', 'once');
    const first = unpackVerified(spec, file, dir);
    expect(first).toMatchObject({ action: 'unpacked', dir: path.join(dir, 'tree') });
    expect(read(first.dir!)).toBe('v1');
    expect(unpackVerified(spec, file, dir).action).toBe('cached');
    const bad = unpackVerified({ ...spec, sha256: '0'.repeat(64) }, file, path.join(base, 'cache', 'bad'));
    expect(bad.action).toBe('failed');
    expect(bad.error).toMatch(/sha256 [0-9a-f]{64}, expected 0{64}/);
    expect(unpackVerified(spec, path.join(base, 'absent.tar.xz'), dir).action).toBe('absent');
  });

  it('adopts an identical tree unpacked by hand (no stamp) and replaces a different one', () => {
    const { file, spec } = tarball('hand', 'v2');
    const same = path.join(base, 'cache', 'hand-same');
    fs.mkdirSync(same, { recursive: true });
    execFileSync('tar', ['-xJf', file, '-C', same]);
    expect(unpackVerified(spec, file, same).action).toBe('adopted');
    expect(unpackVerified(spec, file, same).action).toBe('cached');
    const edited = path.join(base, 'cache', 'hand-edited');
    fs.mkdirSync(edited, { recursive: true });
    execFileSync('tar', ['-xJf', file, '-C', edited]);
    fs.writeFileSync(path.join(edited, 'tree', 'sub', 'file.txt'), 'edited by hand');
    const r = unpackVerified(spec, file, edited);
    expect(r.action).toBe('unpacked');
    expect(read(r.dir!)).toBe('v2');
  });

  it('takes over a lock whose owner died, and runs under it', () => {
    const lock = path.join(base, 'stale.lock');
    fs.mkdirSync(lock);
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid as number; // has exited
    fs.writeFileSync(path.join(lock, 'pid'), String(dead));
    expect(withLock(lock, () => fs.readFileSync(path.join(lock, 'pid'), 'utf8'))).toBe(String(process.pid));
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('under CI=true, a present tarball that failed, or present tarballs without PHP, fail the run', () => {
    const failed = [{ key: 'glpi' as const, action: 'failed' as const, error: 'sha256 mismatch' }];
    expect(() => assertDistsUsableInCi(failed, { CI: 'true' })).toThrow(/could not run: glpi-10\.0\.19\.tar\.xz: sha256 mismatch/);
    expect(() => assertDistsUsableInCi(failed, {})).not.toThrow();
    expect(() => assertDistsUsableInCi([{ key: 'glpi', action: 'absent' }], { CI: 'true' })).not.toThrow();
  });
});

describe('demo targets (pipeline)', () => {
  const glpi = (version: string, runnable = true): GlpiDistribution => ({ dir: `/x/${version}`, version, hasConsole: runnable, hasVendor: runnable, versionSource: 'version-dir' });
  it('targets the newest runnable GLPI distribution the catalog knows, or says in one line why not', () => {
    expect(glpiTargetWithin({})).toEqual({});
    expect(glpiTargetWithin({ glpi: [glpi('10.0.19'), glpi('10.0.18')] })).toMatchObject({ version: '10.0.19', note: expect.stringMatching(/GLPI target 10\.0\.19/) });
    expect(glpiTargetWithin({ glpi: [glpi('10.0.19', false)] })).toEqual({ note: expect.stringMatching(/lack bin\/console or vendor\//) });
    expect(glpiTargetWithin({ glpi: [glpi('10.0.99')] })).toEqual({ note: expect.stringMatching(/10\.0\.99 is not in the catalog/) });
  });
  it('announces plugin steps the given plugin distributions cannot run', () => {
    const step = (pluginVersion: string) => ({ id: `plugin-${pluginVersion}`, runner: { kind: 'plugin-install', pluginVersion, glpiRelease: '10.0.19' } });
    const plan = { steps: [step('2.0.5')] } as unknown as PlanFile;
    const plugin = (version: string) => ({ dir: '/p', name: 'ocsinventoryng' as const, version });
    expect(pluginMismatches(plan, {})).toEqual([]);
    expect(pluginMismatches(plan, { plugin: [plugin('2.0.5')] })).toEqual([]);
    expect(pluginMismatches(plan, { plugin: [plugin('2.1.11')] })).toEqual([expect.stringMatching(/installs ocsinventoryng 2\.0\.5 .*--plugin-dist is 2\.1\.11: that step will not run/)]);
  });
});
