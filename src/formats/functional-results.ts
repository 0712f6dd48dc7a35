/**
 * `RUN_DIR/functional/results.json` (format 1; docs/functional.md): what the functional stage found, written by
 * `functional` (and `rehearse --functional`), read by the dossier. The schema, its types, the one reader and
 * the one writer (atomic). A bad file is a VerificationError naming the path inside it.
 */
import { VerificationError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { message, messageOrPair, savedTexts, twins } from './message.ts';
import { checkFormat, parseDocument, readTextIfPresent, z } from './schema.ts';

export const FUNCTIONAL_RESULTS_FORMAT = 1;

export const appName = z.enum(['glpi', 'ocs']);
export const checkStatus = z.enum(['passed', 'failed', 'not-run']);

/** What cannot be automated: listed in the dossier with empty tester / date / observed-result fields. */
export const manualCase = z.object({ id: z.string(), title: messageOrPair, requirement: z.string(), procedure: messageOrPair, expected: messageOrPair });

/** An assertion's verdict; `detail` is a message (older files' English `detail` and French `detailFr` are read into one). */
const assertionResult = savedTexts(['detail'], z.object({ assertion: z.string(), ok: z.boolean(), detail: message, ...twins('detail') }));

/** A scenario's result; `reason` is a message (older files' `reason` and `reasonFr` are read into one). */
const scenarioResult = savedTexts(
  ['reason'],
  z.object({
    id: z.string(),
    title: messageOrPair,
    requirement: z.string(),
    app: appName,
    expected: messageOrPair.optional(),
    status: checkStatus,
    reason: message.optional(),
    ...twins('reason'),
    commandForUser: z.string().optional(),
    http: z.array(z.object({ url: z.string(), status: z.number().nullable() })),
    phpErrors: z.array(z.string()),
    assertions: z.array(assertionResult),
    screenshot: z.string().optional(),
    durationMs: z.number(),
    values: z.record(z.string(), z.string()).optional(),
  }),
);

export const functionalResultsSchema = z.object({
  format: z.literal(FUNCTIONAL_RESULTS_FORMAT),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  /** Whether the stage could run at all; when not, every scenario is not-run with this reason. */
  environment: z.object({
    php: z.string().optional(),
    chromium: z.string().optional(),
    glpi: z.string().optional(),
    plugin: z.string().optional(),
    ocs: z.string().optional(),
    /** The plugin's OCS server definitions, pointed at the test instance. */
    ocsServers: z.string().optional(),
  }),
  scenarios: z.array(scenarioResult),
  manual: z.array(manualCase),
  sources: z.array(z.string()),
});

export type AppName = z.infer<typeof appName>;
export type CheckStatus = z.infer<typeof checkStatus>;
export type ManualCase = z.infer<typeof manualCase>;
export type AssertionResult = z.infer<typeof assertionResult>;
export type ScenarioResult = z.infer<typeof scenarioResult>;
export type FunctionalResults = z.infer<typeof functionalResultsSchema>;

const invalid = (message: string) => new VerificationError(message, { hint: 'run the functional stage again: glpi-ocs-upgrade functional RUN_DIR' });

/** The one reader: `file`, or undefined when the stage never ran. */
export function readFunctionalResultsFile(file: string): FunctionalResults | undefined {
  const text = readTextIfPresent(file);
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(`results.json: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  checkFormat(doc, 'results.json', FUNCTIONAL_RESULTS_FORMAT, invalid);
  return parseDocument(functionalResultsSchema, doc, 'results.json', invalid);
}

/** The one writer (atomic, pretty-printed JSON). */
export function writeFunctionalResultsFile(file: string, results: FunctionalResults): void {
  writeFileAtomic(file, `${JSON.stringify(results, null, 2)}\n`, { what: `writing ${file}` });
}
