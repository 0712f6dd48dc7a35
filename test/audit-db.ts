/**
 * Small GLPI 0.83.8 + OCS 2.1 databases for the audit tests, built from hand-written CREATE TABLEs that
 * follow the 0.83.8 / 2.1 column definitions of the tables the checks read, plus every (table, column)
 * the zero-date corrective migration names. Each hazard is a function that damages a clean pair of
 * databases and declares exactly which findings (id → count) the audit must then report.
 */
import type { Connection } from 'mysql2/promise';
import type { TestServer } from './helpers/server.ts';
import type { FindingsFile } from '../src/audit/finding-types.ts';
import { runAudit } from '../src/audit/index.ts';
import { loadCorrectiveMigrations } from '../src/catalog/corrective.ts';

const T = 'ENGINE=MyISAM DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci';

const GLPI_TABLES = [
  `CREATE TABLE glpi_locations (id int(11) NOT NULL AUTO_INCREMENT, entities_id int(11) NOT NULL DEFAULT '0', is_recursive tinyint(1) NOT NULL DEFAULT '0',
     name varchar(255) DEFAULT NULL, locations_id int(11) NOT NULL DEFAULT '0', completename text, comment text, level int(11) NOT NULL DEFAULT '0',
     ancestors_cache longtext, sons_cache longtext, building varchar(255) DEFAULT NULL, room varchar(255) DEFAULT NULL,
     PRIMARY KEY (id), UNIQUE KEY unicity (entities_id, locations_id, name), KEY locations_id (locations_id), KEY name (name), KEY is_recursive (is_recursive)) ${T}`,
  `CREATE TABLE glpi_configs (id int(11) NOT NULL AUTO_INCREMENT, version char(10) DEFAULT NULL, language char(10) DEFAULT NULL, PRIMARY KEY (id)) ${T}`,
  `CREATE TABLE glpi_computers (id int(11) NOT NULL AUTO_INCREMENT, entities_id int(11) NOT NULL DEFAULT '0',
     name varchar(255) DEFAULT NULL, serial varchar(255) DEFAULT NULL, otherserial varchar(255) DEFAULT NULL,
     contact varchar(255) DEFAULT NULL, contact_num varchar(255) DEFAULT NULL, comment text, date_mod datetime DEFAULT NULL,
     operatingsystems_id int(11) NOT NULL DEFAULT '0', os_license_number varchar(255) DEFAULT NULL, os_licenseid varchar(255) DEFAULT NULL,
     domains_id int(11) NOT NULL DEFAULT '0', computermodels_id int(11) NOT NULL DEFAULT '0', computertypes_id int(11) NOT NULL DEFAULT '0',
     template_name varchar(255) DEFAULT NULL, manufacturers_id int(11) NOT NULL DEFAULT '0', notepad longtext,
     is_ocs_import tinyint(1) NOT NULL DEFAULT '0', users_id int(11) NOT NULL DEFAULT '0', uuid varchar(255) DEFAULT NULL,
     PRIMARY KEY (id), KEY name (name), KEY users_id (users_id)) ${T}`,
  `CREATE TABLE glpi_slalevels_tickets (id int(11) NOT NULL AUTO_INCREMENT, tickets_id int(11) NOT NULL DEFAULT '0', slalevels_id int(11) NOT NULL DEFAULT '0',
     date datetime DEFAULT NULL, PRIMARY KEY (id), KEY tickets_id (tickets_id), KEY slalevels_id (slalevels_id)) ${T}`,
  `CREATE TABLE glpi_states (id int(11) NOT NULL AUTO_INCREMENT, name varchar(255) DEFAULT NULL, comment text, states_id int(11) NOT NULL DEFAULT '0',
     completename text, level int(11) NOT NULL DEFAULT '0', PRIMARY KEY (id), KEY name (name), KEY unicity (states_id, name)) ${T}`,
  `CREATE TABLE glpi_tickets_tickets (id int(11) NOT NULL AUTO_INCREMENT, tickets_id_1 int(11) NOT NULL DEFAULT '0', tickets_id_2 int(11) NOT NULL DEFAULT '0',
     link int(11) NOT NULL DEFAULT '1', PRIMARY KEY (id), KEY unicity (tickets_id_1, tickets_id_2)) ${T}`,
  `CREATE TABLE glpi_tickettemplatehiddenfields (id int(11) NOT NULL AUTO_INCREMENT, tickettemplates_id int(11) NOT NULL DEFAULT '0',
     num int(11) NOT NULL DEFAULT '0', PRIMARY KEY (id), KEY unicity (tickettemplates_id, num)) ${T}`,
  `CREATE TABLE glpi_tickettemplatemandatoryfields (id int(11) NOT NULL AUTO_INCREMENT, tickettemplates_id int(11) NOT NULL DEFAULT '0',
     num int(11) NOT NULL DEFAULT '0', PRIMARY KEY (id), KEY unicity (tickettemplates_id, num)) ${T}`,
  `CREATE TABLE glpi_reservationitems (id int(11) NOT NULL AUTO_INCREMENT, itemtype varchar(100) NOT NULL, items_id int(11) NOT NULL DEFAULT '0',
     PRIMARY KEY (id), KEY item (itemtype, items_id)) ${T}`,
  `CREATE TABLE glpi_users (id int(11) NOT NULL AUTO_INCREMENT, name varchar(255) DEFAULT NULL, auths_id int(11) NOT NULL DEFAULT '0',
     authtype int(11) NOT NULL DEFAULT '0', last_login datetime DEFAULT NULL, PRIMARY KEY (id), UNIQUE KEY unicity (name)) ${T}`,
  `CREATE TABLE glpi_computers_softwareversions (id int(11) NOT NULL AUTO_INCREMENT, computers_id int(11) NOT NULL DEFAULT '0',
     softwareversions_id int(11) NOT NULL DEFAULT '0', PRIMARY KEY (id), UNIQUE KEY unicity (computers_id, softwareversions_id)) ${T}`,
  `CREATE TABLE glpi_documents_items (id int(11) NOT NULL AUTO_INCREMENT, documents_id int(11) NOT NULL DEFAULT '0', items_id int(11) NOT NULL DEFAULT '0',
     itemtype varchar(100) NOT NULL, PRIMARY KEY (id), UNIQUE KEY unicity (documents_id, itemtype, items_id)) ${T}`,
  `CREATE TABLE glpi_displaypreferences (id int(11) NOT NULL AUTO_INCREMENT, itemtype varchar(100) NOT NULL, num int(11) NOT NULL DEFAULT '0',
     \`rank\` int(11) NOT NULL DEFAULT '0', users_id int(11) NOT NULL DEFAULT '0', PRIMARY KEY (id), UNIQUE KEY unicity (users_id, itemtype, num)) ${T}`,
  `CREATE TABLE glpi_ocsservers (id int(11) NOT NULL AUTO_INCREMENT, name varchar(255) DEFAULT NULL, ocs_db_user varchar(255) DEFAULT NULL,
     ocs_db_passwd varchar(255) DEFAULT NULL, ocs_db_host varchar(255) DEFAULT NULL, ocs_db_name varchar(255) DEFAULT NULL,
     import_general_name tinyint(1) NOT NULL DEFAULT '0', import_general_os tinyint(1) NOT NULL DEFAULT '0', import_general_serial tinyint(1) NOT NULL DEFAULT '0',
     import_general_model tinyint(1) NOT NULL DEFAULT '0', import_general_manufacturer tinyint(1) NOT NULL DEFAULT '0',
     import_general_type tinyint(1) NOT NULL DEFAULT '0', import_general_domain tinyint(1) NOT NULL DEFAULT '0',
     import_general_contact tinyint(1) NOT NULL DEFAULT '0', import_general_comment tinyint(1) NOT NULL DEFAULT '0',
     import_os_serial tinyint(1) NOT NULL DEFAULT '0', import_general_uuid tinyint(1) NOT NULL DEFAULT '0',
     date_mod datetime DEFAULT NULL, ocs_version varchar(255) DEFAULT NULL, PRIMARY KEY (id)) ${T}`,
  `CREATE TABLE glpi_ocslinks (id int(11) NOT NULL AUTO_INCREMENT, computers_id int(11) NOT NULL DEFAULT '0', ocsid int(11) NOT NULL DEFAULT '0',
     ocs_deviceid varchar(255) DEFAULT NULL, last_update datetime DEFAULT NULL, last_ocs_update datetime DEFAULT NULL,
     ocsservers_id int(11) NOT NULL DEFAULT '0', PRIMARY KEY (id), UNIQUE KEY unicity (ocsid, ocsservers_id), KEY computers_id (computers_id)) ${T}`,
  `CREATE TABLE glpi_documentcategories (id int(11) NOT NULL AUTO_INCREMENT, name varchar(255) DEFAULT NULL, comment text, PRIMARY KEY (id), KEY name (name)) ${T}`,
  // latin1 in GLPI's own 0.83.8 schema.
  `CREATE TABLE glpi_notimportedemails (id int(11) NOT NULL AUTO_INCREMENT, \`from\` varchar(255) NOT NULL, subject text, date datetime NOT NULL,
     PRIMARY KEY (id)) ENGINE=MyISAM DEFAULT CHARSET=latin1`,
  `CREATE TABLE glpi_profiles (id int(11) NOT NULL AUTO_INCREMENT, name varchar(255) DEFAULT NULL, ocsng char(1) DEFAULT NULL,
     view_ocsng char(1) DEFAULT NULL, sync_ocsng char(1) DEFAULT NULL, rule_ocs char(1) DEFAULT NULL, clean_ocsng char(1) DEFAULT NULL, PRIMARY KEY (id)) ${T}`,
];

