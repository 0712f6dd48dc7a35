import type { Command } from 'commander';
import { Option } from 'commander';
import { Listr } from 'listr2';
import { addSourceOptions, CREDENTIALS_HELP, resolveSource } from '../options.ts';
import type { SourceOptions } from '../options.ts';
import { outputFor } from '../context.ts';
import type { Output } from '../output.ts';
import { formatBytes, formatCount, formatDuration } from '../output.ts';
import { UsageError } from '../../errors.ts';
import { withTypedPassword } from '../../db/connect.ts';
import { DEFAULT_MAX_LOCK_MS, defaultJobs, takeSnapshot } from '../../snapshot/index.ts';
import type { Manifest, SnapshotProgress, SnapshotSource } from '../../snapshot/index.ts';

interface SnapshotCliOptions extends SourceOptions {
  output?: string;
  jobs?: string;
  lock?: boolean;
  compressionLevel?: string;
  chunkMb?: string;
  maxLockSeconds?: string;
}

export function parseJobs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--jobs must be a whole number from 1 to 64, not "${text}"`);
  return n;
}

/**
 * Runs `work` with a progress display: a listr2 task on a TTY (title + one updating line), nothing otherwise.
 * `update` receives the line to show.
 */
export async function withProgress<T>(out: Output, title: string, work: (update: (line: string) => void) => Promise<T>): Promise<T> {
  if (!out.isTTY || out.json || out.quiet || !process.stderr.isTTY) return work(() => undefined);
  let result: T | undefined;
  const list = new Listr(
    [
      {
        title,
        task: async (_ctx, task) => {
          result = await work((line) => {
            task.output = line;
          });
        },
        rendererOptions: { bottomBar: 1 },
      },
    ],
    { exitOnError: true, rendererOptions: { collapseErrors: true }, registerSignalListeners: false },
  );
  await list.run();
  return result as T;
}

/** "12/300 tables · 150 MiB · 25 MiB/s · ETA 8 s" from the snapshot's progress events. */
export function snapshotTracker(update: (line: string) => void): (e: SnapshotProgress) => void {
  let estimated = 0;
  let raw = 0;
  let tables = 0;
  let total = 0;
  let rows = 0;
  const t0 = Date.now();
  let lockNote = '';
  return (e) => {
    if (e.type === 'plan') {
      estimated += e.estimatedBytes;
      total += e.tables;
    } else if (e.type === 'chunk') {
      raw += e.rawBytes;
      rows += e.rows;
    } else if (e.type === 'table') {
      tables++;
    } else if (e.type === 'locked') {
      lockNote = e.method === 'global-read-lock' ? ' · global read lock held' : ' · table read locks held';
    } else if (e.type === 'unlocked') {
      lockNote = ` · lock released after ${formatDuration(e.heldMs)}`;
    }
    const secs = (Date.now() - t0) / 1000;
    const rate = secs > 0 ? raw / secs : 0;
    const eta = rate > 0 && estimated > raw ? ` · ETA ${formatDuration(((estimated - raw) / rate) * 1000)}` : '';
    update(`${tables}/${total} tables · ${formatCount(rows)} rows · ${formatBytes(raw)} read · ${formatBytes(rate)}/s${eta}${lockNote}`);
  };
}

export function register(program: Command): void {
  const cmd = program.command('snapshot').description('copy the GLPI and OCS databases, read-only and consistent, byte for byte, into a snapshot directory');
  addSourceOptions(cmd)
    .requiredOption('-o, --output <dir>', 'the snapshot directory to create (must not exist, or be empty)')
    .option('--jobs <n>', `parallel reader sessions (default: ${defaultJobs()} on this machine)`)
    .option('--no-lock', 'do not take the read lock on MyISAM tables (only for a replica nobody writes to)')
    .addOption(new Option('--compression-level <n>', 'gzip level of the data files, 0–9').default('1'))
    .option('--chunk-mb <n>', 'split tables with an integer primary key into files of about this size (default 64)')
    .option(
      '--max-lock-seconds <n>',
      `the longest production writes may wait on the snapshot's lock; past it the snapshot stops, releases everything and exits 12 (default ${DEFAULT_MAX_LOCK_MS / 1000})`,
    )
    .addHelpText(
      'after',
      `
Examples:
  $ GLPI_DB_PASSWORD=… OCS_DB_PASSWORD=… glpi-ocs-upgrade snapshot \\
      --glpi mysql://glpi@db1/glpi --ocs mysql://ocs@db1/ocsweb -o snap-2026-11-23
  $ glpi-ocs-upgrade snapshot --glpi-dir /var/www/glpi --ocs-dir /usr/share/ocsinventory-reports/ocsreports -o snap
  $ glpi-ocs-upgrade snapshot --glpi-dir /var/www/glpi --ocs-dir /usr/share/ocsinventory-reports/ocsreports \\
      --max-lock-seconds 20 -o snap              # writes never held more than 20 s, else exit 12
  $ glpi-ocs-upgrade snapshot --glpi mysql://glpi@replica/glpi --no-lock --jobs 4 -o snap --json
${CREDENTIALS_HELP}

Nothing is written to the source: every session is READ ONLY. GLPI and OCS are frozen at one instant (even
with two accounts or two servers): with RELOAD, by FLUSH TABLES WITH READ LOCK while every reader copies the
MyISAM tables (most of GLPI 0.83); without it, by LOCK TABLES … READ, the session holding the lock copying
them alone. Writers wait, never a reader: no deadlock. The lock is released as soon as the MyISAM tables are
copied; InnoDB tables are read from one consistent transaction. The manifest and the output say how long the
lock was held and the longest a write waited (seen with PROCESS). The account needs SELECT, LOCK TABLES,
SHOW VIEW and TRIGGER; RELOAD and PROCESS are recommended; SELECT on mysql.proc copies routines.
Exit 12 when the lock would exceed --max-lock-seconds. Check a copy with \`verify DIR\`; load it with
\`restore DIR\` (docs/snapshot.md).`,
    )
    .action(async (opts: SnapshotCliOptions, command: Command) => {
      const out = outputFor(command);
      const sources: SnapshotSource[] = [];
      const glpi = resolveSource('glpi', opts);
      const ocs = resolveSource('ocs', opts);
      if (glpi) sources.push({ role: 'glpi', dsn: glpi });
      if (ocs) sources.push({ role: 'ocs', dsn: ocs });
      if (sources.length === 0) throw new UsageError('nothing to copy: give --glpi and/or --ocs (or --glpi-dir / --ocs-dir)');
      const level = Number(opts.compressionLevel ?? '1');
      if (!Number.isInteger(level) || level < 0 || level > 9) throw new UsageError(`--compression-level must be 0–9, not "${opts.compressionLevel}"`);
      const chunkMb = opts.chunkMb === undefined ? undefined : Number(opts.chunkMb);
      if (chunkMb !== undefined && !(chunkMb > 0)) throw new UsageError(`--chunk-mb must be a positive number, not "${opts.chunkMb}"`);
      let maxLockMs: number | undefined;
      if (opts.maxLockSeconds !== undefined) {
        const n = Number(opts.maxLockSeconds);
        if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new UsageError(`--max-lock-seconds must be a number of seconds from 0.1 to 86400, not "${opts.maxLockSeconds}"`);
        maxLockMs = Math.round(n * 1000);
      }
      if (opts.lock === false) out.warn('--no-lock: MyISAM tables are read without a lock; use it only on a replica that nobody writes to');
      // Any password prompt comes now, once per account, before the progress display takes the terminal.
      for (const s of sources) s.dsn = await withTypedPassword(s.dsn);
      const warnings: string[] = [];
      const manifest = await withProgress(out, `Snapshot to ${opts.output}`, (update) => {
        const track = snapshotTracker(update);
        return takeSnapshot({
          sources,
          outDir: opts.output!,
          jobs: parseJobs(opts.jobs),
          lock: opts.lock !== false,
          compressionLevel: level,
          chunkBytes: chunkMb === undefined ? undefined : chunkMb * 1024 * 1024,
          maxLockMs,
          onProgress: (e) => {
            if (e.type === 'warning') warnings.push(e.message);
            if (e.type === 'table') out.detail(`${e.role}.${e.table}: ${formatCount(e.rows)} rows`);
            track(e);
          },
        });
      });
      for (const w of warnings) out.warn(w);
      out.result({ directory: opts.output, manifest });
      printSummary(out, opts.output!, manifest);
    });
}

