/**
 * OCS Inventory NG release ↔ GUI_VERSION map, loaded from migrations/ocs-releases.yaml.
 */
import path from 'node:path';
import { ToolError, ExitCode } from '../errors.ts';
import { ocsReleasesSchema, readCatalogFile } from '../formats/catalog.ts';
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
  // The one reader of the catalog's files (src/formats/catalog.ts), without the catalog's cross-checks.
  cache = readCatalogFile(MIGRATIONS_DIR, 'ocs-releases.yaml', ocsReleasesSchema, (message) => new ToolError(message, ExitCode.INTERNAL)).releases;
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
