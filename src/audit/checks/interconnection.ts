/**
 * Health of the GLPI–OCS interconnection: the link table against GLPI's computers and OCS's hardware,
 * OCS settings the connector needs, and what the rehearsal and the plugin migration will need or lose.
 *
 * GLPI and OCS may live on different servers: cross-database facts are computed by reading the two key
 * sets (ids and dates only, a few MB for 50,000 computers) and comparing them in memory.
 */
import type { AuditCheck, CheckOutcome } from '../check-types.ts';
import { clean, skip } from '../check-types.ts';
import { msg } from '../../i18n/messages.ts';
import type { AuditContext, LinkTables } from '../context.ts';
import { NO_CONNECTOR_TABLES, NO_OCS_SERVER, OCS_GUI_VERSION_UNKNOWN } from '../context.ts';
import type { Message } from '../../i18n/messages.ts';
import { qi } from '../../db/connect.ts';
import { compareDotted } from '../../catalog/version.ts';
import { ocsReleasesForGuiVersion } from '../../catalog/ocs-releases.ts';
import { snapshotOrigin } from '../../snapshot/origin.ts';

interface LinkRow {
  id: number;
  computers_id: number;
  ocsid: number;
  last_update: string | null;
}

interface HardwareRow {
  ID: number;
  LASTDATE: string | null;
  DEVICEID: string;
  hasAccountinfo: number;
}

const linkCache = new WeakMap<AuditContext, Promise<{ lt: LinkTables; serverId: number; links: LinkRow[] } | { reason: Message }>>();
const hardwareCache = new WeakMap<AuditContext, Promise<HardwareRow[]>>();

async function linksOfServer(ctx: AuditContext): Promise<{ lt: LinkTables; serverId: number; links: LinkRow[] } | { reason: Message }> {
  let p = linkCache.get(ctx);
  if (!p) {
    p = (async () => {
      const lt = await ctx.linkTables();
      if (!lt) return { reason: NO_CONNECTOR_TABLES };
      const server = await ctx.ocsServerId();
      if (server.id === undefined) return { reason: server.reason ?? NO_OCS_SERVER };
      const links = await ctx.rows<LinkRow>('glpi', `SELECT id, computers_id, ocsid, last_update FROM ${ctx.t('glpi', lt.links)} WHERE ${qi(lt.serverColumn)} = ?`, [server.id]);
      return { lt, serverId: server.id, links: links.map((l) => ({ ...l, id: Number(l.id), computers_id: Number(l.computers_id), ocsid: Number(l.ocsid) })) };
    })();
    linkCache.set(ctx, p);
  }
  return p;
}

async function hardware(ctx: AuditContext): Promise<HardwareRow[]> {
  let p = hardwareCache.get(ctx);
  if (!p) {
    p = (async () => {
      const hasAi = await ctx.hasTable('ocs', 'accountinfo');
      const rows = await ctx.rows<HardwareRow>(
        'ocs',
        `SELECT h.ID, h.LASTDATE, h.DEVICEID, ${hasAi ? '(a.HARDWARE_ID IS NOT NULL)' : '0'} AS hasAccountinfo
           FROM ${ctx.t('ocs', 'hardware')} h ${hasAi ? `LEFT JOIN ${ctx.t('ocs', 'accountinfo')} a ON a.HARDWARE_ID = h.ID` : ''}`,
      );
      return rows.map((h) => ({ ...h, ID: Number(h.ID), hasAccountinfo: Number(h.hasAccountinfo) }));
    })();
    hardwareCache.set(ctx, p);
  }
  return p;
}

