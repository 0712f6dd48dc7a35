/**
 * A realistic rehearsal run directory for the report tests, written as YAML/JSONL files into a temp dir:
 * a GLPI 0.83.8 + OCS 2.1 snapshot manifest, a plan with corrective, OCS and GLPI steps, audit findings,
 * and a run where steps passed, one failed and the rest were not run (no GLPI distribution), with anomalies
 * of each severity. Also the markdownlint configuration the generated documents are held to.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { lint } from 'markdownlint/sync';
import type { RunSummary, JournalEvent } from '../src/rehearse/run-types.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import type { FindingsFile } from '../src/audit/finding-types.ts';
import type { Manifest } from '../src/snapshot/manifest-types.ts';
import { literal } from '../src/i18n/messages.ts';

/**
 * markdownlint configuration for generated documents (documented in docs/reports.md): every rule on except
 * MD013 (line length: tables and paragraphs are long by nature), tables in the "compact" style (MD060),
 * duplicate headings allowed only under different parents (MD024 siblings_only).
 */
export const MARKDOWNLINT_CONFIG = { default: true, MD013: false, MD024: { siblings_only: true }, MD060: { style: 'compact' } };

export function lintMarkdown(markdown: string): string[] {
  const result = lint({ strings: { doc: markdown }, config: MARKDOWNLINT_CONFIG as Record<string, unknown> });
  return (result.doc ?? []).map((e) => `line ${e.lineNumber}: ${e.ruleNames.join('/')} ${e.ruleDescription}${e.errorDetail ? ` [${e.errorDetail}]` : ''}`);
}

export const SNAPSHOT_ID = 'b3f1c2d4e5a697887766554433221100ffeeddccbbaa99887766554433221100';
export const SECRET = 's3cr3t-Pa55';

const file = (p: string, rows: number, sha: string) => ({ path: p, bytes: 100 + rows * 37, sha256: sha.repeat(64 / sha.length), rows });

export function manifest(): Manifest {
  const t = (db: string, name: string, engine: string, rows: number, checksum: string, sha: string) => ({
    name,
    engine,
    collation: 'utf8_unicode_ci',
    rows,
    checksum,
    files: [file(`${db}/${name}.schema.sql.gz`, 0, sha), file(`${db}/${name}.000.tsv.gz`, rows, sha.split('').reverse().join(''))],
  });
  return {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: '0.1.0' },
    createdAt: '2026-03-02T06:30:00.000Z',
    id: SNAPSHOT_ID,
    source: { serverVersion: '5.5.62-MariaDB', sqlMode: '', characterSetServer: 'latin1', collationServer: 'latin1_swedish_ci', lowerCaseTableNames: 0 },
    consistency: { method: 'lock+transaction', lockHeldMs: 4210 },
    compression: { algorithm: 'gzip', level: 6 },
    databases: [
      {
        role: 'glpi',
        name: 'glpi',
        charset: 'utf8',
        collation: 'utf8_unicode_ci',
        glpi: {
          version: { version: '0.83.8', rawVersion: ' 0.83.8', layout: 'wide', problems: [], status: 'known' },
          connector: { mode: 'core-0.83', servers: 1, links: 412, tables: ['glpi_ocsservers', 'glpi_ocslinks', 'glpi_ocsadmininfoslinks', 'glpi_registrykeys'] },
        },
        tables: [
          t('glpi', 'glpi_computers', 'MyISAM', 431, '1234567890', 'a1'),
          t('glpi', 'glpi_users', 'MyISAM', 612, '2233445566', 'b2'),
          t('glpi', 'glpi_authldaps', 'MyISAM', 1, '98765', 'c3'),
          t('glpi', 'glpi_profiles', 'MyISAM', 6, '4455', 'd4'),
          t('glpi', 'glpi_entities', 'MyISAM', 7, '5566', 'e5'),
          t('glpi', 'glpi_ocsservers', 'MyISAM', 1, '777', 'f6'),
          t('glpi', 'glpi_ocslinks', 'MyISAM', 412, '18446744073709551615', '07'),
          t('glpi', 'glpi_slalevels_tickets', 'MyISAM', 58, '3141592653', '18'),
          t('glpi', 'glpi_tickets', 'MyISAM', 9120, '2718281828', '29'),
        ],
        views: [],
        triggers: [],
        routines: [],
      },
      {
        role: 'ocs',
        name: 'ocsweb',
        charset: 'utf8',
        collation: 'utf8_general_ci',
        ocs: { version: { guiVersion: 7005, rawGuiVersion: '7005', releases: ['2.1', '2.1.1'], problems: [], status: 'known' } },
        tables: [
          t('ocs', 'hardware', 'InnoDB', 418, '1111', '3a'),
          t('ocs', 'accountinfo', 'InnoDB', 418, '2222', '4b'),
          t('ocs', 'bios', 'InnoDB', 418, '3333', '5c'),
          t('ocs', 'softwares', 'InnoDB', 52310, '4444', '6d'),
          t('ocs', 'networks', 'InnoDB', 890, '5555', '7e'),
          t('ocs', 'config', 'MyISAM', 74, '6666', '8f'),
          t('ocs', 'deleted_equiv', 'MyISAM', 3, '7777', '90'),
          t('ocs', 'operators', 'MyISAM', 2, '8888', 'a0'),
        ],
        views: [],
        triggers: [],
        routines: [],
      },
    ],
    generated: { generator: 'glpi-ocs-upgrade fixtures', seed: 42, computers: 418, hazards: ['glpi-duplicate-slalevels', 'ocs-null-publishers'] },
  } as Manifest;
}

