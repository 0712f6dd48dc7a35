/**
 * GLPI release trees (`--glpi-dist DIR`, one per release the plan needs) and ocsinventoryng plugin
 * releases (`--plugin-dist DIR`), plus the PHP binary (`--php`). Detection only reads files; nothing here
 * runs GLPI.
 *
 *   GLPI tree      DIR/bin/console, DIR/vendor/autoload.php, version from DIR/version/<x.y.z> (10.0+)
 *                  or `define('GLPI_VERSION', …)` in DIR/inc/define.php (older trees)
 *   plugin tree    DIR/setup.php defining PLUGIN_OCSINVENTORYNG_VERSION (2.1.x) or PLUGIN_OCS_VERSION (≤ 2.0.x),
 *                  and the GLPI min/max of its requirements
 */
import fs from 'node:fs';
import path from 'node:path';
import { isSemverLike, newestVersion, satisfiesRange } from '../catalog/version.ts';
import { execa } from 'execa';
import { MissingDependencyError, NotFoundError, UnsupportedError } from '../errors.ts';
import { isDir, isFile } from '../util/files.ts';

export interface GlpiDistribution {
  dir: string;
  version: string;
  /** bin/console exists (GLPI ≥ 9.4) and vendor/ is installed. */
  hasConsole: boolean;
  hasVendor: boolean;
  /** What was used to find the version. */
  versionSource: 'version-dir' | 'define.php';
}

export interface PluginDistribution {
  dir: string;
  name: 'ocsinventoryng';
  version: string;
  glpiMin?: string;
  glpiMax?: string;
}

export function detectGlpiDist(dir: string): GlpiDistribution {
  const abs = path.resolve(dir);
  if (!isDir(abs)) throw new NotFoundError(`GLPI distribution ${dir} is not a directory`);
  let version: string | undefined;
  let versionSource: GlpiDistribution['versionSource'] = 'version-dir';
  const vdir = path.join(abs, 'version');
  if (isDir(vdir)) {
    const found = fs.readdirSync(vdir).filter((f) => /^\d+\.\d+(\.\d+)*(-[\w.]+)?$/.test(f));
    if (found.length === 1) version = found[0];
  }
  if (!version) {
    const define = path.join(abs, 'inc', 'define.php');
    if (isFile(define)) {
      const m = /define\(\s*['"]GLPI_VERSION['"]\s*,\s*['"]([^'"]+)['"]\s*\)/.exec(fs.readFileSync(define, 'utf8'));
      if (m) {
        version = m[1].trim();
        versionSource = 'define.php';
      }
    }
  }
  if (!version) {
    throw new NotFoundError(`${dir} is not a GLPI release tree: no version/<x.y.z> file and no GLPI_VERSION in inc/define.php`, {
      hint: 'pass the root of an unpacked GLPI release (the folder that holds bin/, inc/, install/, vendor/)',
    });
  }
  return {
    dir: abs,
    version,
    versionSource,
    hasConsole: isFile(path.join(abs, 'bin', 'console')),
    hasVendor: isFile(path.join(abs, 'vendor', 'autoload.php')),
  };
}

/** The distribution for a release: exact version, or the same x.y series when the plan names "10.0". */
export function findGlpiDist(dists: GlpiDistribution[], release: string): GlpiDistribution | undefined {
  const exact = dists.find((d) => d.version === release);
  if (exact) return exact;
  if (/^\d+\.\d+$/.test(release)) {
    return newestVersion(
      dists.filter((d) => d.version.startsWith(`${release}.`)),
      (d) => d.version,
    );
  }
  return undefined;
}

export function detectPluginDist(dir: string): PluginDistribution {
  const abs = path.resolve(dir);
  const setup = path.join(abs, 'setup.php');
  if (!isFile(setup)) {
    throw new NotFoundError(`${dir} is not an ocsinventoryng plugin release: no setup.php`, {
      hint: 'pass the root of an unpacked pluginsGLPI/ocsinventoryng release (the folder that holds setup.php and hook.php)',
    });
  }
  const text = fs.readFileSync(setup, 'utf8');
  // 2.1.x: PLUGIN_OCSINVENTORYNG_VERSION; 2.0.x and older: PLUGIN_OCS_VERSION.
  const v = /define\(\s*['"]PLUGIN_OCS(?:INVENTORYNG)?_VERSION['"]\s*,\s*['"]([^'"]+)['"]/.exec(text);
  if (!v) throw new UnsupportedError(`${setup} defines no PLUGIN_OCSINVENTORYNG_VERSION / PLUGIN_OCS_VERSION: not an ocsinventoryng release`);
  const req = /['"]glpi['"]\s*=>\s*\[\s*['"]min['"]\s*=>\s*['"]([^'"]+)['"]\s*,\s*['"]max['"]\s*=>\s*['"]([^'"]+)['"]/.exec(text);
  const min = req ? [req[0], req[1]] : null;
  const max = req ? [req[0], req[2]] : null;
  return { dir: abs, name: 'ocsinventoryng', version: v[1], glpiMin: min?.[1], glpiMax: max?.[1] };
}

export function findPluginDist(dists: PluginDistribution[], version: string): PluginDistribution | undefined {
  const exact = dists.find((d) => d.version === version);
  if (exact || !/^\d+\.\d+$/.test(version)) return exact;
  return newestVersion(
    dists.filter((d) => d.version.startsWith(`${version}.`)),
    (d) => d.version,
  );
}

export interface PhpInfo {
  bin: string;
  version: string;
}

/** Runs `php -r 'echo PHP_VERSION;'`; MissingDependencyError when the binary cannot run. */
export async function probePhp(bin = 'php'): Promise<PhpInfo> {
  const r = await execa(bin, ['-n', '-r', 'echo PHP_VERSION;'], { reject: false, timeout: 30_000 }).catch((err: unknown) => ({
    exitCode: -1,
    stdout: '',
    stderr: String((err as Error).message),
    failed: true,
  }));
  const version = String(r.stdout ?? '').trim();
  if (r.exitCode !== 0 || !isSemverLike(version)) {
    throw new MissingDependencyError(`PHP binary "${bin}" cannot run or does not report a version`, {
      hint: 'install PHP (Debian: apt-get install php8.2-cli php8.2-mysql php8.2-mbstring php8.2-intl php8.2-gd php8.2-curl php8.2-xml php8.2-zip php8.2-bz2) or pass --php PATH',
    });
  }
  return { bin, version };
}

/** True when the PHP version satisfies the step's range (e.g. ">=7.4.0 <8.5.0"); no range → true. */
export function phpSatisfies(version: string, range: string | undefined): boolean {
  return satisfiesRange(version, range);
}