const O = 'ENGINE=MyISAM DEFAULT CHARSET=utf8';
const OCS_TABLES = [
  `CREATE TABLE config (NAME varchar(50) NOT NULL, IVALUE int(11) DEFAULT NULL, TVALUE varchar(255) DEFAULT NULL, COMMENTS text, PRIMARY KEY (NAME)) ${O}`,
  `CREATE TABLE hardware (ID int(11) NOT NULL AUTO_INCREMENT, DEVICEID varchar(255) NOT NULL, NAME varchar(255) DEFAULT NULL, LASTDATE datetime DEFAULT NULL,
     CHECKSUM bigint(20) unsigned DEFAULT '262143', PRIMARY KEY (DEVICEID, ID), KEY ID (ID), KEY NAME (NAME)) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE accountinfo (HARDWARE_ID int(11) NOT NULL, TAG varchar(255) DEFAULT 'NA', PRIMARY KEY (HARDWARE_ID)) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE softwares (ID int(11) NOT NULL AUTO_INCREMENT, HARDWARE_ID int(11) NOT NULL, PUBLISHER varchar(255) DEFAULT NULL, NAME varchar(255) DEFAULT NULL,
     VERSION varchar(255) DEFAULT NULL, PRIMARY KEY (HARDWARE_ID, ID), KEY ID (ID)) ENGINE=InnoDB DEFAULT CHARSET=utf8`,
  `CREATE TABLE batteries (ID int(11) NOT NULL AUTO_INCREMENT, HARDWARE_ID int(11) NOT NULL, NAME varchar(255) DEFAULT NULL, PRIMARY KEY (HARDWARE_ID, ID), KEY ID (ID)) ${O}`,
  `CREATE TABLE deleted_equiv (DATE timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, DELETED varchar(255) NOT NULL, EQUIVALENT varchar(255) DEFAULT NULL) ${O}`,
];

