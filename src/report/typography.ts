/**
 * Last pass over a generated document, outside code spans and fenced blocks: real plural agreement instead
 * of "ligne(s)" (the nearest number before the word in the same sentence decides; none: plural), and, in
 * French, typographic apostrophes and GLPI's own word « plugin » (its French interface never says
 * « greffon »). Texts recorded by other stages (reasons, audit texts) go through it too, so the document
 * speaks with one voice whatever wrote them.
 */

/** Applies `fn` to the prose of a Markdown document: fenced blocks and code spans are left as they are. */
export function mapProse(markdown: string, fn: (text: string) => string): string {
  const out: string[] = [];
  let fence: string | undefined;
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push(mapInline(para.join('\n'), fn));
    para = [];
  };
  for (const line of markdown.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      out.push(line);
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = undefined;
      continue;
    }
    if (m) {
      flush();
      fence = m[1];
      out.push(line);
      continue;
    }
    para.push(line);
  }
  flush();
  return out.join('\n');
}

function mapInline(text: string, fn: (t: string) => string): string {
  let out = '';
  let i = 0;
  const re = /(`+)[\s\S]*?[^`]\1(?!`)|(`+)\2?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2]) continue;
    out += fn(text.slice(i, m.index)) + m[0];
    i = m.index + m[0].length;
  }
  return out + fn(text.slice(i));
}

function parseCount(n: string): number {
  return Number(n.replace(/[\s\u00a0\u202f]/g, '').replace(',', '.'));
}

/** "2 ligne(s) supprimée(s)" → "2 lignes supprimées"; "1 instruction(s)" → "1 instruction". */
export function agreePlurals(text: string, lang: 'fr' | 'en'): string {
  let last: number | undefined;
  return text.replace(/(\d[\d\u00a0\u202f]*(?:,\d+)?)|([.;!?](?:\s|$))|([\p{L}’'-]+)\(s\)/gu, (all, num: string | undefined, stop: string | undefined, word: string | undefined) => {
    if (num !== undefined) {
      last = parseCount(num);
      return all;
    }
    if (stop !== undefined) {
      last = undefined;
      return all;
    }
    const plural = last === undefined ? true : lang === 'fr' ? last >= 2 : last !== 1;
    return plural ? `${word}s` : word!;
  });
}

export function frenchProse(text: string): string {
  return agreePlurals(text, 'fr')
    .replace(/(\p{L})'(\p{L})/gu, '$1’$2')
    .replace(/\b([Gg])reffon(s?)\b/g, (_a, g: string, plural: string) => `${g === 'G' ? 'P' : 'p'}lugin${plural}`);
}

export function polish(markdown: string, lang: 'fr' | 'en'): string {
  return mapProse(markdown, (t) => (lang === 'fr' ? frenchProse(t) : agreePlurals(t, 'en')));
}
