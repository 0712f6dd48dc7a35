/**
 * dossier and DAT: loading run/snapshot directories (typed errors), golden files, Markdown lint, and what
 * the documents must say (every step and check with evidence, the anomaly register = the anomalies
 * raised, the §8.11 verdict, "incomplete" when steps were not run, no secrets, same input → same bytes).
 * UPDATE_GOLDEN=1 rewrites test/golden/*.md.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { fileURLToPath } from 'node:url';
import { loadReportInputs, loadRunInputs, loadSnapshotInputs, renderDat, renderDossier, buildDossierModel } from '../src/report/index.ts';
import { NotFoundError, VerificationError } from '../src/errors.ts';
import { esc, redact } from '../src/report/md.ts';
import { buildPlan } from '../src/plan/planner.ts';
import { planInputFromManifest } from '../src/plan/input.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import type { Message } from '../src/i18n/messages.ts';
import { render } from '../src/i18n/render.ts';
import { fixtureParts, lintMarkdown, SECRET, tempRoot, writeRunDir } from './report-fixture.ts';
import { executeStep } from '../src/rehearse/dispatch.ts';
import type { ExecutorContext } from '../src/rehearse/executors/types.ts';
import type { StepResult } from '../src/rehearse/run-types.ts';
import { englishIn, typographyFaults } from './helpers/french.ts';
import { agreePlurals, frenchProse } from '../src/report/typography.ts';
import { literal, msg } from '../src/i18n/messages.ts';
import { en, fr } from './helpers/reason.ts';
/** A text from the inputs as a document prints it (plural agreement; in French, apostrophes and « plugin »). */
const T = render;

/** A plan as written before messages existed: English strings, with the French twins when `withFrench`. */
function legacyPlan(plan: PlanFile, withFrench: boolean) {
  const twin = (m: Message) => (withFrench ? render(m, 'fr') : undefined);
  return {
    ...plan,
    steps: plan.steps.map((st) => ({
      ...st,
      title: render(st.title, 'en'),
      titleFr: twin(st.title),
      explanation: render(st.explanation, 'en'),
      explanationFr: twin(st.explanation),
      expected: { ...st.expected, rowsDeleted: st.expected.rowsDeleted?.map((r) => ({ table: r.table, why: render(r.why, 'en'), whyFr: twin(r.why) })) },
    })),
    notes: plan.notes.map((n) => render(n, 'en')),
    notesFr: withFrench ? plan.notes.map((n) => render(n, 'fr')) : undefined,
  };
}

const shown = (text: string, lang: 'fr' | 'en' = 'fr') => (lang === 'fr' ? frenchProse(text) : agreePlurals(text, 'en'));

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const roots: string[] = [];
function root(label: string): string {
  const r = tempRoot(label);
  roots.push(r);
  return r;
}
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !fs.existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`golden file ${name} missing: run with UPDATE_GOLDEN=1 and review it`);
    fs.writeFileSync(file, actual);
  }
  expect(actual, `${name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it; review the diff)`).toBe(fs.readFileSync(file, 'utf8'));
}