/** (table, column) pairs the zero-date corrective migration updates: the test schema must have them all. */
function zeroDateColumns(): Array<[string, string]> {
  const m = loadCorrectiveMigrations().find((x) => x.id === 'glpi-null-zero-dates');
  if (!m) throw new Error('glpi-null-zero-dates migration missing');
  return m.statements.map((s) => {
    const r = /UPDATE \{\{db\}\}\.(\w+) SET (\w+) = NULL/.exec(s);
    if (!r) throw new Error(`unexpected statement ${s}`);
    return [r[1], r[2]];
  });
}

export async function buildGlpi(c: Connection, db: string): Promise<void> {
  await c.query(`ALTER DATABASE \`${db}\` CHARACTER SET utf8 COLLATE utf8_unicode_ci`);
  await c.query(`USE \`${db}\``);
  await c.query("SET SESSION sql_mode = ''");
  for (const sql of GLPI_TABLES) await c.query(sql);
  const [rows] = await c.query('SELECT TABLE_NAME t, COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?', [db]);
  const have = new Set((rows as Array<{ t: string; c: string }>).map((r) => `${r.t}.${r.c}`));
  const tables = new Set((rows as Array<{ t: string }>).map((r) => r.t));
  for (const [t, col] of zeroDateColumns()) {
    if (!tables.has(t)) {
      await c.query(`CREATE TABLE \`${t}\` (id int(11) NOT NULL AUTO_INCREMENT, PRIMARY KEY (id)) ${T}`);
      tables.add(t);
    }
    if (!have.has(`${t}.${col}`)) {
      await c.query(`ALTER TABLE \`${t}\` ADD \`${col}\` datetime DEFAULT NULL`);
      have.add(`${t}.${col}`);
    }
  }
  await c.query("INSERT INTO glpi_configs (id, version, language) VALUES (1, ' 0.83.8', 'fr_FR')");
  for (let i = 1; i <= 4; i++) {
    await c.query(
      `INSERT INTO glpi_computers (id, name, serial, contact, comment, date_mod, operatingsystems_id, os_license_number, domains_id, computermodels_id,
         computertypes_id, manufacturers_id, is_ocs_import, users_id, uuid)
       VALUES (?, ?, ?, 'jdupont', 'Poste de la Société Générale Électronique', '2026-10-01 09:00:00', 1, 'XXXX', 1, 1, 1, 1, 1, 2, ?)`,
      [i, `PC-ÉTÉ-00${i}`, `SN${i}`, `uuid-${i}`],
    );
  }
  await c.query("INSERT INTO glpi_slalevels_tickets (tickets_id, slalevels_id, date) VALUES (1, 1, '2012-01-01 00:00:00'), (2, 1, NULL)");
  await c.query("INSERT INTO glpi_states (id, name, states_id, completename, level) VALUES (1, 'Actif', 0, 'Actif', 1), (2, 'Rebut', 0, 'Rebut', 1), (3, NULL, 0, NULL, 1), (4, NULL, 0, NULL, 1)");
  await c.query('INSERT INTO glpi_tickets_tickets (tickets_id_1, tickets_id_2) VALUES (1, 2), (2, 3)');
  await c.query('INSERT INTO glpi_tickettemplatehiddenfields (tickettemplates_id, num) VALUES (1, 5), (1, 6)');
  await c.query('INSERT INTO glpi_tickettemplatemandatoryfields (tickettemplates_id, num) VALUES (1, 7), (1, 8)');
  await c.query("INSERT INTO glpi_documentcategories (name) VALUES ('Contrats'), ('Factures')");
  await c.query("INSERT INTO glpi_reservationitems (itemtype, items_id) VALUES ('Computer', 1), ('Computer', 2)");
  await c.query("INSERT INTO glpi_users (id, name, auths_id, authtype) VALUES (2, 'glpi', 0, 1), (3, 'bob', 0, 1)");
  await c.query('INSERT INTO glpi_computers_softwareversions (computers_id, softwareversions_id) VALUES (1, 10), (2, 10)');
  await c.query("INSERT INTO glpi_documents_items (documents_id, items_id, itemtype) VALUES (1, 1, 'Computer'), (1, 2, 'Computer')");
  await c.query("INSERT INTO glpi_displaypreferences (itemtype, num, `rank`, users_id) VALUES ('Computer', 5, 1, 0), ('Computer', 6, 2, 0)");
  await c.query(
    `INSERT INTO glpi_ocsservers (id, name, ocs_db_user, ocs_db_passwd, ocs_db_host, ocs_db_name, import_general_name, import_general_os,
       import_general_serial, import_general_model, import_general_manufacturer, import_general_type, ocs_version)
     VALUES (1, 'OCS Prod', 'ocs', '', 'localhost', ?, 1, 1, 1, 1, 1, 1, '7005')`,
    [`${db}_ocs`],
  );
  for (let i = 1; i <= 4; i++) {
    await c.query(
      "INSERT INTO glpi_ocslinks (id, computers_id, ocsid, ocs_deviceid, last_update, last_ocs_update, ocsservers_id) VALUES (?, ?, ?, ?, '2026-11-01 10:00:00', '2026-11-01 09:00:00', 1)",
      [i, i, 100 + i, `PC-${i}-2026`],
    );
  }
  // A correct latin1 value: "Réseau" with é as the single byte E9.
  await c.query("INSERT INTO glpi_notimportedemails (`from`, subject, date) VALUES ('a@example.org', X'52E9736561752064E96661696C6C616E74', '2012-05-01 10:00:00')");
  await c.query(
    "INSERT INTO glpi_profiles (id, name, ocsng, view_ocsng, sync_ocsng, rule_ocs, clean_ocsng) VALUES (1, 'Self-Service', NULL, NULL, NULL, NULL, NULL), (4, 'Super-Admin', 'w', 'r', 'w', 'w', 'w')",
  );
}

