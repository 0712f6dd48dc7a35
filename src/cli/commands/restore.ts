import type { Command } from 'commander';
import { addTargetOptions, resolveTarget, serverSettingsFrom } from '../options.ts';
import type { Target, TargetOptions } from '../options.ts';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { formatBytes, formatCount, formatDuration } from '../output.ts';
import { UsageError } from '../../errors.ts';
import { formatDsn } from '../../db/dsn.ts';
import { listInstances, startEmbedded } from '../../db/embedded.ts';
import { RestoreMismatchError, defaultJobs, restoreSnapshot } from '../../snapshot/index.ts';
import type { RestoreProgress, RestoreResult } from '../../snapshot/index.ts';
import { parseJobs, withProgress } from './snapshot.ts';

interface RestoreCliOptions extends TargetOptions {
  glpiDb?: string;
  ocsDb?: string;
  force?: boolean;
  jobs?: string;
  keepInstance?: string;
}

const NAME_RE = /^[A-Za-z0-9_$-]{1,64}$/;

export function register(program: Command): void {
  const cmd = program.command('restore').description('load a snapshot into a test instance, in parallel, then compare every table with the manifest').argument('<dir>', 'the snapshot directory');
  addTargetOptions(cmd)
    .option('--keep-instance <name>', 'start a new embedded instance that stays up after the command, named NAME (embedded:NAME)')
    .option('--glpi-db <name>', 'restore the GLPI database under this name (default: its name at the source)')
    .option('--ocs-db <name>', 'restore the OCS database under this name (default: its name at the source)')
    .option('--force', 'drop target databases that already hold tables')
    .option('--jobs <n>', `parallel loader sessions (default: ${defaultJobs()} on this machine)`)
    .option('--defaults-file <file>', 'MySQL option file holding user/password for --instance')
    .option('--password-env <name>', 'environment variable holding the --instance password')
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade instance start --name lab
  $ glpi-ocs-upgrade restore snap-2026-11-23 --instance embedded:lab
  $ glpi-ocs-upgrade restore snap-2026-11-23 --keep-instance lab2          # starts one and leaves it running
  $ INSTANCE_DB_PASSWORD=… glpi-ocs-upgrade restore snap --instance mysql://root@10.0.0.9/ --glpi-db glpi_test --force
  $ glpi-ocs-upgrade restore snap-2026-11-23                                # restore test in a throwaway server

Without --instance or --keep-instance the data goes into an embedded server that is deleted when the
command ends: useful only to prove the snapshot restores (every checksum is compared). The target must be
a test instance (embedded, or marked with \`instance mark\`): anything else is refused (exit 6).
Exit codes: 0 restored and every table matches; 5 a file or a table does not match; 2 target database
not empty (use --force or other names); 6 not a test instance.`,
    )
    .action(async (dir: string, opts: RestoreCliOptions, command: Command) => {
      const out = outputFor(command);
      const databases: Record<string, string> = {};
      for (const [role, name] of [
        ['glpi', opts.glpiDb],
        ['ocs', opts.ocsDb],
      ] as const) {
        if (name === undefined) continue;
        if (!NAME_RE.test(name)) throw new UsageError(`--${role}-db "${name}" is not a plain database name (letters, digits, _ $ -)`);
        databases[role] = name;
      }
      const jobs = parseJobs(opts.jobs);
      let target: Target;
      if (opts.keepInstance) {
        if (opts.instance) throw new UsageError('--keep-instance and --instance cannot be used together');
        if (listInstances().some((r) => r.alive && r.name === opts.keepInstance)) {
          throw new UsageError(`an embedded instance named "${opts.keepInstance}" is already running`, { hint: `use --instance embedded:${opts.keepInstance}` });
        }
        const inst = await startEmbedded({ serverBin: opts.serverBin, settings: serverSettingsFrom(opts), keep: true, name: opts.keepInstance });
        target = { dsn: inst.dsn, describe: `embedded instance ${inst.record.name} (port ${inst.record.port}, kept)` };
      } else {
        target = await resolveTarget(opts);
        if (target.embedded) {
          out.warn(
            'restoring into a throwaway embedded server that is deleted when this command ends (a restore test); ' +
              'to keep the data use --keep-instance NAME, or --instance embedded:NAME after `instance start --name NAME`',
          );
        }
      }
      out.detail(`target: ${target.describe}`);
      let result: RestoreResult;
      try {
        result = await withProgress(out, `Restore ${dir} into ${target.describe}`, (update) =>
          restoreSnapshot(dir, target.dsn, { databases, force: opts.force, jobs, onProgress: restoreTracker(update) }),
        );
      } catch (err) {
        if (err instanceof RestoreMismatchError) {
          out.result({ target: formatDsn({ ...target.dsn, database: undefined }), ...err.result });
          printTables(out, err.result, true);
        }
        throw err;
      } finally {
        if (target.embedded) await target.embedded.stop();
      }
      out.result({ target: formatDsn({ ...target.dsn, database: undefined }), kept: Boolean(opts.keepInstance || opts.instance), ...result });
      if (out.verbose) printTables(out, result, false);
      const rows = result.tables.reduce((n, t) => n + t.rows, 0);
      const dbs = Object.entries(result.databases)
        .map(([role, name]) => `${role} → ${name}`)
        .join(', ');
      out.say(`restored ${result.tables.length} tables (${formatCount(rows)} rows) into ${target.describe} [${dbs}] in ${formatDuration(result.elapsedMs)}`);
      const objects = [result.views && `${result.views} view(s)`, result.triggers && `${result.triggers} trigger(s)`, result.routines && `${result.routines} routine(s)`].filter(Boolean);
      if (objects.length) out.say(`  also ${objects.join(', ')}`);
      out.say('  every table reads back with the row count and checksum recorded in the manifest');
      if (opts.keepInstance) out.say(`  the instance stays up: use --instance embedded:${opts.keepInstance}; stop it with \`instance stop ${opts.keepInstance}\``);
    });
}

