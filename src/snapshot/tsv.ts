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

  /** Appends one row; `flush` receives full buffers. */
  row(values: Array<Buffer | null>, flush: (b: Buffer) => void): void {
    let need = values.length + 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      need += v === null ? 2 : v.length * 2;
    }
    this.ensure(need, flush);
    const out = this.buf;
    let p = this.pos;
    for (let i = 0; i < values.length; i++) {
      if (i > 0) out[p++] = TAB;
      const v = values[i];
      if (v === null) {
        out[p++] = BS;
        out[p++] = 0x4e; // N
        continue;
      }
      const n = v.length;
      if (n > 64) {
        // Long values: copy natively when nothing needs escaping.
        let clean = true;
        for (let j = 0; j < n; j++) {
          const b = v[j];
          if (b === BS || b === TAB || b === NL || b === CR || b === NUL || b === SUB) {
            clean = false;
            break;
          }
        }
        if (clean) {
          v.copy(out, p);
          p += n;
          continue;
        }
      }
      for (let j = 0; j < n; j++) {
        const b = v[j];
        switch (b) {
          case BS:
            out[p++] = BS;
            out[p++] = BS;
            break;
          case TAB:
            out[p++] = BS;
            out[p++] = 0x74; // t
            break;
          case NL:
            out[p++] = BS;
            out[p++] = 0x6e; // n
            break;
          case CR:
            out[p++] = BS;
            out[p++] = 0x72; // r
            break;
          case NUL:
            out[p++] = BS;
            out[p++] = 0x30; // 0
            break;
          case SUB:
            out[p++] = BS;
            out[p++] = 0x5a; // Z
            break;
          default:
            out[p++] = b;
        }
      }
    }
    out[p++] = NL;
    this.pos = p;
  }
}

const FLOAT_TYPES = new Set(['float']);
const GEOMETRY_TYPES = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);

/** How a column is dumped, from information_schema.COLUMNS.DATA_TYPE. */
export function columnEncoding(dataType: string): ManifestColumn['encoding'] {
  const t = dataType.toLowerCase();
  if (FLOAT_TYPES.has(t)) return 'float';
  if (t === 'bit') return 'bit';
  if (GEOMETRY_TYPES.has(t)) return 'geometry';
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
  const needsSet = columns.some((c) => c.encoding === 'bit' || c.encoding === 'geometry');
  if (!needsSet) return `(${columns.map((c) => qi(c.name)).join(', ')})`;
  const list = columns.map((_, i) => `@v${i}`);
  const sets = columns.map((c, i) => `${qi(c.name)} = ${c.encoding === 'bit' ? `CAST(@v${i} AS UNSIGNED)` : `@v${i}`}`);
  return `(${list.join(', ')}) SET ${sets.join(', ')}`;
}

/** The full LOAD DATA statement for one data file. */
export function loadDataStatement(database: string, table: string, columns: ManifestColumn[], file = "'/dev/stdin'"): string {
  return (
    `LOAD DATA LOCAL INFILE ${file} INTO TABLE ${qi(database)}.${qi(table)} CHARACTER SET binary ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ${loadColumnsClause(columns)}`
  );
}
