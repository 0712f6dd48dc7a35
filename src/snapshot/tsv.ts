/**
 * The data file encoding: LOAD DATA's default text format (tab between fields, newline between rows,
 * backslash escapes, \N for NULL), applied to raw bytes. Values are never decoded: what the server sent
 * (with character_set_results = binary) is what is written, so any byte sequence round-trips.
 */
import type { ManifestColumn } from './manifest-types.ts';
import { qi } from '../db/connect.ts';

const TAB = 0x09;
const NL = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const BS = 0x5c;
const SUB = 0x1a;

/** A growable output buffer handed to the compressor in large pieces. */
export class RowEncoder {
  private buf: Buffer;
  private pos = 0;
  private readonly size: number;
  constructor(size = 512 * 1024) {
    this.size = size;
    this.buf = Buffer.allocUnsafe(size);
  }

  get length(): number {
    return this.pos;
  }

  /** Takes what was encoded so far (a fresh buffer is used afterwards, the old one is not reused). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.size);
    this.pos = 0;
    return out;
  }

  private ensure(n: number, flush: (b: Buffer) => void): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) flush(this.take());
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  /**
   * Appends one row straight from a text-protocol row packet's payload (`buf[start..end)`): a sequence of
   * length-encoded byte strings, 0xFB for NULL. No per-value objects are made; `flush` receives full buffers.
   */
  rowFromPacket(buf: Buffer, start: number, end: number, flush: (b: Buffer) => void): void {
    // Worst case: every byte escaped (2×), plus a tab per value and the newline; a NULL is 1 byte in, 3 out.
    this.ensure(3 * (end - start) + 2, flush);
    const out = this.buf;
    let o = this.pos;
    let p = start;
    let first = true;
    while (p < end) {
      if (first) first = false;
      else out[o++] = TAB;
      const lead = buf[p];
      let len: number;
      if (lead < 0xfb) {
        len = lead;
        p += 1;
      } else if (lead === 0xfb) {
        out[o++] = BS;
        out[o++] = 0x4e; // N
        p += 1;
        continue;
      } else if (lead === 0xfc) {
        len = buf[p + 1] | (buf[p + 2] << 8);
        p += 3;
      } else if (lead === 0xfd) {
        len = buf[p + 1] | (buf[p + 2] << 8) | (buf[p + 3] << 16);
        p += 4;
      } else {
        len = buf.readUInt32LE(p + 1) + buf.readUInt32LE(p + 5) * 0x100000000;
        p += 9;
      }
      const stop = p + len;
      if (stop > end) throw new Error(`malformed row packet: a value of ${len} bytes runs past the packet end`);
      if (len > 32) {
        // Long values: find the first byte to escape; copy the clean prefix natively.
        let j = p;
        while (j < stop && ESCAPE[buf[j]] === 0) j++;
        if (j > p) {
          buf.copy(out, o, p, j);
          o += j - p;
          p = j;
        }
      }
      for (; p < stop; p++) {
        const b = buf[p];
        const e = ESCAPE[b];
        if (e === 0) out[o++] = b;
        else {
          out[o++] = BS;
          out[o++] = e;
        }
      }
    }
    out[o++] = NL;
    this.pos = o;
  }
}

/** For each byte: 0 if written as is, else the letter that follows the backslash in LOAD DATA's format. */
const ESCAPE = new Uint8Array(256);
ESCAPE[BS] = BS;
ESCAPE[TAB] = 0x74; // t
ESCAPE[NL] = 0x6e; // n
ESCAPE[CR] = 0x72; // r
ESCAPE[NUL] = 0x30; // 0
ESCAPE[SUB] = 0x5a; // Z

const FLOAT_TYPES = new Set(['float']);
const GEOMETRY_TYPES = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);

/** The members of an ENUM or SET from information_schema.COLUMNS.COLUMN_TYPE (`enum('a','it''s')`). */
export function enumMembers(columnType: string): string[] {
  const m = /^(?:enum|set)\((.*)\)$/is.exec(columnType.trim());
  if (!m) return [];
  const out: string[] = [];
  const re = /'((?:[^'\\]|''|\\.)*)'/gs;
  for (let x = re.exec(m[1]); x; x = re.exec(m[1])) out.push(x[1].replace(/''/g, "'").replace(/\\(.)/gs, '$1'));
  return out;
}

/**
 * How a column is dumped, from information_schema.COLUMNS.DATA_TYPE (and COLUMN_TYPE for ENUM: a column with an
 * empty-string member is read as its index, since the text '' would not tell that member from the error value).
 */
export function columnEncoding(dataType: string, columnType = ''): ManifestColumn['encoding'] {
  const t = dataType.toLowerCase();
  if (FLOAT_TYPES.has(t)) return 'float';
  if (t === 'bit') return 'bit';
  if (GEOMETRY_TYPES.has(t)) return 'geometry';
  if (t === 'enum' && enumMembers(columnType).includes('')) return 'enum';
  return 'raw';
}

/** The SELECT list that reads columns in their dump encoding. */
export function selectList(columns: ManifestColumn[]): string {
  return columns
    .map((c) => {
      const q = qi(c.name);
      switch (c.encoding) {
        case 'float':
          return `(${q} + 0e0)`;
        case 'bit':
        case 'enum':
          return `(${q} + 0)`;
        default:
          return q;
      }
    })
    .join(', ');
}

/**
 * The column list and SET clause of LOAD DATA for these columns. BIT and geometry values need a variable and
 * a SET; when any column does, every column goes through a variable, because MariaDB (10.11) ignores
 * NO_AUTO_VALUE_ON_ZERO for an AUTO_INCREMENT column listed directly in a LOAD DATA that has a SET clause
 * (a row with id 0 would get a new id).
 */
export function loadColumnsClause(columns: ManifestColumn[]): string {
  const needsSet = columns.some((c) => c.encoding === 'bit' || c.encoding === 'geometry' || c.encoding === 'enum');
  if (!needsSet) return `(${columns.map((c) => qi(c.name)).join(', ')})`;
  const list = columns.map((_, i) => `@v${i}`);
  // A number stored into an ENUM is its index (0: the error value): CAST makes '2' a number, not a member name.
  const sets = columns.map((c, i) => `${qi(c.name)} = ${c.encoding === 'bit' || c.encoding === 'enum' ? `CAST(@v${i} AS UNSIGNED)` : `@v${i}`}`);
  return `(${list.join(', ')}) SET ${sets.join(', ')}`;
}

/** The full LOAD DATA statement for one data file. */
export function loadDataStatement(database: string, table: string, columns: ManifestColumn[], file = "'/dev/stdin'"): string {
  return (
    `LOAD DATA LOCAL INFILE ${file} INTO TABLE ${qi(database)}.${qi(table)} CHARACTER SET binary ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ${loadColumnsClause(columns)}`
  );
}
