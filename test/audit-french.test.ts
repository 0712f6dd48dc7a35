/**
 * The French texts of the audit reach the customer's acceptance documents (test dossier, DAT) and the
 * French audit report: check titles, manual remedies, remedies built in code, corrective migration titles.
 * They must be French prose: no English words outside identifiers and SQL, and French typography
 * (’ apostrophe, « » quotes, a space before « : » and « ; »), as in src/report/i18n/fr.ts.
 * No database is needed: the texts are data.
 */
import { describe, expect, it } from 'vitest';
import { CHECKS, renderFindings } from '../src/audit/index.ts';
import type { FindingsFile } from '../src/audit/index.ts';
import { LATER_UNIQUE_KEYS } from '../src/audit/checks/glpi.ts';
import { coreOnlyMigration } from '../src/audit/checks/interconnection.ts';
import type { LinkTables } from '../src/audit/context.ts';
import { NO_CONNECTOR_TABLES, NO_OCS_SERVER, OCS_GUI_VERSION_UNKNOWN } from '../src/audit/context.ts';
import { loadCorrectiveMigrations } from '../src/catalog/corrective.ts';
import { englishIn, typographyFaults } from './helpers/french.ts';
import { literal, msg } from '../src/i18n/messages.ts';
import { render } from '../src/i18n/render.ts';

/** Every French text the audit and the corrective migrations produce, with where it comes from. */
function frenchTexts(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of CHECKS) {
    out.push([`${c.id} title`, render(c.title, 'fr')]);
    if (c.remedy.manual) out.push([`${c.id} remedy`, render(c.remedy.manual, 'fr')]);
  }
  // Remedies built in code for the connector forms where the corrective migration does not apply.
  const forms: Array<LinkTables | undefined> = [
    undefined,
    { mode: 'renamed-0.84', links: 'ocs_glpi_ocslinks', servers: 'ocs_glpi_ocsservers', serverColumn: 'ocsservers_id' },
    { mode: 'plugin', links: 'glpi_plugin_ocsinventoryng_ocslinks', servers: 'glpi_plugin_ocsinventoryng_ocsservers', serverColumn: 'plugin_ocsinventoryng_ocsservers_id' },
  ];
  for (const lt of forms) {
    const r = coreOnlyMigration(lt, 'glpi-ocslinks-orphans');
    if (r?.manual) out.push([`coreOnlyMigration(${lt?.mode ?? 'none'}) remedy`, render(r.manual, 'fr')]);
  }
  for (const m of loadCorrectiveMigrations()) out.push([`migrations/corrective/${m.id}.yaml title`, render(m.title, 'fr')]);
  // Skip reasons shared by several checks (the others are checked on real databases in test/audit.test.ts).
  for (const [name, t] of Object.entries({ NO_CONNECTOR_TABLES, NO_OCS_SERVER, OCS_GUI_VERSION_UNKNOWN })) out.push([`skip reason ${name}`, render(t, 'fr')]);
  return out;
}

/** The French audit report (audit command, --lang fr) of a findings file where every check found something. */
function frenchReport(): string[] {
  const file: FindingsFile = {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: '0.0.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    source: { live: {} },
    checksRun: CHECKS.map((c) => ({ id: c.id, family: c.family, title: c.title, status: 'finding' as const, severity: c.severity })),
    findings: CHECKS.map((c) => ({ id: c.id, family: c.family, severity: c.severity, title: c.title, count: 1, evidence: {}, remedy: c.remedy })),
  };
  return renderFindings(file, 'fr');
}

