import type { Command } from 'commander';
import { outputFor } from '../context.ts';
import { addServerSettingsOptions, serverSettingsFrom } from '../options.ts';
import type { ServerSettingsOptions } from '../options.ts';
import { cleanStaleInstances, listInstances, restartInstance, startEmbedded, stopInstanceRecord } from '../../db/embedded.ts';
import { NotFoundError, UsageError } from '../../errors.ts';
import { parseDsn, formatDsn, type Dsn } from '../../db/dsn.ts';
import { resolvePassword } from '../../db/credentials.ts';
import { connect, type Connection } from '../../db/connect.ts';
import { confirmationMatches, isMarkedTestInstance, markAsTestInstance, unmarkTestInstance } from '../../db/interlock.ts';

/** The --instance server, once --confirm names it again, with a connection to it. */
async function confirmedInstance(opts: { instance: string; confirm: string; defaultsFile?: string; passwordEnv?: string }): Promise<{ dsn: Dsn; conn: Connection }> {
  const dsn = resolvePassword(parseDsn(opts.instance), 'instance', opts).dsn;
  if (!confirmationMatches(dsn, opts.confirm)) {
    throw new UsageError(`--confirm "${opts.confirm}" does not match the server ${dsn.socket ? 'localhost' : `${dsn.host}:${dsn.port}`}`);
  }
  return { dsn, conn: await connect(dsn) };
}

