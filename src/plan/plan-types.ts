/**
 * The saved plan (`plan.yaml`, format 1), produced by `plan`, consumed by `rehearse`, `dossier`, `dat`.
 * Documented in docs/formats.md. The types are inferred from the schema in src/formats/plan.ts.
 *
 * Texts for people (`title`, `explanation`, `notes`, `rowsDeleted[].why`) are messages (src/i18n/messages.ts):
 * an id and its parameters, rendered in English (CLI output) or French (dossier, DAT) where they are shown.
 * Plans written before messages existed (an English string and an optional French twin `titleFr`,
 * `explanationFr`, `notesFr`, `whyFr`) are read into `literal` messages by src/plan/io.ts.
 */

export type { ExpectedEffects, PlanFile, PlanStep, Product, StepRequirements, StepRunner } from '../formats/plan.ts';
