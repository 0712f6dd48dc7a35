// Chooses how the CLI runs: the bundle dist/cli.js when it is newer than every file and folder under src/
// (built by `npm run build`, which `npm ci` runs), else the TypeScript sources through tsx. An edited tree
// therefore never runs stale code; GOU_NO_BUNDLE=1 forces the sources. An installed package (npm pack) ships
// the bundle without src/: the bundle is then the tool.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist', 'cli.js');

function newestUnder(dir) {
  let newest = fs.statSync(dir).mtimeMs;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const t = entry.isDirectory() ? newestUnder(full) : fs.statSync(full).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

export function freshBundle() {
  if (process.env.GOU_NO_BUNDLE === '1') return undefined;
  if (!fs.existsSync(path.join(root, 'src')) && fs.existsSync(bundle)) return bundle;
  try {
    return fs.statSync(bundle).mtimeMs >= newestUnder(path.join(root, 'src')) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/** Imports the CLI's main module, bundled or from the sources. */
export async function loadCli() {
  const fresh = freshBundle();
  if (fresh) {
    // Stack traces (--debug) then point into src/ through the bundle's source map.
    process.setSourceMapsEnabled?.(true);
    return import(pathToFileURL(fresh).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('../src/cli/main.ts');
}
