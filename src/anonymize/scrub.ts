/**
 * Free text (method `scrub`): the text is kept, and what identifies somebody inside it is replaced with the
 * value the rules give it in its own column: a login or a name quoted in a ticket becomes the pseudonym the
 * user table got, an e-mail address, a phone number, an IP or MAC address the value the `email`, `phone`,
 * `ip` and `mac` namespaces give it. Replacements are ASCII letters, digits and `-.:@`, so HTML (GLPI 0.83
 * stores it entity-encoded: &lt;p&gt;…) stays as valid as it was, and the bytes around are untouched.
 *
 * Rows are read by primary key, rewritten in the tool, and the changed ones written back through a temporary
 * table in one UPDATE per column.
 */
import type { Connection } from 'mysql2/promise';
import type { AnonymizeRule, RuleSet } from './rules.ts';
import { namespaceOf } from './rules.ts';
import type { DetectorKind, Hit, Identity } from './detect.ts';
import { IdentityMatcher, detect, isKept, ruleValue } from './detect.ts';
import { qi } from './sql.ts';

export type Encoding = 'utf8' | 'latin1';

export function encodingOf(charset: string | null | undefined): Encoding {
  return charset && /^latin1$/i.test(charset) ? 'latin1' : 'utf8';
}

/** What scrubbing needs: the salt, the rules of the detected kinds, the identities by character set. */
export class Scrubber {
  readonly matchers: Record<Encoding, IdentityMatcher>;
  /** Every value written by a replacement (lower case, byte view): the sweep recognises them as pseudonyms. */
  readonly emitted = new Set<string>();
  private readonly kindRule: Partial<Record<DetectorKind, AnonymizeRule>>;

  constructor(
    readonly salt: string,
    ruleSet: RuleSet,
    readonly identities: Identity[],
  ) {
    this.matchers = { utf8: new IdentityMatcher(identities, 'utf8'), latin1: new IdentityMatcher(identities, 'latin1') };
    const byNs = (ns: string) => ruleSet.rules.find((r) => (r.method === 'hash' || r.method === 'pseudonym') && namespaceOf(r) === ns);
    const ip = byNs('ip');
    this.kindRule = { email: byNs('email'), phone: byNs('phone'), ipv4: ip, ipv6: ip, mac: byNs('mac') };
  }

  /** The replacement of a hit (byte view), or undefined to leave it. */
  private replacement(h: Hit, enc: Encoding): string | undefined {
    if (h.kind === 'identity') {
      const id = h.identity!;
      return ruleValue(id.rule, this.salt, id.value, Buffer.from(h.text, 'latin1').toString(enc));
    }
    const rule = this.kindRule[h.kind];
    if (!rule || isKept(rule, h.text)) return undefined;
    return ruleValue(rule, this.salt, h.text);
  }

  /** Rewrites a byte-view text; counts the replacements by kind into `counts`. */
  scrub(view: string, enc: Encoding, counts: Partial<Record<DetectorKind, number>>, columnName = ''): string {
    const hits = detect(view, { identities: this.matchers[enc], noIpv4: /version/i.test(columnName) });
    if (hits.length === 0) return view;
    let out = '';
    let at = 0;
    for (const h of hits) {
      const r = this.replacement(h, enc);
      if (r === undefined) continue;
      out += view.slice(at, h.index) + r;
      at = h.index + h.text.length;
      counts[h.kind] = (counts[h.kind] ?? 0) + 1;
      this.emitted.add(r.toLowerCase());
    }
    return at === 0 ? view : out + view.slice(at);
  }
}

