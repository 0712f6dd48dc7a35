/**
 * Detectors of personal data in free text, shared by the free-text rewrite (scrub.ts) and the sweep (sweep.ts).
 *
 * Every detector works on a "byte view" string: the stored bytes read as latin1 (one character per byte, no
 * decoding, no validation), so that a data file or a column value is scanned as it is, whatever its character
 * set, and a replacement (always ASCII) never disturbs the bytes around it. Identities (logins, names) are
 * looked up in the byte form of their own column's character set (UTF-8 or latin1).
 *
 * The detectors and their guards against false positives are described in docs/anonymize.md ("The sweep").
 */
import net from 'node:net';
import type { AnonymizeRule } from './rules.ts';
import { namespaceOf } from './rules.ts';
import { digestHex, matchKey } from './sql.ts';

export type DetectorKind = 'email' | 'phone' | 'ipv4' | 'ipv6' | 'mac' | 'identity';
export const DETECTORS: DetectorKind[] = ['email', 'phone', 'ipv4', 'ipv6', 'mac', 'identity'];

// Byte-view character classes: ASCII letters and digits, and any byte of a non-ASCII character.
const WORD = 'A-Za-z0-9\\x80-\\xFF';

/** An e-mail address from a given start (sticky): found from each `@` backwards, not tried at every word. */
const EMAIL_AT = new RegExp(`[A-Za-z0-9_][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,24}(?![${WORD}-])`, 'y');
const LOCAL_CHAR = new Uint8Array(256);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-') LOCAL_CHAR[ch.charCodeAt(0)] = 1;
/** Reserved names (RFC 2606): the anonymizer's own results and documentation examples are not personal. */
const RESERVED_DOMAIN = /(^|\.)(invalid|example|test|localhost)$|(^|\.)example\.(com|net|org)$/i;

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_RE = new RegExp(`(?<![${WORD}.])(?:${OCTET}\\.){3}${OCTET}(?![${WORD}]|\\.[0-9])`, 'g');
// Eight groups, or a `::` somewhere (times such as 08:30:00 fail fast).
const H4 = '[0-9A-Fa-f]{1,4}';
const IPV6_RE = new RegExp(`(?<![${WORD}:.])(?:(?:${H4}:){7}${H4}|(?:${H4}(?::${H4}){0,6})?::(?:${H4}(?::${H4}){0,6})?)(?![${WORD}:])`, 'g');
const MAC_RE = new RegExp(`(?<![${WORD}:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\\1){4}[0-9A-Fa-f]{2}(?![${WORD}:-])`, 'g');
/** French numbers (0X XX XX XX XX, +33 / 0033 forms, separators space, dot or dash) and + international ones. */
const PHONE_RE = new RegExp(
  `(?<![${WORD}+.,/-])(?:(?:(?:\\+|00)33[ .-]?(?:\\(0\\)[ .-]?)?|0)[1-9](?:[ .-]?[0-9]{2}){4}|\\+[1-9][0-9]{0,2}(?:[ .-]?\\(?[0-9]{1,4}\\)?){2,6})(?![${WORD}]|[.,/-][0-9])`,
  'g',
);
const TOKEN_RE = new RegExp(`[${WORD}]+`, 'g');

export interface Hit {
  kind: DetectorKind;
  index: number;
  /** The matched text (byte view). */
  text: string;
  /** identity hits: the identity found. */
  identity?: Identity;
}

function ipv4Personal(s: string): boolean {
  const o = s.split('.').map(Number);
  // 0.x (this network), 127.x (loopback), 224+ (multicast, masks such as 255.255.255.0): not anybody's address;
  // two leading one-digit parts (1.2.3.4, 6.1.7601.1 cut, 1.6.0.45) are version numbers far more often than addresses
  // (1.0.0.0–9.9.255.255 are public blocks, rare in an inventory).
  if (o[0] === 0 || o[0] === 127 || o[0] >= 224) return false;
  if (o[0] < 10 && o[1] < 10) return false;
  return true;
}

function ipv6Personal(s: string): boolean {
  if (!s.includes('::') && (s.match(/:/g) ?? []).length !== 7) return false;
  if (!net.isIPv6(s)) return false;
  const groups = s.split(':').filter((g) => g !== '');
  if (groups.length < 3) return false; // ::1, fe80::1 without more: too little to identify, too easy to mistake
  return true;
}

function macPersonal(s: string): boolean {
  const hex = s.replace(/[:-]/g, '').toLowerCase();
  return hex !== '000000000000' && hex !== 'ffffffffffff';
}

function phonePersonal(s: string): boolean {
  const digits = s.replace(/[^0-9]/g, '').length;
  if (s.startsWith('+') && !/^\+33/.test(s)) return digits >= 8 && digits <= 15;
  return true;
}

/** An identity (a login, a name) whose original value must not survive, and the rule giving its pseudonym. */
export interface Identity {
  /** The original value as stored (decoded text). */
  value: string;
  rule: AnonymizeRule;
  /** name: only matched when the text starts with a capital or a non-ASCII letter (see docs). */
  kind: 'login' | 'name';
}

