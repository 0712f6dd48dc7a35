/**
 * The plan on screen: a table of steps (what a sysadmin follows), then the notes.
 */
import type { PlanFile, PlanStep } from './plan-types.ts';

export function runnerLabel(s: PlanStep): string {
  const r = s.runner;
  switch (r.kind) {
    case 'ocs-bridge':
      return 'OCS bridge SQL';
    case 'ocs-update-file':
      return r.file;
    case 'ocs-php-change':
      return `replicated PHP: ${r.change}`;
    case 'glpi-console':
      return r.entry && r.entry !== 'bin/console' ? `php ${r.entry} ${r.args.join(' ')}`.trim() : `console ${r.command}`;
    case 'plugin-install':
      return `plugin:install ocsinventoryng ${r.pluginVersion}`;
    case 'corrective-migration':
      return `corrective ${r.migration}`;
  }
}

export function requirementsLabel(s: PlanStep): string {
  const q = s.requires;
  const parts: string[] = [];
  if (q.php) parts.push(`PHP ${q.php}`);
  if (q.mariadb) parts.push(`MariaDB ≥ ${q.mariadb}`);
  if (q.mysql) parts.push(`MySQL ≥ ${q.mysql}`);
  return parts.join(', ') || '-';
}

export function effectsLabel(s: PlanStep): string {
  const e = s.expected;
  const parts: string[] = [];
  if (e.tablesCreated?.length) parts.push(`+${e.tablesCreated.length} tables`);
  if (e.tablesDropped?.length) parts.push(`-${e.tablesDropped.length} tables`);
  if (e.tablesRenamed?.length) parts.push(`${e.tablesRenamed.length} renamed`);
  if (e.rowsDeleted?.length) {
    const t = e.rowsDeleted.map((r) => r.table);
    parts.push(`rows deleted: ${t.slice(0, 3).join(', ')}${t.length > 3 ? ` +${t.length - 3}` : ''}`);
  }
  return parts.join('; ') || '-';
}

export function planRows(plan: PlanFile): string[][] {
  return plan.steps.map((s, i) => [String(i + 1), s.id, `${s.from} → ${s.to}`, runnerLabel(s), requirementsLabel(s), effectsLabel(s), hazardsLabel(s)]);
}

/** At most two hazard ids, then a count (the full list is in plan.yaml and under the table). */
export function hazardsLabel(s: PlanStep): string {
  if (!s.hazards.length) return '-';
  const shown = s.hazards.slice(0, 2).join(', ');
  return s.hazards.length > 2 ? `${shown} +${s.hazards.length - 2}` : shown;
}

export const PLAN_HEADERS = ['#', 'step', 'from → to', 'runs', 'needs', 'expected', 'hazards'];
