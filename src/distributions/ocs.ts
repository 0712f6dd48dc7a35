/**
 * OCS Inventory NG distributions: where the update SQL files come from (`--ocs-dist DIR`).
 *
 * Accepted layouts (detected, in this order):
 *   release    an unpacked ocsreports release:        DIR/files/update/NNNN.sql, DIR/files/ocsbase.sql, DIR/var.php
 *   debian     an unpacked Debian ocsinventory-reports: DIR/usr/share/ocsinventory-reports/files/… (same inside)
 *   reference  the project's reference layout:       DIR/update-X.Y.Z/NNNN.sql, DIR/ocsbase-2.2.sql
 *
 * A distribution's `files/ocsbase.sql` is classified, never trusted blindly: only a legacy "create-or-alter"
 * script that sets GUI_VERSION to 7006 (OCS 2.1.2 / 2.2.x) is a bridge from 2.1 (7005). From 2.8.1 on it is
 * a dump that drops every table (Debian's 2.11.1 package ships one): it is recorded as destructive and never
 * offered to anything.
 *
 * `obtainDebianOcsDist(cacheDir)` fetches Debian's package with `apt-get download` and unpacks it with
 * `dpkg-deb -x` (no installation): a real OCS distribution for tests and CI.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { MissingDependencyError, NotFoundError, UnsupportedError } from '../errors.ts';
import { isDir, isFile } from '../util/files.ts';

export type OcsDistLayout = 'release' | 'debian' | 'reference';

export type OcsBaseKind =
  /** Re-runnable CREATE + ALTER script ending at GUI_VERSION 7006: the bridge from 2.1. */
  | 'bridge-7006'
  /** mysqldump with DROP TABLE IF EXISTS: destroys an existing database. Never run. */
  | 'destructive-dump'
  /** Anything else (2.3–2.8 install scripts that skip update files): never used as a bridge. */
  | 'other';

export interface OcsSqlFile {
  file: string;
  sha256: string;
}

export interface OcsUpdateFile extends OcsSqlFile {
  /** The GUI_VERSION this file brings the database to (its number). */
  guiVersion: number;
}

export interface OcsBaseFile extends OcsSqlFile {
  kind: OcsBaseKind;
  /** The GUI_VERSION the script writes, when it writes a literal one. */
  guiVersion?: number;
}

export interface OcsDistribution {
  /** The directory the user gave. */
  dir: string;
  layout: OcsDistLayout;
  /** Where files/ (or the reference files) are. */
  root: string;
  /** Release shown by the console (var.php GUI_VER_SHOW, or the reference folder's suffix). */
  release?: string;
  /** GUI_VER of the console (var.php): update.php never goes beyond it. */
  guiVer?: number;
  /** Update files by number, ascending. */
  updates: OcsUpdateFile[];
  /** files/ocsbase.sql (release/debian) or ocsbase-2.2.sql (reference), classified. */
  base?: OcsBaseFile;
  /** The newest GUI_VERSION reachable from 7006 with this distribution's update files (no gap, ≤ guiVer). */
  newestReachable: number;
}

