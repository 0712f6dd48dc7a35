/**
 * GLPI upgrade hazards: what makes GLPI's updater die half-way, refuse to start, or carry damage over
 * silently (see docs/audit.md for the sources of each fact).
 */
import type { AuditCheck, CheckOutcome } from '../check-types.ts';
import { clean, skip } from '../check-types.ts';
import { msg } from '../../i18n/messages.ts';
import type { AuditContext, ColumnCounters } from '../context.ts';
import { TIMESTAMP_MAX, UTF8_IN_LATIN1_PATTERNS, bytePatternsPredicate, doubleEncodedPredicate } from '../context.ts';
import { qi } from '../../db/connect.ts';
import type { SchemaDifference } from '../../db/schema.ts';
import { diffSchemas, formatDifference } from '../../db/schema.ts';
import type { Message } from '../../i18n/messages.ts';

/** A unique key a later GLPI version adds to a table that may already hold colliding rows. */
export interface LaterUniqueKey {
  id: string;
  table: string;
  columns: string[];
  /** The GLPI migration step that adds (or keeps requiring) the key: a version, or a message when it says more. */
  addedIn: string | Message;
  /** The key the 0.83.8 schema already has on these columns, if any (duplicates then mean drift). */
  existsIn083?: string;
  /** Whether a real update was seen dying on it (our rehearsal or a GLPI issue). */
  seen: string;
  migration?: string;
  manual?: Message;
  /** String columns: samples show row ids, not values (they may be personal data). */
  stringColumns?: boolean;
}

/** Data: every unique key GLPI adds after 0.83.8 on a table that exists in 0.83.8 (computed from GLPI's reference schemas). */
export const LATER_UNIQUE_KEYS: LaterUniqueKey[] = [
  {
    id: 'glpi.duplicates.slalevels_tickets',
    table: 'glpi_slalevels_tickets',
    columns: ['tickets_id', 'slalevels_id'],
    addedIn: '9.1',
    seen: "rehearsal: 10.0.19 db:update exit 1, Duplicate entry for key 'unicity'",
    migration: 'glpi-dedup-slalevels-tickets',
  },
  {
    id: 'glpi.duplicates.states',
    table: 'glpi_states',
    columns: ['states_id', 'name'],
    addedIn: '9.2',
    seen: 'glpi-project/glpi#2847 (Duplicate entry 0-Active)',
    migration: 'glpi-rename-duplicate-states',
    stringColumns: true,
  },
  {
    id: 'glpi.duplicates.tickets_tickets',
    table: 'glpi_tickets_tickets',
    columns: ['tickets_id_1', 'tickets_id_2'],
    addedIn: '9.2',
    seen: 'reference schemas (non-unique in 0.83.8, unique from 9.2); not yet rehearsed',
    migration: 'glpi-dedup-tickets-tickets',
  },
  {
    id: 'glpi.duplicates.tickettemplatehiddenfields',
    table: 'glpi_tickettemplatehiddenfields',
    columns: ['tickettemplates_id', 'num'],
    addedIn: '9.2',
    seen: 'reference schemas (non-unique in 0.83.8, unique from 9.2); not yet rehearsed',
    migration: 'glpi-dedup-tickettemplatehiddenfields',
  },
  {
    id: 'glpi.duplicates.tickettemplatemandatoryfields',
    table: 'glpi_tickettemplatemandatoryfields',
    columns: ['tickettemplates_id', 'num'],
    addedIn: '9.2',
    seen: 'reference schemas (non-unique in 0.83.8, unique from 9.2); not yet rehearsed',
    migration: 'glpi-dedup-tickettemplatemandatoryfields',
  },
  {
    id: 'glpi.duplicates.reservationitems',
    table: 'glpi_reservationitems',
    columns: ['itemtype', 'items_id'],
    addedIn: '10.0',
    seen: 'reference schemas (non-unique in 0.83.8, unique in 10.0); not yet rehearsed',
    stringColumns: true,
    manual: msg('audit.remedy.glpi.duplicates.reservationitems', {}),
  },
  {
    id: 'glpi.duplicates.documentcategories',
    table: 'glpi_documentcategories',
    columns: ['name'],
    addedIn: msg('audit.added-in.glpi.duplicates.documentcategories', {}),
    seen: 'reference schemas (no key in 0.83.8, unique from 9.2); not yet rehearsed',
    stringColumns: true,
    manual: msg('audit.remedy.glpi.duplicates.documentcategories', {}),
  },
  {
    id: 'glpi.duplicates.users',
    table: 'glpi_users',
    columns: ['name', 'authtype', 'auths_id'],
    addedIn: '9.3',
    existsIn083: 'unicity (name)',
    seen: 'reference schemas (unique key changed in 9.3); duplicates exist only if the 0.83.8 key was dropped',
    migration: 'glpi-rename-duplicate-users',
    stringColumns: true,
  },
  {
    id: 'glpi.duplicates.computers_softwareversions',
    table: 'glpi_computers_softwareversions',
    columns: ['computers_id', 'softwareversions_id'],
    addedIn: msg('audit.added-in.glpi.duplicates.computers_softwareversions', {}),
    existsIn083: 'unicity (computers_id, softwareversions_id)',
    seen: 'reference schemas; duplicates exist only if the 0.83.8 key was dropped',
    migration: 'glpi-dedup-computers-softwareversions',
  },
  {
    id: 'glpi.duplicates.documents_items',
    table: 'glpi_documents_items',
    columns: ['documents_id', 'itemtype', 'items_id'],
    addedIn: msg('audit.added-in.glpi.duplicates.documents_items', {}),
    existsIn083: 'unicity (documents_id, itemtype, items_id)',
    seen: 'reference schemas; duplicates exist only if the 0.83.8 key was dropped',
    migration: 'glpi-dedup-documents-items',
    stringColumns: true,
  },
  {
    id: 'glpi.duplicates.displaypreferences',
    table: 'glpi_displaypreferences',
    columns: ['users_id', 'itemtype', 'num'],
    addedIn: msg('audit.added-in.glpi.duplicates.displaypreferences', {}),
    existsIn083: 'unicity (users_id, itemtype, num)',
    seen: 'rehearsal: key missing → db:update exit 4; glpi-project/glpi#5658',
    migration: 'glpi-dedup-displaypreferences',
    stringColumns: true,
  },
];

