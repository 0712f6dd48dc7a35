/**
 * The SQL side of anonymization: every transformation is an expression the server evaluates row by row
 * in one set-based UPDATE, so a million-row table is one statement, not a million round trips.
 *
 * The digest is a real HMAC-SHA256(salt, namespace || 0x00 || value), computed by the server from two session
 * variables holding the HMAC inner and outer pads (derived from the salt in the tool, sent as parameters of a
 * prepared statement: neither the salt nor the pads appear in any SQL text).
 */
import crypto from 'node:crypto';
import type { AnonymizeRule, HashFormat } from './rules.ts';
import { namespaceOf } from './rules.ts';
import { DOUBLE_ENCODED_PATTERNS, UTF8_IN_LATIN1_PATTERNS } from '../audit/context.ts';

export const IPAD_VAR = '@gou_anon_ipad';
export const OPAD_VAR = '@gou_anon_opad';

/** The HMAC-SHA256 inner and outer pads of a key (RFC 2104). */
export function hmacPads(salt: string): { ipad: Buffer; opad: Buffer } {
  let key = Buffer.from(salt, 'utf8');
  if (key.length > 64) key = crypto.createHash('sha256').update(key).digest();
  const block = Buffer.alloc(64);
  key.copy(block);
  const ipad = Buffer.alloc(64);
  const opad = Buffer.alloc(64);
  for (let i = 0; i < 64; i++) {
    ipad[i] = block[i] ^ 0x36;
    opad[i] = block[i] ^ 0x5c;
  }
  return { ipad, opad };
}

/** The digest the server computes, in JavaScript (hex): for checks and documentation. */
export function digestHex(salt: string, namespace: string, key: Buffer | string): string {
  return crypto
    .createHmac('sha256', Buffer.from(salt, 'utf8'))
    .update(Buffer.concat([Buffer.from(namespace, 'utf8'), Buffer.from([0]), typeof key === 'string' ? Buffer.from(key, 'utf8') : key]))
    .digest('hex');
}

/** The comparison key of a value in JavaScript, as the SQL one (`match: ci` lower-cases and drops trailing spaces). */
export function matchKey(value: string, ci: boolean): string {
  return ci ? value.replace(/ +$/, '').toLowerCase() : value;
}

export interface ColumnInfo {
  name: string;
  dataType: string;
  /** Characters (text) or bytes (binary); null when unbounded for our purpose. */
  maxLength: number | null;
  charset: string | null;
  collation?: string | null;
}

const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

export function isStringColumn(c: ColumnInfo): boolean {
  return TEXT_TYPES.has(c.dataType) || BINARY_TYPES.has(c.dataType);
}

export function isTextColumn(c: ColumnInfo): boolean {
  return TEXT_TYPES.has(c.dataType) && c.charset !== 'binary';
}

