/**
 * `apply` with GLPI steps: the real GLPI 10.0.19 console and the ocsinventoryng 2.0.5 plugin run against
 * "production" (an embedded server NOT marked as a test instance) with production GLPI's config directory
 * (--glpi-config-dir), after the same plan was rehearsed on a test instance. Needs ../shared/dist (or
 * GLPI_DIST / PLUGIN_DIST) and PHP; skipped with a message otherwise (a failure under CI=true when present:
 * test/global-setup-dist.ts).
 */
import { distSkipReason, glpiDist, phpCommand, pluginDist } from './helpers/dist.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Connection } from 'mysql2/promise';
import { runCli } from './helpers/cli.ts';
import { rehearsedProduction, type Production } from './helpers/production.ts';
import { GLPI_UPDATE_VOLATILE_TABLES } from './helpers/glpi-volatile.ts';
import { detectGlpiDist, detectPluginDist } from '../src/distributions/glpi.ts';
import { configDbPhp } from '../src/rehearse/executors/glpi-env.ts';
import { readFunctionalResultsFile } from '../src/formats/functional-results.ts';
import { en } from './helpers/reason.ts';

const GLPI_DIST = glpiDist();
const PLUGIN_DIST = pluginDist('2.0.5');
const PHP = phpCommand();
const SKIP = distSkipReason({ glpi: true, plugin: '2.0.5', php: true });

let P: Production;
let root: Connection;
let hostPort: string;
let configDir: string;
let env: Production['env'];
/** An apply with GLPI's real updater takes minutes (runCli's default limit is 5). */
const LONG = 2_400_000;
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

function applyArgs(runDir: string): string[] {
  return [
    'apply',
    runDir,
    '--glpi',
    P.dsnFor('glpi'),
    '--ocs',
    P.dsnFor('ocsweb'),
    '--glpi-dist',
    GLPI_DIST as string,
    '--plugin-dist',
    PLUGIN_DIST as string,
    '--php',
    PHP,
    '--glpi-config-dir',
    configDir,
    '--confirm',
    hostPort,
  ];
}
function rollbackArgs(runDir: string): string[] {
  return ['rollback', runDir, '--glpi', P.dsnFor('glpi'), '--ocs', P.dsnFor('ocsweb'), '--confirm', hostPort];
}
async function maintenanceMode(): Promise<string | undefined> {
  const [rows] = await root.query("SELECT value AS v FROM glpi.glpi_configs WHERE context = 'core' AND name = 'maintenance_mode'");
  return (rows as Array<{ v: string }>)[0]?.v;
}

beforeAll(async () => {
  if (SKIP) return;
  const glpi = detectGlpiDist(GLPI_DIST as string);
  const plugin = detectPluginDist(PLUGIN_DIST as string);
  // The GLPI side of the fixture's plan: corrective migrations, db:update, the plugin, GLPI's migrations.
  P = await rehearsedProduction({
    name: 'apply-glpi',
    database: 'glpi',
    targets: { glpi: glpi.version },
    dists: { glpi: [glpi], plugin: [plugin] },
    php: PHP,
    // The live audit with the GLPI tree as reference, as apply runs the blocking checks again (--glpi-dist):
    // the schema drift check then runs in both.
    glpiDists: [GLPI_DIST as string],
  });
  ({ root, hostPort, env } = P);
  configDir = path.join(P.work, 'glpi-config');
  fs.mkdirSync(configDir, { mode: 0o700 });
  expect(P.plan.steps.some((s) => s.runner.kind === 'plugin-install')).toBe(true);
  expect(P.run.steps.filter((s) => s.status !== 'passed').map((s) => `${s.stepId}: ${s.reason}`)).toEqual([]);
}, 1_800_000);

afterAll(async () => {
  await P?.close();
});

