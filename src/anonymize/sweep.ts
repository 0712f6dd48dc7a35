/**
 * The sweep: after the rules, every character and text column of every table of both databases is scanned,
 * in the snapshot's data files, for e-mail addresses, phone numbers, IPv4/IPv6 and MAC addresses and the
 * original values of the identity columns (detect.ts). What remains is reported per column with masked
 * samples; a column may be allowed (`--allow db.table.column=reason`), which the report records.
 *
 * A data file is scanned whole, as bytes read as latin1 (no decoding): each detector is one regular-expression
 * pass over the file, and only the hits are placed in their column (tabs counted back to the line start). The
 * files of tables copied unchanged are scanned from the input snapshot while the database works.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { DatabaseRole, ManifestTable } from '../snapshot/index.ts';
import { UsageError } from '../errors.ts';
import type { DetectorKind, Hit, Identity } from './detect.ts';
import { DETECTORS, IdentityMatcher, detect, maskSample } from './detect.ts';
import type { Encoding } from './scrub.ts';
import { encodingOf } from './scrub.ts';

const gunzip = promisify(zlib.gunzip);

export interface Allowance {
  database: DatabaseRole;
  table: string;
  /** A column name, or * for every column of the table. */
  column: string;
  reason: string;
}

/** Parses `--allow db.table.column=reason` (reason required). */
export function parseAllowance(spec: string): Allowance {
  const m = /^(glpi|ocs)\.([A-Za-z0-9_$]+)\.([A-Za-z0-9_$]+|\*)=(.*)$/s.exec(spec.trim());
  const reason = m?.[4]
    .trim()
    .replace(/^"(.*)"$/s, '$1')
    .trim();
  if (!m || !reason) {
    throw new UsageError(`--allow needs DATABASE.TABLE.COLUMN="reason" (database glpi or ocs, a reason saying why what remains is not personal data), not "${spec}"`, {
      hint: 'e.g. --allow glpi.glpi_softwares.name="publisher names, not people"',
    });
  }
  return { database: m[1] as DatabaseRole, table: m[2], column: m[3], reason };
}

export interface SweepColumn {
  database: DatabaseRole;
  table: string;
  column: string;
  /** Hits by detector, pseudonyms this run wrote left out. */
  hits: Partial<Record<DetectorKind, number>>;
  total: number;
  /** A few hits, masked (first and last characters only). */
  samples: string[];
  /** Set when the column is allowed: the reason given. */
  allowed?: string;
}

export interface SweepReport {
  detectors: DetectorKind[];
  scanned: { tables: number; columns: number; bytes: number };
  /** Identities looked for (distinct original values of the identity columns). */
  identities: number;
  elapsedMs: number;
  /** Hits in columns that are not allowed: 0 is the goal; anonymize exits with code 8 otherwise. */
  remaining: number;
  /** Detected values that are this run's own results (pseudonymous addresses, phones, MACs), not counted. */
  pseudonymsRecognised: number;
  columns: SweepColumn[];
  allowances: Array<{ column: string; reason: string; hits: number }>;
}

interface ColumnDef {
  name: string;
  text: boolean;
  enc: Encoding;
  noIpv4: boolean;
}

/** Columns of a CREATE TABLE (as SHOW CREATE TABLE renders it): name, whether it holds text, its charset. */
export function parseSchema(createText: string): { columns: Map<string, ColumnDef>; tableEnc: Encoding } {
  const create = createText.slice(createText.search(/CREATE\s+TABLE/i));
  const tableCharset = /DEFAULT CHARSET=([A-Za-z0-9_]+)/i.exec(create)?.[1] ?? 'utf8mb4';
  const tableEnc = encodingOf(tableCharset);
  const columns = new Map<string, ColumnDef>();
  for (const m of create.matchAll(/^ {2}`((?:[^`]|``)+)` ([a-z]+)(.*)$/gm)) {
    const name = m[1].replace(/``/g, '`');
    const type = m[2].toLowerCase();
    const rest = m[3];
    const text = /^(char|varchar|tinytext|text|mediumtext|longtext)$/.test(type) && !/CHARACTER SET binary/i.test(rest);
    const cs = /CHARACTER SET ([A-Za-z0-9_]+)/i.exec(rest)?.[1];
    columns.set(name.toLowerCase(), { name, text, enc: cs ? encodingOf(cs) : tableEnc, noIpv4: false });
  }
  return { columns, tableEnc };
}