interface Candidate {
  /** Lower-cased byte view of the whole identity. */
  full: string;
  identity: Identity;
}

/** Byte-view code units that belong to a word: ASCII letters and digits, any non-ASCII byte. */
const IS_WORD = new Uint8Array(256);
for (let c = 0; c < 256; c++) IS_WORD[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 128 ? 1 : 0;
/** String.prototype.toLowerCase on one latin1 code unit. */
function lowerUnit(c: number): number {
  return (c >= 65 && c <= 90) || (c >= 192 && c <= 222 && c !== 215) ? c + 32 : c;
}
function quickKey(len: number, first: number, last: number): number {
  return len * 65536 + lowerUnit(first) * 256 + lowerUnit(last);
}

/**
 * Finds identities as whole words (first word looked up, the rest compared), in one character set's bytes.
 * The text is walked once, word by word, without regular expressions; a word is only cut out and looked up
 * when its length and first and last letters are those of an identity's first word.
 */
export class IdentityMatcher {
  private readonly byFirst = new Map<string, Candidate[]>();
  private readonly quick = new Set<number>();
  readonly size: number;

  constructor(identities: Identity[], encoding: 'utf8' | 'latin1') {
    const seen = new Set<string>();
    for (const identity of identities) {
      const view = Buffer.from(identity.value.replace(/ +$/, ''), encoding).toString('latin1');
      const full = view.toLowerCase();
      // Too short or only digits: would match everywhere.
      if (full.length < 3 || /^[0-9]+$/.test(full) || seen.has(full)) continue;
      seen.add(full);
      const first = full.match(TOKEN_RE)?.[0];
      if (!first || !full.startsWith(first)) continue;
      const list = this.byFirst.get(first) ?? [];
      list.push({ full, identity });
      list.sort((a, b) => b.full.length - a.full.length);
      this.byFirst.set(first, list);
      this.quick.add(quickKey(first.length, first.charCodeAt(0), first.charCodeAt(first.length - 1)));
    }
    this.size = seen.size;
  }

  /** Identity hits in a byte-view text. */
  find(text: string, out: Hit[]): void {
    if (this.byFirst.size === 0) return;
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (IS_WORD[text.charCodeAt(i) & 255] === 0) {
        i++;
        continue;
      }
      const at = i;
      while (i < n && IS_WORD[text.charCodeAt(i) & 255] === 1) i++;
      if (!this.quick.has(quickKey(i - at, text.charCodeAt(at), text.charCodeAt(i - 1)))) continue;
      const word = text.slice(at, i);
      const list = this.byFirst.get(word.toLowerCase());
      if (!list) continue;
      // An HTML entity (&eacute;, &lt;) is not a word of the text.
      if (at > 0 && text.charCodeAt(at - 1) === 0x26) continue;
      for (const c of list) {
        const end = at + c.full.length;
        if (end > n || (end < n && IS_WORD[text.charCodeAt(end) & 255] === 1)) continue;
        const found = c.full.length === word.length ? word : text.slice(at, end);
        if (found.toLowerCase() !== c.full) continue;
        if (c.identity.kind === 'name' && /^[a-z]/.test(found)) continue;
        out.push({ kind: 'identity', index: at, text: found, identity: c.identity });
        if (end > i) i = end;
        break;
      }
    }
  }
}

export interface DetectOptions {
  /** Skip the IPv4 detector (columns and tables whose name says they hold versions). */
  noIpv4?: boolean;
  identities?: IdentityMatcher;
  /** Only the identity detector (a second pass in another character set's bytes). */
  identitiesOnly?: boolean;
}

function collect(re: RegExp, kind: DetectorKind, text: string, out: Hit[], keep: (s: string) => boolean): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) if (keep(m[0])) out.push({ kind, index: m.index, text: m[0] });
}

/**
 * Every detector's hits in a byte-view text, in order, without overlaps (the first detector of DETECTORS
 * that claims a span wins: an e-mail's digits are not a phone number).
 */
export function detect(text: string, opts: DetectOptions = {}): Hit[] {
  const all: Hit[] = [];
  if (opts.identitiesOnly) {
    opts.identities?.find(text, all);
    return all;
  }
  for (let at = text.indexOf('@'), done = 0; at !== -1; at = text.indexOf('@', Math.max(at + 1, done))) {
    let start = at;
    while (start > done && at - start < 64 && LOCAL_CHAR[text.charCodeAt(start - 1) & 255] === 1) start--;
    // Like a look-behind: the address must not continue a word (a non-ASCII letter before it).
    while (start < at && !/[A-Za-z0-9_]/.test(text[start])) start++;
    if (start === at || (start > 0 && (text.charCodeAt(start - 1) >= 128 || LOCAL_CHAR[text.charCodeAt(start - 1) & 255] === 1))) continue;
    EMAIL_AT.lastIndex = start;
    const m = EMAIL_AT.exec(text);
    if (!m) continue;
    done = start + m[0].length;
    if (!RESERVED_DOMAIN.test(m[0].slice(m[0].indexOf('@') + 1))) all.push({ kind: 'email', index: start, text: m[0] });
  }
  if (/[0-9]/.test(text)) {
    collect(PHONE_RE, 'phone', text, all, phonePersonal);
    if (!opts.noIpv4 && text.includes('.')) collect(IPV4_RE, 'ipv4', text, all, ipv4Personal);
  }
  if (text.includes(':')) collect(IPV6_RE, 'ipv6', text, all, ipv6Personal);
  if (text.includes(':') || text.includes('-')) collect(MAC_RE, 'mac', text, all, macPersonal);
  opts.identities?.find(text, all);
  if (all.length < 2) return all;
  const rank = (k: DetectorKind) => DETECTORS.indexOf(k);
  all.sort((a, b) => a.index - b.index || rank(a.kind) - rank(b.kind) || b.text.length - a.text.length);
  const out: Hit[] = [];
  for (const h of all) {
    const prev = out[out.length - 1];
    if (prev && h.index < prev.index + prev.text.length) {
      if (rank(h.kind) < rank(prev.kind) && h.index === prev.index) out[out.length - 1] = h;
      continue;
    }
    out.push(h);
  }
  return out;
}

