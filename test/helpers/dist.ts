/**
 * The real product distributions for tests: GLPI 10.0.19 (with vendor/) and the ocsinventoryng plugin
 * 2.0.5 (GLPI 10.0) and 2.1.11 (GLPI 11.0).
 *
 * Where they come from, first match wins:
 *   1. GLPI_DIST, PLUGIN_DIST (2.0.x) and PLUGIN_DIST_GLPI11 (2.1.x): unpacked trees named by the developer;
 *   2. the tarballs in ../shared/dist (GOU_SHARED_DIR/dist), checked against the sha256 pinned below and
 *      unpacked once into ${XDG_CACHE_HOME:-~/.cache}/glpi-ocs-upgrade/shared-dist/<name>/, with a stamp file
 *      holding the verified sha256. Unpacking happens in vitest's globalSetup (test/global-setup.ts); a
 *      lock directory keeps two processes from unpacking the same tarball at once.
 * A tree found in the cache without a stamp (unpacked by hand) is compared with its tarball (`tar --diff`)
 * and adopted when identical, else unpacked again beside it and swapped in.
 *
 * When nothing is found, tests skip with `distSkipReason(…)`, which says what to set. Under CI=true, a
 * tarball that is present but cannot be verified or unpacked, or a missing PHP while the tarballs are there,
 * is an error (`assertDistsUsableInCi`), so a broken CI machine cannot pass by skipping the real updaters.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OcsDistribution } from '../../src/distributions/ocs.ts';
import { SHARED_DIR } from './shared.ts';

export interface SharedTarball {
  /** File name in ../shared/dist. */
  file: string;
  sha256: string;
  /** The directory the tarball unpacks to. */
  inner: string;
}

/** The tarballs of ../shared/dist/README.md, with the checksums these tests were written against. */
export const SHARED_TARBALLS = {
  glpi: { file: 'glpi-10.0.19.tar.xz', sha256: 'e4c3ebde658e24ae730c0e3ac952db7b0cdaa01c66cb325f06c6df4705b97a67', inner: 'glpi-10.0.19' },
  'plugin-2.0.5': { file: 'ocsinventoryng-2.0.5.tar.xz', sha256: '5103771bfc0fce9c57bb4a9a99dacd69be5d935ae5c574ab8d2848f2df5a259a', inner: 'ocsinventoryng' },
  'plugin-2.1.11': { file: 'ocsinventoryng-2.1.11.tar.xz', sha256: '6e3c9839dc091fa02141ec02f4c3443211f75134df12540023dbe6e61c9ac569', inner: 'ocsinventoryng' },
} as const satisfies Record<string, SharedTarball>;

export type SharedDistKey = keyof typeof SHARED_TARBALLS;
export type PluginVersion = '2.0.5' | '2.1.11';

/** The PHP extensions GLPI 10.0 and the plugin need (php8.2-* packages of Debian, see .ci/run). */
export const PHP_EXTENSIONS = ['mysqli', 'mbstring', 'intl', 'gd', 'curl', 'xml', 'zip', 'bz2', 'ldap'] as const;
export const PHP_INSTALL_HINT = 'apt-get install php8.2-cli php8.2-mysql php8.2-mbstring php8.2-intl php8.2-gd php8.2-curl php8.2-xml php8.2-zip php8.2-bz2 php8.2-ldap, or set GOU_PHP';

export function sharedDistDir(): string {
  return path.join(SHARED_DIR, 'dist');
}

export function distCacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'glpi-ocs-upgrade', 'shared-dist');
}

function tarballPath(key: SharedDistKey): string {
  return path.join(sharedDistDir(), SHARED_TARBALLS[key].file);
}

function cacheDir(key: SharedDistKey): string {
  return path.join(distCacheRoot(), SHARED_TARBALLS[key].file.replace(/\.tar\.xz$/, ''));
}

const STAMP = '.verified-sha256';

function stampOk(key: SharedDistKey): boolean {
  try {
    return fs.readFileSync(path.join(cacheDir(key), STAMP), 'utf8').trim() === SHARED_TARBALLS[key].sha256;
  } catch {
    return false;
  }
}

