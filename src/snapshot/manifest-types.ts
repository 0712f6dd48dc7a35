/**
 * The snapshot directory's `manifest.yaml` (format 1). Documented in docs/formats.md.
 *
 * Layout of a snapshot directory:
 *   manifest.yaml
 *   glpi/<table>.schema.sql.gz        CREATE TABLE as rendered by the source server (`zcat f | mariadb db`)
 *   glpi/<table>.<chunk>.tsv.gz       data: LOAD DATA format (tab-separated, backslash escapes, \N for NULL,
 *                                     raw bytes: CHARACTER SET binary), loadable by the standard client with
 *                                     LOAD DATA LOCAL INFILE (docs/snapshot.md shows the command)
 *   glpi/<name>.view.sql.gz           CREATE VIEW; <name>.trigger.sql.gz, <name>.procedure.sql.gz, <name>.function.sql.gz
 *   ocs/…                             same for the OCS database
 *   SNAPSHOT-INCOMPLETE               present only while a snapshot is being written (or after a crash)
 * Names that are not [A-Za-z0-9_$-] are written as @xxxx (hex of the UTF-8 byte), like the server's own files.
 */
import type { GlpiVersionInfo, ConnectorInfo, OcsVersionInfo } from '../inspect/detect.ts';

export const MANIFEST_FORMAT = 1;

export type DatabaseRole = 'glpi' | 'ocs';

export interface ManifestFile {
  /** Path relative to the snapshot directory. */
  path: string;
  bytes: number;
  sha256: string;
  /** Rows in this file (data files). */
  rows?: number;
}

/** How one column's values are written in the data files and read back. */
export interface ManifestColumn {
  name: string;
  /**
   * raw: the server's text form, byte for byte; float: `col + 0e0` (the 17-digit form, which the server's FLOAT
   * text form is not); bit: the unsigned integer (loaded through a variable and CAST); geometry: the internal
   * binary form (loaded through a variable); enum: the member's index (`col + 0`, loaded through a variable and
   * CAST), for ENUM columns that have an empty-string member, where the text form cannot tell that member from
   * the error value (index 0, stored when strict mode is off).
   */
  encoding: 'raw' | 'float' | 'bit' | 'geometry' | 'enum';
}

export interface ManifestTable {
  name: string;
  engine: string | null;
  collation: string | null;
  rowFormat?: string | null;
  /** Exact row count at snapshot time. */
  rows: number;
  /** `CHECKSUM TABLE` value at snapshot time (string: it can exceed 2^53). */
  checksum: string | null;
  /** The schema file, then data files in load order. */
  files: ManifestFile[];
  /** Columns in the order of the data files (generated columns are not dumped). Absent in hand-made manifests: all columns, raw. */
  columns?: ManifestColumn[];
  /** The integer primary key the data was split on, when it was split into several files. */
  chunkedBy?: string;
}

export interface ManifestDatabase {
  role: DatabaseRole;
  /** Database name at the source. */
  name: string;
  charset: string;
  collation: string;
  glpi?: { version: GlpiVersionInfo; connector: ConnectorInfo };
  ocs?: { version: OcsVersionInfo };
  tables: ManifestTable[];
  views: Array<{ name: string; file: ManifestFile }>;
  triggers: Array<{ name: string; table: string; file: ManifestFile }>;
  routines: Array<{ name: string; type: 'PROCEDURE' | 'FUNCTION'; file: ManifestFile }>;
  /**
   * Set when the account could not list every stored routine of the database (information_schema shows only
   * the routines an account may use): `routines` may then be incomplete. The reason, in one line.
   */
  routinesUnreadable?: string;
  /**
   * sha256 over this database's files, computed like the snapshot id: a manifest that lists only this database
   * (an extract of one database, as rehearse's replay writes) is checked against it instead of the snapshot id.
   */
  filesId?: string;
  /** Things the snapshot could not capture for this database (e.g. routines without the privilege to read them). */
  warnings?: string[];
}

