/**
 * The saved plan (`plan.yaml`, format 1), produced by `plan`, consumed by `rehearse`, `dossier`, `dat`.
 * Documented in docs/formats.md.
 *
 * Texts for people (`title`, `explanation`, `notes`, `rowsDeleted[].why`) are messages (src/i18n/messages.ts):
 * an id and its parameters, rendered in English (CLI output) or French (dossier, DAT) where they are shown.
 * Plans written before messages existed (an English string and an optional French twin `titleFr`,
 * `explanationFr`, `notesFr`, `whyFr`) are read into `literal` messages by src/plan/io.ts.
 */
import type { Message } from '../i18n/messages.ts';

export type Product = 'glpi' | 'ocs' | 'connector';

/** What executes a step; each kind has one executor in src/rehearse/executors. */
export type StepRunner =
  /** The OCS 2.2 `ocsbase.sql` bridge to GUI_VERSION 7006 (or the tool's equivalent). */
  | { kind: 'ocs-bridge'; toGuiVersion: 7006 }
  /** OCS `files/update/NNNN.sql`, one file, statements split like the official updater, errors classified. */
  | { kind: 'ocs-update-file'; guiVersion: number; file: string }
  /** Schema changes the official OCS updater does in PHP rather than SQL, replicated by the tool. */
  | { kind: 'ocs-php-change'; guiVersion: number; change: string }
  /**
   * `php bin/console <command>` of a GLPI release (db:update, migration:*, db:check_schema_integrity).
   * `entry` (absent = bin/console) names the older CLI updaters instead: `php scripts/cliupdate.php` (9.2.2–9.3)
   * or `php tools/cliupdate.php` (≤ 9.1, git only); `command` is then empty and `args` are the script's.
   */
  | { kind: 'glpi-console'; release: string; command: string; args: string[]; entry?: 'bin/console' | 'scripts/cliupdate.php' | 'tools/cliupdate.php' }
  /** Install + activate the ocsinventoryng plugin release through GLPI's console. */
  | { kind: 'plugin-install'; pluginVersion: string; glpiRelease: string }
  /** One of the project's corrective migrations (migrations/corrective/<id>.yaml). */
  | { kind: 'corrective-migration'; migration: string };

export interface StepRequirements {
  /** semver range of PHP, e.g. ">=7.4.0 <8.5.0". */
  php?: string;
  /** Minimum server versions. */
  mariadb?: string;
  mysql?: string;
  /** Product distribution the step needs (`--glpi-dist`, `--ocs-dist`, `--plugin-dist`). */
  distribution?: { product: Product; version: string };
}

export interface ExpectedEffects {
  tablesCreated?: string[];
  tablesDropped?: string[];
  tablesRenamed?: Array<{ from: string; to: string }>;
  /** Rows deleted on purpose by the step (table → description), so row-count checks can explain them. */
  rowsDeleted?: Array<{ table: string; why: Message }>;
  /** Tables the step may change; every other table's checksum must be unchanged. */
  tablesTouched?: string[] | 'all';
}

export interface PlanStep {
  /** Stable id, e.g. "ocs-7037", "glpi-10.0.22-db-update", "fix-glpi-slalevels-dedup". */
  id: string;
  product: Product;
  /** Which database the step writes to. */
  database: 'glpi' | 'ocs';
  /** One line for people. */
  title: Message;
  runner: StepRunner;
  /** Version before and after, in the product's own terms ("0.83.8" → "10.0.22"; "7036" → "7037"). */
  from: string;
  to: string;
  requires: StepRequirements;
  /** Corrective migrations (ids) that must have run before this step. */
  before: string[];
  expected: ExpectedEffects;
  /** Audit finding ids that matter for this step. */
  hazards: string[];
  /** Why this step is here (shown by `plan --explain` and in the dossier). */
  explanation: Message;
  /** What a sysadmin runs by hand for this step, in order (no password ever; <placeholders> in angle brackets). */
  shell?: string[];
}

export interface PlanFile {
  format: 1;
  tool: { name: 'glpi-ocs-upgrade'; version: string };
  createdAt: string;
  /** The data the plan was made for: rehearse refuses a plan made for another snapshot. */
  source: {
    snapshotId?: string;
    glpi?: { version: string; connector: string };
    ocs?: { guiVersion: number; releases: string[] };
  };
  targets: { glpi?: string; ocs?: string; connector: 'plugin' | 'native' | 'none' };
  steps: PlanStep[];
  /** Choices the planner made and why (fewest supported hops, skipped releases, alternatives). */
  notes: Message[];
  /** Text of every hazard id used by the steps (id → English sentence). */
  hazards?: Record<string, string>;
}
