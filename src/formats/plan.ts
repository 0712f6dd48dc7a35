/**
 * `plan.yaml` (format 1; docs/formats.md): the schema, its types, the one reader and the one writer. Produced
 * by `plan` (and `apply`), consumed by `rehearse`, `functional`, `apply`, `dossier` and `dat`.
 *
 * Texts for people (`title`, `explanation`, `notes`, `rowsDeleted[].why`) are messages (src/i18n): an id and
 * its parameters, rendered in English or French where shown. Plans written before messages existed (an
 * English string with an optional French twin `titleFr`, `explanationFr`, `notesFr`, `whyFr`) are read into
 * literal messages first: `savedTexts` (message.ts) for the steps' texts, `savedNotes` below for the list of notes.
 *
 * Errors: missing file → NotFoundError (4), not a plan / broken field → VerificationError (5) naming the file
 * and the path inside it, a newer format → UnsupportedError (11).
 */
import path from 'node:path';
import { NotFoundError, UnsupportedError, VerificationError } from '../errors.ts';
import { fromSaved } from '../i18n/saved.ts';
import { literal } from '../i18n/messages.ts';
import { message, savedTexts, twins } from './message.ts';
import { checkFormat, integer, isMapping, parseDocument, parseYamlText, patterned, readText, writeYamlAtomic, yamlText, z } from './schema.ts';

export const PLAN_FORMAT = 1;

const strings = z.array(z.string());
const product = z.enum(['glpi', 'ocs', 'connector']);

const expectedEffects = z.strictObject({
  tablesCreated: strings.optional(),
  tablesDropped: strings.optional(),
  tablesRenamed: z.array(z.strictObject({ from: z.string(), to: z.string() })).optional(),
  /** Rows deleted on purpose by the step, so row-count checks can explain them. */
  rowsDeleted: z.array(savedTexts(['why'], z.strictObject({ table: z.string(), why: message, ...twins('why') }))).optional(),
  /** Tables the step may change; every other table's checksum must be unchanged. */
  tablesTouched: z.union([z.literal('all'), strings], { error: (iss) => `expected a list of tables or "all", got ${JSON.stringify(iss.input)}` }).optional(),
});

/** What executes a step; each kind has one executor in src/rehearse/executors. */
const stepRunner = z.discriminatedUnion('kind', [
  /** The OCS 2.2 `ocsbase.sql` bridge to GUI_VERSION 7006 (or the tool's equivalent). */
  z.strictObject({ kind: z.literal('ocs-bridge'), toGuiVersion: z.literal(7006) }),
  /** OCS `files/update/NNNN.sql`, one file, statements split like the official updater, errors classified. */
  z.strictObject({ kind: z.literal('ocs-update-file'), guiVersion: integer().min(1), file: z.string() }),
  /** Schema changes the official OCS updater does in PHP rather than SQL, replicated by the tool. */
  z.strictObject({ kind: z.literal('ocs-php-change'), guiVersion: integer().min(1), change: z.string() }),
  /**
   * `php bin/console <command>` of a GLPI release. `entry` (absent = bin/console) names the older CLI updaters
   * instead: `php scripts/cliupdate.php` (9.2.2–9.3) or `php tools/cliupdate.php` (≤ 9.1); `command` is then
   * empty and `args` are the script's.
   */
  z.strictObject({
    kind: z.literal('glpi-console'),
    release: z.string(),
    command: z.string(),
    args: strings,
    entry: z.enum(['bin/console', 'scripts/cliupdate.php', 'tools/cliupdate.php']).optional(),
  }),
  /** Install + activate the ocsinventoryng plugin release through GLPI's console. */
  z.strictObject({ kind: z.literal('plugin-install'), pluginVersion: z.string(), glpiRelease: z.string() }),
  /** One of the project's corrective migrations (migrations/corrective/<id>.yaml). */
  z.strictObject({ kind: z.literal('corrective-migration'), migration: z.string() }),
]);

