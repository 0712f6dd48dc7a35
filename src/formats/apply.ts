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
import { checkFormat, parseDocument, parseYamlText, yamlBody, z, readTextIfPresent } from './schema.ts';

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

/** A pre-apply backup of one production server (its databases). */
const serverBackup = z.object({
  id: z.string(),
  dir: z.string(),
  taken: z.boolean(),
  readyAt: z.string(),
  elapsedMs: z.number(),
  rows: z.record(z.string(), z.number()),
  /** The databases it holds (absent in records of one server: both). */
  roles: z.array(z.enum(['glpi', 'ocs'])).optional(),
  hostPort: z.string().optional(),
});

/** GLPI's config dir, glpicrypt.key and maintenance mode during an apply (src/apply/glpi-config.ts). */
const glpiConfigRecord = z.object({
  dir: z.string(),
  /** Whether config_db.php was there (used as it is) or written by apply (production's GLPI address). */
  configDb: z.enum(['existing', 'written']),
  /** The copy of an existing config_db.php taken before the first GLPI step. */
  configDbBackup: z.string().optional(),
  /** sha256 of the glpicrypt.key found before the first GLPI step (none: the first 10.0 db:update creates it). */
  keyAtStart: z.string().optional(),
  /** Keys copied aside before a GLPI step could replace them. */
  keyBackups: z.array(z.object({ sha256: z.string(), backup: z.string(), before: z.string(), at: z.string() })),
  /** The key the apply's first 10.0 db:update created, copied aside before the next GLPI step (the carried key). */
  keyCreated: z.object({ sha256: z.string(), copy: z.string(), before: z.string() }).optional(),
  /** The key at the end of the apply (sha256 only), and whether the apply created it. */
  keyAtEnd: z.object({ sha256: z.string(), createdByApply: z.boolean() }).optional(),
  maintenance: z.object({
    /** The step after which it was turned on ('start': before the first step). */
    enabledAfter: z.string().optional(),
    disabledAt: z.string().optional(),
    /** glpi_configs maintenance_mode when apply ended: on, off, or absent (a release without it). */
    state: z.enum(['on', 'off', 'absent']).optional(),
  }),
});

export const applySchema = z.object({
  format: z.literal(APPLY_FORMAT),
  rehearsal: z.object({ runId: z.string(), planSha256: z.string(), snapshotId: z.string() }),
  /** hostPort: the server, or `glpi HOST:PORT, ocs HOST:PORT` when they are two (hostPorts then says which). */
  production: z.object({
    hostPort: z.string(),
    hostPorts: z.object({ glpi: z.string().optional(), ocs: z.string().optional() }).optional(),
    databases: z.object({ glpi: z.string().optional(), ocs: z.string().optional() }),
    serverVersion: z.string(),
  }),
  allowNotRun: z.array(z.string()),
  preflight: z.array(preflightRecord),
  /** The backup (with two servers: the first one's; `backups` lists both). */
  backup: serverBackup.optional(),
  backups: z.array(serverBackup).optional(),
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
  /** The read-only functional scenarios run against production after the apply (`apply --functional`). */
  functional: z.object({ resultsFile: z.string(), passed: z.number(), failed: z.number(), notRun: z.number(), error: z.string().optional() }).optional(),
  /** The GLPI side beyond the database (src/apply/glpi-config.ts): config dir, glpicrypt.key, maintenance mode. */
  glpiConfig: glpiConfigRecord.optional(),
  rollback: z
    .object({
      startedAt: z.string(),
      finishedAt: z.string(),
      tables: z.number(),
      ok: z.boolean(),
      differing: z.array(z.string()),
      glpiConfigDb: z.enum(['removed', 'restored', 'unchanged']).optional(),
    })
    .optional(),
});

export type PreflightRecord = z.infer<typeof preflightRecord>;
export type ServerBackup = z.infer<typeof serverBackup>;
export type GlpiConfigRecord = z.infer<typeof glpiConfigRecord>;
export type ApplyRecord = z.infer<typeof applySchema>;

const invalid = (message: string) =>
  new VerificationError(message, { hint: 'apply.yaml is written by `apply` and `rollback` only; keep it as evidence and compare it with the journal (apply/journal.jsonl)' });

/** The one reader: the record in `file`, or undefined when there is none. */
export function readApplyFile(file: string): ApplyRecord | undefined {
  const text = readTextIfPresent(file);
  if (text === undefined) return undefined;
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
