/**
 * The snapshot never stalls production (issue 15), on a real embedded MariaDB used as "production":
 * - the deadlock of the issue (an UPDATE queued on a MyISAM table right after the lock) completes, with and
 *   without RELOAD, with one and two readers;
 * - writers loop on the MyISAM tables being copied (300,000 rows): the snapshot completes, restores byte for
 *   byte, and no write waits longer than the recorded lock time plus one second;
 * - two accounts give one instant: a writer inserts a linked pair into GLPI and OCS in each iteration, and the
 *   snapshot holds the same iterations on both sides;
 * - past --max-lock-seconds: exit 12, everything released (a writer proceeds at once);
 * - the minor items: ENUM error value vs '' member, verify recomputes the id, "table is full" is exit 10,
 *   and the audit's link checks say when GLPI and OCS come from two moments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import YAML from 'yaml';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { runCli } from './helpers/cli.ts';
import type { Dsn } from '../src/db/dsn.ts';
import { formatDsn, withDatabase } from '../src/db/dsn.ts';
import { ExitCode, LockTimeoutError, VerificationError } from '../src/errors.ts';
import { readManifest, restoreSnapshot, snapshotOrigin, takeSnapshot, verifySnapshot } from '../src/snapshot/index.ts';
import type { Manifest, SnapshotProgress, SnapshotSource } from '../src/snapshot/index.ts';
import { writeManifest } from '../src/snapshot/manifest.ts';
import { AuditContext } from '../src/audit/context.ts';
import { INTERCONNECTION_CHECKS } from '../src/audit/checks/interconnection.ts';
import { REPO_ROOT } from './helpers/shared.ts';
import { liveDigest } from './helpers/digest.ts';
import { msg } from '../src/i18n/messages.ts';

let server: TestServer;
let root: Connection;
let glpiDb: string;
let ocsDb: string;
/** A GLPI-like database with the 300,000-row MyISAM table (only the writers test copies it). */
let bigDb: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-snaplock-test-'));
const BIG_ROWS = 300_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Accounts: with and without RELOAD (+PROCESS), on one database or both. */
const account = (user: string): Dsn => ({ ...server.dsn, user, password: `${user}-pw` });
const both = (user: string): SnapshotSource[] => [
  { role: 'glpi', dsn: withDatabase(account(user), glpiDb) },
  { role: 'ocs', dsn: withDatabase(account(user), ocsDb) },
];

/** The table's content digest now, as the snapshot computes it (manifest `digest`). */
async function checksum(db: string, table: string): Promise<string> {
  return (await liveDigest(root, db, table)).digest;
}

/** Waits until a statement matching `like` waits for a lock in the process list (at most 10 s). */
async function waitUntilQueued(like: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const [r] = await root.query("SELECT STATE AS s FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND STATE LIKE 'Waiting for%'", [like]);
    const s = (r as Array<{ s: string }>)[0]?.s;
    if (s) return s;
    await sleep(50);
  }
  throw new Error(`"${like}" never queued`);
}

