/**
 * Reading, writing and checking `manifest.yaml`, and verifying a snapshot directory against it.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Manifest, ManifestFile } from './manifest-types.ts';
import { readManifestFile, writeManifestFile } from '../formats/manifest.ts';
import { COMPANION_FILES, INCOMPLETE_MARKER, MANIFEST_NAME, hashFile } from './files.ts';

/** Every file a manifest lists, in load order. */
export function manifestFiles(m: Manifest): ManifestFile[] {
  const out: ManifestFile[] = [];
  for (const db of m.databases) {
    for (const t of db.tables) out.push(...t.files);
    for (const v of db.views) out.push(v.file);
    for (const t of db.triggers) out.push(t.file);
    for (const r of db.routines) out.push(r.file);
  }
  return out;
}

/** Every file of one database of a manifest. */
export function databaseFiles(db: Manifest['databases'][number]): ManifestFile[] {
  return [...db.tables.flatMap((t) => t.files), ...db.views.map((v) => v.file), ...db.triggers.map((t) => t.file), ...db.routines.map((r) => r.file)];
}

/**
 * Whether the manifest's id is the one its file list gives. A manifest that lists one database only may be an
 * extract of a snapshot (it keeps the snapshot's id): it is checked against that database's `filesId`; an
 * extract of a manifest written before `filesId` existed cannot be checked, and is accepted.
 */
export function idMatches(m: Manifest): boolean {
  if (computeSnapshotId(manifestFiles(m)) === m.id) return true;
  if (m.databases.length !== 1) return false;
  const db = m.databases[0];
  return db.filesId === undefined || computeSnapshotId(databaseFiles(db)) === db.filesId;
}

/** sha256 over the sorted "path sha256" lines of every file: the snapshot's identity. */
export function computeSnapshotId(files: ManifestFile[]): string {
  const lines = files.map((f) => `${f.path} ${f.sha256}`).sort();
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * Writes manifest.yaml (atomically, through src/formats/manifest.ts). When the manifest is consistent (its id
 * is its files' id), each database's `filesId` is set from its files first: every writer (snapshot, anonymize)
 * keeps them right without knowing about them.
 */
export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  if (computeSnapshotId(manifestFiles(m)) === m.id) for (const db of m.databases) db.filesId = computeSnapshotId(databaseFiles(db));
  writeManifestFile(dir, m);
}

/** Reads and checks a snapshot's manifest. NotFoundError when absent, VerificationError naming the path when bad. */
export async function readManifest(dir: string): Promise<Manifest> {
  return readManifestFile(dir);
}

export type VerifyProblem = { path: string; problem: 'missing' | 'size' | 'sha256' | 'extra' | 'id' };

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  files: number;
  bytes: number;
}

async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, r)));
    else out.push(r);
  }
  return out;
}

/**
 * Checks every file against the manifest: present, same size, same sha256; no unlisted file; and the
 * manifest's id is the one its file list gives (a manifest edited to drop a table, with its files, keeps its
 * files consistent but not its id). Throws only when the manifest itself is missing or unreadable.
 */
export async function verifySnapshot(dir: string, opts: { concurrency?: number; onFile?: (path: string, bytes: number) => void } = {}): Promise<VerifyResult> {
  const m = await readManifest(dir);
  const files = manifestFiles(m);
  const problems: VerifyProblem[] = [];
  let bytes = 0;
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const full = path.join(dir, f.path);
      let st: Awaited<ReturnType<typeof fsp.stat>>;
      try {
        st = await fsp.stat(full);
      } catch {
        problems.push({ path: f.path, problem: 'missing' });
        continue;
      }
      if (st.size !== f.bytes) {
        problems.push({ path: f.path, problem: 'size' });
        continue;
      }
      const h = await hashFile(full);
      bytes += h.bytes;
      if (h.sha256 !== f.sha256) problems.push({ path: f.path, problem: 'sha256' });
      opts.onFile?.(f.path, h.bytes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
  const listed = new Set(files.map((f) => f.path));
  for (const rel of await walk(dir)) {
    if (rel === MANIFEST_NAME || listed.has(rel) || COMPANION_FILES.has(rel)) continue;
    problems.push({ path: rel, problem: rel === INCOMPLETE_MARKER ? 'extra' : 'extra' });
  }
  if (!idMatches(m)) problems.push({ path: MANIFEST_NAME, problem: 'id' });
  problems.sort((a, b) => a.path.localeCompare(b.path));
  return { ok: problems.length === 0, problems, files: files.length, bytes };
}

/** One line naming the problems (for errors). */
export function describeProblems(problems: VerifyProblem[], max = 5): string {
  const words: Record<VerifyProblem['problem'], string> = {
    missing: 'missing',
    size: 'wrong size (truncated?)',
    sha256: 'content changed (sha256)',
    extra: 'not in the manifest',
    id: 'the snapshot id is not the one its file list gives (the manifest was edited: files or tables added or removed)',
  };
  const shown = problems.slice(0, max).map((p) => `${p.path}: ${words[p.problem]}`);
  return shown.join('; ') + (problems.length > max ? `; and ${problems.length - max} more` : '');
}
