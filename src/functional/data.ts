/**
 * What the scenarios read from (and, on the test instance only, write to) the rehearsed databases:
 * the named probes of the scenario book, the temporary accounts, and pointing the plugin's OCS server
 * definition at the rehearsed OCS database.
 *
 * The temporary accounts: a GLPI super-admin and an OCS `sadmin` operator with a random password that is
 * kept in memory only (GLPI: bcrypt by PHP's own password_hash, the password given on stdin; OCS: the
 * console's sha256). They are created only after the interlock confirmed a test instance, and deleted at
 * the end of the stage.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { execa } from 'execa';
import { qi, queryRows as rows } from '../db/connect.ts';
import { tableExists } from '../db/introspect.ts';

export class NoData extends Error {}

/** A text column read as its bytes (HEX), decoded here: what the database really holds. */
function fromHex(hex: string | null): string {
  return hex ? Buffer.from(hex, 'hex').toString('utf8') : '';
}

export interface ProbeContext {
  conn: Connection;
  glpiDb?: string;
  ocsDb?: string;
  /** Where the OCS database is reachable from PHP (the test instance). */
  ocsHost?: { host: string; port: number; user: string; hasPassword: boolean };
  /** GLPI's web path of the plugin (Plugin::getWebDir): the private marketplace directory. */
  pluginWeb?: string;
  /** Why the OCS server definition was not pointed at the test instance, when it was not. */
  repointed?: string;
}

/**
 * Points the plugin's OCS server definitions at the rehearsed OCS database on the test instance (they name
 * production's OCS server: the plugin connects to it on many pages, the computer form included, and fails
 * there without it). Test instance only. Returns what was changed, for the evidence.
 */
export async function pointOcsServersAtTestInstance(
  conn: Connection,
  glpiDb: string,
  ocs: { host: string; port: number; user: string; hasPassword: boolean; encryptedPassword?: string; database: string },
): Promise<{ changed: string[]; skipped?: string }> {
  if (!(await tableExists(conn, glpiDb, 'glpi_plugin_ocsinventoryng_ocsservers'))) return { changed: [], skipped: 'the plugin tables are absent' };
  if (ocs.hasPassword && !ocs.encryptedPassword) return { changed: [], skipped: 'the test instance account has a password, and GLPI’s key (glpicrypt.key) to encrypt it for the plugin was not found' };
  const servers = await rows<{ id: number; name: string; ocs_db_host: string; ocs_db_name: string }>(
    conn,
    `SELECT id, name, ocs_db_host, ocs_db_name FROM ${qi(glpiDb)}.glpi_plugin_ocsinventoryng_ocsservers ORDER BY id`,
  );
  const host = `${ocs.host}:${ocs.port}`;
  await conn.query(`UPDATE ${qi(glpiDb)}.glpi_plugin_ocsinventoryng_ocsservers SET ocs_db_host = ?, ocs_db_user = ?, ocs_db_passwd = ?, ocs_db_name = ?, conn_type = 0`, [
    host,
    ocs.user,
    ocs.encryptedPassword ?? '',
    ocs.database,
  ]);
  return { changed: servers.map((x) => `${x.name}: ${x.ocs_db_host}/${x.ocs_db_name} → ${host}/${ocs.database}`) };
}

type Probe = (ctx: ProbeContext) => Promise<Record<string, string>>;

function needGlpi(ctx: ProbeContext): string {
  if (!ctx.glpiDb) throw new NoData('no GLPI database in this run');
  return ctx.glpiDb;
}

