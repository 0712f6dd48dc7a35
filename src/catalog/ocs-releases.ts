/**
 * OCS Inventory NG release ↔ GUI_VERSION map, loaded from migrations/ocs-releases.yaml.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ToolError, ExitCode } from '../errors.ts';
import { PACKAGE_ROOT } from '../paths.ts';

export interface OcsReleaseEntry {
  version: string;
  gui_version: number;
  date?: string;
}

export const MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations');

let cache: OcsReleaseEntry[] | undefined;

export function ocsReleases(): OcsReleaseEntry[] {
  if (cache) return cache;
  const file = path.join(MIGRATIONS_DIR, 'ocs-releases.yaml');
  const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as { format?: number; releases?: unknown };
  if (doc?.format !== 1 || !Array.isArray(doc.releases)) {
    throw new ToolError(`${file}: expected format 1 with a releases list`, ExitCode.INTERNAL);
  }
  cache = (doc.releases as OcsReleaseEntry[]).map((r, i) => {
    if (typeof r.version !== 'string' || !Number.isInteger(r.gui_version)) {
      throw new ToolError(`${file}: release #${i + 1} needs a version string and an integer gui_version`, ExitCode.INTERNAL);
    }
    return r;
  });
  return cache;
}

/** All releases that write this GUI_VERSION (several releases can share one). Empty when unknown. */
export function ocsReleasesForGuiVersion(gui: number): string[] {
  return ocsReleases()
    .filter((r) => r.gui_version === gui)
    .map((r) => r.version);
}

/** The newest GUI_VERSION the catalog knows. */
export function newestOcsGuiVersion(): number {
  return Math.max(...ocsReleases().map((r) => r.gui_version));
}