export function qi(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** A SQL string literal of plain printable text (rules data is checked; this escapes anyway). */
export function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The expression of the value compared and hashed (`ci`: lower case, no trailing spaces; always as utf8mb4 text). */
export function keyExpr(col: string, c: ColumnInfo, ci: boolean): string {
  if (!isTextColumn(c)) return col;
  const src = `CONVERT(${col} USING utf8mb4)`;
  return ci ? `LOWER(TRIM(TRAILING ' ' FROM ${src}))` : src;
}

/** The WHERE part selecting the rows a rule rewrites: not NULL, not empty, not a kept value. */
export function conditionExpr(rule: AnonymizeRule, column: ColumnInfo): string {
  const col = qi(column.name);
  const ci = (rule.match ?? 'ci') === 'ci';
  const parts = [`${col} IS NOT NULL`, `${col} <> ''`];
  const keep = rule.keep_values ?? [];
  if (keep.length) {
    const values = keep.map((v) => lit(matchKey(v, ci && isTextColumn(column))));
    parts.push(`${keyExpr(col, column, ci)} NOT IN (${values.join(', ')})`);
  }
  return parts.join(' AND ');
}

const DEFAULT_PREFIX: Partial<Record<HashFormat, string>> = { text: 'anon-', email: 'u' };

/**
 * The new value of a column under a rule (assumes the row matches conditionExpr), in the column's own
 * character set and collation (the results are ASCII: nothing is lost, and a latin1 column stays latin1).
 */
export function valueExpr(rule: AnonymizeRule, column: ColumnInfo): string {
  let e = rawValueExpr(rule, column);
  if (!isTextColumn(column)) return `CAST(${e} AS BINARY)`;
  if (!column.charset || !/^[a-z0-9_]+$/i.test(column.charset)) return e;
  const coll = column.collation && /^[a-z0-9_]+$/i.test(column.collation) ? ` COLLATE ${column.collation}` : '';
  const keepsHazards = rule.method === 'pseudonym' || (rule.method === 'hash' && rule.format === 'text');
  if (keepsHazards) {
    const col = qi(column.name);
    const marks = hazardMarkers(col, column.charset);
    if (rule.method === 'hash' && rule.format === 'text') {
      // Free text keeps its size in bytes (values at the TEXT / max_allowed_packet limits stay there).
      const core = Math.min((rule.prefix ?? DEFAULT_PREFIX.text ?? '').length + (rule.length ?? 16), column.maxLength ?? Infinity);
      const room = column.maxLength !== null && column.maxLength < 1_000_000 ? `LEAST(LENGTH(${col}), ${column.maxLength})` : `LENGTH(${col})`;
      e = `RPAD(${e}, GREATEST(${core}, ${room} - LENGTH(${marks})), '.')`;
    }
    // The markers are bytes of the column's own character set: appended as binary, then read as that charset.
    const withMarks = `CONVERT(CONCAT(CAST(${e} AS BINARY), ${marks}) USING ${column.charset})`;
    const max = column.maxLength;
    return `${max !== null && max < 1_000_000 ? `LEFT(${withMarks}, ${max})` : withMarks}${coll}`;
  }
  return `CONVERT(${e} USING ${column.charset})${coll}`;
}

/** A complete character sequence showing each byte pattern (some patterns are only the start of a character). */
const MARKER_OF: Record<string, string> = {
  C383C2: 'C383C2A9', // Ã©
  C383C5: 'C383C592', // ÃŒ
  C383C6: 'C383C692', // Ãƒ
  C383CB: 'C383CB86', // Ãˆ
  C383E2: 'C383E280B0', // Ã‰
  C382C2: 'C382C2B0', // Â°
  F09F: 'F09F9880', // 😀 (raw, in a latin1 column)
};

/**
 * The text-encoding hazards the audit counts (src/audit/context.ts) are kept in anonymized values: for each
 * byte pattern the original shows (double-encoded UTF-8, U+FFFD replacement characters, UTF-8 bytes in a latin1
 * column), the new value ends with a short marker showing the same pattern ("Ã©", "�", the bytes of "é"…),
 * so the audit finds the same rows, with the same kinds of damage.
 */
export function hazardMarkers(col: string, charset: string): string {
  const patterns = /^utf8/i.test(charset) ? [...DOUBLE_ENCODED_PATTERNS, 'EFBFBD'] : /^latin1$/i.test(charset) ? [...UTF8_IN_LATIN1_PATTERNS] : [];
  if (patterns.length === 0) return "X''";
  const parts = patterns.map((p) => `IF(LOCATE(X'${p}', BINARY ${col}) > 0, X'20${MARKER_OF[p] ?? p}', X'')`);
  // Every pattern has a byte >= 0x80: values made only of ASCII (most of them) skip the search.
  const ascii = /^utf8/i.test(charset) ? `LENGTH(${col}) = CHAR_LENGTH(${col})` : `LENGTH(CONVERT(${col} USING utf8mb4)) = LENGTH(${col})`;
  return `IF(${ascii}, X'', CONCAT(${parts.join(', ')}))`;
}

function rawValueExpr(rule: AnonymizeRule, column: ColumnInfo): string {
  const col = qi(column.name);
  const ci = (rule.match ?? 'ci') === 'ci';
  const text = isTextColumn(column);
  const max = column.maxLength;
  const cut = (e: string) => (max !== null && max < 1_000_000 ? `LEFT(${e}, ${max})` : e);
  if (rule.method === 'fixed') return cut(lit(rule.value ?? ''));
  const ns = namespaceOf(rule);
  const h = `SHA2(CONCAT(${OPAD_VAR}, UNHEX(SHA2(CONCAT(${IPAD_VAR}, ${lit(ns)}, 0x00, ${keyExpr(col, column, ci)}), 256))), 256)`;
  // The case style of the original (all upper case with at least one letter → upper-case result).
  const styled = (e: string) => (text ? `IF(BINARY ${col} = BINARY UPPER(${col}) AND BINARY ${col} <> BINARY LOWER(${col}), UPPER(${e}), ${e})` : e);
  const n = rule.length;
  const prefix = rule.prefix ?? (rule.method === 'hash' ? (DEFAULT_PREFIX[rule.format ?? 'hex'] ?? '') : '');
  if (rule.method === 'pseudonym') return cut(styled(`CONCAT(${lit(prefix)}, LEFT(${h}, ${n ?? 16}))`));
  switch (rule.format ?? 'hex') {
    case 'hex': {
      const digits = n ?? Math.min(64, max ?? 64);
      return cut(styled(`CONCAT(${lit(prefix)}, LEFT(${h}, ${digits}))`));
    }
    case 'text':
      return cut(`CONCAT(${lit(prefix)}, LEFT(${h}, ${n ?? 16}))`);
    case 'email':
      return cut(`CONCAT(${lit(prefix)}, LEFT(${h}, ${n ?? 12}), '@example.invalid')`);
    case 'phone':
      return cut(`CONCAT('0', LPAD(MOD(CONV(LEFT(${h}, 12), 16, 10), 1000000000), 9, '0'))`);
    case 'mac': {
      // A locally administered unicast address (02:…), with the original's separator and case.
      const mac = `REGEXP_REPLACE(LEFT(${h}, 10), '^(..)(..)(..)(..)(..)$', '02:\\\\1:\\\\2:\\\\3:\\\\4:\\\\5')`;
      const sep = text ? `IF(${col} LIKE '%-%' AND ${col} NOT LIKE '%:%', REPLACE(${mac}, ':', '-'), ${mac})` : mac;
      return cut(styled(sep));
    }
    case 'ip':
      // IPv4 stays an IPv4 address, in 10.0.0.0/8; anything else becomes hex.
      return cut(`IF(${col} REGEXP '^[0-9]{1,3}([.][0-9]{1,3}){3}$', INET_NTOA(167772160 + CONV(LEFT(${h}, 6), 16, 10)), CONCAT(${lit(prefix)}, LEFT(${h}, ${n ?? 16})))`);
    case 'uuid':
      return cut(styled(`REGEXP_REPLACE(LEFT(${h}, 32), '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\\\\1-\\\\2-\\\\3-\\\\4-\\\\5')`));
  }
}