/** How data files are encoded (LOAD DATA options that read them back byte for byte). */
export interface ManifestDataFormat {
  format: 'tsv';
  /** The session time zone the values were read in; TIMESTAMP columns must be loaded in the same one. */
  timeZone: '+00:00';
  characterSet: 'binary';
  fieldsTerminatedBy: '\t';
  escapedBy: '\\';
  linesTerminatedBy: '\n';
  nullAs: '\\N';
}

/**
 * How one server (or one account's tables) was frozen: `global-read-lock` is FLUSH TABLES WITH READ LOCK (needs
 * RELOAD): every reader copies MyISAM tables in parallel, writers wait on the global lock, never in a table's
 * queue; `table-locks` is LOCK TABLES … READ taken and read by one session (without RELOAD): the session holding
 * the lock copies every non-transactional table itself, so no other session ever queues behind a writer.
 */
export interface ManifestLock {
  /** Server address (no password). */
  server: string;
  /** The account whose session held the lock. */
  account: string;
  method: 'global-read-lock' | 'table-locks';
  /** Databases (source names) the lock froze. */
  databases: string[];
  /** From the lock request to its release, ms: the longest a production write could have waited on it. */
  heldMs: number;
  /**
   * Longest wait of a production write seen in the server's process list while the lock was requested or held
   * (sampled about 4 times a second); null when the account cannot see other sessions (no PROCESS privilege).
   */
  longestWriteWaitMs: number | null;
}

export interface ManifestConsistency {
  /**
   * How tables were made consistent. `global-read-lock` / `table-locks`: see ManifestLock (every lock of the
   * snapshot used that method; `table-locks` as soon as one did); InnoDB tables are read in transactions opened
   * while the lock was held. `no-lock`: nothing was locked (replica). `lock+transaction` and `transaction` are
   * the values of older snapshots (LOCK TABLES read by other sessions, which could deadlock).
   */
  method: 'global-read-lock' | 'table-locks' | 'no-lock' | 'lock+transaction' | 'transaction';
  /** The longest any lock was held (request to release), ms. */
  lockHeldMs: number;
  /** The --max-lock-seconds limit the snapshot ran with, ms. */
  maxLockMs?: number;
  /** The longest wait of a production write observed while locked, ms; null when not observable (see ManifestLock). */
  longestWriteWaitMs?: number | null;
  /** Each lock taken (one per server with `global-read-lock`; one per account with `table-locks`). */
  locks?: ManifestLock[];
  /**
   * `one`: every database was frozen at the same instant (every lock was held together before anything was read).
   * `separate`: they were not (no lock): data of GLPI and of OCS may come from different moments.
   * Absent in older snapshots.
   */
  instants?: 'one' | 'separate';
  warning?: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  tool: { name: 'glpi-ocs-upgrade'; version: string };
  createdAt: string;
  /** Stable identity of the snapshot: sha256 over the sorted (path, sha256) of every file. */
  id: string;
  source: {
    serverVersion: string;
    sqlMode: string;
    characterSetServer: string;
    collationServer: string;
    lowerCaseTableNames: number;
    /** Address without password, for the record; absent for generated fixtures. */
    address?: string;
  };
  consistency: ManifestConsistency;
  compression: { algorithm: 'gzip'; level: number };
  /** Encoding of data files; absent means the format-1 default (tsv, see ManifestDataFormat). */
  data?: ManifestDataFormat;
  /** Parallel readers used and wall time of the snapshot, for the record. */
  stats?: { jobs: number; elapsedMs: number; rows: number; bytes: number };
  databases: ManifestDatabase[];
  /** Set by `fixtures` for generated snapshots: seed, scale, hazards. */
  generated?: { generator: string; seed: number; computers: number; hazards: string[] };
  /**
   * Set by `anonymize`: this snapshot's personal data was rewritten by the rules whose checksum is given
   * (never the salt). `source` is the id of the snapshot it was made from.
   */
  anonymized?: { rulesChecksum: string; at: string; source: string };
}