describe('the sanitiser and the detectors can fail', () => {
  it('find the English fragments the French titles used to carry', () => {
    expect(
      englishIn('Doublons dans glpi_documentcategories (name) : collision avec la clé unique ajoutée en 9.2 (documentcategories_id, name), documentcategories_id added as 0 for every row'),
    ).toEqual(['added', 'for', 'every', 'row']);
    expect(englishIn('collision avec la clé unique ajoutée en 0.83.8 (unicity, required by every later schema check)')).toEqual(['required', 'by', 'every', 'later', 'schema', 'check']);
    expect(englishIn('Duplicates in the table')).toEqual(['Duplicates', 'the']);
  });

  it('leave identifiers, SQL and code spans alone', () => {
    expect(englishIn('Colonnes `the_key` et glpi_users.name, db:update, migration:unsigned_keys')).toEqual([]);
    expect(englishIn("exécuter UPDATE config SET IVALUE = 1 WHERE NAME = 'TRACE_DELETED' AND IN (…)")).toEqual([]);
    expect(englishIn('encrypt(rawurldecode(decrypt(valeur))) ; clé « unicity »')).toEqual([]);
    expect(englishIn('glpi_states (states_id, name), --skip-db-checks, migration glpi-rename-duplicate-users')).toEqual([]);
    // A parenthesised list of plain words is prose, not a column list.
    expect(englishIn('les lignes (keep, rows)')).toEqual(['keep', 'rows']);
  });

  it('see typography faults', () => {
    expect(typographyFaults("l'instance de test")).toEqual(['straight apostrophe (use ’)']);
    expect(typographyFaults('Doublons: collision; fin')).toEqual(['no space before « : »', 'no space before « ; »']);
    expect(typographyFaults('le statut "actif" et «nom»')).toEqual(['English double quotes (use « »)', 'no space inside « »']);
    expect(typographyFaults("l’instance : db:update ; UPDATE t SET c = 'w' WHERE id = 1 ; « nom (ID) »")).toEqual([]);
  });
});

describe('French texts of the audit and the corrective migrations', () => {
  const texts = frenchTexts();

  it('cover every check, every manual remedy and every corrective migration', () => {
    expect(CHECKS.length).toBeGreaterThanOrEqual(40);
    const migrations = loadCorrectiveMigrations();
    expect(migrations.length).toBeGreaterThan(10);
    expect(texts.length).toBe(CHECKS.length + CHECKS.filter((c) => c.remedy.manual).length + 3 + migrations.length + 3);
    // The unique keys whose French wording differs from the English one are in the titles walked here.
    for (const k of LATER_UNIQUE_KEYS) {
      if (typeof k.addedIn === 'string') continue;
      expect(texts.find(([where]) => where === `${k.id} title`)?.[1]).toContain(render(k.addedIn, 'fr'));
    }
  });

  it.each(texts)('%s: no English word in the prose', (_where, text) => {
    expect(englishIn(text), text).toEqual([]);
  });

  it.each(texts)('%s: French typography', (_where, text) => {
    expect(typographyFaults(text), text).toEqual([]);
  });

  it('the French audit report prints the French skip reason, the English one the English reason (or the English one for older files)', () => {
    const file: FindingsFile = {
      format: 1,
      tool: { name: 'glpi-ocs-upgrade', version: '0.0.0' },
      createdAt: '2026-01-01T00:00:00.000Z',
      source: { live: {} },
      checksRun: [
        { id: 'a.check', family: 'interconnection', title: literal('A check', 'Un contrôle'), status: 'skipped', reason: NO_CONNECTOR_TABLES },
        { id: 'b.check', family: 'interconnection', title: literal('Another', 'Un autre'), status: 'skipped', reason: literal('no batteries table', 'no batteries table') },
      ],
      findings: [],
    };
    const fr = renderFindings(file, 'fr');
    expect(fr).toContain(`  - a.check : ${render(NO_CONNECTOR_TABLES, 'fr')}`);
    expect(fr).toContain('  - b.check : no batteries table');
    expect(renderFindings(file, 'en')).toContain(`  - a.check: ${render(NO_CONNECTOR_TABLES, 'en')}`);
  });

  it('the French audit report of every finding has no English word and French typography', () => {
    const lines = frenchReport();
    expect(lines.length).toBeGreaterThan(CHECKS.length * 2);
    expect(lines[0]).toMatch(/^Bilan : \d+ contrôles — /);
    for (const line of lines) {
      expect(englishIn(line), line).toEqual([]);
      expect(typographyFaults(line), line).toEqual([]);
    }
  });

  it('a note in the evidence (two snapshot instants) is printed in the report’s language', () => {
    const link = CHECKS.find((c) => c.id === 'link.vanished_hardware')!;
    const note = msg('audit.data-instants', {});
    const file: FindingsFile = {
      format: 1,
      tool: { name: 'glpi-ocs-upgrade', version: '0.0.0' },
      createdAt: '2026-01-01T00:00:00.000Z',
      source: { live: {} },
      checksRun: [],
      findings: [{ id: link.id, family: link.family, severity: link.severity, title: link.title, count: 1, evidence: { dataInstants: note }, remedy: link.remedy }],
    };
    expect(renderFindings(file, 'fr').join('\n')).toContain(`dataInstants=${render(note, 'fr')}`);
    expect(renderFindings(file, 'en').join('\n')).toContain(`dataInstants=${render(note, 'en')}`);
  });
});