/** Counts rows beyond the first of each duplicate group (NULL keys never collide). */
export async function duplicateGroups(ctx: AuditContext, which: 'glpi' | 'ocs', table: string, columns: string[], stringColumns: boolean): Promise<CheckOutcome> {
  const t = ctx.t(which, table);
  const cols = columns.map(qi).join(', ');
  const notNull = columns.map((c) => `${qi(c)} IS NOT NULL`).join(' AND ');
  const [agg] = await ctx.rows<{ g: number | string; x: number | string | null }>(
    which,
    `SELECT COUNT(*) AS g, SUM(n - 1) AS x FROM (SELECT COUNT(*) AS n FROM ${t} WHERE ${notNull} GROUP BY ${cols} HAVING COUNT(*) > 1) d`,
  );
  const extra = Number(agg?.x ?? 0);
  if (extra === 0) return clean();
  const sampleCols = stringColumns ? '' : `${cols}, `;
  const samples = await ctx.rows<Record<string, unknown>>(
    which,
    `SELECT ${sampleCols}COUNT(*) AS n${(await ctx.hasColumns(which, table, ['id'])) ? ', GROUP_CONCAT(id ORDER BY id) AS ids' : ''}
       FROM ${t} WHERE ${notNull} GROUP BY ${cols} HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC LIMIT ${ctx.options.samples}`,
  );
  return {
    count: extra,
    evidence: {
      table,
      key: columns,
      groups: Number(agg.g),
      rowsToRemove: extra,
      samples: samples.map((s) => ({ ...s, n: Number(s.n), ids: typeof s.ids === 'string' ? s.ids.split(',').map(Number) : undefined })),
    },
  };
}

function duplicateCheck(k: LaterUniqueKey): AuditCheck {
  const confirmed = k.seen.startsWith('rehearsal') || k.seen.includes('#');
  return {
    id: k.id,
    family: 'glpi-upgrade',
    title: msg('audit.title.duplicates', { table: k.table, columns: k.columns, addedIn: k.addedIn }),
    appliesTo: { needs: ['glpi'], glpiVersions: ['0.80'], steps: ['glpi-db-update'] },
    severity: confirmed ? 'bloquante' : 'majeure',
    remedy: k.migration ? { migration: k.migration } : { manual: k.manual },
    async run(ctx) {
      if (!(await ctx.hasTable('glpi', k.table))) return skip(msg('audit.skip.no-table', { table: k.table }));
      if (!(await ctx.hasColumns('glpi', k.table, k.columns))) {
        return skip(msg('audit.skip.columns-missing', { table: k.table, columns: k.columns }));
      }
      const r = await duplicateGroups(ctx, 'glpi', k.table, k.columns, Boolean(k.stringColumns));
      if (r.count > 0) r.evidence = { ...r.evidence, seen: k.seen, ...(k.existsIn083 ? { keyIn083: k.existsIn083 } : {}) };
      return r;
    },
  };
}

