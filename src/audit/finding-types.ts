/**
 * Audit findings (`findings.yaml`, format 1), read by `plan`, `rehearse`, `dossier` and `dat`.
 * Documented in docs/formats.md. The types are inferred from the schema in src/formats/findings.ts.
 */

export type { CheckRun, Finding, FindingFamily, FindingsFile, Remedy, Severity } from '../formats/findings.ts';