function printSummary(out: Output, dir: string, m: Manifest): void {
  const tables = m.databases.reduce((n, d) => n + d.tables.length, 0);
  const rows = m.databases.reduce((n, d) => n + d.tables.reduce((r, t) => r + t.rows, 0), 0);
  const bytes = m.databases.reduce((n, d) => n + d.tables.reduce((r, t) => r + t.files.reduce((b, f) => b + f.bytes, 0), 0), 0);
  out.say(`snapshot ${m.id.slice(0, 12)} written to ${dir}`);
  for (const d of m.databases) {
    const version = d.glpi ? `GLPI ${d.glpi.version.version ?? '?'}` : `OCS GUI_VERSION ${d.ocs?.version.guiVersion ?? '?'}`;
    const objects = [d.views.length && `${d.views.length} view(s)`, d.triggers.length && `${d.triggers.length} trigger(s)`, d.routines.length && `${d.routines.length} routine(s)`]
      .filter(Boolean)
      .join(', ');
    out.say(`  ${d.role.padEnd(5)} ${d.name} (${version}): ${d.tables.length} tables, ${formatCount(d.tables.reduce((r, t) => r + t.rows, 0))} rows${objects ? `, ${objects}` : ''}`);
    for (const w of d.warnings ?? []) out.warn(`${d.role}: ${w}`);
  }
  out.say(
    `  ${tables} tables, ${formatCount(rows)} rows, ${formatBytes(bytes)} compressed (gzip -${m.compression.level}), ${formatDuration(m.stats?.elapsedMs ?? 0)} with ${m.stats?.jobs ?? '?'} reader(s)`,
  );
  out.say(`  consistency: ${consistencyLine(m)}`);
  if (m.consistency.warning) out.warn(m.consistency.warning);
}

/** One line: the method, how long production writes were held, the longest write wait, one instant or not. */
export function consistencyLine(m: Manifest): string {
  const c = m.consistency;
  if (c.method === 'no-lock') return `no read lock (--no-lock)${c.instants === 'separate' ? '; GLPI and OCS may come from different moments' : ''}`;
  const how =
    c.method === 'global-read-lock'
      ? 'global read lock (FLUSH TABLES WITH READ LOCK), MyISAM copied by every reader'
      : c.method === 'table-locks'
        ? 'LOCK TABLES … READ without RELOAD, MyISAM copied by the session holding the lock'
        : `read lock (${c.method})`;
  const wait =
    c.longestWriteWaitMs === undefined
      ? ''
      : c.longestWriteWaitMs === null
        ? '; write waits not observable (the account lacks PROCESS)'
        : `; longest write wait seen ${formatDuration(c.longestWriteWaitMs)}`;
  const instant = c.instants === 'one' ? '; GLPI and OCS at one instant' : c.instants === 'separate' ? '; GLPI and OCS at different moments' : '';
  return `${how}; writes held at most ${formatDuration(c.lockHeldMs)}${wait}; InnoDB from one consistent transaction${instant}`;
}
