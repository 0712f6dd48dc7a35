/**
 * The planner, table-driven over many starting points: the exact steps in order, with their runners and
 * requirements; corrective migrations placed by their `before` kind; typed errors for impossible situations;
 * plan.yaml written and read back. Pure functions over the real catalog in migrations/ (no database).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { buildPlan, composeTableChanges } from '../src/plan/planner.ts';
import type { PlanInput, PlanTargets } from '../src/plan/planner.ts';
import { readPlan, writePlan } from '../src/plan/io.ts';
import { stepKind } from '../src/plan/kinds.ts';
import type { PlanFile, PlanStep } from '../src/plan/plan-types.ts';
import type { ConnectorInfo, ConnectorMode } from '../src/inspect/detect.ts';
import type { CorrectiveMigration } from '../src/catalog/corrective.ts';
import { ExitCode, ToolError } from '../src/errors.ts';
import type { Message } from '../src/i18n/messages.ts';
import { literal } from '../src/i18n/messages.ts';
import { render } from '../src/i18n/render.ts';
import { DowngradeError, IncompatibleTargetsError, InconsistentDatabaseError, UnknownTargetError, UnknownVersionError } from '../src/plan/errors.ts';

// ------------------------------------------------------------------------------------------ inputs

function connector(mode: ConnectorMode, pluginVersion?: string): ConnectorInfo {
  return { mode, pluginVersion, servers: mode === 'none' ? 0 : 1, links: mode === 'none' ? 0 : 3, tables: [] };
}

type Engines = 'myisam' | 'innodb-utf8' | 'innodb-utf8mb4' | 'unknown';

function glpi(version: string, mode: ConnectorMode = 'none', plugin?: string, engines: Engines = 'unknown'): PlanInput['glpi'] {
  const tables =
    engines === 'unknown'
      ? undefined
      : [
          { name: 'glpi_computers', engine: engines === 'myisam' ? 'MyISAM' : 'InnoDB', collation: engines === 'innodb-utf8mb4' ? 'utf8mb4_unicode_ci' : 'utf8_unicode_ci' },
          { name: 'glpi_configs', engine: 'InnoDB', collation: engines === 'innodb-utf8mb4' ? 'utf8mb4_unicode_ci' : 'utf8_unicode_ci' },
        ];
  return { version: { version, layout: 'key-value', problems: [], status: 'known' }, connector: connector(mode, plugin), tables };
}

function ocs(gui: number): PlanInput['ocs'] {
  return { version: { guiVersion: gui, releases: [], problems: [], status: 'known' } };
}

const EN = (m: Message) => render(m, 'en');
const FR = (m: Message) => render(m, 'fr');

const NOW = new Date('2026-03-01T10:00:00Z');
const plan = (input: PlanInput, targets: PlanTargets = {}, corrective: CorrectiveMigration[] = []) => buildPlan(input, targets, { corrective, now: NOW });
const ids = (p: PlanFile) => p.steps.map((s) => s.id);
const step = (p: PlanFile, id: string): PlanStep => {
  const s = p.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${ids(p).join(', ')}`);
  return s;
};

// ------------------------------------------------------------------------------------------ expected sequences (facts)

const CONV10 = ['myisam-to-innodb', 'dynamic-row-format', 'utf8mb4', 'unsigned-keys', 'timestamps'].map((c) => `glpi-10.0.22-${c}`);
const CONV11 = ['myisam-to-innodb', 'dynamic-row-format', 'utf8mb4', 'unsigned-keys', 'timestamps'].map((c) => `glpi-11.0.7-${c}`);
const TO10 = ['glpi-10.0.22-db-update', ...CONV10, 'glpi-10.0.22-check-schema'];
const TO10_PLUGIN = ['glpi-10.0.22-db-update', 'connector-plugin-2.0.5', ...CONV10, 'glpi-10.0.22-check-schema'];
const TO11 = ['glpi-11.0.7-db-update', 'glpi-11.0.7-check-schema'];
const TO11_PLUGIN = ['glpi-11.0.7-db-update', 'connector-plugin-2.1.11', 'glpi-11.0.7-check-schema'];

/** OCS steps from GUI_VERSION `from` to `to`, the PHP-side changes at 7015 (2.5) and 7068 (2.11.0) when crossed. */
function ocsSteps(from: number, to: number): string[] {
  const out: string[] = [];
  if (from === 7005) out.push('ocs-bridge-7006');
  for (let n = Math.max(from, 7006) + 1; n <= to; n++) {
    out.push(`ocs-${n}`);
    if (n === 7015 && from < 7015) out.push('ocs-php-accountinfo-types-2.5');
    if (n === 7068 && from < 7068) out.push('ocs-php-snmp-lastdate-2.10');
  }
  return out;
}

// ------------------------------------------------------------------------------------------ the table

