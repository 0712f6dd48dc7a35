/**
 * The contract between the rehearsal runner (src/rehearse/runner.ts) and the step executors: one executor
 * per StepRunner kind of src/plan/plan-types.ts. The runner does the checks around a step (row counts,
 * checksums, journal); an executor only runs the step itself on the test instance and says what happened.
 *
 * Status semantics:
 *   passed   the step ran and its result was verified (version rows read back, no real error);
 *   failed   it ran and something went wrong (the reason says what; the database may be half-migrated);
 *   not-run  it could not run here (distribution or PHP missing): `commandForUser` is what the user must run.
 *            A not-run step is never reported as passed, and the run is incomplete.
 */
import type { Connection } from 'mysql2/promise';
import type { Message } from '../../i18n/messages.ts';
import type { Dsn } from '../../db/dsn.ts';
import type { PlanStep, StepRunner } from '../../plan/plan-types.ts';
import type { OcsDistribution } from '../../distributions/ocs.ts';
import type { GlpiDistribution, PluginDistribution } from '../../distributions/glpi.ts';

export type ExecutorStatus = 'passed' | 'failed' | 'not-run';

export type ErrorClassification = 'expected' | 'failure';

/** One SQL statement that raised an error, as run by an OCS SQL executor. */
export interface StatementError {
  /** 1-based index of the statement in the file (after splitting). */
  index: number;
  /** Server error number (e.g. 1060), or 0 when the error did not come from the server. */
  code: number;
  message: string;
  /** First characters of the statement, whitespace collapsed. */
  statement: string;
  classification: ErrorClassification;
  /** Why it was classified so (e.g. "duplicate column: already applied"). */
  why: string;
}

export interface StatementCounts {
  total: number;
  ok: number;
  expectedErrors: number;
  failed: number;
}

/** Rows a step deletes on purpose (known data loss of an official updater), counted before it runs. */
export interface RowsDeletedOnPurpose {
  table: string;
  rows: number;
  why: string;
}

export interface ExecutorResult {
  status: ExecutorStatus;
  /** One line: why failed / not run, or a short note when passed (run.yaml `reason`), rendered where shown. */
  reason?: Message;
  /** For not-run (and some failed) steps: the exact command the user must run, without any password. */
  commandForUser?: string;
  versionBefore?: string;
  versionAfter?: string;
  statements?: StatementCounts;
  /** Statement errors (OCS SQL executors): expected ones and the real failure that stopped the step. */
  errors?: StatementError[];
  /** Short excerpt of the updater's output. */
  outputExcerpt?: string;
  /** Evidence files written by the executor, relative to the run directory. */
  evidence: string[];
  rowsDeletedOnPurpose?: RowsDeletedOnPurpose[];
  /** Free-form, executor-specific details kept in the journal/evidence (never secrets). */
  details?: Record<string, unknown>;
}

export interface ExecutorDistributions {
  /** OCS distributions (`--ocs-dist`, repeatable): an unpacked release, Debian package, or reference layout. */
  ocs?: OcsDistribution[];
  /** GLPI release trees (`--glpi-dist`, one per needed release). */
  glpi?: GlpiDistribution[];
  /** ocsinventoryng plugin releases (`--plugin-dist`). */
  plugin?: PluginDistribution[];
}

export interface ExecutorContext {
  /** An admin connection to the test instance (not used for session settings: executors open their own). */
  conn: Connection;
  /** Address of the test instance (with its password, taken from a trusted source), for own connections. */
  dsn: Dsn;
  databases: { glpi?: string; ocs?: string };
  /** The run directory; evidence paths in results are relative to it. */
  runDir: string;
  /** Where this step writes its evidence (absolute, inside runDir). */
  evidenceDir: string;
  /**
   * A private directory (mode 0700, outside the run directory, kept for the whole run) where the GLPI
   * executors keep GLPI's config dir (config_db.php, glpicrypt.key) and its var dir between steps.
   * Default: a directory under os.tmpdir() named after the run directory.
   */
  privateDir?: string;
  /**
   * [apply] Production GLPI's own config directory (`apply --glpi-config-dir`): GLPI's console reads its
   * config_db.php and glpicrypt.key there, as production's GLPI does. Its config_db.php is used as it is
   * (never rewritten or blanked); the var and marketplace dirs stay private.
   */
  glpiConfigDir?: string;
  /**
   * [apply] Told after a GLPI console step that passed (db:update, plugin install): `apply` turns GLPI's
   * maintenance mode on as soon as the database is at a release that has it.
   */
  afterGlpiConsole?(ctx: ExecutorContext, release: { dist: GlpiDistribution; php: string; database: string }): Promise<void>;
  dists: ExecutorDistributions;
  /** PHP binary (`--php`); default: `php` on PATH. */
  php?: string;
  signal?: AbortSignal;
  log(line: string): void;
  /** Told when the step starts an external program (in its own process group): the runner journals it. */
  onProcess?(p: { pid: number; startTime?: number; command: string }): void;
  /** Told when that program has ended. */
  onProcessEnd?(p: { pid: number; exitCode: number }): void;
}

/** A runner kind of the plan ('ocs-bridge', 'glpi-console', …). */
export type RunnerKind = StepRunner['kind'];

/**
 * The runner of each kind, by kind: `Runners['glpi-console']` is the glpi-console runner. The `& { kind: K }`
 * lets generic code read `step.runner.kind` as K (see runStep in index.ts).
 */
export type Runners = { [K in RunnerKind]: Extract<StepRunner, { kind: K }> & { kind: K } };

/** A plan step whose runner is of kind K. */
export type StepOf<K extends RunnerKind> = PlanStep & { runner: Runners[K] };

export interface StepExecutor<K extends RunnerKind> {
  kind: K;
  execute(step: StepOf<K>, ctx: ExecutorContext): Promise<ExecutorResult>;
}

/** One executor per runner kind, each receiving its own kind's steps (src/rehearse/executors/index.ts). */
export type ExecutorRegistry = { [K in RunnerKind]: StepExecutor<K> };
