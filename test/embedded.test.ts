import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import mysql from 'mysql2/promise';
import { cleanStaleInstances, findServerBinary, listInstances, startEmbedded } from '../src/db/embedded.ts';
import { baseOptions } from '../src/db/connect.ts';
import { isMarkedTestInstance } from '../src/db/interlock.ts';
import { ExitCode, ToolError } from '../src/errors.ts';

describe('embedded instance', () => {
  it('starts two at once with chosen settings, marks them, and removes everything on stop', async () => {
    const [a, b] = await Promise.all([
      startEmbedded({ settings: { sqlMode: '', characterSetServer: 'utf8mb3', collationServer: 'utf8mb3_unicode_ci', lowerCaseTableNames: 1 } }),
      startEmbedded(),
    ]);
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

  it('cleans an instance whose owner died', async () => {
    const inst = await startEmbedded();
    // Pretend the owner crashed: rewrite its registry entry with a dead owner pid.
    const file = (await import('node:path')).join(process.env.GOU_STATE_DIR!, 'instances', `${inst.record.id}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...inst.record, ownerPid: 2 ** 22 + 12345 }));
    expect(cleanStaleInstances()).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(inst.record.baseDir)).toBe(false);
    inst.stopSync();
  });

  it('says what to install when the server binary is missing', () => {
    try {
      findServerBinary('/nonexistent/mariadbd');
      expect.unreachable();
    } catch (err) {
      expect((err as ToolError).exitCode).toBe(ExitCode.MISSING_DEPENDENCY);
    }
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      // /usr/sbin is also searched; only assert the message shape when nothing is found there either.
      if (!fs.existsSync('/usr/sbin/mariadbd') && !fs.existsSync('/usr/sbin/mysqld')) {
        expect(() => findServerBinary()).toThrow(/apt-get install mariadb-server/);
      }
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