/** Writers looping on their own connections; every statement's latency is recorded. */
function startWriters(conns: Connection[], statements: Array<(i: number) => string | string[]>) {
  const spans: Array<{ start: number; end: number }> = [];
  let stop = false;
  const loops = conns.map(async (c, k) => {
    for (let i = 0; !stop; i++) {
      const sqls = statements[k](i);
      const start = Date.now();
      for (const sql of Array.isArray(sqls) ? sqls : [sqls]) await c.query(sql);
      spans.push({ start, end: Date.now() });
    }
  });
  return {
    spans,
    async stop() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  glpiDb = await server.freshDatabase('glpi', 'utf8');
  ocsDb = await server.freshDatabase('ocs', 'utf8');
  const g = `\`${glpiDb}\``;
  const o = `\`${ocsDb}\``;
  await root.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
  // GLPI 0.83 is all MyISAM; the table, with its row id 0.
  await root.query(`CREATE TABLE ${g}.glpi_vlans (id int NOT NULL AUTO_INCREMENT, name varchar(255), comment text, PRIMARY KEY (id)) ENGINE=MyISAM`);
  await root.query(`INSERT INTO ${g}.glpi_vlans VALUES (0, 'none', ''), (1, 'vlan 1', 'x'), (2, 'vlan 2', NULL)`);
  await root.query(
    `CREATE TABLE ${g}.glpi_computers (id int NOT NULL AUTO_INCREMENT, entities_id int NOT NULL DEFAULT 0, name varchar(255), serial varchar(255), date_mod datetime, PRIMARY KEY (id), KEY name (name)) ENGINE=MyISAM`,
  );
  await root.query(`INSERT INTO ${g}.glpi_computers SELECT seq, seq % 100, CONCAT('pc-', seq), MD5(seq), '2012-01-01 00:00:00' + INTERVAL seq MINUTE FROM ${g}.seq_1_to_20000`);
  bigDb = await server.freshDatabase('big', 'utf8');
  const b = `\`${bigDb}\``;
  await root.query(`CREATE TABLE ${b}.glpi_vlans LIKE ${g}.glpi_vlans`);
  await root.query(`INSERT INTO ${b}.glpi_vlans SELECT * FROM ${g}.glpi_vlans`);
  await root.query(`CREATE TABLE ${b}.glpi_computers LIKE ${g}.glpi_computers`);
  await root.query(`INSERT INTO ${b}.glpi_computers SELECT seq, seq % 100, CONCAT('pc-', seq), MD5(seq), '2012-01-01 00:00:00' + INTERVAL seq MINUTE FROM ${b}.seq_1_to_${BIG_ROWS}`);
  await root.query(`CREATE TABLE ${g}.pair_m (i int PRIMARY KEY) ENGINE=MyISAM`);
  await root.query(`CREATE TABLE ${g}.pair_i (i int PRIMARY KEY) ENGINE=InnoDB`);
  await root.query(`CREATE TABLE ${o}.hardware (ID int NOT NULL AUTO_INCREMENT, NAME varchar(255), PRIMARY KEY (ID)) ENGINE=InnoDB`);
  await root.query(`INSERT INTO ${o}.hardware (NAME) SELECT CONCAT('pc-', seq) FROM ${o}.seq_1_to_2000`);
  await root.query(`CREATE TABLE ${o}.accountinfo (HARDWARE_ID int PRIMARY KEY, TAG varchar(255)) ENGINE=MyISAM`);
  await root.query(`INSERT INTO ${o}.accountinfo SELECT seq, 'NA' FROM ${o}.seq_1_to_2000`);
  await root.query(`CREATE TABLE ${o}.pair_m (i int PRIMARY KEY) ENGINE=MyISAM`);
  await root.query(`CREATE TABLE ${o}.pair_i (i int PRIMARY KEY) ENGINE=InnoDB`);
  // The documented minimal account (no RELOAD, no PROCESS), per database and on both; and one with RELOAD + PROCESS.
  const grants = 'SELECT, LOCK TABLES, SHOW VIEW, TRIGGER';
  for (const [user, dbs, extra] of [
    ['minimal', [glpiDb, ocsDb], false],
    ['glpionly', [glpiDb], false],
    ['ocsonly', [ocsDb], false],
    ['reloader', [glpiDb, ocsDb, bigDb], true],
    ['glpireload', [glpiDb], true],
  ] as const) {
    await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${user}-pw'`);
    for (const db of dbs) await root.query(`GRANT ${grants} ON \`${db}\`.* TO '${user}'@'%'`);
    if (extra) await root.query(`GRANT RELOAD, PROCESS ON *.* TO '${user}'@'%'`);
  }
}, 300_000);

