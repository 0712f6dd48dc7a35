/**
 * Every catalog entry checked against the reference material in ../shared/reference when it is present
 * (read at test time, never copied): GLPI's per-version empty schemas and OCS 2.12.4's update files.
 * Skipped, with the reason, when ../shared is absent. Also checks the layout of the real OCS distributions at hand
 * (GOU_OCS_DIST, Debian's ocsinventory-reports package as the external tests cache it, the reference files).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { loadCatalog, ocsRelease } from '../src/catalog/catalog.ts';
import type { GlpiBranch } from '../src/catalog/catalog.ts';
import { composeTableChanges } from '../src/plan/planner.ts';
import { sharedPath, SHARED_MISSING_REASON } from './helpers/shared.ts';
import { cachedDebianOcs, DEBIAN_OCS_CACHE } from './helpers/dist.ts';
import { detectOcsDist } from '../src/distributions/ocs.ts';

const glpiRef = sharedPath('reference', 'glpi');
const ocsRef = sharedPath('reference', 'ocs');
const c = loadCatalog();

function names(sql: string, re: RegExp): Set<string> {
  return new Set([...sql.matchAll(re)].map((m) => m[1]));
}
const CREATE = /CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z0-9_]+)/gi;
const DROP = /DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?`?([A-Za-z0-9_]+)/gi;
const RENAME = /RENAME\s+TABLE\s+`?([A-Za-z0-9_]+)`?\s+TO\s+`?([A-Za-z0-9_]+)/gi;

function glpiTables(branch: GlpiBranch): Set<string> {
  return names(fs.readFileSync(path.join(glpiRef!, branch.reference_schema!), 'utf8'), CREATE);
}
const sorted = (s: Iterable<string>) => [...s].sort();
const minus = (a: Set<string>, b: Set<string>) => sorted([...a].filter((x) => !b.has(x)));

describe.skipIf(!glpiRef)(`catalog vs GLPI reference schemas${glpiRef ? '' : ` (skipped: ${SHARED_MISSING_REASON})`}`, () => {
  const withRef = c.glpi.branches.filter((b) => b.reference_schema);

  it('every GLPI branch but 11.0 names a reference schema that exists', () => {
    expect(withRef.map((b) => b.branch)).toEqual(['0.83', '0.84', '0.85', '0.90', '9.1', '9.2', '9.3', '9.4', '9.5', '10.0']);
    for (const b of withRef) expect(fs.existsSync(path.join(glpiRef!, b.reference_schema!)), b.reference_schema).toBe(true);
  });

  // Each pair of consecutive references, and the 0.83.8 → 10.0.22 hop the planner uses.
  const pairs: Array<[string, string]> = [];
  for (let i = 1; i < withRef.length; i++) pairs.push([withRef[i - 1].branch, withRef[i].branch]);
  pairs.push(['0.83', '10.0']);
  it.each(pairs)("GLPI %s → %s: the catalog's schema_changes explain exactly the tables that differ between the references", (a, b) => {
    const from = withRef.find((x) => x.branch === a)!;
    const to = withRef.find((x) => x.branch === b)!;
    const between = c.glpi.branches.filter((b) => compare(b.branch, from.branch) > 0 && compare(b.branch, to.branch) <= 0);
    const net = composeTableChanges(between.map((b) => b.schema_changes ?? {}));
    const before = glpiTables(from);
    const after = glpiTables(to);
    const coreOnly = (t: string) => t.startsWith('glpi_');
    expect(sorted([...net.created, ...net.renamed.map((r) => r.to)].filter(coreOnly))).toEqual(minus(after, before));
    expect(sorted([...net.dropped, ...net.renamed.map((r) => r.from)])).toEqual(minus(before, after));
  });

  it('the 0.83 core OCS tables the 0.84 migration renames are in the 0.83.8 schema and gone from 0.84.8', () => {
    const b083 = glpiTables(withRef[0]);
    const b084 = glpiTables(withRef[1]);
    const renamed = c.glpi.branches.find((b) => b.branch === '0.84')!.schema_changes!.renamed!.filter((r) => r.to.startsWith('ocs_glpi_'));
    expect(renamed.map((r) => r.from).sort()).toEqual(['glpi_ocsadmininfoslinks', 'glpi_ocslinks', 'glpi_ocsservers', 'glpi_registrykeys']);
    for (const r of renamed) {
      expect(b083.has(r.from)).toBe(true);
      expect(b084.has(r.from)).toBe(false);
    }
  });
});

function compare(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

describe.skipIf(!ocsRef)(`catalog vs OCS reference files${ocsRef ? '' : ` (skipped: ${SHARED_MISSING_REASON})`}`, () => {
  const updDir = ocsRef ? path.join(ocsRef, 'update-2.12.4') : '';

  it('OCS 2.12.4 ships exactly the update files 7007…7081 the catalog lists, one per GUI step', () => {
    const files = fs
      .readdirSync(updDir)
      .filter((f) => /^\d+\.sql$/.test(f))
      .map((f) => Number(f.slice(0, -4)))
      .sort((a, b) => a - b);
    expect(files).toEqual(c.ocs.updateFiles.map((f) => f.gui_version));
    expect(files[files.length - 1]).toBe(ocsRelease(c, '2.12.4')!.gui_version);
    for (const r of c.ocs.releases.filter((x) => x.gui_version > 7006)) expect(files, `${r.version}`).toContain(r.gui_version);
  });

  it.each(Array.from({ length: 75 }, (_, i) => 7007 + i))('update file %i: created / dropped / renamed tables match its statements', (gui) => {
    const sql = fs.readFileSync(path.join(updDir, `${gui}.sql`), 'utf8');
    const entry = c.ocs.updateFiles.find((f) => f.gui_version === gui)!;
    expect(sorted(entry.created ?? [])).toEqual(sorted(names(sql, CREATE)));
    expect(sorted(entry.dropped ?? [])).toEqual(sorted(names(sql, DROP)));
    expect((entry.renamed ?? []).map((r) => `${r.from}>${r.to}`)).toEqual([...sql.matchAll(RENAME)].map((m) => `${m[1]}>${m[2]}`));
    for (const d of entry.rows_deleted ?? []) {
      const t = d.table.replace('*', '');
      expect(sql.toLowerCase(), `${gui} deletes from ${d.table}`).toMatch(new RegExp(`(delete\\s+from|drop\\s+table|truncate)[^;]*\`?${t.toLowerCase()}`));
    }
  });

  it('7037 copies softwares with INNER JOINs then drops it; 7080 drops and recreates batteries', () => {
    const s37 = fs.readFileSync(path.join(updDir, '7037.sql'), 'utf8');
    expect(s37).toMatch(/INNER JOIN `software_publisher`/);
    expect(s37).toMatch(/DROP TABLE `softwares`/);
    const s80 = fs.readFileSync(path.join(updDir, '7080.sql'), 'utf8');
    expect(s80).toMatch(/DROP TABLE[^;]*batteries/i);
    expect(s80).toMatch(/CREATE TABLE[^;]*batteries/i);
  });

  it('the bridge: 2.2 ocsbase.sql sets GUI_VERSION 7006 and creates the tables the catalog says, which 2.1 lacks', () => {
    const bridge = fs.readFileSync(path.join(ocsRef!, 'ocsbase-2.2.sql'), 'utf8');
    const v21 = names(fs.readFileSync(path.join(ocsRef!, 'ocsbase_new-2.1.sql'), 'utf8'), CREATE);
    expect(bridge).toMatch(/'GUI_VERSION'[^)]*'7006'/);
    for (const t of c.ocs.bridge.created ?? []) {
      expect(names(bridge, CREATE).has(t)).toBe(true);
      expect(v21.has(t)).toBe(false);
    }
    for (const d of c.ocs.bridge.rows_deleted ?? []) if (d.table !== 'config') expect(bridge).toMatch(new RegExp(`TRUNCATE TABLE \`?${d.table}`, 'i'));
  });

  it('the 2.1 and 2.1.2 fresh schemas carry GUI_VERSION 7005 and 7006, as ocs-releases.yaml says', () => {
    expect(fs.readFileSync(path.join(ocsRef!, 'ocsbase_new-2.1.sql'), 'utf8')).toMatch(/'GUI_VERSION'[^)]*'7005'/);
    expect(fs.readFileSync(path.join(ocsRef!, 'ocsbase_new-2.1.2.sql'), 'utf8')).toMatch(/'GUI_VERSION'[^)]*'7006'/);
    expect(ocsRelease(c, '2.1')!.gui_version).toBe(7005);
    expect(ocsRelease(c, '2.1.2')!.gui_version).toBe(7006);
  });
});

/**
 * The real OCS distributions at hand, each checked: GOU_OCS_DIST (an unpacked ocsreports directory), Debian's
 * ocsinventory-reports package where test/executors-ocs.test.ts unpacked it (this unit file reads the cache and
 * fetches nothing), and OCS 2.12.4's update files in ../shared/reference/ocs.
 */