/** A text the fixture gives in one language only, shown as is in both (like a plan written before messages existed). */
const same = (t: string) => literal(t, t);

export function plan(): PlanFile {
  return {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: '0.1.0' },
    createdAt: '2026-03-02T07:00:00.000Z',
    source: { snapshotId: SNAPSHOT_ID, glpi: { version: '0.83.8', connector: 'core-0.83' }, ocs: { guiVersion: 7005, releases: ['2.1', '2.1.1'] } },
    targets: { glpi: '10.0.22', ocs: '2.12.4', connector: 'plugin' },
    steps: [
      {
        id: 'fix-glpi-dedup-slalevels-tickets',
        product: 'glpi',
        database: 'glpi',
        title: same('Suppression des doublons de glpi_slalevels_tickets'),
        runner: { kind: 'corrective-migration', migration: 'glpi-dedup-slalevels-tickets' },
        from: '0.83.8',
        to: '0.83.8',
        requires: {},
        before: [],
        expected: { rowsDeleted: [{ table: 'glpi_slalevels_tickets', why: same('doublons (tickets_id, slalevels_id)') }], tablesTouched: ['glpi_slalevels_tickets'] },
        hazards: ['glpi.duplicates.slalevels_tickets'],
        explanation: same('La clé unique ajoutée en 9.1 ferait échouer la mise à jour.'),
      },
      {
        id: 'ocs-bridge-7006',
        product: 'ocs',
        database: 'ocs',
        title: same('OCS 2.1 → 2.2 (passage à GUI_VERSION 7006)'),
        runner: { kind: 'ocs-bridge', toGuiVersion: 7006 },
        from: '7005',
        to: '7006',
        requires: { mariadb: '10.2' },
        before: [],
        expected: { tablesTouched: 'all' },
        hazards: [],
        explanation: same('Seul chemin sûr depuis 7005.'),
      },
      {
        id: 'ocs-7037',
        product: 'ocs',
        database: 'ocs',
        title: same('OCS 7037 : nouvelle structure des logiciels'),
        runner: { kind: 'ocs-update-file', guiVersion: 7037, file: 'files/update/7037.sql' },
        from: '7036',
        to: '7037',
        requires: { distribution: { product: 'ocs', version: '2.12.4' } },
        before: [],
        expected: {
          tablesCreated: ['software', 'software_name'],
          rowsDeleted: [{ table: 'softwares', why: same('lignes sans éditeur ni version') }],
          tablesTouched: ['softwares', 'software', 'software_name'],
        },
        hazards: ['ocs.softwares.null_publisher'],
        explanation: same('Perte silencieuse de lignes à mesurer.'),
      },
      {
        id: 'ocs-7080',
        product: 'ocs',
        database: 'ocs',
        title: same('OCS 7080 : recréation de la table batteries'),
        runner: { kind: 'ocs-update-file', guiVersion: 7080, file: 'files/update/7080.sql' },
        from: '7079',
        to: '7080',
        requires: { distribution: { product: 'ocs', version: '2.12.4' } },
        before: [],
        expected: { tablesDropped: ['batteries'], tablesCreated: ['batteries'], tablesTouched: ['batteries'] },
        hazards: [],
        explanation: same('La table est supprimée puis recréée.'),
      },
      {
        id: 'glpi-10.0.22-db-update',
        product: 'glpi',
        database: 'glpi',
        title: same('GLPI 0.83.8 → 10.0.22'),
        runner: { kind: 'glpi-console', release: '10.0.22', command: 'db:update', args: ['-n'] },
        from: '0.83.8',
        to: '10.0.22',
        requires: { php: '>=7.4.0 <8.5.0', mariadb: '10.2', mysql: '5.7', distribution: { product: 'glpi', version: '10.0.22' } },
        before: ['fix-glpi-dedup-slalevels-tickets'],
        expected: { tablesRenamed: [{ from: 'glpi_ocslinks', to: 'ocs_glpi_ocslinks' }], tablesTouched: 'all' },
        hazards: ['glpi.duplicates.slalevels_tickets'],
        explanation: same('Mise à jour officielle en une fois.'),
      },
      {
        id: 'plugin-ocsinventoryng-2.0.5',
        product: 'connector',
        database: 'glpi',
        title: same('Greffon ocsinventoryng 2.0.5'),
        runner: { kind: 'plugin-install', pluginVersion: '2.0.5', glpiRelease: '10.0.22' },
        from: 'core-0.83',
        to: '2.0.5',
        requires: { php: '>=7.4.0 <8.5.0', distribution: { product: 'connector', version: '2.0.5' } },
        before: [],
        expected: { tablesCreated: ['glpi_plugin_ocsinventoryng_ocslinks'], tablesTouched: 'all' },
        hazards: ['interconnection.links.orphan_computer'],
        explanation: same('Reprend les liens du mode OCS de GLPI 0.83.'),
      },
    ],
    notes: [same('GLPI 11.0 exige PHP 8.2 : la cible retenue est 10.0.22.'), same('Les fichiers install.php d’OCS ne sont jamais utilisés.')],
  };
}

