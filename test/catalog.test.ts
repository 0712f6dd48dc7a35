/**
 * The catalog in migrations/: it loads and validates; a broken entry gives a precise message naming the file,
 * the path in it and what is wrong; the facts the planner relies on are there; ocs-releases.ts still works.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { CATALOG_FILES, CatalogError, glpiBranchOf, loadCatalog, newestGlpiRelease, newestOcsRelease, pluginAcceptsOcs, pluginForGlpi } from '../src/catalog/catalog.ts';
import { MIGRATIONS_DIR, newestOcsGuiVersion, ocsReleasesForGuiVersion } from '../src/catalog/ocs-releases.ts';
import { parseDocument, show, z } from '../src/formats/schema.ts';
import { ExitCode } from '../src/errors.ts';

describe('catalog: the real files', () => {
  const c = loadCatalog();

  it('has every GLPI branch from 0.83 to 11.0 with its updater facts', () => {
    expect(c.glpi.branches.map((b) => b.branch)).toEqual(['0.83', '0.84', '0.85', '0.90', '9.1', '9.2', '9.3', '9.4', '9.5', '10.0', '11.0']);
    const by = (v: string) => glpiBranchOf(c, v)!;
    expect(by('0.83.8').updater.entry).toBe('tools/cliupdate.php');
    expect(by('9.2.4').updater.entry).toBe('scripts/cliupdate.php');
    expect(by('9.4.6').updater).toMatchObject({ entry: 'bin/console', command: 'db:update' });
    expect(by('10.0.22').updater.accepts_from).toBe('0.80');
    expect(by('11.0.7').updater.accepts_from).toBe('0.85.5');
    expect(by('10.0.22')).toMatchObject({ php: '>=7.4.0 <8.5.0', mysql: '5.7', mariadb: '10.2' });
    expect(by('11.0.7')).toMatchObject({ php: '>=8.2.0 <8.6.0', mysql: '8.0', mariadb: '10.6', requires_innodb: true });
    expect(by('10.0.22').conversions!.map((x) => x.command)).toEqual([
      'migration:myisam_to_innodb',
      'migration:dynamic_row_format',
      'migration:utf8mb4',
      'migration:unsigned_keys',
      'migration:timestamps',
    ]);
    expect(by('10.0.22').check).toEqual({ command: 'db:check_schema_integrity', args: ['--check-all-migrations', '-n'] });
    expect(newestGlpiRelease(c)).toBe('11.0.7');
    expect(glpiBranchOf(c, '9.1.7.1')!.latest).toBe('9.1.7.1');
    expect(glpiBranchOf(c, '0.78')).toBeUndefined();
  });

  it('has OCS 2.1 → 2.12.4 with GUI_VERSIONs, requirements, the bridge, 75 update files and the PHP-side changes', () => {
    expect(c.ocs.releases[0]).toMatchObject({ version: '2.1', gui_version: 7005 });
    expect(newestOcsRelease(c)).toMatchObject({ version: '2.12.4', gui_version: 7081 });
    expect(c.ocs.bridge).toMatchObject({ from_gui_versions: [7005], to_gui_version: 7006, release: '2.2', file: 'files/ocsbase.sql' });
    expect(c.ocs.updateFiles.map((f) => f.gui_version)).toEqual(Array.from({ length: 75 }, (_, i) => 7007 + i));
    expect(c.ocs.updateFiles.find((f) => f.gui_version === 7037)!.rows_deleted![0].table).toBe('softwares');
    expect(c.ocs.updateFiles.find((f) => f.gui_version === 7080)!.rows_deleted![0].table).toBe('batteries');
    expect(c.ocs.phpChanges.map((p) => [p.id, p.gui_version])).toEqual([
      ['accountinfo-types-2.5', 7015],
      ['snmp-lastdate-2.10', 7068],
    ]);
    for (const r of c.ocs.releases) expect(r.php, r.version).toBeTruthy();
  });

  it('has the plugin releases with GLPI ranges; OCS ≥ 2.8 needs plugin ≥ 1.7.1', () => {
    expect(pluginForGlpi(c, '0.84.8')!.version).toBe('1.0.3');
    expect(pluginForGlpi(c, '9.5.13')!.version).toBe('1.7.3');
    expect(pluginForGlpi(c, '10.0.22')!.version).toBe('2.0.5');
    expect(pluginForGlpi(c, '11.0.7')!.version).toBe('2.1.11');
    expect(pluginForGlpi(c, '0.83.8')).toBeUndefined();
    const byVersion = (v: string) => c.plugin.releases.find((p) => p.version === v)!;
    expect(pluginAcceptsOcs(byVersion('1.7.0'), 7037)).toBe(false);
    expect(pluginAcceptsOcs(byVersion('1.7.0'), 7028)).toBe(true);
    expect(pluginAcceptsOcs(byVersion('1.7.3'), 7081)).toBe(true);
    expect(pluginAcceptsOcs(byVersion('2.0.5'), 7037)).toBe(true);
  });

  it('has the French twin of every text the plan quotes (notes_fr, why_fr, what_fr, only_if_fr, proven_fr)', () => {
    const rows = [...c.glpi.branches.flatMap((b) => b.rows_deleted ?? []), ...(c.ocs.bridge.rows_deleted ?? []), ...c.ocs.updateFiles.flatMap((f) => f.rows_deleted ?? [])];
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) expect(r.why_fr, r.why).toMatch(/\S/);
    const withNotes = [...c.glpi.branches, ...c.ocs.updateFiles, ...c.ocs.phpChanges, c.ocs.bridge].filter((x) => x.notes);
    expect(withNotes.length).toBeGreaterThan(15);
    for (const x of withNotes) {
      expect(x.notes_fr, x.notes).toMatch(/\S/);
      expect(x.notes_fr, x.notes).not.toBe(x.notes);
    }
    for (const conv of c.glpi.branches.flatMap((b) => b.conversions ?? [])) expect(conv.what_fr, conv.what).toMatch(/\S/);
    for (const ch of c.ocs.phpChanges) {
      expect(ch.what_fr, ch.id).not.toBe(ch.what);
      if (ch.only_if) expect(ch.only_if_fr, ch.id).toMatch(/\S/);
    }
    for (const p of c.plugin.releases.filter((x) => x.proven)) expect(p.proven_fr, p.version).toMatch(/\S/);
  });

  it('keeps src/catalog/ocs-releases.ts (used by inspect) working on the extended file', () => {
    expect(ocsReleasesForGuiVersion(7005)).toEqual(['2.1', '2.1.1']);
    expect(ocsReleasesForGuiVersion(7069)).toEqual(['2.11.1']);
    expect(ocsReleasesForGuiVersion(7033)).toEqual([]);
    expect(newestOcsGuiVersion()).toBe(7081);
  });
});

// ------------------------------------------------------------------------------------------ broken entries

function brokenCatalog(file: string, mutate: (doc: Record<string, any>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-catalog-'));
  for (const f of Object.values(CATALOG_FILES)) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
  const doc = YAML.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  mutate(doc);
  fs.writeFileSync(path.join(dir, file), YAML.stringify(doc));
  return dir;
}

describe('catalog: a broken entry gives a precise message', () => {
  const G = CATALOG_FILES.glpi;
  const O = CATALOG_FILES.ocsUpdates;
  const R = CATALOG_FILES.ocsReleases;
  const P = CATALOG_FILES.plugin;
  it.each([
    ['a missing PHP range', G, (d: any) => delete d.branches[9].php, /glpi-releases\.yaml: branches\[9\]\.php: is required/],
    ['a PHP range that is not semver', G, (d: any) => (d.branches[9].php = 'PHP 7.4 to 8.4'), /branches\[9\]\.php: expected a semver range like/],
    [
      'a misspelt updater entry',
      G,
      (d: any) => (d.branches[10].updater.entry = 'bin/consol'),
      /branches\[10\]\.updater\.entry: expected one of tools\/cliupdate\.php, scripts\/cliupdate\.php, bin\/console, got "bin\/consol"/,
    ],
    ['an unknown key', G, (d: any) => (d.branches[2].phpp = '>=5'), /branches\[2\]\.phpp: unknown key \(expected one of branch, releases/],
    ['a version that is not dotted', G, (d: any) => (d.branches[1].latest = '0.84-8'), /branches\[1\]\.latest: expected a dotted version like "10\.0\.22", got "0\.84-8"/],
    ['a latest missing from its releases', G, (d: any) => (d.branches[9].latest = '10.0.30'), /branches\[9\] \(10\.0\)\.latest 10\.0\.30 is not in its releases list/],
    ['a release in the wrong branch', G, (d: any) => d.branches[4].releases.push('9.2.1'), /branches\[4\] \(9\.1\)\.releases: 9\.2\.1 does not belong to branch 9\.1/],
    ['branches out of order', G, (d: any) => ([d.branches[3], d.branches[4]] = [d.branches[4], d.branches[3]]), /branches\[4\] \(0\.90\): branches must be in ascending order/],
    ['a hazard on an unknown branch', G, (d: any) => (d.hazards[0].hop_into = '12.0'), /hazards\[0\] \(glpi\.schema\.drift\): branch 12\.0 is not in the catalog/],
    ['a gap in the update files', O, (d: any) => d.update_files.splice(30, 1), /ocs-updates\.yaml: update_files\[30\]: expected gui_version 7037 .* got 7038/],
    ['an update file naming an undefined hazard', O, (d: any) => (d.update_files[30].hazards = ['ocs.nope']), /update file 7037: hazard ocs\.nope is not defined under hazards/],
    ['a table name with a space', O, (d: any) => (d.update_files[0].created = ['bat teries']), /update_files\[0\]\.created\[0\]: expected a table name, got "bat teries"/],
    ['a GUI_VERSION that is a string', R, (d: any) => (d.releases[3].gui_version = '7009'), /ocs-releases\.yaml: releases\[3\]\.gui_version: expected an integer, got "7009"/],
    ['releases out of GUI_VERSION order', R, (d: any) => (d.releases[5].gui_version = 7001), /releases\[5\] \(2\.3\): gui_version 7001 is lower than the previous release's/],
    [
      'a release beyond the update files',
      R,
      (d: any) => d.releases.push({ version: '2.13', gui_version: 7090, php: '>=8.0.0', mysql: '8.0' }),
      /release 2\.13 has gui_version 7090 but ocs-updates\.yaml stops at 7081/,
    ],
    [
      'a plugin range upside down',
      P,
      (d: any) => (d.releases[11].glpi_max_exclusive = '9.0'),
      /ocsinventoryng-releases\.yaml: releases\[11\] \(2\.0\.5\): glpi_min 10\.0 must be lower than glpi_max_exclusive 9\.0/,
    ],
    ['a plugin install mode unknown', P, (d: any) => (d.releases[0].install = 'cli'), /releases\[0\]\.install: expected one of web, console, got "cli"/],
    ['a wrong format', P, (d: any) => (d.format = 2), /ocsinventoryng-releases\.yaml: format 2 is newer than this tool understands \(format 1\)/],
    [
      'a branch note without its French twin',
      G,
      (d: any) => delete d.branches[9].notes_fr,
      /glpi-releases\.yaml: branches\[9\] \(10\.0\)\.notes_fr is required with notes \(the French documents print it\)/,
    ],
    ['a conversion without its French description', G, (d: any) => delete d.branches[9].conversions[2].what_fr, /branches\[9\] \(10\.0\)\.conversions\[2\]\.what_fr is required with what/],
    ['a deletion reason without its French twin', O, (d: any) => delete d.update_files[30].rows_deleted[0].why_fr, /update_files\[30\]\.rows_deleted\[0\]\.why_fr: is required/],
    ['the bridge notes without their French twin', O, (d: any) => delete d.bridge.notes_fr, /ocs-updates\.yaml: bridge\.notes_fr: is required/],
    ['a PHP-side change without its French description', O, (d: any) => delete d.php_changes[0].what_fr, /php_changes\[0\]\.what_fr: is required/],
    ['a French condition without the English one', O, (d: any) => delete d.php_changes[1].only_if, /php_changes\[1\] \(snmp-lastdate-2\.10\)\.only_if_fr is given without only_if/],
    ['an update file note with an empty French twin', O, (d: any) => (d.update_files[30].notes_fr = ' '), /update_files\[30\] \(7037\)\.notes_fr is required with notes/],
    ['a plugin proof without its French twin', P, (d: any) => delete d.releases[11].proven_fr, /ocsinventoryng-releases\.yaml: releases\[11\] \(2\.0\.5\)\.proven_fr is required with proven/],
  ] as Array<[string, string, (d: any) => void, RegExp]>)('%s', (_name, file, mutate, message) => {
    const dir = brokenCatalog(file, mutate);
    let err: unknown;
    try {
      loadCatalog(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CatalogError);
    expect((err as CatalogError).exitCode).toBe(ExitCode.INTERNAL);
    expect((err as Error).message).toMatch(message);
  });

  it('a missing file and invalid YAML are named too', () => {
    const dir = brokenCatalog(G, () => undefined);
    fs.writeFileSync(path.join(dir, G), 'branches: [\n');
    expect(() => loadCatalog(dir)).toThrow(/glpi-releases\.yaml: not valid YAML/);
    fs.rmSync(path.join(dir, P));
    const dir2 = brokenCatalog(G, () => undefined);
    fs.rmSync(path.join(dir2, P));
    expect(() => loadCatalog(dir2)).toThrow(/catalog file ocsinventoryng-releases\.yaml cannot be read/);
  });
});

describe('the schema messages (src/formats/schema.ts)', () => {
  const schema = z.strictObject({
    a: z.array(z.strictObject({ b: z.int().min(1), c: z.boolean().optional() })),
    d: z.union([z.literal('all'), z.array(z.string())], { error: (iss) => `expected a list or "all", got ${show(iss.input)}` }),
  });
  const invalid = (m: string) => new Error(m);
  it.each([
    [{ a: [{ b: 1 }], d: 'all' }, undefined],
    [{ a: [{ b: 1 }, { b: 0 }], d: [] }, 'x.yaml: a[1].b: expected a value >= 1, got 0 (number)'],
    [{ a: [{ b: 1, c: 'yes' }], d: [] }, 'x.yaml: a[0].c: expected true or false, got "yes"'],
    [{ a: [{ b: 1.5 }], d: [] }, 'x.yaml: a[0].b: expected an integer, got 1.5 (number)'],
    [{ a: {}, d: [] }, 'x.yaml: a: expected a list, got a mapping'],
    [{ a: [], d: 'some' }, 'x.yaml: d: expected a list or "all", got "some"'],
    [{ a: [], d: [], e: 1 }, 'x.yaml: e: unknown key (expected one of a, d)'],
    [{ d: [] }, 'x.yaml: a: is required'],
    [[], 'x.yaml: (document): expected a mapping, got a list'],
  ])('%j', (doc, message) => {
    if (message === undefined) expect(() => parseDocument(schema, doc, 'x.yaml', invalid)).not.toThrow();
    else expect(() => parseDocument(schema, doc, 'x.yaml', invalid)).toThrow(message);
  });
});
