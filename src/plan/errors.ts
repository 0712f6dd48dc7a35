/**
 * The planner's typed errors. Each extends one of src/errors.ts, so it ends with that class's exit code.
 */
import { NotFoundError, UnsupportedError, UsageError } from '../errors.ts';

/** The source data carries a version the catalog does not know (exit 11). */
export class UnknownVersionError extends UnsupportedError {}

/** A target named on the command line is not a release of the catalog (exit 4). */
export class UnknownTargetError extends NotFoundError {}

/** The target is older than the source: a downgrade (exit 2). */
export class DowngradeError extends UsageError {}

/** Targets that cannot work together (e.g. OCS ≥ 2.8 with a GLPI whose connector plugin reads only older OCS) (exit 2). */
export class IncompatibleTargetsError extends UsageError {}

/** The version row and the schema disagree: a half-upgraded database (exit 11). */
export class InconsistentDatabaseError extends UnsupportedError {}

/** No supported route exists in the catalog (exit 11). */
export class NoRouteError extends UnsupportedError {}
