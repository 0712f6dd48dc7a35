import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { sharedPath, SHARED_MISSING_REASON } from './helpers/shared.ts';
import { runAudit } from '../src/audit/index.ts';
import type { FindingsFile } from '../src/audit/index.ts';

const HAVE_SCHEMAS = Boolean(sharedPath('reference', 'glpi', 'glpi-0.83.8-empty.sql') && sharedPath('reference', 'ocs', 'ocsbase_new-2.1.sql'));

let server: TestServer;
let root: Connection;

beforeAll(async () => {
  if (!HAVE_SCHEMAS) return;
  server = await startTestServer();
  root = await server.connect();
});
afterAll(async () => {
  await root?.end();
  await server?.stop();
});

async function generate(label: string, hazards: 'all' | 'none'): Promise<{ glpi: string; ocs: string; report: Record<string, unknown> }> {
  const { generateFixtures } = await import('../src/synthetic/index.ts');
  const glpi = `${label}_glpi`;
  const ocs = `${label}_ocs`;
  const r = await generateFixtures({ conn: root, dsn: server.dsn }, { seed: 7, computers: 20, hazards, glpiDb: glpi, ocsDb: ocs, replace: true });
  return { glpi, ocs, report: r.hazards as unknown as Record<string, unknown> };
}

async function audit(glpi: string, ocs: string): Promise<FindingsFile> {
  const c = await server.connect();
  try {
    return await runAudit(
      { connections: { glpi: { conn: c, database: glpi }, ocs: { conn: c, database: ocs } } },
      { referenceDirs: [sharedPath('reference', 'glpi')!, sharedPath('reference', 'ocs')!] },
    );
  } finally {
    await c.end();
  }
}

const found = (f: FindingsFile) => Object.fromEntries(f.findings.map((x) => [x.id, x.count]));

describe.skipIf(!HAVE_SCHEMAS)(`audit on the fixtures generator's databases${HAVE_SCHEMAS ? '' : ` (${SHARED_MISSING_REASON})`}`, () => {
  it('with every hazard on, each injected hazard is reported with its count', async () => {
    const { glpi, ocs } = await generate('fxall', 'all');
    const f = await audit(glpi, ocs);
    const got = found(f);
    // fixture hazard → audit finding and the count the generator documents (src/synthetic/hazards.ts).
    expect(got['glpi.duplicates.slalevels_tickets']).toBe(2);
    expect(got['glpi.duplicates.users']).toBe(3);
    expect(got['glpi.duplicates.computers_softwareversions']).toBe(4);
    expect(got['glpi.duplicates.documents_items']).toBe(2);
    expect(got['glpi.duplicates.displaypreferences']).toBe(2);
    expect(got['glpi.dates.zero_values']).toBe(5 + 4 + 3 + 2);
    expect(got['ocs.software.null_fields']).toBe(5);
    expect(got['link.orphan_links']).toBe(2);
    expect(got['link.multiple_links']).toBe(2);
    expect(got['link.vanished_hardware']).toBe(3);
    expect(got['ocs.trace_deleted_off']).toBe(1);
    expect(got['ocs.deleted_equiv_backlog']).toBe(5);
    expect(got['glpi.tables.mixed_collations']).toBe(1);
    expect(got['glpi.text.latin1_holding_utf8']).toBeGreaterThanOrEqual(3);
    expect(got['glpi.text.replacement_chars']).toBe(2);
    expect(got['glpi.text.double_encoded']).toBe(3 + 2 + 3);
    expect(got['glpi.text.large_values']).toBe(3);
    expect(got['ocs.tables.myisam']).toBeGreaterThan(0);
    // The schema drift check sees the missing keys and the latin1 table.
    const drift = f.findings.find((x) => x.id === 'glpi.schema.drift');
    expect(drift?.evidence.tables).toEqual(expect.arrayContaining(['glpi_users', 'glpi_computers_softwareversions', 'glpi_documents_items', 'glpi_displaypreferences', 'glpi_locations']));
  });

  it('with hazards off, the audit is clean but for the baseline facts of any realistic 0.83 install', async () => {
    const { glpi, ocs } = await generate('fxnone', 'none');
    const f = await audit(glpi, ocs);
    // Not injected hazards but true of the generated organisation, and worth telling: profiles other than the
    // installer's with OCS rights, OCS machines nobody linked, a synchronised field OCS leaves empty.
    const baseline = ['plugin.lost_profile_rights', 'link.never_imported', 'link.synchronised_fields_empty'];
    expect(Object.keys(found(f)).filter((id) => !baseline.includes(id))).toEqual([]);
    expect(f.findings.filter((x) => x.severity === 'bloquante')).toEqual([]);
    // Both drift checks ran against the real reference schemas and found nothing.
    expect(f.checksRun.filter((c) => c.id.endsWith('schema.drift')).map((c) => c.status)).toEqual(['ok', 'ok']);
  });
});