interface Case {
  name: string;
  input: PlanInput;
  targets?: PlanTargets;
  steps: string[];
  connector: 'plugin' | 'native' | 'none';
}

const CASES: Case[] = [
  {
    name: "GLPI 0.83.8 with core OCS mode + OCS 2.1 → newest (the tender's case)",
    input: { glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) },
    steps: [...TO10_PLUGIN, ...ocsSteps(7005, 7081), ...TO11_PLUGIN],
    connector: 'plugin',
  },
  {
    name: 'GLPI 0.83.8 core OCS + OCS 2.1 → GLPI 10.0.22, OCS 2.11.1 (Debian package)',
    input: { glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) },
    targets: { glpi: '10.0.22', ocs: '2.11.1' },
    steps: [...TO10_PLUGIN, ...ocsSteps(7005, 7069)],
    connector: 'plugin',
  },
  {
    name: 'GLPI 0.83.8 without connector data + OCS 2.1.2 (7006: no bridge)',
    input: { glpi: glpi('0.83.8'), ocs: ocs(7006) },
    steps: [...ocsSteps(7006, 7081), ...TO10, ...TO11],
    connector: 'none',
  },
  {
    name: 'GLPI 0.83.8 core OCS, --connector native: no plugin step',
    input: { glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) },
    targets: { connector: 'native' },
    steps: [...ocsSteps(7005, 7081), ...TO10, ...TO11],
    connector: 'native',
  },
  {
    name: 'GLPI 0.83.8 core OCS via 0.84.8 (plugin 1.0.3 there), OCS 2.5',
    input: { glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7015) },
    targets: { glpiVia: ['0.84.8'], glpi: '10.0.22' },
    steps: ['glpi-0.84.8-db-update', 'connector-plugin-1.0.3', ...TO10_PLUGIN, ...ocsSteps(7015, 7081)],
    connector: 'plugin',
  },
  {
    name: 'GLPI 0.84.6 with the renamed ocs_glpi_* tables + OCS 2.8',
    input: { glpi: glpi('0.84.6', 'renamed-0.84'), ocs: ocs(7037) },
    steps: [...TO10_PLUGIN, ...ocsSteps(7037, 7081), ...TO11_PLUGIN],
    connector: 'plugin',
  },
  {
    name: 'GLPI 0.90.5 with plugin 1.2.1 (engines unknown: MyISAM assumed) + OCS 2.11',
    input: { glpi: glpi('0.90.5', 'plugin', '1.2.1'), ocs: ocs(7068) },
    steps: [...TO10_PLUGIN, ...ocsSteps(7068, 7081), ...TO11_PLUGIN],
    connector: 'plugin',
  },
  {
    name: 'GLPI 9.1.7.1 without connector, no OCS database',
    input: { glpi: glpi('9.1.7.1') },
    steps: [...TO10, ...TO11],
    connector: 'none',
  },
  {
    name: 'GLPI 9.5.13 on InnoDB with plugin 1.7.3 + OCS 2.8: one hop straight to 11.0.7',
    input: { glpi: glpi('9.5.13', 'plugin', '1.7.3', 'innodb-utf8'), ocs: ocs(7037) },
    steps: ['glpi-11.0.7-db-update', 'connector-plugin-2.1.11', ...CONV11, 'glpi-11.0.7-check-schema', ...ocsSteps(7037, 7081)],
    connector: 'plugin',
  },
  {
    name: 'GLPI 9.5.13 with MyISAM tables: 11.0 refuses MyISAM, so via 10.0.22',
    input: { glpi: glpi('9.5.13', 'plugin', '1.7.3', 'myisam'), ocs: ocs(7081) },
    steps: [...TO10_PLUGIN, ...TO11_PLUGIN],
    connector: 'plugin',
  },
  {
    name: 'GLPI 10.0.19 converted, plugin 2.0.5, OCS 2.11 → newest',
    input: { glpi: glpi('10.0.19', 'plugin', '2.0.5', 'innodb-utf8mb4'), ocs: ocs(7068) },
    steps: [...TO11_PLUGIN, ...ocsSteps(7068, 7081)],
    connector: 'plugin',
  },
  {
    name: 'GLPI 10.0.19 not yet converted (MyISAM), target 10.0.22, no connector',
    input: { glpi: glpi('10.0.19', 'none', undefined, 'myisam') },
    targets: { glpi: '10.0' },
    steps: TO10,
    connector: 'none',
  },
  {
    name: 'GLPI 9.1.7.1 without connector data, --connector plugin: a fresh install on the final release, then OCS 2.8',
    input: { glpi: glpi('9.1.7.1'), ocs: ocs(7037) },
    targets: { connector: 'plugin' },
    steps: [...TO10, ...TO11_PLUGIN, ...ocsSteps(7037, 7081)],
    connector: 'plugin',
  },
  {
    name: 'OCS 2.1 alone (no GLPI database)',
    input: { ocs: ocs(7005) },
    steps: ocsSteps(7005, 7081),
    connector: 'none',
  },
  {
    name: 'OCS 2.5 alone to 2.8',
    input: { ocs: ocs(7015) },
    targets: { ocs: '2.8' },
    steps: ocsSteps(7015, 7037),
    connector: 'none',
  },
  {
    name: 'everything already at the target',
    input: { glpi: glpi('11.0.7', 'plugin', '2.1.11', 'innodb-utf8mb4'), ocs: ocs(7081) },
    steps: [],
    connector: 'plugin',
  },
];

