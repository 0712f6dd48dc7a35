/**
 * The three registers (see src/report/registers.ts): delivery anomalies with their lifecycle, constats on
 * the existing system with their remedy, risks with the steps they are about.
 */
import type { DossierSection } from '../dossier.ts';
import type { Strings } from '../i18n/fr.ts';
import type { DossierModel } from '../model.ts';
import type { Constat, RegisterAnomaly, Risk, SeverityInfo } from '../registers.ts';
import { bullets, code, esc, heading, redact, table } from '../md.ts';
import { dayText, severityText } from './common.ts';
import { render } from '../../i18n/render.ts';

const field = (s: Strings, label: string, body: string) => `**${label}${s.colon}** ${body}`;

function changeLine(s: Strings, x: SeverityInfo): string | undefined {
  if (!x.change) return undefined;
  return s.rec.severityChangeDetail(
    s.severity[x.severity].toLowerCase(),
    s.severity[x.defaultSeverity].toLowerCase(),
    esc(x.change.justification).replace(/([^.!?])$/, '$1.'),
    x.change.agreedOn ? dayText(s, x.change.agreedOn) : undefined,
  );
}

function anomalies(s: Strings, m: DossierModel): string[] {
  const r = s.rec;
  const lang = s.lang as 'fr' | 'en';
  const out = [heading(3, r.anomalies), r.anomaliesIntro];
  if (!m.register.length) return [...out, r.anomaliesNone];
  const caseOf = (a: RegisterAnomaly) => m.cases.find((c) => (a.stepId && c.ref === a.stepId) || (c.kind === 'manual' && c.manual?.anomaly?.id === a.id))?.id;
  out.push(
    table(
      [r.idCol, r.severityCol, r.titleCol, r.stateCol, r.detectedCol, r.ownerCol, r.deadlineCol],
      m.register.map((a) => [
        code(a.id),
        severityText(s, a),
        esc(render(a.title, lang)),
        r.state[a.state],
        dayText(s, a.detectedOn),
        a.owner ? esc(a.owner) : r.none,
        a.deadline ? dayText(s, a.deadline) : r.none,
      ]),
    ),
  );
  for (const a of m.register) {
    const cas = caseOf(a);
    const meta = [
      `${r.originCol}${s.colon} ${r.origin[a.origin] ?? esc(a.origin)} ${code(a.attempt)}${cas ? ` (${cas})` : ''}`,
      `${r.stateCol}${s.colon} ${r.state[a.state].toLowerCase()}${a.stateAgreed ? ` (${r.agreedState})` : ''}`,
      a.verifiedBy ? `${r.verifiedCol}${s.colon} ${code(a.verifiedBy)}` : undefined,
      a.stepId ? `${r.step}${s.colon} ${code(a.stepId)}` : undefined,
      changeLine(s, a),
    ].filter((x): x is string => Boolean(x));
    out.push(
      heading(4, `${code(a.id)} — ${esc(render(a.title, lang))}`),
      bullets(meta),
      a.detail ? field(s, r.detail, esc(redact(render(a.detail, lang)))) : '',
      field(s, r.remedy, a.remedy ? esc(redact(render(a.remedy, lang))) : r.remedyTodo),
      a.note ? field(s, r.note, esc(a.note)) : '',
    );
  }
  return out;
}

function constatRemedy(s: Strings, c: Constat): string {
  const lang = s.lang as 'fr' | 'en';
  if (c.remedy === 'applied') return s.rec.applied(c.migration);
  if (c.migration) return s.rec.proposedMigration(c.migration);
  return c.remedyText ? `${s.rec.proposed}${s.colon} ${esc(render(c.remedyText, lang))}` : s.rec.proposed;
}

function constats(s: Strings, m: DossierModel): string[] {
  const r = s.rec;
  const lang = s.lang as 'fr' | 'en';
  const out = [heading(3, r.constats), r.constatsIntro];
  if (!m.constats.length) return [...out, r.constatsNone];
  out.push(
    table(
      [r.idCol, r.severityCol, r.titleCol, r.countCol, r.remedyCol],
      m.constats.map((c) => [code(c.id), severityText(s, c), esc(render(c.title, lang)), c.count === undefined ? '—' : s.count(c.count), constatRemedy(s, c)]),
    ),
  );
  const changed = m.constats.map((c) => (c.change ? `${code(c.id)}${s.colon} ${changeLine(s, c)}` : undefined)).filter((x): x is string => Boolean(x));
  if (changed.length) out.push(bullets(changed));
  return out;
}

function risks(s: Strings, m: DossierModel): string[] {
  const r = s.rec;
  const lang = s.lang as 'fr' | 'en';
  const out = [heading(3, r.risks), r.risksIntro];
  if (!m.risks.length) return [...out, r.risksNone];
  out.push(
    table(
      [r.idCol, r.severityCol, r.titleCol, r.countCol, r.stepsCol],
      m.risks.map((x: Risk) => [
        code(x.id),
        severityText(s, x),
        esc(render(x.title, lang)),
        x.count === undefined ? '—' : s.count(x.count),
        x.steps.map((st) => `${code(st.id)} (${st.ran ? r.stepRan : r.stepNotRun})`).join(', ') || '—',
      ]),
    ),
  );
  const changed = m.risks.map((c) => (c.change ? `${code(c.id)}${s.colon} ${changeLine(s, c)}` : undefined)).filter((x): x is string => Boolean(x));
  if (changed.length) out.push(bullets(changed));
  return out;
}

export const registersSection: DossierSection = {
  id: 'registers',
  part: 'body',
  render: ({ s, m }) => {
    const out = [heading(2, s.rec.registers), s.rec.registersIntro];
    if (m.unknownRecetteIds.length) out.push(`> ${s.rec.recetteUnknown(m.unknownRecetteIds.map(code).join(', '))}`);
    return [...out, ...anomalies(s, m), ...constats(s, m), ...risks(s, m)];
  },
};
