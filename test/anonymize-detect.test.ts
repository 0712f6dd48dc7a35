/**
 * The detectors of the free-text rewrite and of the sweep (src/anonymize/detect.ts), on byte-view text: what
 * they must find, what they must leave (versions, dates, serials, masks, hashes, HTML entities), the masked
 * samples, and the JavaScript results of the rules (checked against the server's in anonymize.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { IdentityMatcher, detect, maskSample, ruleValue } from '../src/anonymize/detect.ts';
import type { Identity } from '../src/anonymize/detect.ts';
import { parseAllowance } from '../src/anonymize/sweep.ts';
import { digestHex, loadRules } from '../src/anonymize/index.ts';
import { ExitCode } from '../src/errors.ts';

const view = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const kinds = (s: string, m?: IdentityMatcher) => detect(view(s), { identities: m }).map((h) => `${h.kind}:${Buffer.from(h.text, 'latin1').toString('utf8')}`);

const rules = loadRules();
const rule = (table: string, column: string) => rules.rules.find((r) => r.table === table && r.column === column)!;

describe('detectors: what is personal data', () => {
  it('finds e-mail addresses, also inside HTML-encoded text, but not the reserved domains the anonymizer writes', () => {
    expect(kinds('&lt;p&gt;Écrire à &lt;jean.dupont@chu-exemple.fr&gt; ou J.Dupont+glpi@Exemple.COM.&lt;/p&gt;')).toEqual(['email:jean.dupont@chu-exemple.fr', 'email:J.Dupont+glpi@Exemple.COM']);
    expect(kinds('u0123456789ab@example.invalid, a@example.com, x@host.test')).toEqual([]);
  });

  it('finds French and international phone numbers in their usual forms', () => {
    expect(kinds('Tél. 04 72 12 34 56, 04.72.12.34.56, 0472123456, +33 4 72 12 34 56, +33 (0)4 72 12 34 56, 0033 472123456 ou +44 20 7946 0958')).toEqual([
      'phone:04 72 12 34 56',
      'phone:04.72.12.34.56',
      'phone:0472123456',
      'phone:+33 4 72 12 34 56',
      'phone:+33 (0)4 72 12 34 56',
      'phone:0033 472123456',
      'phone:+44 20 7946 0958',
    ]);
  });

  it('leaves dates, times, versions, serials, hashes, ids and sizes alone', () => {
    const text = [
      '2012-01-15 08:30:00',
      '15/01/2012',
      'Windows 6.1.7601 SP1 (build 7601.17514)',
      'Java 1.6.0.45',
      'OS 2.6.32-5-amd64',
      'CZC1234XYZ',
      'SN 5CG1234567X',
      'md5 0612345678ab9c0612345678abcdef01',
      'id 10234567890',
      '0000000000',
      '123456789',
      '2 147 483 647 octets',
      'PC-JDUPONT-2012-01-01-10-00-00',
      'v10.2.3.4',
      'Visual C++ 2008 x86 9.0.30729.4148',
      'std::string',
    ].join(' | ');
    expect(kinds(text)).toEqual([]);
  });

  it('finds IPv4 and IPv6 addresses, not masks, loopbacks or one-digit version numbers', () => {
    expect(kinds('poste 192.168.1.23, passerelle 10.0.0.1; 255.255.255.0 127.0.0.1 0.0.0.0 1.2.3.4 224.0.0.251')).toEqual(['ipv4:192.168.1.23', 'ipv4:10.0.0.1']);
    expect(kinds('fe80::21a:2bff:fe3c:4d5e et 2001:db8:85a3:0:0:8a2e:370:7334, pas ::1 ni 10:20:30')).toEqual(['ipv6:fe80::21a:2bff:fe3c:4d5e', 'ipv6:2001:db8:85a3:0:0:8a2e:370:7334']);
  });

  it('finds MAC addresses with colons or dashes, not the null and broadcast ones', () => {
    expect(kinds('00:1A:2B:3C:4D:5E 00-1a-2b-3c-4d-5f 00:00:00:00:00:00 FF:FF:FF:FF:FF:FF')).toEqual(['mac:00:1A:2B:3C:4D:5E', 'mac:00-1a-2b-3c-4d-5f']);
  });

  it('finds identities as whole words, names only with a capital, in UTF-8 and latin1 bytes, never inside an HTML entity', () => {
    const ids: Identity[] = [
      { value: 'jdupont', rule: rule('glpi_users', 'name'), kind: 'login' },
      { value: 'Dupont', rule: rule('glpi_users', 'realname'), kind: 'name' },
      { value: 'Hélène', rule: rule('glpi_users', 'firstname'), kind: 'name' },
      { value: 'Le Goff', rule: rule('glpi_users', 'realname'), kind: 'name' },
      { value: 'Al', rule: rule('glpi_users', 'firstname'), kind: 'name' },
      { value: 'amp', rule: rule('glpi_users', 'name'), kind: 'login' },
    ];
    const m = new IdentityMatcher(ids, 'utf8');
    expect(kinds('Hélène Dupont (JDUPONT) et Mme Le Goff ; jdupont2 et dupontel non ; un dupont en minuscules ; Al ; &amp; amp', m)).toEqual([
      'identity:Hélène',
      'identity:Dupont',
      'identity:JDUPONT',
      'identity:Le Goff',
      'identity:amp',
    ]);
    const latin1 = new IdentityMatcher(ids, 'latin1');
    expect(detect(Buffer.from('Hélène', 'latin1').toString('latin1'), { identities: latin1 }).map((h) => h.kind)).toEqual(['identity']);
    expect(detect(view('Hélène'), { identities: latin1 })).toEqual([]);
  });
});

describe('detectors: samples and results', () => {
  it('masks samples: the shape shows, the value does not', () => {
    expect(maskSample('email', 'jean.dupont@chu-exemple.fr')).toBe('j*********t@c*********e.fr');
    expect(maskSample('phone', '04 72 12 34 56')).toBe('04 ** ** ** 56');
    expect(maskSample('ipv4', '192.168.1.23')).toBe('192.168.*.*');
    expect(maskSample('mac', '00:1A:2B:3C:4D:5E')).toBe('00:1A:2B:**:**:**');
    expect(maskSample('identity', view('Hélène'))).toBe('H****e');
  });

  it('computes the rules results as the SQL expressions do (HMAC-SHA256 of the namespace and the value)', () => {
    const salt = 'detect-test-salt-0123456789';
    expect(ruleValue(rule('glpi_users', 'name'), salt, 'JDupont')).toBe(`user-${digestHex(salt, 'login', 'jdupont').slice(0, 16)}`);
    expect(ruleValue(rule('glpi_users', 'name'), salt, 'jdupont', 'JDUPONT')).toBe(`USER-${digestHex(salt, 'login', 'jdupont').slice(0, 16).toUpperCase()}`);
    expect(ruleValue(rule('glpi_useremails', 'email'), salt, 'Jean@X.fr')).toBe(`u${digestHex(salt, 'email', 'jean@x.fr').slice(0, 12)}@example.invalid`);
    const ip = ruleValue(rule('glpi_networkports', 'ip'), salt, '192.168.1.23');
    expect(ip).toMatch(/^10\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
    expect(ruleValue(rule('glpi_networkports', 'mac'), salt, 'aa-bb-cc-dd-ee-ff')).toMatch(/^02(-[0-9a-f]{2}){5}$/);
    expect(ruleValue(rule('glpi_users', 'phone'), salt, '04 72 12 34 56')).toMatch(/^0[0-9]{9}$/);
  });

  it('parses --allow DATABASE.TABLE.COLUMN="reason" and refuses it without a reason', () => {
    expect(parseAllowance('glpi.glpi_softwares.name="publisher names, not people"')).toEqual({ database: 'glpi', table: 'glpi_softwares', column: 'name', reason: 'publisher names, not people' });
    expect(parseAllowance('ocs.config.*=OCS defaults')).toMatchObject({ column: '*', reason: 'OCS defaults' });
    for (const bad of ['glpi.glpi_softwares.name', 'glpi.glpi_softwares.name=', 'mysql.user.name=x', 'glpi_softwares.name=x']) {
      expect(() => parseAllowance(bad), bad).toThrow(expect.objectContaining({ exitCode: ExitCode.USAGE }));
    }
  });
});
