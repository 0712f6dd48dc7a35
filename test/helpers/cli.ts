/**
 * Runs the real executable (bin/glpi-ocs-upgrade.js) as a user would, capturing output and exit code.
 */
import { execa } from 'execa';
import path from 'node:path';
import { REPO_ROOT } from './shared.ts';

export const BIN = path.join(REPO_ROOT, 'bin', 'glpi-ocs-upgrade.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...options.env },
    cwd: options.cwd ?? REPO_ROOT,
    input: options.input,
    timeout: options.timeoutMs ?? 300_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