const stepRequirements = z.strictObject({
  /** semver range of PHP, e.g. ">=7.4.0 <8.5.0". */
  php: z.string().optional(),
  /** Minimum server versions. */
  mariadb: z.string().optional(),
  mysql: z.string().optional(),
  /** Product distribution the step needs (`--glpi-dist`, `--ocs-dist`, `--plugin-dist`). */
  distribution: z.strictObject({ product, version: z.string() }).optional(),
});

const planStep = savedTexts(
  ['title', 'explanation'],
  z.strictObject({
    /** Stable id, e.g. "ocs-7037", "glpi-10.0.22-db-update", "fix-glpi-slalevels-dedup". */
    id: patterned(/^[A-Za-z0-9._-]+$/, 'a step id like "ocs-7037"'),
    product,
    /** Which database the step writes to. */
    database: z.enum(['glpi', 'ocs']),
    /** One line for people (a message). */
    title: message,
    runner: stepRunner,
    /** Version before and after, in the product's own terms ("0.83.8" → "10.0.22"; "7036" → "7037"). */
    from: z.string(),
    to: z.string(),
    requires: stepRequirements,
    /** Corrective migrations (ids) that must have run before this step. */
    before: strings,
    expected: expectedEffects,
    /** Audit finding ids that matter for this step. */
    hazards: strings,
    /** Why this step is here (a message, shown by `plan --explain` and in the dossier). */
    explanation: message.default(() => literal('', '')),
    /** What a sysadmin runs by hand for this step, in order (no password ever; <placeholders> in angle brackets). */
    shell: strings.optional(),
    ...twins('title', 'explanation'),
  }),
);

/**
 * An older plan's notes: English strings with, in `notesFr`, their French twins one for one (parsePlan refuses
 * lists of different lengths first). Both become literal messages; a French twin that is not a string is ignored.
 */
function savedNotes<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => {
    if (!isMapping(v) || !Array.isArray(v.notes)) return v;
    const { notesFr, ...o } = v;
    const fr = Array.isArray(notesFr) && notesFr.length === v.notes.length ? notesFr : undefined;
    return { ...o, notes: v.notes.map((n, i) => fromSaved(n, fr?.[i])) };
  }, schema);
}

/** Why an older plan's `notesFr` cannot be read with its `notes`, if it cannot. */
function notesTwinProblem(doc: { [key: string]: unknown }): string | undefined {
  const { notes, notesFr } = doc;
  if (!Array.isArray(notes) || !Array.isArray(notesFr) || notesFr.length === notes.length) return undefined;
  return `notesFr has ${notesFr.length} entries, notes has ${notes.length} (they go one for one)`;
}

export const planSchema = savedNotes(
  z.strictObject({
    format: z.literal(PLAN_FORMAT),
    tool: z.strictObject({ name: z.literal('glpi-ocs-upgrade'), version: z.string() }),
    createdAt: z.string(),
    /** The data the plan was made for: rehearse refuses a plan made for another snapshot. */
    source: z.strictObject({
      snapshotId: z.string().optional(),
      glpi: z.strictObject({ version: z.string(), connector: z.string() }).optional(),
      ocs: z.strictObject({ guiVersion: integer(), releases: strings }).optional(),
    }),
    targets: z.strictObject({ glpi: z.string().optional(), ocs: z.string().optional(), connector: z.enum(['plugin', 'native', 'none']) }),
    steps: z.array(planStep),
    /** Choices the planner made and why (messages). */
    notes: z.array(message),
    /** Text of every hazard id used by the steps (id → English sentence). */
    hazards: z.record(z.string(), z.string()).optional(),
  }),
);

export type Product = z.infer<typeof product>;
export type StepRunner = z.infer<typeof stepRunner>;
export type StepRequirements = z.infer<typeof stepRequirements>;
export type ExpectedEffects = z.infer<typeof expectedEffects>;
export type PlanStep = z.infer<typeof planStep>;
export type PlanFile = z.infer<typeof planSchema>;

