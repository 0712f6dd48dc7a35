/**
 * anonymize on the committed fixture (every hazard) with personal data planted where rules alone would miss
 * it: a user's name, e-mail and phone number and a machine's IP and MAC quoted in a ticket, the history and a
 * site (glpi_entitydatas), and an e-mail and a phone number in a column no rule names (glpi_locations.comment).
 * The free text must come out with the same pseudonyms as the columns; the sweep must find the unruled leak,
 * make the command exit with code 8, and accept it with --allow (recorded in the report).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Connection } from 'mysql2/promise';
import YAML from 'yaml';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { runCli } from './helpers/cli.ts';
import { REPO_ROOT } from './helpers/shared.ts';
import { formatDsn, withDatabase } from '../src/db/dsn.ts';
import { restoreSnapshot, takeSnapshot } from '../src/snapshot/index.ts';
import { anonymizeSnapshot, REPORT_NAME } from '../src/anonymize/index.ts';
import type { AnonymizationReport } from '../src/anonymize/index.ts';
import { ExitCode } from '../src/errors.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
const SALT = 'sweep-test-salt-7d1e2a9c4b6f8e0d3a5c';
const LEAK = 'Contact du site : rene.fuite@chu-exemple.fr, 06 11 22 33 44';

let server: TestServer;
let root: Connection;
let tmp: string;
let src: { glpi: string; ocs: string };
let inDir: string;
/** The planted originals. */
let who: { id: number; login: string; realname: string; firstname: string; phone: string; email: string; ip: string; mac: string };

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  const [rows] = await root.query(sql, params);
  return (rows as T[])[0];
}

async function filesText(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith('.gz')) parts.push(zlib.gunzipSync(await fsp.readFile(full)).toString('utf8'));
      else parts.push(await fsp.readFile(full, 'utf8'));
    }
  };
  await walk(dir);
  return parts.join('\n');
}

beforeAll(async () => {
  server = await startTestServer();
  root = await server.connect();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'gou-anon-sweep-'));
  src = { glpi: await server.freshDatabase('g'), ocs: await server.freshDatabase('o') };
  await restoreSnapshot(FIXTURE, server.dsn, { databases: src, jobs: 2, force: true });
  const g = (t: string) => `\`${src.glpi}\`.\`${t}\``;
  // A user without an encoding hazard in the name (users 6–8 have double-encoded first names).
  const u = await one<{ id: number; name: string; realname: string; firstname: string; phone: string }>(
    `SELECT id, name, realname, firstname, phone FROM ${g('glpi_users')} WHERE id >= 9 AND firstname REGEXP '^[A-Za-z]+$' AND realname REGEXP '^[A-Za-z]+$' ORDER BY id LIMIT 1`,
  );
  const port = await one<{ ip: string; mac: string }>(`SELECT ip, mac FROM ${g('glpi_networkports')} WHERE ip LIKE '%.%' AND mac <> '' ORDER BY id LIMIT 1`);
  const email = `${u.firstname}.${u.realname}@chu-exemple.fr`.toLowerCase();
  who = { id: u.id, login: u.name, realname: u.realname, firstname: u.firstname, phone: u.phone, email, ip: port.ip, mac: port.mac };
  await root.query(`INSERT INTO ${g('glpi_useremails')} (users_id, is_default, is_dynamic, email) VALUES (?, 1, 0, ?)`, [u.id, email]);
  await root.query(`UPDATE ${g('glpi_tickets')} SET content = CONCAT(content, ?) WHERE id = 1`, [
    `&lt;p&gt;Rappeler ${u.firstname} ${u.realname} &lt;${email}&gt; au ${u.phone} ; poste ${port.ip} (${port.mac}).&lt;/p&gt;`,
  ]);
  await root.query(`UPDATE ${g('glpi_ticketfollowups')} SET content = CONCAT(content, ?) ORDER BY id LIMIT 1`, [` Vu avec ${u.name}.`]);
  await root.query(`UPDATE ${g('glpi_logs')} SET new_value = ? ORDER BY id LIMIT 1`, [`${u.realname} ${u.firstname} (${u.id})`]);
  await root.query(`UPDATE ${g('glpi_entitydatas')} SET email = ?, phonenumber = ?, admin_email_name = ?, mailing_signature = ? WHERE id = 1`, [
    email,
    u.phone,
    `${u.firstname} ${u.realname}`,
    `${u.firstname} ${u.realname} — ${email} — ${u.phone}`,
  ]);
  await root.query(`UPDATE ${g('glpi_locations')} SET comment = ? WHERE id = 1`, [LEAK]);
  inDir = path.join(tmp, 'in');
  await takeSnapshot({
    sources: [
      { role: 'glpi', dsn: withDatabase(server.dsn, src.glpi) },
      { role: 'ocs', dsn: withDatabase(server.dsn, src.ocs) },
    ],
    outDir: inDir,
    jobs: 2,
  });
}, 600_000);

