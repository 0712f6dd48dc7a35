import type { Command } from 'commander';
import { addSourceOptions, CREDENTIALS_HELP, resolveSource } from '../options.ts';
import type { SourceOptions } from '../options.ts';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { formatBytes, formatCount } from '../output.ts';
import { UsageError } from '../../errors.ts';
import { connectReadOnly } from '../../db/connect.ts';
import type { Connection } from '../../db/connect.ts';
import type { Dsn } from '../../db/dsn.ts';
import type { DatabaseReport, GlpiReport, InspectReport, OcsReport } from '../../inspect/report.ts';
import { inspectGlpi, inspectOcs, inspectServer } from '../../inspect/report.ts';

interface InspectOptions extends SourceOptions {
  exactRows?: boolean;
  tables?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('inspect').description('report, read-only, what a GLPI and/or OCS database is: versions, connector, engines, collations, sizes, rows');
  addSourceOptions(cmd)
    .option('--exact-rows', 'COUNT(*) every table (default: exact for MyISAM, the engine estimate for InnoDB)')
    .option('--tables', 'list every table, not only the totals')
    .addHelpText(
      'after',
      `
Examples:
  $ GLPI_DB_PASSWORD=… glpi-ocs-upgrade inspect --glpi mysql://glpi@db1:3306/glpi
  $ glpi-ocs-upgrade inspect --glpi-dir /var/www/glpi --ocs-dir /usr/share/ocsinventory-reports/ocsreports
  $ glpi-ocs-upgrade inspect --ocs mysql://ocs@db1/ocsweb --defaults-file ~/.my.cnf --json
${CREDENTIALS_HELP}

Nothing is written: the sessions are opened READ ONLY.`,
    )
    .action(async (opts: InspectOptions, command: Command) => {
      const out = outputFor(command);
      const glpi = resolveSource('glpi', opts);
      const ocs = resolveSource('ocs', opts);
      if (!glpi && !ocs) {
        throw new UsageError('nothing to inspect: give --glpi and/or --ocs (or --glpi-dir / --ocs-dir)', {
          hint: 'glpi-ocs-upgrade inspect --help shows examples',
        });
      }
      const report = await runInspect(glpi, ocs, { exactRows: opts.exactRows });
      out.result(report);
      printReport(out, report, Boolean(opts.tables));
    });
}

async function withConn<T>(dsn: Dsn, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await connectReadOnly(dsn);
  try {
    return await fn(conn);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

export async function runInspect(glpi: Dsn | undefined, ocs: Dsn | undefined, options: { exactRows?: boolean }): Promise<InspectReport> {
  let report: InspectReport | undefined;
  if (glpi) {
    report = await withConn(glpi, async (c) => ({
      format: 1 as const,
      server: await inspectServer(c),
      glpi: await inspectGlpi(c, glpi.database!, options),
    }));
  }
  if (ocs) {
    const ocsPart = await withConn(ocs, async (c) => ({ server: await inspectServer(c), ocs: await inspectOcs(c, ocs.database!, options) }));
    report = report ? { ...report, ocs: ocsPart.ocs } : { format: 1, server: ocsPart.server, ocs: ocsPart.ocs };
  }
  return report!;
}

function printDatabase(out: Output, r: DatabaseReport, tables: boolean): void {
  out.say(`  database      ${r.database} (${r.charset ?? '?'} / ${r.collation ?? '?'})`);
  out.say(`  tables        ${r.tableCount}, ${formatCount(r.rows)} rows, ${formatBytes(r.dataBytes)} data + ${formatBytes(r.indexBytes)} indexes`);
  out.say(
    `  engines       ${Object.entries(r.byEngine)
      .map(([k, v]) => `${k} ${v.tables}`)
      .join(', ')}`,
  );
  out.say(
    `  collations    ${Object.entries(r.byCollation)
      .map(([k, v]) => `${k} ${v.tables}`)
      .join(', ')}`,
  );
  if (tables) {
    out.say();
    out.table(
      ['table', 'engine', 'collation', 'rows', 'size'],
      r.tables.map((t) => [t.name, t.engine ?? '', t.collation ?? '', `${t.rowsExact ? '' : '~'}${formatCount(t.rows)}`, formatBytes(t.dataBytes + t.indexBytes)]),
      ['l', 'l', 'l', 'r', 'r'],
    );
  }
}

function printReport(out: Output, report: InspectReport, tables: boolean): void {
  const { c } = out;
  const s = report.server;
  out.say(c.bold('Server'));
  out.say(`  version       ${s.version}`);
  out.say(`  sql_mode      ${s.sqlMode || "'' (empty)"}`);
  out.say(`  charset       ${s.characterSetServer} / ${s.collationServer}, lower_case_table_names=${s.lowerCaseTableNames}`);
  if (report.glpi) {
    const g: GlpiReport = report.glpi;
    out.say();
    out.say(c.bold('GLPI'));
    const v = g.version;
    const status = v.status === 'known' ? c.green(v.version ?? '') : c.red(`${v.status}${v.version ? ` (${v.version})` : ''}`);
    out.say(`  version       ${status}  [glpi_configs layout: ${v.layout}${v.dbversion ? `, dbversion ${v.dbversion}` : ''}]`);
    for (const p of v.problems) out.say(`  ${c.yellow('!')} ${p}`);
    const cn = g.connector;
    const mode =
      cn.mode === 'core-0.83'
        ? 'GLPI 0.83 core OCS mode (glpi_ocs* tables)'
        : cn.mode === 'renamed-0.84'
          ? 'renamed by the 0.84 migration (ocs_glpi_* tables), plugin not installed yet'
          : cn.mode === 'plugin'
            ? `ocsinventoryng plugin ${cn.pluginVersion ?? '(version unknown)'}`
            : 'none';
    out.say(`  OCS link      ${mode}${cn.mode !== 'none' ? `: ${cn.servers} server(s), ${formatCount(cn.links)} link(s)` : ''}`);
    printDatabase(out, g, tables);
  }
  if (report.ocs) {
    const o: OcsReport = report.ocs;
    out.say();
    out.say(c.bold('OCS Inventory NG'));
    const v = o.version;
    out.say(`  GUI_VERSION   ${v.guiVersion ?? v.rawGuiVersion ?? '?'} → ${v.releases.length ? c.green(v.releases.join(' / ')) : c.red('unknown release')}`);
    for (const p of v.problems) out.say(`  ${c.yellow('!')} ${p}`);
    printDatabase(out, o, tables);
  }
}
