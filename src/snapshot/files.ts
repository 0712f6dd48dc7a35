/**
 * Snapshot files: safe file names for database objects, gzip writers that hash and count what they write,
 * and the typed errors for disk problems.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { once } from 'node:events';
import { fromSystemError } from '../errors.ts';
import type { Stopper } from '../util/abort.ts';
import type { ManifestFile } from './manifest-types.ts';

export { INCOMPLETE_MARKER, MANIFEST_NAME } from '../formats/manifest.ts';
/** Documents other commands put beside the manifest (not data, not listed in it): `verify` accepts them. */
export const COMPANION_FILES: ReadonlySet<string> = new Set(['anonymization-report.yaml']);

/** A file-name-safe form of an object name: [A-Za-z0-9_$-] kept, every other byte as @xx (hex). */
export function safeName(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_$-]/.test(ch) ? ch : `@${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Turns a write error into DiskFullError / typed error when it is one. */
export function diskError(err: unknown, what: string): unknown {
  return fromSystemError(err, what) ?? err;
}

/**
 * A gzip file being written: `write` returns false when the caller should wait for 'drain'
 * (see `waitDrain`); `close` flushes and returns the manifest entry.
 */
export class GzipFileWriter implements ChunkSink {
  readonly rel: string;
  readonly full: string;
  private readonly gzip: zlib.Gzip;
  private readonly hash = crypto.createHash('sha256');
  private readonly file: fs.WriteStream;
  private bytes = 0;
  private error: unknown;
  private readonly done: Promise<void>;

  constructor(dir: string, rel: string, level: number) {
    this.rel = rel;
    this.full = path.join(dir, rel);
    // A deep input buffer: the reader keeps receiving rows while the previous piece is being compressed.
    // (zlib streams take the stream options too; @types/node's ZlibOptions does not list them.)
    const options: zlib.ZlibOptions & { writableHighWaterMark: number } = { level, memLevel: 9, chunkSize: 256 * 1024, writableHighWaterMark: 4 * 1024 * 1024 };
    this.gzip = zlib.createGzip(options);
    this.file = fs.createWriteStream(this.full, { highWaterMark: 1024 * 1024 });
    const fail = (err: unknown) => {
      if (this.error === undefined) this.error = diskError(err, `writing ${rel}`);
    };
    this.gzip.on('error', fail);
    this.file.on('error', fail);
    this.gzip.on('data', (chunk: Buffer) => {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      if (!this.file.write(chunk)) this.gzip.pause();
    });
    this.file.on('drain', () => this.gzip.resume());
    this.done = new Promise<void>((resolve, reject) => {
      this.gzip.on('end', () => this.file.end());
      this.file.on('finish', () => resolve());
      this.file.on('close', () => (this.error ? reject(this.error) : resolve()));
      this.gzip.on('error', () => reject(this.error));
      this.file.on('error', () => reject(this.error));
    });
    this.done.catch(() => undefined);
  }

  get failed(): unknown {
    return this.error;
  }

  /** Queues bytes; false means "wait for drain before writing much more". */
  write(buf: Buffer): boolean {
    if (this.error) throw this.error;
    return this.gzip.write(buf);
  }

  async waitDrain(): Promise<void> {
    if (this.error) throw this.error;
    if (!this.gzip.writableNeedDrain) return;
    await Promise.race([once(this.gzip, 'drain'), this.done]);
    if (this.error) throw this.error;
  }

  onDrain(fn: () => void): void {
    this.gzip.once('drain', fn);
  }

  async close(rows?: number): Promise<ManifestFile> {
    if (this.error) throw this.error;
    this.gzip.end();
    await this.done;
    if (this.error) throw this.error;
    const entry: ManifestFile = { path: this.rel, bytes: this.bytes, sha256: this.hash.digest('hex') };
    if (rows !== undefined) entry.rows = rows;
    return entry;
  }

  /** Abandons the file (after an error elsewhere). */
  destroy(): void {
    this.gzip.destroy();
    this.file.destroy();
  }
}

/** What a chunk's rows are streamed into: a gzip file, or a spool file while a read lock is held. */
export interface ChunkSink {
  /** Queues bytes; false means "wait for `onDrain` before writing much more". */
  write(buf: Buffer): boolean;
  onDrain(fn: () => void): void;
  destroy(): void;
}

/**
 * A chunk's data written uncompressed beside its future gzip file (`<rel>.spool`), while the read lock that
 * production writes wait on is held: the lock then covers reading the rows, not compressing them (the largest
 * client-side cost). `compressSpool` turns it into the final file once the lock is released.
 */
export class SpoolFileWriter implements ChunkSink {
  readonly rel: string;
  readonly full: string;
  private readonly file: fs.WriteStream;
  private error: unknown;
  private readonly done: Promise<void>;

  constructor(dir: string, rel: string) {
    this.rel = rel;
    this.full = spoolPath(dir, rel);
    this.file = fs.createWriteStream(this.full, { highWaterMark: 4 * 1024 * 1024 });
    this.done = new Promise<void>((resolve, reject) => {
      this.file.on('error', (err) => {
        if (this.error === undefined) this.error = diskError(err, `writing ${rel}`);
        reject(this.error);
      });
      this.file.on('close', () => (this.error ? reject(this.error) : resolve()));
    });
    this.done.catch(() => undefined);
  }

  write(buf: Buffer): boolean {
    if (this.error) throw this.error;
    return this.file.write(buf);
  }

  onDrain(fn: () => void): void {
    this.file.once('drain', fn);
  }

  async close(): Promise<void> {
    if (this.error) throw this.error;
    this.file.end();
    await this.done;
  }

  /** Abandons the spool file and removes it. */
  destroy(): void {
    this.file.destroy();
    fs.rmSync(this.full, { force: true });
  }
}

function spoolPath(dir: string, rel: string): string {
  return `${path.join(dir, rel)}.spool`;
}

/**
 * Compresses a chunk's spool file into its gzip file (the manifest entry is the gzip file's), then removes
 * the spool file. The work in progress is tracked by `stopper`, so that a failure elsewhere destroys it.
 */
export async function compressSpool(dir: string, rel: string, level: number, rows: number, stopper: Stopper): Promise<ManifestFile> {
  const spool = spoolPath(dir, rel);
  const w = new GzipFileWriter(dir, rel, level);
  const input = fs.createReadStream(spool, { highWaterMark: 1024 * 1024 });
  const both = {
    destroy: () => {
      input.destroy();
      w.destroy();
    },
  };
  stopper.track(both);
  try {
    for await (const chunk of input) {
      if (!w.write(chunk as Buffer)) await w.waitDrain();
    }
    const entry = await w.close(rows);
    await fsp.rm(spool, { force: true });
    return entry;
  } catch (err) {
    both.destroy();
    throw diskError(err, `compressing ${rel}`);
  } finally {
    stopper.release(both);
  }
}

/** Writes a whole small text file, gzipped, and returns its manifest entry. */
export async function writeGzipText(dir: string, rel: string, text: string | Buffer, level: number): Promise<ManifestFile> {
  const w = new GzipFileWriter(dir, rel, level);
  w.write(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  return w.close();
}

/** sha256 and size of a file on disk. */
export async function hashFile(full: string): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const stream = fs.createReadStream(full, { highWaterMark: 1024 * 1024 });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export async function isEmptyDir(dir: string): Promise<boolean | undefined> {
  try {
    const entries = await fsp.readdir(dir);
    return entries.length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw diskError(err, `reading ${dir}`);
  }
}