describe('plan: exact steps from many starting points', () => {
  it.each(CASES)('$name', (c) => {
    const p = plan(c.input, c.targets);
    expect(ids(p)).toEqual(c.steps);
    expect(p.targets.connector).toBe(c.connector);
    expect(p.format).toBe(1);
    for (const s of p.steps) expect(EN(s.explanation).length).toBeGreaterThan(20);
  });
});

describe('plan: requirements and runners per step', () => {
  const p = plan({ glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) });

  it('the 10.0 hop names its console command, PHP range, server minimums and distribution', () => {
    const s = step(p, 'glpi-10.0.22-db-update');
    expect(s.runner).toEqual({ kind: 'glpi-console', release: '10.0.22', command: 'db:update', args: ['-n', '--no-telemetry'] });
    expect(s.requires).toEqual({ php: '>=7.4.0 <8.5.0', mysql: '5.7', mariadb: '10.2', distribution: { product: 'glpi', version: '10.0.22' } });
    expect(s.from).toBe('0.83.8');
    expect(s.to).toBe('10.0.22');
    expect(s.shell).toEqual(['cd <glpi-10.0.22> && php bin/console db:update -n --no-telemetry']);
  });

  it('the 11.0 hop needs PHP 8.2–8.5 and MariaDB 10.6 / MySQL 8.0', () => {
    const s = step(p, 'glpi-11.0.7-db-update');
    expect(s.requires).toMatchObject({ php: '>=8.2.0 <8.6.0', mysql: '8.0', mariadb: '10.6' });
    expect(s.from).toBe('10.0.22');
    expect(s.hazards).toContain('glpi.groups-items.leftovers');
  });

  it('the conversions run in the order of the real run, each a console command with -n, then the check', () => {
    const conv = p.steps.filter((s) => s.id.startsWith('glpi-10.0.22-') && s.runner.kind === 'glpi-console' && s.runner.command.startsWith('migration:'));
    expect(conv.map((s) => (s.runner as { command: string }).command)).toEqual([
      'migration:myisam_to_innodb',
      'migration:dynamic_row_format',
      'migration:utf8mb4',
      'migration:unsigned_keys',
      'migration:timestamps',
    ]);
    expect(step(p, 'glpi-10.0.22-check-schema').runner).toMatchObject({ command: 'db:check_schema_integrity', args: ['--check-all-migrations', '-n'] });
    expect(step(p, 'glpi-10.0.22-timestamps').hazards).toContain('glpi.dates.after-2038');
  });

  it('the 0.84 migration inside the 10.0 hop renames the core OCS tables and deletes the OCS rules on purpose', () => {
    const e = step(p, 'glpi-10.0.22-db-update').expected;
    expect(e.tablesRenamed).toEqual(
      expect.arrayContaining([
        { from: 'glpi_ocslinks', to: 'ocs_glpi_ocslinks' },
        { from: 'glpi_ocsservers', to: 'ocs_glpi_ocsservers' },
      ]),
    );
    expect(e.tablesRenamed).toEqual(expect.arrayContaining([{ from: 'glpi_computers_softwareversions', to: 'glpi_items_softwareversions' }]));
    expect(e.tablesCreated).toEqual(expect.arrayContaining(['ocs_glpi_rules', 'glpi_profilerights', 'glpi_sockets']));
    expect(e.tablesCreated).not.toContain('glpi_queuedmails'); // created in 0.85, renamed in 9.2
    expect(e.tablesCreated).toContain('glpi_queuednotifications');
    expect(e.tablesDropped).toEqual(expect.arrayContaining(['glpi_entitydatas', 'glpi_rulecachesoftwares', 'glpi_netpoints']));
    expect(e.rowsDeleted?.map((r) => r.table)).toEqual(expect.arrayContaining(['glpi_rules', 'glpi_crontasks', 'glpi_displaypreferences']));
    expect(e.tablesTouched).toBe('all');
  });

  it('the plugin step carries the ocs_glpi_* data on GLPI 10.0.22, with the hazards the real run found', () => {
    const s = step(p, 'connector-plugin-2.0.5');
    expect(s.runner).toEqual({ kind: 'plugin-install', pluginVersion: '2.0.5', glpiRelease: '10.0.22' });
    expect(s.from).toBe('ocs_glpi_*');
    expect(s.expected.tablesDropped).toEqual(expect.arrayContaining(['ocs_glpi_ocslinks', 'ocs_glpi_profiles']));
    expect(s.expected.tablesCreated).toContain('glpi_plugin_ocsinventoryng_ocslinks');
    expect(s.hazards).toEqual(expect.arrayContaining(['connector.password.double-urlencoded', 'connector.profiles.rights-lost']));
    expect(s.requires.distribution).toEqual({ product: 'connector', version: '2.0.5' });
    expect(step(p, 'connector-plugin-2.1.11').from).toBe('2.0.5');
  });

  it('OCS: the bridge first, each update file named, deletions on purpose at 7037 and 7080, PHP changes at their GUI_VERSION', () => {
    const b = step(p, 'ocs-bridge-7006');
    expect(b.runner).toEqual({ kind: 'ocs-bridge', toGuiVersion: 7006 });
    expect(b.requires.distribution).toEqual({ product: 'ocs', version: '2.2' });
    expect(b.from).toBe('7005');
    const f37 = step(p, 'ocs-7037');
    expect(f37.runner).toEqual({ kind: 'ocs-update-file', guiVersion: 7037, file: 'files/update/7037.sql' });
    expect(f37.expected.rowsDeleted?.[0].table).toBe('softwares');
    expect(f37.expected.tablesDropped).toEqual(['softwares']);
    expect(f37.hazards).toContain('ocs.software.null-publisher-version');
    const f80 = step(p, 'ocs-7080');
    expect(f80.expected.rowsDeleted?.[0].table).toBe('batteries');
    expect(f80.expected.tablesCreated).toEqual(['batteries']);
    expect(f80.expected.tablesDropped).toBeUndefined(); // dropped and recreated: it exists afterwards
    expect(step(p, 'ocs-7022').requires).toMatchObject({ mysql: '5.6', mariadb: '10.0.5' });
    expect(step(p, 'ocs-7081').requires).toMatchObject({ mysql: '8.0', mariadb: '10.3', distribution: { product: 'ocs', version: '2.12.4' } });
    expect(step(p, 'ocs-php-accountinfo-types-2.5').runner).toEqual({ kind: 'ocs-php-change', guiVersion: 7015, change: 'accountinfo-types-2.5' });
    expect(step(p, 'ocs-7070').expected.tablesRenamed).toEqual([{ from: 'schedule_WOL', to: 'schedule_wol' }]);
  });

  it('the 0.84 hop of the via route uses tools/cliupdate.php with PHP ≥ 5.3 and the web plugin install', () => {
    const v = plan({ glpi: glpi('0.83.8', 'core-0.83') }, { glpiVia: ['0.84.8'], glpi: '10.0.22' });
    const s = step(v, 'glpi-0.84.8-db-update');
    expect(s.runner).toEqual({ kind: 'glpi-console', release: '0.84.8', command: '', args: ['--upgrade'], entry: 'tools/cliupdate.php' });
    expect(s.requires.php).toBe('>=5.3.0');
    expect(s.expected.tablesRenamed).toHaveLength(16);
    expect(EN(step(v, 'connector-plugin-1.0.3').explanation)).toMatch(/web interface/);
    expect(step(v, 'connector-plugin-2.0.5').from).toBe('1.0.3');
  });

  it('explains every choice in notes: fewest hops, the connector route, the OCS bridge, no corrective migration yet', () => {
    const text = p.notes.map(EN).join('\n');
    expect(text).toMatch(/GLPI 0\.83\.8 → 10\.0\.22 → 11\.0\.7: 2 hops/);
    expect(text).toMatch(/accepts databases from 0\.85\.5/);
    expect(text).toMatch(/ocs_glpi_\*/);
    expect(text).toMatch(/bridge/);
    expect(text).toMatch(/none in migrations\/corrective/);
    expect(Object.keys(p.hazards ?? {})).toEqual(expect.arrayContaining(['ocs.batteries.recreated', 'glpi.schema.drift']));
  });
});