export function findings(): FindingsFile {
  return {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: '0.1.0' },
    createdAt: '2026-03-02T06:45:00.000Z',
    source: { snapshotId: SNAPSHOT_ID },
    checksRun: [
      { id: 'glpi.duplicates.slalevels_tickets', family: 'glpi-upgrade', title: literal('Duplicates in glpi_slalevels_tickets', 'Doublons dans glpi_slalevels_tickets'), status: 'finding' },
      { id: 'interconnection.trace_deleted', family: 'interconnection', title: literal('TRACE_DELETED enabled in OCS', 'TRACE_DELETED activé dans OCS'), status: 'ok' },
      { id: 'interconnection.links.orphan_computer', family: 'interconnection', title: literal('OCS links without a GLPI computer', 'Liens OCS sans ordinateur GLPI'), status: 'finding' },
      { id: 'ocs.softwares.null_publisher', family: 'ocs-upgrade', title: literal('Software without publisher or version', 'Logiciels sans éditeur ni version'), status: 'finding' },
      {
        id: 'environment.glpicrypt_key',
        family: 'environment',
        title: literal('glpicrypt.key available', 'Clé glpicrypt.key disponible'),
        status: 'skipped',
        reason: literal('no --glpi-dir given', 'aucun répertoire GLPI fourni (--glpi-dir)'),
      },
    ],
    findings: [
      {
        id: 'glpi.duplicates.slalevels_tickets',
        family: 'glpi-upgrade',
        severity: 'bloquante',
        title: literal('Duplicates in glpi_slalevels_tickets', 'Doublons dans glpi_slalevels_tickets'),
        count: 4,
        evidence: { sample: [[12, 3]] },
        appliesTo: ['glpi-10.0.22-db-update'],
        remedy: { migration: 'glpi-dedup-slalevels-tickets' },
      },
      {
        id: 'interconnection.links.orphan_computer',
        family: 'interconnection',
        severity: 'mineure',
        title: literal('OCS links without a GLPI computer', 'Liens OCS sans ordinateur GLPI'),
        count: 2,
        evidence: { ids: [17, 23] },
        remedy: { manual: literal('Delete the orphan links from GLPI.', 'Supprimer les liens orphelins depuis GLPI.') },
      },
      {
        id: 'ocs.softwares.null_publisher',
        family: 'ocs-upgrade',
        severity: 'majeure',
        title: literal('Software without publisher or version', 'Logiciels sans éditeur ni version'),
        count: 311,
        evidence: {},
        remedy: { manual: literal('Accept the loss or fill in publishers before 7037.', 'Accepter la perte ou compléter les éditeurs avant 7037.') },
      },
    ],
  };
}

