import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatDsn, parseDsn } from '../src/db/dsn.ts';
import { readDefaultsFile, readGlpiConfig, readOcsConfig, resolvePassword } from '../src/db/credentials.ts';
import { ToolError, ExitCode } from '../src/errors.ts';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gou-cred-'));
}

describe('parseDsn', () => {
  it('reads user, host, port, database', () => {
    const d = parseDsn('mysql://glpi@db1.example:3307/glpi');
    expect(d).toMatchObject({ user: 'glpi', host: 'db1.example', port: 3307, database: 'glpi', testInstance: false });
    expect(d.password).toBeUndefined();
  });
  it('defaults the port and accepts mariadb:// and sockets', () => {
    expect(parseDsn('mariadb://ocs@localhost/ocsweb').port).toBe(3306);
    const s = parseDsn('mysql://root@localhost/glpi?socket=/run/mysqld/mysqld.sock');
    expect(s.socket).toBe('/run/mysqld/mysqld.sock');
    expect(formatDsn(s)).toBe('mysql://root@localhost/glpi?socket=/run/mysqld/mysqld.sock');
  });
  it('refuses a password on the command line, with a usage error that does not echo it', () => {
    try {
      parseDsn('mysql://glpi:S3cret@db/glpi');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ToolError);
      expect((err as ToolError).exitCode).toBe(ExitCode.USAGE);
      expect((err as Error).message).not.toContain('S3cret');
    }
  });
  it('accepts a password only when allowed (environment-provided URLs)', () => {
    expect(parseDsn('mysql://u:p%40ss@h/db', { allowPassword: true }).password).toBe('p@ss');
  });
  it('rejects unknown schemes and options', () => {
    expect(() => parseDsn('postgres://u@h/db')).toThrow(/unsupported scheme/);
    expect(() => parseDsn('mysql://u@h/db?ssl=1')).toThrow(/unknown option/);
  });
  it('reads the test-instance mark', () => {
    expect(parseDsn('mysql://u@h/db?test-instance=1').testInstance).toBe(true);
  });
});

describe('password sources', () => {
  it('prefers --password-env, then the role variable, then MYSQL_PWD', () => {
    const dsn = parseDsn('mysql://glpi@h/glpi');
    expect(resolvePassword(dsn, 'glpi', { env: { GLPI_DB_PASSWORD: 'a', MYSQL_PWD: 'b' } })).toMatchObject({ passwordSource: 'env:GLPI_DB_PASSWORD' });
    expect(resolvePassword(dsn, 'glpi', { env: { MYSQL_PWD: 'b' } }).dsn.password).toBe('b');
    expect(resolvePassword(dsn, 'ocs', { env: { GLPI_DB_PASSWORD: 'a' } }).passwordSource).toBe('none');
    expect(resolvePassword(dsn, 'glpi', { passwordEnv: 'MINE', env: { MINE: 'c', GLPI_DB_PASSWORD: 'a' } }).dsn.password).toBe('c');
    expect(() => resolvePassword(dsn, 'glpi', { passwordEnv: 'UNSET_X', env: {} })).toThrow(/UNSET_X/);
  });
  it('reads a MySQL defaults file', () => {
    const dir = tmp();
    const f = path.join(dir, 'my.cnf');
    fs.writeFileSync(f, '# comment\n[mysqld]\npassword=server\n[client]\nuser = backup\npassword = "p#ss word"\nsocket=/tmp/x.sock\n');
    expect(readDefaultsFile(f)).toEqual({ user: 'backup', password: 'p#ss word', socket: '/tmp/x.sock' });
    const r = resolvePassword(parseDsn('mysql://root@h/glpi'), 'glpi', { defaultsFile: f, env: {} });
    expect(r.dsn).toMatchObject({ user: 'backup', password: 'p#ss word' });
  });
  it('reads GLPI 0.83 and 10.0 config_db.php', () => {
    const old = tmp();
    fs.mkdirSync(path.join(old, 'config'));
    fs.writeFileSync(
      path.join(old, 'config', 'config_db.php'),
      `<?php\n class DB extends DBmysql {\n var $dbhost = "db1:3307";\n var $dbuser = "glpi";\n var $dbpassword= "it's";\n var $dbdefault = "glpi083";\n }\n?>`,
    );
    expect(readGlpiConfig(old).dsn).toMatchObject({ host: 'db1', port: 3307, user: 'glpi', password: "it's", database: 'glpi083' });
    const recent = tmp();
    fs.mkdirSync(path.join(recent, 'config'));
    fs.writeFileSync(
      path.join(recent, 'config', 'config_db.php'),
      `<?php\nclass DB extends DBmysql {\n   public $dbhost = '127.0.0.1';\n   public $dbuser = 'glpi';\n   public $dbpassword = 'p%40ss%20w';\n   public $dbdefault = 'glpi';\n   public $use_utf8mb4 = true;\n}\n`,
    );
    expect(readGlpiConfig(recent).dsn).toMatchObject({ host: '127.0.0.1', port: 3306, password: 'p@ss w' });
  });
  it('reads OCS 2.1 and 2.12 dbconfig.inc.php', () => {
    const d21 = tmp();
    fs.writeFileSync(
      path.join(d21, 'dbconfig.inc.php'),
      `<?php\ndefine("DB_NAME","ocsweb");\ndefine("SERVER_READ","localhost");\ndefine("SERVER_WRITE","dbocs");\ndefine("COMPTE_BASE","ocs");\ndefine("PSWD_BASE","ocs");\n?>`,
    );
    expect(readOcsConfig(d21).dsn).toMatchObject({ host: 'dbocs', port: 3306, user: 'ocs', password: 'ocs', database: 'ocsweb' });
    const d212 = tmp();
    fs.mkdirSync(path.join(d212, 'ocsreports'));
    fs.writeFileSync(
      path.join(d212, 'ocsreports', 'dbconfig.inc.php'),
      `<?php\n define("DB_NAME", "ocs2");\n define("SERVER_READ", "10.1.1.1");\n define("SERVER_WRITE", "10.1.1.1");\n define("SERVER_PORT", "3308");\n define("COMPTE_BASE", "ocsu");\n define("PSWD_BASE", "x\\"y");\n define("ENABLE_SSL", "0");\n?>`,
    );
    expect(readOcsConfig(d212).dsn).toMatchObject({ host: '10.1.1.1', port: 3308, user: 'ocsu', password: 'x"y', database: 'ocs2' });
  });
  it('names a missing installation clearly', () => {
    expect(() => readGlpiConfig('/nonexistent-glpi')).toThrow(/no GLPI database configuration/);
    expect(() => readOcsConfig('/nonexistent-ocs')).toThrow(/no dbconfig.inc.php/);
  });
});
