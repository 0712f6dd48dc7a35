/**
 * Typed errors and the exit codes they end with.
 *
 * Every failure a user can cause or meet is one of these classes; the CLI prints `error: <message>`
 * (plus `hint: …` when there is one) and exits with the class's code. Anything else is a bug and exits
 * with INTERNAL. The table is documented in docs/exit-codes.md and tested in test/errors.test.ts.
 */

export const ExitCode = {
  OK: 0,
  /** An unexpected failure: a bug in the tool. Run again with --debug and report it. */
  INTERNAL: 1,
  /** Wrong flags or arguments. */
  USAGE: 2,
  /** Server unreachable, connection refused or timed out, or the account was refused. */
  CONNECTION: 3,
  /** Something named does not exist: database, file, snapshot, product version, distribution. */
  NOT_FOUND: 4,
  /** A snapshot, checksum, row count or schema did not match what was expected. */
  VERIFICATION_FAILED: 5,
  /** A write was refused by the interlock (the target is not a test instance). */
  REFUSED: 6,
  /** A rehearsal step failed (the run directory says which and why). */
  STEP_FAILED: 7,
  /** `audit --fail-on` threshold reached, or a verdict that is not "accepted". */
  FINDINGS: 8,
  /** A program or package the tool needs is missing (mariadbd, php, pandoc…). */
  MISSING_DEPENDENCY: 9,
  /** No space left on the device. */
  DISK_FULL: 10,
  /** The data is not what the command can work on (unknown version, non-GLPI database, empty database). */
  UNSUPPORTED: 11,
  /** The snapshot's read lock would have held production writes longer than --max-lock-seconds; it was released. */
  LOCK_TIMEOUT: 12,
  /** The run directory or the test instance is held by another live process (a second `rehearse` on it). */
  BUSY: 13,
  /** `--resume` with a plan other than the one the run was started with (use `--new-attempt`). */
  PLAN_CHANGED: 14,
  /** `apply` / `rollback` refused: a precondition is not met (rehearsal, production's state, sessions, backup). */
  APPLY_REFUSED: 15,
  /** Interrupted by Ctrl-C or SIGTERM; the journal allows `--resume`. */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class ToolError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  constructor(message: string, exitCode: ExitCodeValue, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options?.hint;
  }
}

export class UsageError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.USAGE, options);
  }
}

export class ConnectionError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.CONNECTION, options);
  }
}

export class NotFoundError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.NOT_FOUND, options);
  }
}

export class VerificationError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.VERIFICATION_FAILED, options);
  }
}

export class InterlockError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.REFUSED, options);
  }
}

export class StepFailedError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.STEP_FAILED, options);
  }
}

export class FindingsError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.FINDINGS, options);
  }
}

export class MissingDependencyError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.MISSING_DEPENDENCY, options);
  }
}

export class DiskFullError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.DISK_FULL, options);
  }
}

export class UnsupportedError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.UNSUPPORTED, options);
  }
}

export class LockTimeoutError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.LOCK_TIMEOUT, options);
  }
}

export class BusyError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.BUSY, options);
  }
}

export class PlanChangedError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.PLAN_CHANGED, options);
  }
}

export class ApplyRefusedError extends ToolError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.APPLY_REFUSED, options);
  }
}

export class InterruptedError extends ToolError {
  constructor(message = 'interrupted', options?: { hint?: string; cause?: unknown }) {
    super(message, ExitCode.INTERRUPTED, options);
  }
}

/** Maps low-level Node/system errors (ENOSPC, ENOENT, …) onto typed errors; returns undefined when unknown. */
export function fromSystemError(err: unknown, what: string): ToolError | undefined {
  if (err instanceof ToolError) return err;
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new DiskFullError(`no space left on device while ${what}`, {
        hint: 'free some disk space (df -h) or write to another directory, then run the command again',
        cause: err,
      });
    case 'ENOENT':
      return new NotFoundError(`${what}: ${(err as { path?: string }).path ?? 'file'} does not exist`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new UsageError(`${what}: permission denied on ${(err as { path?: string }).path ?? 'a file'}`, {
        cause: err,
      });
    default:
      return undefined;
  }
}
