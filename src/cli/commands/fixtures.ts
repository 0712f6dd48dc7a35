import type { Command } from 'commander';
import path from 'node:path';
import { addServerSettingsOptions, resolveTarget } from '../options.ts';
import type { ServerSettingsOptions } from '../options.ts';
import { outputFor } from '../context.ts';
import { formatCount, formatDuration } from '../output.ts';
import { UsageError } from '../../errors.ts';
import { isEmptyDir } from '../../snapshot/files.ts';
import type { GenerateResult } from '../../synthetic/index.ts';
import { generateFixtures, HAZARDS, HAZARD_NAMES, hazardsFromText, MAX_COMPUTERS, MIN_COMPUTERS, resolveSchemaSource, writeFixtureSnapshot } from '../../synthetic/index.ts';
import { withProgress } from './snapshot.ts';

interface GenerateCliOptions extends ServerSettingsOptions {
  into?: string;
  output?: string;
  seed: string;
  computers: string;
  hazards: string;
  glpiDb: string;
  ocsDb: string;
  glpiSchema?: string;
  ocsSchema?: string;
  replace?: boolean;
  ocsHost: string;
  compressionLevel: string;
  passwordEnv?: string;
  defaultsFile?: string;
}

function intOption(text: string, name: string, lo: number, hi: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`${name} must be a whole number from ${lo} to ${hi}, not "${text}"`);
  return n;
}

