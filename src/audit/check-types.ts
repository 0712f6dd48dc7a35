/**
 * The shape of one audit check. Checks are data: each is one entry in a catalog array (src/audit/checks/*),
 * with an id, a family, a title (a message), what it applies to, a severity, a remedy, and a `run` function
 * of the audit context that returns { count, evidence } — or a skip with its reason.
 */
import type { FindingFamily, Remedy, Severity } from './finding-types.ts';
import type { Message } from '../i18n/messages.ts';
import type { AuditContext } from './context.ts';

/** What a check applies to: which database it needs and which plan step kinds it matters for. */
export interface AppliesTo {
  /** Databases the check reads: it is skipped when one of them was not given. */
  needs: Array<'glpi' | 'ocs'>;
  /** GLPI versions the check is meaningful for, as [min, max) dotted versions (max exclusive). */
  glpiVersions?: [string, string?];
  /** OCS GUI_VERSION range [min, max) the check is meaningful for. */
  ocsGuiVersions?: [number, number?];
  /** GLPI–OCS connector forms the check is meaningful for. */
  connector?: Array<'core-0.83' | 'renamed-0.84' | 'plugin'>;
  /** Plan step kinds (or step id prefixes) the finding matters for, copied into Finding.appliesTo. */
  steps: string[];
}

export interface CheckOutcome {
  /** Rows/objects affected; 0 means the check is clean. */
  count: number;
  evidence: Record<string, unknown>;
  /** Optional override of the catalog severity (e.g. a backlog that grows from minor to major). */
  severity?: Severity;
  /** Optional override of the catalog remedy (e.g. a corrective migration only for one table). */
  remedy?: Remedy;
}

export interface CheckSkip {
  /** Why the check did not run (findings.yaml `reason`). */
  skipped: Message;
}

export interface AuditCheck {
  id: string;
  family: FindingFamily;
  title: Message;
  appliesTo: AppliesTo;
  severity: Severity;
  remedy: Remedy;
  /** Read-only: SELECTs and information_schema only. */
  run(ctx: AuditContext): Promise<CheckOutcome | CheckSkip>;
}

export function isSkip(r: CheckOutcome | CheckSkip): r is CheckSkip {
  return 'skipped' in r;
}

/** A skip with its reason: skip(msg('audit.skip.no-table', { table: 'batteries' })). */
export function skip(reason: Message): CheckSkip {
  return { skipped: reason };
}

export function clean(evidence: Record<string, unknown> = {}): CheckOutcome {
  return { count: 0, evidence };
}
