/** Helpers shared by the dossier's sections (kept apart from dossier.ts so sections never import it). */
import type { Strings } from '../i18n/fr.ts';
import type { DossierModel } from '../model.ts';
import type { SeverityInfo } from '../registers.ts';

export interface CommonOptions {
  customer?: string;
  project?: string;
}

export const todo = (s: Strings, hint: string) => `**${s.todo}** (${hint})`;

/** The customer's name: the command line first, then recette.yaml. */
export function customerOf(m: DossierModel, o: CommonOptions): string | undefined {
  return o.customer ?? m.recette?.customer;
}

/** A severity, marked when recette.yaml changed it by agreement. */
export function severityText(s: Strings, x: SeverityInfo): string {
  const base = s.severity[x.severity];
  return x.change ? `${base}, ${s.rec.severityChanged(s.severity[x.defaultSeverity].toLowerCase())}` : base;
}

/** A YYYY-MM-DD day in the document's format. */
export function dayText(s: Strings, day: string): string {
  return s.day(`${day}T00:00:00Z`);
}