export function run(): RunSummary {
  return {
    format: 1,
    tool: { name: 'glpi-ocs-upgrade', version: '0.1.0' },
    runId: 'run-20260302-0715',
    startedAt: '2026-03-02T07:15:00.000Z',
    finishedAt: '2026-03-02T07:21:40.000Z',
    dryRun: false,
    complete: true,
    snapshot: { dir: '../snapshot', id: SNAPSHOT_ID },
    plan: { file: 'plan.yaml', steps: 6 },
    instance: { kind: 'embedded', serverVersion: '10.11.6-MariaDB', settings: { sql_mode: '', character_set_server: 'latin1', lower_case_table_names: 0 } },
    distributions: [{ product: 'ocs', version: '2.12.4', path: '/home/admin/dist/ocsreports-2.12.4', sha256: `${'c0ffee'.repeat(10)}c0de` }],
    preChecks: [
      {
        id: 'restore-glpi',
        title: same('Restore of the GLPI database matches the snapshot manifest'),
        status: 'passed',
        detail: same('9 tables, 10648 rows: row counts and CHECKSUM TABLE equal to the manifest'),
      },
      {
        id: 'restore-ocs',
        title: same('Restore of the OCS database matches the snapshot manifest'),
        status: 'passed',
        detail: same('8 tables, 54533 rows: row counts and CHECKSUM TABLE equal to the manifest'),
      },
      {
        id: 'environment.sql-mode',
        title: literal('Test instance sql_mode equals production', 'sql_mode de l’instance de test identique à celui de la production'),
        status: 'passed',
        detail: literal('both empty', 'vide des deux côtés'),
      },
    ],
    steps: [
      {
        stepId: 'fix-glpi-dedup-slalevels-tickets',
        status: 'passed',
        startedAt: '2026-03-02T07:16:00.000Z',
        finishedAt: '2026-03-02T07:16:01.000Z',
        durationMs: 412,
        reason: literal('pre-check 4 → post-check 0; 1 statement(s)', 'contrôle préalable : 4 ligne(s) → contrôle final : 0 ; 1 instruction(s)'),
        statements: { total: 2, ok: 2, expectedErrors: 0, failed: 0 },
        tableDeltas: [{ table: 'glpi_slalevels_tickets', before: 58, after: 54, verdict: 'expected', explanation: 'doublons supprimés' }],
        untouchedChecked: 8,
        evidence: ['evidence/fix-glpi-dedup-slalevels-tickets/counts.yaml'],
      },
      {
        stepId: 'ocs-bridge-7006',
        status: 'passed',
        durationMs: 8530,
        reason: literal(
          "tool's bridge: 212 statements: 205 ok, 7 expected errors (already applied), 0 failed",
          'schéma de passage de l’outil, 212 instructions : 205 réussies, 7 erreurs attendues (déjà appliquées), 0 en échec',
        ),
        versionBefore: '7005',
        versionAfter: '7006',
        statements: { total: 212, ok: 205, expectedErrors: 7, failed: 0 },
        tableDeltas: [
          { table: 'config', before: 74, after: 75, verdict: 'expected', explanation: 'paramètre ajouté par 2.2' },
          { table: 'hardware', before: 418, after: 418, verdict: 'unchanged' },
        ],
        evidence: ['evidence/ocs-bridge-7006/statements.log', 'evidence/ocs-bridge-7006/counts.yaml'],
        outputExcerpt: `7 expected errors (duplicate column)\nconnected as mysql://ocs:${SECRET}@127.0.0.1:3307/ocsweb`,
      },
      {
        stepId: 'ocs-7037',
        status: 'passed',
        durationMs: 61234,
        reason: literal('18 statements: 18 ok, 0 expected errors (already applied), 0 failed', '18 instructions : 18 réussies, 0 erreur attendue (déjà appliquée), 0 en échec'),
        versionBefore: '7036',
        versionAfter: '7037',
        statements: { total: 18, ok: 18, expectedErrors: 0, failed: 0 },
        tableDeltas: [
          { table: 'softwares', before: 52310, after: 51999, verdict: 'anomaly', explanation: '311 lignes supprimées sans éditeur' },
          { table: 'software', before: null, after: 51999, verdict: 'expected', explanation: 'table créée' },
        ],
        evidence: ['evidence/ocs-7037/statements.log', 'evidence/ocs-7037/missing.txt'],
      },
      {
        stepId: 'ocs-7080',
        status: 'failed',
        durationMs: 950,
        versionBefore: '7079',
        versionAfter: '7079',
        reason: literal(
          '7080.sql statement 3 failed (1071 Specified key was too long; max key length is 767 bytes); GUI_VERSION left at 7079',
          'l’instruction 3 de 7080.sql a échoué (1071 Specified key was too long; max key length is 767 bytes) ; GUI_VERSION laissée à 7079',
        ),
        statements: { total: 3, ok: 1, expectedErrors: 0, failed: 1 },
        tableDeltas: [],
        evidence: ['evidence/ocs-7080/statements.log'],
        outputExcerpt: 'CREATE TABLE batteries (…) → ERROR 1071',
      },
      {
        stepId: 'glpi-10.0.22-db-update',
        status: 'not-run',
        reason: literal(
          'no GLPI 10.0.22 distribution: pass --glpi-dist DIR with an unpacked GLPI 10.0.22 release',
          'aucune distribution de GLPI 10.0.22 : indiquer avec --glpi-dist DIR l’archive décompressée de GLPI 10.0.22',
        ),
        commandForUser: 'cd /path/to/glpi-10.0.22 && php bin/console db:update -n -n --no-ansi --lang=en_GB',
        tableDeltas: [],
        evidence: [],
      },
    ],
    anomalies: [
      {
        id: 'A-ocs-7080-failed',
        stepId: 'ocs-7080',
        severity: 'bloquante',
        title: literal('Step ocs-7080 failed', 'Échec de l’étape ocs-7080'),
        detail: literal('ERROR 1071: key too long (767 bytes) on batteries.', 'ERROR 1071 : clé trop longue (767 octets) sur batteries.'),
        remedy: literal('Set innodb_large_prefix ON or use MariaDB ≥ 10.3.', 'Passer innodb_large_prefix à ON ou utiliser MariaDB ≥ 10.3.'),
        resolved: false,
      },
      {
        id: 'A-ocs-7037-softwares',
        stepId: 'ocs-7037',
        severity: 'majeure',
        title: literal('Rows deleted from softwares', 'Lignes supprimées dans softwares'),
        detail: literal('311 rows without publisher or version disappeared.', '311 lignes sans éditeur ni version ont disparu.'),
        resolved: false,
      },
      {
        id: 'F-glpi.duplicates.slalevels_tickets',
        findingId: 'glpi.duplicates.slalevels_tickets',
        severity: 'bloquante',
        title: literal('Duplicates in glpi_slalevels_tickets', 'Doublons dans glpi_slalevels_tickets'),
        detail: literal('4 occurrences, fixed by migration glpi-dedup-slalevels-tickets.', '4 occurrences, corrigées par la migration glpi-dedup-slalevels-tickets.'),
        remedy: literal('Corrective migration glpi-dedup-slalevels-tickets', 'Migration corrective glpi-dedup-slalevels-tickets'),
        resolved: true,
      },
      {
        id: 'F-ocs.softwares.null_publisher',
        findingId: 'ocs.softwares.null_publisher',
        severity: 'majeure',
        title: literal('Software without publisher or version', 'Logiciels sans éditeur ni version'),
        detail: literal('311 occurrence(s) found by the audit.', '311 occurrence(s) relevée(s) par l’audit.'),
        remedy: literal('Accept the loss or fill in publishers before 7037.', 'Accepter la perte ou compléter les éditeurs avant 7037.'),
        resolved: false,
      },
      {
        id: 'F-interconnection.links.orphan_computer',
        findingId: 'interconnection.links.orphan_computer',
        severity: 'mineure',
        title: literal('OCS links without a GLPI computer', 'Liens OCS sans ordinateur GLPI'),
        detail: literal('2 occurrences found by the audit.', '2 occurrences relevées par l’audit.'),
        remedy: literal('Delete the orphan links from GLPI.', 'Supprimer les liens orphelins depuis GLPI.'),
        resolved: false,
      },
    ],
  };
}

