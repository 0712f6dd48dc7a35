/** The connector route: the ocsinventoryng plugin release for each GLPI release reached, or why there is none. */
import type { ConnectorMode } from '../inspect/detect.ts';
import type { GlpiBranch, OcsRelease, PluginRelease } from '../catalog/catalog.ts';
import { pluginForGlpi } from '../catalog/catalog.ts';
import type { Message } from '../i18n/messages.ts';
import { joined, literal, msg } from '../i18n/messages.ts';
import type { PlanStep } from './plan-types.ts';
import type { ConnectorTarget, Ctx } from './route-common.ts';
import { cmp, dbRequirements, uniq } from './route-common.ts';

export function pluginStep(
  ctx: Ctx,
  glpiRelease: string,
  b: GlpiBranch,
  mode: ConnectorMode,
  installed: string | undefined,
  lastHop: boolean,
  ocsTarget: OcsRelease | undefined,
): { step: PlanStep; plugin: PluginRelease } | undefined {
  const { c } = ctx;
  const p = pluginForGlpi(c, glpiRelease);
  if (!p) {
    ctx.notes.push(msg('plan.no-plugin-for-glpi', { release: glpiRelease }));
    return undefined;
  }
  const carriesCore = mode === 'renamed-0.84' || mode === 'core-0.83';
  if (mode === 'plugin' && installed && cmp(installed, p.version) >= 0) return undefined;
  if (mode === 'none' && !lastHop) return undefined; // fresh install: only on the final GLPI release
  const update = mode === 'plugin';
  const cm = c.plugin.coreMigration;
  const why: Message[] = [];
  if (carriesCore) {
    why.push(msg('step.plugin.carries-core', { version: p.version, branch: b.branch, min: p.glpi_min, maxExclusive: p.glpi_max_exclusive }));
    if (p.proven) why.push(msg('step.plugin.proven', { proven: literal(p.proven, p.proven_fr ?? p.proven) }));
    why.push(msg('step.plugin.dump-first', {}));
  } else if (update) {
    why.push(msg('step.plugin.update', { installed, version: p.version, branch: b.branch }));
  } else {
    why.push(msg('step.plugin.fresh', { version: p.version, branch: b.branch }));
  }
  if (cmp(b.branch, '11.0') >= 0) {
    why.push(msg('step.plugin.glpi11', {}));
  }
  if (p.install === 'web') {
    why.push(msg('step.plugin.web-install', { release: glpiRelease }));
  }
  if (ocsTarget && p.ocs_gui_max !== undefined && ocsTarget.gui_version > p.ocs_gui_max) {
    why.push(msg('step.plugin.ocs-limit', { guiMax: p.ocs_gui_max }));
  }
  const hazards = [...(carriesCore ? cm.hazards : []), 'connector.glpicrypt-key', 'connector.exit-code-unreliable', 'connector.trace-deleted'];
  const cmdPrefix = cmp(b.branch, '10.0') >= 0 ? '' : 'glpi:';
  const shell =
    p.install === 'console'
      ? [
          `cp -r <ocsinventoryng-${p.version}> <glpi-${glpiRelease}>/plugins/ocsinventoryng`,
          `cd <glpi-${glpiRelease}> && php bin/console ${cmdPrefix}plugin:install -n --username=<glpi super-admin> ocsinventoryng`,
          `cd <glpi-${glpiRelease}> && php bin/console ${cmdPrefix}plugin:activate -n ocsinventoryng`,
        ]
      : [`cp -r <ocsinventoryng-${p.version}> <glpi-${glpiRelease}>/plugins/ocsinventoryng`, 'GLPI web interface: Setup > Plugins > OCS Inventory NG: Install, then Enable'];
  const step: PlanStep = {
    id: `connector-plugin-${p.version}`,
    product: 'connector',
    database: 'glpi',
    title: msg('step.plugin.title', { update, version: p.version, release: glpiRelease }),
    runner: { kind: 'plugin-install', pluginVersion: p.version, glpiRelease },
    from: update ? (installed ?? 'plugin') : carriesCore ? 'ocs_glpi_*' : 'none',
    to: p.version,
    requires: { php: b.php, ...dbRequirements(b), distribution: { product: 'connector', version: p.version } },
    before: [],
    expected: carriesCore ? { tablesCreated: [...cm.created], tablesDropped: [...cm.dropped], tablesTouched: 'all' } : { tablesTouched: 'all' },
    hazards: uniq(hazards),
    explanation: joined(why),
    shell,
  };
  return { step, plugin: p };
}

export function explainConnector(ctx: Ctx, source: ConnectorMode, target: ConnectorTarget, installed: string | undefined, ocsTarget: OcsRelease | undefined): void {
  const { notes } = ctx;
  if (target === 'plugin') {
    if (source === 'core-0.83' || source === 'renamed-0.84') {
      notes.push(msg('plan.connector-late-migration', {}));
    }
    if (installed) {
      notes.push(msg('plan.connector-end', { installed, ocs: ocsTarget?.version }));
    }
  } else if (target === 'native') {
    notes.push(msg('plan.connector-native', {}));
  } else if (source !== 'none') {
    notes.push(msg('plan.connector-none', {}));
  }
}
