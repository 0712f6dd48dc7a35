/**
 * The command-line entry point: builds the commander program, runs it, and turns every failure into one
 * clear line and a documented exit code (docs/exit-codes.md). `--debug` adds the stack trace.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, ToolError, fromSystemError } from '../errors.ts';
import { registerCommands } from './commands/index.ts';
import { runShutdownHooks } from '../util/shutdown.ts';
import { TOOL_VERSION } from '../version.ts';
import { PRIVATE_UMASK, ensurePrivateDir } from '../util/private.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('glpi-ocs-upgrade')
    .description(
      'Upgrade GLPI 0.83.8 and OCS Inventory NG 2.1 (and the GLPI–OCS link) to current releases:\n' +
        'snapshot production read-only, audit, plan, rehearse on a throwaway instance, write the acceptance dossier.',
    )
    .version(TOOL_VERSION, '-V, --version')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'print errors only')
    .option('-v, --verbose', 'print more detail')
    .option('--debug', 'show stack traces and driver errors')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText(
      'after',
      `
Typical session:
  $ glpi-ocs-upgrade demo                                    # the whole pipeline on bundled fixtures
  $ glpi-ocs-upgrade inspect --glpi mysql://glpi@db1/glpi --ocs mysql://ocs@db1/ocsweb
  $ glpi-ocs-upgrade instance start --name lab               # a throwaway server kept between commands

Exit codes: 0 ok, 2 usage, 3 connection, 4 not found, 5 verification failed, 6 refused by interlock,
7 step failed, 8 findings/verdict, 9 missing program, 10 disk full, 11 unsupported data, 130 interrupted.
See docs/exit-codes.md.`,
    );
  program.exitOverride();
  program.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    writeOut: (s) => process.stdout.write(s),
  });
  registerCommands(program);
  // An output directory that already existed keeps its rights under the umask: narrow it to 0700 too.
  program.hook('preAction', (_root, action) => {
    const opts = action.opts() as { output?: unknown; out?: unknown };
    for (const value of [opts.output, opts.out]) if (typeof value === 'string') narrowOutputDir(value);
  });
  for (const cmd of program.commands) {
    cmd.exitOverride();
    cmd.showSuggestionAfterError(true);
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/** Narrows an existing output directory to 0700 — never the current directory, home, or one of their parents. */
function narrowOutputDir(value: string): void {
  const dir = path.resolve(value);
  try {
    if (!fs.statSync(dir).isDirectory()) return;
  } catch {
    return; // absent: it will be created 0700 under the umask
  }
  for (const guarded of [process.cwd(), os.homedir()]) {
    const rel = path.relative(dir, path.resolve(guarded));
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return;
  }
  try {
    ensurePrivateDir(dir);
  } catch {
    /* not ours to change: the command reports what it cannot write */
  }
}

function report(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.OK;
    // commander already printed its message.
    return ExitCode.USAGE;
  }
  const typed = err instanceof ToolError ? err : fromSystemError(err, 'running the command');
  if (typed) {
    process.stderr.write(`error: ${typed.message}\n`);
    if (typed.hint) process.stderr.write(`hint: ${typed.hint}\n`);
    if (debug) process.stderr.write(`${(typed.cause as Error | undefined)?.stack ?? typed.stack ?? ''}\n`);
    return typed.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: unexpected failure: ${message}\n`);
  if (debug) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  else process.stderr.write('hint: run again with --debug for details, and report it if it persists\n');
  return ExitCode.INTERNAL;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  // Private by default: snapshots, anonymised copies, run directories and the embedded servers' files hold
  // production data (password hashes included). Every directory this process or its children (mariadbd,
  // php) create is 0700 and every file 0600, whatever the caller's umask.
  process.umask(PRIVATE_UMASK);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.OK;
  } catch (err) {
    runShutdownHooks();
    return report(err, debug);
  }
}
