/**
 * Tables whose content differs between two runs of GLPI's db:update on the same data whatever else is
 * equal: rows stamped with the time of the run or holding a key generated for the instance. Used by the
 * tests that compare a rehearsal's result with another run of the real updater (test/glpi-lang.test.ts,
 * test/rehearse-glpi-orphan.test.ts); each entry was seen differing between two uninterrupted runs.
 */
export const GLPI_UPDATE_VOLATILE_TABLES: ReadonlySet<string> = new Set<string>([]);
