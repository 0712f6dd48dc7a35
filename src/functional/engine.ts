/**
 * Runs one scenario in a fresh browser context: its steps in order, then every assertion, then a
 * screenshot (PNG). A step that finds no data (NoData) makes the scenario "not run"; anything else that
 * goes wrong in a step makes it "failed" with the step quoted.
 */
import path from 'node:path';
import { execa } from 'execa';
import type { Browser, BrowserContext, Cookie, Page, Response } from 'playwright-core';
import type { AssertionResult, Scenario, ScenarioAssertion, ScenarioResult, ScenarioStep } from './types.ts';
import { NoData, PROBES, type ProbeContext, type TempAccount } from './data.ts';
import { msg, type Message } from '../i18n/messages.ts';

export interface AppHandle {
  baseUrl: string;
  /** Marks of the server log and the app's own logs, and the PHP errors written after them. */
  mark(): unknown;
  errorsSince(mark: unknown): string[];
  /** The temporary account (none on production, where no scenario logs in). */
  account?: TempAccount;
  /** GLPI console (the GLPI app only): runs `php bin/console <cmd>` with the app's environment. */
  console?: { php: string; cwd: string; env: Record<string, string>; shown: (cmd: string) => string };
}

export interface EngineContext {
  browser: Browser;
  apps: Partial<Record<'glpi' | 'ocs', AppHandle>>;
  probe: ProbeContext;
  /** Absolute directory of the PNGs; results name them relative to `outDir`. */
  outDir: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Session cookies of a login that succeeded, per application: later scenarios start logged in (the
   * login itself is proven once, by the first scenario that logs in), which saves a login per scenario.
   */
  sessions?: Partial<Record<'glpi' | 'ocs', Cookie[]>>;
}

/** How long a page may keep loading things after its load event (tabs, AJAX) before assertions run. */
const IDLE_MS = 10_000;

const DOUBLE_ENCODED =
  /[\u00C2-\u00C3\u00C5\u00E2][\u0080-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6\u02DC\u2013\u2014\u2018-\u201E\u2020-\u2022\u2026\u2030\u2039\u203A\u20AC\u2122]+/g;

/** Sequences that look like UTF-8 read as Windows-1252 (e.g. "Ã©" for "é", "â€”" for "—"). */
export function doubleEncodedSequences(text: string): string[] {
  return [...new Set(text.match(DOUBLE_ENCODED) ?? [])];
}

