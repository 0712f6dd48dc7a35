/**
 * Options naming product distributions (where the real updaters come from) and their resolution.
 * `--ocs-dist debian` fetches Debian's ocsinventory-reports package into the cache directory.
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { collect } from './options.ts';
import type { ExecutorDistributions } from '../rehearse/executors/types.ts';
import { loadDistributions, obtainDebianOcsDist } from '../distributions/index.ts';

export interface DistOptions {
  ocsDist?: string[];
  glpiDist?: string[];
  pluginDist?: string[];
  php?: string;
  cacheDir?: string;
}

export function defaultCacheDir(): string {
  return process.env.GOU_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'glpi-ocs-upgrade');
}

export function addDistOptions(cmd: Command): Command {
  return cmd
    .option('--ocs-dist <dir>', 'OCS console release (files/update/*.sql), an unpacked Debian ocsinventory-reports package, or "debian" to fetch it (repeatable)', collect)
    .option('--glpi-dist <dir>', 'GLPI release tree with vendor/, one per GLPI release the plan needs (repeatable)', collect)
    .option('--plugin-dist <dir>', 'ocsinventoryng plugin release tree (repeatable)', collect)
    .option('--php <bin>', 'PHP binary for the GLPI steps (default: php on PATH)')
    .option('--cache-dir <dir>', 'where fetched distributions are kept (default: ~/.cache/glpi-ocs-upgrade)');
}

export async function resolveDists(o: DistOptions): Promise<ExecutorDistributions> {
  const wantsDebian = (o.ocsDist ?? []).includes('debian');
  const dists = loadDistributions({ ...o, ocsDist: (o.ocsDist ?? []).filter((d) => d !== 'debian') });
  if (wantsDebian) dists.ocs = [...(dists.ocs ?? []), await obtainDebianOcsDist(o.cacheDir ?? defaultCacheDir())];
  return dists;
}
