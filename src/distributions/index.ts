/**
 * Product distributions named on the command line (`--ocs-dist`, `--glpi-dist`, `--plugin-dist`, each
 * repeatable), detected once and handed to the step executors.
 */
import type { ExecutorDistributions } from '../rehearse/executors/types.ts';
import { detectOcsDist, describeOcsDist, resolveOcsSources, type OcsDistribution } from './ocs.ts';
import { detectGlpiDist, detectPluginDist, type GlpiDistribution, type PluginDistribution } from './glpi.ts';
import { UsageError } from '../errors.ts';

export * from './ocs.ts';
export * from './glpi.ts';

export interface DistributionFlags {
  ocsDist?: string[];
  glpiDist?: string[];
  pluginDist?: string[];
}

/** Detects every distribution given; the first bad one ends as a typed error (NotFoundError, exit 4). */
export function loadDistributions(flags: DistributionFlags): ExecutorDistributions {
  const ocs: OcsDistribution[] = (flags.ocsDist ?? []).map(detectOcsDist);
  const glpi: GlpiDistribution[] = (flags.glpiDist ?? []).map(detectGlpiDist);
  const plugin: PluginDistribution[] = (flags.pluginDist ?? []).map(detectPluginDist);
  const versions = glpi.map((g) => g.version);
  const dup = versions.find((v, i) => versions.indexOf(v) !== i);
  if (dup) throw new UsageError(`--glpi-dist was given twice for GLPI ${dup}`, { hint: 'give one distribution per GLPI release' });
  return { ocs, glpi, plugin };
}

/** One line per distribution, for the rehearsal's header and run.yaml. */
export function describeDistributions(d: ExecutorDistributions): Array<{ product: string; version: string; path: string; sha256?: string; note: string }> {
  const out: Array<{ product: string; version: string; path: string; sha256?: string; note: string }> = [];
  for (const o of d.ocs ?? []) out.push({ product: 'ocs', version: o.release ?? String(o.newestReachable), path: o.dir, note: describeOcsDist(o) });
  if ((d.ocs ?? []).length > 0) {
    const s = resolveOcsSources(d.ocs ?? []);
    out.push({
      product: 'ocs',
      version: String(s.newestReachable),
      path: s.bridge?.file ?? 'migrations/ocs/bridge-7005-7006.sql',
      sha256: s.bridge?.sha256,
      note: `bridge 7005→7006: ${s.bridge ? `official (${s.bridge.dist.release ?? s.bridge.dist.layout})` : "the tool's own"}; update files reach GUI_VERSION ${s.newestReachable}`,
    });
  }
  for (const g of d.glpi ?? []) out.push({ product: 'glpi', version: g.version, path: g.dir, note: `GLPI ${g.version}${g.hasVendor ? '' : ' (no vendor/: cannot run)'}` });
  for (const p of d.plugin ?? [])
    out.push({ product: 'connector', version: p.version, path: p.dir, note: `ocsinventoryng ${p.version}${p.glpiMin ? ` for GLPI ${p.glpiMin} ≤ v < ${p.glpiMax}` : ''}` });
  return out;
}
