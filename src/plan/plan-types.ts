/**
 * The saved plan (`plan.yaml`, format 1), produced by `plan`, consumed by `rehearse`, `dossier`, `dat`.
 * Documented in docs/formats.md.
 *
 * Texts for people are in English (`title`, `explanation`, `notes`, `rowsDeleted[].why`: CLI output, JSON,
 * docs/plan.md) with a French twin for the French dossier and DAT (`titleFr`, `explanationFr`, `notesFr`,
 * `whyFr`). The twins are optional so that plans written before they existed still load; the planner always
 * writes them.
 */

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
  rowsDeleted?: Array<{ table: string; why: string; whyFr?: string }>;
  /** Tables the step may change; every other table's checksum must be unchanged. */
  tablesTouched?: string[] | 'all';
}

export interface PlanStep {
  /** Stable id, e.g. "ocs-7037", "glpi-10.0.22-db-update", "fix-glpi-slalevels-dedup". */
  id: string;
  product: Product;
  /** Which database the step writes to. */
  database: 'glpi' | 'ocs';
  /** One line for people, in English. */
  title: string;
  /** The same line in French (absent in plans written before the French twins existed: readers fall back to `title`). */
  titleFr?: string;
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
  /** Why this step is here, in English (shown by `plan --explain` and in the English dossier). */
  explanation: string;
  /** The same in French (shown in the French dossier; absent in older plans). */
  explanationFr?: string;
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
  /** Choices the planner made and why (fewest supported hops, skipped releases, alternatives), in English. */
  notes: string[];
  /** The same notes in French, one for one (same length and order as `notes`; absent in older plans). */
  notesFr?: string[];
  /** Text of every hazard id used by the steps (id → English sentence). */
  hazards?: Record<string, string>;
}
