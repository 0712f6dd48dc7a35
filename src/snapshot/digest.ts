/**
 * The content digest of a table: the sum, modulo 2^64, of a 64-bit hash of every row exactly as the server
 * sends it in the text protocol (the length-encoded values, with character_set_results = binary,
 * time_zone = '+00:00' and the snapshot's select list: FLOAT as `col + 0e0`, BIT and some ENUMs as numbers).
 *
 * Why not CHECKSUM TABLE: on MyISAM/Aria it reads the table one row at a time from the data file, about twenty
 * times a full scan (50,000 computers: 28 s for the 2 M rows of glpi_logs, whose SELECT takes 1.1 s;
 * docs/benchmarks.md), and the snapshot has to take it under the lock that holds production's writes. The
 * rows are read anyway to be copied: hashing them on the way costs a few per cent of the client's CPU.
 *
 * A sum of row hashes does not depend on the order rows are read in, so chunks read in parallel add up, and a
 * table read back after a restore (in whatever order the server returns it) gives the same value when, and
 * only when, the same multiset of rows is there (up to a 2^-64 chance). It proves what the clients of the
 * database will read — the bytes of every value — which is what an upgrade needs to carry over.
 *
 * The row hash is MurmurHash3's x86 128-bit mixing cut to two 32-bit lanes (public domain algorithm, written
 * here from its description): fast in JavaScript with Math.imul, and good enough to tell rows apart (this is
 * a proof against accidents — truncation, a conversion, a lost row — not against forgery; the files are
 * protected by their sha256).
 */
import type { Connection } from '../db/connect.ts';
import { coreOf, qi } from '../db/connect.ts';
import type { ManifestColumn } from './manifest-types.ts';
import { queryRawRows } from './raw-query.ts';
import { selectList } from './tsv.ts';

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;
const TWO32 = 4294967296;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** An order-independent digest of a set of rows (see the module comment). */
export class RowDigest {
  private lo = 0;
  private hi = 0;
  rows = 0;

  /** Adds one row: the payload of a text-protocol row packet, `buf[start..end)`. */
  addRow(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    let h1 = 0x9747b28c ^ len;
    let h2 = 0x5bd1e995 ^ len;
    let p = start;
    const whole = start + (len & ~3);
    for (; p < whole; p += 4) {
      const k = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
      let k1 = Math.imul(k, C1);
      k1 = (k1 << 15) | (k1 >>> 17);
      h1 ^= Math.imul(k1, C2);
      h1 = (h1 << 19) | (h1 >>> 13);
      h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
      let k2 = Math.imul(k, C3);
      k2 = (k2 << 16) | (k2 >>> 16);
      h2 ^= Math.imul(k2, C4);
      h2 = (h2 << 17) | (h2 >>> 15);
      h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
    }
    const rest = end - p;
    if (rest > 0) {
      let t = buf[p];
      if (rest > 1) t |= buf[p + 1] << 8;
      if (rest > 2) t |= buf[p + 2] << 16;
      let k1 = Math.imul(t, C1);
      k1 = (k1 << 15) | (k1 >>> 17);
      h1 ^= Math.imul(k1, C2);
      let k2 = Math.imul(t, C3);
      k2 = (k2 << 16) | (k2 >>> 16);
      h2 ^= Math.imul(k2, C4);
    }
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h1) | 0;
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h1) | 0;
    this.addWord(h1 >>> 0, h2 >>> 0);
    this.rows++;
  }

  private addWord(lo: number, hi: number): void {
    let s = this.lo + lo;
    let carry = 0;
    if (s >= TWO32) {
      s -= TWO32;
      carry = 1;
    }
    this.lo = s;
    this.hi = (this.hi + hi + carry) >>> 0;
  }

  /** Adds the rows of another digest (chunks of one table). */
  add(other: RowDigest): void {
    this.addWord(other.lo, other.hi);
    this.rows += other.rows;
  }

  /** 16 lowercase hex digits. */
  toString(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }
}

/**
 * Reads a table back (the snapshot's select list, raw bytes, UTC) and returns its row count and digest.
 * Sets the session's character_set_results and time_zone for the read and puts them back afterwards.
 */
export async function readTableDigest(conn: Connection, database: string, table: string, columns: ManifestColumn[]): Promise<{ rows: number; digest: string }> {
  const [before] = await conn.query({ sql: 'SELECT @@session.character_set_results, @@session.time_zone', rowsAsArray: true });
  const [charset, zone] = (before as unknown[][])[0];
  await conn.query("SET SESSION character_set_results = binary, time_zone = '+00:00'");
  try {
    const digest = new RowDigest();
    const sql = `SELECT ${columns.length ? selectList(columns) : '1'} FROM ${qi(database)}.${qi(table)}`;
    await queryRawRows(coreOf(conn), sql, (buf, start, end) => digest.addRow(buf, start, end)).done;
    return { rows: digest.rows, digest: digest.toString() };
  } finally {
    await conn.query('SET SESSION character_set_results = ?, time_zone = ?', [charset === null || charset === undefined ? null : String(charset), String(zone)]).catch(() => undefined);
  }
}
