/** Public API of the report module: load a run or snapshot directory, render the dossier and the DAT. */
export { loadRunInputs, loadSnapshotInputs, loadReportInputs } from './inputs.ts';
export type { RunInputs, SnapshotInputs, ReportInputs, SourceFile, EvidenceFile, InputWarning } from './inputs.ts';
export { renderDossier } from './dossier.ts';
export type { RenderOptions } from './dossier.ts';
export { renderDat } from './dat.ts';
export { computeVerdict, ACCEPTANCE_RULE, DEFAULT_LOT } from './verdict.ts';
export type { Verdict, VerdictKind, VerdictReason, VerdictAnomaly, VerdictStep } from './verdict.ts';
export { buildDossierModel } from './model.ts';
export type { DossierModel, TestCase } from './model.ts';
export { writeDocument, parseFormat } from './pandoc.ts';
export type { OutputFormat } from './pandoc.ts';
export { loadRecette, checkRecette, stringifyRecette } from './recette.ts';
export type { Recette, AnomalyState, ManualTest, SeverityChange, AnomalyFollowUp, Reserve } from './recette.ts';
export { buildRegisters, isResidual, isPrediction } from './registers.ts';
export type { Constat, Risk, RegisterAnomaly, AnomalyOrigin } from './registers.ts';
export { DOSSIER_SECTIONS, renderDossierModel } from './dossier.ts';
export type { DossierSection, SectionContext } from './dossier.ts';
export type { DocumentMeta } from './pandoc.ts';