// ------------------------------------------------------------------------------------------ corrective migrations

function migration(id: string, database: 'glpi' | 'ocs', before: CorrectiveMigration['before']): CorrectiveMigration {
  return {
    id,
    database,
    title: literal(`fix ${id}`, `correction ${id}`),
    fixes: [`test.${id}`],
    before,
    touches: [database === 'glpi' ? 'glpi_users' : 'softwares'],
    precheck: 'SELECT 1',
    statements: ['UPDATE x SET y = 1'],
    postcheck: 'SELECT 0',
    checksum: '0'.repeat(64),
  };
}

describe('plan: corrective migrations by their before kind', () => {
  const corrective = [
    migration('g-dedup', 'glpi', 'glpi-db-update'),
    migration('o-bridge', 'ocs', 'ocs-bridge'),
    migration('o-null', 'ocs', 'ocs-update-file'),
    migration('p-rules', 'glpi', 'plugin-install'),
    migration('o-any', 'ocs', 'any'),
  ];

  it("each runs once, right before the first step of its kind in its database, and is listed in that step's before", () => {
    const p = plan({ glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) }, {}, corrective);
    const order = ids(p);
    const at = (id: string) => order.indexOf(id);
    expect(order.slice(0, 2)).toEqual(['fix-g-dedup', 'glpi-10.0.22-db-update']);
    expect(step(p, 'glpi-10.0.22-db-update').before).toEqual(['g-dedup']);
    expect(at('fix-p-rules')).toBe(at('connector-plugin-2.0.5') - 1);
    expect(step(p, 'connector-plugin-2.0.5').before).toEqual(['p-rules']);
    expect(step(p, 'connector-plugin-2.1.11').before).toEqual([]);
    expect(order.slice(at('ocs-bridge-7006') - 2, at('ocs-bridge-7006') + 1)).toEqual(['fix-o-bridge', 'fix-o-any', 'ocs-bridge-7006']);
    expect(step(p, 'ocs-bridge-7006').before).toEqual(['o-bridge', 'o-any']);
    expect(at('fix-o-null')).toBe(at('ocs-7007') - 1);
    expect(step(p, 'ocs-7007').before).toEqual(['o-null']);
    expect(step(p, 'fix-o-null').runner).toEqual({ kind: 'corrective-migration', migration: 'o-null' });
    expect(step(p, 'fix-o-null').expected.tablesTouched).toEqual(['softwares']);
    expect(step(p, 'ocs-7007').hazards).toContain('test.o-null');
    expect(p.notes.map(EN).join(' ')).toMatch(/Corrective migrations planned.*g-dedup/);
  });

  it('one whose kind is not in the plan is left out and said so (no bridge from 7006)', () => {
    const p = plan({ ocs: ocs(7006) }, {}, corrective);
    expect(ids(p)).not.toContain('fix-o-bridge');
    expect(ids(p).slice(0, 3)).toEqual(['fix-o-null', 'fix-o-any', 'ocs-7007']);
    expect(p.notes.map(EN).join(' ')).toMatch(/not applicable.*o-bridge/);
  });

  it('the real migrations/corrective files load and are placed (whatever they are today)', () => {
    const p = buildPlan({ glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) }, {}, { now: NOW });
    const fixes = p.steps.filter((s) => s.runner.kind === 'corrective-migration');
    for (const f of fixes) {
      const next = p.steps[p.steps.indexOf(f) + 1];
      expect(next).toBeDefined();
      const owner = p.steps.find((s) => s.before.includes((f.runner as { migration: string }).migration));
      expect(owner, `a step lists ${f.id} in before`).toBeDefined();
    }
  });
});

