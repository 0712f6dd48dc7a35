/**
 * Messages (src/i18n): ids with parameters, one typed catalog per language.
 *
 * The `@ts-expect-error` lines below are the proof that the compiler enforces the catalogs: `npx tsc --noEmit`
 * (and so `npm test`'s type check in CI) fails on an unused `@ts-expect-error`, that is, the day a catalog
 * missing an id, a message with the wrong parameters or an unknown id would compile.
 */
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { en } from '../src/i18n/en.ts';
import { fr } from '../src/i18n/fr.ts';
import type { Catalog, Message } from '../src/i18n/messages.ts';
import { joined, literal, msg } from '../src/i18n/messages.ts';
import { render } from '../src/i18n/render.ts';
import { fromSaved, messageProblem } from '../src/i18n/saved.ts';

describe('the catalogs are checked by the compiler', () => {
  it('a catalog without one of the ids does not compile', () => {
    const { 'plan.ocs-first': _dropped, ...rest } = fr;
    // @ts-expect-error 'plan.ocs-first' is missing from the catalog
    const incomplete: Catalog = rest;
    expect(Object.keys(incomplete)).not.toContain('plan.ocs-first');
  });

  it('a catalog with an id no message has does not compile', () => {
    // @ts-expect-error 'plan.no-such-note' is not a message id
    const extra: Catalog = { ...en, 'plan.no-such-note': () => 'x' };
    expect(Object.keys(extra)).toContain('plan.no-such-note');
  });

  it('a message must have its id’s parameters', () => {
    // @ts-expect-error 'plan.glpi-at-target' takes { target }, not { version }
    const wrong = msg('plan.glpi-at-target', { version: '10.0.19' });
    // @ts-expect-error 'plan.unknown' is not a message id
    const unknown = msg('plan.unknown', {});
    expect([wrong.id, unknown.id]).toEqual(['plan.glpi-at-target', 'plan.unknown']);
  });

  it('both catalogs hold the same ids (what the types above guarantee, seen at run time)', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
  });
});

describe('rendering', () => {
  it('renders a message in each language, with nested and joined messages', () => {
    const m: Message = joined([msg('plan.glpi-at-target', { target: '10.0.19' }), msg('step.plugin.proven', { proven: literal('on GLPI 10.0.19', 'sur GLPI 10.0.19') })]);
    expect(render(m, 'en')).toBe('GLPI is already at the target 10.0.19: no GLPI update step. Proven: on GLPI 10.0.19.');
    expect(render(m, 'fr')).toBe('GLPI est déjà à la version cible 10.0.19 : aucune étape de mise à jour de GLPI. Validé par un essai réel : sur GLPI 10.0.19.');
  });

  it('French enumerations and plurals are the catalog’s business', () => {
    expect(render(msg('step.glpi-update.branches', { branches: ['0.84', '0.85', '0.90'] }), 'fr')).toBe('Il enchaîne en une seule fois les migrations des branches 0.84, 0.85 et 0.90.');
    expect(render(msg('plan.ocs-steps', { count: 1, target: '2.12.4', gui: 7081 }), 'fr')).toMatch(/^OCS : 1 étape jusqu’à/);
    expect(render(msg('plan.ocs-steps', { count: 3, target: '2.12.4', gui: 7081 }), 'fr')).toMatch(/^OCS : 3 étapes jusqu’à/);
  });
});

describe('messages read back from files', () => {
  it('an older file’s English string and French twin become a literal message', () => {
    expect(fromSaved('Corrective migration x', 'Migration corrective x')).toEqual(literal('Corrective migration x', 'Migration corrective x'));
    expect(fromSaved('only English')).toEqual(literal('only English', 'only English'));
    const m = msg('plan.ocs-first', {});
    expect(fromSaved(m, 'ignored')).toBe(m);
  });

  it('names the path of what is not a message', () => {
    expect(messageProblem(msg('plan.glpi-route', { route: '0.83.8 → 10.0.19', hops: 1 }), 'notes[0]')).toBeUndefined();
    expect(messageProblem(['x'], 'steps[2].title')).toBe('steps[2].title: expected a message (id and params) or a string');
    expect(messageProblem({ id: 'plan.later', params: {} }, 'notes[1]')).toMatch(/^notes\[1\]\.id: unknown message id "plan\.later"/);
    expect(messageProblem({ id: 'literal', params: { en: 'a' } }, 'notes[2]')).toBe('notes[2].params.fr: expected a string');
    const saved: unknown = YAML.parse('id: joined\nparams:\n  parts:\n    - { id: literal, params: { en: a, fr: a } }\n    - { id: joined, params: {} }\n');
    expect(messageProblem(saved, 'x')).toBe('x.params.parts[1].params.parts: expected a list');
  });
});