afterAll(async () => {
  await root?.end();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the deadlock of the issue: an UPDATE queued on a MyISAM table right after the lock', () => {
  for (const [user, method] of [
    ['reloader', 'global-read-lock'],
    ['minimal', 'table-locks'],
  ] as const) {
    for (const jobs of [2, 1]) {
      it(`completes (${method}, --jobs ${jobs}), and the snapshot holds the table as it was at the lock`, async () => {
        const before = await checksum(glpiDb, 'glpi_vlans');
        const writer = await server.connect();
        let update: Promise<unknown> | undefined;
        let queuedState = '';
        const m = await takeSnapshot({
          sources: both(user),
          outDir: path.join(tmp, `deadlock-${user}-${jobs}`),
          jobs,
          chunkBytes: 256 * 1024,
          onProgress: async (e) => {
            if (e.type !== 'locked') return;
            // The statement, queued before any table is read.
            update = writer.query(`UPDATE \`${glpiDb}\`.glpi_vlans SET comment = CONCAT(comment, '!') WHERE id = 0`);
            queuedState = await waitUntilQueued('UPDATE %glpi_vlans%');
          },
        });
        await update;
        await writer.end();
        expect(queuedState).toMatch(method === 'global-read-lock' ? /backup lock|global read lock/ : /table level lock|metadata lock/);
        expect(m.consistency.method).toBe(method);
        const vlans = m.databases.find((d) => d.role === 'glpi')!.tables.find((t) => t.name === 'glpi_vlans')!;
        expect(vlans.digest).toBe(before);
        expect(await checksum(glpiDb, 'glpi_vlans')).not.toBe(before);
        await root.query(`UPDATE \`${glpiDb}\`.glpi_vlans SET comment = '' WHERE id = 0`);
      }, 120_000);
    }
  }
});

describe('writers on the MyISAM tables being copied', () => {
  it(`${BIG_ROWS.toLocaleString('en-US')} MyISAM rows under a loop of UPDATE/DELETE/INSERT: completes, restores byte for byte, no write waits longer than the lock`, async () => {
    const g = `\`${bigDb}\``;
    const conns = await Promise.all([1, 2, 3, 4].map(() => server.connect()));
    const rnd = () => 1 + Math.floor(Math.random() * BIG_ROWS);
    const writers = startWriters(conns, [
      () => `UPDATE ${g}.glpi_computers SET serial = MD5(RAND()), date_mod = NOW() WHERE id = ${rnd()}`,
      (i) => [`DELETE FROM ${g}.glpi_computers WHERE id = ${rnd()}`, `INSERT INTO ${g}.glpi_computers (id, name) VALUES (${1_000_000 + i}, 'new')`],
      () => `UPDATE ${g}.glpi_vlans SET comment = CONCAT(LEFT(comment, 20), 'u') WHERE id = 0`,
      (i) => `INSERT INTO \`${ocsDb}\`.accountinfo VALUES (${100_000 + i}, 'during')`,
    ]);
    await sleep(300);
    let lockedAt = 0;
    let unlockedAt = 0;
    let m: Manifest;
    try {
      m = await takeSnapshot({
        sources: [
          { role: 'glpi', dsn: withDatabase(account('reloader'), bigDb) },
          { role: 'ocs', dsn: withDatabase(account('reloader'), ocsDb) },
        ],
        outDir: path.join(tmp, 'writers'),
        jobs: 2,
        chunkBytes: 4 * 1024 * 1024,
        onProgress: (e: SnapshotProgress) => {
          if (e.type === 'locked') lockedAt = Date.now();
          if (e.type === 'unlocked') unlockedAt = Date.now();
        },
      });
      await sleep(300);
    } finally {
      await writers.stop();
      for (const c of conns) await c.end();
    }
    expect(m.consistency.method).toBe('global-read-lock');
    const held = m.consistency.lockHeldMs;
    expect(held).toBeGreaterThan(0);
    expect(m.consistency.maxLockMs).toBe(60_000);
    // Writes were really held by the lock, and the sampled process list saw them waiting.
    const blocked = writers.spans.filter((s) => s.start <= unlockedAt && s.end >= unlockedAt && s.start >= lockedAt - held);
    expect(blocked.length).toBeGreaterThan(0);
    expect(m.consistency.longestWriteWaitMs).toBeGreaterThan(0);
    expect(m.consistency.longestWriteWaitMs!).toBeLessThanOrEqual(held + 1000);
    // No write waited longer than the lock was held (plus one second).
    const longest = Math.max(...writers.spans.map((s) => s.end - s.start));
    expect(longest).toBeLessThanOrEqual(held + 1000);
    const computers = m.databases.find((d) => d.role === 'glpi')!.tables.find((t) => t.name === 'glpi_computers')!;
    expect(computers.rows).toBeGreaterThanOrEqual(BIG_ROWS - 50_000);
    expect(computers.files.length).toBeGreaterThan(2);
    // Byte for byte: every table's CHECKSUM TABLE and row count, taken under the lock, match after restore.
    const r = await restoreSnapshot(path.join(tmp, 'writers'), server.dsn, { databases: { glpi: `${bigDb}_w`, ocs: `${ocsDb}_w` }, jobs: 2 });
    expect(r.ok).toBe(true);
    expect(r.tables.find((t) => t.table === 'glpi_computers')!.rows).toBe(computers.rows);
    await root.query(`DROP DATABASE \`${bigDb}_w\``);
    await root.query(`DROP DATABASE \`${ocsDb}_w\``);
    await root.query(`DELETE FROM \`${ocsDb}\`.accountinfo WHERE HARDWARE_ID >= 100000`);
  }, 180_000);
});

