/**
 * A snapshot directory's `manifest.yaml` (format 1; docs/formats.md): the schema, its types, the one reader
 * and the one writer. Written by `snapshot`, `anonymize`, `fixtures generate` and rehearse's replay; read by
 * every stage that takes a snapshot. A missing manifest is a NotFoundError (a VerificationError when the
 * snapshot is marked incomplete), a bad one a VerificationError naming the file and the path inside it.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, VerificationError, fromSystemError } from '../errors.ts';
import type { ConnectorInfo, GlpiVersionInfo, OcsVersionInfo } from '../inspect/detect.ts';
import { writeFileAtomic } from './atomic.ts';
import { checkFormat, nonEmpty, parseDocument, parseYamlText, yamlText, z } from './schema.ts';

export const MANIFEST_FORMAT = 1;
export const MANIFEST_NAME = 'manifest.yaml';
export const INCOMPLETE_MARKER = 'SNAPSHOT-INCOMPLETE';

const mapping = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

export const databaseRole = z.enum(['glpi', 'ocs']);

const manifestFile = z.object({
  /** Path relative to the snapshot directory; never absolute, never through "..". */
  path: z.string().refine((p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), { error: (iss) => `expected a path inside the snapshot directory, got ${JSON.stringify(iss.input)}` }),
  bytes: z.number(),
  sha256: z.string(),
  /** Rows in this file (data files). */
  rows: z.number().optional(),
});

/** How one column's values are written in the data files and read back (docs/snapshot.md). */
const manifestColumn = z.object({ name: z.string(), encoding: z.enum(['raw', 'float', 'bit', 'geometry', 'enum']) });

const manifestTable = z
  .object({
    name: z.string(),
    engine: z.string().nullable(),
    collation: z.string().nullable(),
    rowFormat: z.string().nullable().optional(),
    /** Exact row count at snapshot time. */
    rows: z.number(),
    /**
     * Content digest of the rows at snapshot time (src/snapshot/digest.ts: the sum of a 64-bit hash of every row
     * as the server sends it), 16 hex digits. Written by this version; `restore` reads the table back to compare.
     */
    digest: z
      .string()
      .regex(/^[0-9a-f]{16}$/, 'expected 16 lowercase hex digits')
      .optional(),
    /**
     * `CHECKSUM TABLE` value at snapshot time, in snapshots taken before the digest (string: it can exceed 2^53;
     * a number in hand-made manifests). `restore` compares it with CHECKSUM TABLE of the restored table.
     */
    checksum: z
      .union([z.string(), z.number().transform(String)])
      .nullable()
      .optional(),
    /** The schema file, then data files in load order. */
    files: nonEmpty(manifestFile),
    /** Columns in the order of the data files (generated columns are not dumped). Absent in hand-made manifests: all columns, raw. */
    columns: z.array(manifestColumn).optional(),
    /** The integer primary key the data was split on, when it was split into several files. */
    chunkedBy: z.string().optional(),
  })
  .refine((t) => t.digest === undefined || t.columns !== undefined, { message: 'a table with a digest needs its columns (the digest is read back through them)', path: ['columns'] })
  .refine((t) => t.digest !== undefined || t.checksum !== undefined, { message: 'expected a digest (or, in older manifests, a checksum)', path: ['digest'] });

const manifestDatabase = z.object({
  role: databaseRole,
  /** Database name at the source. */
  name: z.string(),
  charset: z.string(),
  collation: z.string(),
  glpi: z.object({ version: z.custom<GlpiVersionInfo>(mapping), connector: z.custom<ConnectorInfo>(mapping) }).optional(),
  ocs: z.object({ version: z.custom<OcsVersionInfo>(mapping) }).optional(),
  tables: z.array(manifestTable),
  views: z.array(z.object({ name: z.string(), file: manifestFile })).default([]),
  triggers: z.array(z.object({ name: z.string(), table: z.string(), file: manifestFile })).default([]),
  routines: z.array(z.object({ name: z.string(), type: z.enum(['PROCEDURE', 'FUNCTION']), file: manifestFile })).default([]),
  /** Set when the account could not list every stored routine of the database: `routines` may be incomplete. */
  routinesUnreadable: z.string().optional(),
  /** sha256 over this database's files, computed like the snapshot id (checked for one-database extracts). */
  filesId: z.string().optional(),
  /** Things the snapshot could not capture for this database. */
  warnings: z.array(z.string()).optional(),
});

/**
 * How data files are encoded (LOAD DATA options that read them back byte for byte). Kept whole, unknown keys
 * included: a key this version does not know means an encoding it does not write, which `anonymize` must see
 * (it then re-encodes every table instead of copying the files).
 */
const manifestDataFormat = z.looseObject({
  format: z.literal('tsv'),
  /** The session time zone the values were read in; TIMESTAMP columns must be loaded in the same one. */
  timeZone: z.literal('+00:00'),
  characterSet: z.literal('binary'),
  fieldsTerminatedBy: z.literal('\t'),
  escapedBy: z.literal('\\'),
  linesTerminatedBy: z.literal('\n'),
  nullAs: z.literal('\\N'),
});

