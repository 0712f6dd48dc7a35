/**
 * The human report of a findings file: grouped by family, worst first, with counts, the main evidence
 * and the remedy; then the checks that were skipped and why. French by default.
 */
import type { CheckRun, Finding, FindingFamily, FindingsFile, Severity } from './finding-types.ts';
import type { Message } from '../i18n/messages.ts';
import { render } from '../i18n/render.ts';
import { messageProblem } from '../i18n/saved.ts';

export type Lang = 'fr' | 'en';

const FAMILY: Record<FindingFamily, Record<Lang, string>> = {
  'glpi-upgrade': { fr: 'Mise à jour de GLPI', en: 'GLPI upgrade' },
  'ocs-upgrade': { fr: 'Mise à jour d’OCS Inventory NG', en: 'OCS Inventory NG upgrade' },
  interconnection: { fr: 'Interconnexion GLPI–OCS', en: 'GLPI–OCS interconnection' },
  environment: { fr: 'Environnement', en: 'Environment' },
};

const SEVERITY: Record<Severity, Record<Lang, string>> = {
  bloquante: { fr: 'BLOQUANTE', en: 'BLOCKING' },
  majeure: { fr: 'MAJEURE', en: 'MAJOR' },
  mineure: { fr: 'mineure', en: 'minor' },
};

const T = {
  none: { fr: 'Aucune anomalie.', en: 'No finding.' },
  remedy: { fr: 'remède', en: 'remedy' },
  migration: { fr: 'migration corrective', en: 'corrective migration' },
  evidence: { fr: 'preuves', en: 'evidence' },
  skipped: { fr: 'Contrôles non exécutés', en: 'Checks not run' },
  summary: { fr: 'Bilan', en: 'Summary' },
  checks: { fr: 'contrôles', en: 'checks' },
  ok: { fr: 'conformes', en: 'ok' },
  notRun: { fr: 'non exécutés', en: 'skipped' },
  /** Before a colon: a space in French. */
  colon: { fr: ' :', en: ':' },
};

/** A compact one-line rendering of evidence (first keys only); a message in it (a note) is rendered in `lang`. */
export function summariseEvidence(e: Record<string, unknown>, lang: Lang, max = 400): string {
  const s = Object.entries(e)
    .map(([k, v]) => `${k}=${isMessage(v) ? render(v, lang) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('; ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function isMessage(v: unknown): v is Message {
  return typeof v === 'object' && v !== null && 'id' in v && messageProblem(v, 'evidence') === undefined;
}

export interface RenderStyle {
  bold?: (s: string) => string;
  red?: (s: string) => string;
  yellow?: (s: string) => string;
  dim?: (s: string) => string;
}

export function renderFindings(file: FindingsFile, lang: Lang = 'fr', style: RenderStyle = {}): string[] {
  const id = (s: string) => s;
  const bold = style.bold ?? id;
  const colour = (sev: Severity) => (sev === 'bloquante' ? (style.red ?? id) : sev === 'majeure' ? (style.yellow ?? id) : (style.dim ?? id));
  const lines: string[] = [];
  const counts: Record<Severity, number> = { bloquante: 0, majeure: 0, mineure: 0 };
  for (const f of file.findings) counts[f.severity]++;
  const ok = file.checksRun.filter((c) => c.status === 'ok').length;
  const skipped = file.checksRun.filter((c) => c.status === 'skipped');
  lines.push(
    bold(T.summary[lang]) +
      `${T.colon[lang]} ${file.checksRun.length} ${T.checks[lang]} — ${SEVERITY.bloquante[lang]} ${counts.bloquante}, ${SEVERITY.majeure[lang]} ${counts.majeure}, ${SEVERITY.mineure[lang]} ${counts.mineure}, ${T.ok[lang]} ${ok}, ${T.notRun[lang]} ${skipped.length}`,
  );
  if (file.findings.length === 0) lines.push(T.none[lang]);
  const families = [...new Set(file.findings.map((f) => f.family))];
  for (const fam of families) {
    lines.push('');
    lines.push(bold(FAMILY[fam][lang]));
    for (const f of file.findings.filter((x) => x.family === fam)) lines.push(...renderFinding(f, lang, colour));
  }
  if (skipped.length) {
    lines.push('');
    lines.push(bold(T.skipped[lang]));
    for (const s of skipped) {
      const reason = s.reason ? render(s.reason, lang) : undefined;
      lines.push(`  - ${s.id}${reason ? `${T.colon[lang]} ${reason}` : ''}`);
    }
  }
  return lines;
}

function renderFinding(f: Finding, lang: Lang, colour: (s: Severity) => (s: string) => string): string[] {
  const out = [`  ${colour(f.severity)(`[${SEVERITY[f.severity][lang]}]`)} ${f.id} (${f.count}) — ${render(f.title, lang)}`];
  out.push(`      ${T.evidence[lang]}${T.colon[lang]} ${summariseEvidence(f.evidence, lang)}`);
  if (f.remedy.migration) out.push(`      ${T.remedy[lang]}${T.colon[lang]} ${T.migration[lang]} ${f.remedy.migration}`);
  if (f.remedy.manual) out.push(`      ${T.remedy[lang]}${T.colon[lang]} ${render(f.remedy.manual, lang)}`);
  return out;
}

export function checkLine(run: CheckRun): string {
  return `${run.status.padEnd(8)} ${run.id}${run.reason ? ` (${render(run.reason, 'en')})` : ''}`;
}
