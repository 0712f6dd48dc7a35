/**
 * The dossier's "Tests fonctionnels" section (issue 19): the CT-FON cases run in a real browser on the
 * upgraded applications, each with its screenshot (a Markdown image that pandoc embeds in docx/html), and the
 * manual test book (CT-MAN) with empty tester / date / observed-result fields. Its own strings, fr and en.
 */
import { render } from '../../i18n/render.ts';
import type { FunctionalResults, ScenarioResult } from '../../functional/types.ts';

export type { FunctionalResults };
import { code, esc, heading, table } from '../md.ts';

const NB = '\u00a0';

const STRINGS = {
  fr: {
    title: 'Tests fonctionnels',
    intro: (n: number, ms: string) =>
      `Les applications mises à niveau ont été servies depuis les distributions utilisées pour la répétition (serveur web intégré de PHP, base de l’instance de test) puis parcourues par un navigateur Chromium sans interface, avec un compte temporaire créé pour l’occasion puis supprimé${NB}; ${n} scénario(s), durée ${ms}. Chaque cas indique les statuts HTTP, les erreurs PHP relevées dans le journal du serveur pendant le cas, les assertions sur la page et la capture d’écran.`,
    env: 'Environnement',
    summary: 'Synthèse',
    caseId: 'Cas',
    object: 'Objet',
    requirement: 'Exigence',
    status: 'Statut',
    expected: 'Résultat attendu',
    http: 'Statuts HTTP',
    phpErrors: 'Erreurs PHP',
    none: 'aucune',
    assertions: 'Assertions',
    assertion: 'Assertion',
    result: 'Résultat',
    observed: 'Observé',
    ok: 'conforme',
    ko: 'non conforme',
    reason: 'Motif',
    command: 'Commande pour l’exécuter',
    values: 'Données de la base',
    screenshot: 'Capture d’écran',
    caseStatus: { passed: 'Réussi', failed: 'Échoué', 'not-run': 'Non exécuté' },
    failedWarning: (n: number) => `**${n}${NB}cas fonctionnel(s) en échec**${NB}: ce sont des anomalies de la recette, à traiter ou à lever par une réserve avant de prononcer la recette.`,
    manualTitle: 'Cahier de tests manuels',
    manualIntro: `Ces cas ne peuvent pas être automatisés ici (annuaire, messagerie, agents, notifications)${NB}: ils sont à dérouler sur la plate-forme de recette et à compléter à la main.`,
    procedure: 'Procédure',
    tester: 'Testeur',
    date: 'Date',
    observedResult: 'Résultat observé',
    colon: `${NB}:`,
  },
  en: {
    title: 'Functional tests',
    intro: (n: number, ms: string) =>
      `The upgraded applications were served from the distributions the rehearsal used (PHP's built-in web server, the test instance's databases) and driven by a headless Chromium, logged in with a temporary account created for the purpose and deleted afterwards; ${n} scenario(s), ${ms}. Each case gives the HTTP statuses, the PHP errors found in the server's log during the case, the assertions on the page and the screenshot.`,
    env: 'Environment',
    summary: 'Summary',
    caseId: 'Case',
    object: 'Object',
    requirement: 'Requirement',
    status: 'Status',
    expected: 'Expected result',
    http: 'HTTP statuses',
    phpErrors: 'PHP errors',
    none: 'none',
    assertions: 'Assertions',
    assertion: 'Assertion',
    result: 'Result',
    observed: 'Observed',
    ok: 'met',
    ko: 'not met',
    reason: 'Reason',
    command: 'Command to run it',
    values: 'Data from the database',
    screenshot: 'Screenshot',
    caseStatus: { passed: 'Passed', failed: 'Failed', 'not-run': 'Not run' },
    failedWarning: (n: number) => `**${n} functional case(s) failed**: they are acceptance anomalies, to be fixed or covered by a reservation before acceptance is pronounced.`,
    manualTitle: 'Manual test book',
    manualIntro: 'These cases cannot be automated here (directory, mail, agents, notifications): run them on the acceptance platform and fill them in by hand.',
    procedure: 'Procedure',
    tester: 'Tester',
    date: 'Date',
    observedResult: 'Observed result',
    colon: ':',
  },
};