export const PROBES: Record<string, Probe> = {
  async 'computer-count'(ctx) {
    const db = needGlpi(ctx);
    const r = await rows<{ n: number }>(ctx.conn, `SELECT COUNT(*) AS n FROM ${qi(db)}.glpi_computers WHERE is_deleted = 0 AND is_template = 0`);
    return { computer_count: String(r[0].n) };
  },

  async 'ocs-linked-computer'(ctx) {
    const db = needGlpi(ctx);
    if (!(await tableExists(ctx.conn, db, 'glpi_plugin_ocsinventoryng_ocslinks'))) throw new NoData('the plugin tables are absent (plugin step not run)');
    // The plugin shows its block only for a dynamic computer of an active server.
    const r = await rows<{ computers_id: number; ocsid: number; deviceid: string | null; last_update: string; server: string }>(
      ctx.conn,
      `SELECT l.computers_id, l.ocsid, l.ocs_deviceid AS deviceid, DATE_FORMAT(l.last_update, '%Y-%m-%d %H:%i') AS last_update, s.name AS server
         FROM ${qi(db)}.glpi_plugin_ocsinventoryng_ocslinks l
         JOIN ${qi(db)}.glpi_computers c ON c.id = l.computers_id AND c.is_deleted = 0 AND c.is_template = 0 AND c.is_dynamic = 1
         JOIN ${qi(db)}.glpi_plugin_ocsinventoryng_ocsservers s ON s.id = l.plugin_ocsinventoryng_ocsservers_id AND s.is_active = 1
        WHERE l.last_update IS NOT NULL AND l.ocs_deviceid IS NOT NULL AND l.ocs_deviceid <> ''
        ORDER BY l.id LIMIT 1`,
    );
    if (!r.length) throw new NoData('no dynamic computer is linked to an active OCS server');
    return {
      computers_id: String(r[0].computers_id),
      ocsid: String(r[0].ocsid),
      ocs_deviceid: String(r[0].deviceid),
      last_update_shown: String(r[0].last_update),
      ocs_server_name: r[0].server,
    };
  },

  async 'non-ascii-ticket'(ctx) {
    const db = needGlpi(ctx);
    // Bytes ≥ 0x80 in the title: chosen from the data, not from a list.
    const r = await rows<{ id: number; hex: string }>(
      ctx.conn,
      `SELECT id, HEX(name) AS hex FROM ${qi(db)}.glpi_tickets
        WHERE is_deleted = 0 AND HEX(name) REGEXP '^(..)*[89A-F].' ORDER BY id LIMIT 1`,
    );
    if (!r.length) throw new NoData('no ticket has a title with non-ASCII characters');
    return { tickets_id: String(r[0].id), ticket_name: fromHex(r[0].hex) };
  },

  async 'ocs-profile-rights'(ctx) {
    const db = needGlpi(ctx);
    const r = await rows<{ id: number; name_hex: string; rights: string }>(
      ctx.conn,
      `SELECT p.id, HEX(p.name) AS name_hex,
              GROUP_CONCAT(CONCAT(r.name, '=', r.rights) ORDER BY r.name SEPARATOR ', ') AS rights
         FROM ${qi(db)}.glpi_profiles p
         JOIN ${qi(db)}.glpi_profilerights r ON r.profiles_id = p.id AND r.name LIKE 'plugin\\_ocsinventoryng%'
        WHERE p.interface = 'central'
        GROUP BY p.id ORDER BY SUM(r.rights) DESC, p.id LIMIT 1`,
    );
    if (!r.length) throw new NoData('no profile has ocsinventoryng rights (plugin step not run)');
    return { profiles_id: String(r[0].id), profile_name: fromHex(r[0].name_hex), ocs_rights: r[0].rights };
  },

  async 'ocs-server-on-test-instance'(ctx) {
    const db = needGlpi(ctx);
    if (!ctx.ocsDb || !ctx.ocsHost) throw new NoData('no OCS database in this run');
    if (!(await tableExists(ctx.conn, db, 'glpi_plugin_ocsinventoryng_ocsservers'))) throw new NoData('the plugin tables are absent (plugin step not run)');
    const r = await rows<{ id: number; name: string; ocs_db_host: string; ocs_db_name: string }>(
      ctx.conn,
      `SELECT id, name, ocs_db_host, ocs_db_name FROM ${qi(db)}.glpi_plugin_ocsinventoryng_ocsservers ORDER BY is_active DESC, id LIMIT 1`,
    );
    if (!r.length) throw new NoData('no OCS server is defined in the plugin');
    if (r[0].ocs_db_name !== ctx.ocsDb) throw new NoData(`the OCS server definition was not pointed at the rehearsed OCS database (${ctx.repointed ?? 'not done'})`);
    return { ocsservers_id: String(r[0].id), ocs_server_name: r[0].name, test_ocs_host: `${r[0].ocs_db_host}/${r[0].ocs_db_name}`, plugin_web: ctx.pluginWeb ?? '/plugins/ocsinventoryng' };
  },

  async 'ocs-machine-count'(ctx) {
    if (!ctx.ocsDb) throw new NoData('no OCS database in this run');
    const r = await rows<{ n: number }>(ctx.conn, `SELECT COUNT(*) AS n FROM ${qi(ctx.ocsDb)}.hardware WHERE DEVICEID NOT IN ('_SYSTEMGROUP_', '_DOWNLOADGROUP_')`);
    return { ocs_machine_count: String(r[0].n) };
  },
};

export interface TempAccount {
  login: string;
  /** In memory only. */
  password: string;
  remove(): Promise<void>;
}

function randomPassword(): string {
  return crypto.randomBytes(18).toString('base64url');
}

/** PHP's password_hash (bcrypt), the password given on stdin: never on a command line. */
export async function phpPasswordHash(php: string, password: string): Promise<string> {
  const r = await execa(php, ['-r', 'echo password_hash(rtrim(fgets(STDIN), "\\n"), PASSWORD_DEFAULT);'], { input: `${password}\n`, reject: false, timeout: 30_000 });
  if (r.exitCode !== 0 || !/^\$2y\$/.test(String(r.stdout))) throw new Error(`php password_hash failed: ${String(r.stderr).split('\n')[0]}`);
  return String(r.stdout);
}