const UPDATE_RE = /^(\d{4})\.sql$/;

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Classifies an OCS base script by its content. */
export function classifyOcsBase(sql: string): { kind: OcsBaseKind; guiVersion?: number } {
  const m = /\(\s*'GUI_VERSION'\s*,\s*\d+\s*,\s*'(\d{4})'/i.exec(sql);
  const guiVersion = m ? Number(m[1]) : undefined;
  if (/DROP\s+TABLE\s+IF\s+EXISTS\s+`?(hardware|accountinfo|config)`?/i.test(sql)) return { kind: 'destructive-dump', guiVersion };
  const deletesVersionRow = /DELETE\s+FROM\s+`?config`?\s+WHERE\s+`?NAME`?\s*=\s*'GUI_VERSION'/i.test(sql);
  if (guiVersion === 7006 && deletesVersionRow) return { kind: 'bridge-7006', guiVersion };
  return { kind: 'other', guiVersion };
}

function readBase(file: string): OcsBaseFile | undefined {
  if (!isFile(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8');
  return { file, sha256: sha256File(file), ...classifyOcsBase(text) };
}

function listUpdates(dir: string): OcsUpdateFile[] {
  return fs
    .readdirSync(dir)
    .map((f) => ({ f, m: UPDATE_RE.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .map(({ f, m }) => {
      const file = path.join(dir, f);
      return { guiVersion: Number(m[1]), file, sha256: sha256File(file) };
    })
    .sort((a, b) => a.guiVersion - b.guiVersion);
}

function readVarPhp(root: string): { guiVer?: number; release?: string } {
  const file = path.join(root, 'var.php');
  if (!isFile(file)) return {};
  const text = fs.readFileSync(file, 'utf8');
  const ver = /define\(\s*'GUI_VER'\s*,\s*'(\d+)'\s*\)/.exec(text);
  const show = /define\(\s*'GUI_VER_SHOW'\s*,\s*'([^']+)'\s*\)/.exec(text);
  return { guiVer: ver ? Number(ver[1]) : undefined, release: show?.[1] };
}

/** Newest version reachable from `from` by applying from+1, from+2, … without a gap (capped by guiVer). */
export function newestReachable(updates: OcsUpdateFile[], from = 7006, guiVer?: number): number {
  const have = new Set(updates.map((u) => u.guiVersion));
  let v = from;
  while (have.has(v + 1) && (guiVer === undefined || v + 1 <= guiVer)) v++;
  return v;
}

/** Detects the layout of an OCS distribution directory; NotFoundError when it is none of them. */
export function detectOcsDist(dir: string): OcsDistribution {
  const abs = path.resolve(dir);
  if (!isDir(abs)) throw new NotFoundError(`OCS distribution ${dir} is not a directory`);
  const candidates: Array<{ layout: OcsDistLayout; root: string }> = [
    { layout: 'release', root: abs },
    { layout: 'debian', root: path.join(abs, 'usr', 'share', 'ocsinventory-reports') },
  ];
  for (const c of candidates) {
    const updatesDir = path.join(c.root, 'files', 'update');
    if (!isDir(updatesDir)) continue;
    const updates = listUpdates(updatesDir);
    const v = readVarPhp(c.root);
    return {
      dir: abs,
      layout: c.layout,
      root: c.root,
      release: v.release,
      guiVer: v.guiVer,
      updates,
      base: readBase(path.join(c.root, 'files', 'ocsbase.sql')),
      newestReachable: newestReachable(updates, 7006, v.guiVer),
    };
  }
  const refDirs = fs
    .readdirSync(abs)
    .filter((f) => /^update-\d+\.\d+(\.\d+)?$/.test(f) && isDir(path.join(abs, f)))
    .sort();
  if (refDirs.length > 0) {
    const chosen = refDirs[refDirs.length - 1];
    const updates = listUpdates(path.join(abs, chosen));
    return {
      dir: abs,
      layout: 'reference',
      root: abs,
      release: chosen.replace(/^update-/, ''),
      updates,
      base: readBase(path.join(abs, 'ocsbase-2.2.sql')),
      newestReachable: newestReachable(updates),
    };
  }
  throw new NotFoundError(`${dir} is not an OCS distribution`, {
    hint: 'expected an unpacked ocsreports release (files/update/NNNN.sql), an unpacked Debian ocsinventory-reports package (usr/share/ocsinventory-reports/files/update/) or a reference folder (update-X.Y.Z/NNNN.sql)',
  });
}

export interface OcsSources {
  /** The update file for each GUI_VERSION, taken from the distribution that reaches furthest. */
  updates: Map<number, OcsUpdateFile & { dist: OcsDistribution }>;
  /** The official 2.2 bridge when a distribution provides one; otherwise the tool's own bridge is used. */
  bridge?: OcsBaseFile & { dist: OcsDistribution };
  newestReachable: number;
}

/** Combines several distributions: updates from the one that reaches furthest, the bridge from any that has one. */
export function resolveOcsSources(dists: OcsDistribution[]): OcsSources {
  const sorted = [...dists].sort((a, b) => b.newestReachable - a.newestReachable);
  const updates = new Map<number, OcsUpdateFile & { dist: OcsDistribution }>();
  for (const d of sorted) {
    for (const u of d.updates) {
      if (d.guiVer !== undefined && u.guiVersion > d.guiVer) continue;
      if (!updates.has(u.guiVersion)) updates.set(u.guiVersion, { ...u, dist: d });
    }
  }
  const withBridge = dists.find((d) => d.base?.kind === 'bridge-7006');
  const bridge = withBridge?.base ? { ...withBridge.base, dist: withBridge } : undefined;
  const all = [...updates.values()];
  return { updates, bridge, newestReachable: newestReachable(all) };
}

export function describeOcsDist(d: OcsDistribution): string {
  const first = d.updates[0]?.guiVersion;
  const last = d.updates[d.updates.length - 1]?.guiVersion;
  const range = first ? `update files ${first}…${last} (${d.updates.length})` : 'no update files';
  const base = d.base ? `, ocsbase: ${d.base.kind}` : '';
  return `${d.layout} ${d.release ?? '?'} at ${d.dir}: ${range}, reaches GUI_VERSION ${d.newestReachable}${base}`;
}

async function which(cmd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

export const DEBIAN_OCS_PACKAGE = 'ocsinventory-reports';

/**
 * Returns Debian's `ocsinventory-reports` package unpacked under `cacheDir` (downloaded once with
 * `apt-get download`, unpacked with `dpkg-deb -x`; nothing is installed). MissingDependencyError when
 * apt-get or dpkg-deb is missing or the download fails.
 */
export async function obtainDebianOcsDist(cacheDir: string): Promise<OcsDistribution> {
  const target = path.join(cacheDir, 'ocsinventory-reports');
  if (isDir(path.join(target, 'usr', 'share', 'ocsinventory-reports', 'files', 'update'))) return detectOcsDist(target);
  for (const tool of ['apt-get', 'dpkg-deb']) {
    if (!(await which(tool))) {
      throw new MissingDependencyError(`${tool} is not available: cannot fetch Debian's ${DEBIAN_OCS_PACKAGE} package`, {
        hint: `on Debian/Ubuntu it is part of the base system; elsewhere, unpack an OCS release yourself and pass --ocs-dist DIR`,
      });
    }
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, 'download-'));
  try {
    const dl = await execa('apt-get', ['download', DEBIAN_OCS_PACKAGE], { cwd: work, reject: false, all: true, timeout: 300_000 });
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (dl.exitCode !== 0 || !deb) {
      const last =
        String(dl.all ?? '')
          .trim()
          .split('\n')
          .slice(-1)[0] ?? '';
      throw new MissingDependencyError(`apt-get download ${DEBIAN_OCS_PACKAGE} failed${last ? `: ${last}` : ''}`, {
        hint: 'run "apt-get update" first (the package lists may be missing), or unpack an OCS release yourself and pass --ocs-dist DIR',
      });
    }
    const extract = path.join(work, 'x');
    const x = await execa('dpkg-deb', ['-x', path.join(work, deb), extract], { reject: false, all: true, timeout: 300_000 });
    if (x.exitCode !== 0) {
      throw new MissingDependencyError(
        `dpkg-deb -x ${deb} failed: ${
          String(x.all ?? '')
            .trim()
            .split('\n')
            .slice(-1)[0] ?? ''
        }`,
      );
    }
    try {
      fs.renameSync(extract, target);
    } catch (err) {
      // Another process unpacked it at the same time: use theirs.
      if (!isDir(target)) throw err;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const dist = detectOcsDist(target);
  if (dist.updates.length === 0) throw new UnsupportedError(`Debian's ${DEBIAN_OCS_PACKAGE} package holds no OCS update files`);
  return dist;
}
