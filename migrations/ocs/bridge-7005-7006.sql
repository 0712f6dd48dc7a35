-- glpi-ocs-upgrade: the tool's own bridge from OCS Inventory NG 2.1 / 2.1.1 (GUI_VERSION 7005) to 7006,
-- the first version from which the official files/update/NNNN.sql files apply (7007 onwards).
--
-- Written for this project from the structural difference measured between a 2.1 database and the same
-- database after the official OCS 2.2 bridge script: one new table (`plugins`, console plugins registry)
-- and one new configuration row (OCS_SERVER_ADDRESS). Everything else the official script does to a
-- 2.1 database is a no-op or a data side effect this bridge deliberately leaves out (see
-- docs/distributions.md: it empties four cache tables and `locks`, and resets the console's `admin`
-- password). 7009.sql later repeats both changes with IF NOT EXISTS / duplicate-key semantics.
--
-- Idempotent: safe to run twice. GUI_VERSION is written by the tool after every statement succeeded.
-- The OCS runner splits this file at every semicolon: none may appear in a comment or a literal.

CREATE TABLE IF NOT EXISTS `plugins` (
  `id` INT(6) UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(30) CHARACTER SET utf8 COLLATE utf8_bin NOT NULL,
  `version` DOUBLE NOT NULL,
  `licence` VARCHAR(50) CHARACTER SET utf8 COLLATE utf8_bin NULL DEFAULT NULL,
  `author` VARCHAR(30) CHARACTER SET utf8 COLLATE utf8_bin NULL DEFAULT NULL,
  `verminocs` DOUBLE NOT NULL,
  `activated` TINYINT(1) NOT NULL,
  `reg_date` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8 COLLATE utf8_general_ci;

INSERT IGNORE INTO `config` (`NAME`, `IVALUE`, `TVALUE`, `COMMENTS`)
  VALUES ('OCS_SERVER_ADDRESS', 0, '127.0.0.1', 'Ocs serveur ip for plugin webservice');