type Counter = keyof ColumnCounters;

/** Row ids of the three worst columns matching a predicate (evidence the admin can look up). */
async function sampleIds(ctx: AuditContext, columns: Record<string, number>, predicate: (quotedColumn: string) => string): Promise<Record<string, number[]>> {
  const worst = Object.entries(columns)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  const out: Record<string, number[]> = {};
  for (const [key] of worst) {
    const [table, column] = key.split('.');
    if (!(await ctx.hasColumns('glpi', table, ['id']))) continue;
    const rows = await ctx.rows<{ id: number }>('glpi', `SELECT id FROM ${ctx.t('glpi', table)} WHERE ${predicate(qi(column))} ORDER BY id LIMIT ${ctx.options.samples}`);
    out[key] = rows.map((x) => Number(x.id));
  }
  return out;
}

/** Tables GLPI's reference schemas themselves create in latin1 (up to 9.5). */
export const LATIN1_BY_DESIGN = ['glpi_notimportedemails'];

/** Sums one counter of the column profile, per table.column, over tables matching `tables`. */
async function profileCount(ctx: AuditContext, counter: Counter, tables: (t: string) => boolean = () => true): Promise<CheckOutcome> {
  const { total, columns } = await profileColumns(ctx, counter, tables);
  if (total === 0) return clean();
  return { count: total, evidence: { columns } };
}

/** profileCount, plus the ids of some rows found in each column (evidence.sampleIds). */
async function profileSample(ctx: AuditContext, counter: Counter, predicate: (quotedColumn: string) => string): Promise<CheckOutcome> {
  const { total, columns } = await profileColumns(ctx, counter);
  if (total === 0) return clean();
  return { count: total, evidence: { columns, sampleIds: await sampleIds(ctx, columns, predicate) } };
}

/** The columns where the profile counted `counter` ("table.column" → count), and their total. */
async function profileColumns(ctx: AuditContext, counter: Counter, tables: (t: string) => boolean = () => true): Promise<{ total: number; columns: Record<string, number> }> {
  const profile = await ctx.glpiProfile();
  const columns: Record<string, number> = {};
  let total = 0;
  for (const [table, cols] of profile) {
    if (!tables(table)) continue;
    for (const [col, counters] of cols) {
      const n = counters[counter] ?? 0;
      if (n > 0) {
        columns[`${table}.${col}`] = n;
        total += n;
      }
    }
  }
  return { total, columns };
}