const ocsDists: Array<{ name: string; updates: string }> = [];
if (process.env.GOU_OCS_DIST) ocsDists.push({ name: `GOU_OCS_DIST (${process.env.GOU_OCS_DIST})`, updates: path.join(process.env.GOU_OCS_DIST, 'files', 'update') });
const debian = await cachedDebianOcs();
if (debian?.updates.length) ocsDists.push({ name: `Debian's ocsinventory-reports ${debian.release ?? ''}`.trim(), updates: path.dirname(debian.updates[0].file) });
const reference = ocsRef ? detectOcsDist(ocsRef) : undefined;
if (reference?.updates.length) ocsDists.push({ name: `../shared/reference/ocs (${reference.release ?? 'reference'})`, updates: path.dirname(reference.updates[0].file) });
const NO_OCS_DIST = `skipped: set GOU_OCS_DIST to an unpacked ocsreports directory (e.g. usr/share/ocsinventory-reports of Debian's ocsinventory-reports package), put ../shared beside the repository (reference/ocs), or run test/executors-ocs.test.ts once (it fetches Debian's package into ${DEBIAN_OCS_CACHE})`;

describe.skipIf(ocsDists.length === 0)(`a real OCS distribution${ocsDists.length ? '' : ` (${NO_OCS_DIST})`}`, () => {
  // it.each over nothing registers no test: one placeholder carries the skip and its reason.
  if (ocsDists.length === 0) it('ships every update file from 7007 up to the GUI_VERSION of its release, without gap', () => undefined);
  it.each(ocsDists)('$name ships every update file from 7007 up to the GUI_VERSION of its release, without gap', ({ updates }) => {
    const files = fs
      .readdirSync(updates)
      .filter((f) => /^\d+\.sql$/.test(f))
      .map((f) => Number(f.slice(0, -4)))
      .sort((a, b) => a - b);
    const last = files[files.length - 1];
    expect(files).toEqual(Array.from({ length: last - 7006 }, (_, i) => 7007 + i));
    expect(
      c.ocs.releases.some((r) => r.gui_version === last),
      `GUI_VERSION ${last} is a release in the catalog`,
    ).toBe(true);
  });
});
