/**
 * A run directory's `.lock` (docs/rehearse.md): the process working on the run. It is written by creating
 * the file exclusively (O_EXCL: the creation is the lock, so no temporary file and rename), one JSON line; read
 * to tell a live holder from a dead one. The reader is forgiving: a file being written or of another shape
 * reads as no owner, and the lock is then retried.
 */
import { readJsonIfValid, z } from './schema.ts';

export const lockOwnerSchema = z.object({
  pid: z.number(),
  startTime: z.number().optional(),
  host: z.string(),
  command: z.string(),
  since: z.string(),
});

export type LockOwner = z.infer<typeof lockOwnerSchema>;

/** The one writer's text: what is written into the exclusively created file. */
export function lockOwnerLine(owner: LockOwner): string {
  return `${JSON.stringify(owner)}\n`;
}

/** The one reader: the owner recorded in `file`, or undefined. */
export function readLockOwner(file: string): LockOwner | undefined {
  return readJsonIfValid(file, lockOwnerSchema);
}