export const GLPI_CHECKS: AuditCheck[] = [
  ...LATER_UNIQUE_KEYS.map(duplicateCheck),
  {
    id: 'glpi.dates.zero_values',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.dates.zero_values', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update', 'glpi-console'] },
    severity: 'mineure',
    remedy: { migration: 'glpi-null-zero-dates' },
    async run(ctx) {
      const r = await profileCount(ctx, 'zeroDates');
      if (r.count > 0) {
        r.evidence.note = 'GLPI 10.0 db:update turns these into NULL itself (steps 10.0.2 and 10.0.8); the corrective migration is optional, for other paths';
      }
      return r;
    },
  },
  {
    id: 'glpi.dates.zero_defaults',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.dates.zero_defaults', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.glpi.dates.zero_defaults', {}),
    },
    async run(ctx) {
      const cols = (await ctx.glpiColumns()).filter((c) => ['date', 'datetime', 'timestamp'].includes(c.dataType) && c.default !== null && /^0000-00-00/.test(c.default));
      if (cols.length === 0) return clean();
      return { count: cols.length, evidence: { columns: cols.map((c) => `${c.table}.${c.column}`) } };
    },
  },
  {
    id: 'glpi.dates.after_2038',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.dates.after_2038', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.glpi.dates.after_2038', { max: TIMESTAMP_MAX }),
    },
    run: (ctx) => profileCount(ctx, 'after2038'),
  },
  {
    id: 'glpi.ids.negative',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.ids.negative', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.glpi.ids.negative', {}),
    },
    run: (ctx) => profileCount(ctx, 'negative'),
  },
  {
    id: 'glpi.ids.oversized',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.ids.oversized', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'bloquante',
    remedy: {
      manual: msg('audit.remedy.glpi.ids.oversized', {}),
    },
    run: (ctx) => profileCount(ctx, 'oversized'),
  },
  {
    id: 'glpi.text.double_encoded',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.text.double_encoded', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.glpi.text.double_encoded', {}),
    },
    run: (ctx) => profileSample(ctx, 'doubleEncoded', doubleEncodedPredicate),
  },
  {
    id: 'glpi.text.replacement_chars',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.text.replacement_chars', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.glpi.text.replacement_chars', {}),
    },
    run: (ctx) => profileSample(ctx, 'replacementChars', (q) => `LOCATE(X'EFBFBD', BINARY ${q}) > 0`),
  },
  {
    id: 'glpi.text.latin1_holding_utf8',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.text.latin1_holding_utf8', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.glpi.text.latin1_holding_utf8', {}),
    },
    run: (ctx) => profileSample(ctx, 'latin1HoldingUtf8', (q) => bytePatternsPredicate(q, UTF8_IN_LATIN1_PATTERNS)),
  },
  {
    id: 'glpi.text.large_values',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.text.large_values', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update', 'glpi-console'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.glpi.text.large_values', {}),
    },
    run: (ctx) => profileCount(ctx, 'largeValues'),
  },
  {
    id: 'glpi.tables.mixed_engines',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.tables.mixed_engines', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.glpi.tables.mixed_engines', {}),
    },
    async run(ctx) {
      const byEngine: Record<string, string[]> = {};
      for (const t of (await ctx.glpiTables()).values()) {
        if (t.type !== 'BASE TABLE') continue;
        byEngine[t.engine ?? 'none'] ??= [];
        byEngine[t.engine ?? 'none'].push(t.name);
      }
      const engines = Object.keys(byEngine);
      if (engines.length <= 1) return clean({ engines: Object.fromEntries(engines.map((e) => [e, byEngine[e].length])) });
      const major = engines.sort((a, b) => byEngine[b].length - byEngine[a].length)[0];
      const minority = engines.filter((e) => e !== major).flatMap((e) => byEngine[e]);
      return {
        count: minority.length,
        evidence: { engines: Object.fromEntries(engines.map((e) => [e, byEngine[e].length])), majority: major, others: minority.slice(0, 50) },
      };
    },
  },
  {
    id: 'glpi.tables.mixed_collations',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.tables.mixed_collations', {}),
    appliesTo: { needs: ['glpi'], glpiVersions: ['0.78', '10.0'], steps: ['glpi-db-update'] },
    severity: 'bloquante',
    remedy: {
      manual: msg('audit.remedy.glpi.tables.mixed_collations', {}),
    },
    async run(ctx) {
      const expected = 'utf8_unicode_ci';
      const okColl = (c: string | null) => c === null || c === expected || c === 'utf8mb3_unicode_ci';
      // GLPI's own schema creates glpi_notimportedemails in latin1 (0.83 … 9.5): not a drift.
      const glpiTable = (n: string) => n.startsWith('glpi_') && !n.startsWith('glpi_plugin_') && !LATIN1_BY_DESIGN.includes(n);
      const tables = [...(await ctx.glpiTables()).values()].filter((t) => t.type === 'BASE TABLE' && glpiTable(t.name) && !okColl(t.collation));
      const cols = (await ctx.glpiColumns()).filter((c) => glpiTable(c.table) && c.collation !== null && !okColl(c.collation));
      const affected = new Set([...tables.map((t) => t.name), ...cols.map((c) => c.table)]);
      if (affected.size === 0) return clean();
      const out: CheckOutcome = {
        count: affected.size,
        evidence: {
          expected,
          tables: Object.fromEntries(tables.map((t) => [t.name, t.collation])),
          columns: Object.fromEntries(cols.slice(0, 100).map((c) => [`${c.table}.${c.column}`, c.collation])),
        },
      };
      if (affected.size === 1 && affected.has('glpi_computers')) out.remedy = { migration: 'glpi-repair-charset-computers' };
      return out;
    },
  },
  {
    id: 'glpi.tables.row_size',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.tables.row_size', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update', 'glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.glpi.tables.row_size', {}),
    },
    async run(ctx) {
      const compact = [...(await ctx.glpiTables()).values()]
        .filter((t) => t.type === 'BASE TABLE' && (t.engine ?? '').toLowerCase() === 'innodb' && /^(compact|redundant)$/i.test(t.rowFormat ?? ''))
        .map((t) => t.name);
      const width = new Map<string, number>();
      for (const c of await ctx.glpiColumns()) {
        width.set(c.table, (width.get(c.table) ?? 0) + utf8mb4Bytes(c.columnType, c.dataType));
      }
      const wide = [...width.entries()].filter(([, w]) => w > 65_535).map(([t, w]) => ({ table: t, bytes: w }));
      const n = new Set([...compact, ...wide.map((w) => w.table)]).size;
      if (n === 0) return clean();
      return { count: n, evidence: { compactOrRedundant: compact, tooWideInUtf8mb4: wide } };
    },
  },
  {
    id: 'glpi.schema.drift',
    family: 'glpi-upgrade',
    title: msg('audit.title.glpi.schema.drift', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'bloquante',
    remedy: {
      manual: msg('audit.remedy.glpi.schema.drift', {}),
    },
    async run(ctx) {
      const ref = await ctx.reference('glpi');
      if ('missing' in ref) return skip(ref.missing);
      const { describeSchema } = await import('../../db/schema.ts');
      const actual = await describeSchema(ctx.glpi!.conn, ctx.glpi!.database);
      return driftOutcome(ref.shape, actual, ref.file, (n) => n.startsWith('glpi_') && !n.startsWith('glpi_plugin_'));
    },
  },
];

