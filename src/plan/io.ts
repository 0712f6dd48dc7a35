/**
 * plan.yaml on disk: the one reader and writer live in src/formats/plan.ts; this module binds them to the
 * corrective migrations of migrations/corrective/ (which a step's `before:` may name).
 */
import { loadCorrectiveMigrations } from '../catalog/corrective.ts';
import { PLAN_FORMAT, parsePlan, readPlanFile, serializePlan, writePlanFile } from '../formats/plan.ts';
import type { PlanFile } from './plan-types.ts';

export { PLAN_FORMAT, serializePlan };

const knownMigrations = () => new Set(loadCorrectiveMigrations().map((m) => m.id));

/** Checks a parsed document is a plan this tool can run; throws typed errors naming the file and the path. */
export function validatePlan(doc: unknown, where = 'plan'): PlanFile {
  return parsePlan(doc, where, knownMigrations);
}

export function writePlan(file: string, plan: PlanFile): void {
  writePlanFile(file, plan, knownMigrations);
}

export function readPlan(file: string): PlanFile {
  return readPlanFile(file, knownMigrations);
}