afterAll(async () => {
  await root?.end();
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('anonymize: free text and the sweep on the fixture', () => {
  let cliOut: string;
  let cli: Awaited<ReturnType<typeof runCli>>;

  it('exits with code 8 when the sweep finds personal data in a column no rule names, and says where (masked)', async () => {
    cliOut = path.join(tmp, 'cli');
    cli = await runCli(['anonymize', inDir, '-o', cliOut, '--instance', formatDsn(server.dsn), '--jobs', '2'], { env: { GOU_ANONYMIZE_SALT: SALT, INSTANCE_DB_PASSWORD: server.dsn.password ?? '' } });
    expect(cli.exitCode, cli.stderr).toBe(ExitCode.FINDINGS);
    expect(cli.stderr).toMatch(/^error: the sweep found 2 possible personal data value\(s\) left in 1 column\(s\): glpi\.glpi_locations\.comment/);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(cli.stdout).toMatch(/glpi\.glpi_locations\.comment: email 1, phone 1/);
    const report = YAML.parse(await fsp.readFile(path.join(cliOut, REPORT_NAME), 'utf8')) as AnonymizationReport;
    expect(report.sweep!.remaining).toBe(2);
    expect(report.sweep!.columns).toEqual([
      { database: 'glpi', table: 'glpi_locations', column: 'comment', hits: { email: 1, phone: 1 }, total: 2, samples: ['email: r********e@c*********e.fr', 'phone: 06 ** ** ** 44'] },
    ]);
    // Nothing planted is printed or written in clear, except in the column the sweep reports.
    expect(cli.stdout + cli.stderr).not.toContain('rene.fuite');
  });

  it('rewrites the names, e-mail, phone, IP and MAC quoted in a ticket, a followup, the history and a site with the columns pseudonyms', async () => {
    const out = { glpi: `${src.glpi}_a`, ocs: `${src.ocs}_a` };
    await restoreSnapshot(cliOut, server.dsn, { databases: out, jobs: 2, force: true });
    const g = (t: string) => `\`${out.glpi}\`.\`${t}\``;
    const u = await one<{ name: string; realname: string; firstname: string; phone: string }>(`SELECT name, realname, firstname, phone FROM ${g('glpi_users')} WHERE id = ?`, [who.id]);
    const e = await one<{ email: string }>(`SELECT email FROM ${g('glpi_useremails')} WHERE users_id = ?`, [who.id]);
    const p = await one<{ ip: string; mac: string }>(`SELECT ip, mac FROM ${g('glpi_networkports')} WHERE ip LIKE '10.%' AND mac LIKE '02:%' ORDER BY id LIMIT 1`);
    expect(u.realname).toMatch(/^Nom-[0-9a-f]{16}$/);
    expect(u.firstname).toMatch(/^Prenom-[0-9a-f]{16}$/);
    expect(e.email).toMatch(/^u[0-9a-f]{12}@example\.invalid$/);
    const t = await one<{ content: string }>(`SELECT content FROM ${g('glpi_tickets')} WHERE id = 1`);
    expect(t.content).toContain(`&lt;p&gt;Rappeler ${u.firstname} ${u.realname} &lt;${e.email}&gt; au ${u.phone} ; poste ${p.ip} (${p.mac}).&lt;/p&gt;`);
    // The ticket text around is kept (HTML-encoded as GLPI 0.83 stores it).
    expect(t.content).toMatch(/^&lt;p&gt;Bonjour,&lt;\/p&gt;&lt;p&gt;/);
    const f = await one<{ content: string }>(`SELECT content FROM ${g('glpi_ticketfollowups')} ORDER BY id LIMIT 1`);
    expect(f.content).toMatch(new RegExp(` Vu avec ${u.name}\\.$`));
    const l = await one<{ new_value: string }>(`SELECT new_value FROM ${g('glpi_logs')} ORDER BY id LIMIT 1`);
    expect(l.new_value).toBe(`${u.realname} ${u.firstname} (${who.id})`);
    const s = await one<{ email: string; phonenumber: string; admin_email_name: string; mailing_signature: string }>(
      `SELECT email, phonenumber, admin_email_name, mailing_signature FROM ${g('glpi_entitydatas')} WHERE id = 1`,
    );
    expect(s.email).toBe(e.email);
    expect(s.phonenumber).toBe(u.phone);
    expect(s.mailing_signature).toBe(`${u.firstname} ${u.realname} — ${e.email} — ${u.phone}`);
    expect(s.admin_email_name).toMatch(/^anon-[0-9a-f]{16}/);
    // The other sites' addresses, phones and e-mails are gone too.
    const [sites] = await root.query(`SELECT email, phonenumber, address FROM ${g('glpi_entitydatas')}`);
    for (const r of sites as Array<{ email: string; phonenumber: string; address: string }>) {
      expect(r.email).toMatch(/@example\.invalid$/);
      expect(r.phonenumber).toMatch(/^0[0-9]{9}$/);
      expect(r.address).not.toMatch(/République/);
    }
  });

  it('leaves none of the planted values in the files, except the leak in the reported column', async () => {
    const text = await filesText(cliOut);
    for (const v of [who.email, who.phone, `${who.firstname} ${who.realname}`, `${who.realname} ${who.firstname}`, who.mac]) expect(text, v).not.toContain(v);
    expect(text).not.toMatch(new RegExp(`Vu avec ${who.login}\\b`));
    expect(text).not.toContain(`poste ${who.ip} `);
    expect(text).toContain('rene.fuite@chu-exemple.fr');
    expect((await filesText(inDir)).includes(who.email)).toBe(true);
  });

  it('accepts what remains with --allow and a reason, recorded in the report', async () => {
    const reason = 'adresse générique du standard, publiée';
    const r = await anonymizeSnapshot(inDir, path.join(tmp, 'allowed'), {
      salt: SALT,
      instance: server.dsn,
      jobs: 2,
      allow: [
        { database: 'glpi', table: 'glpi_locations', column: 'comment', reason },
        { database: 'ocs', table: 'config', column: '*', reason: 'unused allowance' },
      ],
    });
    expect(r.report.sweep!.remaining).toBe(0);
    expect(r.report.sweep!.columns).toEqual([expect.objectContaining({ table: 'glpi_locations', column: 'comment', total: 2, allowed: reason })]);
    expect(r.report.sweep!.allowances).toEqual([
      { column: 'glpi.glpi_locations.comment', reason, hits: 2 },
      { column: 'ocs.config.*', reason: 'unused allowance', hits: 0 },
    ]);
    // Same salt: the same pseudonyms as the command's run.
    expect(r.manifest.databases.find((d) => d.role === 'glpi')!.tables.find((t) => t.name === 'glpi_tickets')!.digest).toBe(
      YAML.parse(await fsp.readFile(path.join(cliOut, 'manifest.yaml'), 'utf8')).databases[0].tables.find((t: { name: string }) => t.name === 'glpi_tickets').digest,
    );
  });
});