describe('loading inputs', () => {
  it('reads a run directory, its snapshot manifest, and fingerprints the evidence files', () => {
    const inputs = loadRunInputs(writeRunDir(root('load')));
    expect(inputs.run.runId).toBe('run-20260302-0715');
    expect(inputs.plan.steps).toHaveLength(6);
    expect(inputs.findings?.checksRun).toHaveLength(5);
    expect(inputs.manifest?.databases.map((d) => d.role)).toEqual(['glpi', 'ocs']);
    expect(inputs.journal).toHaveLength(5);
    expect(inputs.sources.map((s) => s.path)).toEqual(['run.yaml', 'plan.yaml', 'findings.yaml', 'journal.jsonl', 'snapshot/manifest.yaml']);
    expect(inputs.evidence['evidence/ocs-7037/missing.txt']).toEqual({ path: 'evidence/ocs-7037/missing.txt', missing: true });
    expect(inputs.evidence['evidence/ocs-7080/statements.log'].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(inputs.warnings).toEqual([]);
  });

  it('NotFoundError for a missing directory or a directory without run.yaml', () => {
    expect(() => loadRunInputs(path.join(root('nf'), 'nope'))).toThrow(NotFoundError);
    const empty = root('empty');
    expect(() => loadRunInputs(empty)).toThrow(/run\.yaml not found/);
    expect(() => loadReportInputs(empty)).toThrow(NotFoundError);
    expect(() => loadSnapshotInputs(empty)).toThrow(NotFoundError);
  });

  it('NotFoundError when plan.yaml is missing', () => {
    const dir = writeRunDir(root('noplan'));
    fs.rmSync(path.join(dir, 'plan.yaml'));
    expect(() => loadRunInputs(dir)).toThrow(NotFoundError);
  });

  it.each([
    ['a format other than 1', (r: Record<string, unknown>) => ({ ...r, format: 2 }), /run\.yaml: format 2 is newer than this tool understands \(format 1\)/],
    [
      'a step with an unknown status',
      (r: Record<string, unknown>) => ({ ...r, steps: [{ stepId: 'x', status: 'done', tableDeltas: [], evidence: [] }] }),
      /run\.yaml: steps\[0\]\.status: expected one of passed, failed, not-run, skipped, got "done"/,
    ],
    [
      'an anomaly with an unknown severity',
      (r: Record<string, unknown>) => ({ ...r, anomalies: [{ id: 'a', severity: 'critique', title: { fr: 'x', en: 'x' }, detail: { fr: 'x', en: 'x' }, resolved: false }] }),
      /anomalies\[0\]\.severity/,
    ],
    ['a list where a mapping is expected', () => [1, 2, 3], /run\.yaml: \(document\): expected a mapping, got a list/],
  ])('VerificationError for %s in run.yaml', (_name, mutate, message) => {
    const dir = writeRunDir(root('bad'));
    const runFile = path.join(dir, 'run.yaml');
    fs.writeFileSync(runFile, YAML.stringify(mutate(YAML.parse(fs.readFileSync(runFile, 'utf8')))));
    expect(() => loadRunInputs(dir)).toThrow(VerificationError);
    expect(() => loadRunInputs(dir)).toThrow(message);
  });

  it('VerificationError for YAML that does not parse, and for a journal line that is not JSON', () => {
    const dir = writeRunDir(root('yaml'));
    fs.writeFileSync(path.join(dir, 'findings.yaml'), 'format: 1\n  bad: [indent\n');
    expect(() => loadRunInputs(dir)).toThrow(/findings\.yaml: not valid YAML/);
    const dir2 = writeRunDir(root('journal'));
    fs.appendFileSync(path.join(dir2, 'journal.jsonl'), '{"t": truncated\n');
    expect(() => loadRunInputs(dir2)).toThrow(/journal\.jsonl line 6/);
  });

  it('refuses a snapshot whose id is not the one the run restored', () => {
    const parts = fixtureParts();
    parts.manifest!.id = 'f'.repeat(64);
    expect(() => loadRunInputs(writeRunDir(root('mismatch'), parts))).toThrow(/is not the one this run restored/);
  });

  it('works without the snapshot and without findings, and says so in the dossier', () => {
    const parts = fixtureParts();
    delete parts.manifest;
    delete parts.findings;
    const inputs = loadRunInputs(writeRunDir(root('partial'), parts));
    expect(inputs.warnings).toEqual(['no-findings', 'no-manifest']);
    const md = renderDossier(inputs);
    expect(md).toContain('n’accompagnait pas la répétition');
    expect(md).toContain('Le manifeste de l’instantané n’était pas accessible');
    expect(md).not.toContain('CT-AUD-');
    expect(lintMarkdown(md)).toEqual([]);
  });
});

describe('golden documents from the fixture rehearsal', () => {
  const inputs = () => loadRunInputs(writeRunDir(root('golden')));

  it.each([
    ['dossier.fr.md', () => renderDossier(inputs())],
    ['dossier.en.md', () => renderDossier(inputs(), { lang: 'en' })],
    ['dat.fr.md', () => renderDat(inputs())],
    ['dat.en.md', () => renderDat(inputs(), { lang: 'en' })],
    ['dat-snapshot.fr.md', () => renderDat(loadSnapshotInputs(path.join(path.dirname(writeRunDir(root('snap'))), 'snapshot')))],
  ])('%s matches the golden file and passes markdownlint', (name, render) => {
    const md = render();
    expect(lintMarkdown(md)).toEqual([]);
    golden(name, md);
  });

  it('same input → same bytes, wherever the run directory is', () => {
    const a = renderDossier(loadRunInputs(writeRunDir(root('det-a'))));
    const b = renderDossier(loadRunInputs(writeRunDir(root('det-b'))));
    expect(a).toBe(b);
    expect(renderDat(loadRunInputs(writeRunDir(root('det-c'))))).toBe(renderDat(loadRunInputs(writeRunDir(root('det-d')))));
    expect(a).not.toMatch(/\/tmp\/|gou-report-/);
  });
});

describe('what the dossier says', () => {
  const inputs = loadRunInputs(writeRunDir(root('content')));
  const md = renderDossier(inputs);

  it('has every section the acceptance needs', () => {
    const order = [
      '## Synthèse pour le comité de pilotage',
      '### Décision proposée',
      '### Chiffres clés',
      '### Anomalies ouvertes par gravité',
      '### Réserves',
      '### Décisions attendues du comité',
      '## 1. Identification',
      '### 1.1 Versions',
      '### 1.2 Historique des révisions',
      '## 2. Environnement de test',
      '### 2.3 Distributions des produits',
      '## 3. Plan de mise à jour',
      '## 4. Registres',
      '### 4.1 Anomalies de la livraison',
      '### 4.2 Constats sur l’existant',
      '### 4.3 Risques',
      '## 5. Verdict',
      '## 6. Critères de sortie',
      '## 7. Matrice de traçabilité',
      '## 8. Suite de la recette',
      '## 9. Visas',
      '## 10. Procès-verbal de recette provisoire',
      '## Annexe A — Fiches de test',
      '## Annexe B — Empreintes des tables de l’instantané',
      '## Annexe C — Journal de la répétition',
    ];
    let at = 0;
    for (const h of order) {
      const i = md.indexOf(`\n${h}\n`);
      expect(i, h).toBeGreaterThan(at);
      at = i;
    }
    // The synthesis comes first and the test sheets after the PV.
    expect(md.indexOf('#### CT-ETP-01')).toBeGreaterThan(md.indexOf('## 10. Procès-verbal'));
  });

  it('lists every step, pre-check and audit check as a test case, with its evidence fingerprints', () => {
    for (const s of inputs.plan.steps) expect(md).toMatch(new RegExp(`#### CT-ETP-\\d\\d — .*\\(\`${s.id.replace(/\./g, '\\.')}\`\\)`));
    for (const p of inputs.run.preChecks) expect(md).toContain(`**Procédure :** Contrôle automatique \`${p.id}\`,`);
    for (const k of inputs.findings!.checksRun) expect(md).toContain(`**Procédure :** Contrôle d’audit \`${k.id}\`,`);
    expect(md).toContain('**Résultat obtenu :** 9 tables et 10\u202f648 lignes restaurées ; nombre de lignes et sommes de contrôle identiques au manifeste pour chaque table.');
    for (const e of Object.values(inputs.evidence)) {
      if (e.sha256) expect(md).toContain(`\`${e.sha256}\``);
    }
    expect(md).toContain('fichier absent du répertoire de la répétition');
    // An audit finding whose corrective migration passed is dealt with; one with a residual anomaly is not.
    expect(md).toContain('| CT-AUD-01 | Doublons dans glpi\\_slalevels\\_tickets | Écart traité |');
    expect(md).toContain('| CT-AUD-03 | Liens OCS sans ordinateur GLPI | Écart non traité |');
    expect(md).toContain('| CT-AUD-05 | Clé glpicrypt.key disponible | Non exécuté |');
    expect(md).toContain('`files/update/7037.sql`');
    expect(md).toContain('**Pour l’exécuter :**\n\n```sh\ncd /path/to/glpi-10.0.22 && php bin/console db:update -n');
    expect(md).toContain('| `softwares` | 52\u202f310 | 51\u202f999 | anomalie : 311 lignes supprimées sans éditeur |');
  });

  it('the anomaly register holds what the run observed; audit findings go to the constats, predictions to the risks', () => {
    const section = md.slice(md.indexOf('### 4.1 Anomalies de la livraison'), md.indexOf('### 4.2 Constats'));
    const rows = [...section.matchAll(/^\| `([^`]+)` \| (\S+) \| [^|]+ \| (\S+) \| [^|]+ \| [^|]+ \| [^|]+ \|$/gm)].map((m) => ({ id: m[1], sev: m[2], state: m[3] }));
    const label = { bloquante: 'Bloquante', majeure: 'Majeure', mineure: 'Mineure' } as const;
    const observed = inputs.run.anomalies.filter((a) => !a.findingId);
    expect(observed.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.id).sort()).toEqual(observed.map((a) => a.id).sort());
    for (const a of observed) {
      expect(rows.find((r) => r.id === a.id)).toEqual({ id: a.id, sev: label[a.severity], state: a.resolved ? 'Vérifiée' : 'Ouverte' });
      expect(section).toContain(`#### \`${a.id}\` — `);
    }
    const constats = md.slice(md.indexOf('### 4.2 Constats'), md.indexOf('### 4.3 Risques'));
    for (const a of inputs.run.anomalies.filter((x) => x.findingId)) {
      expect(section).not.toContain(a.id);
      expect(constats).toContain(`| \`${a.findingId}\` |`);
    }
    // §8.11 counts the observed anomalies only.
    const m = buildDossierModel(inputs);
    expect(m.verdict.residual.total).toBe(observed.filter((a) => !a.resolved).length);
  });

  it('says the dossier is incomplete when steps were not run, and names them', () => {
    expect(md).toContain('> **Dossier incomplet, recette non prononçable en l’état.**');
    expect(md).toContain('Non exécutés : `glpi-10.0.22-db-update`, `plugin-ocsinventoryng-2.0.5`.');
    expect(md).toContain('Les seuils du § 8.11 sont d’ores et déjà dépassés');
    expect(md).toMatch(/\| CT-ETP-05 \| GLPI 0\.83\.8 → 10\.0\.22 \| Non exécuté \|/);
  });

  it('prints no secret and no absolute path of this machine', () => {
    expect(md).not.toContain(SECRET);
    expect(md).toContain('mysql://ocs:***@127.0.0.1:3307/ocsweb');
    expect(md).not.toContain('/home/admin');
  });

  it('traces each MAJSER requirement to test cases', () => {
    const m = buildDossierModel(inputs);
    expect(m.requirements.map((r) => [r.id, r.status])).toEqual([
      ['EX-01', 'not-proven'],
      ['EX-02', 'failed'],
      ['EX-03', 'not-proven'],
      ['EX-04', 'failed'],
      ['EX-05', 'failed'],
      ['EX-06', 'failed'],
    ]);
    expect(md).toContain('| EX-01 | § 6.1.2 | GLPI est porté à la dernière version stable conseillée (cible 10.0.22) | CT-ETP-05 | Non démontrée (tests non exécutés) |');
  });

  it('pronounces provisional acceptance when every step passed and the thresholds hold', () => {
    const parts = fixtureParts();
    for (const s of parts.run.steps) {
      s.status = 'passed';
      delete s.reason;
      delete s.commandForUser;
    }
    parts.run.steps.push({ stepId: 'plugin-ocsinventoryng-2.0.5', status: 'passed', tableDeltas: [], evidence: [] });
    parts.run.anomalies = parts.run.anomalies.filter((a) => a.severity !== 'bloquante' || a.resolved);
    const m = buildDossierModel(loadRunInputs(writeRunDir(root('accepted'), parts)));
    expect(m.verdict.kind).toBe('accepted');
    const out = renderDossier(loadRunInputs(writeRunDir(root('accepted2'), parts)));
    expect(out).toContain('> **Recette provisoire prononçable.**');
    expect(out).toContain('| Verdict établi par le dossier | **Recette provisoire prononçable** |');
    expect(lintMarkdown(out)).toEqual([]);
  });

  it('gives acceptance with reservations past 2 majors, and lists them as reserves in the PV', () => {
    const parts = fixtureParts();
    for (const s of parts.run.steps) s.status = 'passed';
    parts.run.steps.push({ stepId: 'plugin-ocsinventoryng-2.0.5', status: 'passed', tableDeltas: [], evidence: [] });
    parts.run.anomalies = parts.run.anomalies.filter((a) => a.severity !== 'bloquante');
    parts.run.anomalies.push({ id: 'A-extra-major', severity: 'majeure', title: literal('Third major', 'Troisième majeure'), detail: literal('x', 'x'), resolved: false });
    parts.run.anomalies.push({ id: 'A-extra-major-2', severity: 'majeure', title: literal('Fourth major', 'Quatrième majeure'), detail: literal('x', 'x'), resolved: false });
    const out = renderDossier(loadRunInputs(writeRunDir(root('reserves'), parts)), { customer: 'ARS PACA' });
    expect(out).toContain('> **Recette provisoire avec réserves.**');
    expect(out).toContain('| Anomalies majeures résiduelles (lot MAJSER) | au plus 2 | 3 | **Non** |');
    // The finding-derived major (F-ocs.softwares.null_publisher) is a constat: not counted.
    expect(parts.run.anomalies.some((a) => a.findingId && a.severity === 'majeure' && !a.resolved)).toBe(true);
    const pv = out.slice(out.indexOf('## 10.'));
    expect(pv).toContain('- `A-extra-major` (majeure) — Troisième majeure');
    expect(pv).toContain('| Pour ARS PACA | | | |');
  });

  it('a dry run is incomplete even when nothing failed', () => {
    const parts = fixtureParts();
    parts.run.dryRun = true;
    parts.run.anomalies = [];
    for (const s of parts.run.steps) s.status = 'passed';
    parts.run.steps.push({ stepId: 'plugin-ocsinventoryng-2.0.5', status: 'passed', tableDeltas: [], evidence: [] });
    const m = buildDossierModel(loadRunInputs(writeRunDir(root('dry'), parts)));
    expect(m.verdict.kind).toBe('incomplete');
    expect(m.verdict.reasons).toEqual(['dry-run']);
  });
});

