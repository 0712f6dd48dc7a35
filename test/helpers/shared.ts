/**
 * Access to ../shared (reference schemas, research) when it sits beside the repository. Tests that need it
 * skip with a message when it is absent: the core suite passes without it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = process.env.GOU_SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');

export function sharedPath(...parts: string[]): string | undefined {
  const p = path.join(SHARED_DIR, ...parts);
  return fs.existsSync(p) ? p : undefined;
}

export const SHARED_MISSING_REASON = `../shared not found beside the repository (set GOU_SHARED_DIR to its path to run these tests)`;

/** For a test title: ` (skipped: …)` when `missing`, '' when the test runs (so a running test's title does not claim a skip). */
export function sharedSkipNote(missing: boolean): string {
  return missing ? ` (skipped: ${SHARED_MISSING_REASON})` : '';
}
