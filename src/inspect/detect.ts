/**
 * What a database is: GLPI (which version, which `glpi_configs` layout), OCS (which GUI_VERSION), the
 * GLPI–OCS connector's form, and whether the version rows agree with the schema. Read-only.
 */
import type { Queryable } from '../db/introspect.ts';
import { columnNames, listTables, tableExists } from '../db/introspect.ts';
import { qi } from '../db/connect.ts';
import { ocsReleasesForGuiVersion } from '../catalog/ocs-releases.ts';
import { compareDotted, sameVersion } from '../catalog/version.ts';

export type GlpiConfigLayout = 'wide' | 'key-value' | 'none';

export interface GlpiVersionInfo {
  /** Trimmed version, e.g. "0.83.8", "10.0.19"; undefined when no version row. */
  version?: string;
  /** The raw stored value (with its leading space on old releases). */
  rawVersion?: string;
  /** `dbversion` row (≥ 9.2), e.g. "10.0.19@d64066…". */
  dbversion?: string;
  /** The schema hash part of dbversion (≥ 10.0). */
  schemaHash?: string;
  layout: GlpiConfigLayout;
  /** Problems that make the version unknown or doubtful: reported, never guessed away. */
  problems: string[];
  status: 'known' | 'unknown' | 'inconsistent';
}

export type ConnectorMode = 'core-0.83' | 'renamed-0.84' | 'plugin' | 'none';

export interface ConnectorInfo {
  mode: ConnectorMode;
  /** Plugin version from glpi_plugins (plugin mode). */
  pluginVersion?: string;
  pluginState?: number;
  servers: number;
  links: number;
  /** Table names the connector's data lives in. */
  tables: string[];
}

export interface OcsVersionInfo {
  guiVersion?: number;
  rawGuiVersion?: string;
  /** Releases that write this GUI_VERSION; empty when the catalog does not know it. */
  releases: string[];
  problems: string[];
  status: 'known' | 'unknown';
}

export type DatabaseKind = 'glpi' | 'ocs' | 'empty' | 'other';

async function one<T>(conn: Queryable, sql: string, params: unknown[] = []): Promise<T | undefined> {
  const [r] = await conn.query(sql, params);
  return (r as T[])[0];
}

export async function classifyDatabase(conn: Queryable, database: string): Promise<DatabaseKind> {
  const tables = await listTables(conn, database);
  if (tables.length === 0) return 'empty';
  const names = new Set(tables.map((t) => t.name));
  if (names.has('glpi_configs') || names.has('glpi_config')) return 'glpi';
  if (names.has('config') && names.has('hardware')) return 'ocs';
  return 'other';
}

export async function detectGlpiVersion(conn: Queryable, database: string): Promise<GlpiVersionInfo> {
  const problems: string[] = [];
  if (!(await tableExists(conn, database, 'glpi_configs'))) {
    return { layout: 'none', problems: ['no glpi_configs table'], status: 'unknown' };
  }
  const cols = await columnNames(conn, database, 'glpi_configs');
  const t = `${qi(database)}.glpi_configs`;
  if (cols.includes('version')) {
    // 0.78 – 0.84: one wide row.
    const row = await one<{ version: string | null }>(conn, `SELECT version FROM ${t} ORDER BY id LIMIT 1`);
    if (!row || row.version === null || row.version.trim() === '') {
      return { layout: 'wide', problems: ['glpi_configs has the wide layout but no version value'], status: 'unknown' };
    }
    const version = row.version.trim();
    if (compareDotted(version, '0.85') >= 0) {
      problems.push(`version ${version} is stored in the wide glpi_configs layout, which GLPI abandoned in 0.85`);
    }
    return { layout: 'wide', version, rawVersion: row.version, problems, status: problems.length ? 'inconsistent' : 'known' };
  }
  if (cols.includes('context') && cols.includes('name') && cols.includes('value')) {
    const [r] = await conn.query(`SELECT name, value FROM ${t} WHERE context = 'core' AND name IN ('version', 'dbversion')`);
    const map = new Map((r as Array<{ name: string; value: string | null }>).map((x) => [x.name, x.value ?? '']));
    const raw = map.get('version');
    const info: GlpiVersionInfo = { layout: 'key-value', problems, status: 'known' };
    if (raw === undefined || raw.trim() === '') {
      problems.push("glpi_configs has the key/value layout but no core 'version' row");
      info.status = 'unknown';
    } else {
      info.rawVersion = raw;
      info.version = raw.trim().replace(/@.*$/, '');
    }
    const dbv = map.get('dbversion');
    if (dbv) {
      info.dbversion = dbv.trim();
      const [v, hash] = info.dbversion.split('@');
      if (hash) info.schemaHash = hash;
      if (info.version && v && !sameVersion(v, info.version)) {
        problems.push(`version row says ${info.version} but dbversion says ${v}: a half-finished update?`);
      }
    }
    if (info.version) {
      if (compareDotted(info.version, '0.85') < 0) {
        problems.push(`version ${info.version} is stored in the key/value layout introduced by 0.85: a half-finished update?`);
      }
      if (compareDotted(info.version, '9.2') >= 0 && !dbv) problems.push(`version ${info.version} should have a dbversion row (GLPI ≥ 9.2)`);
    }
    if (problems.length && info.status === 'known') info.status = 'inconsistent';
    return info;
  }
  return { layout: 'none', problems: ['glpi_configs has neither a version column nor the key/value columns'], status: 'unknown' };
}