export function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => {
    if (!(k in vars)) throw new Error(`unknown variable {${k}} (no probe set it)`);
    return vars[k];
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function describeStep(s: ScenarioStep): string {
  const [k, v] = Object.entries(s)[0];
  return v === true ? k : `${k}: ${String(v)}`;
}

export function describeAssertion(a: ScenarioAssertion): string {
  const [k, v] = Object.entries(a)[0];
  if (k === 'exact_value') {
    const o = v as { selector: string; equals: string };
    return `exact_value: ${o.selector} = ${o.equals}`;
  }
  return v === true ? k : `${k}: ${String(v)}`;
}

/** Where the first difference between what the page shows and the database holds is, with both sides around it. */
export function firstDifference(shown: string, expected: string): { at: number; page: string; database: string } {
  let i = 0;
  while (i < shown.length && i < expected.length && shown[i] === expected[i]) i++;
  const from = Math.max(0, i - 10);
  return { at: i + 1, page: shown.slice(from, i + 12), database: expected.slice(from, i + 12) };
}

interface RunState {
  vars: Record<string, string>;
  http: Array<{ url: string; status: number | null }>;
  lastStatus: number | null;
  consoleExit?: number;
  consoleOutput?: string;
  screenshotTaken: boolean;
}

async function record(state: RunState, resp: Response | null, url: string): Promise<void> {
  const status = resp ? resp.status() : null;
  state.http.push({ url, status });
  state.lastStatus = status;
}

async function login(page: Page, app: 'glpi' | 'ocs', h: AppHandle, state: RunState, timeout: number, sessions?: EngineContext['sessions']): Promise<void> {
  const saved = sessions?.[app];
  if (saved) {
    // The next page opened shows whether the session still holds (a login form there fails the assertions).
    await page.context().addCookies(saved);
    return;
  }
  await freshLogin(page, app, h, state, timeout);
  if (sessions) sessions[app] = await page.context().cookies();
}

async function freshLogin(page: Page, app: 'glpi' | 'ocs', h: AppHandle, state: RunState, timeout: number): Promise<void> {
  const account = h.account;
  if (!account) throw new Error('no temporary account (production): this scenario cannot log in');
  const url = app === 'glpi' ? `${h.baseUrl}/index.php?noAUTO=1` : `${h.baseUrl}/index.php`;
  await record(state, await page.goto(url, { timeout }), url);
  if (app === 'glpi') {
    await page.fill('#login_name', account.login, { timeout });
    await page.fill('#login_password', account.password, { timeout });
    const [resp] = await Promise.all([page.waitForNavigation({ timeout, waitUntil: 'domcontentloaded' }), page.click('button[name="submit"]', { timeout })]);
    await record(state, resp, page.url());
    if (await page.$('#login_name')) throw new Error('the login form is shown again after submitting the temporary account');
  } else {
    await page.fill('#LOGIN', account.login, { timeout });
    await page.fill('#PASSWD', account.password, { timeout });
    const [resp] = await Promise.all([page.waitForNavigation({ timeout, waitUntil: 'domcontentloaded' }), page.click('#btn-logon', { timeout })]);
    await record(state, resp, page.url());
    if (await page.$('#PASSWD')) throw new Error('the OCS login form is shown again after submitting the temporary account');
  }
}

async function runStep(step: ScenarioStep, sc: Scenario, ctx: EngineContext, page: Page, state: RunState): Promise<void> {
  const h = ctx.apps[sc.app]!;
  const timeout = ctx.timeoutMs ?? 90_000;
  if ('probe' in step) {
    const probe = PROBES[step.probe];
    if (!probe) throw new Error(`unknown probe "${step.probe}" (known: ${Object.keys(PROBES).join(', ')})`);
    Object.assign(state.vars, await probe(ctx.probe));
  } else if ('login' in step) {
    await login(page, step.login, h, state, timeout, ctx.sessions);
  } else if ('goto' in step) {
    const target = fill(step.goto, state.vars);
    const url = /^https?:/.test(target) ? target : `${h.baseUrl}${target.startsWith('/') ? '' : '/'}${target}`;
    await record(state, await page.goto(url, { timeout, waitUntil: 'load' }), url);
    await page.waitForLoadState('networkidle', { timeout: IDLE_MS }).catch(() => undefined);
  } else if ('click' in step) {
    await page.click(fill(step.click, state.vars), { timeout });
    await page.waitForLoadState('networkidle', { timeout: IDLE_MS }).catch(() => undefined);
  } else if ('wait_for' in step) {
    await page.waitForSelector(fill(step.wait_for, state.vars), { timeout, state: 'visible' });
  } else if ('console' in step) {
    if (!h.console) throw new Error('console: only the GLPI application has a console');
    const args = fill(step.console, state.vars).split(/\s+/).filter(Boolean);
    const r = await execa(h.console.php, ['bin/console', ...args, '-n', '--no-ansi', '--lang=en_GB'], {
      cwd: h.console.cwd,
      env: h.console.env,
      reject: false,
      all: true,
      stdin: 'ignore',
      cancelSignal: ctx.signal,
      timeout: 120_000,
    });
    state.consoleExit = typeof r.exitCode === 'number' ? r.exitCode : -1;
    state.consoleOutput = String(r.all ?? '');
  } else if ('screenshot' in step) {
    state.screenshotTaken = true;
  }
}

async function visibleText(page: Page): Promise<string> {
  return page.evaluate(() => (document.body ? document.body.textContent : ''));
}

async function check(a: ScenarioAssertion, page: Page, state: RunState, phpErrors: string[]): Promise<AssertionResult> {
  const assertion = describeAssertion(a);
  const res = (ok: boolean, detail: Message): AssertionResult => ({ assertion, ok, detail });
  if ('status' in a) return res(state.lastStatus === a.status, msg('functional.http', { status: state.lastStatus }));
  if ('no_php_errors' in a) {
    return phpErrors.length ? res(false, msg('functional.php-errors', { count: phpErrors.length, first: phpErrors[0] })) : res(true, msg('functional.none', {}));
  }
  if ('console_ok' in a) {
    if (state.consoleExit === undefined) return res(false, msg('functional.no-console-step', {}));
    const last = (state.consoleOutput ?? '').trim().split('\n').filter(Boolean).slice(-1)[0]?.trim() ?? '';
    return res(state.consoleExit === 0, msg('functional.console-exit', { exitCode: state.consoleExit, last }));
  }
  if ('selector' in a) {
    const found = (await page.$(fill(a.selector, state.vars))) !== null;
    return res(found, msg('functional.element', { found }));
  }
  if ('no_selector' in a) {
    const found = (await page.$(fill(a.no_selector, state.vars))) !== null;
    return res(!found, msg('functional.element', { found }));
  }
  const text = await visibleText(page);
  if ('text' in a) {
    const want = fill(a.text, state.vars);
    return text.includes(want) ? res(true, msg('functional.found', { text: want })) : res(false, msg('functional.not-on-page', { text: want }));
  }
  if ('text_matches' in a) {
    const source = a.text_matches.replace(/\{(\w+)\}/g, (_m, k: string) => escapeRegExp(fill(`{${k}}`, state.vars)));
    const m = new RegExp(source).exec(text);
    return m ? res(true, msg('functional.found', { text: m[0] })) : res(false, msg('functional.no-match', { source }));
  }
  if ('exact_text' in a) {
    const want = fill(a.exact_text, state.vars);
    return res(...exactVerdict(text.includes(want) ? want : nearest(text, want), want, text.includes(want)));
  }
  if ('exact_value' in a) {
    const want = fill(a.exact_value.equals, state.vars);
    const el = await page.$(fill(a.exact_value.selector, state.vars));
    if (!el) return res(false, msg('functional.selector-absent', { selector: a.exact_value.selector }));
    const shown = await el.inputValue().catch(async () => ((await el.textContent()) ?? '').trim());
    return res(...exactVerdict(shown, want, shown === want));
  }
  return res(false, msg('functional.unknown-assertion', {}));
}

/** The part of `text` that best lines up with `want` (same first word), for quoting a mismatch. */
function nearest(text: string, want: string): string {
  const head = want.split(/\s+/)[0] ?? '';
  const i = head ? text.indexOf(head) : -1;
  return i >= 0 ? text.slice(i, i + want.length + 12).split('\n')[0] : '';
}

function exactVerdict(shown: string, want: string, equal: boolean): [boolean, Message] {
  const bad = doubleEncodedSequences(shown);
  if (bad.length) return [false, msg('functional.double-encoded', { bad, shown, equal })];
  if (!equal) return shown ? [false, msg('functional.differs', firstDifference(shown, want))] : [false, msg('functional.not-on-page', { text: want })];
  return [true, msg('functional.identical', { bytes: Buffer.byteLength(want), text: want })];
}

export async function runScenario(sc: Scenario, ctx: EngineContext): Promise<ScenarioResult> {
  const started = Date.now();
  const h = ctx.apps[sc.app]!;
  const state: RunState = { vars: { base_url: h.baseUrl }, http: [], lastStatus: null, screenshotTaken: false };
  const base: ScenarioResult = {
    id: sc.id,
    title: sc.title,
    requirement: sc.requirement,
    app: sc.app,
    expected: sc.expected,
    status: 'failed',
    http: state.http,
    phpErrors: [],
    assertions: [],
    durationMs: 0,
  };
  const mark = h.mark();
  let context: BrowserContext | undefined;
  const shot = `${sc.id}.png`;
  try {
    context = await ctx.browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-GB', ignoreHTTPSErrors: true });
    const page = await context.newPage();
    let current = '';
    try {
      for (const step of sc.steps) {
        if (ctx.signal?.aborted) throw ctx.signal.reason;
        current = describeStep(step);
        await runStep(step, sc, ctx, page, state);
        if (state.screenshotTaken && 'screenshot' in step) await page.screenshot({ path: path.join(ctx.outDir, shot), fullPage: true });
      }
    } catch (err) {
      if (err instanceof NoData) {
        return { ...base, status: 'not-run', reason: msg('functional.no-data', { error: err.message }), durationMs: Date.now() - started };
      }
      if (ctx.signal?.aborted) throw err;
      await page.screenshot({ path: path.join(ctx.outDir, shot), fullPage: true }).catch(() => undefined);
      const phpErrors = h.errorsSince(mark);
      const error = (err as Error).message.split('\n')[0];
      return {
        ...base,
        status: 'failed',
        reason: msg('functional.step-failed', { step: current, error }),
        phpErrors,
        screenshot: shot,
        values: publicValues(state.vars),
        durationMs: Date.now() - started,
      };
    }
    await new Promise((r) => setTimeout(r, 150)); // let the server flush its log lines
    const phpErrors = h.errorsSince(mark);
    const assertions: AssertionResult[] = [];
    for (const a of sc.assert) {
      assertions.push(
        await check(a, page, state, phpErrors).catch((e: unknown) => {
          const error = (e as Error).message.split('\n')[0];
          return { assertion: describeAssertion(a), ok: false, detail: msg('functional.assertion-error', { error }) };
        }),
      );
    }
    if (!state.screenshotTaken) await page.screenshot({ path: path.join(ctx.outDir, shot), fullPage: true });
    const failedA = assertions.filter((x) => !x.ok);
    return {
      ...base,
      status: failedA.length ? 'failed' : 'passed',
      reason: failedA.length ? msg('functional.assertions-failed', { failed: failedA.map((x) => ({ assertion: x.assertion, detail: x.detail })) }) : undefined,
      phpErrors,
      assertions,
      screenshot: shot,
      values: publicValues(state.vars),
      durationMs: Date.now() - started,
    };
  } finally {
    await context?.close().catch(() => undefined);
  }
}

function publicValues(vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) if (!/pass/i.test(k)) out[k] = v;
  return out;
}
