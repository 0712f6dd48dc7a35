/**
 * Small CommonMark/GFM writer: the renderers build a list of blocks, this joins them with exactly one
 * blank line, escapes text taken from inputs, and picks fences that cannot be closed by the content.
 * Tables use the "compact" column style (`| a | b |` / `| --- | --- |`), checked by markdownlint MD060.
 */

/** Escapes text from the inputs for use in a paragraph or list item (no HTML, no accidental emphasis). */
export function esc(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/([*_`[\]<>|#])/g, '\\$1')
    .trim();
}

/** Inline code, with a fence longer than any backtick run inside. */
export function code(text: string): string {
  const t = text.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...[...t.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A cell: inline markdown already built by the caller; only pipes and newlines are neutralised. */
function cell(text: string): string {
  const t = text.replace(/\r?\n/g, ' ').trim();
  // Pipes inside code spans must be escaped too in GFM tables.
  return t.replace(/(?<!\\)\|/g, '\\|');
}

export function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `|${cells.map((c) => (cell(c) ? ` ${cell(c)} ` : ' ')).join('|')}|`;
  return [line(headers), `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n');
}

export function heading(level: number, text: string): string {
  return `${'#'.repeat(level)} ${text}`;
}

export function fence(info: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/^\s*(`{3,}|~{3,})/gm)].map((m) => m[1].length));
  const f = '`'.repeat(longest + 1);
  const content = body.replace(/\s+$/, '');
  return `${f}${info}\n${content}\n${f}`;
}

export function bullets(items: string[]): string {
  return items.map((i) => `- ${i}`).join('\n');
}

export function numbered(items: string[]): string {
  return items.map((i) => `1. ${i}`).join('\n');
}

export function quote(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `> ${l}` : '>'))
    .join('\n');
}

/** Joins blocks with one blank line, drops empty ones, ends with exactly one newline. */
export function doc(blocks: Array<string | undefined | false>): string {
  return `${blocks
    .filter((b): b is string => typeof b === 'string' && b.trim() !== '')
    .map((b) => b.replace(/\s+$/, ''))
    .join('\n\n')}\n`;
}

/** A GitHub-compatible anchor for a heading text (used for in-document links). */
export function anchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

/**
 * Removes secrets from text printed in documents: passwords in DSNs, `--password=…`, `-p…`,
 * `PASSWORD=…`/`*_PASSWORD=…` assignments, `IDENTIFIED BY '…'`.
 */
export function redact(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s]*@/gi, '$1:***@')
    .replace(/(--password[= ])(?!-)\S+/gi, '$1***')
    .replace(/(\s-p)(?!\s)\S+/g, '$1***')
    .replace(/\b([A-Z0-9_]*PASSWORD[A-Z0-9_]*|MYSQL_PWD|PWD)=\S+/g, '$1=***')
    .replace(/(IDENTIFIED\s+(?:BY|WITH\s+\S+\s+BY)\s+)'[^']*'/gi, "$1'***'")
    .replace(/((?:passwd|password|pwd)\s*[:=]\s*)(["']?)[^"'\s,;]+\2/gi, '$1$2***$2');
}
