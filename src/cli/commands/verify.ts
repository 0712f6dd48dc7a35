import type { Command } from 'commander';
import { outputFor } from '../context.ts';
import { formatBytes } from '../output.ts';
import { VerificationError } from '../../errors.ts';
import { describeProblems, readManifest, verifySnapshot } from '../../snapshot/index.ts';

export function register(program: Command): void {
  program
    .command('verify')
    .description("check a snapshot directory's files against its manifest (missing, truncated, changed, unexpected files)")
    .argument('<dir>', 'the snapshot directory')
    .addHelpText(
      'after',
      `
Examples:
  $ glpi-ocs-upgrade verify snap-2026-11-23
  $ glpi-ocs-upgrade verify snap-2026-11-23 --json       # every problem, for CI

Exit codes: 0 every file matches; 5 a file is missing, truncated, changed or not listed (each one named);
4 the directory holds no manifest.yaml. This checks files only; \`restore\` also proves the data by checksums.`,
    )
    .action(async (dir: string, _opts: unknown, command: Command) => {
      const out = outputFor(command);
      const manifest = await readManifest(dir);
      const r = await verifySnapshot(dir);
      out.result({ directory: dir, id: manifest.id, ok: r.ok, files: r.files, bytes: r.bytes, problems: r.problems });
      if (!r.ok) {
        if (!out.json) for (const p of r.problems) process.stderr.write(`  ${p.path}: ${p.problem}\n`);
        throw new VerificationError(`snapshot ${dir} does not match its manifest: ${describeProblems(r.problems)}`, {
          hint: 'take the snapshot again, or copy it again from where it is intact',
        });
      }
      out.say(`snapshot ${manifest.id.slice(0, 12)} in ${dir}: ${r.files} files, ${formatBytes(r.bytes)}, all match the manifest`);
    });
}