export function register(program: Command): void {
  const group = program
    .command('fixtures')
    .description('synthetic GLPI 0.83.8 + OCS 2.1 databases with realistic content and deliberate hazards (for tests, CI and demos)')
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade fixtures generate -o snap-demo --computers 200 --hazards all
  $ glpi-ocs-upgrade fixtures generate --into embedded:lab --hazards dup-slalevels-tickets,zero-dates
  $ npm run fixtures:regen          # rebuild the committed fixtures/small and fixtures/clean`,
    );

  const gen = group
    .command('generate')
    .description('generate a GLPI 0.83.8 and an OCS 2.1 (GUI_VERSION 7005) database, seeded, into a test server and/or a snapshot directory')
    .option('-o, --output <dir>', 'write the generated databases as a snapshot directory (new or empty)')
    .option('--into <dsn>', 'generate into this test server and keep the databases there (a DSN, or embedded:NAME); default: a throwaway embedded server')
    .option('--seed <n>', 'seed: the same seed and options give identical data (same checksums)', '1')
    .option('--computers <n>', `number of GLPI computers, ${MIN_COMPUTERS}–${MAX_COMPUTERS} (everything else scales with it)`, '50')
    .option('--hazards <list>', `all, none, or a comma-separated list of: ${HAZARD_NAMES.join(', ')}`, 'all')
    .option('--glpi-db <name>', 'name of the GLPI database to create', 'glpi')
    .option('--ocs-db <name>', 'name of the OCS database to create', 'ocsweb')
    .option('--glpi-schema <file|dir>', 'GLPI 0.83.8 schema: glpi-0.83.8-empty.sql, a GLPI tree (install/mysql/…), or a snapshot dir')
    .option('--ocs-schema <file|dir>', 'OCS 2.1 schema: ocsbase_new.sql, an OCS 2.1 console dir (files/…), or a snapshot dir')
    .option('--replace', 'drop and recreate the databases when they already exist on --into')
    .option('--ocs-host <host>', 'host written into glpi_ocsservers.ocs_db_host', 'localhost')
    .option('--compression-level <n>', 'gzip level of the snapshot files (0–9)', '6')
    .option('--password-env <name>', 'environment variable holding the --into password (default INSTANCE_DB_PASSWORD, then MYSQL_PWD)')
    .option('--defaults-file <file>', 'MySQL option file holding the --into user/password');
  addServerSettingsOptions(gen).addHelpText(
    'after',
    `
Examples:
  $ glpi-ocs-upgrade fixtures generate -o fixtures/small --computers 50 --seed 1
  $ glpi-ocs-upgrade fixtures generate -o /tmp/big --computers 50000 --hazards none
  $ glpi-ocs-upgrade fixtures generate --into embedded:lab --hazards dup-slalevels-tickets,zero-dates --replace
  $ glpi-ocs-upgrade fixtures generate -o out/ --glpi-schema ~/glpi-10.0.19 --ocs-schema ~/ocsreports-2.1/files/ocsbase_new.sql
  $ glpi-ocs-upgrade --json fixtures generate -o out/ | jq '.hazards["zero-dates"]'

Hazards (exact counts in docs/fixtures.md):
${HAZARD_NAMES.map((n) => `  ${n.padEnd(32)} ${HAZARDS[n].description.slice(0, 90)}`).join('\n')}

Writes only into the tool's embedded instance or a server marked with \`instance mark\` (interlock, exit 6).`,
  );
  gen.action(async (opts: GenerateCliOptions, cmd: Command) => {
    const out = outputFor(cmd);
    const seed = intOption(opts.seed, '--seed', 0, 2 ** 31 - 1);
    const computers = intOption(opts.computers, '--computers', MIN_COMPUTERS, MAX_COMPUTERS);
    const level = intOption(opts.compressionLevel, '--compression-level', 0, 9);
    const hazards = hazardsFromText(opts.hazards);
    if (!opts.output && !opts.into) {
      throw new UsageError('nowhere to keep the result: give -o DIR (a snapshot directory) and/or --into DSN (a test server)', {
        hint: 'glpi-ocs-upgrade fixtures generate --help shows examples',
      });
    }
    if (opts.output && (await isEmptyDir(path.resolve(opts.output))) === false) {
      throw new UsageError(`${opts.output} is not empty`, { hint: 'give a new directory, or remove the old fixture first' });
    }
    // Fail fast on a missing schema, before starting a server.
    resolveSchemaSource('glpi', opts.glpiSchema);
    resolveSchemaSource('ocs', opts.ocsSchema);
    const target = await resolveTarget({ ...opts, instance: opts.into });
    try {
      const result: GenerateResult = await withProgress(out, `Generating ${formatCount(computers)} computers (seed ${seed})`, (update) =>
        generateFixtures(target.dsn, {
          seed,
          computers,
          hazards,
          glpiDb: opts.glpiDb,
          ocsDb: opts.ocsDb,
          glpiSchema: opts.glpiSchema,
          ocsSchema: opts.ocsSchema,
          replace: opts.replace,
          ocsHost: opts.ocsHost,
          onStep: (l) => {
            update(l);
            out.detail(l);
          },
        }),
      );
      let snapshot: { dir: string; id: string; elapsedMs: number } | undefined;
      if (opts.output) {
        const t0 = Date.now();
        const manifest = await withProgress(out, `Writing snapshot ${opts.output}`, () => writeFixtureSnapshot(target.dsn, result, opts.output!, { compressionLevel: level }));
        snapshot = { dir: path.resolve(opts.output), id: manifest.id, elapsedMs: Date.now() - t0 };
      }
      out.result({
        format: 1,
        target: target.describe,
        kept: Boolean(opts.into),
        glpiDb: result.glpiDb,
        ocsDb: result.ocsDb,
        seed: result.seed,
        computers: result.computers,
        hazards: result.hazards,
        rows: result.rows,
        schemaSources: result.schemaSources,
        generationMs: result.durationMs,
        snapshot,
      });
      out.say(`generated GLPI 0.83.8 "${result.glpiDb}" and OCS 2.1 "${result.ocsDb}" in ${formatDuration(result.durationMs)} on ${target.describe}`);
      out.say(`  schemas from ${result.schemaSources.glpi.path} and ${result.schemaSources.ocs.path}`);
      out.table(
        ['table', 'rows'],
        Object.entries(result.rows).map(([t, n]) => [t, formatCount(n)]),
        ['l', 'r'],
      );
      const on = HAZARD_NAMES.filter((n) => result.hazards[n].enabled);
      out.say(`  hazards: ${on.length ? on.join(', ') : 'none'}`);
      if (snapshot) out.say(`  snapshot ${snapshot.dir} (id ${snapshot.id.slice(0, 12)}…) written in ${formatDuration(snapshot.elapsedMs)}`);
      if (opts.into) out.say(`  the databases stay on ${target.describe}`);
    } finally {
      await target.embedded?.stop();
    }
  });
}
