import type { Command } from 'commander';
import { addTargetOptions, resolveTarget } from '../options.ts';
import type { TargetOptions } from '../options.ts';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { formatCount, formatDuration } from '../output.ts';
import { defaultJobs } from '../../snapshot/index.ts';
import { DEFAULT_SALT_ENV, REPORT_NAME, anonymizeSnapshot, checkAnonymizeDirs, loadRules, parseAllowance, resolveSalt } from '../../anonymize/index.ts';
import type { AnonymizeSnapshotResult } from '../../anonymize/index.ts';
import { parseJobs } from './snapshot.ts';
import { FindingsError, UsageError } from '../../errors.ts';

interface AnonymizeCliOptions extends TargetOptions {
  output?: string;
  rules?: string;
  saltEnv?: string;
  jobs?: string;
  columns?: boolean;
  allow?: string[];
  sweep?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('anonymize')
    .description('write a copy of a snapshot whose personal data is replaced, consistently across GLPI and OCS, for a rehearsal off the premises')
    .argument('<snapshot>', 'the snapshot directory to anonymize (left unchanged)')
    .option('-o, --output <dir>', 'the new, anonymized snapshot directory (must not exist or be empty)')
    .option('--rules <file>', 'YAML rules overriding or extending the defaults (migrations/anonymize-rules.yaml)')
    .option('--salt-env <name>', `environment variable holding the secret salt (default ${DEFAULT_SALT_ENV})`)
    .option('--jobs <n>', `parallel sessions for the restore, the rewrite and the new snapshot (default: ${defaultJobs()} on this machine)`)
    .option('--columns', 'list every column of the report, not only the totals')
    .option(
      '--allow <db.table.column=reason>',
      'accept what the sweep finds in this column (or db.table.* for a table), for the reason given (recorded in the report); repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--no-sweep', 'skip the sweep of every text column after the rules (the report says it was not run)');
  addTargetOptions(cmd)
    .option('--defaults-file <file>', 'MySQL option file holding user/password for --instance')
    .option('--password-env <name>', 'environment variable holding the --instance password')
    .addHelpText(
      'after',
      `
Examples:
  $ export ${DEFAULT_SALT_ENV}="$(openssl rand -hex 32)"     # keep it apart from the snapshot
  $ glpi-ocs-upgrade anonymize snap-2026-11-23 -o snap-anon
  $ glpi-ocs-upgrade anonymize snap -o snap-anon --rules my-rules.yaml --columns
  $ MY_SALT=… glpi-ocs-upgrade anonymize snap -o snap-anon --salt-env MY_SALT --json
  $ glpi-ocs-upgrade anonymize snap -o snap-anon --allow glpi.glpi_softwares.name="publisher names, not people"

The salt comes from ${DEFAULT_SALT_ENV} (or the variable named by --salt-env), or is typed at a prompt on a
terminal; it is never a command-line argument and is never written anywhere. The same salt gives the same
pseudonyms (a login becomes the same user-… in GLPI and OCS); without it they cannot be traced back.
The tables holding personal data are restored into a throwaway embedded server (or --instance, a test
server), rewritten there and snapshotted again; the other tables' files are copied unchanged (checked).
Free text (ticket contents, followups, tasks, history values, OCS free fields) keeps its words; the logins,
names, e-mail addresses, phone numbers, IP and MAC addresses inside get the pseudonyms of their own columns.
Then the sweep scans every text column of every table of both databases for e-mail addresses, phone numbers,
IPv4/IPv6 and MAC addresses and the identities' original values; ${REPORT_NAME} in the output directory says
what changed, column by column, and what the sweep found (counts, masked samples, allowances).
Exit codes: 0 done, nothing left; 8 done, but the sweep found personal data in a column not --allow'ed (the
snapshot is written: read the report before it leaves); 2 bad flags, missing salt, bad rules file, output
directory not empty; 4 snapshot not found; 5 snapshot damaged; 6 --instance is not a test instance;
9 no mariadbd for the embedded server.`,
    )
    .action(async (snapshot: string, opts: AnonymizeCliOptions, command: Command) => {
      const out = outputFor(command);
      if (!opts.output) throw new UsageError('give the output directory with -o DIR', { hint: 'glpi-ocs-upgrade anonymize --help shows examples' });
      const jobs = parseJobs(opts.jobs);
      const allow = (opts.allow ?? []).map(parseAllowance);
      await checkAnonymizeDirs(snapshot, opts.output);
      const rules = loadRules({ overrideFile: opts.rules });
      const salt = await resolveSalt({ saltEnv: opts.saltEnv });
      const target = await resolveTarget(opts);
      let result: AnonymizeSnapshotResult;
      try {
        out.detail(`working in ${target.describe}`);
        result = await anonymizeSnapshot(snapshot, opts.output, {
          salt,
          rules,
          instance: target.dsn,
          jobs,
          allow,
          sweep: opts.sweep !== false,
          onPhase: (phase) => out.detail(`${phase}…`),
        });
      } finally {
        await target.embedded?.stop();
      }
      out.result({ outDir: result.outDir, snapshotId: result.manifest.id, anonymized: result.manifest.anonymized, timings: result.timings, report: result.report });
      printResult(out, result, Boolean(opts.columns));
      const sw = result.report.sweep;
      if (sw && sw.remaining > 0) {
        const cols = sw.columns.filter((x) => !x.allowed);
        throw new FindingsError(
          `the sweep found ${formatCount(sw.remaining)} possible personal data value(s) left in ${cols.length} column(s): ${cols
            .slice(0, 3)
            .map((x) => `${x.database}.${x.table}.${x.column}`)
            .join(', ')}${cols.length > 3 ? ', …' : ''}`,
          {
            hint: `read the sweep section of ${REPORT_NAME}; add a rule for the column (--rules), or --allow db.table.column="reason" when it is not personal data`,
          },
        );
      }
    });
}