export async function buildOcs(c: Connection, db: string): Promise<void> {
  await c.query(`USE \`${db}\``);
  await c.query("SET SESSION sql_mode = ''");
  for (const sql of OCS_TABLES) await c.query(sql);
  await c.query("INSERT INTO config (NAME, IVALUE, TVALUE) VALUES ('GUI_VERSION', 0, '7005'), ('TRACE_DELETED', 1, '')");
  for (let i = 1; i <= 4; i++) {
    await c.query("INSERT INTO hardware (ID, DEVICEID, NAME, LASTDATE) VALUES (?, ?, ?, '2026-11-02 08:00:00')", [100 + i, `PC-${i}-2026`, `PC-${i}`]);
    await c.query("INSERT INTO accountinfo (HARDWARE_ID, TAG) VALUES (?, 'SITE-A')", [100 + i]);
    await c.query("INSERT INTO softwares (HARDWARE_ID, PUBLISHER, NAME, VERSION) VALUES (?, 'Mozilla', 'Firefox', '115.0')", [100 + i]);
  }
  // OCS groups are pseudo-machines whose DEVICEID starts with "_": never "not imported".
  await c.query("INSERT INTO hardware (ID, DEVICEID, NAME, LASTDATE) VALUES (500, '_SYSTEMGROUP_', 'Group A', '2026-11-02 08:00:00')");
}

