/** The OCS route: the 2.2 bridge to 7006 when needed, then every update file and PHP-side change to the target. */
import type { OcsRelease } from '../catalog/catalog.ts';
import { ocsRelease, ocsReleaseShipping } from '../catalog/catalog.ts';
import type { Message } from '../i18n/messages.ts';
import { joined, literal, msg } from '../i18n/messages.ts';
import type { PlanStep } from './plan-types.ts';
import { NoRouteError } from './errors.ts';
import type { Ctx } from './route-common.ts';
import { composeTableChanges, dbRequirements, effects, maxVersion, sentence } from './route-common.ts';

export function buildOcsSteps(ctx: Ctx, sourceGui: number, target: OcsRelease): PlanStep[] {
  const { c, notes } = ctx;
  const steps: PlanStep[] = [];
  const bridge = c.ocs.bridge;
  let cur = sourceGui;
  if (target.gui_version === sourceGui) {
    notes.push(msg('plan.ocs-at-target', { target: target.version, gui: sourceGui }));
    return steps;
  }
  const dist = (version: string) => ({ product: 'ocs' as const, version });
  if (cur < bridge.to_gui_version) {
    if (!bridge.from_gui_versions.includes(cur)) throw new NoRouteError(`no bridge in the catalog starts from OCS GUI_VERSION ${cur}`);
    const rel = ocsRelease(c, bridge.release)!;
    steps.push({
      id: `ocs-bridge-${bridge.to_gui_version}`,
      product: 'ocs',
      database: 'ocs',
      title: msg('step.ocs-bridge.title', { from: cur, to: bridge.to_gui_version, file: bridge.file, release: bridge.release }),
      runner: { kind: 'ocs-bridge', toGuiVersion: 7006 },
      from: String(cur),
      to: String(bridge.to_gui_version),
      requires: { ...dbRequirements(rel), distribution: dist(bridge.release) },
      before: [],
      expected: effects(composeTableChanges([bridge]), bridge.rows_deleted ?? [], 'all'),
      hazards: [...(bridge.hazards ?? []), 'ocs.install-php.never'],
      explanation: msg('step.ocs-bridge.explanation', {
        from: cur,
        to: bridge.to_gui_version,
        file: bridge.file,
        release: bridge.release,
        notes: literal(bridge.notes, bridge.notes_fr),
      }),
      shell: [`mysql --force --default-character-set=utf8 --init-command="SET sql_mode='${bridge.sql_mode}'" ${ctx.ocsDb} < <ocsreports-${bridge.release}>/${bridge.file}`],
    });
    cur = bridge.to_gui_version;
    notes.push(msg('plan.ocs-bridge', { source: sourceGui, file: bridge.file, release: bridge.release, to: bridge.to_gui_version, target: target.gui_version }));
  } else if (cur === bridge.to_gui_version) {
    notes.push(msg('plan.ocs-7006', { gui: cur }));
  }
  const firstUpdate = steps.length;
  // SQL minimums accumulate (a FULLTEXT index added by 7022 stays); the last file also needs what the target release needs.
  let need: { mysql?: string; mariadb?: string } = { mysql: c.ocs.releases[0].mysql, mariadb: c.ocs.releases[0].mariadb };
  for (const f of c.ocs.updateFiles) {
    if (f.gui_version > target.gui_version) break;
    need = { mysql: maxVersion(need.mysql, f.requires?.mysql), mariadb: maxVersion(need.mariadb, f.requires?.mariadb) };
    if (f.gui_version <= cur) continue;
    const rel = ocsReleaseShipping(c, f.gui_version)!;
    const req = f.gui_version === target.gui_version ? { mysql: maxVersion(need.mysql, target.mysql), mariadb: maxVersion(need.mariadb, target.mariadb) } : need;
    const fileName = `files/update/${f.gui_version}.sql`;
    const why: Message[] = [msg('step.ocs-file.applies', { file: fileName, release: rel.version, gui: f.gui_version })];
    if (f.notes) why.push(literal(`${f.notes.charAt(0).toUpperCase() + f.notes.slice(1)}.`, `${sentence(f.notes_fr ?? f.notes)}.`));
    steps.push({
      id: `ocs-${f.gui_version}`,
      product: 'ocs',
      database: 'ocs',
      title: msg('step.ocs-file.title', { from: f.gui_version - 1, to: f.gui_version, file: fileName }),
      runner: { kind: 'ocs-update-file', guiVersion: f.gui_version, file: fileName },
      from: String(f.gui_version - 1),
      to: String(f.gui_version),
      requires: { ...dbRequirements(req), distribution: dist(target.version) },
      before: [],
      expected: effects(composeTableChanges([f]), f.rows_deleted ?? [], 'all'),
      hazards: [...(f.hazards ?? [])],
      explanation: joined(why),
      shell: [
        `mysql --force --default-character-set=utf8 --init-command="SET sql_mode='NO_ENGINE_SUBSTITUTION'" ${ctx.ocsDb} < <ocsreports-${target.version}>/${fileName}`,
        `mysql ${ctx.ocsDb} -e "UPDATE config SET TVALUE='${f.gui_version}' WHERE NAME='GUI_VERSION'"`,
      ],
    });
    for (const ch of c.ocs.phpChanges) {
      if (ch.gui_version !== f.gui_version || ch.gui_version <= sourceGui) continue;
      steps.push({
        id: `ocs-php-${ch.id}`,
        product: 'ocs',
        database: 'ocs',
        title: msg('step.ocs-php.title', { gui: ch.gui_version, fn: ch.function }),
        runner: { kind: 'ocs-php-change', guiVersion: ch.gui_version, change: ch.id },
        from: String(ch.gui_version),
        to: String(ch.gui_version),
        requires: {},
        before: [],
        expected: { tablesTouched: ch.tables.every((t) => /^[a-z_]+$/.test(t)) ? [...ch.tables] : 'all' },
        hazards: [],
        explanation: msg('step.ocs-php.explanation', {
          gui: ch.gui_version,
          fn: ch.function,
          what: literal(ch.what, sentence(ch.what_fr)),
          onlyIf: ch.only_if ? literal(ch.only_if, ch.only_if_fr ?? ch.only_if) : undefined,
          notes: ch.notes ? literal(ch.notes, sentence(ch.notes_fr ?? ch.notes)) : undefined,
        }),
        shell: [`open the OCS ${target.version} console once as an administrator (it runs ${ch.function}()), or let glpi-ocs-upgrade rehearse replicate it`],
      });
    }
  }
  if (steps.length > firstUpdate) {
    const firstFile = steps.find((s) => s.runner.kind === 'ocs-update-file');
    if (firstFile) firstFile.hazards.unshift('ocs.update.errors-ignored');
    const lastFile = [...steps].reverse().find((s) => s.runner.kind === 'ocs-update-file');
    if (lastFile) lastFile.hazards.push('ocs.server.version-mismatch');
    const n = steps.length - firstUpdate;
    notes.push(msg('plan.ocs-steps', { count: n, target: target.version, gui: target.gui_version }));
  }
  return steps;
}