/** Worst-case in-row bytes of a column once converted to utf8mb4 (TEXT/BLOB count as their 12-byte pointer). */
export function utf8mb4Bytes(columnType: string, dataType: string): number {
  const len = Number(/\((\d+)/.exec(columnType)?.[1] ?? 0);
  switch (dataType) {
    case 'varchar':
      return len * 4 + (len * 4 > 255 ? 2 : 1);
    case 'char':
      return len * 4;
    case 'varbinary':
      return len + 2;
    case 'binary':
      return len;
    case 'tinyint':
      return 1;
    case 'smallint':
      return 2;
    case 'mediumint':
      return 3;
    case 'int':
    case 'float':
    case 'date':
    case 'timestamp':
      return 4;
    case 'bigint':
    case 'double':
    case 'datetime':
      return 8;
    case 'decimal':
      return Math.ceil(len / 2) + 1;
    default:
      return 12;
  }
}

/** Integer display widths vanish on MySQL 8: compare types without them. */
function normaliseType(t: unknown): unknown {
  return typeof t === 'string' ? t.replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1') : t;
}

export function driftOutcome(expected: Parameters<typeof diffSchemas>[0], actual: Parameters<typeof diffSchemas>[1], file: string, inScope: (table: string) => boolean): CheckOutcome {
  const diffs = diffSchemas(expected, actual, { ignoreTables: (n) => !inScope(n) }).filter((d: SchemaDifference) => {
    if (d.kind === 'table-option' && d.option === 'engine') return false;
    if (d.kind === 'altered-column' && d.field === 'type' && normaliseType(d.expected) === normaliseType(d.actual)) return false;
    if (d.kind === 'altered-column' && d.field === 'collation' && String(d.expected).replace('utf8mb3', 'utf8') === String(d.actual).replace('utf8mb3', 'utf8')) return false;
    if (d.kind === 'table-option' && d.option === 'collation' && String(d.expected).replace('utf8mb3', 'utf8') === String(d.actual).replace('utf8mb3', 'utf8')) return false;
    return true;
  });
  const extraTables = diffs.filter((d) => d.kind === 'extra-table').map((d) => d.table);
  const real = diffs.filter((d) => d.kind !== 'extra-table');
  const base = file.split(/[\\/]/).pop();
  if (real.length === 0) return clean({ reference: base, extraTables });
  const tables = [...new Set(real.map((d) => d.table))];
  return {
    count: real.length,
    evidence: { reference: base, tables, differences: real.slice(0, 100).map(formatDifference), extraTables },
  };
}