describe('two accounts, one instant', () => {
  for (const [glpiUser, method] of [
    ['glpionly', 'table-locks'],
    ['glpireload', 'global-read-lock'],
  ] as const) {
    it(`a writer inserting a linked pair into GLPI and OCS each iteration: the snapshot holds the same iterations on both sides (${glpiUser} + ocsonly, ${method})`, async () => {
      const g = `\`${glpiDb}\``;
      const o = `\`${ocsDb}\``;
      for (const t of ['pair_m', 'pair_i']) {
        await root.query(`TRUNCATE ${g}.${t}`);
        await root.query(`TRUNCATE ${o}.${t}`);
      }
      const w1 = await server.connect();
      const w2 = await server.connect();
      const writers = startWriters(
        [w1, w2],
        [
          // MyISAM pair: atomic for readers through LOCK TABLES … WRITE.
          (i) => [`LOCK TABLES ${g}.pair_m WRITE, ${o}.pair_m WRITE`, `INSERT INTO ${g}.pair_m VALUES (${i})`, `INSERT INTO ${o}.pair_m VALUES (${i})`, 'UNLOCK TABLES'],
          // InnoDB pair: one transaction.
          (i) => ['START TRANSACTION', `INSERT INTO ${g}.pair_i VALUES (${i})`, `INSERT INTO ${o}.pair_i VALUES (${i})`, 'COMMIT'],
        ],
      );
      await sleep(500);
      let m: Manifest;
      try {
        m = await takeSnapshot({
          sources: [
            { role: 'glpi', dsn: withDatabase(account(glpiUser), glpiDb) },
            { role: 'ocs', dsn: withDatabase(account('ocsonly'), ocsDb) },
          ],
          outDir: path.join(tmp, `pairs-${glpiUser}`),
          jobs: 2,
        });
        await sleep(300);
      } finally {
        await writers.stop();
        await w1.end();
        await w2.end();
      }
      const rows = (role: 'glpi' | 'ocs', t: string) => m.databases.find((d) => d.role === role)!.tables.find((x) => x.name === t)!.rows;
      expect(rows('glpi', 'pair_m')).toBeGreaterThan(0);
      expect(rows('glpi', 'pair_i')).toBeGreaterThan(0);
      expect(rows('ocs', 'pair_m')).toBe(rows('glpi', 'pair_m'));
      expect(rows('ocs', 'pair_i')).toBe(rows('glpi', 'pair_i'));
      // The writers went on after the snapshot: it did not simply copy a finished history.
      const [after] = await root.query(`SELECT COUNT(*) AS n FROM ${g}.pair_i`);
      expect(Number((after as Array<{ n: number }>)[0].n)).toBeGreaterThan(rows('glpi', 'pair_i'));
      expect(m.consistency.method).toBe(method);
      expect(m.consistency.instants).toBe('one');
      expect(m.consistency.locks!.length).toBe(method === 'global-read-lock' ? 1 : 2);
      if (method === 'global-read-lock') expect(m.consistency.locks![0].databases.sort()).toEqual([glpiDb, ocsDb].sort());
    }, 120_000);
  }
});

