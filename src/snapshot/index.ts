/**
 * The snapshot module's public API: take a consistent, byte-exact snapshot of the GLPI and OCS databases,
 * read and verify its manifest, restore it into a test instance and prove the restore by checksums.
 * File format: docs/formats.md ("Snapshot manifest"); user guide: docs/snapshot.md.
 */
export type { Manifest, ManifestDatabase, ManifestTable, ManifestFile, ManifestColumn, ManifestConsistency, ManifestLock, DatabaseRole } from './manifest-types.ts';
export { MANIFEST_FORMAT } from './manifest-types.ts';
export { takeSnapshot, defaultJobs, unqualifyTrigger, DEFAULT_MAX_LOCK_MS } from './dump.ts';
export type { SnapshotOptions, SnapshotProgress, SnapshotSource, LockMethod } from './dump.ts';
export { readManifest, verifySnapshot, describeProblems, manifestFiles, computeSnapshotId } from './manifest.ts';
export type { VerifyProblem, VerifyResult } from './manifest.ts';
export { restoreSnapshot, RestoreMismatchError, deferIndexes, proveTable, tablesDifferingFrom } from './restore.ts';
export { RowDigest, readTableDigest } from './digest.ts';
export { snapshotOrigin, originComment } from './origin.ts';
export type { SnapshotOrigin } from './origin.ts';
export type { RestoreOptions, RestoreProgress, RestoreResult, RestoredTable } from './restore.ts';
export { MANIFEST_NAME, INCOMPLETE_MARKER } from './files.ts';
export { loadDataStatement } from './tsv.ts';
