/**
 * OCS Inventory NG upgrade hazards: rows the official update files delete on their way, drift against
 * the 2.1 schema, and what makes the target OCS refuse the database.
 */
import type { AuditCheck } from '../check-types.ts';
import { clean, skip } from '../check-types.ts';
import { msg } from '../../i18n/messages.ts';
import { newestOcsGuiVersion } from '../../catalog/ocs-releases.ts';
import { compareDotted } from '../../catalog/version.ts';
import { driftOutcome } from './glpi.ts';

/** Main inventory tables that OCS 2.1's ocsbase_new.sql creates with ENGINE=InnoDB. */
export const OCS21_INNODB_CORE = ['accountinfo', 'bios', 'cpus', 'drives', 'hardware', 'memories', 'monitors', 'networks', 'printers', 'softwares', 'storages', 'videos'];

export const OCS_CHECKS: AuditCheck[] = [
  {
    id: 'ocs.software.null_fields',
    family: 'ocs-upgrade',
    title: msg('audit.title.ocs.software.null_fields', {}),
    appliesTo: { needs: ['ocs'], ocsGuiVersions: [0, 7037], steps: ['ocs-update-file'] },
    severity: 'majeure',
    remedy: { migration: 'ocs-softwares-fill-nulls' },
    async run(ctx) {
      if (!(await ctx.hasTable('ocs', 'softwares'))) return skip(msg('audit.skip.no-softwares', {}));
      const [r] = await ctx.rows<Record<string, string | number | null>>(
        'ocs',
        `SELECT COUNT(*) AS n, COALESCE(SUM(PUBLISHER IS NULL), 0) AS p, COALESCE(SUM(NAME IS NULL), 0) AS nm, COALESCE(SUM(VERSION IS NULL), 0) AS v,
                COUNT(DISTINCT HARDWARE_ID) AS h
           FROM ${ctx.t('ocs', 'softwares')} WHERE PUBLISHER IS NULL OR NAME IS NULL OR VERSION IS NULL`,
      );
      const n = Number(r?.n ?? 0);
      if (n === 0) return clean();
      return { count: n, evidence: { table: 'softwares', nullPublisher: Number(r.p), nullName: Number(r.nm), nullVersion: Number(r.v), computers: Number(r.h), lostIn: '7037.sql' } };
    },
  },
  {
    id: 'ocs.batteries.dropped',
    family: 'ocs-upgrade',
    title: msg('audit.title.ocs.batteries.dropped', {}),
    appliesTo: { needs: ['ocs'], ocsGuiVersions: [0, 7080], steps: ['ocs-update-file'] },
    severity: 'mineure',
    remedy: {
      manual: msg('audit.remedy.ocs.batteries.dropped', {}),
    },
    async run(ctx) {
      if (!(await ctx.hasTable('ocs', 'batteries'))) return skip(msg('audit.skip.no-table', { table: 'batteries' }));
      const n = await ctx.count('ocs', `SELECT COUNT(*) FROM ${ctx.t('ocs', 'batteries')}`);
      return n === 0 ? clean() : { count: n, evidence: { table: 'batteries', rows: n, droppedBy: '7080.sql' } };
    },
  },
  {
    id: 'ocs.tables.myisam',
    family: 'ocs-upgrade',
    title: msg('audit.title.ocs.tables.myisam', {}),
    appliesTo: { needs: ['ocs'], steps: ['ocs-bridge', 'ocs-update-file'] },
    // Rehearsed: 7034.sql adds FOREIGN KEYs referencing hardware(ID), impossible on MyISAM (errno 150).
    severity: 'bloquante',
    remedy: { migration: 'ocs-tables-to-innodb' },
    async run(ctx) {
      const tables = await ctx.ocsTables();
      const myisam = OCS21_INNODB_CORE.filter((t) => (tables.get(t)?.engine ?? '').toLowerCase() === 'myisam');
      const engines: Record<string, number> = {};
      for (const t of tables.values()) if (t.type === 'BASE TABLE') engines[t.engine ?? 'none'] = (engines[t.engine ?? 'none'] ?? 0) + 1;
      return myisam.length === 0 ? clean({ engines }) : { count: myisam.length, evidence: { engines, myisam } };
    },
  },
  {
    id: 'ocs.schema.drift',
    family: 'ocs-upgrade',
    title: msg('audit.title.ocs.schema.drift', {}),
    appliesTo: { needs: ['ocs'], steps: ['ocs-bridge', 'ocs-update-file'] },
    severity: 'majeure',
    remedy: {
      manual: msg('audit.remedy.ocs.schema.drift', {}),
    },
    async run(ctx) {
      const ref = await ctx.reference('ocs');
      if ('missing' in ref) return skip(ref.missing);
      const { describeSchema } = await import('../../db/schema.ts');
      const actual = await describeSchema(ctx.ocs!.conn, ctx.ocs!.database);
      return driftOutcome(ref.shape, actual, ref.file, () => true);
    },
  },
  {
    id: 'ocs.version.target_refuses',
    family: 'ocs-upgrade',
    title: msg('audit.title.ocs.version.target_refuses', {}),
    appliesTo: { needs: ['ocs'], steps: ['ocs-bridge', 'ocs-update-file'] },
    severity: 'bloquante',
    remedy: {
      manual: msg('audit.remedy.ocs.version.target_refuses', {}),
    },
    async run(ctx) {
      const v = await ctx.ocsVersion();
      const problems: string[] = [...v.problems];
      if (v.guiVersion !== undefined && v.guiVersion > newestOcsGuiVersion()) problems.push(`GUI_VERSION ${v.guiVersion} is newer than the newest release the catalog knows`);
      const s = await ctx.ocsServerInfo();
      const min = s.flavor === 'MariaDB' ? '10.0.5' : '5.6.0';
      if (compareDotted(s.versionNumber, min) < 0) problems.push(`${s.flavor} ${s.versionNumber} cannot create FULLTEXT indexes on InnoDB (update 7022 needs ${s.flavor} ≥ ${min})`);
      if (problems.length === 0) return clean({ guiVersion: v.guiVersion, releases: v.releases, server: s.version });
      return { count: problems.length, evidence: { guiVersion: v.guiVersion ?? v.rawGuiVersion, server: s.version, problems } };
    },
  },
];