describe('stepKind maps steps to corrective before kinds', () => {
  it.each([
    [{ kind: 'glpi-console', release: '10.0.22', command: 'db:update', args: [] }, 'glpi-db-update'],
    [{ kind: 'glpi-console', release: '0.84.8', command: '', args: ['--upgrade'], entry: 'tools/cliupdate.php' }, 'glpi-db-update'],
    [{ kind: 'glpi-console', release: '10.0.22', command: 'migration:utf8mb4', args: [] }, undefined],
    [{ kind: 'ocs-bridge', toGuiVersion: 7006 }, 'ocs-bridge'],
    [{ kind: 'ocs-update-file', guiVersion: 7037, file: 'files/update/7037.sql' }, 'ocs-update-file'],
    [{ kind: 'ocs-php-change', guiVersion: 7015, change: 'accountinfo-types-2.5' }, undefined],
    [{ kind: 'plugin-install', pluginVersion: '2.0.5', glpiRelease: '10.0.22' }, 'plugin-install'],
    [{ kind: 'corrective-migration', migration: 'x' }, undefined],
  ] as Array<[PlanStep['runner'], string | undefined]>)('%j → %s', (runner, kind) => {
    expect(stepKind({ runner })).toBe(kind);
  });
});

// ------------------------------------------------------------------------------------------ errors

