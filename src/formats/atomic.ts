/**
 * Atomic file writes: the content goes to a temporary file next to the target, is fsync'd, then renamed over
 * the target, and the directory is fsync'd. A kill at any moment leaves either the old file or the new one,
 * never a torn one (a stray `.tmp-<pid>` file at worst, which readers ignore).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fromSystemError } from '../errors.ts';

/** Test-only fault injection (docs/rehearse.md): `GOU_FAULT=<point>` kills the process at that point. */
export function faultPoint(point: string, partialWrite?: () => void): void {
  if (process.env.GOU_FAULT !== point) return;
  partialWrite?.();
  process.kill(process.pid, 'SIGKILL');
}

export function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
}

/** Writes `data` to `file` atomically (temp, fsync, rename, fsync of the directory). */
export function writeFileAtomic(file: string, data: string | Buffer, options: { mode?: number; what?: string; fault?: string } = {}): void {
  const tmp = tempNameFor(file);
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    const fd = fs.openSync(tmp, 'w', options.mode ?? 0o644);
    try {
      if (options.fault) {
        faultPoint(options.fault, () => {
          fs.writeSync(fd, buf.subarray(0, Math.floor(buf.length / 2)));
          fs.fsyncSync(fd);
        });
      }
      fs.writeSync(fd, buf);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    fsyncDir(path.dirname(file));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw fromSystemError(err, options.what ?? `writing ${file}`) ?? err;
  }
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* some file systems refuse fsync on a directory: the rename is still atomic */
  }
}

/** Removes temporary files left by writers killed mid-write (`.<name>.tmp-<pid>`) in `dir`. */
export function removeStaleTemps(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (/^\..+\.tmp-\d+$/.test(f)) {
      fs.rmSync(path.join(dir, f), { force: true });
      out.push(f);
    }
  }
  return out;
}
