/**
 * The functional stage's pure parts: the scenario book (built-in + customer files), the double-encoding
 * detector that quotes the wrong characters, the dossier section, and "not run" (never passed) when PHP,
 * Chromium or the distribution is missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBook, parseBook } from '../src/functional/book.ts';
import { doubleEncodedSequences, fill, firstDifference } from '../src/functional/engine.ts';
import { runFunctionalStage } from '../src/functional/index.ts';
import { detectGlpiDist } from '../src/distributions/glpi.ts';
import { functionalSection } from '../src/report/sections/functional.ts';
import type { FunctionalResults } from '../src/functional/types.ts';
import { typographyFaults } from './helpers/french.ts';
import { lintMarkdown } from './report-fixture.ts';
import { en } from './helpers/reason.ts';
import { literal, msg } from '../src/i18n/messages.ts';
import { render } from '../src/i18n/render.ts';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gou-fn-book-'));
}

describe('scenario book', () => {
  it('the built-in book covers the issue’s scenarios, each with both titles and a requirement', () => {
    const book = loadBook();
    const ids = book.scenarios.map((s) => s.id);
    expect(ids).toEqual(['CT-FON-01', 'CT-FON-02', 'CT-FON-03', 'CT-FON-04', 'CT-FON-05', 'CT-FON-06', 'CT-FON-07', 'CT-FON-08', 'CT-FON-09']);
    for (const s of book.scenarios) {
      expect(render(s.title, 'fr')).not.toBe(render(s.title, 'en'));
      expect(s.requirement).toMatch(/^EX-\d\d$/);
      expect(typographyFaults(render(s.title, 'fr'))).toEqual([]);
    }
    expect(book.scenarios.filter((s) => s.app === 'ocs').length).toBeGreaterThan(0);
    expect(book.manual.map((m) => m.id)).toContain('CT-MAN-01');
  });

  it('a customer file replaces a scenario by id and adds new ones', () => {
    const dir = tmp();
    const f = path.join(dir, 'mine.yaml');
    fs.writeFileSync(
      f,
      `scenarios:
  - id: CT-FON-01
    requirement: EX-01
    app: glpi
    title: { fr: Remplacé, en: Replaced }
    steps: [{ goto: /index.php }]
    assert: [{ status: 200 }]
  - id: CLIENT-01
    requirement: EX-06
    app: glpi
    title: { fr: Page des tickets, en: Tickets page }
    steps: [{ login: glpi }, { goto: /front/ticket.php }]
    assert: [{ status: 200 }, { no_php_errors: true }]
`,
    );
    const book = loadBook([f]);
    expect(book.scenarios.find((s) => s.id === 'CT-FON-01')!.title).toEqual(literal('Replaced', 'Remplacé'));
    expect(book.scenarios[book.scenarios.length - 1].id).toBe('CLIENT-01');
    expect(book.sources).toHaveLength(2);
  });

  it('refuses a scenario without an English title, an unknown step, or a bad regular expression, naming where', () => {
    const base = (extra: string) => `scenarios:\n  - id: X-1\n    requirement: EX-01\n    app: glpi\n${extra}`;
    expect(() => parseBook(base('    title: { fr: Seul }\n    steps: [{ goto: / }]\n    assert: [{ status: 200 }]\n'), 'f.yaml')).toThrow(
      /f\.yaml: scenarios\[0\] \(X-1\)\.title: needs a French and an English/,
    );
    expect(() => parseBook(base('    title: { fr: A, en: B }\n    steps: [{ fly: / }]\n    assert: [{ status: 200 }]\n'), 'f.yaml')).toThrow(/steps\[0\]: expected exactly one of goto/);
    expect(() => parseBook(base('    title: { fr: A, en: B }\n    steps: [{ goto: / }]\n    assert: [{ text_matches: "(" }]\n'), 'f.yaml')).toThrow(/not a valid regular expression/);
    expect(() => loadBook(['/nonexistent/book.yaml'])).toThrow(/does not exist/);
  });
});

describe('exact text', () => {
  it('finds double-encoded sequences and quotes them', () => {
    expect(doubleEncodedSequences('Imprimante HS â€” rÃ©seau')).toEqual(['â€”', 'Ã©']);
    expect(doubleEncodedSequences('Imprimante HS — réseau, Hélène, Ærø, naïve')).toEqual([]);
    const d = msg('functional.differs', firstDifference('rÃ©seau', 'réseau'));
    expect(render(d, 'en')).toBe('differs from the database at character 2: page "rÃ©seau", database "réseau"');
    expect(render(d, 'fr')).toBe('diffère de la base au caractère 2\u00a0: page «\u00a0rÃ©seau\u00a0», base «\u00a0réseau\u00a0»');
  });

  it('fills placeholders and refuses unknown ones', () => {
    expect(fill('/front/computer.form.php?id={id}', { id: '12' })).toBe('/front/computer.form.php?id=12');
    expect(() => fill('{nope}', {})).toThrow(/unknown variable \{nope\}/);
  });
});

describe('not run, never passed', () => {
  it('no Chromium: every scenario is not run with the reason and the command', async () => {
    const dir = tmp();
    const res = await runFunctionalStage({ runDir: dir, chromium: path.join(dir, 'no-chromium'), php: process.env.PHP ?? 'php' });
    expect(res.scenarios.length).toBeGreaterThan(0);
    for (const s of res.scenarios) {
      expect(s.status).toBe('not-run');
      expect(en(s)).toMatch(/no Chromium at .*no-chromium|PHP ".*" cannot run/);
      expect(s.commandForUser).toMatch(/^glpi-ocs-upgrade functional /);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'functional', 'results.json'), 'utf8')).scenarios).toHaveLength(res.scenarios.length);
  });

  it('a GLPI tree without vendor/: the GLPI scenarios are not run, saying so', async () => {
    const dir = tmp();
    // A copy of a release tree's skeleton, vendor/ left out.
    const glpi = path.join(dir, 'glpi');
    for (const d of ['version', 'bin', 'public']) fs.mkdirSync(path.join(glpi, d), { recursive: true });
    fs.writeFileSync(path.join(glpi, 'version', '10.0.19'), '');
    fs.writeFileSync(path.join(glpi, 'bin', 'console'), '');
    fs.writeFileSync(path.join(glpi, 'public', 'index.php'), '');
    const res = await runFunctionalStage({
      runDir: dir,
      glpiDist: detectGlpiDist(glpi),
      chromium: '/bin/sh', // exists: the blocker must be the distribution, not the browser
    });
    const glpiCases = res.scenarios.filter((s) => s.app === 'glpi');
    expect(glpiCases.every((s) => s.status === 'not-run' && /has no vendor\//.test(en(s) ?? ''))).toBe(true);
    expect(res.scenarios.filter((s) => s.app === 'ocs').every((s) => s.status === 'not-run' && /no OCS distribution/.test(en(s) ?? ''))).toBe(true);
  });
});

describe('dossier section', () => {
  const results: FunctionalResults = {
    format: 1,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:30Z',
    durationMs: 30_000,
    environment: { php: '8.2.36', chromium: '156.0' },
    sources: [],
    scenarios: [
      {
        id: 'CT-FON-05',
        title: literal('An accented ticket', 'Un ticket accentué'),
        requirement: 'EX-05',
        app: 'glpi',
        status: 'failed',
        reason: literal('exact_text: double-encoded characters shown: « Ã© »', 'exact_text : caractères doublement encodés affichés : « Ã© »'),
        http: [{ url: 'http://127.0.0.1:4242/front/ticket.form.php?id=1', status: 200 }],
        phpErrors: [],
        assertions: [{ assertion: 'exact_text: {ticket_name}', ok: false, detail: literal('double-encoded characters shown: « Ã© »', 'double-encoded characters shown: « Ã© »') }],
        screenshot: 'CT-FON-05.png',
        durationMs: 1200,
      },
      {
        id: 'CT-FON-09',
        title: literal('OCS console', 'Console OCS'),
        requirement: 'EX-02',
        app: 'ocs',
        status: 'not-run',
        reason: literal('no OCS distribution', 'aucune distribution OCS'),
        commandForUser: 'glpi-ocs-upgrade functional run',
        http: [],
        phpErrors: [],
        assertions: [],
        durationMs: 0,
      },
    ],
    manual: [{ id: 'CT-MAN-01', requirement: 'EX-06', title: literal('LDAP', 'LDAP'), procedure: literal('Log in.', 'Se connecter.'), expected: literal('Login accepted', 'Connexion acceptée') }],
  };

  it('French: cases with their screenshot, the not-run command, manual cases with empty fields', () => {
    const md = functionalSection('fr', results).join('\n\n');
    expect(md).toContain('## Tests fonctionnels');
    expect(md).toContain('![Capture d’écran CT-FON-05](functional/CT-FON-05.png)');
    expect(md).toContain('**Échoué**');
    expect(md).toContain('« Ã© »');
    expect(md).toContain('`glpi-ocs-upgrade functional run`');
    expect(md).toContain('| Testeur | Date | Résultat observé | Statut |');
    expect(md).toMatch(/\| +\| +\| +\| +\|/);
    expect(md).not.toContain('127.0.0.1');
    expect(lintMarkdown(`# Dossier\n\n${md}\n`)).toEqual([]);
  });

  it('no results: no section (dossiers of runs without the stage are unchanged)', () => {
    expect(functionalSection('fr', undefined)).toEqual([]);
    expect(functionalSection('en', results).join('\n')).toContain('## Functional tests');
  });
});
