/**
 * The plan module's public API (used by the `plan` command and by rehearse).
 */
export { buildPlan, composeTableChanges } from './planner.ts';
export type { BuildOptions, ConnectorTarget, PlanInput, PlanTargets, PlanTableInfo } from './planner.ts';
export { readPlan, writePlan, validatePlan, serializePlan, PLAN_FORMAT } from './io.ts';
export { stepKind } from './kinds.ts';
export type { StepKind } from './kinds.ts';
export { planInputFromLive, planInputFromManifest, planInputFromSnapshot, readSnapshotManifest } from './input.ts';
export { PLAN_HEADERS, planRows, runnerLabel, requirementsLabel, effectsLabel, hazardsLabel } from './render.ts';
export * from './errors.ts';
export { loadCatalog } from '../catalog/catalog.ts';
export type { PlanFile, PlanStep } from './plan-types.ts';