type S = (typeof STRINGS)['fr'];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1).replace('.', ',')}${NB}s`;
}

function field(s: S, label: string, body: string): string {
  return `- **${label}**${s.colon} ${body}`;
}

function caseBlock(s: S, lang: 'fr' | 'en', r: ScenarioResult): string[] {
  const expected = r.expected ? render(r.expected, lang) : undefined;
  const out = [heading(4, `${r.id} — ${esc(render(r.title, lang))}`)];
  const lines = [field(s, s.requirement, esc(r.requirement))];
  if (expected) lines.push(field(s, s.expected, esc(expected)));
  lines.push(field(s, s.status, `**${s.caseStatus[r.status]}**`));
  if (r.status !== 'not-run') {
    const http = r.http.map((h) => `${h.status ?? '—'} ${code(h.url.replace(/^https?:\/\/127\.0\.0\.1:\d+/, ''))}`);
    if (http.length) lines.push(field(s, s.http, http.join(', ')));
    lines.push(field(s, s.phpErrors, r.phpErrors.length ? `${r.phpErrors.length}${NB}— ${code(r.phpErrors[0].slice(0, 200))}` : s.none));
  }
  const reason = r.reason ? render(r.reason, lang) : undefined;
  const failedAssertions = r.assertions.filter((a) => !a.ok);
  if (r.status === 'failed' && failedAssertions.length) {
    const detail = (a: (typeof failedAssertions)[number]) => esc(render(a.detail, lang));
    lines.push(field(s, s.reason, failedAssertions.map((a) => `${code(a.assertion)}${s.colon} ${detail(a)}`).join(lang === 'fr' ? `${NB}; ` : '; ')));
  } else if (r.status !== 'passed' && reason) lines.push(field(s, s.reason, esc(reason)));
  if (r.status === 'not-run' && r.commandForUser) lines.push(field(s, s.command, code(r.commandForUser)));
  const shown = Object.entries(r.values ?? {}).filter(([k]) => k !== 'base_url');
  if (shown.length) lines.push(field(s, s.values, shown.map(([k, v]) => `${code(k)}${NB}= ${code(v)}`).join(', ')));
  out.push(lines.join('\n'));
  if (r.assertions.length) {
    out.push(
      table(
        [s.assertion, s.result, s.observed],
        r.assertions.map((a) => [code(a.assertion), a.ok ? s.ok : `**${s.ko}**`, esc(render(a.detail, lang))]),
      ),
    );
  }
  if (r.screenshot) out.push(`![${s.screenshot} ${r.id}](functional/${r.screenshot})`);
  return out;
}

/**
 * Markdown blocks of the section (level-2 heading); none when the stage did not run. Image paths are
 * relative to the run directory.
 */
export function functionalSection(lang: 'fr' | 'en', results: FunctionalResults | undefined): string[] {
  const s = STRINGS[lang] as S;
  // No stage (dry run, no GLPI distribution, --no-functional): no section, so that such dossiers are unchanged.
  if (!results) return [];
  const out: string[] = [heading(2, s.title)];
  out.push(s.intro(results.scenarios.length, seconds(results.durationMs)));
  const env = Object.entries(results.environment).filter(([, v]) => v);
  if (env.length) out.push(field(s, s.env, env.map(([k, v]) => `${k} ${code(String(v))}`).join(', ')));
  const failed = results.scenarios.filter((r) => r.status === 'failed').length;
  if (failed) out.push(s.failedWarning(failed));
  out.push(heading(3, s.summary));
  out.push(
    table(
      [s.caseId, s.object, s.requirement, s.status],
      results.scenarios.map((r) => [r.id, esc(render(r.title, lang)), esc(r.requirement), s.caseStatus[r.status]]),
    ),
  );
  for (const r of results.scenarios) out.push(...caseBlock(s, lang, r));
  if (results.manual.length) {
    out.push(heading(3, s.manualTitle), s.manualIntro);
    for (const m of results.manual) {
      out.push(heading(4, `${m.id} — ${esc(render(m.title, lang))}`));
      out.push([field(s, s.requirement, esc(m.requirement)), field(s, s.procedure, esc(render(m.procedure, lang))), field(s, s.expected, esc(render(m.expected, lang)))].join('\n'));
      out.push(table([s.tester, s.date, s.observedResult, s.status], [['', '', '', '']]));
    }
  }
  return out;
}
