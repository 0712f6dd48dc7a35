/**
 * Audit findings (`findings.yaml`, format 1), read by `plan`, `rehearse`, `dossier` and `dat`.
 * Documented in docs/formats.md.
 */

/** The tender's classification (§8.11): blocking, major, minor. */
import type { Message } from '../i18n/messages.ts';

export type Severity = 'bloquante' | 'majeure' | 'mineure';

export type FindingFamily = 'glpi-upgrade' | 'ocs-upgrade' | 'interconnection' | 'environment';

export interface LocalizedText {
  fr: string;
  en: string;
}

export interface Remedy {
  /** A corrective migration from migrations/corrective/ that `rehearse` applies on the test instance… */
  migration?: string;
  /** …or a manual action, described precisely. */
  manual?: LocalizedText;
}

export interface Finding {
  /** Check id, e.g. "glpi.duplicates.slalevels_tickets". Stable: dossiers refer to it. */
  id: string;
  family: FindingFamily;
  severity: Severity;
  title: LocalizedText;
  /** How many rows/objects are affected (0 never appears: a check that finds nothing yields no finding). */
  count: number;
  /** Evidence: counts, sample keys, table names. Never personal data beyond keys. */
  evidence: Record<string, unknown>;
  /** The plan steps this matters for (step ids), when known. */
  appliesTo?: string[];
  remedy: Remedy;
}

export interface CheckRun {
  id: string;
  family: FindingFamily;
  title: LocalizedText;
  status: 'ok' | 'finding' | 'skipped';
  /** Why a check was skipped (no such table, no reference schema, database not given…): a message (src/i18n). */
  reason?: Message;
  /** Severity the check gives when it finds something (optional: absent in files written by older tools). */
  severity?: Severity;
  /** Informational evidence of a check that found nothing (e.g. which OCS fields are synchronised). */
  evidence?: Record<string, unknown>;
  /** Wall-clock time of the check, in ms (for benchmarks; never asserted on). */
  ms?: number;
}

export interface FindingsFile {
  format: 1;
  tool: { name: 'glpi-ocs-upgrade'; version: string };
  createdAt: string;
  /** The snapshot manifest id, or "live" with the addresses audited. */
  source: { snapshotId?: string; live?: { glpi?: string; ocs?: string } };
  checksRun: CheckRun[];
  findings: Finding[];
}
