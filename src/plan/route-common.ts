/**
 * What every part of the planner shares: its input and options, the context of one build, and the helpers
 * that turn the catalog's table changes into a step's expected effects.
 */
import type { ConnectorInfo, GlpiVersionInfo, OcsVersionInfo } from '../inspect/detect.ts';
import { compareDotted } from '../catalog/version.ts';
import type { Catalog, GlpiBranch, RowsDeleted, TableChanges } from '../catalog/catalog.ts';
import { glpiBranchOf } from '../catalog/catalog.ts';
import type { CorrectiveMigration } from '../catalog/corrective.ts';
import type { Message } from '../i18n/messages.ts';
import { literal } from '../i18n/messages.ts';
import type { ExpectedEffects, StepRequirements } from './plan-types.ts';

export type ConnectorTarget = 'plugin' | 'native' | 'none';

export interface PlanTableInfo {
  name: string;
  engine: string | null;
  collation: string | null;
}

/** What the plan is made for: the versions found, from a snapshot manifest or live databases. */
export interface PlanInput {
  snapshotId?: string;
  glpi?: { database?: string; version: GlpiVersionInfo; connector: ConnectorInfo; tables?: PlanTableInfo[] };
  ocs?: { database?: string; version: OcsVersionInfo };
}

export interface PlanTargets {
  /** A GLPI release ("10.0.22"), a branch ("10.0" = its newest release) or "latest" (default). */
  glpi?: string;
  /** An OCS release ("2.11.1") or "latest" (default). */
  ocs?: string;
  /** Default: plugin when the GLPI database has connector data, none otherwise. */
  connector?: ConnectorTarget;
  /** GLPI releases the route must pass through (e.g. ["0.84.8"] to migrate the OCS data with plugin 1.0.x). */
  glpiVia?: string[];
}

export interface BuildOptions {
  catalog?: Catalog;
  corrective?: CorrectiveMigration[];
  now?: Date;
}

// ----------------------------------------------------------------------------------------------- build

/** One build of a plan: the catalog, the input, the notes written so far and the database names. */
export interface Ctx {
  c: Catalog;
  input: PlanInput;
  notes: Message[];
  glpiDb: string;
  ocsDb: string;
}

export const cmp = compareDotted;
export const uniq = <T>(xs: T[]) => [...new Set(xs)];

/** Upper-cases the first letter of a catalog fragment that starts a sentence, unless it starts an identifier. */
export const sentence = (x: string) => (/^\p{Ll}+[\s,]/u.test(x) ? x.charAt(0).toUpperCase() + x.slice(1) : x);

export function branchesBetween(c: Catalog, from: string, to: string): GlpiBranch[] {
  // Branches whose migrations run when going from release `from` to release `to`: after from's branch, up to to's.
  const fromBranch = glpiBranchOf(c, from)!;
  return c.glpi.branches.filter((b) => cmp(b.branch, fromBranch.branch) > 0 && cmp(b.branch, glpiBranchOf(c, to)!.branch) <= 0);
}

/** Composes the table changes of consecutive migrations into the net effect of one hop. */
export function composeTableChanges(changes: TableChanges[]): Required<TableChanges> {
  const created = new Set<string>();
  const dropped = new Set<string>();
  const renamed = new Map<string, string>(); // original name → current name
  const originOf = (current: string) => [...renamed.entries()].find(([, cur]) => cur === current)?.[0];
  for (const ch of changes) {
    for (const { from, to } of ch.renamed ?? []) {
      if (created.has(from)) {
        created.delete(from);
        created.add(to);
      } else {
        const origin = originOf(from);
        renamed.set(origin ?? from, to);
      }
    }
    for (const t of ch.dropped ?? []) {
      if (created.has(t)) created.delete(t);
      else {
        const origin = originOf(t);
        if (origin) {
          renamed.delete(origin);
          dropped.add(origin);
        } else dropped.add(t);
      }
    }
    for (const t of ch.created ?? []) {
      if (dropped.has(t)) dropped.delete(t); // dropped then recreated: the table exists afterwards
      created.add(t);
    }
  }
  return {
    created: [...created].sort(),
    dropped: [...dropped].sort(),
    renamed: [...renamed.entries()].map(([from, to]) => ({ from, to })).sort((a, b) => a.from.localeCompare(b.from)),
  };
}

export function effects(changes: Required<TableChanges>, rows: RowsDeleted[], touched: ExpectedEffects['tablesTouched']): ExpectedEffects {
  const e: ExpectedEffects = {};
  if (changes.created.length) e.tablesCreated = changes.created;
  if (changes.dropped.length) e.tablesDropped = changes.dropped;
  if (changes.renamed.length) e.tablesRenamed = changes.renamed;
  if (rows.length) e.rowsDeleted = rows.map((r) => ({ table: r.table, why: literal(r.why, r.why_fr ?? r.why) }));
  if (touched !== undefined) e.tablesTouched = touched;
  return e;
}

export function dbRequirements(x: { mysql?: string; mariadb?: string }): StepRequirements {
  const r: StepRequirements = {};
  if (x.mysql) r.mysql = x.mysql;
  if (x.mariadb) r.mariadb = x.mariadb;
  return r;
}

export function maxVersion(a?: string, b?: string): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return cmp(a, b) >= 0 ? a : b;
}