describe('two accounts without RELOAD, a writer in the other order', () => {
  it('a transaction writing OCS then GLPI cannot hold the second lock request until the limit: the locks are retried in the other order', async () => {
    const g = `\`${glpiDb}\``;
    const o = `\`${ocsDb}\``;
    for (const t of ['pair_i']) {
      await root.query(`TRUNCATE ${g}.${t}`);
      await root.query(`TRUNCATE ${o}.${t}`);
    }
    const w = await server.connect();
    // Most of each iteration is spent holding the OCS table's metadata lock, before the GLPI insert.
    const writers = startWriters([w], [(i) => ['START TRANSACTION', `INSERT INTO ${o}.pair_i VALUES (${i})`, 'DO SLEEP(0.05)', `INSERT INTO ${g}.pair_i VALUES (${i})`, 'COMMIT']]);
    await sleep(300);
    let m: Manifest;
    try {
      m = await takeSnapshot({
        sources: [
          { role: 'glpi', dsn: withDatabase(account('glpionly'), glpiDb) },
          { role: 'ocs', dsn: withDatabase(account('ocsonly'), ocsDb) },
        ],
        outDir: path.join(tmp, 'reverse-writer'),
        jobs: 1,
        maxLockMs: 20_000,
      });
    } finally {
      await writers.stop();
      await w.end();
    }
    const rows = (role: 'glpi' | 'ocs') => m.databases.find((d) => d.role === role)!.tables.find((x) => x.name === 'pair_i')!.rows;
    expect(rows('glpi')).toBeGreaterThan(0);
    expect(rows('ocs')).toBe(rows('glpi'));
    expect(m.consistency.method).toBe('table-locks');
    // No write waited anywhere near the limit.
    expect(Math.max(...writers.spans.map((s) => s.end - s.start))).toBeLessThan(10_000);
  }, 120_000);
});

describe('two servers, one instant', () => {
  it('GLPI on one server and OCS on another: both locks are held before anything is read', async () => {
    const other = await startTestServer({}); // always a second embedded server
    try {
      const ocs2 = await other.freshDatabase('ocs2', 'utf8');
      const oc = await other.connect();
      await oc.query(`CREATE TABLE \`${ocs2}\`.pair_m (i int PRIMARY KEY) ENGINE=MyISAM`);
      await root.query(`TRUNCATE \`${glpiDb}\`.pair_m`);
      const w = await server.connect();
      let stop = false;
      // One writer, each iteration on both servers: GLPI first, then OCS (no distributed transaction).
      const loop = (async () => {
        for (let i = 0; !stop; i++) {
          await w.query(`INSERT INTO \`${glpiDb}\`.pair_m VALUES (${i})`);
          await oc.query(`INSERT INTO \`${ocs2}\`.pair_m VALUES (${i})`);
        }
      })();
      await sleep(500);
      let m: Manifest;
      try {
        m = await takeSnapshot({
          sources: [
            { role: 'glpi', dsn: withDatabase(server.dsn, glpiDb) },
            { role: 'ocs', dsn: withDatabase(other.dsn, ocs2) },
          ],
          outDir: path.join(tmp, 'two-servers'),
          jobs: 2,
        });
        await sleep(300);
      } finally {
        stop = true;
        await loop;
        await w.end();
      }
      const [n] = await oc.query(`SELECT COUNT(*) AS n FROM \`${ocs2}\`.pair_m`);
      await oc.end();
      const g = m.databases.find((d) => d.role === 'glpi')!.tables.find((t) => t.name === 'pair_m')!.rows;
      const o = m.databases.find((d) => d.role === 'ocs')!.tables.find((t) => t.name === 'pair_m')!.rows;
      expect(g).toBeGreaterThan(0);
      // The writer may be between its two statements at the instant: at most one iteration apart.
      expect(Math.abs(g - o)).toBeLessThanOrEqual(1);
      expect(Number((n as Array<{ n: number }>)[0].n)).toBeGreaterThan(o + 1);
      expect(m.consistency.locks!.map((l) => l.method)).toEqual(['global-read-lock', 'global-read-lock']);
      expect(m.consistency.instants).toBe('one');
    } finally {
      await other.stop();
    }
  }, 180_000);
});