/** How one server (or one account's tables) was frozen (docs/snapshot.md). */
const manifestLock = z.object({
  /** Server address (no password). */
  server: z.string(),
  /** The account whose session held the lock. */
  account: z.string(),
  method: z.enum(['global-read-lock', 'table-locks']),
  /** Databases (source names) the lock froze. */
  databases: z.array(z.string()),
  /** From the lock request to its release, ms. */
  heldMs: z.number(),
  /** Longest wait of a production write seen while the lock was requested or held; null when not observable. */
  longestWriteWaitMs: z.number().nullable(),
});

const manifestConsistency = z.object({
  /** `lock+transaction` and `transaction` are the values of older snapshots. */
  method: z.enum(['global-read-lock', 'table-locks', 'no-lock', 'lock+transaction', 'transaction']),
  /** The longest any lock was held (request to release), ms. */
  lockHeldMs: z.number(),
  /** The --max-lock-seconds limit the snapshot ran with, ms. */
  maxLockMs: z.number().optional(),
  longestWriteWaitMs: z.number().nullable().optional(),
  locks: z.array(manifestLock).optional(),
  /** `one`: every database was frozen at the same instant; `separate`: not (absent in older snapshots). */
  instants: z.enum(['one', 'separate']).optional(),
  warning: z.string().optional(),
});

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    tool: z.object({ name: z.literal('glpi-ocs-upgrade'), version: z.string() }),
    createdAt: z.string(),
    /** Stable identity of the snapshot: sha256 over the sorted (path, sha256) of every file. */
    id: z.string(),
    source: z.object({
      serverVersion: z.string(),
      sqlMode: z.string(),
      characterSetServer: z.string(),
      collationServer: z.string(),
      lowerCaseTableNames: z.number(),
      /** Address without password, for the record; absent for generated fixtures. */
      address: z.string().optional(),
    }),
    consistency: manifestConsistency.default({ method: 'no-lock', lockHeldMs: 0 }),
    compression: z.object({ algorithm: z.literal('gzip'), level: z.number() }),
    /** Encoding of data files; absent means the format-1 default (tsv). */
    data: manifestDataFormat.optional(),
    /** Parallel readers used and wall time of the snapshot, for the record. */
    stats: z.object({ jobs: z.number(), elapsedMs: z.number(), rows: z.number(), bytes: z.number() }).optional(),
    databases: nonEmpty(manifestDatabase),
    /** Set by `fixtures` for generated snapshots: seed, scale, hazards. */
    generated: z.object({ generator: z.string(), seed: z.number(), computers: z.number(), hazards: z.array(z.string()) }).optional(),
    /** Set by `anonymize`: the checksum of the rules (never the salt) and the id of the snapshot it was made from. */
    anonymized: z.object({ rulesChecksum: z.string(), at: z.string(), source: z.string() }).optional(),
  })
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.databases.forEach((d, i) => {
      if (seen.has(d.role)) ctx.issues.push({ code: 'custom', path: ['databases', i, 'role'], input: d.role, message: `the role ${d.role} is listed twice` });
      seen.add(d.role);
    });
  });

export type DatabaseRole = z.infer<typeof databaseRole>;
export type ManifestFile = z.infer<typeof manifestFile>;
export type ManifestColumn = z.infer<typeof manifestColumn>;
export type ManifestTable = z.infer<typeof manifestTable>;
export type ManifestDatabase = z.infer<typeof manifestDatabase>;
export type ManifestDataFormat = z.infer<typeof manifestDataFormat>;
export type ManifestLock = z.infer<typeof manifestLock>;
export type ManifestConsistency = z.infer<typeof manifestConsistency>;
export type Manifest = z.infer<typeof manifestSchema>;

const invalid = (message: string) => new VerificationError(message, { hint: 'the snapshot is damaged or was not written by this tool; take a new one' });

/** Checks a parsed manifest; `label` names the file in errors. */
export function parseManifest(doc: unknown, label: string = MANIFEST_NAME): Manifest {
  checkFormat(doc, label, MANIFEST_FORMAT, invalid);
  return parseDocument(manifestSchema, doc, label, invalid);
}

export function manifestText(m: Manifest): string {
  return yamlText(`# glpi-ocs-upgrade snapshot manifest (format ${m.format}); see docs/formats.md`, m);
}

/** The one reader: `dir`'s manifest.yaml. */
export async function readManifestFile(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_NAME);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const incomplete = await fsp
        .access(path.join(dir, INCOMPLETE_MARKER))
        .then(() => true)
        .catch(() => false);
      if (incomplete) {
        throw new VerificationError(`${dir} is an incomplete snapshot (${INCOMPLETE_MARKER} is present, no manifest)`, {
          hint: 'the snapshot was interrupted; delete the directory and take it again',
        });
      }
      throw new NotFoundError(`${dir} is not a snapshot: ${MANIFEST_NAME} not found`, { hint: 'give the directory written by `snapshot -o DIR`' });
    }
    throw fromSystemError(err, `reading ${file}`) ?? err;
  }
  return parseManifest(parseYamlText(text, file, invalid), file);
}

/** The one writer: `dir`'s manifest.yaml, atomically. */
export function writeManifestFile(dir: string, m: Manifest): void {
  writeFileAtomic(path.join(dir, MANIFEST_NAME), manifestText(m), { what: `writing ${MANIFEST_NAME}` });
}
