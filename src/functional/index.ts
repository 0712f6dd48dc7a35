/**
 * The functional stage (issue 19): serve the upgraded GLPI (and the OCS console) from the distributions
 * the rehearsal used, on the test instance, log a temporary account in with a real headless Chromium, run
 * the scenario book, and write `<outDir>/results.json` plus one PNG per scenario.
 *
 * Called after `rehearse()` returns (pipeline, `rehearse --functional`), by `glpi-ocs-upgrade functional`
 * on a kept instance, and later by `apply` against production (with accounts it provides: the stage only
 * creates temporary accounts on a marked test instance).
 *
 * Whatever cannot run (no PHP, no Chromium, no playwright-core, no distribution, a tree without vendor/, no
 * data for a probe) is "not run" with the reason and the exact command to run it — never passed. Servers and
 * the browser are stopped however the stage ends (Ctrl-C included: the signal aborts, and exit hooks kill
 * their process groups).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { connect, type Connection } from '../db/connect.ts';
import type { Dsn } from '../db/dsn.ts';
import { assertWritable } from '../db/interlock.ts';
import { probePhp, type GlpiDistribution, type PluginDistribution } from '../distributions/glpi.ts';
import type { OcsDistribution } from '../distributions/ocs.ts';
import { shellQuote } from '../rehearse/executors/common.ts';
import { InterruptedError, UsageError } from '../errors.ts';
import { readFunctionalResultsFile, writeFunctionalResultsFile } from '../formats/functional-results.ts';
import { loadBook } from './book.ts';
import { createGlpiAccount, createOcsAccount, encryptForGlpi, pointOcsServersAtTestInstance, type TempAccount } from './data.ts';
import { runScenario, type AppHandle } from './engine.ts';
import { glpiEnv, ocsConsoleRoot, serveGlpi, serveOcs, type ServedApp } from './sites.ts';
import { OWNER_ENV, phpErrorLines } from './php-server.ts';
import type { AppName, FunctionalResults, Scenario, ScenarioResult } from './types.ts';
import { msg as message, type Message } from '../i18n/messages.ts';

export * from './types.ts';
export { loadBook, BUILTIN_BOOK } from './book.ts';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const RESULTS_FILE = 'results.json';

export interface DbTarget {
  /** The test instance (password resolved from a trusted source). */
  dsn: Dsn;
  database: string;
}

export interface FunctionalStageOptions {
  glpiDist?: GlpiDistribution;
  pluginDist?: PluginDistribution;
  ocsDist?: OcsDistribution;
  glpiDb?: DbTarget;
  ocsDb?: DbTarget;
  /** The rehearsal's run directory (its private GLPI config dir is derived from it, as for the steps). */
  runDir: string;
  privateDir?: string;
  /** Default: <runDir>/functional. */
  outDir?: string;
  /** Extra scenario books (`--scenarios`). */
  scenarios?: string[];
  /** Run only these scenario ids (the others are left out of the results). */
  only?: string[];
  lang?: 'fr' | 'en';
  php?: string;
  chromium?: string;
  signal?: AbortSignal;
  /** Called as each scenario ends. */
  onScenario?: (r: ScenarioResult) => void;
  /** How to run the stage by hand (for not-run scenarios). */
  commandForUser?: string;
  /**
   * [apply --functional] Against production: only the read-only scenarios run (readOnlyScenario), with
   * production GLPI's config dir used as it is; no temporary account, no OCS server repointed, nothing
   * written; the OCS console is not served (it would need production's password in a copied config file).
   */
  production?: { glpiConfigDir: string };
}

/**
 * A scenario that writes nothing to the database: GLPI pages opened without logging in, probes (SELECTs),
 * GLPI's requirement check. Logging in needs a temporary account (and GLPI records the login); clicks may
 * submit forms.
 */
export function readOnlyScenario(sc: Scenario): boolean {
  return (
    sc.app === 'glpi' && sc.steps.every((st) => 'goto' in st || 'probe' in st || 'wait_for' in st || 'screenshot' in st || ('console' in st && /^(glpi:)?system:check_requirements$/.test(st.console)))
  );
}

function notRun(sc: Scenario, reason: Message, command: string | undefined): ScenarioResult {
  return {
    id: sc.id,
    title: sc.title,
    requirement: sc.requirement,
    app: sc.app,
    expected: sc.expected,
    status: 'not-run',
    reason,
    commandForUser: command,
    http: [],
    phpErrors: [],
    assertions: [],
    durationMs: 0,
  };
}

