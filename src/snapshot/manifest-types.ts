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
   * binary form (loaded through a variable).
   */
  encoding: 'raw' | 'float' | 'bit' | 'geometry';
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
  consistency: {
    /** How tables were made consistent: one transaction for InnoDB, a read lock for the rest. */
    method: 'lock+transaction' | 'transaction' | 'no-lock';
    /** How long the read lock on non-transactional tables was held, in ms. */
    lockHeldMs: number;
    warning?: string;
  };
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
