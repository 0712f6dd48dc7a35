/** Language-aware formatting shared by the renderers. */
import type { Strings } from './i18n/fr.ts';
import { fr } from './i18n/fr.ts';
import { en } from './i18n/en.ts';
import { UsageError } from '../errors.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import type { Message } from '../i18n/messages.ts';
import { render } from '../i18n/render.ts';

export type Lang = 'fr' | 'en';

export function stringsFor(lang: Lang | undefined): Strings {
  if (lang === undefined || lang === 'fr') return fr;
  if (lang === 'en') return en;
  throw new UsageError(`unknown language "${String(lang)}": use fr or en`);
}

export function bytes(s: Strings, n: number): string {
  if (n < 1024) return `${s.count(n)} ${s.bytesUnits[0]}`;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < s.bytesUnits.length - 1) {
    v /= 1024;
    u++;
  }
  return `${s.decimal(v, v < 10 ? 1 : 0)} ${s.bytesUnits[u]}`;
}

export function duration(s: Strings, ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${s.decimal(ms / 1000, 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Last path component only: documents never carry this machine's absolute paths. */
export function baseName(p: string): string {
  const parts = p.replace(/[\\/]+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

// Messages (src/i18n: plan texts, skip reasons, pre-checks…) in the document's language.

const langOf = (s: Strings): Lang => (s.lang === 'fr' ? 'fr' : 'en');

/** A message in the document's language. */
export function text(s: Strings, m: Message): string {
  return render(m, langOf(s));
}

export function stepTitle(s: Strings, step: PlanStep): string {
  return text(s, step.title);
}

export function stepExplanation(s: Strings, step: PlanStep): string {
  return text(s, step.explanation);
}

export function planNotes(s: Strings, plan: PlanFile): string[] {
  return plan.notes.map((n) => text(s, n));
}

export function deletionReason(s: Strings, row: { why: Message }): string {
  return text(s, row.why);
}

/** A catalog table's entry for a key read from a file (undefined when the table has no such key). */
export function entry<T extends object>(table: T, key: string): T[keyof T] | undefined {
  for (const [k, v] of Object.entries(table)) if (k === key) return v;
  return undefined;
}
