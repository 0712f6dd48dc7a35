/**
 * The glpi-console executor: `php bin/console <command> <args> -n --no-ansi [--lang=<data's language>]` of the GLPI
 * release the step names, from `--glpi-dist`, against the test instance (see glpi-env.ts for how the tree
 * stays untouched and the password stays off command lines).
 *
 * GLPI's exit code is not trusted alone (10.0.19's db:update exits 0 when it refuses to start): after
 * db:update the version rows are read back and must equal the release; db:check_schema_integrity must exit
 * 0; any other command must exit 0 and leave the version rows as they were. Without the distribution or a
 * suitable PHP the step is "not run", with the exact command the user must run — never passed.
 */
import { detectGlpiVersion } from '../../inspect/detect.ts';
import { findGlpiDist, phpSatisfies, probePhp, type GlpiDistribution, type PhpInfo } from '../../distributions/glpi.ts';
import { ToolError } from '../../errors.ts';
import type { PlanStep } from '../../plan/plan-types.ts';
import { failed, notRun, shellQuote, tailExcerpt, writeEvidence } from './common.ts';
import { msg, type Message } from '../../i18n/messages.ts';
import { render } from '../../i18n/render.ts';
import { consoleCommandLine, runGlpiConsole } from './glpi-env.ts';
import type { ExecutorContext, ExecutorResult, StepExecutor } from './types.ts';
import { assertWritable } from '../../db/interlock.ts';

type Step = PlanStep & { runner: Extract<PlanStep['runner'], { kind: 'glpi-console' }> };

export const INTERRUPTED = msg('result.interrupted', {});

export function noGlpiDb(stepId: string): Message {
  return msg('result.glpi.no-database', { step: stepId });
}

export interface GlpiPrerequisites {
  dist?: GlpiDistribution;
  php?: PhpInfo;
  /** Set when the step cannot run here. */
  notRun?: ExecutorResult;
}

/** Finds the distribution and PHP for a release, or the not-run result that says what is missing. */
export async function glpiPrerequisites(ctx: ExecutorContext, release: string, phpRange: string | undefined, command: string, args: string[]): Promise<GlpiPrerequisites> {
  const dist = findGlpiDist(ctx.dists.glpi ?? [], release);
  const phpBin = ctx.php ?? 'php';
  const userCmd = (dir: string) => consoleCommandLine(dir, command, args, phpBin);
  if (!dist) {
    const given = (ctx.dists.glpi ?? []).map((d) => d.version);
    return {
      notRun: notRun(msg('result.glpi.no-dist', { release, given }), userCmd(`/path/to/glpi-${release}`)),
    };
  }
  if (!dist.hasConsole || !dist.hasVendor) {
    return {
      dist,
      notRun: notRun(dist.hasConsole ? msg('result.glpi.no-vendor', { dir: dist.dir }) : msg('result.glpi.no-console', { dir: dist.dir }), userCmd(dist.dir)),
    };
  }
  let php: PhpInfo;
  try {
    php = await probePhp(phpBin);
  } catch (err) {
    if (err instanceof ToolError) {
      const message = err.message + (err.hint ? ` (${err.hint})` : '');
      return { dist, notRun: notRun(msg('result.glpi.php-unusable', { php: phpBin, message }), userCmd(dist.dir)) };
    }
    throw err;
  }
  if (!phpSatisfies(php.version, phpRange)) {
    return {
      dist,
      php,
      notRun: notRun(msg('result.glpi.php-range', { version: php.version, php: phpBin, glpi: dist.version, range: phpRange }), userCmd(dist.dir)),
    };
  }
  return { dist, php };
}

/** The version rows read back: `rows` says them in a sentence, `text` in English for the evidence details. */
async function versionRows(ctx: ExecutorContext, db: string): Promise<{ version?: string; dbversion?: string; rows: Message; text: string }> {
  const v = await detectGlpiVersion(ctx.conn, db);
  const rows = msg('result.glpi.version-rows', { version: v.version, dbversion: v.dbversion, problems: v.problems });
  return { version: v.version, dbversion: v.dbversion, rows, text: render(rows, 'en') };
}

