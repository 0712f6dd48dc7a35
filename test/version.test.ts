/**
 * Version comparison in one place (src/catalog/version.ts): dotted product versions compared number by
 * number (GLPI 0.83.8-style, OCS, database servers), PHP versions against semver ranges, and the
 * distribution finders that pick the newest tree of a series through them.
 */
import { describe, expect, it } from 'vitest';
import { compareDotted, isSemverLike, isVersionRange, newestVersion, sameVersion, satisfiesRange } from '../src/catalog/version.ts';
import { findGlpiDist, findPluginDist, type GlpiDistribution, type PluginDistribution } from '../src/distributions/glpi.ts';

describe('compareDotted', () => {
  it('orders GLPI releases number by number, not as text', () => {
    const sorted = ['10.0.19', '9.2', '0.85', '0.83.8', '9.1.7.1', '10.0.3', '9.1.7', '0.83.91'].sort(compareDotted);
    expect(sorted).toEqual(['0.83.8', '0.83.91', '0.85', '9.1.7', '9.1.7.1', '9.2', '10.0.3', '10.0.19']);
  });

  it('counts missing parts as zero and ignores trailing non-digits in a part', () => {
    expect(compareDotted('10.0', '10.0.0')).toBe(0);
    expect(compareDotted('2.1', '2.0.5')).toBeGreaterThan(0);
    expect(compareDotted('10.11.6-MariaDB', '10.11.6')).toBe(0);
    expect(sameVersion('10.0', '10.0.0')).toBe(true);
    expect(sameVersion('10.0.1', '10.0.10')).toBe(false);
  });

  it('is antisymmetric', () => {
    const vs = ['0.83.8', '0.85.5', '9.5.13', '10.0.19', '11.0.1', '2.12.4', '7.4'];
    for (const a of vs) for (const b of vs) expect(Math.sign(compareDotted(a, b))).toBe(-Math.sign(compareDotted(b, a)) || 0);
  });
});

describe('newestVersion', () => {
  it('picks the newest item by its version, undefined for none', () => {
    const items = [{ v: '10.0.9' }, { v: '10.0.19' }, { v: '10.0.3' }];
    expect(newestVersion(items, (i) => i.v)).toEqual({ v: '10.0.19' });
    expect(newestVersion([], (i: { v: string }) => i.v)).toBeUndefined();
  });
});

describe('PHP versions and semver ranges', () => {
  it('reads distribution-suffixed PHP versions', () => {
    expect(isSemverLike('8.2.7-1+deb12u1')).toBe(true);
    expect(isSemverLike('not a version')).toBe(false);
  });

  it('checks a version against a range; no range always fits', () => {
    expect(satisfiesRange('8.2.7', '>=7.4.0 <8.5.0')).toBe(true);
    expect(satisfiesRange('8.2.7-1+deb12u1', '>=7.4.0 <8.5.0')).toBe(true);
    expect(satisfiesRange('8.5.0', '>=7.4.0 <8.5.0')).toBe(false);
    expect(satisfiesRange('garbage', '>=7.4.0')).toBe(false);
    expect(satisfiesRange('5.3', undefined)).toBe(true);
  });

  it('tells a range from garbage', () => {
    expect(isVersionRange('>=7.4.0 <8.5.0')).toBe(true);
    expect(isVersionRange('>= seven')).toBe(false);
  });
});

describe('distribution finders', () => {
  const glpi = (version: string): GlpiDistribution => ({ dir: `/d/${version}`, version, hasConsole: true, hasVendor: true, versionSource: 'version-dir' });
  const plugin = (version: string): PluginDistribution => ({ dir: `/p/${version}`, name: 'ocsinventoryng', version });

  it('findGlpiDist: the exact release, else the newest of its x.y series', () => {
    const dists = [glpi('10.0.9'), glpi('10.0.19'), glpi('10.0.3'), glpi('9.5.13')];
    expect(findGlpiDist(dists, '10.0.3')?.version).toBe('10.0.3');
    expect(findGlpiDist(dists, '10.0')?.version).toBe('10.0.19');
    expect(findGlpiDist(dists, '11.0')).toBeUndefined();
  });

  it('findPluginDist: the exact release, else the newest of its x.y series (was: the first given)', () => {
    const dists = [plugin('2.0.3'), plugin('2.0.5'), plugin('2.1.11')];
    expect(findPluginDist(dists, '2.0.3')?.version).toBe('2.0.3');
    expect(findPluginDist(dists, '2.0')?.version).toBe('2.0.5');
    expect(findPluginDist(dists, '1.7')).toBeUndefined();
  });
});