export async function detectConnector(conn: Queryable, database: string): Promise<ConnectorInfo> {
  const names = new Set((await listTables(conn, database)).map((t) => t.name));
  const count = async (table: string) => {
    if (!names.has(table)) return 0;
    const r = await one<{ n: number | string }>(conn, `SELECT COUNT(*) AS n FROM ${qi(database)}.${qi(table)}`);
    return Number(r?.n ?? 0);
  };
  if (names.has('glpi_plugin_ocsinventoryng_ocsservers')) {
    let pluginVersion: string | undefined;
    let pluginState: number | undefined;
    if (names.has('glpi_plugins')) {
      const p = await one<{ version: string; state: number }>(conn, `SELECT version, state FROM ${qi(database)}.glpi_plugins WHERE directory = 'ocsinventoryng'`);
      pluginVersion = p?.version;
      pluginState = p?.state === undefined ? undefined : Number(p.state);
    }
    return {
      mode: 'plugin',
      pluginVersion,
      pluginState,
      servers: await count('glpi_plugin_ocsinventoryng_ocsservers'),
      links: await count('glpi_plugin_ocsinventoryng_ocslinks'),
      tables: [...names].filter((n) => n.startsWith('glpi_plugin_ocsinventoryng_')).sort(),
    };
  }
  if (names.has('ocs_glpi_ocsservers')) {
    return {
      mode: 'renamed-0.84',
      servers: await count('ocs_glpi_ocsservers'),
      links: await count('ocs_glpi_ocslinks'),
      tables: [...names].filter((n) => n.startsWith('ocs_glpi_')).sort(),
    };
  }
  if (names.has('glpi_ocsservers')) {
    return {
      mode: 'core-0.83',
      servers: await count('glpi_ocsservers'),
      links: await count('glpi_ocslinks'),
      tables: [...names].filter((n) => n.startsWith('glpi_ocs') || n === 'glpi_registrykeys').sort(),
    };
  }
  return { mode: 'none', servers: 0, links: 0, tables: [] };
}

export async function detectOcsVersion(conn: Queryable, database: string): Promise<OcsVersionInfo> {
  if (!(await tableExists(conn, database, 'config'))) {
    return { releases: [], problems: ['no config table'], status: 'unknown' };
  }
  const row = await one<{ TVALUE: string | null; IVALUE: number | null }>(conn, `SELECT TVALUE, IVALUE FROM ${qi(database)}.config WHERE NAME = 'GUI_VERSION'`);
  if (!row) return { releases: [], problems: ['no GUI_VERSION row in config'], status: 'unknown' };
  const raw = (row.TVALUE ?? '').trim();
  const gui = /^\d+$/.test(raw) ? Number(raw) : undefined;
  if (gui === undefined) return { rawGuiVersion: row.TVALUE ?? undefined, releases: [], problems: [`GUI_VERSION "${raw}" is not a number`], status: 'unknown' };
  const releases = ocsReleasesForGuiVersion(gui);
  const problems = releases.length ? [] : [`GUI_VERSION ${gui} is not a released OCS version known to the catalog`];
  return { guiVersion: gui, rawGuiVersion: row.TVALUE ?? undefined, releases, problems, status: releases.length ? 'known' : 'unknown' };
}