function restoreTracker(update: (line: string) => void): (e: RestoreProgress) => void {
  let total = 0;
  let bytes = 0;
  let loaded = 0;
  let tables = 0;
  let phase = 'checking files';
  const t0 = Date.now();
  return (e) => {
    if (e.type === 'verified') phase = 'files verified';
    else if (e.type === 'plan') {
      total = e.tables;
      bytes = e.bytes;
      phase = 'loading';
    } else if (e.type === 'file') loaded += e.bytes;
    else if (e.type === 'table') tables = e.done;
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? loaded / secs : 0;
    const eta = rate > 0 && bytes > loaded ? ` · ETA ${formatDuration(((bytes - loaded) / rate) * 1000)}` : '';
    update(`${phase}: ${tables}/${total} tables checked · ${formatBytes(loaded)}/${formatBytes(bytes)} compressed loaded${eta}`);
  };
}

function printTables(out: Output, r: RestoreResult, onlyBad: boolean): void {
  const rows = r.tables.filter((t) => !onlyBad || !t.ok);
  if (rows.length === 0) return;
  if (onlyBad && !out.json) {
    for (const t of rows) {
      process.stderr.write(`  ${t.role}.${t.table}: rows ${t.rows} (expected ${t.expectedRows}), checksum ${t.checksum ?? 'null'} (expected ${t.expectedChecksum ?? 'null'})\n`);
      for (const w of t.warnings ?? []) process.stderr.write(`    ${w}\n`);
    }
    return;
  }
  out.table(
    ['database', 'table', 'rows', 'checksum', 'match'],
    rows.map((t) => [t.role, t.table, formatCount(t.rows), t.checksum ?? 'null', t.ok ? 'yes' : 'NO']),
    ['l', 'l', 'r', 'r', 'l'],
  );
}
