/**
 * Runs once before the suite: unpacks the product distributions of ../shared/dist into the cache (see
 * test/helpers/dist.ts) so that test files only read them, and under CI=true fails the run when they are
 * present but unusable (instead of letting the real-updater tests skip).
 */
import { assertDistsUsableInCi, ensureSharedDists, SHARED_TARBALLS } from './helpers/dist.ts';

export default function setup(): void {
  const t0 = Date.now();
  const results = ensureSharedDists();
  for (const r of results) {
    if (r.action === 'unpacked' || r.action === 'adopted' || r.action === 'failed') {
      console.log(`shared-dist: ${SHARED_TARBALLS[r.key].file} ${r.action}${r.error ? `: ${r.error}` : ''} (${Date.now() - t0} ms)`);
    }
  }
  assertDistsUsableInCi(results);
}