describe('apply with GLPI steps on production', () => {
  it.skipIf(SKIP !== '')(
    `GLPI's console with production's config dir: same structure and checksums as the rehearsal, glpicrypt.key created and kept, maintenance mode off at the end; then with an existing key, backed up ${SKIP ? `(skipped: ${SKIP})` : ''}`,
    async () => {
      // Without the config dir: refused before anything is written.
      const first = P.copyRun('apply-glpi-1');
      const noDir = await runCli(
        applyArgs(first).filter((a, i, all) => a !== '--glpi-config-dir' && all[i - 1] !== '--glpi-config-dir'),
        { env },
      );
      expect(noDir.exitCode, noDir.stderr).toBe(15);
      expect(noDir.stderr).toMatch(/run GLPI's console on production: give production GLPI's config directory with --glpi-config-dir DIR/);
      expect(fs.existsSync(path.join(first, 'apply'))).toBe(false);

      // 1. An empty config dir: config_db.php written, glpicrypt.key created by db:update and kept.
      const r1 = await runCli(applyArgs(first), { env, timeoutMs: LONG });
      expect(r1.exitCode, r1.stderr).toBe(0);
      const rec1 = P.record(first);
      const mode1 = await maintenanceMode();
      // The config_db.php apply wrote, before rollback removes it.
      const configDb = path.join(configDir, 'config_db.php');
      expect(rec1.glpiConfig?.configDb).toBe('written');
      expect(fs.statSync(configDb).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(configDb, 'utf8')).toMatch(/\$dbdefault = 'glpi';/);
      const back1 = await runCli(rollbackArgs(first), { env });
      expect(back1.exitCode, back1.stderr).toBe(0);
      expect(await P.differencesFromFixture()).toEqual([]);

      expect(rec1.final?.structureEqual, rec1.final?.structureDifferences.join('\n')).toBe(true);
      // Besides the tables stamped at run time: the plugin's OCS server definition, whose password is encrypted
      // with each run's own glpicrypt.key (the rehearsal's and production's differ).
      const explained = new Set([...GLPI_UPDATE_VOLATILE_TABLES, 'glpi_plugin_ocsinventoryng_ocsservers']);
      expect(rec1.final?.tablesDiffering.map((t) => t.table).filter((t) => !explained.has(t.replace(/^glpi\./, '')))).toEqual([]);
      expect(rec1.final?.tablesCompared).toBeGreaterThan(300);
      const key = path.join(configDir, 'glpicrypt.key');
      expect(fs.existsSync(key)).toBe(true);
      expect(rec1.glpiConfig?.keyBackups).toEqual([]);
      // The created key, copied aside once before the next GLPI step (the carried key).
      expect(rec1.glpiConfig?.keyCreated).toMatchObject({ sha256: sha(key), before: 'connector-plugin-2.0.5' });
      expect(sha(rec1.glpiConfig!.keyCreated!.copy)).toBe(sha(key));
      expect(rec1.glpiConfig?.keyAtEnd).toEqual({ sha256: sha(key), createdByApply: true });
      expect(rec1.glpiConfig?.maintenance.enabledAfter).toBe('glpi-10.0.19-db-update');
      expect(rec1.glpiConfig?.maintenance.disabledAt).toBeTruthy();
      expect(rec1.glpiConfig?.maintenance.state).toBe('off');
      expect(mode1).toBe('0');
      expect(fs.readFileSync(path.join(first, 'apply', 'evidence', 'glpi-10.0.19-db-update', 'console-maintenance-enable.log'), 'utf8')).toMatch(/maintenance:enable/);
      const applied = YAML.parse(fs.readFileSync(path.join(first, 'apply', 'run.yaml'), 'utf8'));
      expect(applied.steps.filter((s: { status: string }) => s.status !== 'passed')).toEqual([]);
      const report = fs.readFileSync(path.join(first, 'apply', 'compte-rendu-mise-en-production.md'), 'utf8');
      expect(report).toMatch(/Mode maintenance de GLPI.*activé après l’étape `glpi-10\.0\.19-db-update`, désactivé à la fin.*\*\*désactivé\*\*/);

      // Rollback put the config dir back: the config_db.php apply wrote is gone, the key stays.
      expect(fs.existsSync(configDb)).toBe(false);
      expect(P.record(first).rollback?.glpiConfigDb).toBe('removed');
      expect(sha(key)).toBe(rec1.glpiConfig!.keyAtEnd!.sha256);

      // 2. Production's own config_db.php and the key already there: the file used as it is (copied aside
      // first, put back by rollback), the existing key copied aside before the first GLPI step and kept.
      fs.writeFileSync(configDb, configDbPhp({ ...P.prod.dsn, host: '127.0.0.1', port: P.prod.record.port }, 'glpi', [], true), { mode: 0o600 });
      const configText = fs.readFileSync(configDb, 'utf8');
      const keySum = sha(key);
      const second = P.copyRun('apply-glpi-2');
      // With the functional stage: the read-only scenarios only.
      const r2 = await runCli([...applyArgs(second), '--functional'], { env, timeoutMs: LONG });
      expect(r2.exitCode, r2.stderr).toBe(0);
      const rec2 = P.record(second);
      const back2 = await runCli(rollbackArgs(second), { env });
      expect(back2.exitCode, back2.stderr).toBe(0);
      expect(await P.differencesFromFixture()).toEqual([]);
      expect(rec2.glpiConfig?.configDb).toBe('existing');
      expect(fs.readFileSync(rec2.glpiConfig!.configDbBackup!, 'utf8')).toBe(configText);
      expect(fs.readFileSync(configDb, 'utf8')).toBe(configText);
      expect(P.record(second).rollback?.glpiConfigDb).toBe('restored');
      expect(rec2.glpiConfig?.keyBackups.map((b) => [b.sha256, b.before])).toEqual([[keySum, plan2FirstConsoleStep(second)]]);
      expect(sha(rec2.glpiConfig!.keyBackups[0].backup)).toBe(keySum);
      expect(fs.statSync(rec2.glpiConfig!.keyBackups[0].backup).mode & 0o777).toBe(0o600);
      expect(rec2.glpiConfig?.keyAtEnd).toEqual({ sha256: keySum, createdByApply: false });
      expect(rec2.glpiConfig?.maintenance.state).toBe('off');
      expect(rec2.functional?.error).toBeUndefined();
      const results = readFunctionalResultsFile(rec2.functional!.resultsFile)!;
      const byId = new Map(results.scenarios.map((x) => [x.id, x]));
      expect(byId.get('CT-FON-01')?.status, en(byId.get('CT-FON-01'))).toBe('passed');
      expect(byId.get('CT-FON-02')?.status).toBe('not-run');
      expect(en(byId.get('CT-FON-02'))).toMatch(/not run on production: it logs in/);
      // The read-only scenarios of the built-in book: the login page, and GLPI's requirements check + status page.
      expect(results.scenarios.filter((x) => x.status === 'passed').map((x) => x.id)).toEqual(['CT-FON-01', 'CT-FON-07']);
      const report2 = fs.readFileSync(path.join(second, 'apply', 'compte-rendu-mise-en-production.md'), 'utf8');
      expect(report2).toMatch(/## Contrôles applicatifs sur la production[\s\S]*`CT-FON-01` .*: réussi/);
      expect(report2).not.toMatch(/\$\{NB\}/);
      expect(rec2.final?.structureEqual).toBe(true);
    },
    3_600_000,
  );
});

/** The first step of the applied plan that runs GLPI's console (the key is copied aside before it). */
function plan2FirstConsoleStep(runDir: string): string {
  const plan = YAML.parse(fs.readFileSync(path.join(runDir, 'apply', 'plan.applied.yaml'), 'utf8')) as { steps: Array<{ id: string; runner: { kind: string } }> };
  return plan.steps.find((s) => s.runner.kind === 'glpi-console' || s.runner.kind === 'plugin-install')!.id;
}
