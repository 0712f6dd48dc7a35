/**
 * Version comparison, in one place. Two kinds of versions meet in this tool:
 *
 * - dotted product versions, compared number by number: GLPI ("0.83.8", "9.1.7.1", "10.0"), OCS ("2.1",
 *   "2.12.4"), the plugin, database servers ("10.11.6"). They are not semver (two or four parts are common),
 *   so `compareDotted` never goes through `semver`;
 * - PHP versions against the ranges the catalog declares (">=7.4.0 <8.5.0"): semver ranges, on `semver`.
 *
 * This module depends on nothing of the tool: every folder may use it.
 */
import semver from 'semver';

/**
 * Compares two dotted versions numerically ("0.83.8" < "0.85" < "9.2" < "10.0.19"); missing parts count as 0
 * ("10.0" equals "10.0.0"), and a part's trailing non-digits are ignored ("10.0.0-rc1" equals "10.0.0").
 */
export function compareDotted(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when two dotted versions are the same release ("10.0" and "10.0.0" are). */
export function sameVersion(a: string, b: string): boolean {
  return compareDotted(a, b) === 0;
}

/** The newest of some dotted versions (by `compareDotted`), undefined when there is none. */
export function newestVersion<T>(items: readonly T[], version: (item: T) => string): T | undefined {
  let best: T | undefined;
  for (const item of items) if (best === undefined || compareDotted(version(item), version(best)) > 0) best = item;
  return best;
}

/** True when a version string can be read as semver once coerced ("8.2.7", "8.2.7-1+deb12u1" → 8.2.7). */
export function isSemverLike(version: string): boolean {
  return semver.coerce(version) !== null;
}

/** True when a text is a valid semver range (">=7.4.0 <8.5.0"). */
export function isVersionRange(range: string): boolean {
  return semver.validRange(range) !== null;
}

/** True when a version (coerced to semver: "8.2.7-1+deb12u1" → 8.2.7) satisfies a semver range; no range → true. */
export function satisfiesRange(version: string, range: string | undefined): boolean {
  if (!range) return true;
  const v = semver.coerce(version);
  return v !== null && semver.satisfies(v, range);
}
