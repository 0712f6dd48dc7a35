/**
 * The synthesis that opens the dossier, for the steering committee: the decision proposed, the key figures,
 * the open anomalies by severity, the réserves and the decisions the committee must take. Kept short on
 * purpose (at most three pages once exported): every list is capped and points to the register for the rest.
 */
import type { DossierSection } from '../dossier.ts';
import type { Strings } from '../i18n/fr.ts';
import type { DossierModel } from '../model.ts';
import { isResidual } from '../registers.ts';
import { ACCEPTANCE_RULE } from '../verdict.ts';
import { bullets, code, esc, heading, quote, table } from '../md.ts';
import { duration } from '../format.ts';
import { render } from '../../i18n/render.ts';
import { dayText, severityText } from './common.ts';

/** Longest list printed in the synthesis before "and N more". */
const CAP = 8;

function keyFigures(s: Strings, m: DossierModel): string {
  const r = s.rec;
  const run = m.cases.filter((c) => c.kind === 'pre-check' || c.kind === 'step');
  const ran = run.filter((c) => c.status !== 'not-run').length;
  const passed = run.filter((c) => c.status === 'passed').length;
  const steps = m.cases.filter((c) => c.kind === 'step');
  const notRun = steps.filter((c) => c.status === 'not-run').length;
  const audit = m.cases.filter((c) => c.kind === 'audit-check');
  const manual = m.cases.filter((c) => c.kind === 'manual');
  const open = m.register.filter(isResidual).length;
  const applied = m.constats.filter((c) => c.remedy === 'applied').length;
  const rows: string[][] = [
    [r.figCases, r.outOf(ran, run.length)],
    [r.figPassed, r.outOf(passed, run.length)],
    [r.figNotRun, notRun ? `**${notRun}**` : '0'],
  ];
  if (audit.length) rows.push([r.figAudit, r.outOf(audit.filter((c) => c.status !== 'not-run').length, audit.length)]);
  rows.push([r.figManual, manual.length ? r.outOf(manual.filter((c) => c.status === 'passed').length, manual.length) : r.figManualNone]);
  rows.push([r.figAnomalies, open ? `**${open}**` : '0'], [r.figConstats, r.figConstatsValue(m.constats.length, applied)], [r.figRisks, String(m.risks.length)]);
  const { startedAt, finishedAt } = m.inputs.run;
  if (finishedAt) rows.push([r.figDuration, duration(s, Date.parse(finishedAt) - Date.parse(startedAt))]);
  return table([r.figure, r.value], rows);
}

function bySeverity(s: Strings, m: DossierModel): string[] {
  const r = s.rec;
  const sev = ['bloquante', 'majeure', 'mineure'] as const;
  const limits: Record<(typeof sev)[number], string> = {
    bloquante: s.dossier.exactly(ACCEPTANCE_RULE.maxBlocking),
    majeure: s.dossier.atMost(ACCEPTANCE_RULE.maxMajorPerLot),
    mineure: '—',
  };
  const rows = sev.map((x) => {
    const of = m.register.filter((a) => a.severity === x);
    return [s.severity[x], String(of.filter((a) => a.state === 'ouverte').length), String(of.filter((a) => a.state === 'corrigée').length), String(of.filter((a) => !isResidual(a)).length), limits[x]];
  });
  const total = m.register.filter(isResidual).length;
  rows.push([s.dossier.critResidual, '', '', '', `${s.dossier.lessThan(ACCEPTANCE_RULE.residualLimit)} (${total})`]);
  const out = [table([r.severityCol, r.openCol, r.fixedCol, r.closedCol, r.threshold], rows)];
  const open = m.register.filter(isResidual);
  if (!open.length) out.push(r.noOpen);
  else {
    const lang = s.lang as 'fr' | 'en';
    const items = open.slice(0, CAP).map((a) => `${code(a.id)} — ${esc(render(a.title, lang))} — ${severityText(s, a).toLowerCase()}`);
    if (open.length > CAP) items.push(r.moreItems(open.length - CAP, `« ${r.anomalies} »`));
    out.push(bullets(items), r.openNote);
  }
  return out;
}

function reserves(s: Strings, m: DossierModel): string[] {
  const r = s.rec;
  const agreed = m.recette?.reserves ?? [];
  if (agreed.length) {
    return [
      r.reservesFromRecette,
      table(
        [r.reserveCol, r.deadlineCol, r.anomaliesCol],
        agreed.map((x) => [`${code(x.id)} — ${esc(x.text)}`, dayText(s, x.deadline), x.anomalies.map(code).join(', ') || '—']),
      ),
    ];
  }
  const open = m.register.filter(isResidual);
  if (!open.length || m.verdict.kind === 'accepted') return [r.reservesNone];
  const items = open
    .slice(0, CAP)
    .map((a) => `${code(a.id)}${a.deadline ? ` — ${r.deadlineCol.toLowerCase()}${s.colon} ${dayText(s, a.deadline)}` : ` — ${r.deadlineCol.toLowerCase()}${s.colon} ${r.toAgree}`}`);
  if (open.length > CAP) items.push(r.moreItems(open.length - CAP, `« ${r.anomalies} »`));
  return [r.reservesProposed, bullets(items)];
}

function decisions(s: Strings, m: DossierModel): string {
  const r = s.rec.decide;
  const out: string[] = [r.pv(s.dossier.verdictKind[m.verdict.kind].toLowerCase())];
  const notRun = m.cases.filter((c) => c.kind === 'step' && c.status === 'not-run').length;
  if (notRun) out.push(r.notRun(notRun));
  if (m.auditSkipped.length) out.push(r.auditSkipped(m.auditSkipped.length, m.auditSkipped.map((k) => code(k.id)).join(', ')));
  for (const q of m.requirements) {
    if (q.status !== 'older-target' || !q.newest) continue;
    const product = q.key === 'glpiLatest' ? 'GLPI' : 'OCS Inventory NG';
    const target = q.key === 'glpiLatest' ? m.inputs.plan.targets.glpi! : m.inputs.plan.targets.ocs!;
    out.push(r.target(product, esc(target), esc(q.newest.branch ?? q.newest.overall)));
  }
  const notAgreed = [...m.register, ...m.constats.filter((c) => c.remedy !== 'applied'), ...m.risks].filter((x) => !x.change).length;
  if (notAgreed) out.push(r.severities(notAgreed));
  const noDeadline = m.register.filter((a) => isResidual(a) && !a.deadline).length;
  if (noDeadline && !m.recette?.reserves.length) out.push(r.deadlines(noDeadline));
  const proposed = m.constats.filter((c) => c.remedy === 'proposed').length;
  if (proposed) out.push(r.constats(proposed));
  if (m.risks.length) out.push(r.risks(m.risks.length));
  if (!m.cases.some((c) => c.kind === 'manual')) out.push(r.functional);
  return bullets(out);
}

export const synthesisSection: DossierSection = {
  id: 'synthesis',
  part: 'synthesis',
  render: ({ s, m }) => {
    const r = s.rec;
    const v = m.verdict;
    const sheets = m.cases.length;
    return [
      heading(2, r.synthesis),
      r.synthesisIntro(sheets),
      heading(3, r.decision),
      quote(`**${s.dossier.verdictKind[v.kind]}.** ${s.dossier.verdictExplain[v.kind]}`),
      heading(3, r.keyFigures),
      keyFigures(s, m),
      heading(3, r.openBySeverity),
      ...bySeverity(s, m),
      heading(3, r.reserves),
      ...reserves(s, m),
      heading(3, r.decisions),
      decisions(s, m),
    ];
  },
};
