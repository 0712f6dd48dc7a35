/**
 * GLPI's console runs in production's language (issue 17): the updater writes its default rows in the
 * session language, so the tool's db:update must leave the same tables as the same console command run by
 * hand with no --lang (GLPI then takes the language of its configuration), on the same restored data.
 *
 * Needs GLPI_DIST (an unpacked GLPI 10.0.x release with vendor/) and php; skipped with a message otherwise.
 */
import { distSkipReason, glpiDist, phpCommand } from './helpers/dist.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Connection } from 'mysql2/promise';
import { REPO_ROOT } from './helpers/shared.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { restoreSnapshot } from '../src/snapshot/index.ts';
import { detectGlpiDist } from '../src/distributions/glpi.ts';
import { glpiConsoleExecutor } from '../src/rehearse/executors/glpi-console.ts';
import { glpiConfigLanguage, prepareGlpiDirs, writeConfigDb } from '../src/rehearse/executors/glpi-env.ts';
import type { PlanStep } from '../src/plan/plan-types.ts';
import { GLPI_UPDATE_VOLATILE } from './helpers/glpi-volatile.ts';
import { literal } from '../src/i18n/messages.ts';
import { en } from './helpers/reason.ts';

// The clean fixture: the small one needs its corrective migrations before GLPI's updater accepts it.
const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'clean');
// GLPI_DIST, or ../shared/dist unpacked by the global setup (test/helpers/dist.ts).
const GLPI_DIST = glpiDist();
const PHP = phpCommand();
const SKIP = distSkipReason({ glpi: true, php: true });

let server: TestServer;
let root: Connection;
let work: string;

beforeAll(async () => {
  if (SKIP) return;
  server = await startTestServer();
  root = await server.connect();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-glpi-lang-'));
}, 120_000);
afterAll(async () => {
  await root?.end();
  await server?.stop();
  if (work && !process.env.GOU_KEEP_TEST_WORK) fs.rmSync(work, { recursive: true, force: true });
});

async function checksums(db: string): Promise<Map<string, string>> {
  const [tables] = await root.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1`, [db]);
  const out = new Map<string, string>();
  for (const { t } of tables as Array<{ t: string }>) {
    const [r] = await root.query(`CHECKSUM TABLE \`${db}\`.\`${t}\``);
    out.set(t, String((r as Array<{ Checksum: unknown }>)[0].Checksum));
  }
  return out;
}

/** Columns of `table` whose values differ between the two databases (rows matched by their id). */
async function differingColumns(a: string, b: string, table: string): Promise<string[]> {
  const [cols] = await root.query(`SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [a, table]);
  const names = (cols as Array<{ c: string }>).map((r) => r.c);
  const key = names.includes('id') ? 'id' : names[0];
  const out: string[] = [];
  for (const c of names) {
    const [r] = await root.query(`SELECT COUNT(*) AS n FROM \`${a}\`.\`${table}\` x LEFT JOIN \`${b}\`.\`${table}\` y ON x.\`${key}\` <=> y.\`${key}\` WHERE NOT (x.\`${c}\` <=> y.\`${c}\`)`);
    if (Number((r as Array<{ n: number }>)[0].n) > 0) out.push(c);
  }
  const [na] = await root.query(`SELECT COUNT(*) AS n FROM \`${a}\`.\`${table}\``);
  const [nb] = await root.query(`SELECT COUNT(*) AS n FROM \`${b}\`.\`${table}\``);
  if (Number((na as Array<{ n: number }>)[0].n) !== Number((nb as Array<{ n: number }>)[0].n)) out.push('(row count)');
  return out;
}

describe('GLPI console language', () => {
  it.skipIf(SKIP !== '')(
    `db:update by the tool leaves the same tables as the console run by hand without --lang ${SKIP ? `(skipped: ${SKIP})` : ''}`,
    async () => {
      const dist = detectGlpiDist(GLPI_DIST as string);
      const tool = 'gou_lang_tool';
      const hand = 'gou_lang_hand';
      await restoreSnapshot(FIXTURE, server.dsn, { databases: { glpi: tool, ocs: `${tool}_ocs` }, force: true });
      await restoreSnapshot(FIXTURE, server.dsn, { databases: { glpi: hand, ocs: `${hand}_ocs` }, force: true });
      // The fixture is a French production: its configuration says fr_FR.
      expect(await glpiConfigLanguage(root, tool)).toBe('fr_FR');

      // The tool's step.
      const step: PlanStep = {
        id: 'glpi-db-update',
        product: 'glpi',
        database: 'glpi',
        title: literal('x', 'x'),
        from: '0.83.8',
        to: dist.version,
        runner: { kind: 'glpi-console', release: dist.version, command: 'db:update', args: ['--no-telemetry'] },
        requires: { php: '>=7.4.0 <8.5.0' },
        before: [],
        expected: {},
        hazards: [],
        explanation: literal('', ''),
      };
      const runDir = path.join(work, 'run');
      const r = await glpiConsoleExecutor.execute(step as never, {
        conn: root,
        dsn: server.dsn,
        databases: { glpi: tool },
        runDir,
        evidenceDir: path.join(runDir, 'evidence'),
        privateDir: path.join(work, 'private-tool'),
        dists: { glpi: [dist] },
        php: PHP,
        log: () => undefined,
      });
      expect(r.status, en(r)).toBe('passed');

      // By hand: the same console command, no --lang, on the other copy.
      const dirs = prepareGlpiDirs({ privateDir: path.join(work, 'private-hand'), runDir });
      writeConfigDb(dirs, server.dsn, hand, true);
      const byHand = await execa(PHP, ['bin/console', 'db:update', '--no-telemetry', '-n', '--no-ansi'], {
        cwd: dist.dir,
        reject: false,
        stdin: 'ignore',
        env: { GLPI_CONFIG_DIR: dirs.config, GLPI_VAR_DIR: dirs.files, GLPI_MARKETPLACE_DIR: dirs.marketplace },
      });
      expect(byHand.exitCode, String(byHand.stdout).slice(-2000)).toBe(0);

      const a = await checksums(tool);
      const b = await checksums(hand);
      expect([...a.keys()]).toEqual([...b.keys()]);
      expect(a.size).toBeGreaterThan(300);
      const differ = [...a.keys()].filter((t) => a.get(t) !== b.get(t));
      // Where a table differs, which of its columns do (rows matched by id): only time and key columns of the
      // tables listed in test/helpers/glpi-volatile.ts may.
      const detail: Array<[string, string[]]> = [];
      for (const t of differ) detail.push([t, await differingColumns(tool, hand, t)]);
      const unexplained = detail.filter(([t, cols]) => !cols.every((c) => GLPI_UPDATE_VOLATILE.get(t)?.includes(c)));
      expect(
        unexplained.map(([t, cols]) => `${t} (${cols.join(', ')})`),
        `tables that differ: ${detail.map(([t, c]) => `${t} (${c.join(', ')})`).join('; ')}`,
      ).toEqual([]);
      expect(r.commandForUser).toMatch(/ --lang=fr_FR$/);
    },
    900_000,
  );
});