describe('edge inputs', () => {
  it('renders a minimal run (no pre-check, no step result, no anomaly, no distribution) without failing', () => {
    const parts = fixtureParts();
    parts.run.preChecks = [];
    parts.run.steps = [];
    parts.run.anomalies = [];
    parts.run.distributions = [];
    parts.run.complete = false;
    delete parts.run.finishedAt;
    // Interrupted: the journal has no run-finished either.
    parts.journal = parts.journal.filter((e) => e.event !== 'run-finished');
    const inputs = loadRunInputs(writeRunDir(root('minimal'), parts));
    const md = renderDossier(inputs);
    expect(lintMarkdown(md)).toEqual([]);
    expect(md).toContain('Aucun contrôle préalable n’a été consigné');
    expect(md).toContain('Aucune anomalie n’a été observée');
    expect(md).toContain('Aucune distribution des produits n’a été fournie');
    expect(md).toContain('commencée le 02/03/2026 à 07 h 15 UTC, non terminée');
    expect(buildDossierModel(inputs).verdict.reasons).toEqual(['steps-not-run', 'run-not-complete']);
  });

  it('a plan targeting GLPI native inventory draws GLPI Agent instead of the connector in the DAT', () => {
    const parts = fixtureParts();
    parts.plan.targets.connector = 'native';
    const md = renderDat(loadRunInputs(writeRunDir(root('native'), parts)));
    expect(lintMarkdown(md)).toEqual([]);
    expect(md).toContain('gagents -- "F8 HTTP(S)" --> inv');
    expect(md).not.toContain('connector -- "F4 SQL" --> ocsdb');
    expect(md).toContain('Le plan retenu vise l’inventaire natif de GLPI');
  });

  it('rejects an unknown language with a usage error', () => {
    expect(() => renderDossier(loadRunInputs(writeRunDir(root('lang'))), { lang: 'de' as never })).toThrow(/unknown language "de"/);
  });
});

