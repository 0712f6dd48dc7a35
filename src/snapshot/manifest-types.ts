/**
 * The snapshot directory's `manifest.yaml` (format 1). Documented in docs/formats.md. The types are inferred
 * from the schema in src/formats/manifest.ts.
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
export { MANIFEST_FORMAT } from '../formats/manifest.ts';
export type {
  DatabaseRole,
  Manifest,
  ManifestColumn,
  ManifestConsistency,
  ManifestDatabase,
  ManifestDataFormat,
  ManifestFile,
  ManifestLock,
  ManifestTable,
} from '../formats/manifest.ts';