describe('plan: clear answers for impossible or unknown situations', () => {
  const cases: Array<[string, () => unknown, new (...a: never[]) => ToolError, number, RegExp]> = [
    ['GLPI version not in the catalog', () => plan({ glpi: glpi('0.78.2') }), UnknownVersionError, ExitCode.UNSUPPORTED, /GLPI 0\.78\.2 is not in the catalog/],
    ['OCS GUI_VERSION not a release', () => plan({ ocs: ocs(7033) }), UnknownVersionError, ExitCode.UNSUPPORTED, /GUI_VERSION 7033 is not a release/],
    ['unknown GLPI target', () => plan({ glpi: glpi('0.83.8') }, { glpi: '10.0.99' }), UnknownTargetError, ExitCode.NOT_FOUND, /GLPI 10\.0\.99 is not a release/],
    ['unknown OCS target', () => plan({ ocs: ocs(7005) }, { ocs: '3.0' }), UnknownTargetError, ExitCode.NOT_FOUND, /OCS Inventory NG 3\.0/],
    ['GLPI target older than the source', () => plan({ glpi: glpi('10.0.19') }, { glpi: '9.5.13' }), DowngradeError, ExitCode.USAGE, /cannot be downgraded/],
    ['OCS downgrade', () => plan({ ocs: ocs(7037) }, { ocs: '2.5' }), DowngradeError, ExitCode.USAGE, /OCS cannot be downgraded/],
    [
      'half-upgraded GLPI database',
      () =>
        plan({
          glpi: {
            version: { version: '0.83.8', layout: 'key-value', problems: ['version 0.83.8 is stored in the key/value layout introduced by 0.85: a half-finished update?'], status: 'inconsistent' },
            connector: connector('none'),
          },
        }),
      InconsistentDatabaseError,
      ExitCode.UNSUPPORTED,
      /half-upgraded.*key\/value layout/,
    ],
    [
      'plugin of the GLPI target cannot read the OCS target',
      () => plan({ glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) }, { glpi: '9.4.6' }),
      IncompatibleTargetsError,
      ExitCode.USAGE,
      /1\.6\.1.*OCS ≥ 2\.8 needs plugin ≥ 1\.7\.1/,
    ],
    ['nothing to plan', () => plan({}), UnknownVersionError, ExitCode.UNSUPPORTED, /nothing to plan/],
    [
      'a "0.83.8" database that already has 0.84 tables (ocs_glpi_*) and 0.85 ones',
      () =>
        plan({
          glpi: { ...glpi('0.83.8', 'core-0.83')!, tables: ['glpi_configs', 'ocs_glpi_ocsservers', 'glpi_profilerights'].map((name) => ({ name, engine: 'MyISAM', collation: 'utf8_unicode_ci' })) },
        }),
      InconsistentDatabaseError,
      ExitCode.UNSUPPORTED,
      /version row says 0\.83\.8 but it has tables that only later migrations create: ocs_glpi_ocsservers \(0\.84\), glpi_profilerights \(0\.85\)/,
    ],
    [
      'a "0.85.5" database left by a 9.x migration that died half-way (real run: version left at 0.85)',
      () => plan({ glpi: { ...glpi('0.85.5')!, tables: ['glpi_configs', 'glpi_apiclients', 'glpi_slms'].map((name) => ({ name, engine: 'InnoDB', collation: 'utf8_unicode_ci' })) } }),
      InconsistentDatabaseError,
      ExitCode.UNSUPPORTED,
      /glpi_apiclients \(9\.1\), glpi_slms \(9\.2\)/,
    ],
  ];
  it.each(cases)('%s', (_name, fn, cls, code, message) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(cls);
    expect((err as ToolError).exitCode).toBe(code);
    expect((err as Error).message).toMatch(message);
  });

  it('unknown engines on a 9.5 database: one hop to 11.0, and the note says what was assumed', () => {
    const p = plan({ glpi: glpi('9.5.13') });
    expect(ids(p)).toEqual(['glpi-11.0.7-db-update', ...CONV11, 'glpi-11.0.7-check-schema']);
    expect(p.notes.map(EN).join(' ')).toMatch(/engines of this 9\.5\.13 database are unknown and assumed InnoDB.*--glpi-via 10\.0\.22/);
  });

  it('a --glpi-via waypoint behind the source, or unknown, is refused', () => {
    expect(() => plan({ glpi: glpi('9.5.13') }, { glpiVia: ['0.84.8'] })).toThrow(DowngradeError);
    expect(() => plan({ glpi: glpi('0.83.8') }, { glpiVia: ['0.84.99'] })).toThrow(UnknownTargetError);
  });

  it('an older OCS target that the GLPI-target plugin can read is fine (GLPI 9.4.6 + OCS 2.7)', () => {
    const p = plan({ glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) }, { glpi: '9.4.6', ocs: '2.7' });
    expect(ids(p)).toContain('connector-plugin-1.6.1');
    expect(ids(p)).toContain('ocs-7028');
    expect(ids(p)).not.toContain('ocs-7029');
  });
});

// ------------------------------------------------------------------------------------------ texts in French