describe('plan texts in the language of the document', () => {
  // The fixture's run with a plan made by the real planner for its snapshot (GLPI 0.83.8 with core OCS mode +
  // OCS 2.1, the demo route): every step title, explanation, note and reason for deleted rows comes from the
  // planner and the catalog, as in a real rehearsal. The row-count analyses are worded as src/rehearse/checks.ts
  // writes them (in English).
  const realPlanParts = () => {
    const parts = fixtureParts();
    parts.plan = buildPlan(planInputFromManifest(parts.manifest!), {}, { now: new Date(parts.plan.createdAt) });
    const why7037 = parts.plan.steps.find((st) => st.id === 'ocs-7037')!.expected.rowsDeleted![0].why;
    const deltas: Record<string, Array<{ table: string; before: number | null; after: number | null; verdict: 'expected'; explanation: string }>> = {
      'fix-glpi-dedup-slalevels-tickets': [
        {
          table: 'glpi_slalevels_tickets',
          before: 58,
          after: 54,
          verdict: 'expected',
          explanation: 'rows deleted on purpose: corrective migration glpi-dedup-slalevels-tickets: Duplicates in glpi_slalevels_tickets (tickets_id, slalevels_id): keep the newest row (highest id)',
        },
      ],
      'ocs-bridge-7006': [
        { table: 'config', before: 74, after: 75, verdict: 'expected', explanation: 'rows added by the step' },
        { table: 'plugins', before: null, after: 0, verdict: 'expected', explanation: 'created by the step' },
        { table: 'locks', before: 3, after: 0, verdict: 'expected', explanation: '3 row(s) deleted on purpose by the step' },
      ],
      'ocs-7037': [
        { table: 'softwares', before: 52310, after: null, verdict: 'expected', explanation: 'dropped by the step' },
        { table: 'software_name', before: 1200, after: 1100, verdict: 'expected', explanation: `rows deleted on purpose: ${render(why7037, 'en')}` },
        { table: 'software', before: null, after: 51999, verdict: 'expected', explanation: 'renamed from softwares' },
      ],
    };
    for (const r of parts.run.steps) if (deltas[r.stepId]) r.tableDeltas = deltas[r.stepId];
    return parts;
  };
  const realPlan = realPlanParts().plan;
  const inputs = () => loadRunInputs(writeRunDir(root('lang-plan'), realPlanParts()));
  /** Phrases the planner writes in English only: none may reach a French document. */
  const ENGLISH_PLAN_PHRASES = ['Corrective migration', 'Runs only when', 'PHP-side change', ' on GLPI ', '(bridge)', 'Duplicates in'];
  /** The ones the DAT shows (it prints step titles, not explanations). */
  const ENGLISH_TITLE_PHRASES = ['Corrective migration', 'PHP-side change', ' on GLPI ', '(bridge)'];

  it('the planner made the steps the phrases come from (the test would be empty otherwise)', () => {
    const kinds = new Set(realPlan.steps.map((s) => s.runner.kind));
    expect([...kinds].sort()).toEqual(['corrective-migration', 'glpi-console', 'ocs-bridge', 'ocs-php-change', 'ocs-update-file', 'plugin-install']);
    expect(realPlan.steps.some((s) => s.expected.rowsDeleted?.length)).toBe(true);
    expect(realPlan.notes.length).toBeGreaterThan(0);
  });

  it('the French dossier and DAT carry no English plan sentence; the English ones do', () => {
    const frDossier = renderDossier(inputs());
    const frDat = renderDat(inputs());
    const enDossier = renderDossier(inputs(), { lang: 'en' });
    const enDat = renderDat(inputs(), { lang: 'en' });
    for (const md of [frDossier, frDat, enDossier, enDat]) expect(lintMarkdown(md)).toEqual([]);
    for (const phrase of ENGLISH_PLAN_PHRASES) {
      expect(frDossier, `French dossier contains "${phrase}"`).not.toContain(phrase);
      expect(frDat, `French DAT contains "${phrase}"`).not.toContain(phrase);
      expect(enDossier, `English dossier lacks "${phrase}"`).toContain(phrase);
    }
    for (const phrase of ENGLISH_TITLE_PHRASES) expect(enDat, `English DAT lacks "${phrase}"`).toContain(phrase);
    expect(frDossier).toContain('**Objectif :** Vérifier que la migration corrective `glpi-dedup-slalevels-tickets` supprime le défaut relevé par l’audit');
    expect(frDossier).toContain('**Contexte :** Doublons de glpi\\_slalevels\\_tickets');
    expect(frDossier).not.toContain('Réaliser l’étape');
    expect(frDossier).toContain('Ne s’exécute que si son contrôle préalable trouve quelque chose à corriger');
    expect(frDossier).toContain('#### CT-ETP-');
    // The fixture's run records the tool's own bridge ("tool's bridge: …"), so the sheet says so.
    expect(frDossier).toMatch(/#### CT-ETP-\d+ — OCS 7005 → 7006 : schéma de passage de l’outil \(`migrations\/ocs\/bridge-7005-7006\.sql`\) \(`ocs-bridge-7006`\)/);
    expect(frDat).toContain('Installation du plugin ocsinventoryng 2.0.5 sur GLPI 10.0.22 (`connector-plugin-2.0.5`)');
    expect(frDossier + frDat).not.toMatch(/greffon/i);
  });

  it("the rehearsal's row-count analyses are rendered in French, the reasons for deleted rows from the plan", () => {
    const fr = renderDossier(inputs());
    const en = renderDossier(inputs(), { lang: 'en' });
    const why = realPlan.steps.find((st) => st.id === 'ocs-7037')!.expected.rowsDeleted![0];
    for (const [english, french] of [
      ['rows added by the step', 'lignes ajoutées par l’étape'],
      ['created by the step', 'table créée par l’étape'],
      ['3 row(s) deleted on purpose by the step', '3 lignes supprimées volontairement par l’étape'],
      ['dropped by the step', 'table supprimée par l’étape'],
      ['renamed from softwares', 'table renommée (anciennement softwares)'],
      [`rows deleted on purpose: ${T(why.why, 'en')}`, `lignes supprimées volontairement : ${T(why.why, 'fr')}`],
      ['rows deleted on purpose: corrective migration glpi-dedup-slalevels-tickets: Duplicates in', 'lignes supprimées volontairement : migration corrective glpi-dedup-slalevels-tickets'],
    ]) {
      expect(fr).toContain(`prévu par le plan : ${esc(french)}`);
      expect(fr).not.toContain(esc(english));
      expect(en).toContain(`expected by the plan: ${shown(esc(english), 'en')}`);
    }
    expect(fr).toContain('volontairement : migration corrective glpi-dedup-slalevels-tickets |');
  });

  it('every step, note and reason for deleted rows is printed in the French of the plan, never in its English', () => {
    const fr = renderDossier(inputs());
    const en = renderDossier(inputs(), { lang: 'en' });
    for (const st of realPlan.steps) {
      const title = { en: T(st.title, 'en'), fr: T(st.title, 'fr') };
      const explanation = { en: T(st.explanation, 'en'), fr: T(st.explanation, 'fr') };
      expect(fr, st.id).toContain(frenchProse(esc(title.fr)));
      // The plan explains OCS 2.2's ocsbase.sql; the fixture's run used the tool's own bridge, whose sheet says so instead.
      if (st.runner.kind !== 'ocs-bridge') expect(fr, st.id).toContain(frenchProse(esc(explanation.fr)));
      if (st.runner.kind !== 'ocs-bridge') expect(en, st.id).toContain(shown(esc(explanation.en), 'en'));
      expect(en, st.id).not.toContain(esc(explanation.fr));
      if (explanation.fr !== explanation.en) expect(fr, st.id).not.toContain(esc(explanation.en));
      if (title.fr !== title.en) expect(fr, st.id).not.toContain(`${esc(title.en)} (\``);
      for (const r of st.runner.kind === 'ocs-bridge' ? [] : (st.expected.rowsDeleted ?? [])) {
        expect(fr, `${st.id} ${r.table}`).toContain(`(${frenchProse(esc(T(r.why, 'fr')))})`);
        expect(fr, `${st.id} ${r.table}`).not.toContain(`(${esc(T(r.why, 'en'))})`);
      }
    }
    const frDat = renderDat(inputs());
    realPlan.notes.forEach((n) => {
      const note = T(n, 'en');
      expect(fr, note).toContain(`- ${frenchProse(esc(T(n, 'fr')))}`);
      expect(frDat, note).toContain(`- ${frenchProse(esc(T(n, 'fr')))}`);
      expect(fr, note).not.toContain(esc(note));
      expect(en, note).toContain(`- ${shown(esc(note), 'en')}`);
    });
  });

  it('a plan written before the French texts existed still renders, in English where it has nothing else', () => {
    const parts = realPlanParts();
    const runDir = writeRunDir(root('old-plan'), parts);
    const old = legacyPlan(parts.plan, false);
    fs.writeFileSync(path.join(runDir, 'plan.yaml'), YAML.stringify(old));
    const md = renderDossier(loadRunInputs(runDir));
    expect(lintMarkdown(md)).toEqual([]);
    expect(md).toMatch(/#### CT-ETP-\d+ — Corrective migration glpi-dedup-slalevels-tickets \(`fix-glpi-dedup-slalevels-tickets`\)/);
    expect(md).toContain(shown(esc(old.notes[0])));
  });

  it('a plan written with paired English and French texts (before messages) renders the same documents', () => {
    const parts = realPlanParts();
    const now = renderDossier(loadRunInputs(writeRunDir(root('paired-new'), parts)));
    const runDir = writeRunDir(root('paired-old'), parts);
    fs.writeFileSync(path.join(runDir, 'plan.yaml'), YAML.stringify(legacyPlan(parts.plan, true)));
    const before = renderDossier(loadRunInputs(runDir));
    const strip = (md: string) => md.replace(/`plan\.yaml`[^\n]*/g, '');
    expect(strip(before)).toBe(strip(now));
  });

  it('French notes that do not go one for one with the notes are refused, as rehearse refuses them (one plan reader)', () => {
    const parts = realPlanParts();
    const runDir = writeRunDir(root('bad-notes'), parts);
    const old = legacyPlan(parts.plan, true);
    old.notesFr = old.notesFr!.slice(1);
    fs.writeFileSync(path.join(runDir, 'plan.yaml'), YAML.stringify(old));
    expect(() => loadRunInputs(runDir)).toThrow(/plan\.yaml is not a valid plan: notesFr has \d+ entries, notes has \d+/);
  });
});

describe('reasons recorded by the rehearsal and the audit, in the language of the document', () => {
  /**
   * Step results with the reasons the rehearsal records. Those that need no database come from the executors
   * themselves (dry run, no distribution, unknown migration); the others are written as src/rehearse writes
   * them (the executor tests check the producers).
   */
  const reasonParts = async () => {
    const parts = fixtureParts();
    const runDir = root('reasons-ctx');
    const ctx = {
      conn: undefined,
      dsn: undefined,
      databases: { glpi: 'glpi', ocs: 'ocs' },
      runDir,
      evidenceDir: path.join(runDir, 'e'),
      dists: {},
      log: () => undefined,
    } as unknown as ExecutorContext;
    const planStep = (id: string) => parts.plan.steps.find((st) => st.id === id)!;
    const produced = [
      await executeStep(planStep('glpi-10.0.22-db-update'), ctx, { dryRun: true }),
      await executeStep(planStep('plugin-ocsinventoryng-2.0.5'), ctx, { dryRun: false }),
      await executeStep(planStep('ocs-7080'), ctx, { dryRun: false }),
      await executeStep({ ...planStep('fix-glpi-dedup-slalevels-tickets'), runner: { kind: 'corrective-migration', migration: 'no-such-migration' } }, ctx, { dryRun: false }),
    ];
    const written: Array<Pick<StepResult, 'status' | 'reason'>> = [
      { status: 'passed', reason: literal('nothing to fix: the pre-check found no row', 'rien à corriger : le contrôle préalable ne trouve aucune ligne') },
      { status: 'failed', reason: literal('post-check still finds 2 row(s)', 'le contrôle final trouve encore 2 ligne(s)') },
      { status: 'passed', reason: literal('GUI_VERSION is already 7006: no bridge needed', 'GUI_VERSION vaut déjà 7006 : aucun schéma de passage n’est nécessaire') },
      {
        status: 'passed',
        reason: literal(
          'SNMP is not enabled (config SNMP): the official console does nothing either',
          'SNMP n’est pas activé (paramètre SNMP de config) : la console officielle ne fait rien non plus',
        ),
      },
      { status: 'passed', reason: literal('2 accountinfo_config row(s) converted to the 2.5 field types', '2 ligne(s) de accountinfo_config convertie(s) aux types de champs de la 2.5') },
      { status: 'passed', reason: literal('GLPI 0.83.8 → 10.0.22 (dbversion 10.0.22) in 41.3 s', 'GLPI 0.83.8 → 10.0.22 (dbversion 10.0.22) en 41,3 s') },
      {
        status: 'failed',
        reason: literal(
          'db:update exited 0 but the version rows read 0.83.8, expected 10.0.19 (the updater refused to run)',
          'db:update s’est terminé avec le code 0, mais les lignes de version indiquent 0.83.8 au lieu de 10.0.19 (le programme de mise à jour a refusé de s’exécuter)',
        ),
      },
      {
        status: 'passed',
        reason: literal(
          'ocsinventoryng 2.0.5 installed and active; 4 link(s) before, 4 after; 1 OCS server(s) before, 1 after (id, host, database, user compared)',
          'ocsinventoryng 2.0.5 installé et activé ; 4 lien(s) avant, 4 après ; 1 serveur(s) OCS avant, 1 après (identifiant, hôte, base et utilisateur comparés)',
        ),
      },
      { status: 'not-run', reason: msg('result.blocked', { blocker: 'ocs-7080' }) },
      { status: 'not-run', reason: msg('result.no-database', { role: 'ocs' }) },
      { status: 'failed', reason: msg('result.interrupted', {}) },
    ];
    const results: StepResult[] = [...produced, ...written].map((r, i) => ({ stepId: `reason-${i + 1}`, status: r.status, reason: r.reason, tableDeltas: [], evidence: [] }));
    parts.run.steps.push(...results);
    // A restore that did not match: its detail has a French twin too.
    parts.run.preChecks[1] = {
      ...parts.run.preChecks[1],
      status: 'failed',
      detail: msg('precheck.restore.differs', { count: 1, tables: [{ table: 'hardware', rows: 417, expectedRows: 418, checksum: '1', expectedChecksum: '2' }] }),
    };
    return { parts, results };
  };
  /** English sentences of the rehearsal and the audit that must not reach a French dossier. */
  const ENGLISH_REASON_PHRASES = [
    'pre-check',
    'post-check',
    'statements:',
    'statements:',
    'expected errors (already applied)',
    "tool's bridge",
    'nothing to fix',
    'no bridge needed',
    'is not enabled',
    'converted to',
    'installed and active',
    'not run: it depends',
    'which did not pass',
    'the snapshot has no',
    'interrupted',
    'dry run',
    'no GLPI 10.0.22 distribution',
    'pass --glpi-dist',
    'pass --plugin-dist',
    'is not in migrations',
    'exited 0',
    'version rows',
    'Test instance sql\\_mode',
    'both empty',
    'differ: hardware',
    'no --glpi-dir given',
    'no --ocs-dist was given',
  ];

  it('the executors that need no database give the twins the test relies on', async () => {
    const { results } = await reasonParts();
    expect(results.slice(0, 4).map((r) => ({ status: r.status, reason: en(r) }))).toEqual([
      expect.objectContaining({ status: 'not-run', reason: expect.stringMatching(/^dry run: no GLPI 10\.0\.22 distribution: pass --glpi-dist/) }),
      expect.objectContaining({ status: 'not-run', reason: expect.stringMatching(/^no ocsinventoryng 2\.0\.5 release: pass --plugin-dist/) }),
      expect.objectContaining({ status: 'not-run', reason: 'no --ocs-dist was given' }),
      expect.objectContaining({ status: 'failed', reason: 'corrective migration no-such-migration is not in migrations/corrective/' }),
    ]);
    for (const r of results) {
      expect(fr(r), en(r)).toEqual(expect.any(String));
      expect(englishIn(fr(r)!), fr(r)).toEqual([]);
      expect(typographyFaults(fr(r)!), fr(r)).toEqual([]);
    }
  });

  it('the French dossier prints every reason, pre-check and skip reason in French and none of the English sentences; the English one the reverse', async () => {
    const { parts, results } = await reasonParts();
    const inputs = loadRunInputs(writeRunDir(root('reasons'), parts));
    const frMd = renderDossier(inputs);
    const enMd = renderDossier(inputs, { lang: 'en' });
    for (const md of [frMd, enMd]) expect(lintMarkdown(md)).toEqual([]);
    for (const r of [...fixtureParts().run.steps.filter((x) => x.reason), ...results]) {
      expect(frMd, r.stepId).toContain(`- Motif : ${shown(esc(redact(fr(r)!)))}`);
      expect(enMd, r.stepId).toContain(`- Reason: ${shown(esc(redact(en(r)!)), 'en')}`);
      expect(enMd, r.stepId).not.toContain(esc(redact(fr(r)!)));
    }
    for (const phrase of ENGLISH_REASON_PHRASES) {
      expect(frMd, `French dossier contains "${phrase}"`).not.toContain(phrase);
      expect(enMd, `English dossier lacks "${phrase}"`).toContain(phrase);
    }
    // Pre-checks: the known restore summary, a French twin, or the English text in English.
    expect(frMd).toContain('#### CT-PRE-03 — sql\\_mode de l’instance de test identique à celui de la production');
    expect(frMd).toContain('**Résultat obtenu :** vide des deux côtés.');
    expect(frMd).toContain('**Résultat obtenu :** 1 table différente : hardware (lignes 417/418, somme de contrôle 1/2).');
    expect(enMd).toContain('**Observed result:** both empty.');
    // The audit's skip reason.
    expect(frMd).toContain('**Résultat obtenu :** Contrôle non exécuté : aucun répertoire GLPI fourni (--glpi-dir).');
    expect(enMd).toContain('**Observed result:** Check not run: no --glpi-dir given.');
  });

  it('files written before the French twins existed still render, with the English reason in French', async () => {
    const { parts, results } = await reasonParts();
    for (const r of parts.run.steps) if (r.reason) r.reason = literal(T(r.reason, 'en'), T(r.reason, 'en'));
    for (const p of parts.run.preChecks) {
      p.title = literal(T(p.title, 'en'), T(p.title, 'en'));
      p.detail = literal(T(p.detail, 'en'), T(p.detail, 'en'));
    }
    for (const k of parts.findings!.checksRun) if (k.reason) k.reason = literal(T(k.reason, 'en'), T(k.reason, 'en'));
    const fr = renderDossier(loadRunInputs(writeRunDir(root('reasons-old'), parts)));
    expect(lintMarkdown(fr)).toEqual([]);
    for (const r of results) expect(fr, r.stepId).toContain(`- Motif : ${shown(esc(redact(en(r)!)))}`);
    expect(fr).toContain('Contrôle non exécuté : no --glpi-dir given.');
    expect(fr).toContain('both empty');
  });

  it('a reasonFr that is not a string is refused like any malformed field', () => {
    const parts = fixtureParts();
    (parts.run.steps[0] as unknown as Record<string, unknown>).reasonFr = ['x'];
    expect(() => loadRunInputs(writeRunDir(root('reasons-bad'), parts))).toThrow(/run\.yaml: steps\[0\]\.reasonFr: expected a string/);
    // findings.yaml written before messages: an English reason string with a French twin that must be a string.
    const parts2 = fixtureParts();
    Object.assign(parts2.findings!.checksRun[4], { reason: 'no --glpi-dir given', reasonFr: 3 });
    expect(() => loadRunInputs(writeRunDir(root('reasons-bad2'), parts2))).toThrow(/findings\.yaml: checksRun\[4\]\.reasonFr: expected a string/);
    // A skip reason that is not a message this version knows.
    const parts3 = fixtureParts();
    Object.assign(parts3.findings!.checksRun[4], { reason: { id: 'audit.skip.from-the-future', params: {} } });
    expect(() => loadRunInputs(writeRunDir(root('reasons-bad3'), parts3))).toThrow(/checksRun\[4\]\.reason\.id: unknown message id "audit\.skip\.from-the-future"/);
  });
});

describe('redaction', () => {
  it.each([
    ['mysql://glpi:hunter2@db1/glpi', 'mysql://glpi:***@db1/glpi'],
    ['mariadb -uroot -phunter2 glpi', 'mariadb -uroot -p*** glpi'],
    ['--password=hunter2 --password-env GLPI_DB_PASSWORD', '--password=*** --password-env GLPI_DB_PASSWORD'],
    ['GLPI_DB_PASSWORD=hunter2 glpi-ocs-upgrade', 'GLPI_DB_PASSWORD=*** glpi-ocs-upgrade'],
    ["CREATE USER x IDENTIFIED BY 'hunter2'", "CREATE USER x IDENTIFIED BY '***'"],
    ['ocs_db_passwd: hunter2', 'ocs_db_passwd: ***'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });
});
