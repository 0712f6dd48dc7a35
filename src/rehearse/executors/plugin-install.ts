/**
 * The plugin-install executor: the real ocsinventoryng release (`--plugin-dist`) installed and activated
 * through the GLPI console of the step's release, so that its own migration carries the 0.83 OCS data
 * (`ocs_glpi_*`, left by GLPI's 0.84 migration) into its tables.
 *
 * What ../shared/research/ocs-plugin-migration-run.md §5 observed, and what is done about it here:
 *  - the plugin drops most `ocs_glpi_*` tables: they are saved first into the schema
 *    `glpi_ocs_upgrade_saved` of the test instance (`<db>__<table>`), and compared after;
 *  - install exits 0 after SQL errors: the output and GLPI's sql-errors.log are scanned; only the known
 *    harmless `history_sofware` 1054 error is accepted;
 *  - activation is verified in glpi_plugins (version, state 1);
 *  - links, server definition, registry keys, admin-info links, RuleImportEntity rules and the ocsng cron
 *    task are compared with the saved tables; lost profile rights and the OCS password (double URL-encoding)
 *    are reported as warnings for the repair that follows (not done here).
 * The plugin is copied into the run's private marketplace dir: the GLPI tree is never written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import { findPluginDist, type GlpiDistribution, type PhpInfo } from '../../distributions/glpi.ts';
import { qi, queryRows as rows } from '../../db/connect.ts';
import { assertWritable } from '../../db/interlock.ts';
import type { PlanStep } from '../../plan/plan-types.ts';
import { failed, notRun, tailExcerpt, writeEvidence } from './common.ts';
import { msg, type Message } from '../../i18n/messages.ts';
import { glpiPrerequisites, noGlpiDb } from './glpi-console.ts';
import { consoleCommandLine, prepareGlpiDirs, runGlpiConsole } from './glpi-env.ts';
import type { ExecutorContext, ExecutorResult, StepExecutor } from './types.ts';

type Step = PlanStep & { runner: Extract<PlanStep['runner'], { kind: 'plugin-install' }> };

export const SAVED_SCHEMA = 'glpi_ocs_upgrade_saved';
const PLUGIN = 'ocsinventoryng';

/** SQL errors the plugin's install is known to raise harmlessly (research note §2). */
const KNOWN_HARMLESS = [/Unknown column 'history_sofware'/];

async function tableExists(conn: Connection, db: string, table: string): Promise<boolean> {
  const r = await rows<{ n: number }>(conn, "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'", [db, table]);
  return Number(r[0].n) > 0;
}

