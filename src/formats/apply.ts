/**
 * `RUN_DIR/apply/apply.yaml` (format 1; docs/formats.md): the production run of a rehearsal — the backup,
 * the checks before the first write, the comparison with the rehearsal at the end, and a rollback's proof.
 * Written by `apply` and `rollback`, read by them and by the go-live report. The schema, its types, the one
 * reader and the one writer (atomic). A bad file is a VerificationError naming the path inside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VerificationError, fromSystemError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { message, savedTexts, twins } from './message.ts';
import { checkFormat, parseDocument, parseYamlText, yamlBody, z } from './schema.ts';

export const APPLY_FORMAT = 1;

const preflightRecord = savedTexts(
  ['detail'],
  z.object({
    check: z.string(),
    status: z.enum(['passed', 'allowed']),
    /** What was checked and found: a message, rendered by the CLI and the go-live report. */
    detail: message,
    ...twins('detail'),
  }),
);

export const applySchema = z.object({
  format: z.literal(APPLY_FORMAT),
  rehearsal: z.object({ runId: z.string(), planSha256: z.string(), snapshotId: z.string() }),
  production: z.object({ hostPort: z.string(), databases: z.object({ glpi: z.string().optional(), ocs: z.string().optional() }), serverVersion: z.string() }),
  allowNotRun: z.array(z.string()),
  preflight: z.array(preflightRecord),
  backup: z.object({ id: z.string(), dir: z.string(), taken: z.boolean(), readyAt: z.string(), elapsedMs: z.number(), rows: z.record(z.string(), z.number()) }).optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** Filled when the apply is complete: production's final state against the rehearsal's. */
  final: z
    .object({
      structureEqual: z.boolean(),
      structureDifferences: z.array(z.string()),
      tablesCompared: z.number(),
      tablesDiffering: z.array(z.object({ table: z.string(), rows: z.number(), rehearsalRows: z.number(), checksumEqual: z.boolean() })),
    })
    .optional(),
  rollback: z.object({ startedAt: z.string(), finishedAt: z.string(), tables: z.number(), ok: z.boolean(), differing: z.array(z.string()) }).optional(),
});

export type PreflightRecord = z.infer<typeof preflightRecord>;
export type ApplyRecord = z.infer<typeof applySchema>;

const invalid = (message: string) =>
  new VerificationError(message, { hint: 'apply.yaml is written by `apply` and `rollback` only; keep it as evidence and compare it with the journal (apply/journal.jsonl)' });

/** The one reader: the record in `file`, or undefined when there is none. */
export function readApplyFile(file: string): ApplyRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw fromSystemError(err, `reading ${file}`) ?? err;
  }
  const doc = parseYamlText(text, 'apply.yaml', invalid);
  checkFormat(doc, 'apply.yaml', APPLY_FORMAT, invalid);
  return parseDocument(applySchema, doc, 'apply.yaml', invalid);
}

/** The one writer (atomic). */
export function writeApplyFile(file: string, rec: ApplyRecord): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (err) {
    throw fromSystemError(err, `writing ${file}`) ?? err;
  }
  writeFileAtomic(file, yamlBody(rec), { what: `writing ${file}` });
}
