/**
 * A large GLPI 0.83.8 + OCS 2.1-like dataset for the snapshot/restore benchmark, generated with SQL on the
 * server (INSERT … SELECT FROM seq_1_to_N, MariaDB's Sequence engine), so that generation costs no client time.
 *
 * The tables are the ones that dominate real installations (see docs/benchmarks.md), with their real engines,
 * columns and indexes: OCS `softwares` (InnoDB, ~80 rows per computer), `hardware`, `bios`, `networks`,
 * `drives`, `accountinfo`; GLPI `glpi_computers_softwareversions` (~80 per computer), `glpi_logs` (~40),
 * `glpi_tickets` (~4), `glpi_computers`, `glpi_ocslinks`, `glpi_softwares`, `glpi_softwareversions`, all MyISAM.
 * Values are varied (MD5 fragments) so that gzip ratios are realistic (about 3.5:1), with NULLs and '' mixed in.
 */
import type { Connection } from 'mysql2/promise';

const OCS_DDL = [
  `CREATE TABLE softwares (ID int(11) NOT NULL AUTO_INCREMENT, HARDWARE_ID int(11) NOT NULL, PUBLISHER varchar(255) DEFAULT NULL,
    NAME varchar(255) DEFAULT NULL, VERSION varchar(255) DEFAULT NULL, FOLDER text, COMMENTS text, FILENAME varchar(255) DEFAULT NULL,
    FILESIZE int(11) DEFAULT '0', SOURCE int(11) DEFAULT NULL, GUID varchar(255) DEFAULT NULL, LANGUAGE varchar(255) DEFAULT NULL,
    INSTALLDATE datetime DEFAULT NULL, BITSWIDTH int(11) DEFAULT NULL, PRIMARY KEY (HARDWARE_ID,ID), KEY NAME (NAME), KEY VERSION (VERSION), KEY ID (ID)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE hardware (ID int(11) NOT NULL AUTO_INCREMENT, DEVICEID varchar(255) NOT NULL, NAME varchar(255) DEFAULT NULL,
    WORKGROUP varchar(255) DEFAULT NULL, OSNAME varchar(255) DEFAULT NULL, OSVERSION varchar(255) DEFAULT NULL, PROCESSORT varchar(255) DEFAULT NULL,
    MEMORY int(11) DEFAULT NULL, IPADDR varchar(255) DEFAULT NULL, LASTDATE datetime DEFAULT NULL, LASTCOME datetime DEFAULT NULL,
    USERID varchar(255) DEFAULT NULL, CHECKSUM bigint(20) DEFAULT '262143', UUID varchar(255) DEFAULT NULL,
    PRIMARY KEY (ID,DEVICEID), KEY NAME (NAME), KEY CHECKSUM (CHECKSUM), KEY USERID (USERID), KEY DEVICEID (DEVICEID)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE bios (HARDWARE_ID int(11) NOT NULL, SMANUFACTURER varchar(255) DEFAULT NULL, SMODEL varchar(255) DEFAULT NULL,
    SSN varchar(255) DEFAULT NULL, TYPE varchar(255) DEFAULT NULL, BMANUFACTURER varchar(255) DEFAULT NULL, BVERSION varchar(255) DEFAULT NULL,
    BDATE varchar(255) DEFAULT NULL, ASSETTAG varchar(255) DEFAULT NULL, PRIMARY KEY (HARDWARE_ID), KEY SSN (SSN), KEY ASSETTAG (ASSETTAG)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE networks (ID int(11) NOT NULL AUTO_INCREMENT, HARDWARE_ID int(11) NOT NULL, DESCRIPTION varchar(255) DEFAULT NULL,
    TYPE varchar(255) DEFAULT NULL, SPEED varchar(255) DEFAULT NULL, MACADDR varchar(255) DEFAULT NULL, STATUS varchar(255) DEFAULT NULL,
    IPADDRESS varchar(255) DEFAULT NULL, IPMASK varchar(255) DEFAULT NULL, IPGATEWAY varchar(255) DEFAULT NULL, IPSUBNET varchar(255) DEFAULT NULL,
    VIRTUALDEV tinyint(1) DEFAULT '0', PRIMARY KEY (HARDWARE_ID,ID), KEY MACADDR (MACADDR), KEY IPADDRESS (IPADDRESS), KEY ID (ID)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE drives (ID int(11) NOT NULL AUTO_INCREMENT, HARDWARE_ID int(11) NOT NULL, LETTER varchar(255) DEFAULT NULL,
    TYPE varchar(255) DEFAULT NULL, FILESYSTEM varchar(255) DEFAULT NULL, TOTAL int(11) DEFAULT NULL, FREE int(11) DEFAULT NULL,
    NUMFILES int(11) DEFAULT NULL, VOLUMN varchar(255) DEFAULT NULL, CREATEDATE date DEFAULT NULL, PRIMARY KEY (HARDWARE_ID,ID), KEY ID (ID)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE accountinfo (HARDWARE_ID int(11) NOT NULL, TAG varchar(255) DEFAULT 'NA', PRIMARY KEY (HARDWARE_ID), KEY TAG (TAG)) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE deleted_equiv (DATE datetime DEFAULT NULL, DELETED varchar(255) NOT NULL, EQUIVALENT varchar(255) DEFAULT NULL) ENGINE=MyISAM DEFAULT CHARSET=utf8`,
  `CREATE TABLE config (NAME varchar(50) NOT NULL, IVALUE int(11) DEFAULT NULL, TVALUE varchar(255) DEFAULT NULL, COMMENTS text, PRIMARY KEY (NAME)) ENGINE=MyISAM DEFAULT CHARSET=utf8`,
];

