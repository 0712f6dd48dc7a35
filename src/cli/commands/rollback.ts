import type { Command } from 'commander';
import { outputFor } from '../context.ts';
import { addSourceOptions, collect, CREDENTIALS_HELP, resolveSource } from '../options.ts';
import type { SourceOptions } from '../options.ts';
import { rollbackProduction } from '../../apply/rollback.ts';

interface RollbackCliOptions extends SourceOptions {
  confirm?: string[];
}

export function register(program: Command): void {
  const cmd = program
    .command('rollback')
    .description('give production back from the backup `apply` took before its first write, proven byte for byte')
    .argument('<run-dir>', 'the run directory given to apply')
    .option('--confirm <host:port>', "production server's address, typed out (required); GLPI and OCS on two servers: give it for each", collect);
  addSourceOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ glpi-ocs-upgrade rollback run-1 --glpi mysql://root@db1:3306/glpi --ocs mysql://root@db1:3306/ocsweb --confirm db1:3306

The two databases are dropped and loaded again from RUN_DIR/apply/backup (its files verified first), then
every table's row count and content digest is compared with the backup's manifest. With GLPI and OCS on two
servers, each gets its own backup back (name both with --confirm). Refused (exit 15) when no backup was
recorded or another session uses the databases; exit 6 when --confirm is wrong; exit 13 while another apply
or rollback holds the run directory or a server.
${CREDENTIALS_HELP}`,
  );
  cmd.action(async (runDir: string, opts: RollbackCliOptions, command: Command) => {
    const out = outputFor(command);
    const sources = { glpi: resolveSource('glpi', opts), ocs: resolveSource('ocs', opts) };
    const r = await rollbackProduction({ runDir, sources, confirm: opts.confirm, onEvent: (m) => out.detail(m) });
    out.result(r);
    out.say(
      `rolled back: ${r.tables} tables equal to ${r.backups.map((b) => `backup ${b.id.slice(0, 12)} on ${b.hostPort}`).join(' and ')} (rows and checksums), from ${r.backups.map((b) => b.dir).join(', ')}`,
    );
  });
}
