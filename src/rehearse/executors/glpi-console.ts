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
import { because, failed, notRun, secondsFr, shellQuote, tailExcerpt, writeEvidence } from './common.ts';
import { msg } from '../../i18n/messages.ts';
import { consoleCommandLine, runGlpiConsole } from './glpi-env.ts';
import type { ExecutorContext, ExecutorResult, StepExecutor } from './types.ts';
import type { LocalizedText } from '../../audit/finding-types.ts';
import { assertWritable } from '../../db/interlock.ts';

type Step = PlanStep & { runner: Extract<PlanStep['runner'], { kind: 'glpi-console' }> };

export const INTERRUPTED = msg('result.interrupted', {});

export function noGlpiDb(stepId: string): LocalizedText {
  return { en: `step ${stepId} writes the GLPI database, but the rehearsal has none`, fr: `l’étape ${stepId} écrit dans la base GLPI, mais la répétition n’en a pas` };
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
      notRun: notRun(
        {
          en: `no GLPI ${release} distribution${given.length ? ` (given: ${given.join(', ')})` : ''}: pass --glpi-dist DIR with an unpacked GLPI ${release} release`,
          fr: `aucune distribution de GLPI ${release}${given.length ? ` (fournies : ${given.join(', ')})` : ''} : indiquer avec --glpi-dist DIR l’archive décompressée de GLPI ${release}`,
        },
        userCmd(`/path/to/glpi-${release}`),
      ),
    };
  }
  if (!dist.hasConsole || !dist.hasVendor) {
    return {
      dist,
      notRun: notRun(
        dist.hasConsole
          ? {
              en: `${dist.dir} has no vendor/ (a source checkout, not a release: run composer install or use the release archive)`,
              fr: `${dist.dir} n’a pas de répertoire vendor/ (copie des sources et non version publiée : exécuter composer install ou utiliser l’archive de la version)`,
            }
          : { en: `${dist.dir} has no bin/console (GLPI < 9.4 has no console)`, fr: `${dist.dir} n’a pas de bin/console (GLPI < 9.4 n’a pas de console)` },
        userCmd(dist.dir),
      ),
    };
  }
  let php: PhpInfo;
  try {
    php = await probePhp(phpBin);
  } catch (err) {
    if (err instanceof ToolError) {
      // The probe's own message (src/distributions) is English: quoted as is after a French lead-in.
      const message = err.message + (err.hint ? ` (${err.hint})` : '');
      return { dist, notRun: notRun({ en: message, fr: `PHP inutilisable (${phpBin}) : ${message}` }, userCmd(dist.dir)) };
    }
    throw err;
  }
  if (!phpSatisfies(php.version, phpRange)) {
    return {
      dist,
      php,
      notRun: notRun(
        {
          en: `PHP ${php.version} (${phpBin}) is outside the range GLPI ${dist.version} needs (${phpRange}): pass --php with a suitable binary`,
          fr: `PHP ${php.version} (${phpBin}) est hors de la plage que requiert GLPI ${dist.version} (${phpRange}) : indiquer un binaire adapté avec --php`,
        },
        userCmd(dist.dir),
      ),
    };
  }
  return { dist, php };
}

async function versionRows(ctx: ExecutorContext, db: string): Promise<{ version?: string; dbversion?: string; text: string; textFr: string }> {
  const v = await detectGlpiVersion(ctx.conn, db);
  const text = v.version ? `${v.version}${v.dbversion ? ` (dbversion ${v.dbversion})` : ''}` : undefined;
  return {
    version: v.version,
    dbversion: v.dbversion,
    text: text ?? `none (${v.problems.join('; ')})`,
    // The detection's problems (src/inspect) are English diagnostics: quoted as is.
    textFr: text ?? `aucune version (${v.problems.join(' ; ')})`,
  };
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
      return notRun(
        {
          en: `GLPI ${release} updates through ${entry}, which reads config/config_db.php inside the release tree: the tool does not write into a distribution, run it on a copy of the tree`,
          fr: `GLPI ${release} se met à jour par ${entry}, qui lit config/config_db.php dans l’arborescence de la version : l’outil n’écrit pas dans une distribution, l’exécuter sur une copie de l’arborescence`,
        },
        `cd ${shellQuote(where)} && ${shellQuote(ctx.php ?? 'php')} ${[entry, ...args].map(shellQuote).join(' ')}`,
      );
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
    if (ctx.signal?.aborted) return { status: 'failed', ...because(INTERRUPTED), evidence, ...base };

    if (command === 'db:update' || command === 'glpi:database:update') {
      if (after.version !== dist.version) {
        const refused = /not supported/i.test(run.output);
        return {
          status: 'failed',
          ...because({
            en: `db:update exited ${run.exitCode} but the version rows read ${after.text}, expected ${dist.version}${refused ? ' (the updater refused to run)' : ''}`,
            fr: `db:update s’est terminé avec le code ${run.exitCode}, mais les lignes de version indiquent ${after.textFr} au lieu de ${dist.version}${refused ? ' (le programme de mise à jour a refusé de s’exécuter)' : ''}`,
          }),
          evidence,
          ...base,
        };
      }
      if (run.exitCode !== 0) {
        return {
          status: 'failed',
          ...because({
            en: `db:update exited ${run.exitCode} although the version rows read ${after.text}`,
            fr: `db:update s’est terminé avec le code ${run.exitCode}, bien que les lignes de version indiquent ${after.textFr}`,
          }),
          evidence,
          ...base,
        };
      }
      return {
        status: 'passed',
        ...because({
          en: `GLPI ${before.text} → ${after.text} in ${(run.durationMs / 1000).toFixed(1)} s`,
          fr: `GLPI ${before.textFr} → ${after.textFr} en ${secondsFr(run.durationMs)} s`,
        }),
        evidence,
        ...base,
      };
    }
    if (run.exitCode !== 0) {
      const what: LocalizedText = command.startsWith('db:check_schema_integrity')
        ? { en: 'schema differences found (see the evidence)', fr: 'différences de schéma constatées (voir les preuves)' }
        : { en: `exit code ${run.exitCode}`, fr: `code de sortie ${run.exitCode}` };
      return { status: 'failed', ...because({ en: `${command}: ${what.en}`, fr: `${command} : ${what.fr}` }), evidence, ...base };
    }
    if (before.version !== after.version) {
      return {
        status: 'failed',
        ...because({
          en: `${command} changed the version rows (${before.text} → ${after.text})`,
          fr: `${command} a modifié les lignes de version (${before.textFr} → ${after.textFr})`,
        }),
        evidence,
        ...base,
      };
    }
    return {
      status: 'passed',
      ...because({ en: `${command} exited 0 in ${(run.durationMs / 1000).toFixed(1)} s`, fr: `${command} s’est terminé avec le code 0 en ${secondsFr(run.durationMs)} s` }),
      evidence,
      ...base,
    };
  },
};