const GLPI_DDL = [
  `CREATE TABLE glpi_computers_softwareversions (id int(11) NOT NULL AUTO_INCREMENT, computers_id int(11) NOT NULL DEFAULT '0',
    softwareversions_id int(11) NOT NULL DEFAULT '0', is_deleted tinyint(1) NOT NULL DEFAULT '0', is_template tinyint(1) NOT NULL DEFAULT '0',
    PRIMARY KEY (id), UNIQUE KEY unicity (computers_id,softwareversions_id), KEY softwareversions_id (softwareversions_id)
  ) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
  `CREATE TABLE glpi_logs (id int(11) NOT NULL AUTO_INCREMENT, itemtype varchar(100) NOT NULL DEFAULT '', items_id int(11) NOT NULL DEFAULT '0',
    itemtype_link varchar(100) NOT NULL DEFAULT '', linked_action int(11) NOT NULL DEFAULT '0', user_name varchar(255) DEFAULT NULL,
    date_mod datetime DEFAULT NULL, id_search_option int(11) NOT NULL DEFAULT '0', old_value varchar(255) DEFAULT NULL, new_value varchar(255) DEFAULT NULL,
    PRIMARY KEY (id), KEY date_mod (date_mod), KEY itemtype_link (itemtype_link), KEY item (itemtype,items_id)
  ) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
  `CREATE TABLE glpi_tickets (id int(11) NOT NULL AUTO_INCREMENT, entities_id int(11) NOT NULL DEFAULT '0', name varchar(255) DEFAULT NULL,
    date datetime DEFAULT NULL, closedate datetime DEFAULT NULL, solvedate datetime DEFAULT NULL, date_mod datetime DEFAULT NULL,
    status varchar(255) DEFAULT 'new', users_id_recipient int(11) NOT NULL DEFAULT '0', itemtype varchar(100) NOT NULL, items_id int(11) NOT NULL DEFAULT '0',
    content longtext, urgency int(11) NOT NULL DEFAULT '1', impact int(11) NOT NULL DEFAULT '1', priority int(11) NOT NULL DEFAULT '1',
    cost_time decimal(20,4) NOT NULL DEFAULT '0.0000', solution text, due_date datetime DEFAULT NULL,
    PRIMARY KEY (id), KEY date (date), KEY closedate (closedate), KEY status (status), KEY item (itemtype,items_id), KEY date_mod (date_mod)
  ) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
  `CREATE TABLE glpi_computers (id int(11) NOT NULL AUTO_INCREMENT, entities_id int(11) NOT NULL DEFAULT '0', name varchar(255) DEFAULT NULL,
    serial varchar(255) DEFAULT NULL, otherserial varchar(255) DEFAULT NULL, contact varchar(255) DEFAULT NULL, comment text, date_mod datetime DEFAULT NULL,
    operatingsystems_id int(11) NOT NULL DEFAULT '0', locations_id int(11) NOT NULL DEFAULT '0', is_deleted tinyint(1) NOT NULL DEFAULT '0',
    notepad longtext, is_ocs_import tinyint(1) NOT NULL DEFAULT '0', users_id int(11) NOT NULL DEFAULT '0',
    PRIMARY KEY (id), KEY date_mod (date_mod), KEY name (name), KEY serial (serial), KEY is_ocs_import (is_ocs_import)
  ) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
  `CREATE TABLE glpi_ocslinks (id int(11) NOT NULL AUTO_INCREMENT, computers_id int(11) NOT NULL DEFAULT '0', ocsid int(11) NOT NULL DEFAULT '0',
    ocs_deviceid varchar(255) DEFAULT NULL, use_auto_update tinyint(1) NOT NULL DEFAULT '1', last_update datetime DEFAULT NULL,
    last_ocs_update datetime DEFAULT NULL, computer_update longtext, import_device longtext, import_software longtext, ocsservers_id int(11) NOT NULL DEFAULT '0',
    ocs_agent_version varchar(255) DEFAULT NULL, entities_id int(11) NOT NULL DEFAULT '0', tag varchar(255) DEFAULT NULL,
    PRIMARY KEY (id), UNIQUE KEY unicity (ocsid,ocsservers_id), KEY last_update (last_update), KEY ocs_deviceid (ocs_deviceid), KEY computers_id (computers_id)
  ) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
  `CREATE TABLE glpi_softwares (id int(11) NOT NULL AUTO_INCREMENT, entities_id int(11) NOT NULL DEFAULT '0', name varchar(255) DEFAULT NULL,
    comment text, manufacturers_id int(11) NOT NULL DEFAULT '0', is_deleted tinyint(1) NOT NULL DEFAULT '0', date_mod datetime DEFAULT NULL,
    PRIMARY KEY (id), KEY name (name), KEY manufacturers_id (manufacturers_id), KEY date_mod (date_mod)
  ) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
  `CREATE TABLE glpi_softwareversions (id int(11) NOT NULL AUTO_INCREMENT, entities_id int(11) NOT NULL DEFAULT '0', softwares_id int(11) NOT NULL DEFAULT '0',
    states_id int(11) NOT NULL DEFAULT '0', name varchar(255) DEFAULT NULL, comment text, PRIMARY KEY (id), KEY name (name), KEY softwares_id (softwares_id)
  ) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
  `CREATE TABLE glpi_configs (id int(11) NOT NULL AUTO_INCREMENT, version char(10) DEFAULT NULL, language char(10) DEFAULT NULL, PRIMARY KEY (id)) ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci`,
];

/** Creates and fills `glpiDb` and `ocsDb` for `computers` computers. Returns the number of rows. */
export async function generateBenchData(c: Connection, glpiDb: string, ocsDb: string, computers: number, log: (s: string) => void): Promise<number> {
  const n = computers;
  const pool = Math.max(100, Math.round(n * 0.4)); // distinct software titles
  const versions = pool * 3;
  const perSoft = 80;
  await c.query("SET SESSION sql_mode = ''");
  for (const db of [glpiDb, ocsDb]) {
    await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await c.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8`);
  }
  await c.query(`USE \`${ocsDb}\``);
  for (const ddl of OCS_DDL) await c.query(ddl);
  await c.query(`INSERT INTO config VALUES ('GUI_VERSION', 0, '7005', 'Version of the installed GUI and database')`);
  const steps: Array<[string, string]> = [
    [
      'ocs.hardware',
      `INSERT INTO hardware (ID, DEVICEID, NAME, WORKGROUP, OSNAME, OSVERSION, PROCESSORT, MEMORY, IPADDR, LASTDATE, LASTCOME, USERID, UUID)
       SELECT seq, CONCAT('PC-', LPAD(seq, 6, '0'), '-2012-03-04-10-11-12'), CONCAT('PC-', LPAD(seq, 6, '0')), 'WORKGROUP',
              ELT(1 + seq % 3, 'Microsoft Windows XP Professionnel', 'Microsoft Windows 7 Professionnel', 'Debian GNU/Linux 6.0'),
              ELT(1 + seq % 3, '5.1.2600', '6.1.7601', '2.6.32-5-686'), 'Intel(R) Core(TM)2 Duo CPU E8400 @ 3.00GHz', 1024 * (1 + seq % 8),
              CONCAT('10.', seq % 250, '.', seq % 200, '.', seq % 254), NOW() - INTERVAL (seq % 400) DAY, NOW() - INTERVAL (seq % 30) DAY,
              CONCAT('user', seq % 5000), UUID() FROM seq_1_to_${n}`,
    ],
    [
      'ocs.bios',
      `INSERT INTO bios SELECT seq, ELT(1 + seq % 4, 'Dell Inc.', 'Hewlett-Packard', 'LENOVO', 'FUJITSU'), CONCAT('OptiPlex ', 700 + seq % 90),
              UPPER(LEFT(MD5(seq), 7)), 'Desktop', 'Dell Inc.', CONCAT('A', seq % 20), '03/04/2011', IF(seq % 5 = 0, NULL, CONCAT('INV', seq)) FROM seq_1_to_${n}`,
    ],
    [
      'ocs.networks',
      `INSERT INTO networks (HARDWARE_ID, DESCRIPTION, TYPE, SPEED, MACADDR, STATUS, IPADDRESS, IPMASK, IPGATEWAY, IPSUBNET)
       SELECT 1 + seq % ${n}, 'Intel(R) 82567LM-3 Gigabit Network Connection', 'Ethernet', '100 Mb/s',
              CONCAT_WS(':', '00', HEX(seq % 256), HEX(seq % 199), HEX(seq % 97), HEX(seq % 53), HEX(seq % 31)), 'Up',
              CONCAT('10.', seq % 250, '.', seq % 200, '.', seq % 254), '255.255.0.0', '10.0.0.1', CONCAT('10.', seq % 250, '.0.0') FROM seq_1_to_${n * 2}`,
    ],
    [
      'ocs.drives',
      `INSERT INTO drives (HARDWARE_ID, LETTER, TYPE, FILESYSTEM, TOTAL, FREE, NUMFILES, VOLUMN, CREATEDATE)
       SELECT 1 + seq % ${n}, ELT(1 + seq % 3, 'C:/', 'D:/', 'E:/'), 'Hard Drive', 'NTFS', 76000 + seq % 1000, seq % 70000, 0,
              IF(seq % 4 = 0, '', CONCAT('VOL', seq % 100)), '2011-01-01' + INTERVAL (seq % 700) DAY FROM seq_1_to_${n * 3}`,
    ],
    ['ocs.accountinfo', `INSERT INTO accountinfo SELECT seq, IF(seq % 10 = 0, 'NA', CONCAT('SITE-', seq % 40)) FROM seq_1_to_${n}`],
    [
      'ocs.softwares',
      `INSERT INTO softwares (HARDWARE_ID, PUBLISHER, NAME, VERSION, FOLDER, COMMENTS, FILENAME, FILESIZE, SOURCE, GUID, LANGUAGE, INSTALLDATE, BITSWIDTH)
       SELECT 1 + seq % ${n}, IF(seq % 10 = 0, NULL, ELT(1 + (seq DIV 7) % 6, 'Microsoft Corporation', 'Adobe Systems Incorporated', 'Mozilla', 'Oracle', 'Google Inc.', 'The Document Foundation')),
              CONCAT(ELT(1 + (seq DIV 3) % 5, 'Microsoft Office ', 'Adobe Reader ', 'Mozilla Firefox ', 'Java ', 'Update for '), LEFT(MD5(seq % ${pool}), 10)),
              CONCAT(seq % 12, '.', seq % 7, '.', seq % 1000),
              CONCAT('C:\\\\Program Files\\\\', LEFT(MD5(seq % ${pool}), 14)), IF(seq % 4 = 0, NULL, CONCAT('Installed by ', LEFT(MD5(seq), 20), ' ', REPEAT('x', seq % 30))),
              '', seq % 100000, 1, CONCAT('{', UPPER(LEFT(MD5(seq % ${pool}), 8)), '-', UPPER(LEFT(MD5(seq), 4)), '}'), IF(seq % 3 = 0, 'French', NULL),
              '2010-01-01' + INTERVAL (seq % 1500) DAY, IF(seq % 2 = 0, 64, 32)
         FROM seq_1_to_${n * perSoft}`,
    ],
    [
      'ocs.deleted_equiv',
      `INSERT INTO deleted_equiv SELECT NOW() - INTERVAL seq HOUR, CONCAT('PC-OLD-', seq), IF(seq % 2 = 0, NULL, CONCAT('PC-', seq)) FROM seq_1_to_${Math.max(10, Math.round(n / 20))}`,
    ],
  ];
  const run = async (label: string, sql: string) => {
    const t0 = Date.now();
    await c.query(sql);
    log(`  ${label} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  for (const [label, sql] of steps) await run(label, sql);

  await c.query(`USE \`${glpiDb}\``);
  for (const ddl of GLPI_DDL) await c.query(ddl);
  await c.query(`INSERT INTO glpi_configs VALUES (1, ' 0.83.8', 'fr_FR')`);
  const gsteps: Array<[string, string]> = [
    [
      'glpi.glpi_computers',
      `INSERT INTO glpi_computers (id, entities_id, name, serial, otherserial, contact, comment, date_mod, operatingsystems_id, locations_id, is_ocs_import, users_id)
       SELECT seq, seq % 12, CONCAT('PC-', LPAD(seq, 6, '0')), UPPER(LEFT(MD5(seq), 7)), IF(seq % 5 = 0, NULL, CONCAT('INV', seq)), CONCAT('user', seq % 5000),
              IF(seq % 3 = 0, '', CONCAT('Poste de ', LEFT(MD5(seq), 12))), NOW() - INTERVAL (seq % 500) DAY, 1 + seq % 3, 1 + seq % 60, 1, seq % 5000 FROM seq_1_to_${n}`,
    ],
    [
      'glpi.glpi_ocslinks',
      `INSERT INTO glpi_ocslinks (computers_id, ocsid, ocs_deviceid, last_update, last_ocs_update, computer_update, import_device, import_software, ocsservers_id, ocs_agent_version, entities_id, tag)
       SELECT seq, seq, CONCAT('PC-', LPAD(seq, 6, '0'), '-2012-03-04-10-11-12'), NOW() - INTERVAL (seq % 30) DAY, NOW() - INTERVAL (seq % 30) DAY,
              'a:0:{}', CONCAT('a:2:{i:0;s:10:"', LEFT(MD5(seq), 10), '";i:1;s:4:"test";}'), CONCAT('a:1:{i:', seq, ';s:8:"', LEFT(MD5(seq), 8), '";}'), 1,
              'OCS-NG_WINDOWS_AGENT_v2.0.5', seq % 12, CONCAT('SITE-', seq % 40) FROM seq_1_to_${n}`,
    ],
    [
      'glpi.glpi_softwares',
      `INSERT INTO glpi_softwares (id, entities_id, name, comment, manufacturers_id, date_mod) SELECT seq, 0, CONCAT('Soft ', LEFT(MD5(seq), 10)), IF(seq % 2 = 0, NULL, ''), seq % 6, NOW() FROM seq_1_to_${pool}`,
    ],
    ['glpi.glpi_softwareversions', `INSERT INTO glpi_softwareversions (id, softwares_id, name, comment) SELECT seq, 1 + seq % ${pool}, CONCAT(seq % 12, '.', seq % 7), '' FROM seq_1_to_${versions}`],
    [
      'glpi.glpi_computers_softwareversions',
      `INSERT INTO glpi_computers_softwareversions (computers_id, softwareversions_id) SELECT 1 + (seq - 1) DIV ${perSoft}, 1 + ((seq - 1) * 7919) % ${versions} FROM seq_1_to_${n * perSoft}`,
    ],
    [
      'glpi.glpi_logs',
      `INSERT INTO glpi_logs (itemtype, items_id, itemtype_link, linked_action, user_name, date_mod, id_search_option, old_value, new_value)
       SELECT ELT(1 + seq % 3, 'Computer', 'Software', 'Ticket'), 1 + seq % ${n}, IF(seq % 4 = 0, 'SoftwareVersion', ''), seq % 20,
              CONCAT('OCS ', LEFT(MD5(seq), 6)), NOW() - INTERVAL (seq % 100000) MINUTE, seq % 100, IF(seq % 3 = 0, NULL, LEFT(MD5(seq + 1), 16)),
              CONCAT(LEFT(MD5(seq), 12), ' (', seq % 1000, ')') FROM seq_1_to_${n * 40}`,
    ],
    [
      'glpi.glpi_tickets',
      `INSERT INTO glpi_tickets (entities_id, name, date, closedate, solvedate, date_mod, status, users_id_recipient, itemtype, items_id, content, urgency, impact, priority, solution, due_date)
       SELECT seq % 12, CONCAT('Incident ', LEFT(MD5(seq), 10)), NOW() - INTERVAL (seq % 900) DAY, IF(seq % 3 = 0, NULL, NOW() - INTERVAL (seq % 800) DAY),
              IF(seq % 3 = 0, NULL, NOW() - INTERVAL (seq % 800) DAY), NOW(), ELT(1 + seq % 4, 'new', 'assign', 'solved', 'closed'), seq % 5000, 'Computer', 1 + seq % ${n},
              CONCAT('&lt;p&gt;Bonjour, ', REPEAT(CONCAT(MD5(seq), ' le poste ne démarre plus. '), 1 + seq % 6), '&lt;/p&gt;'), 1 + seq % 5, 1 + seq % 5, 1 + seq % 5,
              IF(seq % 2 = 0, NULL, CONCAT('Résolu: ', MD5(seq))), IF(seq % 7 = 0, '0000-00-00 00:00:00', NULL) FROM seq_1_to_${n * 4}`,
    ],
  ];
  for (const [label, sql] of gsteps) await run(label, sql);
  await c.query(`ANALYZE TABLE \`${ocsDb}\`.softwares, \`${ocsDb}\`.hardware, \`${ocsDb}\`.networks, \`${ocsDb}\`.drives, \`${ocsDb}\`.bios, \`${ocsDb}\`.accountinfo`);
  const [r] = await c.query('SELECT SUM(TABLE_ROWS) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?, ?)', [glpiDb, ocsDb]);
  return Number((r as Array<{ n: unknown }>)[0].n);
}