function sha256Of(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding an exclusive lock directory (mkdir is atomic); a lock whose owner died is taken over. */
export function withLock<T>(lockDir: string, fn: () => T): T {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
      } catch {
        /* being created or removed */
      }
      const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if ((Number.isFinite(owner) && owner > 0 && !pidAlive(owner)) || (!Number.isFinite(owner) && age > 30_000)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockDir} (held by pid ${owner})`);
      sleepMs(200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function tar(args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('tar', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: r.status === 0, output: `${r.error?.message ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

export interface EnsureResult {
  key: SharedDistKey;
  /** The unpacked tree, when usable. */
  dir?: string;
  action: 'absent' | 'cached' | 'adopted' | 'unpacked' | 'failed';
  /** Why it failed. */
  error?: string;
}

/**
 * Makes the tarball `key` usable from the cache: nothing to do when the stamp matches; else verifies the
 * tarball's checksum and adopts (an identical hand-unpacked tree) or unpacks it. Never throws: failures are
 * returned, and `assertDistsUsableInCi` decides whether they are fatal.
 */
export function ensureSharedDist(key: SharedDistKey): EnsureResult {
  return { key, ...unpackVerified(SHARED_TARBALLS[key], tarballPath(key), cacheDir(key)) };
}

/** The work of `ensureSharedDist` for any tarball (tests use small ones): unpacks `tarball` into `dir`. */
export function unpackVerified(spec: SharedTarball, tarball: string, dir: string): Omit<EnsureResult, 'key'> {
  const tree = path.join(dir, spec.inner);
  const stamped = () => {
    try {
      return fs.readFileSync(path.join(dir, STAMP), 'utf8').trim() === spec.sha256;
    } catch {
      return false;
    }
  };
  if (!fs.existsSync(tarball)) return { action: 'absent' };
  if (stamped()) return { dir: tree, action: 'cached' };
  try {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    return withLock(`${dir}.lock`, (): Omit<EnsureResult, 'key'> => {
      if (stamped()) return { dir: tree, action: 'cached' };
      const sum = sha256Of(tarball);
      if (sum !== spec.sha256) return { action: 'failed', error: `${tarball}: sha256 ${sum}, expected ${spec.sha256}` };
      // A tree unpacked by hand (no stamp): adopt it when it is exactly the tarball's content.
      if (fs.existsSync(tree) && tar(['--diff', '-Jf', tarball, '-C', dir]).ok) {
        fs.writeFileSync(path.join(dir, STAMP), `${spec.sha256}\n`);
        return { dir: tree, action: 'adopted' };
      }
      const fresh = fs.mkdtempSync(`${dir}.new-`);
      const unpacked = tar(['-xJf', tarball, '-C', fresh]);
      if (!unpacked.ok || !fs.existsSync(path.join(fresh, spec.inner))) {
        fs.rmSync(fresh, { recursive: true, force: true });
        return { action: 'failed', error: `tar -xJf ${tarball} failed: ${unpacked.output.slice(0, 500) || `no ${spec.inner}/ inside`}` };
      }
      fs.writeFileSync(path.join(fresh, STAMP), `${spec.sha256}\n`);
      // Swap: the old (different or partial) tree is moved aside, then removed.
      const old = fs.existsSync(dir) ? `${dir}.old-${process.pid}` : undefined;
      if (old) fs.renameSync(dir, old);
      fs.renameSync(fresh, dir);
      if (old) fs.rmSync(old, { recursive: true, force: true });
      return { dir: tree, action: 'unpacked' };
    });
  } catch (e) {
    return { action: 'failed', error: (e as Error).message };
  }
}

/** Unpacks every tarball present in ../shared/dist (vitest globalSetup calls this once). */
export function ensureSharedDists(): EnsureResult[] {
  return (Object.keys(SHARED_TARBALLS) as SharedDistKey[]).map(ensureSharedDist);
}

export function phpCommand(): string {
  return process.env.GOU_PHP || 'php';
}

let phpCache: { ok: boolean; reason: string } | undefined;
/** Whether PHP runs and has the extensions GLPI needs; the reason says what to install when not. */
export function phpStatus(): { ok: boolean; reason: string } {
  if (phpCache) return phpCache;
  const php = phpCommand();
  const r = spawnSync(php, ['-m'], { encoding: 'utf8' });
  if (r.status !== 0) {
    phpCache = { ok: false, reason: `no working PHP (${php}): ${PHP_INSTALL_HINT}` };
  } else {
    const have = new Set(r.stdout.split('\n').map((l) => l.trim().toLowerCase()));
    const missing = PHP_EXTENSIONS.filter((x) => !have.has(x));
    phpCache = missing.length ? { ok: false, reason: `PHP (${php}) lacks the extension(s) ${missing.join(', ')}: ${PHP_INSTALL_HINT}` } : { ok: true, reason: '' };
  }
  return phpCache;
}

function usable(dir: string | undefined): string | undefined {
  return dir && fs.existsSync(dir) ? dir : undefined;
}

function fromShared(key: SharedDistKey): string | undefined {
  if (stampOk(key)) return usable(fs.existsSync(tarballPath(key)) ? path.join(cacheDir(key), SHARED_TARBALLS[key].inner) : undefined);
  // globalSetup did not run (another config, or a single file run by hand): unpack now, under the lock.
  return ensureSharedDist(key).dir;
}

/** The GLPI 10.0.19 release tree (with vendor/): GLPI_DIST, else ../shared/dist; undefined when neither. */
export function glpiDist(): string | undefined {
  if (process.env.GLPI_DIST) return usable(process.env.GLPI_DIST);
  return fromShared('glpi');
}

/** The ocsinventoryng plugin tree: 2.0.5 (GLPI 10.0; PLUGIN_DIST) or 2.1.11 (GLPI 11.0; PLUGIN_DIST_GLPI11). */
export function pluginDist(version: PluginVersion = '2.0.5'): string | undefined {
  const env = version === '2.0.5' ? process.env.PLUGIN_DIST : process.env.PLUGIN_DIST_GLPI11;
  if (env) return usable(env);
  return fromShared(version === '2.0.5' ? 'plugin-2.0.5' : 'plugin-2.1.11');
}

export interface DistNeeds {
  glpi?: boolean;
  plugin?: PluginVersion;
  php?: boolean;
}

/**
 * '' when everything `needs` asks for is here, else one sentence saying what is missing and what to set.
 * Use as `it.skipIf(reason !== '')(`… ${reason}`, …)`.
 */
export function distSkipReason(needs: DistNeeds = { glpi: true, php: true }): string {
  const missing: string[] = [];
  const where = `../shared/dist not found beside the repository (set GOU_SHARED_DIR)`;
  if (needs.glpi && !glpiDist()) {
    missing.push(
      process.env.GLPI_DIST
        ? `GLPI_DIST=${process.env.GLPI_DIST} does not exist`
        : `no GLPI 10.0.19 tree: set GLPI_DIST to an unpacked GLPI 10.0.x release with vendor/, or ${fs.existsSync(sharedDistDir()) ? `check ${path.join(sharedDistDir(), SHARED_TARBALLS.glpi.file)}` : where}`,
    );
  }
  if (needs.plugin && !pluginDist(needs.plugin)) {
    const env = needs.plugin === '2.0.5' ? 'PLUGIN_DIST' : 'PLUGIN_DIST_GLPI11';
    missing.push(
      `no ocsinventoryng ${needs.plugin} tree: set ${env} to an unpacked plugin release, or ${fs.existsSync(sharedDistDir()) ? `check ${path.join(sharedDistDir(), SHARED_TARBALLS[needs.plugin === '2.0.5' ? 'plugin-2.0.5' : 'plugin-2.1.11'].file)}` : where}`,
    );
  }
  if (needs.php && !phpStatus().ok) missing.push(phpStatus().reason);
  return missing.join('; ');
}

/**
 * Under CI=true, the real-updater tests must not skip when their inputs are on the machine: a tarball that is
 * present but failed (checksum, unpacking) or a missing/incomplete PHP while the tarballs are there throws.
 */
export function assertDistsUsableInCi(results: EnsureResult[], env: NodeJS.ProcessEnv = process.env): void {
  if (env.CI !== 'true') return;
  const problems = results.filter((r) => r.action === 'failed').map((r) => `${SHARED_TARBALLS[r.key].file}: ${r.error}`);
  if (results.some((r) => r.action !== 'absent') && !phpStatus().ok) problems.push(phpStatus().reason);
  if (problems.length) {
    throw new Error(`CI=true and ${sharedDistDir()} holds the product distributions, but the real-updater tests could not run: ${problems.join('; ')}`);
  }
}

/** Where the tests keep Debian's ocsinventory-reports package once fetched (test/executors-ocs.test.ts fetches it). */
export const DEBIAN_OCS_CACHE = path.join(os.tmpdir(), 'glpi-ocs-upgrade-test-cache');

/**
 * Debian's ocsinventory-reports package as a test fetched it into `cacheDir`, without fetching it (no
 * program runs: for the unit project), or undefined when it is not there yet.
 */
export async function cachedDebianOcs(cacheDir = DEBIAN_OCS_CACHE): Promise<OcsDistribution | undefined> {
  const dir = path.join(cacheDir, 'ocsinventory-reports');
  if (!fs.existsSync(dir)) return undefined;
  const { detectOcsDist } = await import('../../src/distributions/ocs.ts');
  return detectOcsDist(dir);
}

/**
 * Debian's ocsinventory-reports package (OCS's real update files), fetched once with apt-get download into
 * `cacheDir`. Offline on a cold cache, `skip` says why and what to do; under CI=true that is an error.
 */
export async function debianOcsOrSkip(cacheDir: string): Promise<{ dist?: OcsDistribution; skip: string }> {
  const { obtainDebianOcsDist } = await import('../../src/distributions/ocs.ts');
  const { MissingDependencyError } = await import('../../src/errors.ts');
  try {
    return { dist: await obtainDebianOcsDist(cacheDir), skip: '' };
  } catch (err) {
    if (!(err instanceof MissingDependencyError)) throw err;
    if (process.env.CI === 'true') throw new Error(`CI=true but Debian's ocsinventory-reports could not be fetched: ${err.message}`);
    return { skip: `${err.message} (needs network access to a Debian mirror once, or an unpacked package in ${cacheDir})` };
  }
}
