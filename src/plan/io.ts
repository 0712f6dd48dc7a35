/**
 * plan.yaml on disk: writePlan / readPlan. readPlan validates the format and every field rehearse relies on,
 * with typed errors: missing file → NotFoundError (4), not a plan / broken field → VerificationError (5),
 * a newer format → UnsupportedError (11).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { NotFoundError, UnsupportedError, VerificationError, fromSystemError } from '../errors.ts';
import { S, SchemaError, validate } from '../catalog/validate.ts';
import type { Schema } from '../catalog/validate.ts';
import type { PlanFile } from './plan-types.ts';
import { loadCorrectiveMigrations } from '../catalog/corrective.ts';
import { planTextProblem, upgradePlanTexts } from './saved-texts.ts';

export const PLAN_FORMAT = 1;

const strings = S.list(S.str());
const effects = S.obj({
  tablesCreated: S.opt(strings),
  tablesDropped: S.opt(strings),
  tablesRenamed: S.opt(S.list(S.obj({ from: S.str(), to: S.str() }))),
  rowsDeleted: S.opt(S.list(S.obj({ table: S.str(), why: S.any() }))),
  tablesTouched: S.opt(S.union('a list of tables or "all"', S.literal('all'), strings)),
});

const runner = S.union(
  'a runner (ocs-bridge, ocs-update-file, ocs-php-change, glpi-console, plugin-install, corrective-migration)',
  S.obj({ kind: S.literal('ocs-bridge'), toGuiVersion: S.literal(7006) }),
  S.obj({ kind: S.literal('ocs-update-file'), guiVersion: S.int({ min: 1 }), file: S.str() }),
  S.obj({ kind: S.literal('ocs-php-change'), guiVersion: S.int({ min: 1 }), change: S.str() }),
  S.obj({
    kind: S.literal('glpi-console'),
    release: S.str(),
    command: S.str(),
    args: strings,
    entry: S.opt(S.oneOf(['bin/console', 'scripts/cliupdate.php', 'tools/cliupdate.php'])),
  }),
  S.obj({ kind: S.literal('plugin-install'), pluginVersion: S.str(), glpiRelease: S.str() }),
  S.obj({ kind: S.literal('corrective-migration'), migration: S.str() }),
);

const product = S.oneOf(['glpi', 'ocs', 'connector']);

export const PLAN_SCHEMA: Schema = S.obj({
  format: S.literal(PLAN_FORMAT),
  tool: S.obj({ name: S.literal('glpi-ocs-upgrade'), version: S.str() }),
  createdAt: S.str(),
  source: S.obj({
    snapshotId: S.opt(S.str()),
    glpi: S.opt(S.obj({ version: S.str(), connector: S.str() })),
    ocs: S.opt(S.obj({ guiVersion: S.int(), releases: strings })),
  }),
  targets: S.obj({ glpi: S.opt(S.str()), ocs: S.opt(S.str()), connector: S.oneOf(['plugin', 'native', 'none']) }),
  steps: S.list(
    S.obj({
      id: S.str({ pattern: /^[A-Za-z0-9._-]+$/, what: 'a step id like "ocs-7037"' }),
      product,
      database: S.oneOf(['glpi', 'ocs']),
      title: S.any(),
      runner,
      from: S.str(),
      to: S.str(),
      requires: S.obj({
        php: S.opt(S.str()),
        mariadb: S.opt(S.str()),
        mysql: S.opt(S.str()),
        distribution: S.opt(S.obj({ product, version: S.str() })),
      }),
      before: strings,
      expected: effects,
      hazards: strings,
      explanation: S.any(),
      shell: S.opt(strings),
    }),
  ),
  notes: S.list(S.any()),
  hazards: S.opt(S.map(S.str())),
});

/** Checks a parsed document is a plan this tool can run; throws typed errors naming the field. */
export function validatePlan(doc: unknown, where = 'plan'): PlanFile {
  const fmt = (doc as { format?: unknown } | null)?.format;
  if (doc && typeof doc === 'object' && typeof fmt === 'number' && fmt > PLAN_FORMAT) {
    throw new UnsupportedError(`${where}: plan format ${fmt} is newer than this tool understands (format ${PLAN_FORMAT})`, {
      hint: 'upgrade glpi-ocs-upgrade, or make the plan again with this version',
    });
  }
  // Texts are messages; an older plan's English strings and French twins become literal messages first.
  const notesProblem = doc && typeof doc === 'object' && !Array.isArray(doc) ? upgradePlanTexts(doc as Record<string, unknown>) : undefined;
  if (notesProblem) throw new VerificationError(`${where} is not a valid plan: ${notesProblem}`);
  try {
    validate(doc, PLAN_SCHEMA);
  } catch (err) {
    if (err instanceof SchemaError) throw new VerificationError(`${where} is not a valid plan: ${err.message}`, { cause: err });
    throw err;
  }
  const textProblem = planTextProblem(doc as Record<string, unknown>);
  if (textProblem) throw new VerificationError(`${where} is not a valid plan: ${textProblem}`);
  const plan = doc as PlanFile;
  const ids = new Set<string>();
  for (const s of plan.steps) {
    if (ids.has(s.id)) throw new VerificationError(`${where} is not a valid plan: step id ${s.id} appears twice`);
    ids.add(s.id);
  }
  // Corrective migrations are named by id, never by path: refuse anything that could reach outside
  // migrations/corrective/ now, not when the step runs.
  const inPlan = new Set<string>();
  for (const s of plan.steps) {
    if (s.runner.kind !== 'corrective-migration') continue;
    if (!isMigrationId(s.runner.migration)) {
      throw new VerificationError(`${where} is not a valid plan: step ${s.id}: runner.migration "${s.runner.migration}" is not a corrective migration id (letters, digits, ".", "_", "-"; no path)`);
    }
    inPlan.add(s.runner.migration);
  }
  // before: lists corrective migrations, known to this tool (migrations/corrective/) or run by a step of the plan.
  let known: Set<string> | undefined;
  for (const s of plan.steps) {
    for (const b of s.before) {
      known ??= new Set(loadCorrectiveMigrations().map((m) => m.id));
      if (!isMigrationId(b) || !(known.has(b) || inPlan.has(b))) {
        throw new VerificationError(`${where} is not a valid plan: step ${s.id}: before lists "${b}", which is not a corrective migration of this plan or of migrations/corrective/`);
      }
    }
  }
  return plan;
}

function isMigrationId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) && !id.includes('..');
}

export function serializePlan(plan: PlanFile): string {
  const header = `# glpi-ocs-upgrade plan (format ${plan.format}), made ${plan.createdAt}. See docs/plan.md.\n`;
  return header + YAML.stringify(plan, { lineWidth: 0 });
}

export function writePlan(file: string, plan: PlanFile): void {
  validatePlan(plan, 'the plan to write');
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, serializePlan(plan));
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* nothing to clean */
    }
    throw fromSystemError(err, `writing the plan ${file}`) ?? err;
  }
}

export function readPlan(file: string): PlanFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw new NotFoundError(`plan file ${file} does not exist`, { hint: 'make one with: glpi-ocs-upgrade plan SNAPSHOT_DIR -o plan.yaml' });
    if ((err as { code?: string }).code === 'EISDIR') throw new NotFoundError(`${file} is a directory, not a plan file`);
    throw fromSystemError(err, `reading the plan ${file}`) ?? err;
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new VerificationError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return validatePlan(doc, file);
}