const MAX_VALUES = 5000;
const CHUNK = 4 * 1024 * 1024;

interface Acc {
  database: DatabaseRole;
  table: string;
  column: string;
  /** value (lower-case byte view) → count, by kind; overflow counts hits past MAX_VALUES distinct values. */
  values: Map<DetectorKind, Map<string, { n: number; text: string }>>;
  overflow: Partial<Record<DetectorKind, number>>;
}

export class Sweep {
  private readonly acc = new Map<string, Acc>();
  private tables = 0;
  private columns = 0;
  private bytes = 0;
  private readonly started = Date.now();
  private readonly matchers: Record<Encoding, IdentityMatcher>;
  private pseudonyms: Set<string> | undefined;
  private recognisedEarly = 0;

  constructor(readonly identities: Identity[]) {
    this.matchers = { utf8: new IdentityMatcher(identities, 'utf8'), latin1: new IdentityMatcher(identities, 'latin1') };
  }

  /** The values this run wrote, once known: hits equal to one are recognised as they are found. */
  setPseudonyms(p: Set<string>): void {
    this.pseudonyms = p;
  }

  /**
   * Columns rewritten by a `hash` rule of format ip, mac, phone or email (`db.table.column` lower case → the
   * detector kinds of that format): what the sweep finds of that kind there is the rule's own result (or a
   * kept value); it is recognised, and remembered as a pseudonym wherever else it appears.
   */
  private readonly ruleColumns = new Map<string, DetectorKind[]>();
  private readonly written = new Set<string>();
  addRuleColumn(database: DatabaseRole, table: string, column: string, format: string): void {
    const kinds: Partial<Record<string, DetectorKind[]>> = { ip: ['ipv4', 'ipv6'], mac: ['mac'], phone: ['phone'], email: ['email'] };
    const k = kinds[format];
    if (k) this.ruleColumns.set(`${database}.${table}.${column}`.toLowerCase(), k);
  }

  private record(database: DatabaseRole, table: string, column: string, h: Hit): void {
    const key = `${database}.${table}.${column}`;
    if (this.ruleColumns.get(key.toLowerCase())?.includes(h.kind)) {
      this.written.add(h.text.toLowerCase());
      this.recognisedEarly++;
      return;
    }
    if (h.kind !== 'identity' && (this.pseudonyms?.has(h.text.toLowerCase()) || this.written.has(h.text.toLowerCase()))) {
      this.recognisedEarly++;
      return;
    }
    let a = this.acc.get(key);
    if (!a) {
      a = { database, table, column, values: new Map(), overflow: {} };
      this.acc.set(key, a);
    }
    let m = a.values.get(h.kind);
    if (!m) {
      m = new Map();
      a.values.set(h.kind, m);
    }
    const v = h.text.toLowerCase();
    const e = m.get(v);
    if (e) e.n++;
    else if (m.size < MAX_VALUES) m.set(v, { n: 1, text: h.text });
    else a.overflow[h.kind] = (a.overflow[h.kind] ?? 0) + 1;
  }

