/**
 * The registry entry of an embedded instance, `<state dir>/instances/<id>.json` (docs/formats.md): written
 * by src/db/embedded.ts when it starts an instance (and again with the server's version, or after a restart),
 * read by `instance status`/`stop` and by the stale-instance cleaner. The schema, its types, the one reader and
 * the one atomic writer (mode 0600). Never the password. The reader is forgiving by design: a file that is
 * absent, torn or of another shape reads as no instance, which the cleaner then removes.
 */
import { writeFileAtomic } from './atomic.ts';
import { readJsonIfValid, z } from './schema.ts';

export const serverSettingsSchema = z.object({
  sqlMode: z.string().optional(),
  characterSetServer: z.string().optional(),
  collationServer: z.string().optional(),
  lowerCaseTableNames: z.literal([0, 1, 2]).optional(),
  innodbPageSize: z.string().optional(),
  innodbBufferPoolSize: z.string().optional(),
  maxAllowedPacket: z.string().optional(),
  defaultStorageEngine: z.string().optional(),
  /** Any other `--name=value` server options, passed as given. */
  extraArgs: z.array(z.string()).optional(),
});

/** Server settings of an embedded instance (the options of `instance start` and of the commands that start one). */
export type ServerSettings = z.infer<typeof serverSettingsSchema>;

export const instanceRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  pid: z.number(),
  ownerPid: z.number(),
  keep: z.boolean(),
  port: z.number(),
  socket: z.string(),
  datadir: z.string(),
  baseDir: z.string(),
  serverBin: z.string(),
  serverVersion: z.string(),
  startedAt: z.string(),
  settings: serverSettingsSchema,
  /** The watchdog that kills a non-kept server when its owner dies. */
  watchdogPid: z.number().optional(),
});

/** What the registry records about an instance (never its password). */
export type InstanceRecord = z.infer<typeof instanceRecordSchema>;

/** The record in `file`, or undefined when it is absent, torn or not a record. */
export function readInstanceRecord(file: string): InstanceRecord | undefined {
  return readJsonIfValid(file, instanceRecordSchema);
}

/** Writes the record atomically, readable by its owner only. */
export function writeInstanceRecord(file: string, rec: InstanceRecord): void {
  writeFileAtomic(file, JSON.stringify(rec, null, 2), { mode: 0o600 });
}