export function register(program: Command): void {
  const group = program
    .command('instance')
    .description('manage embedded throwaway MariaDB servers kept between commands, and mark test servers')
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade instance start --name lab --sql-mode ''    # prints its address; stays up
  $ glpi-ocs-upgrade restore snap/ --instance embedded:lab      # use it from other commands
  $ glpi-ocs-upgrade instance status
  $ glpi-ocs-upgrade instance stop lab                          # stops it and deletes its files
  $ glpi-ocs-upgrade instance mark --instance mysql://root@10.0.0.9/ --confirm 10.0.0.9:3306
  $ glpi-ocs-upgrade instance unmark --instance mysql://root@10.0.0.9/ --confirm 10.0.0.9:3306

Embedded servers accept no password-less login: root's password is random, held in memory, and written
for a kept instance to <server dir>/root-password (mode 0600; \`instance start\` prints the path). A server
not kept dies with the command that started it, even on kill -9. A kept server that died (crash, reboot)
keeps its datadir: \`instance status\` shows it as "stopped (datadir kept)", \`instance restart NAME\` starts
it again on the same files (then \`rehearse … --resume\` can continue), \`instance stop NAME\` deletes it.`,
    );

  addServerSettingsOptions(
    group.command('start').description('start an embedded server that stays up until `instance stop` (its datadir is temporary)').option('--name <name>', 'a name to refer to it (embedded:NAME)'),
  ).action(async (opts: ServerSettingsOptions & { name?: string }, cmd: Command) => {
    const out = outputFor(cmd);
    if (opts.name && listInstances().some((r) => r.alive && r.name === opts.name)) {
      throw new UsageError(`an embedded instance named "${opts.name}" is already running`);
    }
    const inst = await startEmbedded({ serverBin: opts.serverBin, settings: serverSettingsFrom(opts), keep: true, name: opts.name });
    const r = inst.record;
    out.result({ id: r.id, name: r.name, port: r.port, socket: r.socket, dsn: formatDsn(inst.dsn), passwordFile: inst.passwordFile, serverVersion: r.serverVersion, pid: r.pid });
    out.say(`started ${r.serverVersion} "${r.name}" on 127.0.0.1:${r.port} (socket ${r.socket})`);
    out.say(`use it with --instance embedded:${r.name}, or connect as ${formatDsn(inst.dsn)}`);
    out.say(`root's password is in ${inst.passwordFile} (mode 0600), e.g. INSTANCE_DB_PASSWORD="$(cat ${inst.passwordFile})"`);
  });

  group
    .command('status')
    .description('list embedded servers (cleaning up those left by a crashed run)')
    .action((_opts: unknown, cmd: Command) => {
      const out = outputFor(cmd);
      const cleaned = cleanStaleInstances();
      const list = listInstances();
      out.result({ cleaned, instances: list.map(({ settings: _s, ...r }) => r) });
      if (cleaned) out.say(`cleaned ${cleaned} stale instance(s)`);
      if (list.length === 0) {
        out.say('no embedded instance running');
        return;
      }
      out.table(
        ['name', 'port', 'pid', 'kept', 'state', 'server', 'started'],
        list.map((r) => [r.name, r.port, r.pid, r.keep ? 'yes' : 'no', r.alive ? 'running' : 'stopped (datadir kept)', r.serverVersion, r.startedAt]),
      );
    });

  group
    .command('stop')
    .description('stop embedded servers and delete their files')
    .argument('[name]', 'name or id of the instance (default: all kept instances)')
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const out = outputFor(cmd);
      const list = listInstances().filter((r) => (name ? r.name === name || r.id === name : r.keep));
      if (name && list.length === 0) throw new NotFoundError(`no embedded instance named "${name}"`, { hint: 'see: glpi-ocs-upgrade instance status' });
      for (const r of list) {
        await stopInstanceRecord(r);
        out.say(`stopped ${r.name} (port ${r.port})`);
      }
      out.result({ stopped: list.map((r) => r.name) });
      if (list.length === 0) out.say('nothing to stop');
    });

  group
    .command('restart')
    .description('start again a kept instance whose server died (crash, reboot), on its kept datadir')
    .argument('<name>', 'name or id of the instance (see: instance status)')
    .addHelpText(
      'after',
      `
InnoDB recovers the last committed state; the instance keeps its name, password file and, when it is free,
its port. A rehearsal whose instance died can then be continued with \`rehearse … --resume\`.

Example:
  $ glpi-ocs-upgrade instance restart rehearse-20261206T101500-4242`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const out = outputFor(cmd);
      const before = listInstances().find((r) => r.name === name || r.id === name);
      if (!before) throw new NotFoundError(`no embedded instance named "${name}"`, { hint: 'see: glpi-ocs-upgrade instance status' });
      if (!before.keep) throw new UsageError(`embedded instance "${name}" was not kept between commands: there is nothing to restart`);
      const inst = await restartInstance(name);
      if (!inst) throw new NotFoundError(`embedded instance "${name}" has no datadir or password file left to restart from`);
      const r = inst.record;
      out.result({ id: r.id, name: r.name, port: r.port, pid: r.pid, restarted: !before.alive, passwordFile: inst.passwordFile });
      out.say(before.alive ? `${r.name} is already running on 127.0.0.1:${r.port}` : `restarted ${r.name} on 127.0.0.1:${r.port} (its data as of the crash, recovered by InnoDB)`);
    });

  group
    .command('mark')
    .description('mark an existing server as a throwaway test instance, so that writing commands accept it')
    .requiredOption('--instance <dsn>', 'the test server, e.g. mysql://root@10.0.0.9:3306/')
    .requiredOption('--confirm <host:port>', 'type the server\'s host:port again (or "localhost" for a socket) to confirm')
    .option('--defaults-file <file>', 'MySQL option file holding user/password')
    .option('--password-env <name>', 'environment variable holding the password')
    .action(async (opts: { instance: string; confirm: string; defaultsFile?: string; passwordEnv?: string }, cmd: Command) => {
      const out = outputFor(cmd);
      const { dsn, conn } = await confirmedInstance(opts);
      try {
        const already = await isMarkedTestInstance(conn);
        await markAsTestInstance(conn, `marked by glpi-ocs-upgrade instance mark`);
        out.say(already ? `${formatDsn(dsn)} was already marked as a test instance` : `${formatDsn(dsn)} is now marked as a test instance`);
        out.result({ marked: true, already });
      } finally {
        await conn.end();
      }
    });

  group
    .command('unmark')
    .description('remove the test-instance marker, so that writing commands refuse the server again')
    .requiredOption('--instance <dsn>', 'the server, e.g. mysql://root@10.0.0.9:3306/')
    .requiredOption('--confirm <host:port>', 'type the server\'s host:port again (or "localhost" for a socket) to confirm')
    .option('--defaults-file <file>', 'MySQL option file holding user/password')
    .option('--password-env <name>', 'environment variable holding the password')
    .addHelpText(
      'after',
      `
Drops the schema glpi_ocs_upgrade_marker (nothing else). Afterwards restore, rehearse, anonymize --instance,
fixtures generate --into and corrective migrations refuse the server with exit 6.

Example:
  $ INSTANCE_DB_PASSWORD=… glpi-ocs-upgrade instance unmark --instance mysql://root@10.0.0.9/ --confirm 10.0.0.9:3306`,
    )
    .action(async (opts: { instance: string; confirm: string; defaultsFile?: string; passwordEnv?: string }, cmd: Command) => {
      const out = outputFor(cmd);
      const { dsn, conn } = await confirmedInstance(opts);
      try {
        const was = await unmarkTestInstance(conn);
        out.say(was ? `${formatDsn(dsn)} is no longer marked as a test instance` : `${formatDsn(dsn)} was not marked as a test instance`);
        out.result({ unmarked: was });
      } finally {
        await conn.end();
      }
    });
}