/** Copies every ocs_glpi_* table of `db` into SAVED_SCHEMA; returns table → row count. */
export async function saveOcsGlpiTables(conn: Connection, db: string): Promise<Record<string, number>> {
  const tables = await rows<{ t: string }>(
    conn,
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'ocs\\_glpi\\_%' AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [db],
  );
  await conn.query(`CREATE DATABASE IF NOT EXISTS ${qi(SAVED_SCHEMA)}`);
  const out: Record<string, number> = {};
  for (const { t } of tables) {
    const saved = `${qi(SAVED_SCHEMA)}.${qi(`${db}__${t}`)}`.slice(0, 200);
    await conn.query(`DROP TABLE IF EXISTS ${saved}`);
    await conn.query(`CREATE TABLE ${saved} LIKE ${qi(db)}.${qi(t)}`);
    await conn.query(`INSERT INTO ${saved} SELECT * FROM ${qi(db)}.${qi(t)}`);
    const n = await rows<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM ${saved}`);
    out[t] = Number(n[0].n);
  }
  return out;
}

function savedName(db: string, t: string): string {
  return `${qi(SAVED_SCHEMA)}.${qi(`${db}__${t}`)}`;
}

export interface PluginComparison {
  check: string;
  ok: boolean;
  detail: Message;
}

/** Compares what the plugin made of the saved 0.83/0.84 OCS data (research note §5 rule 4). */
export async function comparePluginMigration(conn: Connection, db: string): Promise<{ checks: PluginComparison[]; warnings: string[] }> {
  const checks: PluginComparison[] = [];
  const warnings: string[] = [];
  const p = (t: string) => `${qi(db)}.${qi(`glpi_plugin_ocsinventoryng_${t}`)}`;
  const has = async (t: string) => tableExists(conn, SAVED_SCHEMA, `${db}__${t}`);

  if (await has('ocs_glpi_ocslinks')) {
    const key = (r: Record<string, unknown>) => [r.computers_id, r.ocsid, r.ocs_deviceid, r.srv].map(String).join('|');
    const before = (await rows(conn, `SELECT computers_id, ocsid, ocs_deviceid, ocsservers_id AS srv FROM ${savedName(db, 'ocs_glpi_ocslinks')}`)).map(key).sort();
    let after: string[] = [];
    if (await tableExists(conn, db, 'glpi_plugin_ocsinventoryng_ocslinks')) {
      after = (await rows(conn, `SELECT computers_id, ocsid, ocs_deviceid, plugin_ocsinventoryng_ocsservers_id AS srv FROM ${p('ocslinks')}`)).map(key).sort();
    }
    const missing = before.filter((k) => !after.includes(k));
    checks.push({
      check: 'links',
      ok: missing.length === 0 && before.length === after.length,
      detail: msg('result.plugin.links', { before: before.length, after: after.length, missing }),
    });
  }
  if (await has('ocs_glpi_ocsservers')) {
    const key = (r: Record<string, unknown>) => [r.id, r.ocs_db_host, r.ocs_db_name, r.ocs_db_user].map(String).join('|');
    const before = (await rows(conn, `SELECT id, ocs_db_host, ocs_db_name, ocs_db_user FROM ${savedName(db, 'ocs_glpi_ocsservers')}`)).map(key).sort();
    const after = (await tableExists(conn, db, 'glpi_plugin_ocsinventoryng_ocsservers'))
      ? (await rows(conn, `SELECT id, ocs_db_host, ocs_db_name, ocs_db_user FROM ${p('ocsservers')}`)).map(key).sort()
      : [];
    checks.push({
      check: 'servers',
      ok: before.every((k) => after.includes(k)),
      detail: msg('result.plugin.servers', { before: before.length, after: after.length }),
    });
    const pw = await rows<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM ${savedName(db, 'ocs_glpi_ocsservers')} WHERE ocs_db_passwd REGEXP '%[0-9A-Fa-f]{2}'`);
    if (Number(pw[0].n) > 0) {
      warnings.push(`${pw[0].n} OCS server password(s) hold URL-encoded characters: the plugin encodes them twice, so the connection fails until the password is re-stored (research note §3–5)`);
    }
  }
  for (const t of ['registrykeys', 'ocsadmininfoslinks'] as const) {
    if (!(await has(`ocs_glpi_${t}`))) continue;
    const b = Number((await rows<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM ${savedName(db, `ocs_glpi_${t}`)}`))[0].n);
    const a = (await tableExists(conn, db, `glpi_plugin_ocsinventoryng_${t}`)) ? Number((await rows<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM ${p(t)}`))[0].n) : 0;
    checks.push({ check: t, ok: a >= b, detail: msg('result.plugin.count', { table: t, before: b, after: a }) });
  }
  if (await has('ocs_glpi_rules')) {
    const before = (await rows<{ name: string }>(conn, `SELECT name FROM ${savedName(db, 'ocs_glpi_rules')} WHERE sub_type = 'RuleImportEntity'`)).map((r) => String(r.name)).sort();
    const after = (await rows<{ name: string }>(conn, `SELECT name FROM ${qi(db)}.glpi_rules WHERE sub_type = 'RuleImportEntity'`)).map((r) => String(r.name));
    const missing = before.filter((n) => !after.includes(n));
    checks.push({
      check: 'rules',
      ok: missing.length === 0,
      detail: msg('result.plugin.rules', { before: before.length, missing }),
    });
  }
  if (await has('ocs_glpi_crontasks')) {
    const before = await rows<{ state: number }>(conn, `SELECT state FROM ${savedName(db, 'ocs_glpi_crontasks')} WHERE itemtype = 'OcsServer' AND name = 'ocsng'`);
    if (before.length > 0) {
      const after = await rows<{ state: number }>(conn, `SELECT state FROM ${qi(db)}.glpi_crontasks WHERE name = 'ocsng' AND itemtype LIKE '%Ocsinventoryng%OcsServer'`);
      checks.push({
        check: 'cron',
        ok: after.length > 0 && String(after[0].state) === String(before[0].state),
        detail: msg('result.plugin.cron', { before: String(before[0].state), after: after.length ? String(after[0].state) : undefined }),
      });
    }
  }
  if (await has('ocs_glpi_profiles')) {
    const withRights = await rows<{ id: number }>(
      conn,
      `SELECT id FROM ${savedName(db, 'ocs_glpi_profiles')} WHERE ocsng IS NOT NULL OR sync_ocsng IS NOT NULL OR view_ocsng IS NOT NULL OR clean_ocsng IS NOT NULL`,
    ).catch(() => []);
    if (withRights.length > 0) {
      const granted = await rows<{ profiles_id: number }>(conn, `SELECT DISTINCT profiles_id FROM ${qi(db)}.glpi_profilerights WHERE name LIKE 'plugin_ocsinventoryng%' AND rights > 0`).catch(
        () => [],
      );
      const lost = withRights.map((r) => Number(r.id)).filter((id) => !granted.some((g) => Number(g.profiles_id) === id));
      if (lost.length) warnings.push(`OCS rights of profile(s) ${lost.join(', ')} were not carried over by the plugin (restore them from ${SAVED_SCHEMA})`);
    }
  }
  return { checks, warnings };
}