/**
 * A GLPI super-admin: a temporary central profile holding, for every right, the union of what the
 * profiles grant (the data's own "super-admin" may lack e.g. READALL on tickets), on the root entity,
 * recursive. Profile, rights, authorisation and user are deleted by `remove`.
 */
export async function createGlpiAccount(conn: Connection, db: string, php: string): Promise<TempAccount> {
  const login = `gou-functional-${crypto.randomBytes(3).toString('hex')}`;
  const password = randomPassword();
  const hash = await phpPasswordHash(php, password);
  const [prof] = await conn.query<ResultSetHeader>(`INSERT INTO ${qi(db)}.glpi_profiles (name, interface, comment) VALUES (?, 'central', 'glpi-ocs-upgrade functional tests (temporary)')`, [login]);
  const profileId = prof.insertId;
  const removeProfile = async () => {
    await conn.query(`DELETE FROM ${qi(db)}.glpi_profilerights WHERE profiles_id = ?`, [profileId]);
    await conn.query(`DELETE FROM ${qi(db)}.glpi_profiles WHERE id = ?`, [profileId]);
  };
  try {
    await conn.query(
      `INSERT INTO ${qi(db)}.glpi_profilerights (profiles_id, name, rights)
       SELECT ?, r.name, BIT_OR(r.rights) FROM ${qi(db)}.glpi_profilerights r WHERE r.profiles_id <> ? GROUP BY r.name`,
      [profileId, profileId],
    );
    const [ins] = await conn.query<ResultSetHeader>(
      `INSERT INTO ${qi(db)}.glpi_users (name, password, password_last_update, is_active, authtype, auths_id, language, profiles_id, entities_id, realname, date_creation, date_mod)
       VALUES (?, ?, NOW(), 1, 1, 0, 'en_GB', ?, 0, 'glpi-ocs-upgrade functional tests (temporary)', NOW(), NOW())`,
      [login, hash, profileId],
    );
    const userId = ins.insertId;
    await conn.query(`INSERT INTO ${qi(db)}.glpi_profiles_users (users_id, profiles_id, entities_id, is_recursive, is_dynamic) VALUES (?, ?, 0, 1, 0)`, [userId, profileId]);
    return {
      login,
      password,
      remove: async () => {
        await conn.query(`DELETE FROM ${qi(db)}.glpi_profiles_users WHERE users_id = ?`, [userId]);
        await conn.query(`DELETE FROM ${qi(db)}.glpi_users WHERE id = ?`, [userId]);
        await removeProfile();
      },
    };
  } catch (err) {
    await removeProfile().catch(() => undefined);
    throw err;
  }
}

/** An OCS console super-administrator (NEW_ACCESSLVL sadmin), password as the console hashes it (sha256). */
export async function createOcsAccount(conn: Connection, db: string): Promise<TempAccount> {
  const login = `gou-functional-${crypto.randomBytes(3).toString('hex')}`;
  const password = randomPassword();
  const hash = crypto.createHash('sha256').update(password).digest('hex');
  await conn.query(
    `INSERT INTO ${qi(db)}.operators (ID, FIRSTNAME, LASTNAME, PASSWD, ACCESSLVL, COMMENTS, NEW_ACCESSLVL, PASSWORD_VERSION)
     VALUES (?, 'glpi-ocs-upgrade', 'functional tests', ?, 1, 'temporary account', 'sadmin', 2)`,
    [login, hash],
  );
  return {
    login,
    password,
    remove: async () => {
      await conn.query(`DELETE FROM ${qi(db)}.operators WHERE ID = ?`, [login]);
    },
  };
}

/**
 * A secret encrypted the way GLPI 10 stores it (GLPIKey::encrypt: XChaCha20-Poly1305 with the nonce as
 * associated data, base64 of nonce + ciphertext), with the key of the GLPI config directory. The plugin
 * rawurldecode()s what it decrypts, so the secret is rawurlencode()d first. The secret goes through
 * standard input, never on a command line; undefined when the key file is absent.
 */
export async function encryptForGlpi(php: string, keyFile: string, secret: string): Promise<string | undefined> {
  if (!fs.existsSync(keyFile)) return undefined;
  const code =
    '$k=file_get_contents($argv[1]);$p=rawurlencode(stream_get_contents(STDIN));' +
    '$n=random_bytes(SODIUM_CRYPTO_AEAD_XCHACHA20POLY1305_IETF_NPUBBYTES);' +
    'echo base64_encode($n.sodium_crypto_aead_xchacha20poly1305_ietf_encrypt($p,$n,$n,$k));';
  const r = await execa(php, ['-r', code, keyFile], { input: secret, reject: false });
  return r.exitCode === 0 && r.stdout ? r.stdout.trim() : undefined;
}
