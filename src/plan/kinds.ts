/**
 * Maps a plan step to the step kinds corrective migrations name in their `before` field
 * (src/catalog/corrective.ts): glpi-db-update, ocs-bridge, ocs-update-file, plugin-install.
 */
import type { CorrectiveBefore } from '../catalog/corrective.ts';
import type { PlanStep } from './plan-types.ts';

export type StepKind = Exclude<CorrectiveBefore, 'any'>;

const DB_UPDATE_COMMANDS = new Set(['db:update', 'database:update', 'glpi:database:update']);

/** The corrective `before` kind of a step, or undefined for steps no corrective migration can precede by kind. */
export function stepKind(step: Pick<PlanStep, 'runner'>): StepKind | undefined {
  const r = step.runner;
  switch (r.kind) {
    case 'glpi-console':
      if ((r.entry && r.entry !== 'bin/console') || DB_UPDATE_COMMANDS.has(r.command)) return 'glpi-db-update';
      return undefined;
    case 'ocs-bridge':
      return 'ocs-bridge';
    case 'ocs-update-file':
      return 'ocs-update-file';
    case 'plugin-install':
      return 'plugin-install';
    default:
      return undefined;
  }
}
