/**
 * A real MariaDB server for tests: MARIADB_URL when set (a server the developer declares disposable —
 * it gets the test-instance marker), else a fresh embedded instance per test file.
 * Databases created through `freshDatabase` carry a per-file prefix so parallel files never collide.
 */
import crypto from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import type { Dsn } from '../../src/db/dsn.ts';
import { parseDsn, withDatabase } from '../../src/db/dsn.ts';
import { baseOptions } from '../../src/db/connect.ts';
import type { EmbeddedInstance, ServerSettings } from '../../src/db/embedded.ts';
import { startEmbedded } from '../../src/db/embedded.ts';
import { markAsTestInstance } from '../../src/db/interlock.ts';

export interface TestServer {
  dsn: Dsn;
  embedded?: EmbeddedInstance;
  /** A new connection (no default database unless given). */
  connect(database?: string): Promise<Connection>;
  /** Creates an empty database with a unique name and returns its name. */
  freshDatabase(label: string, charset?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestServer(settings?: ServerSettings): Promise<TestServer> {
  let dsn: Dsn;
  let embedded: EmbeddedInstance | undefined;
  if (process.env.MARIADB_URL && !settings) {
    dsn = { ...parseDsn(process.env.MARIADB_URL, { allowPassword: true }), database: undefined, testInstance: true };
    const c = await mysql.createConnection(baseOptions(dsn));
    await markAsTestInstance(c, 'MARIADB_URL test server');
    await c.end();
  } else {
    embedded = await startEmbedded({ settings });
    dsn = embedded.dsn;
  }
  const prefix = `t${crypto.randomBytes(3).toString('hex')}`;
  const created: string[] = [];
  return {
    dsn,
    embedded,
    connect: (database?: string) => mysql.createConnection(baseOptions(database ? withDatabase(dsn, database) : dsn)),
    async freshDatabase(label: string, charset = 'utf8') {
      const name = `${prefix}_${label}`.slice(0, 64);
      const c = await mysql.createConnection(baseOptions(dsn));
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.query(`CREATE DATABASE \`${name}\` DEFAULT CHARACTER SET ${charset}`);
      await c.end();
      created.push(name);
      return name;
    },
    async stop() {
      if (embedded) {
        await embedded.stop();
        return;
      }
      const c = await mysql.createConnection(baseOptions(dsn));
      for (const name of created) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}