/** A sample for the report that shows the shape of a hit, not its value. */
export function maskSample(kind: DetectorKind, s: string): string {
  const star = (w: string) => (w.length <= 2 ? '*'.repeat(w.length) : `${w[0]}${'*'.repeat(w.length - 2)}${w[w.length - 1]}`);
  switch (kind) {
    case 'email': {
      const at = s.indexOf('@');
      const domain = s.slice(at + 1).split('.');
      return `${star(s.slice(0, at))}@${domain.map((d, i) => (i === domain.length - 1 ? d : star(d))).join('.')}`;
    }
    case 'phone':
      return s.replace(/[0-9]/g, (d, i: number) => (i < 3 || i >= s.length - 2 ? d : '*'));
    case 'ipv4':
      return s
        .split('.')
        .map((o, i) => (i < 2 ? o : '*'))
        .join('.');
    case 'ipv6':
      return s.replace(/[0-9A-Fa-f]/g, (c, i: number) => (i < 4 ? c : '*'));
    case 'mac':
      return s.replace(/[0-9A-Fa-f]/g, (c, i: number) => (i < 8 ? c : '*'));
    case 'identity':
      return star(Buffer.from(s, 'latin1').toString('utf8'));
  }
}

// ---------------------------------------------------------------- the rules' results, computed in JavaScript

const DEFAULT_PREFIX: Record<string, string> = { text: 'anon-', email: 'u' };

/** Upper-case style of a value as the SQL side sees it: no lower-case letter, at least one upper-case one. */
function isUpperStyle(s: string): boolean {
  return s === s.toUpperCase() && s !== s.toLowerCase();
}

/**
 * The value a rule gives `value` (decoded text), as the SQL expression of sql.ts computes it, for the methods
 * and formats used on identities and detected values: pseudonym, hash email | phone | ip | mac | hex. `styleOf`
 * is the text whose case (and MAC separator) the result follows (the matched text; default: the value).
 * Free text gets no encoding-hazard marker (the text around keeps its own bytes).
 */
export function ruleValue(rule: AnonymizeRule, salt: string, value: string, styleOf: string = value): string {
  const ci = (rule.match ?? 'ci') === 'ci';
  const h = digestHex(salt, namespaceOf(rule), matchKey(value, ci));
  const upper = isUpperStyle(styleOf);
  const styled = (s: string) => (upper ? s.toUpperCase() : s);
  const prefix = rule.prefix ?? (rule.method === 'hash' ? (DEFAULT_PREFIX[rule.format ?? 'hex'] ?? '') : '');
  if (rule.method === 'pseudonym') return styled(prefix + h.slice(0, rule.length ?? 16));
  if (rule.method === 'fixed') return rule.value ?? '';
  switch (rule.format ?? 'hex') {
    case 'email':
      return `${prefix}${h.slice(0, rule.length ?? 12)}@example.invalid`;
    case 'phone':
      return `0${(BigInt(`0x${h.slice(0, 12)}`) % 1_000_000_000n).toString().padStart(9, '0')}`;
    case 'mac': {
      const mac = `02:${h.slice(0, 10).match(/../g)!.join(':')}`;
      return styled(styleOf.includes('-') && !styleOf.includes(':') ? mac.replace(/:/g, '-') : mac);
    }
    case 'ip':
      if (/^[0-9]{1,3}([.][0-9]{1,3}){3}$/.test(value)) {
        const n = 167772160 + parseInt(h.slice(0, 6), 16);
        return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      }
      return prefix + h.slice(0, rule.length ?? 16);
    case 'hex':
      return styled(prefix + h.slice(0, rule.length ?? 64));
    case 'text':
      return prefix + h.slice(0, rule.length ?? 16);
    case 'uuid': {
      const u = h.slice(0, 32);
      return styled(`${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20, 32)}`);
    }
  }
  return value;
}

/** Kept values of a rule (compared like its `match`). */
export function isKept(rule: AnonymizeRule, value: string): boolean {
  const ci = (rule.match ?? 'ci') === 'ci';
  return (rule.keep_values ?? []).some((k) => matchKey(k, ci) === matchKey(value, ci));
}