/** Creates a fresh clean GLPI 0.83.8 + OCS 2.1 pair of databases, named `<prefix><n>` and `<prefix><n>_ocs`. */
export function pairMaker(server: TestServer, root: () => Connection, prefix: string): () => Promise<{ glpi: string; ocs: string }> {
  let n = 0;
  return async () => {
    n++;
    const glpi = await server.freshDatabase(`${prefix}${n}`);
    const ocs = await server.freshDatabase(`${prefix}${n}_ocs`);
    await buildGlpi(root(), glpi);
    await buildOcs(root(), ocs);
    await root().query("SET SESSION sql_mode = ''");
    return { glpi, ocs };
  };
}

/** Audits a pair on its own connection to the test server. */
export async function auditPair(server: TestServer, glpi: string, ocs: string): Promise<FindingsFile> {
  const c = await server.connect();
  try {
    return await runAudit({ connections: { glpi: { conn: c, database: glpi }, ocs: { conn: c, database: ocs } } });
  } finally {
    await c.end();
  }
}

export interface Hazard {
  name: string;
  apply(c: Connection, glpi: string, ocs: string): Promise<void>;
  /** Exactly the findings the audit must report: check id → count. */
  expect: Record<string, number>;
}

const q = (c: Connection, db: string, sql: string, params: unknown[] = []) => c.query(`/* ${db} */ ${sql.replace(/\bG\./g, `\`${db}\`.`)}`, params);

export const HAZARDS: Hazard[] = [
  {
    name: 'duplicate glpi_slalevels_tickets rows',
    apply: async (c, g) => void (await q(c, g, 'INSERT INTO G.glpi_slalevels_tickets (tickets_id, slalevels_id) VALUES (1, 1), (1, 1), (2, 5), (2, 5)')),
    expect: { 'glpi.duplicates.slalevels_tickets': 3 },
  },
  {
    name: 'two states with the same name at the same level',
    apply: async (c, g) => void (await q(c, g, "INSERT INTO G.glpi_states (name, states_id, completename, level) VALUES ('Actif', 0, 'Actif', 1)")),
    expect: { 'glpi.duplicates.states': 1 },
  },
  {
    name: 'duplicate ticket links',
    apply: async (c, g) => void (await q(c, g, 'INSERT INTO G.glpi_tickets_tickets (tickets_id_1, tickets_id_2) VALUES (1, 2)')),
    expect: { 'glpi.duplicates.tickets_tickets': 1 },
  },
  {
    name: 'duplicate hidden fields of a ticket template',
    apply: async (c, g) => void (await q(c, g, 'INSERT INTO G.glpi_tickettemplatehiddenfields (tickettemplates_id, num) VALUES (1, 5), (1, 5)')),
    expect: { 'glpi.duplicates.tickettemplatehiddenfields': 2 },
  },
  {
    name: 'duplicate mandatory fields of a ticket template',
    apply: async (c, g) => void (await q(c, g, 'INSERT INTO G.glpi_tickettemplatemandatoryfields (tickettemplates_id, num) VALUES (1, 7)')),
    expect: { 'glpi.duplicates.tickettemplatemandatoryfields': 1 },
  },
  {
    name: 'a reservable item listed twice',
    apply: async (c, g) => void (await q(c, g, "INSERT INTO G.glpi_reservationitems (itemtype, items_id) VALUES ('Computer', 1)")),
    expect: { 'glpi.duplicates.reservationitems': 1 },
  },
  {
    name: 'two document categories with the same name',
    apply: async (c, g) => void (await q(c, g, "INSERT INTO G.glpi_documentcategories (name) VALUES ('factures')")),
    expect: { 'glpi.duplicates.documentcategories': 1 },
  },
  {
    name: 'duplicate users once the 0.83.8 key was dropped',
    apply: async (c, g) => {
      await q(c, g, 'ALTER TABLE G.glpi_users DROP INDEX unicity');
      await q(c, g, "INSERT INTO G.glpi_users (name, auths_id, authtype) VALUES ('bob', 0, 1), ('bob', 0, 2)");
    },
    expect: { 'glpi.duplicates.users': 1 },
  },
  {
    name: 'duplicate software installations once the key was dropped',
    apply: async (c, g) => {
      await q(c, g, 'ALTER TABLE G.glpi_computers_softwareversions DROP INDEX unicity');
      await q(c, g, 'INSERT INTO G.glpi_computers_softwareversions (computers_id, softwareversions_id) VALUES (1, 10)');
    },
    expect: { 'glpi.duplicates.computers_softwareversions': 1 },
  },
  {
    name: 'duplicate document links once the key was dropped',
    apply: async (c, g) => {
      await q(c, g, 'ALTER TABLE G.glpi_documents_items DROP INDEX unicity');
      await q(c, g, "INSERT INTO G.glpi_documents_items (documents_id, items_id, itemtype) VALUES (1, 1, 'Computer')");
    },
    expect: { 'glpi.duplicates.documents_items': 1 },
  },
  {
    name: 'displaypreferences without its unicity key, with duplicates',
    apply: async (c, g) => {
      await q(c, g, 'ALTER TABLE G.glpi_displaypreferences DROP INDEX unicity');
      await q(c, g, "INSERT INTO G.glpi_displaypreferences (itemtype, num, `rank`, users_id) VALUES ('Computer', 5, 3, 0), ('Computer', 5, 4, 0)");
    },
    expect: { 'glpi.duplicates.displaypreferences': 2 },
  },
  {
    name: 'zero dates',
    apply: async (c, g) => {
      await q(c, g, "UPDATE G.glpi_computers SET date_mod = '0000-00-00 00:00:00' WHERE id IN (1, 2)");
      await q(c, g, "INSERT INTO G.glpi_infocoms (buy_date) VALUES ('0000-00-00')");
    },
    expect: { 'glpi.dates.zero_values': 3 },
  },
  {
    name: 'a zero-date default',
    apply: async (c, g) => void (await q(c, g, "ALTER TABLE G.glpi_computers MODIFY date_mod datetime DEFAULT '0000-00-00 00:00:00'")),
    expect: { 'glpi.dates.zero_defaults': 1 },
  },
  {
    name: 'a date after 2038',
    apply: async (c, g) => void (await q(c, g, "UPDATE G.glpi_computers SET date_mod = '2050-03-01 12:00:00' WHERE id = 3")),
    expect: { 'glpi.dates.after_2038': 1 },
  },
  {
    name: 'a negative id',
    apply: async (c, g) => void (await q(c, g, 'UPDATE G.glpi_computers SET users_id = -1 WHERE id = 2')),
    expect: { 'glpi.ids.negative': 1 },
  },
  {
    name: 'an id beyond INT',
    apply: async (c, g) => {
      await q(c, g, 'ALTER TABLE G.glpi_tickets_tickets MODIFY tickets_id_2 bigint(20) NOT NULL DEFAULT 0');
      await q(c, g, 'INSERT INTO G.glpi_tickets_tickets (tickets_id_1, tickets_id_2) VALUES (9, 3000000000)');
    },
    expect: { 'glpi.ids.oversized': 1 },
  },
  {
    name: 'double-encoded text',
    apply: async (c, g) => {
      await q(c, g, "UPDATE G.glpi_computers SET name = 'BÃ¢timent A' WHERE id = 1");
      await q(c, g, "UPDATE G.glpi_computers SET comment = 'HÃ©lÃ¨ne' WHERE id = 2");
    },
    expect: { 'glpi.text.double_encoded': 2 },
  },
  {
    name: 'lost characters (U+FFFD)',
    apply: async (c, g) => void (await q(c, g, "UPDATE G.glpi_computers SET comment = 'Fen\uFFFDtre ouverte' WHERE id = 3")),
    expect: { 'glpi.text.replacement_chars': 1 },
  },
  {
    name: 'UTF-8 bytes in the latin1 table',
    apply: async (c, g) =>
      void (await q(c, g, "INSERT INTO G.glpi_notimportedemails (`from`, subject, date) VALUES ('b@example.org', X'52C3A9736561752064C3A96661696C6C616E74', '2012-05-02 10:00:00')")),
    expect: { 'glpi.text.latin1_holding_utf8': 1 },
  },
  {
    name: 'a TEXT value at its limit and a 1 MiB LONGTEXT',
    apply: async (c, g) => {
      await q(c, g, "UPDATE G.glpi_computers SET comment = REPEAT('a', 65535) WHERE id = 4");
      await q(c, g, "UPDATE G.glpi_computers SET notepad = REPEAT('b', 1048576) WHERE id = 1");
    },
    expect: { 'glpi.text.large_values': 2 },
  },
  {
    name: 'one InnoDB table among MyISAM ones',
    apply: async (c, g) => void (await q(c, g, 'ALTER TABLE G.glpi_states ENGINE=InnoDB ROW_FORMAT=DYNAMIC')),
    expect: { 'glpi.tables.mixed_engines': 1 },
  },
  {
    name: 'an InnoDB COMPACT table',
    apply: async (c, g) => void (await q(c, g, 'ALTER TABLE G.glpi_states ENGINE=InnoDB ROW_FORMAT=COMPACT')),
    expect: { 'glpi.tables.mixed_engines': 1, 'glpi.tables.row_size': 1 },
  },
  {
    name: 'glpi_locations converted to latin1',
    apply: async (c, g) => {
      await q(c, g, "INSERT INTO G.glpi_locations (id, name, completename) VALUES (1, 'Bâtiment É', 'Siège > Bâtiment É')");
      await q(c, g, 'ALTER TABLE G.glpi_locations CONVERT TO CHARACTER SET latin1');
    },
    expect: { 'glpi.tables.mixed_collations': 1 },
  },
  {
    name: 'glpi_computers converted to latin1',
    apply: async (c, g) => void (await q(c, g, 'ALTER TABLE G.glpi_computers CONVERT TO CHARACTER SET latin1')),
    expect: { 'glpi.tables.mixed_collations': 1 },
  },
  {
    name: 'OCS software with NULL publisher or version',
    apply: async (c, _g, o) =>
      void (await q(c, o, "INSERT INTO G.softwares (HARDWARE_ID, PUBLISHER, NAME, VERSION) VALUES (101, NULL, 'Outil', '1.0'), (101, 'X', 'Y', NULL), (102, NULL, NULL, NULL)")),
    expect: { 'ocs.software.null_fields': 3 },
  },
  {
    name: 'OCS inventory tables converted to MyISAM',
    apply: async (c, _g, o) => {
      await q(c, o, 'ALTER TABLE G.hardware ENGINE=MyISAM');
      await q(c, o, 'ALTER TABLE G.softwares ENGINE=MyISAM');
    },
    expect: { 'ocs.tables.myisam': 2 },
  },
  {
    name: 'OCS batteries',
    apply: async (c, _g, o) => void (await q(c, o, "INSERT INTO G.batteries (HARDWARE_ID, NAME) VALUES (101, 'BAT0'), (102, 'BAT0')")),
    expect: { 'ocs.batteries.dropped': 2 },
  },
  {
    name: 'a GUI_VERSION the target refuses',
    apply: async (c, _g, o) => void (await q(c, o, "UPDATE G.config SET TVALUE = '2.1-custom' WHERE NAME = 'GUI_VERSION'")),
    expect: { 'ocs.version.target_refuses': 1 },
  },
  {
    name: 'a link without its GLPI computer',
    apply: async (c, g, o) => {
      await q(c, g, "INSERT INTO G.glpi_ocslinks (id, computers_id, ocsid, last_update, ocsservers_id) VALUES (20, 99, 105, '2026-11-01 10:00:00', 1)");
      await q(c, o, "INSERT INTO G.hardware (ID, DEVICEID, LASTDATE) VALUES (105, 'PC-5', '2026-11-02 08:00:00')");
    },
    expect: { 'link.orphan_links': 1 },
  },
  {
    name: 'a computer linked twice',
    apply: async (c, g, o) => {
      await q(c, g, "INSERT INTO G.glpi_ocslinks (id, computers_id, ocsid, last_update, ocsservers_id) VALUES (21, 1, 106, '2026-11-01 11:00:00', 1)");
      await q(c, o, "INSERT INTO G.hardware (ID, DEVICEID, LASTDATE) VALUES (106, 'PC-1-bis', '2026-11-02 08:00:00')");
    },
    expect: { 'link.multiple_links': 1 },
  },
  {
    name: 'a link to OCS hardware that no longer exists',
    apply: async (c, g) => {
      await q(c, g, "INSERT INTO G.glpi_computers (id, name, serial, operatingsystems_id, computermodels_id, computertypes_id, manufacturers_id) VALUES (5, 'PC-5', 'SN5', 1, 1, 1, 1)");
      await q(c, g, "INSERT INTO G.glpi_ocslinks (id, computers_id, ocsid, last_update, ocsservers_id) VALUES (22, 5, 999, '2026-11-01 10:00:00', 1)");
    },
    expect: { 'link.vanished_hardware': 1 },
  },
  {
    name: 'OCS hardware never imported',
    apply: async (c, _g, o) => {
      await q(c, o, "INSERT INTO G.hardware (ID, DEVICEID, LASTDATE) VALUES (120, 'NEW-1', '2026-11-02 08:00:00'), (121, 'NEW-2', '2026-11-02 08:00:00')");
      await q(c, o, 'INSERT INTO G.accountinfo (HARDWARE_ID) VALUES (120)');
    },
    expect: { 'link.never_imported': 2 },
  },
  {
    name: 'a stale link',
    apply: async (c, _g, o) => void (await q(c, o, "UPDATE G.hardware SET LASTDATE = '2027-01-15 08:00:00' WHERE ID = 104")),
    expect: { 'link.stale': 1 },
  },
  {
    name: 'TRACE_DELETED off',
    apply: async (c, _g, o) => void (await q(c, o, "UPDATE G.config SET IVALUE = 0 WHERE NAME = 'TRACE_DELETED'")),
    expect: { 'ocs.trace_deleted_off': 1 },
  },
  {
    name: 'a deleted_equiv backlog',
    apply: async (c, _g, o) => void (await q(c, o, "INSERT INTO G.deleted_equiv (DELETED, EQUIVALENT) VALUES ('OLD-1', NULL), ('OLD-2', 'PC-1-2026')")),
    expect: { 'ocs.deleted_equiv_backlog': 2 },
  },
  {
    name: 'a declared OCS version that is not the real one',
    apply: async (c, g) => void (await q(c, g, "UPDATE G.glpi_ocsservers SET ocs_version = '1.3.3' WHERE id = 1")),
    expect: { 'link.declared_version': 1 },
  },
  {
    name: 'a synchronised field left empty',
    apply: async (c, g) => void (await q(c, g, "UPDATE G.glpi_computers SET serial = '' WHERE id = 2")),
    expect: { 'link.synchronised_fields_empty': 1 },
  },
  {
    name: 'a stored OCS database password on a GLPI that encrypts it (≥ 9.4)',
    apply: async (c, g) => {
      // On 0.83.8 the password is stored in clear (URL-encoded): informational only. From 9.4 the production key is needed.
      await q(c, g, "UPDATE G.glpi_ocsservers SET ocs_db_passwd = 'c2VjcmV0LWVuY3J5cHRlZA==' WHERE id = 1");
      await q(c, g, "UPDATE G.glpi_configs SET version = ' 9.5.13' WHERE id = 1");
    },
    expect: { 'link.glpicrypt_key_needed': 1 },
  },
  {
    name: 'OCS rights on a profile other than the installer’s',
    apply: async (c, g) => void (await q(c, g, "UPDATE G.glpi_profiles SET view_ocsng = 'r', sync_ocsng = 'w' WHERE id = 1")),
    expect: { 'plugin.lost_profile_rights': 1 },
  },
  {
    name: 'an OCS password with special characters',
    apply: async (c, g) => void (await q(c, g, "UPDATE G.glpi_ocsservers SET ocs_db_passwd = 'oc%24pw%21' WHERE id = 1")),
    expect: { 'plugin.password_special_chars': 1 },
  },
];