export const glpiConsoleExecutor: StepExecutor<'glpi-console'> = {
  kind: 'glpi-console',
  async execute(step: Step, ctx: ExecutorContext): Promise<ExecutorResult> {
    const db = ctx.databases.glpi;
    if (!db) return failed(noGlpiDb(step.id));
    const { command, args, release } = step.runner;
    const entry = step.runner.entry ?? 'bin/console';
    if (entry !== 'bin/console') {
      // GLPI < 10 reads its config dir from the tree itself (no GLPI_CONFIG_DIR from the environment), so
      // running its old CLI updater would mean writing config_db.php into the user's tree: left to the user.
      const where = findGlpiDist(ctx.dists.glpi ?? [], release)?.dir ?? `/path/to/glpi-${release}`;
      return notRun(msg('result.glpi.old-updater', { release, entry }), `cd ${shellQuote(where)} && ${shellQuote(ctx.php ?? 'php')} ${[entry, ...args].map(shellQuote).join(' ')}`);
    }
    const pre = await glpiPrerequisites(ctx, release, step.requires.php, command, args);
    if (pre.notRun) return pre.notRun;
    const dist = pre.dist as GlpiDistribution;
    const php = pre.php as PhpInfo;
    await assertWritable(ctx.conn, ctx.dsn, `run GLPI ${dist.version} ${command} on ${db}`);

    const before = await versionRows(ctx, db);
    ctx.log(`GLPI ${dist.version}: php bin/console ${[command, ...args].join(' ')} (PHP ${php.version})`);
    const run = await runGlpiConsole(ctx, dist, php.bin, db, command, args);
    const after = await versionRows(ctx, db);
    const slug = command.replace(/[^A-Za-z0-9_.-]+/g, '_');
    const evidence = [
      writeEvidence(
        ctx,
        `console-${slug}.log`,
        `$ ${run.shown}\n# exit code ${run.exitCode}, ${run.durationMs} ms, PHP ${php.version}\n\n${run.output}\n${run.logLines.length ? `\n# GLPI log lines written during the command\n${run.logLines.join('\n')}\n` : ''}`,
      ),
    ];
    const base: Partial<ExecutorResult> = {
      versionBefore: before.version,
      versionAfter: after.version,
      outputExcerpt: tailExcerpt(run.output),
      commandForUser: run.shown,
      details: { exitCode: run.exitCode, durationMs: run.durationMs, php: php.version, distribution: dist.dir, glpiVersion: dist.version, versionRowsAfter: after.text },
    };
    if (ctx.signal?.aborted) return { status: 'failed', reason: INTERRUPTED, evidence, ...base };

    if (command === 'db:update' || command === 'glpi:database:update') {
      if (after.version !== dist.version) {
        const refused = /not supported/i.test(run.output);
        return {
          status: 'failed',
          reason: msg('result.glpi.update-version', { exitCode: run.exitCode, rows: after.rows, expected: dist.version, refused }),
          evidence,
          ...base,
        };
      }
      if (run.exitCode !== 0) {
        return {
          status: 'failed',
          reason: msg('result.glpi.update-exit', { exitCode: run.exitCode, rows: after.rows }),
          evidence,
          ...base,
        };
      }
      // [apply] e.g. GLPI's maintenance mode, turned on once the database is at a release that has it.
      await ctx.afterGlpiConsole?.(ctx, { dist, php: php.bin, database: db });
      return {
        status: 'passed',
        reason: msg('result.glpi.updated', { before: before.rows, after: after.rows, ms: run.durationMs }),
        evidence,
        ...base,
      };
    }
    if (run.exitCode !== 0) {
      const reason = command.startsWith('db:check_schema_integrity') ? msg('result.glpi.schema-differs', { command }) : msg('result.glpi.exit-code', { command, exitCode: run.exitCode });
      return { status: 'failed', reason, evidence, ...base };
    }
    if (before.version !== after.version) {
      return {
        status: 'failed',
        reason: msg('result.glpi.version-changed', { command, before: before.rows, after: after.rows }),
        evidence,
        ...base,
      };
    }
    return {
      status: 'passed',
      reason: msg('result.glpi.exited-0', { command, ms: run.durationMs }),
      evidence,
      ...base,
    };
  },
};
