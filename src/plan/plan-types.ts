/**
 * The saved plan (`plan.yaml`, format 1), produced by `plan`, consumed by `rehearse`, `dossier`, `dat`.
 * Documented in docs/formats.md. The types are inferred from the schema in src/formats/plan.ts.
 *
 * Texts for people are in English (`title`, `explanation`, `notes`, `rowsDeleted[].why`: CLI output, JSON,
 * docs/plan.md) with a French twin for the French dossier and DAT (`titleFr`, `explanationFr`, `notesFr`,
 * `whyFr`). The twins are optional so that plans written before they existed still load; the planner always
 * writes them.
 */

export type { ExpectedEffects, PlanFile, PlanStep, Product, StepRequirements, StepRunner } from '../formats/plan.ts';