describe('--max-lock-seconds', () => {
  for (const user of ['reloader', 'minimal'] as const) {
    it(`past the limit the snapshot stops with exit 12 and releases everything at once (${user})`, async () => {
      const out = path.join(tmp, `limit-${user}`);
      const writer = await server.connect();
      let write: Promise<number> | undefined;
      let lockedAt = 0;
      const t0 = Date.now();
      const err = await takeSnapshot({
        sources: both(user),
        outDir: out,
        jobs: 2,
        maxLockMs: 1500,
        onProgress: async (e) => {
          if (e.type !== 'locked') return;
          lockedAt = Date.now();
          write = writer.query(`UPDATE \`${glpiDb}\`.glpi_vlans SET comment = 'limit' WHERE id = 1`).then(() => Date.now());
          await sleep(5000); // a copy that would take far too long
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect((err as LockTimeoutError).exitCode).toBe(12);
      expect((err as Error).message).toMatch(/--max-lock-seconds/);
      // The queued write went through when the limit was reached, not when the listener returned.
      const wrote = await write!;
      expect(wrote - t0).toBeLessThan(lockedAt - t0 + 5000);
      expect(wrote - lockedAt).toBeLessThanOrEqual(1500 + 1000);
      await writer.end();
      expect(fs.existsSync(out)).toBe(false);
      // No session of the snapshot is left (the server notices closed sockets within moments).
      let left = -1;
      for (let i = 0; i < 50 && left !== 0; i++) {
        const [r] = await root.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
        left = Number((r as Array<{ n: number }>)[0].n);
        if (left) await sleep(100);
      }
      expect(left).toBe(0);
    }, 60_000);
  }

  it('the command exits 12 when the lock cannot be taken within the limit, and holds nothing afterwards', async () => {
    const blocker = await server.connect();
    await blocker.query(`LOCK TABLES \`${glpiDb}\`.glpi_vlans WRITE`);
    try {
      const r = await runCli(['snapshot', '--glpi', formatDsn(withDatabase(server.dsn, glpiDb)), '-o', path.join(tmp, 'cli-limit'), '--max-lock-seconds', '1'], {
        env: { MYSQL_PWD: server.dsn.password ?? '' },
        timeoutMs: 60_000,
      });
      expect(r.exitCode, r.stderr).toBe(ExitCode.LOCK_TIMEOUT);
      expect(r.stderr).toMatch(/could not take the read lock .* within 1 s/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const bad = await runCli(['snapshot', '--glpi', formatDsn(withDatabase(server.dsn, glpiDb)), '-o', path.join(tmp, 'cli-bad'), '--max-lock-seconds', '0']);
      expect(bad.exitCode).toBe(ExitCode.USAGE);
    } finally {
      await blocker.query('UNLOCK TABLES');
      await blocker.end();
    }
    const w = await server.connect();
    await w.query('SET SESSION lock_wait_timeout = 5');
    await w.query(`UPDATE \`${glpiDb}\`.glpi_vlans SET comment = 'free' WHERE id = 2`);
    await w.end();
  }, 90_000);
});

describe('byte-exactness and integrity details', () => {
  it("an ENUM error value (index 0) and the '' member round-trip distinctly", async () => {
    const db = await server.freshDatabase('enums', 'utf8');
    const c = await server.connect(db);
    await c.query("SET SESSION sql_mode = ''");
    await c.query("CREATE TABLE e (id int PRIMARY KEY, v enum('','a','b') DEFAULT NULL, w enum('x','y') NOT NULL) ENGINE=MyISAM");
    // 'zzz' is not a member: stored as the error value, index 0, shown as '' like the member at index 1.
    await c.query("INSERT INTO e VALUES (1, 'zzz', 'zzz'), (2, '', 'x'), (3, 'b', 'y'), (4, NULL, 'x')");
    await c.query('CREATE TABLE other (id int PRIMARY KEY) ENGINE=InnoDB');
    await c.query('INSERT INTO other VALUES (1), (2)');
    await c.end();
    const dir = path.join(tmp, 'enums');
    const m = await takeSnapshot({ sources: [{ role: 'glpi', dsn: withDatabase(server.dsn, db) }], outDir: dir, jobs: 1 });
    expect(m.databases[0].tables.find((t) => t.name === 'e')!.columns!.map((x) => x.encoding)).toEqual(['raw', 'enum', 'raw']);
    const r = await restoreSnapshot(dir, server.dsn, { databases: { glpi: `${db}_r` }, jobs: 1 });
    expect(r.ok).toBe(true);
    const [rows] = await root.query(`SELECT id, v + 0 AS vi, w + 0 AS wi FROM \`${db}_r\`.e ORDER BY id`);
    expect(rows).toEqual([
      { id: 1, vi: 0, wi: 0 },
      { id: 2, vi: 1, wi: 1 },
      { id: 3, vi: 3, wi: 2 },
      { id: 4, vi: null, wi: 1 },
    ]);
  });

  it('verify recomputes the snapshot id: a table removed from the manifest with its files is refused (exit 5)', async () => {
    const dir = path.join(tmp, 'id-edited');
    fs.cpSync(path.join(tmp, 'enums'), dir, { recursive: true });
    expect((await verifySnapshot(dir)).ok).toBe(true);
    // Drop one table from the manifest and its files from the directory, keep the old id: every file left is intact.
    const m3 = await readManifest(dir);
    const victim = m3.databases[0].tables.find((t) => t.name === 'other')!;
    const files = victim.files.map((f) => f.path);
    m3.databases[0].tables = m3.databases[0].tables.filter((t) => t !== victim);
    await writeManifest(dir, m3);
    for (const f of files) fs.rmSync(path.join(dir, f));
    const v3 = await verifySnapshot(dir);
    expect(v3.problems).toEqual([{ path: 'manifest.yaml', problem: 'id' }]);
    const cli = await runCli(['verify', dir]);
    expect(cli.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    expect(cli.stderr).toMatch(/snapshot id/);
    await expect(restoreSnapshot(dir, server.dsn, { databases: { glpi: 'never_id' } })).rejects.toBeInstanceOf(VerificationError);
  });

  it('a one-database extract of a snapshot (as rehearse replays write them) verifies; the same extract missing a table does not', async () => {
    const src = path.join(tmp, 'deadlock-minimal-1');
    const m = await readManifest(src);
    expect(m.databases.every((d) => typeof d.filesId === 'string')).toBe(true);
    const extract = async (label: string, edit: (db: Manifest['databases'][number]) => void) => {
      const dir = path.join(tmp, label);
      const only = { ...m, databases: m.databases.filter((d) => d.role === 'ocs').map((d) => ({ ...d })) };
      edit(only.databases[0]);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'manifest.yaml'), YAML.stringify(only));
      for (const db of only.databases) {
        for (const f of [...db.tables.flatMap((t) => t.files), ...db.views.map((v) => v.file), ...db.triggers.map((t) => t.file), ...db.routines.map((r) => r.file)]) {
          fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
          fs.copyFileSync(path.join(src, f.path), path.join(dir, f.path));
        }
      }
      return verifySnapshot(dir);
    };
    expect((await extract('extract-ok', () => undefined)).problems).toEqual([]);
    const cut = await extract('extract-cut', (db) => (db.tables = db.tables.filter((t) => t.name !== 'accountinfo')));
    expect(cut.problems).toEqual([{ path: 'manifest.yaml', problem: 'id' }]);
  });

  it('"table is full" during restore exits 10 (disk full), not 3', async () => {
    const db = await server.freshDatabase('heap', 'utf8');
    const c = await server.connect(db);
    await c.query('CREATE TABLE h (id int PRIMARY KEY, v varchar(200)) ENGINE=MEMORY');
    await c.query(`INSERT INTO h SELECT seq, REPEAT('x', 200) FROM seq_1_to_3000`);
    await c.end();
    const dir = path.join(tmp, 'heap');
    await takeSnapshot({ sources: [{ role: 'glpi', dsn: withDatabase(server.dsn, db) }], outDir: dir, jobs: 1 });
    const [[old]] = (await root.query('SELECT @@GLOBAL.max_heap_table_size AS v')) as unknown as [[{ v: number }]];
    await root.query('SET GLOBAL max_heap_table_size = 16384');
    try {
      const r = await runCli(['restore', dir, '--instance', formatDsn(server.dsn), '--glpi-db', `${db}_r`], { env: { MYSQL_PWD: server.dsn.password ?? '' } });
      expect(r.exitCode, r.stderr).toBe(ExitCode.DISK_FULL);
      expect(r.stderr).toMatch(/is full/);
    } finally {
      await root.query(`SET GLOBAL max_heap_table_size = ${Number(old.v)}`);
    }
  });
});

describe('the audit says when GLPI and OCS come from two moments', () => {
  it('restore records the origin; the GLPI–OCS link checks carry the note only for a snapshot without one instant', async () => {
    const fixture = path.join(REPO_ROOT, 'fixtures', 'small');
    const separate = path.join(tmp, 'separate');
    fs.cpSync(fixture, separate, { recursive: true });
    // Consistency is not part of the files' identity: the edited manifest still verifies.
    const doc = YAML.parse(fs.readFileSync(path.join(separate, 'manifest.yaml'), 'utf8')) as Manifest;
    doc.consistency = { method: 'no-lock', lockHeldMs: 0, instants: 'separate' };
    await writeManifest(separate, doc);
    const check = INTERCONNECTION_CHECKS.find((c) => c.id === 'link.vanished_hardware')!;
    const notes: unknown[] = [];
    for (const [dir, suffix] of [
      [fixture, 'one'],
      [separate, 'sep'],
    ] as const) {
      const names = { glpi: `${glpiDb}_a${suffix}`, ocs: `${ocsDb}_a${suffix}` };
      await restoreSnapshot(dir, server.dsn, { databases: names, jobs: 2 });
      expect((await snapshotOrigin(root, names.glpi))?.snapshotId).toBe(doc.id);
      const ctx = new AuditContext({ conn: root, database: names.glpi }, { conn: root, database: names.ocs });
      const outcome = (await check.run(ctx)) as { evidence: Record<string, unknown> };
      expect(outcome.evidence).toBeDefined();
      notes.push(outcome.evidence.dataInstants);
    }
    expect(notes[0]).toBeUndefined();
    expect(notes[1]).toEqual(msg('audit.data-instants', {}));
  }, 120_000);
});
