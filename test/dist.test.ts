/**
 * Distributions named on the command line: detection errors end as typed errors with their exit codes,
 * and the description lists which bridge the rehearsal will use. Uses small synthetic trees only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeDistributions, loadDistributions, classifyOcsBase, obtainDebianOcsDist } from '../src/dist/index.ts';
import { ExitCode, MissingDependencyError, NotFoundError, UsageError } from '../src/errors.ts';
import { pluginSqlErrors } from '../src/rehearse/executors/plugin-install.ts';
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
    expect(tablesNamedInOcsSql('CREATE TABLE IF NOT EXISTS `a` (x int);\nALTER TABLE b ADD y int;\nRENAME TABLE `c` TO `d`;\nINSERT IGNORE INTO e (x) SELECT x FROM f;\nDROP TABLE g;')).toEqual(['a', 'b', 'c', 'd', 'e', 'g']);
  });
});

describe('plugin install output', () => {
  it('accepts only the known harmless history_sofware error', () => {
    const out = 'Processing plugin "ocsinventoryng"...\nSQL Error "1054": Unknown column \'history_sofware\' in \'glpi_plugin_ocsinventoryng_ocsservers\'\nPHP Warning (2): Undefined array key "x"';
    expect(pluginSqlErrors(out, ["sql-errors.log:   Error: Unknown column 'history_sofware' in 'x'"])).toEqual([]);
    expect(pluginSqlErrors('ok', ["sql-errors.log:   Error: Duplicate entry '1' for key 'PRIMARY'"])).toHaveLength(1);
  });
});