function printResult(out: Output, r: AnonymizeSnapshotResult, columns: boolean): void {
  const { c } = out;
  const rep = r.report;
  out.say(`${c.green('anonymized')} → ${r.outDir}`);
  out.say(`  rules         ${rep.rulesSources.join(' + ')} (checksum ${rep.rulesChecksum.slice(0, 12)}…)`);
  out.say(`  changed       ${formatCount(rep.totals.rowsChanged)} values in ${rep.totals.columns} columns of ${rep.totals.tables} tables`);
  const absent = rep.columns.filter((x) => x.status === 'table-absent' || x.status === 'column-absent').length;
  if (absent) out.say(`  not present   ${absent} rule(s) name a table or column this installation does not have`);
  const odd = rep.columns.filter((x) => x.status === 'not-a-string-column');
  for (const x of odd) out.warn(`${x.database}.${x.table}.${x.column} is not a text column: left unchanged`);
  const t = r.timings;
  out.say(`  tables        ${formatCount(r.tables.rewritten)} rewritten, ${formatCount(r.tables.copied)} copied unchanged`);
  out.say(
    `  time          ${formatDuration(t.totalMs)} (restore ${formatDuration(t.restoreMs)}, anonymize ${formatDuration(t.anonymizeMs)}, snapshot ${formatDuration(t.snapshotMs)}; copies alongside ${formatDuration(t.copyMs)})`,
  );
  const sw = rep.sweep;
  if (!sw) out.say(`  sweep         ${c.yellow('not run')} (--no-sweep)`);
  else {
    const allowed = sw.columns.filter((x) => x.allowed).reduce((s, x) => s + x.total, 0);
    out.say(
      `  sweep         ${formatCount(sw.scanned.columns)} text columns of ${formatCount(sw.scanned.tables)} tables: ${sw.remaining === 0 ? c.green('nothing left') : c.red(`${formatCount(sw.remaining)} value(s) left`)}${allowed ? `, ${formatCount(allowed)} allowed` : ''} (${formatDuration(t.sweepMs)})`,
    );
    for (const x of sw.columns.filter((y) => !y.allowed).slice(0, 10)) {
      out.say(
        `    ${x.database}.${x.table}.${x.column}: ${Object.entries(x.hits)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}  e.g. ${x.samples.join(' · ')}`,
      );
    }
  }
  out.say(`  report        ${REPORT_NAME}`);
  if (columns) {
    out.say();
    out.table(
      ['database', 'table', 'column', 'method', 'status', 'rows changed', 'rows'],
      rep.columns.map((x) => [x.database, x.table, x.column, x.method + (x.format ? `/${x.format}` : ''), x.status, formatCount(x.rowsChanged), formatCount(x.rows)]),
      ['l', 'l', 'l', 'l', 'l', 'r', 'r'],
    );
  }
}