export function journal(): JournalEvent[] {
  return [
    { t: '2026-03-02T07:15:00.000Z', event: 'run-started', runId: 'run-20260302-0715', plan: 'plan.yaml', snapshot: SNAPSHOT_ID, instance: 'embedded' },
    { t: '2026-03-02T07:15:55.000Z', event: 'restore-finished', tables: 17, ok: true },
    { t: '2026-03-02T07:16:00.000Z', event: 'step-started', stepId: 'fix-glpi-dedup-slalevels-tickets' },
    { t: '2026-03-02T07:16:01.000Z', event: 'step-finished', stepId: 'fix-glpi-dedup-slalevels-tickets', status: 'passed', durationMs: 412 },
    { t: '2026-03-02T07:21:40.000Z', event: 'run-finished', complete: true },
  ];
}

export interface FixtureParts {
  run: RunSummary;
  plan: PlanFile;
  findings?: FindingsFile;
  manifest?: Manifest;
  journal: JournalEvent[];
}

export function fixtureParts(): FixtureParts {
  return { run: run(), plan: plan(), findings: findings(), manifest: manifest(), journal: journal() };
}

/** Writes <root>/run and <root>/snapshot; returns the run directory. */
export function writeRunDir(root: string, parts: FixtureParts = fixtureParts()): string {
  const runDir = path.join(root, 'run');
  const snapDir = path.join(root, 'snapshot');
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, 'run.yaml'), YAML.stringify(parts.run));
  fs.writeFileSync(path.join(runDir, 'plan.yaml'), YAML.stringify(parts.plan));
  if (parts.findings) fs.writeFileSync(path.join(runDir, 'findings.yaml'), YAML.stringify(parts.findings));
  fs.writeFileSync(path.join(runDir, 'journal.jsonl'), `${parts.journal.map((e) => JSON.stringify(e)).join('\n')}\n`);
  for (const s of parts.run.steps) {
    for (const e of s.evidence) {
      if (e.endsWith('missing.txt')) continue; // deliberately absent: the dossier must say so
      fs.mkdirSync(path.dirname(path.join(runDir, e)), { recursive: true });
      fs.writeFileSync(path.join(runDir, e), `evidence of ${s.stepId}: ${path.basename(e)}\n`);
    }
  }
  if (parts.manifest) {
    fs.mkdirSync(snapDir, { recursive: true });
    fs.writeFileSync(path.join(snapDir, 'manifest.yaml'), YAML.stringify(parts.manifest));
  }
  return runDir;
}

export function tempRoot(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gou-report-${label}-`));
}