async function primaryKey(conn: Connection, db: string, table: string): Promise<string[]> {
  const [rows] = await conn.query(`SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, [db, table]);
  return (rows as Array<{ c: string }>).map((r) => r.c);
}

const PAGE_ROWS = 2000;
const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Scrubs one column in place. Returns the rows changed and the replacements by kind. With a single-column
 * primary key: paged reads, changed rows written back by key; otherwise: by distinct value.
 */
export async function scrubColumn(
  conn: Connection,
  db: string,
  table: string,
  column: { name: string; charset: string | null },
  onUpdate: string[],
  scrubber: Scrubber,
): Promise<{ rowsChanged: number; replacements: Partial<Record<DetectorKind, number>> }> {
  const t = `${qi(db)}.${qi(table)}`;
  const col = qi(column.name);
  const enc = encodingOf(column.charset);
  const counts: Partial<Record<DetectorKind, number>> = {};
  /**
   * Rewrites a page of values in one pass: joined with NUL bytes (no detector matches across one; values
   * holding one are done alone), scrubbed, split again. Undefined where a value is unchanged.
   */
  const rewritePage = (values: Buffer[]): Array<Buffer | undefined> => {
    const views = values.map((b) => b.toString('latin1'));
    const out: Array<string | undefined> = new Array(views.length);
    const joinable: number[] = [];
    views.forEach((v, i) => {
      if (v.includes('\u0000')) out[i] = scrubber.scrub(v, enc, counts, column.name);
      else joinable.push(i);
    });
    if (joinable.length > 0) {
      const parts = scrubber.scrub(joinable.map((i) => views[i]).join('\u0000'), enc, counts, column.name).split('\u0000');
      joinable.forEach((i, k) => {
        out[i] = parts[k];
      });
    }
    return out.map((o, i) => (o === undefined || o === views[i] ? undefined : Buffer.from(o, 'latin1')));
  };
  const keep = onUpdate.filter((c) => c !== column.name).map((c) => `t.${qi(c)} = t.${qi(c)}`);
  const pk = await primaryKey(conn, db, table);
  let rowsChanged = 0;
  if (pk.length !== 1) {
    const [rows] = await conn.query(`SELECT DISTINCT BINARY ${col} AS v FROM ${t} WHERE ${col} IS NOT NULL AND ${col} <> ''`);
    const list = rows as Array<{ v: Buffer }>;
    const news = rewritePage(list.map((r) => r.v));
    for (const [i, r] of list.entries()) {
      const nv = news[i];
      if (!nv) continue;
      const [res] = await conn.query(`UPDATE ${t} t SET t.${col} = ?${keep.map((k) => `, ${k}`).join('')} WHERE BINARY t.${col} = ?`, [nv, r.v]);
      rowsChanged += (res as { affectedRows: number }).affectedRows;
    }
    return { rowsChanged, replacements: counts };
  }
  const key = qi(pk[0]);
  const tmp = `${qi(db)}.${qi(`gou_scrub_${column.name.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60))}`;
  await conn.query(`DROP TEMPORARY TABLE IF EXISTS ${tmp}`);
  // The key column as the table's own (same type: the join is by primary key on both sides).
  await conn.query(`CREATE TEMPORARY TABLE ${tmp} (PRIMARY KEY (k)) ENGINE=MyISAM SELECT ${key} AS k, CAST('' AS BINARY) AS v FROM ${t} LIMIT 0`);
  await conn.query(`ALTER TABLE ${tmp} MODIFY v LONGBLOB NOT NULL`);
  try {
    let pending: Array<[unknown, Buffer]> = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      await conn.query(`INSERT INTO ${tmp} (k, v) VALUES ${pending.map(() => '(?, ?)').join(', ')}`, pending.flat());
      pending = [];
      pendingBytes = 0;
    };
    let last: unknown;
    for (;;) {
      const [rows] = await conn.query(
        `SELECT ${key} AS k, BINARY ${col} AS v FROM ${t} WHERE ${col} IS NOT NULL AND ${col} <> ''${last === undefined ? '' : ` AND ${key} > ?`} ORDER BY ${key} LIMIT ${PAGE_ROWS}`,
        last === undefined ? [] : [last],
      );
      const list = rows as Array<{ k: unknown; v: Buffer }>;
      const news = rewritePage(list.map((r) => r.v));
      for (const [i, r] of list.entries()) {
        const nv = news[i];
        if (!nv) continue;
        rowsChanged++;
        pending.push([r.k, nv]);
        pendingBytes += nv.length;
        if (pendingBytes >= BATCH_BYTES || pending.length >= 1000) await flush();
      }
      if (list.length < PAGE_ROWS) break;
      last = list[list.length - 1].k;
    }
    await flush();
    if (rowsChanged > 0) {
      await conn.query(`UPDATE ${t} t JOIN ${tmp} s ON t.${key} = s.k SET t.${col} = s.v${keep.map((k) => `, ${k}`).join('')}`);
    }
  } finally {
    await conn.query(`DROP TEMPORARY TABLE IF EXISTS ${tmp}`).catch(() => undefined);
  }
  return { rowsChanged, replacements: counts };
}