function exists(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The command that runs the stage on a kept rehearsal instance (no password in it). */
export function functionalCommand(o: Pick<FunctionalStageOptions, 'runDir' | 'glpiDist' | 'pluginDist' | 'ocsDist' | 'php' | 'chromium' | 'scenarios' | 'only'>): string {
  const parts = ['glpi-ocs-upgrade', 'functional', o.runDir];
  parts.push('--glpi-dist', o.glpiDist?.dir ?? '/path/to/glpi');
  if (o.pluginDist) parts.push('--plugin-dist', o.pluginDist.dir);
  parts.push('--ocs-dist', o.ocsDist?.dir ?? 'debian');
  if (o.php) parts.push('--php', o.php);
  parts.push('--chromium', o.chromium && exists(o.chromium) ? o.chromium : DEFAULT_CHROMIUM);
  for (const s of o.scenarios ?? []) parts.push('--scenarios', s);
  for (const id of o.only ?? []) parts.push('--only', id);
  return parts.map((p) => (/^[\w@%+=:,./-]+$/.test(p) ? p : shellQuote(p))).join(' ');
}

/** Why scenarios cannot run here. */
type Blocker = Message;

/** Why an app's scenarios cannot run here, or undefined. */
function appBlocker(app: AppName, o: FunctionalStageOptions): Blocker | undefined {
  if (app === 'glpi') {
    if (!o.glpiDist) return message('functional.no-glpi-dist', {});
    if (!o.glpiDist.hasVendor) return message('functional.glpi-no-vendor', { dir: o.glpiDist.dir });
    if (!fs.existsSync(path.join(o.glpiDist.dir, 'public', 'index.php'))) return message('functional.glpi-no-public', { dir: o.glpiDist.dir });
    if (!o.glpiDb) return message('functional.no-glpi-db', {});
    return undefined;
  }
  if (!o.ocsDist) return message('functional.no-ocs-dist', {});
  const c = ocsConsoleRoot(o.ocsDist);
  if (!c.root) return message('functional.ocs-not-servable', { problem: String(c.problem) });
  if (!o.ocsDb) return message('functional.no-ocs-db', {});
  return undefined;
}

function logMarks(app: ServedApp): { server: number; logs: Map<string, number> } {
  const logs = new Map<string, number>();
  for (const f of app.appLogs) logs.set(f, fs.existsSync(f) ? fs.statSync(f).size : 0);
  return { server: app.server.mark(), logs };
}

function errorsAfter(app: ServedApp, m: { server: number; logs: Map<string, number> }): string[] {
  const out = app.server.errorsSince(m.server);
  for (const [f, size] of m.logs) {
    if (!fs.existsSync(f)) continue;
    const text = fs.readFileSync(f).subarray(size).toString('utf8');
    out.push(...phpErrorLines(text).map((l) => `${path.basename(f)}: ${l}`));
    // GLPI's php-errors.log lines start with a date and "glpiphplog.<LEVEL>".
    for (const l of text.split('\n')) {
      // GLPI's own requirement check (glpi:system:check_requirements) writes "Test logger" on purpose.
      if (/glpiphplog\.WARNING: Test logger\s*$/.test(l)) continue;
      if (/glpiphplog\.(WARNING|ERROR|CRITICAL|NOTICE)/.test(l) && !out.some((x) => x.endsWith(l.trim()))) out.push(`${path.basename(f)}: ${l.trim()}`);
    }
  }
  return out;
}

async function loadPlaywright(): Promise<{ pw: typeof import('playwright-core') } | { blocker: Blocker }> {
  try {
    return { pw: await import('playwright-core') };
  } catch {
    return { blocker: message('functional.no-playwright', {}) };
  }
}

export async function runFunctionalStage(o: FunctionalStageOptions): Promise<FunctionalResults> {
  const started = new Date();
  const outDir = o.outDir ?? path.join(o.runDir, 'functional');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const book = loadBook(o.scenarios ?? []);
  if (o.only?.length) {
    const unknown = o.only.filter((id) => !book.scenarios.some((s) => s.id === id));
    if (unknown.length) throw new UsageError(`unknown scenario id(s): ${unknown.join(', ')}`, { hint: `known: ${book.scenarios.map((s) => s.id).join(', ')}` });
    book.scenarios = book.scenarios.filter((s) => o.only!.includes(s.id));
  }
  const php = o.php ?? 'php';
  const chromiumPath = o.chromium ?? DEFAULT_CHROMIUM;
  const command = o.commandForUser ?? functionalCommand(o);
  const results = new Map<string, ScenarioResult>();
  const environment: FunctionalResults['environment'] = {
    glpi: o.glpiDist ? `${o.glpiDist.version} (${o.glpiDist.dir})` : undefined,
    plugin: o.pluginDist ? `${o.pluginDist.version} (${o.pluginDist.dir})` : undefined,
    ocs: o.ocsDist ? `${o.ocsDist.release ?? '?'} (${o.ocsDist.dir})` : undefined,
  };

  // 1. What keeps everything, or one application, from running.
  let global: Blocker | undefined;
  try {
    environment.php = (await probePhp(php)).version;
  } catch {
    global = message('functional.php-cannot-run', { php });
  }
  if (!global && !exists(chromiumPath)) global = message('functional.no-chromium', { path: chromiumPath });
  const loaded = global ? undefined : await loadPlaywright();
  if (loaded && 'blocker' in loaded) global = loaded.blocker;
  const pw = loaded && 'pw' in loaded ? loaded.pw : undefined;
  const blockers: Partial<Record<AppName, Blocker>> = {};
  for (const app of ['glpi', 'ocs'] as const) blockers[app] = global ?? appBlocker(app, o);
  for (const sc of book.scenarios) {
    const b = blockers[sc.app];
    if (b) results.set(sc.id, notRun(sc, b, command));
    else if (o.production && !readOnlyScenario(sc)) results.set(sc.id, notRun(sc, message(sc.app === 'ocs' ? 'functional.production-ocs' : 'functional.production-writes', {}), command));
  }
  const runnable = book.scenarios.filter((s) => !results.has(s.id));

  const cleanups: Array<() => Promise<void>> = [];
  const served: Partial<Record<AppName, ServedApp>> = {};
  /** GLPI's private config directory (its glpicrypt.key encrypts the plugin's OCS password). */
  let glpiConfigDir: string | undefined;
  const accounts: Partial<Record<AppName, TempAccount>> = {};
  let browser: Browser | undefined;
  let conn: Connection | undefined;
  // Ctrl-C: close the browser at once (pending page operations fail), the servers die with the signal.
  const onAbort = () => void browser?.close().catch(() => undefined);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (runnable.length && pw) {
      const target = (o.glpiDb ?? o.ocsDb)!;
      conn = await connect(target.dsn, { extra: { multipleStatements: false, charset: 'utf8mb4' }, promptOnDenied: false });
      // Temporary accounts and the OCS server definition are written: only on a marked test instance.
      if (o.production) await conn.query('SET SESSION TRANSACTION READ ONLY');
      else await assertWritable(conn, target.dsn, 'create the temporary accounts of the functional tests');
      const apps = new Set(runnable.map((s) => s.app));
      const startFailed = (app: AppName, err: unknown) => {
        const msg = (err as Error).message.split('\n')[0];
        for (const sc of runnable.filter((s) => s.app === app)) {
          results.set(sc.id, notRun(sc, message('functional.cannot-serve', { app, error: msg }), command));
        }
      };
      if (apps.has('glpi')) {
        try {
          const g = await serveGlpi({
            dist: o.glpiDist!,
            php,
            dsn: o.glpiDb!.dsn,
            database: o.glpiDb!.database,
            runDir: o.runDir,
            privateDir: o.privateDir,
            logDir: outDir,
            signal: o.signal,
            glpiConfigDir: o.production?.glpiConfigDir,
          });
          served.glpi = g;
          glpiConfigDir = g.dirs.config;
          cleanups.push(() => g.stop());
          if (!o.production) {
            accounts.glpi = await createGlpiAccount(conn, o.glpiDb!.database, php);
            cleanups.push(() => accounts.glpi!.remove());
          }
        } catch (err) {
          if (o.signal?.aborted) throw err;
          startFailed('glpi', err);
        }
      }
      if (apps.has('ocs')) {
        try {
          const privateOcs = path.join(o.privateDir ?? path.join(os.tmpdir(), 'glpi-ocs-upgrade-private'), `ocs-functional-${process.pid}`);
          const s = await serveOcs({ dist: o.ocsDist!, php, dsn: o.ocsDb!.dsn, database: o.ocsDb!.database, privateDir: privateOcs, logDir: outDir, signal: o.signal });
          served.ocs = s;
          cleanups.push(async () => {
            await s.stop();
            fs.rmSync(privateOcs, { recursive: true, force: true });
          });
          accounts.ocs = await createOcsAccount(conn, o.ocsDb!.database);
          cleanups.push(() => accounts.ocs!.remove());
        } catch (err) {
          if (o.signal?.aborted) throw err;
          startFailed('ocs', err);
        }
      }
      // The plugin's OCS server definitions name production's OCS server: point them at the rehearsed one.
      let repointed: string | undefined;
      if (served.glpi && o.glpiDb && o.ocsDb && !o.production) {
        const d = o.ocsDb.dsn;
        const p = await pointOcsServersAtTestInstance(conn, o.glpiDb.database, {
          host: d.socket ? 'localhost' : d.host,
          port: d.port,
          user: d.user,
          hasPassword: Boolean(d.password),
          // The plugin reads its OCS password encrypted with GLPI's key (embedded servers have a password).
          encryptedPassword: d.password && glpiConfigDir ? await encryptForGlpi(php, path.join(glpiConfigDir, 'glpicrypt.key'), d.password) : undefined,
          database: o.ocsDb.database,
        });
        repointed = p.skipped ?? (p.changed.join('; ') || 'no OCS server defined');
        environment.ocsServers = repointed;
      }
      const todo = runnable.filter((s) => !results.has(s.id));
      if (todo.length) {
        try {
          browser = await pw.chromium.launch({
            executablePath: chromiumPath,
            args: CHROMIUM_ARGS,
            handleSIGINT: false,
            handleSIGTERM: false,
            handleSIGHUP: false,
            timeout: 30_000,
            env: { ...process.env, [OWNER_ENV]: String(process.pid) },
          });
          environment.chromium = browser.version();
        } catch (err) {
          const msg = (err as Error).message.split('\n')[0];
          for (const sc of todo) results.set(sc.id, notRun(sc, message('functional.no-chromium-start', { error: msg }), command));
        }
      }
      if (browser) {
        const handles: Partial<Record<AppName, AppHandle>> = {};
        for (const app of ['glpi', 'ocs'] as const) {
          const s = served[app];
          const acc = accounts[app];
          if (!s || (!acc && !o.production)) continue;
          handles[app] = {
            baseUrl: s.server.url,
            account: acc,
            mark: () => logMarks(s),
            errorsSince: (m) => errorsAfter(s, m as ReturnType<typeof logMarks>),
            console:
              app === 'glpi'
                ? {
                    php,
                    cwd: o.glpiDist!.dir,
                    env: glpiEnv((s as ServedApp & { dirs: Parameters<typeof glpiEnv>[0] }).dirs, o.glpiDist!),
                    shown: (c) => `cd ${o.glpiDist!.dir} && ${php} bin/console ${c}`,
                  }
                : undefined,
          };
        }
        const glpiServed = served.glpi as (ServedApp & { dirs: { marketplace: string } }) | undefined;
        const probe = {
          conn,
          glpiDb: o.glpiDb?.database,
          ocsDb: o.ocsDb?.database,
          ocsHost: o.ocsDb ? { host: o.ocsDb.dsn.socket ? 'localhost' : o.ocsDb.dsn.host, port: o.ocsDb.dsn.port, user: o.ocsDb.dsn.user, hasPassword: Boolean(o.ocsDb.dsn.password) } : undefined,
          pluginWeb: glpiServed ? `${glpiServed.dirs.marketplace}/ocsinventoryng` : undefined,
          repointed,
        };
        const sessions = {};
        for (const sc of book.scenarios) {
          if (results.has(sc.id)) continue;
          if (o.signal?.aborted) throw o.signal.reason;
          const r = await runScenario(sc, { browser, apps: handles, probe, outDir, signal: o.signal, sessions });
          if (r.status === 'not-run') r.commandForUser = command;
          results.set(sc.id, r);
          o.onScenario?.(r);
        }
      }
    }
  } catch (err) {
    if (o.signal?.aborted) throw new InterruptedError('functional tests interrupted: the browser and the servers were stopped, the temporary accounts deleted');
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await browser?.close().catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await conn?.end().catch(() => undefined);
  }
  const finished = new Date();
  const out: FunctionalResults = {
    format: 1,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    environment,
    scenarios: book.scenarios.map((s) => results.get(s.id)!),
    manual: book.manual,
    sources: book.sources,
  };
  writeFunctionalResultsFile(path.join(outDir, RESULTS_FILE), out);
  return out;
}

/** Reads `<runDir>/functional/results.json` (undefined when the stage never ran). */
export function readFunctionalResults(runDir: string): FunctionalResults | undefined {
  return readFunctionalResultsFile(path.join(runDir, 'functional', RESULTS_FILE));
}
