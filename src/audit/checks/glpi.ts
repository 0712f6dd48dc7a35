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
import { literal, type Lang, type Message } from '../../i18n/messages.ts';
import { render } from '../../i18n/render.ts';

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
  manual?: { fr: string; en: string };
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
    manual: {
      fr: 'Avant la mise à jour, pour chaque objet réservable présent en double, reporter ses réservations (glpi_reservations.reservationitems_id) sur une seule ligne de glpi_reservationitems, puis supprimer les autres lignes.',
      en: 'For each reservable item listed twice, move its reservations (glpi_reservations.reservationitems_id) onto one glpi_reservationitems row and delete the others, before the update.',
    },
  },
  {
    id: 'glpi.duplicates.documentcategories',
    table: 'glpi_documentcategories',
    columns: ['name'],
    addedIn: literal(
      '9.2 (documentcategories_id, name), documentcategories_id added as 0 for every row',
      '9.2 sur (documentcategories_id, name), documentcategories_id étant mis à 0 sur toutes les lignes',
    ),
    seen: 'reference schemas (no key in 0.83.8, unique from 9.2); not yet rehearsed',
    stringColumns: true,
    manual: {
      fr: 'Avant la mise à jour, renommer les catégories de documents qui portent le même nom (par exemple en y ajoutant le nom du service) : la 9.2 les place toutes à la racine, sous une clé unique.',
      en: 'Rename the document categories that share a name (e.g. add the department) before the update: 9.2 puts them all at the root level under a unique key.',
    },
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
    addedIn: literal('9.5 (glpi_items_softwareversions: itemtype, items_id, softwareversions_id)', '9.5 sur glpi_items_softwareversions (itemtype, items_id, softwareversions_id)'),
    existsIn083: 'unicity (computers_id, softwareversions_id)',
    seen: 'reference schemas; duplicates exist only if the 0.83.8 key was dropped',
    migration: 'glpi-dedup-computers-softwareversions',
  },
  {
    id: 'glpi.duplicates.documents_items',
    table: 'glpi_documents_items',
    columns: ['documents_id', 'itemtype', 'items_id'],
    addedIn: literal('9.5 (documents_id, itemtype, items_id, timeline_position)', '9.5 sur (documents_id, itemtype, items_id, timeline_position)'),
    existsIn083: 'unicity (documents_id, itemtype, items_id)',
    seen: 'reference schemas; duplicates exist only if the 0.83.8 key was dropped',
    migration: 'glpi-dedup-documents-items',
    stringColumns: true,
  },
  {
    id: 'glpi.duplicates.displaypreferences',
    table: 'glpi_displaypreferences',
    columns: ['users_id', 'itemtype', 'num'],
    addedIn: literal('0.83.8 (unicity, required by every later schema check)', '0.83.8 (« unicity », exigée par les contrôles de schéma de toutes les versions suivantes)'),
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

/** Where the key comes from, in a language. */
export function addedIn(k: LaterUniqueKey, lang: Lang): string {
  return typeof k.addedIn === 'string' ? k.addedIn : render(k.addedIn, lang);
}

function duplicateCheck(k: LaterUniqueKey): AuditCheck {
  const confirmed = k.seen.startsWith('rehearsal') || k.seen.includes('#');
  return {
    id: k.id,
    family: 'glpi-upgrade',
    title: {
      fr: `Doublons dans ${k.table} (${k.columns.join(', ')}) : collision avec la clé unique ajoutée en ${addedIn(k, 'fr')}`,
      en: `Duplicates in ${k.table} (${k.columns.join(', ')}): they collide with the unique key added in ${addedIn(k, 'en')}`,
    },
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
    title: {
      fr: 'Dates nulles « 0000-00-00 » (refusées par les modes SQL stricts et par les conversions migration:*)',
      en: "Zero dates '0000-00-00' (refused by strict SQL modes and by the migration:* conversions)",
    },
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
    title: {
      fr: 'Colonnes de date dont la valeur par défaut est une date nulle (ALTER TABLE refusé en mode strict)',
      en: 'Date columns whose default is a zero date (ALTER TABLE refused under strict modes)',
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: {
        fr: 'Sur l’instance de test, après db:update et avant les commandes migration:*, remettre à NULL la valeur par défaut de chaque colonne listée (ALTER TABLE t MODIFY col <type> DEFAULT NULL) (GLPI #11902).',
        en: 'Set the default of each listed column back to NULL (ALTER TABLE t MODIFY col <type> DEFAULT NULL) on the test instance, after db:update and before the migration:* commands (GLPI #11902).',
      },
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
    title: {
      fr: 'Dates postérieures au 19/01/2038 (migration:timestamps échoue : TIMESTAMP ne peut pas les contenir)',
      en: 'Dates after 2038-01-19 (migration:timestamps fails: TIMESTAMP cannot hold them)',
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: {
        fr: `Avant migration:timestamps, corriger les dates listées ou les ramener avant le ${TIMESTAMP_MAX} (il s’agit souvent de fins de garantie ou de contrat saisies en 2099) (GLPI #10534).`,
        en: `Correct the listed dates or bring them before ${TIMESTAMP_MAX} (often warranty or contract ends typed as 2099) before migration:timestamps (GLPI #10534).`,
      },
    },
    run: (ctx) => profileCount(ctx, 'after2038'),
  },
  {
    id: 'glpi.ids.negative',
    family: 'glpi-upgrade',
    title: {
      fr: 'Identifiants négatifs (migration:unsigned_keys les refuse)',
      en: 'Negative ids (migration:unsigned_keys refuses them)',
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: {
        fr: 'Avant migration:unsigned_keys, pour chaque colonne listée, remplacer les valeurs négatives par 0 (ou par NULL pour les clés qui l’acceptent), après avoir vérifié ce qu’elles signifient.',
        en: 'For each listed column, replace negative values by 0 (or NULL for nullable keys) after checking what they mean, before migration:unsigned_keys.',
      },
    },
    run: (ctx) => profileCount(ctx, 'negative'),
  },
  {
    id: 'glpi.ids.oversized',
    family: 'glpi-upgrade',
    title: {
      fr: 'Identifiants supérieurs à 2 147 483 647 (ils ne tiennent pas dans les clés INT de GLPI)',
      en: "Ids beyond 2,147,483,647 (they do not fit GLPI's INT keys)",
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'bloquante',
    remedy: {
      manual: {
        fr: 'La colonne a été élargie en dehors de GLPI : renuméroter les lignes concernées (et les références à ces lignes) en dessous de 2 147 483 647.',
        en: 'Renumber the rows concerned (and their references) below 2,147,483,647; the column was widened outside GLPI.',
      },
    },
    run: (ctx) => profileCount(ctx, 'oversized'),
  },
  {
    id: 'glpi.text.double_encoded',
    family: 'glpi-upgrade',
    title: {
      fr: 'Texte doublement encodé (UTF-8 relu comme du latin1 puis réencodé, « Ã© » au lieu de « é ») : GLPI le conserve tel quel',
      en: "Double-encoded text (UTF-8 read as latin1 and re-encoded: 'Ã©' instead of 'é'): GLPI keeps it as is",
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'majeure',
    remedy: {
      manual: {
        fr: 'Corriger les valeurs listées, par exemple par UPDATE t SET col = CONVERT(CAST(CONVERT(col USING latin1) AS BINARY) USING utf8) WHERE id IN (…) sur les lignes listées, après un contrôle ligne à ligne (une valeur correcte qui contient « Ã » serait abîmée).',
        en: "Repair the listed values, e.g. UPDATE t SET col = CONVERT(CAST(CONVERT(col USING latin1) AS BINARY) USING utf8) WHERE <listed ids>, after checking each row (a correct value containing 'Ã' would be damaged).",
      },
    },
    run: (ctx) => profileSample(ctx, 'doubleEncoded', doubleEncodedPredicate),
  },
  {
    id: 'glpi.text.replacement_chars',
    family: 'glpi-upgrade',
    title: {
      fr: 'Caractères perdus (U+FFFD « � ») : du texte latin1 est passé par une conversion destructive',
      en: "Lost characters (U+FFFD '�'): latin1 text went through a lossy conversion",
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'mineure',
    remedy: {
      manual: {
        fr: 'Les caractères d’origine ne peuvent plus être retrouvés dans la base : corriger les valeurs listées à la main ou à partir d’une autre source (ancienne sauvegarde, annuaire).',
        en: 'The original characters cannot be recovered from the database: correct the listed values by hand or from another source (an older backup, the directory).',
      },
    },
    run: (ctx) => profileSample(ctx, 'replacementChars', (q) => `LOCATE(X'EFBFBD', BINARY ${q}) > 0`),
  },
  {
    id: 'glpi.text.latin1_holding_utf8',
    family: 'glpi-upgrade',
    title: {
      fr: 'Octets UTF-8 stockés dans des colonnes latin1 : migration:utf8mb4 les transformera en « Ã© »',
      en: "UTF-8 bytes stored in latin1 columns: migration:utf8mb4 will turn them into 'Ã©'",
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: {
        fr: 'Après migration:utf8mb4, réparer les lignes listées : UPDATE t SET col = CONVERT(CAST(CONVERT(col USING latin1) AS BINARY) USING utf8mb4) WHERE id IN (…). Ne pas modifier le schéma avant db:update (glpi_notimportedemails est en latin1 dans le schéma de référence).',
        en: 'After migration:utf8mb4, repair the listed rows: UPDATE t SET col = CONVERT(CAST(CONVERT(col USING latin1) AS BINARY) USING utf8mb4) WHERE id IN (…). Do not change the schema before db:update (glpi_notimportedemails is latin1 in the reference schema).',
      },
    },
    run: (ctx) => profileSample(ctx, 'latin1HoldingUtf8', (q) => bytePatternsPredicate(q, UTF8_IN_LATIN1_PATTERNS)),
  },
  {
    id: 'glpi.text.large_values',
    family: 'glpi-upgrade',
    title: {
      fr: 'Valeurs très longues : TEXT à la limite des 65 535 octets (sans doute tronquées) ou champs d’au moins 1 Mio',
      en: 'Very long values: TEXT at the 65,535-byte limit (probably truncated) or fields of 1 MiB and more',
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update', 'glpi-console'] },
    severity: 'mineure',
    remedy: {
      manual: {
        fr: 'Régler max_allowed_packet à 64 Mio au moins sur les clients de sauvegarde et de restauration et sur le serveur cible ; vérifier les valeurs TEXT à la limite (tronquées à la saisie) et s’assurer qu’une conversion de latin1 en utf8mb4 ne les allonge pas au-delà de cette limite.',
        en: 'Set max_allowed_packet to at least 64 MiB on the dump/restore clients and the target server; check the TEXT values at the limit (truncated when written) and that a latin1 → utf8mb4 conversion does not lengthen them beyond it.',
      },
    },
    run: (ctx) => profileCount(ctx, 'largeValues'),
  },
  {
    id: 'glpi.tables.mixed_engines',
    family: 'glpi-upgrade',
    title: { fr: 'Moteurs de stockage hétérogènes', en: 'Mixed storage engines' },
    appliesTo: { needs: ['glpi'], steps: ['glpi-console'] },
    severity: 'mineure',
    remedy: {
      manual: {
        fr: 'Rien à faire avant la mise à jour : migration:myisam_to_innodb convertit les tables glpi_* ; les tables ocs_glpi_* et backup_* restent en MyISAM et doivent être archivées ou converties à la main.',
        en: 'Nothing before the update: migration:myisam_to_innodb converts the glpi_* tables; ocs_glpi_* and backup_* tables stay MyISAM and must be archived or converted by hand.',
      },
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
    title: {
      fr: 'Tables ou colonnes dont l’interclassement n’est pas utf8_unicode_ci (le contrôle de schéma de GLPI refuse alors la mise à jour)',
      en: "Tables or columns in another character set than utf8_unicode_ci (GLPI's schema check refuses the update)",
    },
    appliesTo: { needs: ['glpi'], glpiVersions: ['0.78', '10.0'], steps: ['glpi-db-update'] },
    severity: 'bloquante',
    remedy: {
      manual: {
        fr: 'Ramener chaque colonne listée à sa définition exacte dans la version d’origine, colonne par colonne (ALTER TABLE t MODIFY col <type> CHARACTER SET utf8 COLLATE utf8_unicode_ci …, et non CONVERT TO, qui change TEXT en MEDIUMTEXT), puis exécuter ALTER TABLE t DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci. Pour glpi_computers : migration corrective glpi-repair-charset-computers.',
        en: 'Bring each listed column back to its exact definition in the source version (ALTER TABLE t MODIFY col <type> CHARACTER SET utf8 COLLATE utf8_unicode_ci …, column by column; not CONVERT TO, which turns TEXT into MEDIUMTEXT), then ALTER TABLE t DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci. For glpi_computers: migration glpi-repair-charset-computers.',
      },
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
    title: {
      fr: 'Tables dont les lignes seront trop grandes pour le format cible (InnoDB COMPACT ou REDUNDANT, ou plus de 65 535 octets en utf8mb4)',
      en: 'Tables whose rows will be too large for the target format (InnoDB COMPACT/REDUNDANT, or over 65,535 bytes in utf8mb4)',
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update', 'glpi-console'] },
    severity: 'majeure',
    remedy: {
      manual: {
        fr: 'Avant db:update, passer les tables InnoDB listées en ROW_FORMAT=DYNAMIC (ALTER TABLE t ROW_FORMAT=DYNAMIC, ou migration:dynamic_row_format) ; pour les tables trop larges en utf8mb4, réduire les colonnes VARCHAR ajoutées en dehors de GLPI (GLPI #7697, #11840).',
        en: 'Switch the listed InnoDB tables to ROW_FORMAT=DYNAMIC (ALTER TABLE t ROW_FORMAT=DYNAMIC, or migration:dynamic_row_format) before db:update; for tables too wide in utf8mb4, shrink the VARCHARs added outside GLPI (GLPI #7697, #11840).',
      },
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
    title: {
      fr: 'Écarts par rapport au schéma de référence de la version déclarée (le contrôle de schéma de GLPI refuse la mise à jour)',
      en: "Schema drift against the reference schema of the version the database claims to be (GLPI's check refuses the update)",
    },
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update'] },
    severity: 'bloquante',
    remedy: {
      manual: {
        fr: 'Sur l’instance de test, ramener chaque table listée à sa définition de référence (colonnes, index, jeux de caractères) ; ne pas utiliser --skip-db-checks, qui laisse l’écart en place (les index manquants ne sont jamais recréés).',
        en: 'Bring each listed table back to its reference definition (columns, indexes, character sets) on the test instance; do not use --skip-db-checks, which keeps the drift (missing keys are never re-added).',
      },
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