/** "YYYY-MM-DD HH:MM:SS" (server-local) → epoch ms; zero or missing dates → undefined. */
function when(s: string | null | undefined): number | undefined {
  if (!s || s.startsWith('0000')) return undefined;
  const t = Date.parse(`${s.replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? undefined : t;
}

const DAY = 86_400_000;

const instantsCache = new WeakMap<AuditContext, Promise<Message | undefined>>();

/**
 * When the audited GLPI and OCS databases were restored from a snapshot that did not freeze them at one
 * instant (restore records it as the database comment, src/snapshot/origin.ts), checks comparing the two say so.
 */
function twoInstants(ctx: AuditContext): Promise<Message | undefined> {
  let p = instantsCache.get(ctx);
  if (!p) {
    p = (async () => {
      if (!ctx.glpi || !ctx.ocs) return undefined;
      const origins = [await snapshotOrigin(ctx.glpi.conn, ctx.glpi.database), await snapshotOrigin(ctx.ocs.conn, ctx.ocs.database)];
      if (!origins.some((o) => o?.instants === 'separate')) return undefined;
      return msg('audit.data-instants', {});
    })();
    instantsCache.set(ctx, p);
  }
  return p;
}

/** The outcome, with the two-moments note in its evidence when it applies. */
async function withInstants(ctx: AuditContext, outcome: CheckOutcome): Promise<CheckOutcome> {
  const note = await twoInstants(ctx);
  return note ? { ...outcome, evidence: { ...outcome.evidence, dataInstants: note } } : outcome;
}

/** glpi_ocsservers import switch → glpi_computers column, and what "empty" means for it. */
export const SYNCHRONISED_FIELDS: Array<{ switch: string; column: string; empty: 'text' | 'zero' }> = [
  { switch: 'import_general_name', column: 'name', empty: 'text' },
  { switch: 'import_general_serial', column: 'serial', empty: 'text' },
  { switch: 'import_general_os', column: 'operatingsystems_id', empty: 'zero' },
  { switch: 'import_os_serial', column: 'os_license_number', empty: 'text' },
  { switch: 'import_general_model', column: 'computermodels_id', empty: 'zero' },
  { switch: 'import_general_manufacturer', column: 'manufacturers_id', empty: 'zero' },
  { switch: 'import_general_type', column: 'computertypes_id', empty: 'zero' },
  { switch: 'import_general_domain', column: 'domains_id', empty: 'zero' },
  { switch: 'import_general_contact', column: 'contact', empty: 'text' },
  { switch: 'import_general_comment', column: 'comment', empty: 'text' },
  { switch: 'import_general_uuid', column: 'uuid', empty: 'text' },
];

const OCS_RIGHTS = ['ocsng', 'sync_ocsng', 'view_ocsng', 'clean_ocsng', 'rule_ocs'];

export const coreOnlyMigration = (lt: LinkTables | undefined, id: string): CheckOutcome['remedy'] =>
  lt?.mode === 'core-0.83'
    ? { migration: id }
    : {
        manual: msg('audit.remedy.same-fix', { migration: id, ...(lt?.links ? { table: lt.links } : {}) }),
      };

export const INTERCONNECTION_CHECKS: AuditCheck[] = [
  {
    id: 'link.orphan_links',
    family: 'interconnection',
    title: msg('audit.title.link.orphan_links', {}),
    appliesTo: { needs: ['glpi'], steps: ['glpi-db-update', 'plugin-install'] },
    severity: 'majeure',
    remedy: { migration: 'glpi-ocslinks-orphans' },
    async run(ctx) {
      const lt = await ctx.linkTables();
      if (!lt) return skip(NO_CONNECTOR_TABLES);
      const rows = await ctx.rows<{ id: number; computers_id: number }>(
        'glpi',
        `SELECT l.id, l.computers_id FROM ${ctx.t('glpi', lt.links)} l LEFT JOIN ${ctx.t('glpi', 'glpi_computers')} c ON c.id = l.computers_id WHERE c.id IS NULL ORDER BY l.id`,
      );
      if (rows.length === 0) return clean();
      return {
        count: rows.length,
        evidence: { table: lt.links, sampleLinkIds: rows.slice(0, ctx.options.samples).map((r) => Number(r.id)) },
        remedy: coreOnlyMigration(lt, 'glpi-ocslinks-orphans'),
      };
    },
  },
  {
    id: 'link.multiple_links',
    family: 'interconnection',
    title: msg('audit.title.link.multiple_links', {}),
    appliesTo: { needs: ['glpi'], steps: ['plugin-install'] },
    severity: 'majeure',
    remedy: { migration: 'glpi-ocslinks-dedup' },
    async run(ctx) {
      const lt = await ctx.linkTables();
      if (!lt) return skip(NO_CONNECTOR_TABLES);
      const [agg] = await ctx.rows<{ g: number; x: number | null }>(
        'glpi',
        `SELECT COUNT(*) AS g, SUM(n - 1) AS x FROM (SELECT COUNT(*) AS n FROM ${ctx.t('glpi', lt.links)} GROUP BY computers_id HAVING COUNT(*) > 1) d`,
      );
      const extra = Number(agg?.x ?? 0);
      if (extra === 0) return clean();
      const samples = await ctx.rows<{ computers_id: number; n: number }>(
        'glpi',
        `SELECT computers_id, COUNT(*) AS n FROM ${ctx.t('glpi', lt.links)} GROUP BY computers_id HAVING COUNT(*) > 1 ORDER BY computers_id LIMIT ${ctx.options.samples}`,
      );
      return {
        count: extra,
        evidence: { table: lt.links, computers: Number(agg.g), linksToRemove: extra, samples: samples.map((s) => ({ computers_id: Number(s.computers_id), links: Number(s.n) })) },
        remedy: coreOnlyMigration(lt, 'glpi-ocslinks-dedup'),
      };
    },
  },
  {
    id: 'link.vanished_hardware',
    family: 'interconnection',
    title: msg('audit.title.link.vanished_hardware', {}),
    appliesTo: { needs: ['glpi', 'ocs'], steps: ['plugin-install'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.link.vanished_hardware', {}),
    },
    async run(ctx) {
      const l = await linksOfServer(ctx);
      if ('reason' in l) return skip(l.reason);
      const ids = new Set((await hardware(ctx)).map((h) => h.ID));
      const gone = l.links.filter((x) => !ids.has(x.ocsid));
      if (gone.length === 0) return withInstants(ctx, clean({ links: l.links.length }));
      return withInstants(ctx, {
        count: gone.length,
        evidence: { serverId: l.serverId, links: l.links.length, sample: gone.slice(0, ctx.options.samples).map((x) => ({ link: x.id, ocsid: x.ocsid })) },
      });
    },
  },
  {
    id: 'link.never_imported',
    family: 'interconnection',
    title: msg('audit.title.link.never_imported', {}),
    appliesTo: { needs: ['glpi', 'ocs'], steps: ['plugin-install'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.link.never_imported', {}),
    },
    async run(ctx) {
      const l = await linksOfServer(ctx);
      if ('reason' in l) return skip(l.reason);
      const linked = new Set(l.links.map((x) => x.ocsid));
      const machines = (await hardware(ctx)).filter((h) => !h.DEVICEID.startsWith('_'));
      const never = machines.filter((h) => !linked.has(h.ID));
      if (never.length === 0) return withInstants(ctx, clean({ machines: machines.length }));
      return withInstants(ctx, {
        count: never.length,
        evidence: {
          machines: machines.length,
          neverImported: never.length,
          withoutAccountinfo: never.filter((h) => !h.hasAccountinfo).length,
          sampleOcsIds: never.slice(0, ctx.options.samples).map((h) => h.ID),
        },
      });
    },
  },
  {
    id: 'link.stale',
    family: 'interconnection',
    title: msg('audit.title.link.stale', {}),
    appliesTo: { needs: ['glpi', 'ocs'], steps: ['plugin-install'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.link.stale', {}),
    },
    async run(ctx) {
      const l = await linksOfServer(ctx);
      if ('reason' in l) return skip(l.reason);
      const lastdate = new Map((await hardware(ctx)).map((h) => [h.ID, when(h.LASTDATE)]));
      const threshold = ctx.options.staleDays * DAY;
      const stale = l.links.filter((x) => {
        const ocs = lastdate.get(x.ocsid);
        if (ocs === undefined) return false;
        const glpi = when(x.last_update);
        return glpi === undefined || ocs - glpi > threshold;
      });
      if (stale.length === 0) return withInstants(ctx, clean({ staleDays: ctx.options.staleDays }));
      return withInstants(ctx, { count: stale.length, evidence: { staleDays: ctx.options.staleDays, links: l.links.length, sampleLinkIds: stale.slice(0, ctx.options.samples).map((x) => x.id) } });
    },
  },
  {
    id: 'ocs.trace_deleted_off',
    family: 'interconnection',
    title: msg('audit.title.ocs.trace_deleted_off', {}),
    appliesTo: { needs: ['ocs'], steps: ['plugin-install'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.ocs.trace_deleted_off', {}),
    },
    async run(ctx) {
      if (!(await ctx.hasTable('ocs', 'config'))) return skip(msg('audit.skip.no-table', { table: 'config' }));
      const r = await ctx.rows<{ IVALUE: number | null }>('ocs', `SELECT IVALUE FROM ${ctx.t('ocs', 'config')} WHERE NAME = 'TRACE_DELETED'`);
      const v = r[0]?.IVALUE;
      if (v !== undefined && v !== null && Number(v) === 1) return clean({ TRACE_DELETED: 1 });
      return { count: 1, evidence: { TRACE_DELETED: r.length === 0 ? 'absent' : v } };
    },
  },
  {
    id: 'ocs.deleted_equiv_backlog',
    family: 'interconnection',
    title: msg('audit.title.ocs.deleted_equiv_backlog', {}),
    appliesTo: { needs: ['ocs'], steps: ['plugin-install'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.ocs.deleted_equiv_backlog', {}),
    },
    async run(ctx) {
      if (!(await ctx.hasTable('ocs', 'deleted_equiv'))) return skip(msg('audit.skip.no-table', { table: 'deleted_equiv' }));
      const [r] = await ctx.rows<{ n: number; m: string | null; merged: number | null }>(
        'ocs',
        `SELECT COUNT(*) AS n, MIN(DATE) AS m, SUM(EQUIVALENT IS NOT NULL AND EQUIVALENT <> '' AND EQUIVALENT <> 'NULL') AS merged FROM ${ctx.t('ocs', 'deleted_equiv')}`,
      );
      const n = Number(r?.n ?? 0);
      if (n === 0) return clean();
      return { count: n, evidence: { rows: n, oldest: r.m, replacedByAnother: Number(r.merged ?? 0), deletedOutright: n - Number(r.merged ?? 0) } };
    },
  },
  {
    id: 'link.declared_version',
    family: 'interconnection',
    title: msg('audit.title.link.declared_version', {}),
    appliesTo: { needs: ['glpi', 'ocs'], steps: ['plugin-install'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.link.declared_version', {}),
    },
    async run(ctx) {
      const lt = await ctx.linkTables();
      if (!lt) return skip(NO_CONNECTOR_TABLES);
      const server = await ctx.ocsServerId();
      if (server.id === undefined) return skip(server.reason ?? NO_OCS_SERVER);
      const gui = (await ctx.ocsVersion()).guiVersion;
      if (gui === undefined) return skip(OCS_GUI_VERSION_UNKNOWN);
      const [row] = await ctx.rows<{ ocs_version: string | null }>('glpi', `SELECT ocs_version FROM ${ctx.t('glpi', lt.servers)} WHERE id = ?`, [server.id]);
      const declared = (row?.ocs_version ?? '').trim();
      const releases = ocsReleasesForGuiVersion(gui);
      const matches = declared === String(gui) || releases.includes(declared) || releases.some((r) => r.startsWith(`${declared}.`));
      if (matches) return withInstants(ctx, clean({ declared, guiVersion: gui }));
      return withInstants(ctx, { count: 1, evidence: { serverId: server.id, declared: declared || '(empty)', guiVersion: gui, releases } });
    },
  },
  {
    id: 'link.synchronised_fields_empty',
    family: 'interconnection',
    title: msg('audit.title.link.synchronised_fields_empty', {}),
    appliesTo: { needs: ['glpi'], connector: ['core-0.83', 'renamed-0.84', 'plugin'], steps: ['plugin-install'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.link.synchronised_fields_empty', {}),
    },
    async run(ctx) {
      const lt = await ctx.linkTables();
      if (!lt) return skip(NO_CONNECTOR_TABLES);
      const server = await ctx.ocsServerId();
      if (server.id === undefined) return skip(server.reason ?? NO_OCS_SERVER);
      const switches = SYNCHRONISED_FIELDS.filter((f) => f.switch);
      const haveSwitch = await Promise.all(switches.map((f) => ctx.hasColumns('glpi', lt.servers, [f.switch])));
      const haveCol = await Promise.all(switches.map((f) => ctx.hasColumns('glpi', 'glpi_computers', [f.column])));
      const fields = switches.filter((_, i) => haveSwitch[i] && haveCol[i]);
      if (fields.length === 0) return skip(msg('audit.skip.no-import-switches', {}));
      const [sw] = await ctx.rows<Record<string, number>>('glpi', `SELECT ${fields.map((f) => qi(f.switch)).join(', ')} FROM ${ctx.t('glpi', lt.servers)} WHERE id = ?`, [server.id]);
      const emptyExpr = (f: (typeof fields)[number]) => (f.empty === 'zero' ? `c.${qi(f.column)} = 0` : `(c.${qi(f.column)} IS NULL OR c.${qi(f.column)} = '')`);
      const [counts] = await ctx.rows<Record<string, number | string | null>>(
        'glpi',
        `SELECT COUNT(*) AS linked, ${fields.map((f, i) => `COALESCE(SUM(${emptyExpr(f)}), 0) AS e${i}`).join(', ')}
           FROM ${ctx.t('glpi', lt.links)} l JOIN ${ctx.t('glpi', 'glpi_computers')} c ON c.id = l.computers_id
          WHERE l.${qi(lt.serverColumn)} = ?`,
        [server.id],
      );
      const linked = Number(counts?.linked ?? 0);
      const table: Record<string, { synchronised: boolean; empty: number }> = {};
      let emptySynced = 0;
      fields.forEach((f, i) => {
        const on = Number(sw?.[f.switch] ?? 0) === 1;
        const empty = Number(counts?.[`e${i}`] ?? 0);
        table[f.column] = { synchronised: on, empty };
        if (on && empty > 0) emptySynced++;
      });
      const evidence = { linkedComputers: linked, fields: table };
      return emptySynced === 0 ? clean(evidence) : { count: emptySynced, evidence };
    },
  },
  {
    id: 'link.glpicrypt_key_needed',
    family: 'interconnection',
    title: msg('audit.title.link.glpicrypt_key_needed', {}),
    appliesTo: { needs: ['glpi'], steps: ['plugin-install'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.link.glpicrypt_key_needed', {}),
    },
    async run(ctx) {
      const lt = await ctx.linkTables();
      if (!lt) return skip(NO_CONNECTOR_TABLES);
      const rows = await ctx.rows<{ id: number }>('glpi', `SELECT id FROM ${ctx.t('glpi', lt.servers)} WHERE ocs_db_passwd IS NOT NULL AND ocs_db_passwd <> '' ORDER BY id`);
      if (rows.length === 0) return clean();
      const v = (await ctx.glpiVersion()).version;
      const encrypted = v !== undefined && compareDotted(v, '9.4') >= 0;
      const evidence = { servers: rows.map((r) => Number(r.id)), glpiVersion: v, passwordEncryptedInSource: encrypted };
      // Before 9.4 the password is stored URL-encoded in clear: nothing to provide, only a key to keep (see remedy).
      if (!encrypted) return clean({ ...evidence, note: 'keep the config/glpicrypt.key that db:update creates with the rehearsed database' });
      return { count: rows.length, evidence };
    },
  },
  {
    id: 'plugin.lost_profile_rights',
    family: 'interconnection',
    title: msg('audit.title.plugin.lost_profile_rights', {}),
    appliesTo: { needs: ['glpi'], connector: ['core-0.83', 'renamed-0.84'], steps: ['plugin-install'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.plugin.lost_profile_rights', {}),
    },
    async run(ctx) {
      const lt = await ctx.linkTables();
      if (!lt || lt.mode === 'plugin') return skip(msg('audit.skip.connector-is-plugin', {}));
      const table = lt.mode === 'core-0.83' ? 'glpi_profiles' : 'ocs_glpi_profiles';
      if (!(await ctx.hasTable('glpi', table))) return skip(msg('audit.skip.no-table', { table }));
      const cols: string[] = [];
      for (const c of OCS_RIGHTS) if (await ctx.hasColumns('glpi', table, [c])) cols.push(c);
      if (cols.length === 0) return skip(msg('audit.skip.no-right-columns', { table }));
      const any = cols.map((c) => `(${qi(c)} IS NOT NULL AND ${qi(c)} <> '')`).join(' OR ');
      const rows = await ctx.rows<Record<string, unknown>>('glpi', `SELECT id, ${cols.map(qi).join(', ')} FROM ${ctx.t('glpi', table)} WHERE (${any}) AND id <> ? ORDER BY id`, [
        ctx.options.installerProfileId,
      ]);
      if (rows.length === 0) return clean({ installerProfileId: ctx.options.installerProfileId });
      return {
        count: rows.length,
        evidence: {
          installerProfileId: ctx.options.installerProfileId,
          profiles: rows.map((r) => ({ id: Number(r.id), rights: Object.fromEntries(cols.filter((c) => r[c]).map((c) => [c, r[c]])) })),
        },
      };
    },
  },
  {
    id: 'plugin.password_special_chars',
    family: 'interconnection',
    title: msg('audit.title.plugin.password_special_chars', {}),
    appliesTo: { needs: ['glpi'], connector: ['core-0.83', 'renamed-0.84'], steps: ['plugin-install'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.plugin.password_special_chars', {}),
    },
    async run(ctx) {
      const lt = await ctx.linkTables();
      if (!lt || lt.mode === 'plugin') return skip(msg('audit.skip.connector-is-plugin', {}));
      // 0.8x stores rawurlencode(password): a '%' means the clear password has characters outside [A-Za-z0-9-_.~].
      const rows = await ctx.rows<{ id: number }>('glpi', `SELECT id FROM ${ctx.t('glpi', lt.servers)} WHERE ocs_db_passwd LIKE '%\\%%' ORDER BY id`);
      if (rows.length === 0) return clean();
      return { count: rows.length, evidence: { servers: rows.map((r) => Number(r.id)) } };
    },
  },
];
