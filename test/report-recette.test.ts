/**
 * Issue 21: the dossier as a document a steering committee signs. Three registers (only observed anomalies
 * count for §8.11), recette.yaml (agreed severities, anomaly follow-up, réserves, manual tests), the
 * synthesis first, and one test per wording defect: each builds the situation the old wording got wrong
 * and reads the sentence.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { buildDossierModel, loadRunInputs, renderDat, renderDossier } from '../src/report/index.ts';
import { renderDossierModel, dedupeOptions } from '../src/report/dossier.ts';
import { checkRecette, loadRecette, stringifyRecette } from '../src/report/recette.ts';
import type { Recette } from '../src/report/recette.ts';
import { treeHash } from '../src/report/inputs.ts';
import { mapProse } from '../src/report/typography.ts';
import { VerificationError } from '../src/errors.ts';
import { fixtureParts, lintMarkdown, tempRoot, writeRunDir } from './report-fixture.ts';
import { typographyFaults } from './helpers/french.ts';
import { literal } from '../src/i18n/messages.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const roots: string[] = [];
function root(label: string): string {
  const r = tempRoot(label);
  roots.push(r);
  return r;
}
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** The prose of a document: fenced blocks and code spans removed. */
function proseOf(md: string): string {
  return mapProse(md, (t) => t)
    .replace(/^(`{3,}|~{3,})[\s\S]*?^\1\s*$/gm, ' ')
    .replace(/`[^`\n]*`/g, ' ');
}

function recette(extra: Partial<Recette> = {}): Recette {
  return checkRecette({ format: 1, ...extra });
}

describe('three registers: only what a run observed counts for §8.11', () => {
  it('audit findings are constats on the existing system and never reach the §8.11 thresholds', () => {
    const parts = fixtureParts();
    for (const s of parts.run.steps) s.status = 'passed';
    parts.run.steps.push({ stepId: 'plugin-ocsinventoryng-2.0.5', status: 'passed', tableDeltas: [], evidence: [] });
    // Only finding-derived anomalies, unresolved, three of them major: the old register counted them.
    parts.run.anomalies = parts.run.anomalies.filter((a) => a.findingId);
    for (const a of parts.run.anomalies) {
      a.severity = 'majeure';
      a.resolved = false;
    }
    const m = buildDossierModel(loadRunInputs(writeRunDir(root('constats'), parts)));
    expect(m.register).toEqual([]);
    expect(m.constats.map((c) => c.id).sort()).toEqual(parts.run.anomalies.map((a) => a.findingId).sort());
    expect(m.verdict.residual).toEqual({ blocking: 0, major: 0, minor: 0, total: 0 });
    expect(m.verdict.reasons).not.toContain('too-many-majors');
  });

  it('a plugin.* prediction is a risk, with the steps it is about and whether they ran', () => {
    const parts = fixtureParts();
    parts.findings!.findings.push({
      id: 'plugin.lost_profile_rights',
      family: 'interconnection',
      severity: 'majeure',
      title: literal('OCS rights lost by the plugin migration', 'Droits OCS des profils perdus par la migration du plugin'),
      count: 2,
      evidence: {},
      remedy: {},
    });
    parts.run.anomalies.push({
      id: 'F-plugin.lost_profile_rights',
      findingId: 'plugin.lost_profile_rights',
      severity: 'majeure',
      title: literal('x', 'x'),
      detail: literal('x', 'x'),
      resolved: false,
    });
    const inputs = loadRunInputs(writeRunDir(root('risk'), parts));
    const m = buildDossierModel(inputs);
    expect(m.risks.map((r) => r.id)).toEqual(['plugin.lost_profile_rights']);
    expect(m.risks[0].steps).toEqual([{ id: 'plugin-ocsinventoryng-2.0.5', ran: false }]);
    expect(m.register.map((a) => a.id)).not.toContain('F-plugin.lost_profile_rights');
    const md = renderDossier(inputs);
    const risks = md.slice(md.indexOf('### 4.3 Risques'), md.indexOf('## 5. Verdict'));
    expect(risks).toContain('| `plugin.lost_profile_rights` | Majeure | Droits OCS des profils perdus par la migration du plugin | 2 | `plugin-ocsinventoryng-2.0.5` (non exécutée) |');
  });

  it('an anomaly has a lifecycle: corrigée is still residual, vérifiée and close are not', () => {
    const parts = fixtureParts();
    const inputs = loadRunInputs(writeRunDir(root('lifecycle'), parts));
    const base = buildDossierModel(inputs);
    expect(base.register.map((a) => [a.id, a.state, a.detectedOn, a.attempt])).toEqual([
      ['A-ocs-7080-failed', 'ouverte', '2026-03-02', parts.run.runId],
      ['A-ocs-7037-softwares', 'ouverte', '2026-03-02', parts.run.runId],
    ]);
    expect(base.verdict.residual.total).toBe(2);
    const follow = recette({
      anomalies: [
        { id: 'A-ocs-7080-failed', state: 'vérifiée', owner: 'J. Morel', verifiedBy: 'run-2' },
        { id: 'A-ocs-7037-softwares', state: 'corrigée', owner: 'J. Morel', deadline: '2026-04-01' },
      ],
    } as never);
    const m = buildDossierModel(inputs, { recette: follow });
    expect(m.verdict.residual).toEqual({ blocking: 0, major: 1, minor: 0, total: 1 });
    const md = renderDossierModel(m);
    expect(md).toContain('| `A-ocs-7037-softwares` | Majeure | Lignes supprimées dans softwares | Corrigée | 02/03/2026 | J. Morel | 01/04/2026 |');
    expect(md).toContain('- État : vérifiée (état convenu (recette.yaml))');
    expect(md).toContain('- Vérifiée par : `run-2`');
  });
});

describe('recette.yaml', () => {
  it('the documented example carries a severity change and manual tests, and both show in the dossier', () => {
    const r = loadRecette(path.join(REPO, 'docs/examples/recette.yaml'));
    expect(r.contract).toBe('MAPA/06/2019/ARS13');
    const inputs = loadRunInputs(path.join(REPO, 'docs/examples/demo'));
    const m = buildDossierModel(inputs, { recette: r });
    expect(m.unknownRecetteIds).toEqual([]);
    const md = renderDossierModel(m);
    expect(lintMarkdown(md)).toEqual([]);
    // The severity agreed for a constat, marked and justified.
    expect(md).toContain('| `link.never_imported` | Majeure, modifiée par accord (défaut de l’outil : mineure) |');
    expect(md).toContain('Gravité majeure, convenue le 25/11/2026 avec le client (défaut de l’outil : mineure) : les postes jamais importés');
    // The manual tests: a sheet each, the failed one raising an anomaly with its agreed severity and state.
    expect(md).toMatch(/#### CT-MAN-01 — Un technicien ouvre la fiche d’un ordinateur importé d’OCS/);
    expect(md).toContain('**Procédure :** Test manuel mené par Pierre Lambert le 24/11/2026.');
    expect(md).toContain('**Résultat obtenu :** deux libellés de l’onglet restent en anglais');
    expect(md).toContain('| `M-02` | Mineure, modifiée par accord (défaut de l’outil : majeure) | Libellés de l’onglet OCSNG en anglais | Corrigée | 24/11/2026 | Julien Morel | 04/12/2026 |');
    expect(md).toContain('| Tests manuels (recette.yaml) | 1 sur 2 |');
    // Contract, order, signatories, réserves.
    expect(md).toContain('| Référence du marché | MAPA/06/2019/ARS13 |');
    expect(md).toContain('(Marché MAPA/06/2019/ARS13) |');
    expect(md).toContain('| Pour le titulaire | Julien Morel, Chef de projet | | |');
    expect(md).toContain('| Chef de projet du client (maîtrise d’ouvrage) | Nadia Benali | ARS PACA | | |');
    expect(md).toContain('| `R-01` — Corriger le libellé de l’onglet OCSNG dans la fiche ordinateur | 04/12/2026 | `M-02` |');
    expect(md).toContain('| `recette.yaml` |');
    // The DAT shows the contract and the visas too.
    const dat = renderDat(inputs, { recette: r, customer: r.customer });
    expect(dat).toContain('| Référence du marché | MAPA/06/2019/ARS13 |');
    expect(dat).toContain('| Représentant du département DSI/Production | Pierre Lambert | ARS PACA | | |');
  });

  it('round-trips through its writer', () => {
    const r = loadRecette(path.join(REPO, 'docs/examples/recette.yaml'));
    const again = checkRecette(YAML.parse(stringifyRecette(r)));
    expect({ ...again, source: undefined }).toEqual({ ...r, source: undefined });
  });

  it('refuses what it cannot honour, naming the field', () => {
    const bad = (doc: unknown) => () => checkRecette(doc);
    expect(bad({ format: 2 })).toThrow(/recette\.yaml: format 2 is newer than this tool understands/);
    expect(bad({ format: 1, anomalies: [{ id: 'A', state: 'fermée' }] })).toThrow(/anomalies\[0\]\.state: expected one of ouverte, corrigée, vérifiée, close, got "fermée"/);
    expect(bad({ format: 1, severities: [{ id: 'A', severity: 'majeure', justification: ' ' }] })).toThrow(/severities\[0\]\.justification: must say why the severity was changed/);
    expect(bad({ format: 1, manualTests: [{ id: 'T', title: 't', tester: 'x', date: '2026-01-01', observed: 'o', status: 'failed' }] })).toThrow(
      /manualTests\[0\]\.anomaly: is required for a failed test/,
    );
    expect(bad({ format: 1, reserves: [{ text: 't', deadline: '4 décembre' }] })).toThrow(/reserves\[0\]\.deadline: expected a day written YYYY-MM-DD, got "4 décembre"/);
    expect(bad({ format: 1, customers: 'x' })).toThrow(/customers: unknown key \(expected one of format, customer, project/);
    expect(bad({ format: 1, severities: [{ id: 'A', severity: 'majeure', justification: ' ' }] })).toThrow(VerificationError);
  });

  it('an id recette.yaml names but the run does not know is reported, not silently ignored', () => {
    const m = buildDossierModel(loadRunInputs(writeRunDir(root('unknown'))), { recette: recette({ severities: [{ id: 'A-nope', severity: 'mineure', justification: 'x' }] } as never) });
    expect(m.unknownRecetteIds).toEqual(['A-nope']);
    expect(renderDossierModel(m)).toContain('recette.yaml cite des références inconnues de ce dossier : `A-nope`.');
  });
});

describe('the synthesis comes first', () => {
  it('decision, key figures, open anomalies, réserves and decisions before the detail; sheets in the annex', () => {
    const md = renderDossier(loadRunInputs(writeRunDir(root('synthesis'))));
    const synthesis = md.slice(md.indexOf('## Synthèse'), md.indexOf('## 1. Identification'));
    expect(synthesis).toContain('### Décision proposée\n\n> **Dossier incomplet, recette non prononçable en l’état.**');
    expect(synthesis).toContain('| Anomalies de la livraison ouvertes (§ 8.11) | **2** |');
    expect(synthesis).toContain('| Majeure | 1 | 0 | 0 | au plus 2 |');
    expect(synthesis).toContain('- Faire compléter la répétition (2 étapes non exécutées, faute de distribution)');
    expect(synthesis).toContain('Accepter ou faire lever le contrôle d’audit non exécuté : `environment.glpicrypt_key`.');
    expect(synthesis).not.toContain('#### ');
    expect(synthesis.split('\n').length).toBeLessThan(80);
  });
});

describe('evidence-driven wording (one test per defect of issue 21)', () => {
  it('a run that finished with steps not run: no "did not finish", and the mode says partial', () => {
    const parts = fixtureParts();
    parts.run.complete = false; // the rehearsal sets complete: false when steps were not run
    expect(parts.run.finishedAt).toBeDefined();
    const md = renderDossier(loadRunInputs(writeRunDir(root('finished'), parts)));
    expect(md).not.toContain('ne s’est pas terminée');
    expect(md).not.toContain('exécution complète');
    expect(md).toContain('| Mode d’exécution | exécution réelle sur instance de test, partielle : 4 étapes exécutées sur 6, les autres faute de distribution |');
    expect(md).toContain('- La répétition est allée à son terme, mais 2 étapes n’ont pas été exécutées.');
  });

  it('an interrupted run still says it did not finish', () => {
    const parts = fixtureParts();
    parts.run.complete = false;
    delete parts.run.finishedAt;
    parts.journal = parts.journal.filter((e) => e.event !== 'run-finished');
    const md = renderDossier(loadRunInputs(writeRunDir(root('interrupted'), parts)));
    expect(md).toContain('La répétition ne s’est pas terminée.');
    expect(md).toContain('interrompue avant la fin du plan');
  });

  it('the tool’s own bridge: the sheet names it and lists no TRUNCATE that never ran', () => {
    const parts = fixtureParts();
    const bridge = parts.run.steps.find((s) => s.stepId === 'ocs-bridge-7006')!;
    bridge.reason = literal(
      "tool's bridge: 2 statements: 2 ok, 0 expected errors (already applied), 0 failed",
      'schéma de passage de l’outil, 2 instructions : 2 réussies, 0 erreur attendue (déjà appliquée), 0 en échec',
    );
    bridge.evidence = ['evidence/ocs-bridge-7006/bridge.json'];
    const dir = writeRunDir(root('bridge'), parts);
    fs.mkdirSync(path.join(dir, 'evidence/ocs-bridge-7006'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'evidence/ocs-bridge-7006/bridge.json'), JSON.stringify({ source: 'tool', file: 'migrations/ocs/bridge-7005-7006.sql' }));
    const inputs = loadRunInputs(dir);
    expect(inputs.bridges).toEqual({ 'ocs-bridge-7006': 'tool' });
    const md = renderDossier(inputs);
    const sheet = md.slice(md.indexOf('— OCS 7005 → 7006'), md.indexOf('#### ', md.indexOf('— OCS 7005 → 7006')));
    expect(sheet).toContain('schéma de passage de l’outil (`migrations/ocs/bridge-7005-7006.sql`)');
    expect(sheet).not.toContain('script de passage files/ocsbase.sql');
    expect(sheet).not.toMatch(/Suppressions de lignes prévues/);
    expect(sheet).toContain('Aucune table n’est vidée');
    // With OCS 2.2's own script, the TRUNCATEs are expected.
    fs.writeFileSync(path.join(dir, 'evidence/ocs-bridge-7006/bridge.json'), JSON.stringify({ source: 'official' }));
    bridge.reason = literal('212 statements', '212 statements');
    const official = renderDossier(
      loadRunInputs(writeRunDir(root('bridge-official'), { ...parts, run: { ...parts.run, steps: parts.run.steps.map((s) => (s.stepId === bridge.stepId ? { ...s, evidence: [] } : s)) } })),
    );
    expect(official).toContain('Rejeu du `files/ocsbase.sql` d’OCS 2.2');
  });

  it('a target older than the catalog’s newest is not shown as proven', () => {
    const parts = fixtureParts();
    parts.plan.targets.glpi = '10.0.19';
    for (const s of parts.run.steps) s.status = 'passed';
    parts.run.steps.push({ stepId: 'plugin-ocsinventoryng-2.0.5', status: 'passed', tableDeltas: [], evidence: [] });
    const m = buildDossierModel(loadRunInputs(writeRunDir(root('older'), parts)));
    const ex01 = m.requirements.find((r) => r.id === 'EX-01')!;
    expect(ex01.status).toBe('older-target');
    expect(ex01.newest?.branch).toMatch(/^10\.0\.\d+$/);
    const md = renderDossierModel(m);
    expect(md).toMatch(/\| EX-01 \|[^\n]*\| Non démontrée : la cible 10\.0\.19 n’est pas la dernière version \(10\.0\.\d+ dans sa branche, \d+\.\d+\.\d+ au catalogue\) \|/);
    expect(md).toMatch(/- Valider la version cible GLPI 10\.0\.19 ou demander la 10\.0\.\d+, plus récente\./);
  });

  it('skipped audit checks: the verdict table does not claim everything was run', () => {
    const parts = fixtureParts();
    const md = renderDossier(loadRunInputs(writeRunDir(root('skipped'), parts)));
    expect(md).toContain('| Contrôles préalables et étapes exécutés | tous | 7 sur 9 | **Non** |');
    expect(md).toContain('| Contrôles d’audit exécutés | tous | 4 sur 5 | **non : 1 contrôle non exécuté, sans effet sur le verdict (décision du comité)** |');
    expect(md).toContain('- `environment.glpicrypt_key` : aucun répertoire GLPI fourni (--glpi-dir)');
  });

  it('a distribution directory still present gets a tree hash, the same as sha256sum over the sorted files', () => {
    const dist = path.join(root('dist'), 'glpi-10.0.19');
    fs.mkdirSync(path.join(dist, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(dist, 'bin/console'), '#!/usr/bin/env php\n');
    fs.writeFileSync(path.join(dist, 'index.php'), '<?php\n');
    fs.writeFileSync(path.join(dist, 'B.txt'), 'upper case sorts first\n');
    const expected = crypto
      .createHash('sha256')
      .update(execFileSync('sh', ['-c', "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum"], { cwd: dist }))
      .digest('hex');
    expect(treeHash(dist)).toBe(expected);
    const parts = fixtureParts();
    parts.run.distributions.push({ product: 'glpi', version: '10.0.19', path: dist });
    const md = renderDossier(loadRunInputs(writeRunDir(root('dist-run'), parts)));
    expect(md).toContain(`| GLPI | 10.0.19 | \`glpi-10.0.19\` | \`${expected}\` (empreinte d’arborescence, voir docs/reports.md) |`);
    expect(md).not.toContain('non calculée');
  });

  it('the snapshot manifest, outside the run directory, is marked as such', () => {
    const md = renderDossier(loadRunInputs(writeRunDir(root('outside'))));
    expect(md).toMatch(/\| `snapshot\/manifest\.yaml` \(hors du répertoire de la répétition, à remettre avec le dossier\) \|/);
  });

  it('GLPI commands carry each option once', () => {
    expect(dedupeOptions('cd /x && php bin/console db:update -n --no-telemetry -n --no-ansi --lang=en_GB')).toBe('cd /x && php bin/console db:update -n --no-telemetry --no-ansi --lang=en_GB');
    expect(dedupeOptions('php bin/console migration:utf8mb4 -n -n --no-ansi')).toBe('php bin/console migration:utf8mb4 -n --no-ansi');
    const parts = fixtureParts();
    const step = parts.run.steps.find((s) => s.commandForUser)!;
    step.commandForUser = `${step.commandForUser} -n -n`;
    const md = renderDossier(loadRunInputs(writeRunDir(root('dedupe'), parts)));
    expect(md).not.toMatch(/ -n(?: \S+)* -n\b/);
  });

  it('French: « plugin », real plurals, typographic apostrophes, checkable objectives', () => {
    const parts = fixtureParts();
    // Texts recorded by other stages with the old wording.
    parts.run.steps[0].reason = literal('pre-check 4 → post-check 0; 1 statement(s)', "contrôle préalable : 4 ligne(s) → contrôle final : 0 ; 1 instruction(s) ; l'étape du greffon");
    const inputs = loadRunInputs(writeRunDir(root('french'), parts));
    for (const md of [renderDossier(inputs), renderDat(inputs)]) {
      const prose = proseOf(md);
      expect(prose).not.toMatch(/greffon/i);
      expect(prose).not.toContain('(s)');
      expect(typographyFaults(prose).filter((f) => f.startsWith('straight apostrophe'))).toEqual([]);
      expect(prose).not.toContain('Réaliser l’étape');
      expect(prose).not.toContain('L’étape peut modifier toutes les tables');
    }
    const md = renderDossier(inputs);
    expect(md).toContain('contrôle préalable : 4 lignes → contrôle final : 0 ; 1 instruction ; l’étape du plugin');
    expect(md).toContain('**Objectif :** Vérifier que le fichier `files/update/7037.sql` porte `GUI_VERSION` de 7036 à 7037 sans erreur imprévue');
  });
});

describe('the DAT', () => {
  it('has security, environments, sizing and PRA/PCA, and does not present the snapshot as the backup system', () => {
    const md = renderDat(loadRunInputs(writeRunDir(root('dat'))));
    expect(lintMarkdown(md)).toEqual([]);
    for (const h of ['Sécurité', 'Chiffrement des échanges', 'Durcissement', 'Matrice des flux à ouvrir', 'Environnements', 'Dimensionnement', 'Plan de reprise et de continuité (PRA / PCA)']) {
      expect(md).toMatch(new RegExp(`\\n##+ \\d+(\\.\\d+)?\\.? ${h.replace(/[()]/g, '\\$&')}\\n`));
    }
    const backup = md.slice(md.indexOf('Procédure de sauvegarde'), md.indexOf('Point de retour de l’intervention'));
    expect(backup).toContain('**À compléter** — Sauvegarde régulière des bases et des fichiers par l’outil de sauvegarde de la DSI');
    expect(backup).not.toContain('glpi-ocs-upgrade snapshot');
    expect(md).toContain('il ne remplace pas la sauvegarde régulière de la DSI');
    // Filled from evidence where the tool knows.
    expect(md).toContain('| Répétition de la mise à jour | instance jetable où l’outil rejoue la mise à jour sur une copie des bases | MariaDB 10.11.6-MariaDB, démarrée puis détruite par l’outil |');
    expect(md).toMatch(/\| Base `glpi` : volume compressé de l’instantané \| [\d,]+ Kio \|/);
  });
});
