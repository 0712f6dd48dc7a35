/** Corrective migrations in the plan: each before the first step of the kind its `before` names, in the same database. */
import type { CorrectiveMigration } from '../catalog/corrective.ts';
import { literal, msg } from '../i18n/messages.ts';
import type { PlanStep } from './plan-types.ts';
import { stepKind } from './kinds.ts';
import type { Ctx } from './route-common.ts';
import { sentence, uniq } from './route-common.ts';

/** A corrective migration's SQL with {{db}}, {{glpi_db}}, {{ocs_db}} replaced by the source database names. */
function sqlFor(ctx: Ctx, m: CorrectiveMigration, sql: string): string {
  const names: Record<string, string> = { db: m.database === 'glpi' ? ctx.glpiDb : ctx.ocsDb, glpi_db: ctx.glpiDb, ocs_db: ctx.ocsDb };
  return sql.trim().replace(/\{\{\s*(db|glpi_db|ocs_db)\s*\}\}/g, (_, k: string) => `\`${names[k]}\``);
}

export function insertCorrective(ctx: Ctx, steps: PlanStep[], migrations: CorrectiveMigration[]): PlanStep[] {
  const out = [...steps];
  const included: string[] = [];
  const skipped: string[] = [];
  for (const m of migrations) {
    const idx = out.findIndex((s) => s.database === m.database && s.runner.kind !== 'corrective-migration' && (m.before === 'any' || stepKind(s) === m.before));
    if (idx < 0) {
      skipped.push(m.id);
      continue;
    }
    const target = out[idx];
    target.before.push(m.id);
    target.hazards = uniq([...target.hazards, ...m.fixes]);
    out.splice(idx, 0, {
      id: `fix-${m.id}`,
      product: target.product === 'connector' ? 'connector' : m.database,
      database: m.database,
      title: msg('step.corrective.title', { id: m.id }),
      runner: { kind: 'corrective-migration', migration: m.id },
      from: target.from,
      to: target.from,
      requires: {},
      before: [],
      expected: { tablesTouched: [...m.touches] },
      hazards: [...m.fixes],
      explanation: msg('step.corrective.explanation', { id: m.id, title: literal(m.title.params.en, sentence(m.title.params.fr)), before: target.id }),
      shell: [`-- on the ${m.database} database, when "${sqlFor(ctx, m, m.precheck)}" returns more than 0:`, ...m.statements.map((x) => sqlFor(ctx, m, x))],
    });
    included.push(m.id);
  }
  if (!migrations.length) ctx.notes.push(msg('plan.corrective-none', {}));
  else {
    if (included.length) {
      ctx.notes.push(msg('plan.corrective-planned', { ids: included }));
    }
    if (skipped.length) {
      ctx.notes.push(msg('plan.corrective-skipped', { ids: skipped }));
    }
  }
  return out;
}
