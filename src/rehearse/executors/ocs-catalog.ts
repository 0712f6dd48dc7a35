/**
 * Facts about the official OCS SQL files that the executors act on (data, not code paths):
 * rows they delete on purpose (counted before the file runs), and the schema changes the official updater
 * makes in PHP rather than in SQL (replicated by ocs-php-change).
 * Sources: ../shared/research/ocs-connector.md §2.1 item 4, §3.3; the SQL files themselves.
 */

export interface DeletionCounter {
  table: string;
  /** SELECT COUNT(*) … run before the file; the table may not exist (then nothing is counted). */
  countSql: string;
  why: string;
}

/** Update file GUI_VERSION → rows it deletes on purpose. */
export const OCS_UPDATE_DELETIONS: Record<number, DeletionCounter[]> = {
  7037: [
    {
      table: 'softwares',
      countSql: 'SELECT COUNT(*) AS n FROM `softwares` WHERE `NAME` IS NULL OR `PUBLISHER` IS NULL OR `VERSION` IS NULL',
      why: '7037.sql copies softwares into software with INNER JOINs on name, publisher and version, then drops softwares: rows with a NULL name, publisher or version are not carried over',
    },
  ],
  7080: [
    {
      table: 'batteries',
      countSql: 'SELECT COUNT(*) AS n FROM `batteries`',
      why: '7080.sql drops and recreates the batteries table: every battery row is lost (agents send them again at their next inventory)',
    },
  ],
};

/** What the official legacy bridge (2.1/2.2 files/ocsbase.sql) empties on a 2.1 database. */
export const OCS_BRIDGE_DELETIONS: DeletionCounter[] = [
  ...['registry_name_cache', 'registry_regvalue_cache', 'hardware_osname_cache', 'softwares_name_cache'].map((t) => ({
    table: t,
    countSql: `SELECT COUNT(*) AS n FROM \`${t}\``,
    why: `the official bridge script runs TRUNCATE TABLE ${t} (a cache the server rebuilds)`,
  })),
  { table: 'locks', countSql: 'SELECT COUNT(*) AS n FROM `locks`', why: 'the official bridge script runs TRUNCATE TABLE locks (transient inventory locks)' },
];

/** Side effects of the official bridge that are not row deletions but must be reported. */
export const OCS_BRIDGE_WARNINGS = [
  "the official bridge script resets the password of the OCS console operator 'admin' to 'admin' (UPDATE operators SET passwd=md5('admin')): change it after the upgrade",
];

export interface OcsPhpChange {
  id: string;
  /** GUI_VERSION of the first release whose console makes this change (it runs on every console page from then on). */
  guiVersion: number;
  title: string;
}

/** The schema/data changes ocsreports makes in PHP (require/config/include.php), not in the SQL files. */
export const OCS_PHP_CHANGES: OcsPhpChange[] = [
  {
    id: 'accountinfo-types-2.5',
    guiVersion: 7015,
    title: 'administrative data field types: checkbox 4→5, date 6→14, radio 7→11 (migrate_adminData_2_5)',
  },
  {
    id: 'snmp-lastdate-2.10',
    guiVersion: 7063,
    title: 'when SNMP is enabled, add LASTDATE to every SNMP type table that lacks it (migrate_snmp_2_10_1)',
  },
];

/** The PHP-side changes a database reaching `guiVersion` must have had applied, in order. */
export function ocsPhpChangesUpTo(guiVersion: number): OcsPhpChange[] {
  return OCS_PHP_CHANGES.filter((c) => c.guiVersion <= guiVersion);
}