  /** Scans one table's data files (paths relative to `dir`). */
  async scanTable(dir: string, role: DatabaseRole, t: ManifestTable): Promise<void> {
    const schemaText = zlib.gunzipSync(await fsp.readFile(path.join(dir, t.files[0].path))).toString('utf8');
    const { columns: defs, tableEnc } = parseSchema(schemaText);
    const order = (t.columns?.map((c) => c.name) ?? [...defs.values()].map((d) => d.name)).map((n) => defs.get(n.toLowerCase()) ?? { name: n, text: false, enc: tableEnc, noIpv4: false });
    const versionTable = /version/i.test(t.name);
    for (const d of order) d.noIpv4 = versionTable || /version/i.test(d.name);
    const textCols = order.filter((d) => d.text);
    this.tables++;
    this.columns += textCols.length;
    if (textCols.length === 0) return;
    const encs = [...new Set(textCols.map((d) => d.enc))];
    for (const f of t.files.slice(1)) {
      if (f.rows === 0) continue;
      const buf = await gunzip(await fsp.readFile(path.join(dir, f.path)));
      this.bytes += buf.length;
      const all = buf.toString('latin1');
      // Whole lines, a few MiB at a time, letting other work (the new snapshot's reads) run in between.
      for (let from = 0; from < all.length; ) {
        let to = from + CHUNK;
        if (to >= all.length) to = all.length;
        else {
          const nl = all.indexOf('\n', to);
          to = nl === -1 ? all.length : nl + 1;
        }
        const text = all.slice(from, to);
        from = to;
        encs.forEach((enc, i) => {
          // Identities are looked for in each character set's bytes; the other detectors once (ASCII).
          const hits = detect(text, { identities: this.matchers[enc], identitiesOnly: i > 0 });
          this.place(text, hits, order, role, t.name, (h, d) => (h.kind === 'identity' ? d.enc === enc : i === 0));
        });
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  private place(text: string, hits: Hit[], order: ColumnDef[], role: DatabaseRole, table: string, want: (h: Hit, d: ColumnDef) => boolean): void {
    let lineStart = -1;
    let lineEnd = -1;
    let pos = 0;
    let col = 0;
    for (const h of hits) {
      if (lineStart < 0 || h.index < pos || (lineEnd !== -1 && h.index > lineEnd)) {
        lineStart = text.lastIndexOf('\n', h.index - 1) + 1;
        lineEnd = text.indexOf('\n', h.index);
        pos = lineStart;
        col = 0;
      }
      for (let i = text.indexOf('\t', pos); i !== -1 && i < h.index; i = text.indexOf('\t', i + 1)) {
        col++;
        pos = i + 1;
      }
      const d = order[col];
      if (!d?.text || !want(h, d)) continue;
      if (h.kind === 'ipv4' && d.noIpv4) continue;
      this.record(role, table, d.name, h);
    }
  }

  /** The report: pseudonyms written by this run left out, allowances applied. */
  finish(allow: Allowance[], pseudonyms: Set<string>): SweepReport {
    const identities = this.matchers.utf8.size;
    const columns: SweepColumn[] = [];
    let recognised = this.recognisedEarly;
    const usedAllow = new Map<Allowance, number>();
    for (const a of [...this.acc.values()].sort((x, y) => `${x.database}.${x.table}.${x.column}`.localeCompare(`${y.database}.${y.table}.${y.column}`))) {
      const hits: Partial<Record<DetectorKind, number>> = {};
      const samples: string[] = [];
      let total = 0;
      for (const kind of DETECTORS) {
        const m = a.values.get(kind);
        let n = a.overflow[kind] ?? 0;
        for (const [v, e] of m ?? []) {
          if (kind !== 'identity' && (pseudonyms.has(v) || this.written.has(v))) {
            recognised += e.n;
            continue;
          }
          n += e.n;
          if (samples.length < 3) samples.push(`${kind}: ${maskSample(kind, e.text)}`);
        }
        if (n > 0) {
          hits[kind] = n;
          total += n;
        }
      }
      if (total === 0) continue;
      const al = allow.find((x) => x.database === a.database && x.table.toLowerCase() === a.table.toLowerCase() && (x.column === '*' || x.column.toLowerCase() === a.column.toLowerCase()));
      if (al) usedAllow.set(al, (usedAllow.get(al) ?? 0) + total);
      columns.push({ database: a.database, table: a.table, column: a.column, hits, total, samples, ...(al ? { allowed: al.reason } : {}) });
    }
    return {
      detectors: [...DETECTORS],
      scanned: { tables: this.tables, columns: this.columns, bytes: this.bytes },
      identities,
      elapsedMs: Date.now() - this.started,
      remaining: columns.filter((c) => !c.allowed).reduce((s, c) => s + c.total, 0),
      pseudonymsRecognised: recognised,
      columns,
      allowances: allow.map((x) => ({ column: `${x.database}.${x.table}.${x.column}`, reason: x.reason, hits: usedAllow.get(x) ?? 0 })),
    };
  }
}
