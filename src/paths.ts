/**
 * Where the tool's own files are: the package root (the directory of its package.json), found by walking up
 * from this module. It works both from src/ (run through tsx) and from the bundled dist/cli.js.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'glpi-ocs-upgrade';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const file = path.join(dir, 'package.json');
    try {
      if ((JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
    } catch {
      /* not here */
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${start}`);
    dir = up;
  }
}

/** The directory holding the tool's package.json, migrations/ and fixtures/. */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
