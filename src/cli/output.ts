/**
 * How commands talk to people and machines: human text on stderr/stdout with colours only on a TTY
 * (NO_COLOR honoured), `--json` documents on stdout, `--quiet` for errors only.
 */
import type chalk from 'chalk';
import { Chalk } from 'chalk';

export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
  color?: boolean;
}

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly debug: boolean;
  readonly isTTY: boolean;
  readonly c: typeof chalk;
  /** A line for people (stdout); suppressed by --quiet and --json. */
  say(line?: string): void;
  /** Detail shown with --verbose only (stderr). */
  detail(line: string): void;
  warn(line: string): void;
  /** The machine-readable result of a command (stdout, only with --json). */
  result(doc: unknown): void;
  table(headers: string[], rows: Array<Array<string | number>>, align?: Array<'l' | 'r'>): void;
}

export function createOutput(flags: GlobalFlags, streams = { out: process.stdout, err: process.stderr }): Output {
  const isTTY = Boolean(streams.out.isTTY);
  const colorWanted = flags.color !== false && !process.env.NO_COLOR && isTTY && !flags.json;
  const c = new Chalk({ level: colorWanted ? 1 : 0 });
  const json = Boolean(flags.json);
  const quiet = Boolean(flags.quiet);
  const write = (s: NodeJS.WriteStream, text: string) => s.write(`${text}\n`);
  return {
    json,
    quiet,
    verbose: Boolean(flags.verbose),
    debug: Boolean(flags.debug),
    isTTY,
    c,
    say(line = '') {
      if (!json && !quiet) write(streams.out, line);
    },
    detail(line) {
      if (flags.verbose || flags.debug) write(streams.err, c.dim(line));
    },
    warn(line) {
      if (!quiet) write(streams.err, `${c.yellow('warning:')} ${line}`);
    },
    result(doc) {
      if (json) write(streams.out, JSON.stringify(doc, null, 2));
    },
    table(headers, rows, align) {
      if (json || quiet) return;
      write(streams.out, renderTable(headers, rows, align));
    },
  };
}

/** A plain-text table with aligned columns. */
export function renderTable(headers: string[], rows: Array<Array<string | number>>, align?: Array<'l' | 'r'>): string {
  const cells = [headers, ...rows.map((r) => r.map((x) => String(x)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((cell, i) => ((align?.[i] ?? 'l') === 'r' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}
