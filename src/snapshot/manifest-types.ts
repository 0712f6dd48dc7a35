/**
 * The snapshot directory's `manifest.yaml` (format 1). Documented in docs/formats.md.
 *
 * Layout of a snapshot directory:
 *   manifest.yaml
 *   glpi/<table>.schema.sql.gz        CREATE TABLE as rendered by the source server
 *   glpi/<table>.<chunk>.sql.gz       data, loadable by the standard client (`zcat f | mariadb db`)
 *   ocs/…                             same for the OCS database
 * (the data file naming and encoding are the snapshot module's choice; every file is listed in the manifest)
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
  databases: ManifestDatabase[];
  /** Set by `fixtures` for generated snapshots: seed, scale, hazards. */
  generated?: { generator: string; seed: number; computers: number; hazards: string[] };
}
