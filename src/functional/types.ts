/**
 * Functional tests of the upgraded application (issue 19): the rehearsed GLPI and OCS console served by
 * PHP's built-in web server and driven by a real headless Chromium, scenario by scenario.
 *
 * Scenarios are data (scenarios/builtin.yaml, extended with `--scenarios FILE`); this file holds the shapes
 * of the book and of the results written to `<runDir>/functional/results.json`.
 */
import type { AppName, ManualCase } from '../formats/functional-results.ts';
import type { Message } from '../i18n/messages.ts';

export type { AppName, AssertionResult, CheckStatus, FunctionalResults, ManualCase, ScenarioResult } from '../formats/functional-results.ts';

/**
 * One step of a scenario, run in order. Strings may hold `{name}` placeholders, replaced by the values
 * that `probe` steps found in the database (e.g. `{computers_id}`), the app's base URL and so on.
 */
export type ScenarioStep =
  /** Opens a path of the scenario's application; its HTTP status is recorded. */
  | { goto: string }
  /** Logs the temporary account in through the application's login form. */
  | { login: AppName }
  /** Reads values from the rehearsed database (a named probe of src/functional/probes.ts). */
  | { probe: string }
  /** Clicks the first element matching a CSS selector (or the text `text=…`, Playwright syntax). */
  | { click: string }
  /** Waits until a selector is visible. */
  | { wait_for: string }
  /** Runs a GLPI console command of the distribution (e.g. glpi:system:check_requirements). */
  | { console: string }
  /** Takes the scenario's screenshot now (otherwise: after the last step). */
  | { screenshot: true };

/** One assertion, evaluated after the steps (in order; every one is evaluated and reported). */
export type ScenarioAssertion =
  /** The HTTP status of the last `goto` (or of the login's landing page). */
  | { status: number }
  /** No PHP error, warning or notice in the server's log (and GLPI's php-errors.log) during the scenario. */
  | { no_php_errors: true }
  /** A CSS selector is present on the page. */
  | { selector: string }
  /** A CSS selector is absent from the page. */
  | { no_selector: string }
  /** The page's visible text contains this text (placeholders replaced). */
  | { text: string }
  /** The page's visible text matches this regular expression (placeholders replaced by their escaped values). */
  | { text_matches: string }
  /** The page's visible text contains the value of a probe variable byte for byte, with no double-encoded sequence in it. */
  | { exact_text: string }
  /** The value of an input (CSS selector) equals the value of a probe variable, byte for byte, with no double-encoded sequence. */
  | { exact_value: { selector: string; equals: string } }
  /** The last `console` step ended with exit code 0. */
  | { console_ok: true };

export interface Scenario {
  /** Stable id, e.g. CT-FON-01. */
  id: string;
  title: Message;
  /** The customer requirement covered (tender reference), shown in the dossier. */
  requirement: string;
  app: AppName;
  steps: ScenarioStep[];
  assert: ScenarioAssertion[];
  /** Why it matters / what is observed, shown in the dossier. */
  expected?: Message;
}

export interface ScenarioBook {
  scenarios: Scenario[];
  manual: ManualCase[];
  /** The files the book was read from. */
  sources: string[];
}
