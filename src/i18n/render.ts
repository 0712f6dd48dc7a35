/** Messages rendered in a language: the only place that picks a catalog. */
import { en } from './en.ts';
import { fr } from './fr.ts';
import type { Catalog, Lang, Message, MessageId, MessageParams } from './messages.ts';

const CATALOGS: Record<Lang, Catalog> = { en, fr };

export function render(m: Message, lang: Lang): string {
  const t = (x: Message) => render(x, lang);
  if (m.id === 'literal') return m.params[lang];
  if (m.id === 'joined') return m.params.parts.map(t).join(' ');
  return fromCatalog(CATALOGS[lang], m, t);
}

function fromCatalog<K extends MessageId>(c: Catalog, m: { id: K; params: MessageParams[K] }, t: (m: Message) => string): string {
  return c[m.id](m.params, t);
}
