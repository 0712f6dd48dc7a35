import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, fromSystemError, ToolError } from '../src/errors.ts';
import { REPO_ROOT } from './helpers/shared.ts';
import { runCli } from './helpers/cli.ts';

describe('exit codes', () => {
  it('docs/exit-codes.md documents exactly the codes the tool uses', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'exit-codes.md'), 'utf8');
    const rows = [...doc.matchAll(/^\|\s*(\d+)\s*\|\s*([A-Z_]+)\s*\|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual({ ...ExitCode });
  });
  it('maps a full disk and a missing file to typed errors', () => {
    expect(fromSystemError(Object.assign(new Error('x'), { code: 'ENOSPC' }), 'writing')?.exitCode).toBe(ExitCode.DISK_FULL);
    expect(fromSystemError(Object.assign(new Error('x'), { code: 'ENOENT', path: '/a' }), 'reading')?.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(fromSystemError(new Error('x'), 'y')).toBeUndefined();
    const t = new ToolError('m', ExitCode.USAGE);
    expect(fromSystemError(t, 'y')).toBe(t);
  });
  it('usage errors and typos exit 2 with a suggestion; --help and --version exit 0', async () => {
    const typo = await runCli(['inspekt']);
    expect(typo.exitCode).toBe(ExitCode.USAGE);
    expect(typo.stderr).toMatch(/Did you mean inspect\?/);
    const badFlag = await runCli(['inspect', '--glpy', 'x']);
    expect(badFlag.exitCode).toBe(ExitCode.USAGE);
    expect((await runCli(['--help'])).exitCode).toBe(0);
    const v = await runCli(['--version']);
    expect(v.exitCode).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it('every command has --help with an example', async () => {
    const help = await runCli(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][\w-]*)(?: \[options\])?(?: \[?<?[\w.|-]+>?\]?)*\s{2,}/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(1);
    for (const c of commands) {
      const h = await runCli([c, '--help']);
      expect(h.exitCode, c).toBe(0);
      expect(h.stdout, `${c} --help`).toMatch(/Examples?:/);
    }
  }, 300_000);
});