describe('plan: every text for people also in French (titles, explanations, notes, reasons for deleted rows)', () => {
  // English words that never belong in a French sentence (case-sensitive: SQL keywords such as "TO" are fine).
  // Text between « » is a quotation (a program's own message), and identifiers (ocs-tables-to-innodb,
  // --glpi-via, files/update/7037.sql) are names, not words: both are left out of the check.
  const ENGLISH = /\b(the|which|when|with|only|runs|and|is|are|of|to|from|must|this|its|by|at|on|after|before|into)\b/;
  const unquoted = (t: string) => t.replace(/«[^»]*»/g, '').replace(/[\w.*<>-]*[-_/][\w.*<>/-]*/g, '');
  const routes: Array<[string, PlanInput, PlanTargets]> = [
    ['0.83.8 core OCS + OCS 2.1 to the newest (the demo route)', { glpi: glpi('0.83.8', 'core-0.83', undefined, 'myisam'), ocs: ocs(7005) }, {}],
    ['0.83.8 core OCS + OCS 2.1 through 0.84.8 (web plugin install, unofficial CLI)', { glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) }, { glpiVia: ['0.84.8'], ocs: '2.7' }],
    ['9.5.13 with plugin 1.7.3, GLPI 11 (plugin update)', { glpi: glpi('9.5.13', 'plugin', '1.7.3', 'innodb-utf8'), ocs: ocs(7069) }, {}],
    ['9.5.13 without connector data, unknown engines', { glpi: glpi('9.5.13') }, {}],
    ['native connector', { glpi: glpi('0.83.8', 'core-0.83') }, { connector: 'native' }],
    ['no connector asked for', { glpi: glpi('0.83.8', 'core-0.83') }, { connector: 'none', glpi: '10.0' }],
    ['OCS alone, from the bridge', { ocs: ocs(7005) }, { glpi: '10.0.22' }],
    ['OCS alone, from 7006', { ocs: ocs(7006) }, {}],
    ['already at the targets', { glpi: glpi('11.0.7', 'plugin', '2.1.11', 'innodb-utf8mb4'), ocs: ocs(7081) }, {}],
  ];

  it.each(routes)('%s', (_name, input, targets) => {
    const p = buildPlan(input, targets, { now: NOW });
    for (const s of p.steps) {
      expect(FR(s.title), s.id).toBeTruthy();
      expect(FR(s.explanation), s.id).toBeTruthy();
      expect(unquoted(FR(s.title)), `${s.id} title`).not.toMatch(ENGLISH);
      expect(unquoted(FR(s.explanation)), `${s.id} explanation: ${FR(s.explanation)}`).not.toMatch(ENGLISH);
      if (/\b(the|of|on)\b/.test(EN(s.explanation))) expect(FR(s.explanation), s.id).not.toBe(EN(s.explanation));
      for (const r of s.expected.rowsDeleted ?? []) {
        expect(FR(r.why), `${s.id} ${r.table}`).toBeTruthy();
        expect(unquoted(FR(r.why)), `${s.id} ${r.table}`).not.toMatch(ENGLISH);
      }
    }
    for (const n of p.notes.map(FR)) expect(unquoted(n), n).not.toMatch(ENGLISH);
    // English stays English (CLI, JSON, plan.md).
    for (const s of p.steps) expect(EN(s.explanation), s.id).toMatch(/\b(the|of|to|is|from|with|and)\b/);
  });

  it('the French follows French typography: a space before « : » and « ; », typographic apostrophes', () => {
    const p = buildPlan({ glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005) }, {}, { now: NOW });
    const texts = [...p.steps.flatMap((s) => [FR(s.title), FR(s.explanation)]), ...p.notes.map(FR)];
    for (const t of texts) {
      expect(t, t).not.toMatch(/[^\s:]:\s/); // "mot: …" (URL-like "a:b" and "::" aside)
      expect(t, t).not.toMatch(/\S;\s/);
      expect(t, t).not.toMatch(/\b[ldnsqj]'\p{L}/u); // l'étape → l’étape
    }
    expect(FR(step(p, 'fix-glpi-dedup-slalevels-tickets').title)).toBe('Migration corrective glpi-dedup-slalevels-tickets');
    expect(FR(step(p, 'connector-plugin-2.0.5').title)).toBe('Installation du greffon ocsinventoryng 2.0.5 sur GLPI 10.0.22');
    expect(FR(step(p, 'ocs-bridge-7006').title)).toBe('OCS 7005 → 7006 : script de passage files/ocsbase.sql d’OCS 2.2');
    expect(FR(step(p, 'ocs-7037').expected.rowsDeleted![0].why)).toMatch(/^copiée dans software/);
  });
});

// ------------------------------------------------------------------------------------------ composing table changes

describe('composeTableChanges', () => {
  it('follows tables through creations, renames and drops across branches', () => {
    expect(
      composeTableChanges([
        { created: ['a', 'tmp'], renamed: [{ from: 'old', to: 'mid' }] },
        {
          renamed: [
            { from: 'a', to: 'b' },
            { from: 'mid', to: 'new' },
          ],
          dropped: ['tmp', 'gone'],
        },
        { dropped: ['new'] },
      ]),
    ).toEqual({ created: ['b'], dropped: ['gone', 'old'], renamed: [] });
  });
});

