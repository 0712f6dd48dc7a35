/** Language-aware formatting shared by the renderers. */
import type { Strings } from './i18n/fr.ts';
import { fr } from './i18n/fr.ts';
import { en } from './i18n/en.ts';
import { UsageError } from '../errors.ts';

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