/** Corrective migration ids (also checked by the plan reader: never a path). */
export function isMigrationId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) && !id.includes('..');
}

const invalid = (message: string) =>
  new VerificationError(message, { hint: 'the file is not in the documented format (docs/formats.md); make the plan again with: glpi-ocs-upgrade plan SNAPSHOT_DIR -o plan.yaml' });
const newer = (message: string) => new UnsupportedError(message, { hint: 'upgrade glpi-ocs-upgrade, or make the plan again with this version' });

/**
 * Checks a parsed document is a plan (schema, then what a schema cannot say: notesFr one for one with notes,
 * unique step ids, corrective migrations named by id). With `knownMigrations` (the ids of
 * migrations/corrective/, asked for only when a step lists `before:`), also that the plan can run with this
 * tool's migrations: the stages that run a plan give it; the documents, which read a finished run's plan
 * whatever migrations this version ships, do not.
 */
export function parsePlan(doc: unknown, where: string, knownMigrations?: () => Set<string>): PlanFile {
  checkFormat(doc, where, PLAN_FORMAT, invalid, newer);
  // Texts are messages; an older plan's English strings and French twins become literal messages (in the schema).
  const notesProblem = isMapping(doc) ? notesTwinProblem(doc) : undefined;
  if (notesProblem) throw invalid(`${where} is not a valid plan: ${notesProblem}`);
  const plan = parseDocument(planSchema, doc, where, invalid);
  const ids = new Set<string>();
  for (const s of plan.steps) {
    if (ids.has(s.id)) throw invalid(`${where} is not a valid plan: step id ${s.id} appears twice`);
    ids.add(s.id);
  }
  // Corrective migrations are named by id, never by path: refuse anything that could reach outside
  // migrations/corrective/ now, not when the step runs.
  const inPlan = new Set<string>();
  for (const s of plan.steps) {
    if (s.runner.kind !== 'corrective-migration') continue;
    if (!isMigrationId(s.runner.migration)) {
      throw invalid(`${where} is not a valid plan: step ${s.id}: runner.migration "${s.runner.migration}" is not a corrective migration id (letters, digits, ".", "_", "-"; no path)`);
    }
    inPlan.add(s.runner.migration);
  }
  // before: lists corrective migrations, known to this tool (migrations/corrective/) or run by a step of the plan.
  if (!knownMigrations) return plan;
  let known: Set<string> | undefined;
  for (const s of plan.steps) {
    for (const b of s.before) {
      known ??= knownMigrations();
      if (!isMigrationId(b) || !(known.has(b) || inPlan.has(b))) {
        throw invalid(`${where} is not a valid plan: step ${s.id}: before lists "${b}", which is not a corrective migration of this plan or of migrations/corrective/`);
      }
    }
  }
  return plan;
}

export function serializePlan(plan: PlanFile): string {
  return yamlText(`# glpi-ocs-upgrade plan (format ${plan.format}), made ${plan.createdAt}. See docs/plan.md.`, plan);
}

/** The one writer: checks the plan, then writes it atomically. */
export function writePlanFile(file: string, plan: PlanFile, knownMigrations: () => Set<string>): void {
  parsePlan(plan, 'the plan to write', knownMigrations);
  writeYamlAtomic(path.resolve(file), serializePlan(plan), { what: `writing the plan ${file}` });
}

/** The one reader. */
export function readPlanFile(file: string, knownMigrations?: () => Set<string>): PlanFile {
  const text = readText(file, (code) =>
    code === 'ENOENT'
      ? new NotFoundError(`plan file ${file} does not exist`, { hint: 'make one with: glpi-ocs-upgrade plan SNAPSHOT_DIR -o plan.yaml' })
      : new NotFoundError(`${file} is a directory, not a plan file`),
  );
  return parsePlan(parseYamlText(text, file, invalid), file, knownMigrations);
}
