/** The acceptance phases that follow this dossier (§8.11): provisional acceptance, VSR, final acceptance. */
import type { DossierSection } from '../dossier.ts';
import { bullets, esc, heading } from '../md.ts';
import { todo } from './common.ts';

export const phasesSection: DossierSection = {
  id: 'phases',
  part: 'body',
  render: ({ s, m }) => [heading(2, s.rec.phases), bullets(s.rec.phasesText), `**${s.rec.contractRef}${s.colon}** ${m.recette?.contract ? esc(m.recette.contract) : todo(s, s.rec.contractHint)}`],
};
