import type { Command } from 'commander';
import { outputFor } from '../context.ts';
import { formatDuration } from '../output.ts';
import { addSourceOptions, collect, CREDENTIALS_HELP, resolveSource } from '../options.ts';
import type { SourceOptions } from '../options.ts';
import { addDistOptions, resolveDists } from '../dist-options.ts';
import type { DistOptions } from '../dist-options.ts';
import { applyToProduction } from '../../apply/apply.ts';
import { writeGoLiveReport } from '../../report/golive.ts';
import { progressPrinter } from './rehearse.ts';
import { onInterrupt } from '../../util/shutdown.ts';
import { render } from '../../i18n/render.ts';
import { confirmFlags } from '../../apply/servers.ts';
import { recordedBackups, recordedHostPorts } from '../../apply/state.ts';

interface ApplyCliOptions extends SourceOptions, DistOptions {
  confirm?: string[];
  plan?: string;
  allowNotRun?: string[];
  backup?: string;
  backupDir?: string;
  referenceDir?: string[];
  glpiConfigDir?: string;
  functional?: boolean;
  chromium?: string;
  scenarios?: string[];
  dryRun?: boolean;
  resume?: boolean;
  lang?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('apply')
    .description('carry a complete rehearsal out on production, exactly as rehearsed: checks, backup first, the same steps, a go-live report')
    .argument('<run-dir>', 'the run directory of a complete rehearsal (rehearse -o DIR)')
    .option('--confirm <host:port>', "production server's address, typed out (required: nothing is done without it); GLPI and OCS on two servers: give it for each", collect)
    .option('--plan <file>', 'the plan you mean to apply: refused unless it is the rehearsed one (sha256)')
    .option('--allow-not-run <step>', 'accept that this step, not run in the rehearsal, is not run on production either (repeatable; recorded)', collect)
    .option('--backup <dir>', 'a backup taken in the same window (`snapshot`), used when its row counts and checksums still match production')
    .option('--backup-dir <dir>', 'where to write the pre-apply backup (default RUN_DIR/apply/backup)')
    .option('--glpi-config-dir <dir>', "production GLPI's config directory (config_db.php, glpicrypt.key): GLPI's console of each release runs with it (needed when the plan has GLPI steps)")
    .option('--functional', 'after a complete apply with GLPI steps, run the read-only functional scenarios against production (GLPI pages opened without logging in; see docs/runbook.md)')
    .option('--chromium <path>', 'Chromium for --functional (default /usr/bin/chromium)')
    .option('--scenarios <file>', 'an extra scenario book for --functional (repeatable; only its read-only scenarios run)', collect)
    .option('--reference-dir <dir>', 'reference schemas for the audit checks run again on production (repeatable)', collect)
    .option('--dry-run', 'only the read-only checks and the downtime estimate; nothing is written')
    .option('--resume', 'continue an interrupted or failed apply (a half-run step is undone from its savepoint first, and says so)')
    .option('--lang <lang>', 'language of the go-live report: fr or en', 'fr');
  addSourceOptions(cmd);
  addDistOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ glpi-ocs-upgrade apply run-1 --glpi mysql://root@db1:3306/glpi --ocs mysql://root@db1:3306/ocsweb \\
      --ocs-dist debian --confirm db1:3306 --dry-run
  $ glpi-ocs-upgrade apply run-1 --glpi mysql://root@db1:3306/glpi --ocs mysql://root@db1:3306/ocsweb \\
      --ocs-dist debian --confirm db1:3306
  $ glpi-ocs-upgrade apply run-1 ... --confirm db1:3306 --resume      # after a fix
  $ glpi-ocs-upgrade rollback run-1 --glpi ... --ocs ... --confirm db1:3306
  $ glpi-ocs-upgrade apply run-1 --glpi mysql://glpi@db1:3306/glpi --ocs mysql://ocs@db2:3306/ocsweb \
      --ocs-dist debian --confirm db1:3306 --confirm db2:3306     # two servers: one backup and rollback each

Before writing anything, apply refuses (exit 15) unless run-1 is a complete rehearsal of the same plan,
production has the rehearsed versions and structure, the audit's blocking checks find nothing new, and no
other session uses the two databases (stop the OCS communication server, GLPI's cron and mail collector).
It then backs production up (RUN_DIR/apply/backup), and runs the rehearsed steps with the rehearsal's
executors and checks. GLPI steps run GLPI's console of each release with --glpi-config-dir (production GLPI's
config dir: config_db.php is written there only when it has none; an existing glpicrypt.key is copied aside
first), with GLPI's maintenance mode on from the first release that has it until every step passed. A failed step is never rolled back silently: fix and --resume, or rollback.
Exit codes: 0 applied, 6 wrong --confirm, 7 a step failed, 13 another apply or rollback holds the run
directory or a server, 15 refused, 130 interrupted (then --resume).
${CREDENTIALS_HELP}`,
  );
  cmd.action(async (runDir: string, opts: ApplyCliOptions, command: Command) => {
    const out = outputFor(command);
    const sources = { glpi: resolveSource('glpi', opts), ocs: resolveSource('ocs', opts) };
    const dists = await resolveDists(opts);
    const controller = new AbortController();
    const stop = onInterrupt((signal) => {
      out.warn(`${signal} received: stopping after the current statement`);
      controller.abort();
    });
    try {
      const r = await applyToProduction({
        runDir,
        sources,
        confirm: opts.confirm,
        planFile: opts.plan,
        allowNotRun: opts.allowNotRun,
        backup: opts.backup,
        backupDir: opts.backupDir,
        dists,
        php: opts.php,
        glpiConfigDir: opts.glpiConfigDir,
        functional: opts.functional ? { chromium: opts.chromium, scenarios: opts.scenarios, lang: opts.lang === 'en' ? 'en' : 'fr' } : undefined,
        referenceDirs: opts.referenceDir,
        glpiDists: opts.glpiDist,
        dryRun: opts.dryRun,
        resume: opts.resume,
        signal: controller.signal,
        onEvent: progressPrinter(out),
      });
      const confirm = confirmFlags(recordedHostPorts(r.record));
      if (opts.dryRun) {
        out.result({ dryRun: true, preflight: r.record.preflight, estimate: r.estimate });
        for (const p of r.record.preflight) out.say(`${p.status === 'passed' ? 'ok' : p.status}: ${p.check} — ${render(p.detail, 'en')}`);
        out.say(`downtime estimate: ${formatDuration(r.estimate.totalMs)} (backup ${formatDuration(r.estimate.backupMs)}); book ${formatDuration(r.estimate.windowMs)} for the window`);
        out.say(`dry run: nothing was written; apply for real with the same command without --dry-run`);
        return;
      }
      const report = await writeGoLiveReport(runDir, { lang: opts.lang === 'en' ? 'en' : 'fr' });
      out.result({ runDir, record: r.record, report });
      out.say(`applied: ${r.summary?.steps.filter((s) => s.status === 'passed').length} step(s) passed on ${r.record.production.hostPort}`);
      out.say(
        `final structure equal to the rehearsal's: ${r.record.final?.structureEqual ? 'yes' : 'NO'}; ${r.record.final?.tablesDiffering.length ?? 0} table(s) with other figures than the rehearsal's (data that moved since the snapshot)`,
      );
      for (const b of recordedBackups(r.record)) out.say(`backup ${b.id.slice(0, 12)}: ${b.dir}`);
      const f = r.record.functional;
      if (f)
        out.say(
          f.error
            ? `functional scenarios against production: could not run (${f.error})`
            : `functional scenarios against production: ${f.passed} passed, ${f.failed} failed, ${f.notRun} not run (read-only ones only): ${f.resultsFile}`,
        );
      out.say(`go-live report: ${report}`);
      out.say(`to give production back: glpi-ocs-upgrade rollback ${runDir} ${confirm} (with the same --glpi/--ocs)`);
    } finally {
      stop();
    }
  });
}