async function installerUser(conn: Connection, db: string): Promise<string | undefined> {
  const r = await rows<{ name: string }>(
    conn,
    `SELECT u.name FROM ${qi(db)}.glpi_users u JOIN ${qi(db)}.glpi_profiles_users pu ON pu.users_id = u.id
      JOIN ${qi(db)}.glpi_profiles p ON p.id = pu.profiles_id
     WHERE u.is_active = 1 AND p.name = 'Super-Admin' ORDER BY (u.name = 'glpi') DESC, u.id LIMIT 1`,
  ).catch(() => []);
  return r[0]?.name;
}

export function pluginSqlErrors(output: string, logLines: string[]): string[] {
  // Console lines `SQL Error "1054": …`, and the `Error: …` line of each sql-errors.log entry (which names the
  // error, so the known harmless one can be recognised); PHP fatals. PHP warnings are not failures.
  const lines = [...output.split('\n'), ...logLines].filter((l) => /SQL Error "|^sql-errors\.log:\s+Error: |Uncaught|Fatal error/i.test(l));
  return lines.filter((l) => !KNOWN_HARMLESS.some((re) => re.test(l)));
}

export const pluginInstallExecutor: StepExecutor<'plugin-install'> = {
  kind: 'plugin-install',
  async execute(step: Step, ctx: ExecutorContext): Promise<ExecutorResult> {
    const db = ctx.databases.glpi;
    if (!db) return failed(noGlpiDb(step.id));
    const { pluginVersion, glpiRelease } = step.runner;
    const installArgs = ['--username=glpi', PLUGIN];
    const plugin = findPluginDist(ctx.dists.plugin ?? [], pluginVersion);
    const pre = await glpiPrerequisites(ctx, glpiRelease, step.requires.php, 'plugin:install', installArgs);
    if (!plugin) {
      const where = pre.dist?.dir ?? `/path/to/glpi-${glpiRelease}`;
      return notRun(
        msg('result.plugin.no-dist', { version: pluginVersion }),
        `cp -r /path/to/ocsinventoryng-${pluginVersion} ${where}/plugins/ocsinventoryng && ${consoleCommandLine(where, 'plugin:install', installArgs, ctx.php ?? 'php')} && ${consoleCommandLine(where, 'plugin:activate', [PLUGIN], ctx.php ?? 'php')}`,
      );
    }
    if (pre.notRun) return pre.notRun;
    const dist = pre.dist as GlpiDistribution;
    const php = pre.php as PhpInfo;
    await assertWritable(ctx.conn, ctx.dsn, `install the ocsinventoryng plugin on ${db}`);

    const user = (await installerUser(ctx.conn, db)) ?? 'glpi';
    const saved = await saveOcsGlpiTables(ctx.conn, db);
    const evidence = [writeEvidence(ctx, 'ocs-glpi-saved.json', { schema: SAVED_SCHEMA, tables: saved })];

    // The plugin goes into the run's private marketplace dir (GLPI_MARKETPLACE_DIR), never into the tree.
    const dirs = prepareGlpiDirs(ctx);
    const target = path.join(dirs.marketplace, PLUGIN);
    fs.rmSync(target, { recursive: true, force: true });
    fs.cpSync(plugin.dir, target, { recursive: true, filter: (src) => !/[/\\]\.git([/\\]|$)/.test(src) });

    const install = await runGlpiConsole(ctx, dist, php.bin, db, 'plugin:install', [`--username=${user}`, PLUGIN]);
    evidence.push(writeEvidence(ctx, 'console-plugin-install.log', `$ ${install.shown}\n# exit code ${install.exitCode}\n\n${install.output}\n${install.logLines.join('\n')}\n`));
    const activate = install.exitCode === 0 ? await runGlpiConsole(ctx, dist, php.bin, db, 'plugin:activate', [PLUGIN]) : undefined;
    if (activate) evidence.push(writeEvidence(ctx, 'console-plugin-activate.log', `$ ${activate.shown}\n# exit code ${activate.exitCode}\n\n${activate.output}\n${activate.logLines.join('\n')}\n`));

    const state = await rows<{ version: string; state: number }>(ctx.conn, `SELECT version, state FROM ${qi(db)}.glpi_plugins WHERE directory = ?`, [PLUGIN]).catch(() => []);
    const errors = pluginSqlErrors(`${install.output}\n${activate?.output ?? ''}`, [...install.logLines, ...(activate?.logLines ?? [])]);
    const comparison = await comparePluginMigration(ctx.conn, db);
    evidence.push(writeEvidence(ctx, 'plugin-comparison.json', { plugin: plugin.version, glpiPlugins: state, sqlErrors: errors, ...comparison }));

    const base: Partial<ExecutorResult> = {
      versionBefore: undefined,
      versionAfter: state[0]?.version,
      outputExcerpt: tailExcerpt(`${install.output}\n${activate?.output ?? ''}`),
      details: { plugin: plugin.version, glpi: dist.version, php: php.version, savedTables: saved, checks: comparison.checks, warnings: comparison.warnings, sqlErrors: errors },
    };
    const problems: Message[] = [];
    if (install.exitCode !== 0) problems.push(msg('result.plugin.exit', { command: 'plugin:install', exitCode: install.exitCode }));
    if (activate && activate.exitCode !== 0) problems.push(msg('result.plugin.exit', { command: 'plugin:activate', exitCode: activate.exitCode }));
    if (!state[0]) problems.push(msg('result.plugin.no-row', {}));
    else if (String(state[0].version) !== plugin.version || Number(state[0].state) !== 1) {
      problems.push(msg('result.plugin.wrong-row', { version: String(state[0].version), state: Number(state[0].state), expected: plugin.version }));
    }
    if (errors.length) problems.push(msg('result.plugin.sql-errors', { count: errors.length, first: errors[0].slice(0, 160) }));
    for (const c of comparison.checks.filter((x) => !x.ok)) problems.push(msg('result.plugin.check', { check: c.check, detail: c.detail }));
    for (const w of comparison.warnings) ctx.log(`warning: ${w}`);
    if (problems.length) return { status: 'failed', reason: msg('result.list', { items: problems }), evidence, ...base };
    return {
      status: 'passed',
      reason: msg('result.list', { items: [msg('result.plugin.installed', { version: plugin.version }), ...comparison.checks.map((c) => c.detail)] }),
      evidence,
      ...base,
    };
  },
};
