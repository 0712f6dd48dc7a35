#!/usr/bin/env node
// Bundles the CLI into dist/cli.js (esbuild: one file, dependencies left in node_modules), so that a command
// starts without compiling TypeScript. `npm ci` runs it (the "prepare" script). The bundle is only a start-up
// cache: bin/glpi-ocs-upgrade.js runs the sources through tsx whenever a source file is newer than it, and a
// failed build leaves the tool working (slower to start), so this script never fails an install. With
// --strict (`npm pack`, through "prepack") a failed build is an error: the packed tool runs only the bundle.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
try {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
    outfile: path.join(root, 'dist', 'cli.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
} catch (err) {
  if (process.argv.includes('--strict')) {
    console.error(`glpi-ocs-upgrade: could not bundle the CLI: ${err?.message ?? err}`);
    process.exit(1);
  }
  console.error(`glpi-ocs-upgrade: could not bundle the CLI (${err?.message ?? err}); it will run from the TypeScript sources`);
}
