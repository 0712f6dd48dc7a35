/**
 * `findings.yaml` (format 1; docs/formats.md): audit findings, written by `audit` (YAML, or JSON when the name
 * ends in .json), read by `plan`, `rehearse`, `dossier` and `dat`. The schema, its types, the one reader and
 * the one writer. The reader takes the error class of its caller (`audit`/`plan` give a UsageError, exit 2;
 * the documents a VerificationError, exit 5), as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fromSystemError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { message, messageOrPair, savedTexts, twins } from './message.ts';
import { checkFormat, parseDocument, parseYamlText, readText, yamlBody, z } from './schema.ts';

export const FINDINGS_FORMAT = 1;

/** The tender's classification (§8.11): blocking, major, minor. */
export const severity = z.enum(['bloquante', 'majeure', 'mineure']);
export const findingFamily = z.enum(['glpi-upgrade', 'ocs-upgrade', 'interconnection', 'environment']);

const remedy = z.object({
  /** A corrective migration from migrations/corrective/ that `rehearse` applies on the test instance… */
  migration: z.string().optional(),
  /** …or a manual action, described precisely. */
  manual: messageOrPair.optional(),
});

const finding = z.object({
  /** Check id, e.g. "glpi.duplicates.slalevels_tickets". Stable: dossiers refer to it. */
  id: z.string(),
  family: findingFamily,
  severity,
  title: messageOrPair,
  /** How many rows/objects are affected (0 never appears: a check that finds nothing yields no finding). */
  count: z.number(),
  /** Evidence: counts, sample keys, table names. Never personal data beyond keys. */
  evidence: z.record(z.string(), z.unknown()).default({}),
  /** The plan steps this matters for (step ids), when known. */
  appliesTo: z.array(z.string()).optional(),
  remedy: remedy.default({}),
});

const checkRun = savedTexts(
  ['reason'],
  z.object({
    id: z.string(),
    family: findingFamily,
    title: messageOrPair,
    status: z.enum(['ok', 'finding', 'skipped']),
    /** Why a check was skipped (no such table, no reference schema, database not given…): a message. */
    reason: message.optional(),
    ...twins('reason'),
    /** Severity the check gives when it finds something (absent in files written by older tools). */
    severity: severity.optional(),
    /** Informational evidence of a check that found nothing. */
    evidence: z.record(z.string(), z.unknown()).optional(),
    /** Wall-clock time of the check, in ms (for benchmarks; never asserted on). */
    ms: z.number().optional(),
  }),
);

export const findingsSchema = z.object({
  format: z.literal(FINDINGS_FORMAT),
  tool: z.object({ name: z.literal('glpi-ocs-upgrade'), version: z.string() }),
  createdAt: z.string(),
  /** The snapshot manifest id, or "live" with the addresses audited. */
  source: z.object({ snapshotId: z.string().optional(), live: z.object({ glpi: z.string().optional(), ocs: z.string().optional() }).optional() }).default({}),
  checksRun: z.array(checkRun),
  findings: z.array(finding),
});

export type Severity = z.infer<typeof severity>;
export type FindingFamily = z.infer<typeof findingFamily>;
export type Remedy = z.infer<typeof remedy>;
export type Finding = z.infer<typeof finding>;
export type CheckRun = z.infer<typeof checkRun>;
export type FindingsFile = z.infer<typeof findingsSchema>;

export function parseFindings(doc: unknown, label: string, invalid: (message: string) => Error): FindingsFile {
  checkFormat(doc, label, FINDINGS_FORMAT, invalid);
  return parseDocument(findingsSchema, doc, label, invalid);
}

/** The one reader (YAML or JSON). `missing` is called for an absent file, `invalid` for a bad one. */
export function readFindingsFile(file: string, options: { label?: string; invalid: (message: string) => Error; missing: () => Error }): FindingsFile {
  const label = options.label ?? file;
  const text = readText(file, () => options.missing());
  return parseFindings(parseYamlText(text, label, options.invalid), label, options.invalid);
}

/** The one writer: JSON when the name ends in .json, YAML otherwise; atomic. */
export function writeFindingsFile(file: string, findings: FindingsFile): void {
  const text = file.endsWith('.json') ? `${JSON.stringify(findings, null, 2)}\n` : yamlBody(findings);
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  } catch (err) {
    throw fromSystemError(err, `writing findings file ${file}`) ?? err;
  }
  writeFileAtomic(path.resolve(file), text, { what: `writing findings file ${file}` });
}