// ------------------------------------------------------------------------------------------ plan.yaml

describe('writePlan / readPlan', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-plan-'));
  const p = plan({ glpi: glpi('0.83.8', 'core-0.83'), ocs: ocs(7005), snapshotId: 'abc123' });

  it('round-trips a plan through YAML', () => {
    const file = path.join(dir, 'plan.yaml');
    writePlan(file, p);
    const back = readPlan(file);
    expect(back).toEqual(p);
    expect(back.source.snapshotId).toBe('abc123');
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^# glpi-ocs-upgrade plan \(format 1\)/);
  });

  const bad = (name: string, mutate: (doc: Record<string, unknown>) => void) => {
    const doc = JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
    mutate(doc);
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, YAML.stringify(doc));
    return file;
  };

  it.each([
    ['a newer format', (d: Record<string, unknown>) => (d.format = 2), ExitCode.UNSUPPORTED, /\.yaml: format 2 is newer than this tool understands/],
    ['a step without runner', (d: Record<string, unknown>) => delete (d.steps as Array<Record<string, unknown>>)[3].runner, ExitCode.VERIFICATION_FAILED, /steps\[3\]\.runner: is required/],
    [
      'an unknown runner kind',
      (d: Record<string, unknown>) => ((d.steps as Array<{ runner: { kind: string } }>)[0].runner.kind = 'shell'),
      ExitCode.VERIFICATION_FAILED,
      /\.yaml: steps\[0\]\.runner\.kind: expected one of ocs-bridge, ocs-update-file, .*, got "shell"/,
    ],
    ['a duplicated step id', (d: Record<string, unknown>) => ((d.steps as Array<{ id: string }>)[1].id = (d.steps as Array<{ id: string }>)[0].id), ExitCode.VERIFICATION_FAILED, /appears twice/],
    [
      'a wrong connector',
      (d: Record<string, unknown>) => ((d.targets as { connector: string }).connector = 'soap'),
      ExitCode.VERIFICATION_FAILED,
      /targets\.connector: expected one of plugin, native, none/,
    ],
    [
      'a title that is not a message',
      (d: Record<string, unknown>) => ((d.steps as Array<Record<string, unknown>>)[2].title = ['x']),
      ExitCode.VERIFICATION_FAILED,
      /steps\[2\]\.title: expected a message/,
    ],
    [
      'a message id this version does not know',
      (d: Record<string, unknown>) => ((d.notes as unknown[])[0] = { id: 'plan.from-the-future', params: {} }),
      ExitCode.VERIFICATION_FAILED,
      /notes\[0\]\.id: unknown message id "plan\.from-the-future"/,
    ],
    [
      'French notes (older plans) that do not match the notes',
      (d: Record<string, unknown>) => {
        d.notes = ['one', 'two'];
        d.notesFr = ['un'];
      },
      ExitCode.VERIFICATION_FAILED,
      /notesFr has 1 entries, notes has 2/,
    ],
  ] as Array<[string, (d: Record<string, unknown>) => void, number, RegExp]>)('refuses %s with a typed error', (name, mutate, code, message) => {
    const file = bad(name.replace(/\W+/g, '-'), mutate);
    let err: unknown;
    try {
      readPlan(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).exitCode).toBe(code);
    expect((err as Error).message).toMatch(message);
  });

  it('reads a plan written before messages existed (English strings, French twins or none) into literal messages', () => {
    const file = bad('paired-texts', (d) => {
      const notes = d.notes as Message[];
      d.notes = notes.map(EN);
      d.notesFr = notes.map(FR);
      for (const [i, s] of (d.steps as Array<Record<string, any>>).entries()) {
        const title = s.title as Message;
        s.title = EN(title);
        if (i > 0) s.titleFr = FR(title);
        s.explanation = EN(s.explanation);
        for (const r of s.expected.rowsDeleted ?? []) r.why = EN(r.why);
      }
    });
    const back = readPlan(file);
    expect(back.steps).toHaveLength(p.steps.length);
    expect(back.steps[0].title).toEqual(literal(EN(p.steps[0].title), EN(p.steps[0].title)));
    expect(FR(back.steps[1].title)).toBe(FR(p.steps[1].title));
    expect(back.notes.map(FR)).toEqual(p.notes.map(FR));
    expect(back.steps.every((s) => s.title.id === 'literal' && s.explanation.id === 'literal')).toBe(true);
  });

  it('a missing file is NOT_FOUND, broken YAML is VERIFICATION_FAILED', () => {
    expect(() => readPlan(path.join(dir, 'nope.yaml'))).toThrow(/does not exist/);
    const f = path.join(dir, 'broken.yaml');
    fs.writeFileSync(f, 'format: [1\n');
    try {
      readPlan(f);
      expect.unreachable();
    } catch (e) {
      expect((e as ToolError).exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    }
  });
});
