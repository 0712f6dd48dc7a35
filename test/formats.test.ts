/**
 * src/formats: each saved-file format has one reader and one writer. Every reader is fed corrupt files (bad
 * YAML, a wrong type deep inside, a missing field, an unknown format version) and must answer with a typed
 * error of its exit code, on one line, naming the file and the path inside it. Every writer's output reads
 * back as what was written.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CATALOG_FILES, CatalogError, loadCatalog } from '../src/catalog/catalog.ts';
import { CORRECTIVE_DIR, loadCorrectiveMigrations } from '../src/catalog/corrective.ts';
import { MIGRATIONS_DIR } from '../src/catalog/ocs-releases.ts';
import { ExitCode, NotFoundError, ToolError } from '../src/errors.ts';
import { readApplyFile, writeApplyFile } from '../src/formats/apply.ts';
import type { ApplyRecord } from '../src/formats/apply.ts';
import { readFindingsFile, writeFindingsFile } from '../src/formats/findings.ts';
import { readInstanceRecord, writeInstanceRecord } from '../src/formats/instance-record.ts';
import type { InstanceRecord } from '../src/formats/instance-record.ts';
import { readFunctionalResultsFile, writeFunctionalResultsFile } from '../src/formats/functional-results.ts';
import { appendJournalEvent, readJournalFile } from '../src/formats/journal.ts';
import type { JournalEvent } from '../src/formats/journal.ts';
import { lockOwnerLine, readLockOwner } from '../src/formats/lock.ts';
import type { LockOwner } from '../src/formats/lock.ts';
import { readManifestFile, writeManifestFile } from '../src/formats/manifest.ts';
import { readRecordedState, writeRecordedState } from '../src/formats/recorded-state.ts';
import type { RecordedState } from '../src/formats/recorded-state.ts';
import { parseRecette, readRecetteFile, stringifyRecette } from '../src/formats/recette.ts';
import { readRulesFile } from '../src/formats/rules.ts';
import { readRunFile, writeRunFile } from '../src/formats/run-file.ts';
import { readBridgeSource, readSavepointJson, readStepResultJson, writeSavepointJson, writeStepResultJson } from '../src/formats/step-evidence.ts';
import type { Savepoint } from '../src/formats/step-evidence.ts';
import { VerificationError } from '../src/errors.ts';
import { readPlan, writePlan } from '../src/plan/io.ts';
import { literal } from '../src/i18n/messages.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-formats-'));
let n = 0;
const freshDir = () => {
  const d = path.join(tmp, `d${++n}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const yamlOf = (file: string): Record<string, any> => YAML.parse(fs.readFileSync(path.join(REPO, file), 'utf8'));

/** What a reader must say about a corrupt file: its error, exit code and one-line message. */
function refusal(read: () => unknown): { err: ToolError; line: string } {
  let err: unknown;
  try {
    read();
  } catch (e) {
    err = e;
  }
  expect(err, 'the reader accepted a corrupt file').toBeInstanceOf(ToolError);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return { err: err as ToolError, line: message };
}

async function refusalAsync(read: () => Promise<unknown>): Promise<{ err: ToolError; line: string }> {
  let err: unknown;
  try {
    await read();
  } catch (e) {
    err = e;
  }
  expect(err, 'the reader accepted a corrupt file').toBeInstanceOf(ToolError);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return { err: err as ToolError, line: message };
}

interface Case {
  name: string;
  mutate: (d: Record<string, any>) => void;
  message: RegExp;
  code?: number;
}

/** The four corruptions every reader is fed, as mutations of a good document (bad YAML is written apart). */
function corruptions(file: string, deep: Omit<Case, 'name'>, missing: Omit<Case, 'name'>, version: Omit<Case, 'name'>): Case[] {
  return [
    { name: 'a wrong type deep inside', ...deep },
    { name: 'a missing field', ...missing },
    { name: 'an unknown format version', ...version },
    { name: 'a list for the document', mutate: () => undefined, message: new RegExp(`${file.replace('.', '\\.')}: \\(document\\): expected a mapping, got a list`) },
  ];
}

function writeMutated(dir: string, name: string, doc: Record<string, any>, c: Case): void {
  const copy = structuredClone(doc);
  c.mutate(copy);
  fs.writeFileSync(path.join(dir, name), YAML.stringify(c.name === 'a list for the document' ? [1, 2] : copy));
}

// ------------------------------------------------------------------------------------------------ plan

describe('plan.yaml', () => {
  const good = yamlOf('docs/examples/demo/plan.yaml');
  it.each(
    corruptions(
      'plan.yaml',
      { mutate: (d) => (d.steps[3].runner.kind = 'foo'), message: /plan\.yaml: steps\[3\]\.runner\.kind: expected one of ocs-bridge, ocs-update-file, .*, got "foo"$/ },
      { mutate: (d) => delete d.steps[2].expected, message: /plan\.yaml: steps\[2\]\.expected: is required$/ },
      { mutate: (d) => (d.format = 7), message: /plan\.yaml: format 7 is newer than this tool understands \(format 1\)$/, code: ExitCode.UNSUPPORTED },
    ),
  )('refuses $name, naming the file and the path', (c) => {
    const dir = freshDir();
    writeMutated(dir, 'plan.yaml', good, c);
    const { err } = refusal(() => readPlan(path.join(dir, 'plan.yaml')));
    expect(err.exitCode).toBe(c.code ?? ExitCode.VERIFICATION_FAILED);
    expect(err.message).toMatch(c.message);
  });

  it('refuses bad YAML and a missing file with their exit codes', () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'plan.yaml'), 'format: [1\n');
    const { err } = refusal(() => readPlan(path.join(dir, 'plan.yaml')));
    expect(err.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    expect(err.message).toMatch(/plan\.yaml: not valid YAML \(/);
    expect(() => readPlan(path.join(dir, 'none.yaml'))).toThrow(NotFoundError);
  });

  it('reads an older plan’s English texts and French twins as literal messages, and refuses a twin that is not a string', () => {
    const dir = freshDir();
    const older = structuredClone(good);
    older.steps[1].title = 'Bridge';
    older.steps[1].titleFr = 'Pont';
    older.steps[1].explanation = 'Why';
    older.steps[1].explanationFr = 'Pourquoi';
    fs.writeFileSync(path.join(dir, 'plan.yaml'), YAML.stringify(older));
    const step = readPlan(path.join(dir, 'plan.yaml')).steps[1];
    expect(step.title).toEqual(literal('Bridge', 'Pont'));
    expect(step.explanation).toEqual(literal('Why', 'Pourquoi'));
    expect('titleFr' in step).toBe(false);
    for (const [, mutate, where] of [
      ['titleFr', (s: { titleFr?: unknown }) => (s.titleFr = 3), /plan\.yaml: steps\[1\]\.titleFr: expected a string \(the French twin of an older file's text\), got 3 \(number\)$/],
      [
        'whyFr',
        (s: { expected: { rowsDeleted?: unknown } }) => (s.expected.rowsDeleted = [{ table: 't', why: 'gone', whyFr: ['x'] }]),
        /plan\.yaml: steps\[1\]\.expected\.rowsDeleted\[0\]\.whyFr: expected a string .*, got a list$/,
      ],
    ] as const) {
      const bad = structuredClone(older);
      mutate(bad.steps[1]);
      const file = path.join(freshDir(), 'plan.yaml');
      fs.writeFileSync(file, YAML.stringify(bad));
      const { err } = refusal(() => readPlan(file));
      expect(err.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
      expect(err.message).toMatch(where);
    }
  });

  it('round-trips through its writer (atomic: no temporary file left)', () => {
    const dir = freshDir();
    const plan = readPlan(path.join(REPO, 'docs/examples/demo/plan.yaml'));
    writePlan(path.join(dir, 'plan.yaml'), plan);
    expect(readPlan(path.join(dir, 'plan.yaml'))).toEqual(plan);
    expect(fs.readdirSync(dir)).toEqual(['plan.yaml']);
  });
});

// ------------------------------------------------------------------------------------------------ run

describe('run.yaml', () => {
  const good = yamlOf('docs/examples/demo/run.yaml');
  it.each(
    corruptions(
      'run.yaml',
      { mutate: (d) => (d.steps[1].tableDeltas[0].before = 'many'), message: /run\.yaml: steps\[1\]\.tableDeltas\[0\]\.before: expected a number, got "many"$/ },
      { mutate: (d) => delete d.snapshot.id, message: /run\.yaml: snapshot\.id: is required$/ },
      { mutate: (d) => (d.format = 'one'), message: /run\.yaml: format: expected 1, got "one"$/ },
    ),
  )('refuses $name, naming the file and the path', (c) => {
    const dir = freshDir();
    writeMutated(dir, 'run.yaml', good, c);
    const { err } = refusal(() => readRunFile(dir));
    expect(err).toBeInstanceOf(VerificationError);
    expect(err.message).toMatch(c.message);
  });

  it('refuses bad YAML; a missing file is NOT_FOUND', () => {
    const dir = freshDir();
    expect(() => readRunFile(dir)).toThrow(NotFoundError);
    fs.writeFileSync(path.join(dir, 'run.yaml'), 'steps: {a\n');
    expect(refusal(() => readRunFile(dir)).line).toMatch(/^run\.yaml: not valid YAML \(/);
  });

  it('round-trips through its writer', () => {
    const dir = freshDir();
    const run = readRunFile(path.join(REPO, 'docs/examples/demo'));
    writeRunFile(dir, run);
    expect(readRunFile(dir)).toEqual(run);
    // Same bytes as the committed file: the dossier prints run.yaml's fingerprint.
    expect(fs.readFileSync(path.join(dir, 'run.yaml'), 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'docs/examples/demo/run.yaml'), 'utf8'));
  });
});

// ------------------------------------------------------------------------------------------------ journal

describe('journal.jsonl', () => {
  const events: JournalEvent[] = [
    { t: '2026-01-01T00:00:00.000Z', event: 'run-started', runId: 'r', plan: 'plan.yaml', snapshot: 's', instance: 'i', planSha256: 'abc', steps: ['a'], stepHashes: ['h'] },
    { t: '2026-01-01T00:00:01.000Z', event: 'step-started', stepId: 'a' },
    { t: '2026-01-01T00:00:02.000Z', event: 'step-finished', stepId: 'a', status: 'passed', durationMs: 5, result: { stepId: 'a', status: 'passed', tableDeltas: [], evidence: [] } },
    { t: '2026-01-01T00:00:03.000Z', event: 'run-finished', complete: true },
  ];
  const write = (lines: string[]) => {
    const file = path.join(freshDir(), 'journal.jsonl');
    fs.writeFileSync(file, lines.join(''));
    return file;
  };
  const good = events.map((e) => `${JSON.stringify(e)}\n`);

  it.each([
    ['bad JSON on a line before the last', [good[0], '{"t": oops\n', good[2]], /^journal\.jsonl line 2: not valid JSON/],
    ['a wrong type deep inside', [good[0], good[1], good[2].replace('"durationMs":5', '"durationMs":"5"')], /^journal\.jsonl line 3: durationMs: expected a number, got "5"$/],
    ['a wrong type in a step result', [good[0], good[1], good[2].replace('"tableDeltas":[]', '"tableDeltas":{}')], /^journal\.jsonl line 3: result\.tableDeltas: expected a list, got a mapping$/],
    ['a missing field', [good[0], good[1].replace(',"stepId":"a"', '')], /^journal\.jsonl line 2: stepId: is required$/],
    ['an unknown event', [good[0], '{"t":"x","event":"step-exploded"}\n'], /^journal\.jsonl line 2: event: expected one of run-started, attempt-started, .*, got "step-exploded"$/],
  ])('refuses %s, naming the line and the path', (_name, lines, message) => {
    const file = write(lines);
    const { err, line } = refusal(() => readJournalFile(file));
    expect(err).toBeInstanceOf(VerificationError);
    expect(line).toMatch(message);
  });

  it('tolerates a torn last line (a kill while appending), and reports it', () => {
    const file = write([...good.slice(0, 3), good[3].slice(0, 20)]);
    const r = readJournalFile(file);
    expect(r.events).toHaveLength(3);
    expect(r.torn).toMatchObject({ line: 4, bytes: 20 });
  });

  it('round-trips through its writer (one fsync’d line per event)', () => {
    const file = path.join(freshDir(), 'journal.jsonl');
    for (const e of events) appendJournalEvent(file, e);
    expect(readJournalFile(file)).toEqual({ events, torn: undefined });
    expect(fs.readFileSync(file, 'utf8')).toBe(good.join(''));
  });
});

// ------------------------------------------------------------------------------------------------ findings

describe('findings.yaml', () => {
  const good = yamlOf('docs/examples/demo/findings.yaml');
  const read = (file: string) => readFindingsFile(file, { label: 'findings.yaml', invalid: (m) => new VerificationError(m), missing: () => new NotFoundError('findings.yaml not found') });
  it.each(
    corruptions(
      'findings.yaml',
      { mutate: (d) => (d.findings[1].remedy.manual = { fr: 'x', en: 3 }), message: /findings\.yaml: findings\[1\]\.remedy\.manual\.en: expected a string, got 3 \(number\)$/ },
      { mutate: (d) => delete d.checksRun[1].status, message: /findings\.yaml: checksRun\[1\]\.status: is required$/ },
      { mutate: (d) => (d.format = 2), message: /findings\.yaml: format 2 is newer than this tool understands \(format 1\)$/ },
    ),
  )('refuses $name, naming the file and the path', (c) => {
    const dir = freshDir();
    writeMutated(dir, 'findings.yaml', good, c);
    expect(refusal(() => read(path.join(dir, 'findings.yaml'))).line).toMatch(c.message);
  });

  it('refuses bad YAML', () => {
    const file = path.join(freshDir(), 'findings.yaml');
    fs.writeFileSync(file, 'format: 1\n  bad: [indent\n');
    expect(refusal(() => read(file)).line).toMatch(/^findings\.yaml: not valid YAML \(/);
  });

  it('round-trips through its writer, in YAML and in JSON', () => {
    const findings = read(path.join(REPO, 'docs/examples/demo/findings.yaml'));
    for (const name of ['findings.yaml', 'findings.json']) {
      const file = path.join(freshDir(), name);
      writeFindingsFile(file, findings);
      expect(read(file)).toEqual(findings);
    }
    // Read, then written again (rehearse copies the findings into the run directory): the same bytes.
    const again = path.join(freshDir(), 'findings.yaml');
    writeFindingsFile(again, findings);
    expect(fs.readFileSync(again, 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'docs/examples/demo/findings.yaml'), 'utf8'));
  });
});

// ------------------------------------------------------------------------------------------------ older texts

describe('texts of files written before messages ({ en, fr } pairs)', () => {
  const readFindings = (file: string) => readFindingsFile(file, { label: 'findings.yaml', invalid: (m) => new VerificationError(m), missing: () => new NotFoundError('findings.yaml not found') });

  it('findings.yaml: check titles and manual remedies are read as literal messages', () => {
    const doc = yamlOf('docs/examples/demo/findings.yaml');
    const i = doc.findings.findIndex((f: { remedy: { manual?: unknown } }) => f.remedy.manual);
    expect(i).toBeGreaterThanOrEqual(0);
    doc.checksRun[0].title = { fr: 'Doublons', en: 'Duplicates' };
    doc.findings[i].title = { fr: 'Titre', en: 'Title' };
    doc.findings[i].remedy.manual = { fr: 'Corriger à la main.', en: 'Fix by hand.' };
    const file = path.join(freshDir(), 'findings.yaml');
    fs.writeFileSync(file, YAML.stringify(doc));
    const f = readFindings(file);
    expect(f.checksRun[0].title).toEqual(literal('Duplicates', 'Doublons'));
    expect(f.findings[i].title).toEqual(literal('Title', 'Titre'));
    expect(f.findings[i].remedy.manual).toEqual(literal('Fix by hand.', 'Corriger à la main.'));
  });

  it('the committed example written before messages reads: every title a literal message', () => {
    const f = readFindings(path.join(REPO, 'docs/examples/with-glpi-10.0.19/findings.yaml'));
    expect(f.checksRun.length).toBeGreaterThan(0);
    for (const c of f.checksRun) expect(c.title.id, c.id).toBe('literal');
    const run = readRunFile(path.join(REPO, 'docs/examples/with-glpi-10.0.19'));
    for (const a of run.anomalies) expect([a.title.id, a.detail.id], a.id).toEqual(['literal', 'literal']);
  });

  it('run.yaml: anomaly title, detail and remedy are read as literal messages', () => {
    const doc = yamlOf('docs/examples/demo/run.yaml');
    doc.anomalies = [
      { id: 'A-x', stepId: 'ocs-7037', severity: 'majeure', title: { fr: 'Perte', en: 'Loss' }, detail: { fr: 'Détail', en: 'Detail' }, remedy: { fr: 'Exporter', en: 'Export' }, resolved: false },
    ];
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'run.yaml'), YAML.stringify(doc));
    const [a] = readRunFile(dir).anomalies;
    expect([a.title, a.detail, a.remedy]).toEqual([literal('Loss', 'Perte'), literal('Detail', 'Détail'), literal('Export', 'Exporter')]);
  });

  it('refuses a pair that lacks a language, naming the path inside it', () => {
    const doc = yamlOf('docs/examples/demo/run.yaml');
    doc.anomalies = [{ id: 'A-x', severity: 'majeure', title: { fr: 'Perte' }, detail: { fr: 'd', en: 'd' }, resolved: false }];
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'run.yaml'), YAML.stringify(doc));
    expect(refusal(() => readRunFile(dir)).line).toMatch(/run\.yaml: anomalies\[0\]\.title\.en: is required$/);
  });
});

// ------------------------------------------------------------------------------------------------ manifest

describe('manifest.yaml', () => {
  const good = yamlOf('fixtures/small/manifest.yaml');
  it.each(
    corruptions(
      'manifest.yaml',
      { mutate: (d) => (d.databases[0].tables[2].files[0].bytes = '12k'), message: /manifest\.yaml: databases\[0\]\.tables\[2\]\.files\[0\]\.bytes: expected a number, got "12k"$/ },
      { mutate: (d) => delete d.databases[1].name, message: /manifest\.yaml: databases\[1\]\.name: is required$/ },
      { mutate: (d) => (d.format = 2), message: /manifest\.yaml: format 2 is newer than this tool understands \(format 1\)$/ },
    ),
  )('refuses $name, naming the file and the path', async (c) => {
    const dir = freshDir();
    writeMutated(dir, 'manifest.yaml', good, c);
    const { err, line } = await refusalAsync(() => readManifestFile(dir));
    expect(err).toBeInstanceOf(VerificationError);
    expect(line).toMatch(c.message);
  });

  it('refuses a file path that leaves the snapshot directory, and bad YAML', async () => {
    const dir = freshDir();
    const doc = structuredClone(good);
    doc.databases[0].tables[0].files[0].path = '../../etc/passwd';
    fs.writeFileSync(path.join(dir, 'manifest.yaml'), YAML.stringify(doc));
    expect((await refusalAsync(() => readManifestFile(dir))).line).toMatch(
      /manifest\.yaml: databases\[0\]\.tables\[0\]\.files\[0\]\.path: expected a path inside the snapshot directory, got "\.\.\/\.\.\/etc\/passwd"$/,
    );
    fs.writeFileSync(path.join(dir, 'manifest.yaml'), 'databases: [\n');
    expect((await refusalAsync(() => readManifestFile(dir))).line).toMatch(/manifest\.yaml: not valid YAML \(/);
  });

  it('keeps the keys of the data encoding it does not know (anonymize must see a foreign encoding)', async () => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, 'manifest.yaml'), YAML.stringify({ ...good, data: { ...good.data, variant: 'older' } }));
    expect((await readManifestFile(dir)).data).toMatchObject({ variant: 'older' });
  });

  it('round-trips through its writer', async () => {
    const m = await readManifestFile(path.join(REPO, 'fixtures/small'));
    const dir = freshDir();
    writeManifestFile(dir, m);
    expect(await readManifestFile(dir)).toEqual(m);
  });
});

// ------------------------------------------------------------------------------------------------ catalog

describe('the catalog (migrations/*.yaml)', () => {
  const broken = (file: string, text: string) => {
    const dir = freshDir();
    for (const f of Object.values(CATALOG_FILES)) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, file), text);
    return dir;
  };
  const G = CATALOG_FILES.glpi;
  const good = YAML.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, G), 'utf8'));
  it.each(
    corruptions(
      G,
      { mutate: (d) => (d.branches[9].updater.official_cli = 'yes'), message: /glpi-releases\.yaml: branches\[9\]\.updater\.official_cli: expected true or false, got "yes"$/ },
      { mutate: (d) => delete d.branches[3].latest, message: /glpi-releases\.yaml: branches\[3\]\.latest: is required$/ },
      { mutate: (d) => (d.format = 2), message: /glpi-releases\.yaml: format 2 is newer than this tool understands \(format 1\)$/ },
    ),
  )('refuses $name with a CatalogError naming the file and the path', (c) => {
    const copy = structuredClone(good);
    c.mutate(copy);
    const dir = broken(G, YAML.stringify(c.name === 'a list for the document' ? [1, 2] : copy));
    const { err, line } = refusal(() => loadCatalog(dir));
    expect(err).toBeInstanceOf(CatalogError);
    expect(err.exitCode).toBe(ExitCode.INTERNAL);
    expect(line).toMatch(c.message);
  });

  it('refuses bad YAML', () => {
    expect(refusal(() => loadCatalog(broken(G, 'branches: [\n'))).line).toMatch(/^glpi-releases\.yaml: not valid YAML \(/);
  });
});

// ------------------------------------------------------------------------------------------------ anonymization rules

describe('anonymization rules', () => {
  const good = yamlOf('migrations/anonymize-rules.yaml');
  it.each(
    corruptions(
      'rules.yaml',
      { mutate: (d) => (d.rules[4].keep_values = [1]), message: /rules\.yaml: rules\[4\]\.keep_values\[0\]: expected a string, got 1 \(number\) \(rule glpi\.glpi_users\.phone2\)$/ },
      { mutate: (d) => delete d.rules[2].method, message: /rules\.yaml: rules\[2\]\.method: is required \(rule glpi\.glpi_users\.firstname\)$/ },
      { mutate: (d) => (d.format = 3), message: /rules\.yaml: format 3 is newer than this tool understands \(format 1\)$/ },
    ),
  )('refuses $name with a UsageError naming the file and the path', (c) => {
    const dir = freshDir();
    writeMutated(dir, 'rules.yaml', good, c);
    const { err, line } = refusal(() => readRulesFile(path.join(dir, 'rules.yaml'), 'rules.yaml'));
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(line).toMatch(c.message);
  });

  it('refuses a method-dependent field on the wrong method, and bad YAML', () => {
    const dir = freshDir();
    const doc = structuredClone(good);
    doc.rules[0].value = 'x';
    fs.writeFileSync(path.join(dir, 'rules.yaml'), YAML.stringify(doc));
    expect(refusal(() => readRulesFile(path.join(dir, 'rules.yaml'), 'rules.yaml')).line).toMatch(/rules\.yaml: rules\[0\]\.value: is only for method fixed \(rule glpi\.glpi_users\.name\)$/);
    fs.writeFileSync(path.join(dir, 'rules.yaml'), 'rules: [\n');
    expect(refusal(() => readRulesFile(path.join(dir, 'rules.yaml'), 'rules.yaml')).line).toMatch(/^rules\.yaml: not valid YAML \(/);
  });
});

// ------------------------------------------------------------------------------------------------ recette

describe('recette.yaml', () => {
  const good = yamlOf('docs/examples/recette.yaml');
  it.each(
    corruptions(
      'recette.yaml',
      {
        mutate: (d) => (d.manualTests[0].anomaly = { id: 'A', severity: 'critique', title: 't' }),
        message: /recette\.yaml: manualTests\[0\]\.anomaly\.severity: expected one of bloquante, majeure, mineure, got "critique"$/,
      },
      { mutate: (d) => delete d.visas[0].role, message: /recette\.yaml: visas\[0\]\.role: is required$/ },
      { mutate: (d) => (d.format = 2), message: /recette\.yaml: format 2 is newer than this tool understands \(format 1\)$/ },
    ),
  )('refuses $name, naming the file and the path', (c) => {
    const dir = freshDir();
    writeMutated(dir, 'recette.yaml', good, c);
    const { err, line } = refusal(() => readRecetteFile(path.join(dir, 'recette.yaml')));
    expect(err).toBeInstanceOf(VerificationError);
    expect(line).toMatch(c.message);
  });

  it('refuses bad YAML', () => {
    const file = path.join(freshDir(), 'recette.yaml');
    fs.writeFileSync(file, 'visas: [\n');
    expect(refusal(() => readRecetteFile(file)).line).toMatch(/recette\.yaml: not valid YAML \(/);
  });

  it('round-trips through its writer', () => {
    const r = readRecetteFile(path.join(REPO, 'docs/examples/recette.yaml'));
    expect({ ...parseRecette(YAML.parse(stringifyRecette(r))), source: undefined }).toEqual({ ...r, source: undefined });
  });
});

// ------------------------------------------------------------------------------------------------ apply

describe('apply/apply.yaml', () => {
  const rec: ApplyRecord = {
    format: 1,
    rehearsal: { runId: 'run-1', planSha256: 'abc', snapshotId: 'def' },
    production: { hostPort: 'db1:3306', databases: { glpi: 'glpi', ocs: 'ocsweb' }, serverVersion: '10.11.6-MariaDB' },
    allowNotRun: [],
    preflight: [{ check: 'same-schema', status: 'passed', detail: literal('same', 'identique') }],
    backup: { id: 'b', dir: 'backup', taken: true, readyAt: '2026-01-01T00:00:00.000Z', elapsedMs: 12, rows: { glpi_users: 3 } },
    startedAt: '2026-01-01T00:00:00.000Z',
  };
  it.each(
    corruptions(
      'apply.yaml',
      { mutate: (d) => (d.backup.rows.glpi_users = 'three'), message: /apply\.yaml: backup\.rows\.glpi_users: expected a number, got "three"$/ },
      { mutate: (d) => delete d.preflight[0].status, message: /apply\.yaml: preflight\[0\]\.status: is required$/ },
      { mutate: (d) => (d.format = 2), message: /apply\.yaml: format 2 is newer than this tool understands \(format 1\)$/ },
    ),
  )('refuses $name, naming the file and the path', (c) => {
    const dir = freshDir();
    writeMutated(dir, 'apply.yaml', rec, c);
    const { err, line } = refusal(() => readApplyFile(path.join(dir, 'apply.yaml')));
    expect(err).toBeInstanceOf(VerificationError);
    expect(line).toMatch(c.message);
  });

  it('round-trips through its writer; absent is undefined', () => {
    const file = path.join(freshDir(), 'apply', 'apply.yaml');
    expect(readApplyFile(file)).toBeUndefined();
    writeApplyFile(file, rec);
    expect(readApplyFile(file)).toEqual(rec);
  });
});

// ------------------------------------------------------------------------------------------------ functional results

describe('functional/results.json', () => {
  const good = JSON.parse(fs.readFileSync(path.join(REPO, 'docs/examples/with-glpi-10.0.19/functional/results.json'), 'utf8'));
  const write = (doc: unknown) => {
    const file = path.join(freshDir(), 'results.json');
    fs.writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return file;
  };
  it.each([
    ['bad JSON', '{"format": 1,', /^results\.json: not valid JSON \(/],
    [
      'a wrong type deep inside',
      { ...good, scenarios: [{ ...good.scenarios[0], http: [{ url: '/', status: '200' }] }] },
      /^results\.json: scenarios\[0\]\.http\[0\]\.status: expected a number, got "200"$/,
    ],
    ['a missing field', { ...good, manual: [{ ...good.manual[0], procedure: undefined }] }, /^results\.json: manual\[0\]\.procedure: is required$/],
    ['an unknown format version', { ...good, format: 2 }, /^results\.json: format 2 is newer than this tool understands \(format 1\)$/],
  ])('refuses %s, naming the file and the path', (_name, doc, message) => {
    const { err, line } = refusal(() => readFunctionalResultsFile(write(doc)));
    expect(err).toBeInstanceOf(VerificationError);
    expect(line).toMatch(message);
  });

  it('round-trips through its writer, byte for byte (once an older file’s texts are read as messages)', () => {
    // The committed example predates messages: its reason + reasonFr and details are read as literal messages.
    const file = path.join(REPO, 'docs/examples/with-glpi-10.0.19/functional/results.json');
    const results = readFunctionalResultsFile(file)!;
    expect(results.scenarios.every((s) => s.reason === undefined || typeof s.reason === 'object')).toBe(true);
    // Its { fr, en } titles, expected results and manual procedures too.
    expect([...results.scenarios.map((s) => s.title.id), ...results.manual.flatMap((m) => [m.title.id, m.procedure.id, m.expected.id])].every((id) => id === 'literal')).toBe(true);
    const once = path.join(freshDir(), 'results.json');
    writeFunctionalResultsFile(once, results);
    const twice = path.join(freshDir(), 'results.json');
    writeFunctionalResultsFile(twice, readFunctionalResultsFile(once)!);
    expect(fs.readFileSync(twice, 'utf8')).toBe(fs.readFileSync(once, 'utf8'));
    expect(readFunctionalResultsFile(once)).toEqual(results);
    expect(readFunctionalResultsFile(path.join(freshDir(), 'none.json'))).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ step evidence

describe('evidence/<step>/savepoint.json and result.json (forgiving readers: a damaged file reads as absent)', () => {
  const sp: Savepoint = { database: 'glpi', shadow: 'glpi__gou_savepoint', saved: ['glpi_users'], absent: [], whole: false };
  it('round-trip through their writers', () => {
    const dir = freshDir();
    writeSavepointJson(path.join(dir, 'savepoint.json'), sp);
    expect(readSavepointJson(path.join(dir, 'savepoint.json'))).toEqual(sp);
    const result = { stepId: 'a', status: 'passed' as const, tableDeltas: [], evidence: ['evidence/a/result.json'] };
    writeStepResultJson(path.join(dir, 'result.json'), { result, anomalies: [], executor: { ok: true }, rowsBefore: { glpi_users: 3 } });
    expect(readStepResultJson(path.join(dir, 'result.json'))).toEqual({ result, anomalies: [] });
  });

  it.each([
    ['absent', undefined],
    ['torn', '{"database": "glpi", "sha'],
    ['of the wrong shape', JSON.stringify({ ...sp, saved: 'glpi_users' })],
    ['missing a field', JSON.stringify({ ...sp, shadow: undefined })],
  ])('a savepoint file %s reads as absent (the step never started)', (_name, text) => {
    const file = path.join(freshDir(), 'savepoint.json');
    if (text !== undefined) fs.writeFileSync(file, text);
    expect(readSavepointJson(file)).toBeUndefined();
  });

  it('a result.json of the wrong shape reads as absent (the runner falls back on run.yaml)', () => {
    const file = path.join(freshDir(), 'result.json');
    fs.writeFileSync(file, JSON.stringify({ result: { stepId: 'a', status: 'done' } }));
    expect(readStepResultJson(file)).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ run directory lock

describe('.lock (forgiving reader: a file being written reads as no owner)', () => {
  const owner: LockOwner = { pid: 4242, startTime: 17, host: 'h', command: 'rehearse', since: '2026-01-01T00:00:00.000Z' };
  it('round-trips through its writer, and reads a torn or foreign file as no owner', () => {
    const file = path.join(freshDir(), '.lock');
    fs.writeFileSync(file, lockOwnerLine(owner));
    expect(readLockOwner(file)).toEqual(owner);
    fs.writeFileSync(file, '{"pid": 42');
    expect(readLockOwner(file)).toBeUndefined();
    fs.writeFileSync(file, JSON.stringify({ ...owner, pid: '4242' }));
    expect(readLockOwner(file)).toBeUndefined();
  });
});

describe('evidence bridge.json (read by the dossier: whose bridge script ran)', () => {
  it('gives the source, or undefined for a file that is absent, torn or says nothing known', () => {
    const dir = freshDir();
    const f = path.join(dir, 'bridge.json');
    expect(readBridgeSource(f)).toBeUndefined();
    fs.writeFileSync(f, JSON.stringify({ source: 'official', file: 'files/ocsbase.sql' }));
    expect(readBridgeSource(f)).toBe('official');
    fs.writeFileSync(f, JSON.stringify({ source: 'someone' }));
    expect(readBridgeSource(f)).toBeUndefined();
    fs.writeFileSync(f, '{"source": "to');
    expect(readBridgeSource(f)).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ corrective migrations

describe('corrective migrations (migrations/corrective/*.yaml)', () => {
  const ID = 'glpi-dedup-slalevels-tickets';
  const good = YAML.parse(fs.readFileSync(path.join(CORRECTIVE_DIR, `${ID}.yaml`), 'utf8'));
  const broken = (text: string) => {
    const dir = freshDir();
    fs.writeFileSync(path.join(dir, `${ID}.yaml`), text);
    return dir;
  };
  it.each<Case>([
    { name: 'a wrong value deep inside', mutate: (d) => (d.title.fr = 3), message: /glpi-dedup-slalevels-tickets\.yaml: title\.fr: expected a string, got 3 \(number\)$/ },
    {
      name: 'a step kind it cannot precede',
      mutate: (d) => (d.before = 'glpi-update'),
      message: /glpi-dedup-slalevels-tickets\.yaml: before: expected one of glpi-db-update, ocs-bridge, ocs-update-file, plugin-install, any, got "glpi-update"$/,
    },
    { name: 'a missing field', mutate: (d) => delete d.postcheck, message: /glpi-dedup-slalevels-tickets\.yaml: postcheck: is required$/ },
    {
      name: 'a check that is not a SELECT',
      mutate: (d) => (d.precheck = 'DELETE FROM t'),
      message: /glpi-dedup-slalevels-tickets\.yaml: precheck: expected a SELECT, got "DELETE FROM t"$/,
    },
    { name: 'no statements', mutate: (d) => (d.statements = []), message: /glpi-dedup-slalevels-tickets\.yaml: statements: expected a non-empty list$/ },
    { name: 'an unknown key', mutate: (d) => (d.optionnal = true), message: /glpi-dedup-slalevels-tickets\.yaml: optionnal: unknown key \(expected one of id, database, / },
    {
      name: 'an id that is not the file name',
      mutate: (d) => (d.id = 'other'),
      message: /glpi-dedup-slalevels-tickets\.yaml: id: expected the file name "glpi-dedup-slalevels-tickets", got "other"$/,
    },
    { name: 'a list for the document', mutate: () => undefined, message: /glpi-dedup-slalevels-tickets\.yaml: \(document\): expected a mapping, got a list$/ },
  ])('refuses $name (exit 1, one line naming the file and the path)', (c) => {
    const copy = structuredClone(good);
    c.mutate(copy);
    const dir = broken(YAML.stringify(c.name === 'a list for the document' ? [1, 2] : copy));
    const { err, line } = refusal(() => loadCorrectiveMigrations(dir));
    expect(err.exitCode).toBe(ExitCode.INTERNAL);
    expect(line).toMatch(c.message);
  });

  it('refuses bad YAML', () => {
    expect(refusal(() => loadCorrectiveMigrations(broken('statements: [\n'))).line).toMatch(/glpi-dedup-slalevels-tickets\.yaml: not valid YAML \(/);
  });

  it('loads every shipped migration, its checksum the sha256 of the file as it is', () => {
    const all = loadCorrectiveMigrations();
    expect(all.length).toBe(fs.readdirSync(CORRECTIVE_DIR).filter((f) => f.endsWith('.yaml')).length);
    for (const m of all) {
      const bytes = fs.readFileSync(path.join(CORRECTIVE_DIR, `${m.id}.yaml`));
      expect(m.checksum).toBe(crypto.createHash('sha256').update(bytes).digest('hex'));
      expect(Object.keys(m)).toEqual(['id', 'database', 'title', 'fixes', 'before', 'touches', 'precheck', 'statements', 'postcheck', ...(m.optional ? ['optional'] : []), 'checksum']);
    }
  });
});

// ------------------------------------------------------------------------------------------------ recorded states

describe('evidence/structure-before.json and final-state.json', () => {
  const state: RecordedState = {
    format: 1,
    databases: {
      glpi: {
        name: 'glpi',
        structure: [
          {
            name: 'glpi_configs',
            engine: 'InnoDB',
            collation: 'utf8mb4_unicode_ci',
            columns: [{ name: 'id', position: 1, type: 'int(11)', nullable: false, default: null, charset: null, collation: null, extra: 'auto_increment' }],
            indexes: [{ name: 'PRIMARY', unique: true, columns: ['id'], type: 'BTREE' }],
          },
        ],
        tables: { glpi_configs: { rows: 3, checksum: '123' } },
      },
    },
  };
  const file = () => path.join(freshDir(), 'evidence', 'final-state.json');

  it('round-trips through its atomic writer; absent is undefined', () => {
    const f = file();
    expect(readRecordedState(f)).toBeUndefined();
    writeRecordedState(f, state);
    expect(readRecordedState(f)).toEqual(state);
    expect(fs.readdirSync(path.dirname(f))).toEqual(['final-state.json']);
  });

  it.each([
    { name: 'a torn file', text: '{"format": 1, "databases": {"gl', message: /final-state\.json: not valid JSON \(/ },
    {
      name: 'a wrong type deep inside',
      text: JSON.stringify({
        ...state,
        databases: { glpi: { ...state.databases.glpi, structure: [{ ...state.databases.glpi!.structure[0], columns: [{ ...state.databases.glpi!.structure[0].columns[0], nullable: 'NO' }] }] } },
      }),
      message: /final-state\.json: databases\.glpi\.structure\[0\]\.columns\[0\]\.nullable: expected true or false, got "NO"$/,
    },
    { name: 'a missing field', text: JSON.stringify({ format: 1 }), message: /final-state\.json: databases: is required$/ },
    { name: 'an unknown format version', text: JSON.stringify({ ...state, format: 2 }), message: /final-state\.json: format 2 is newer than this tool understands \(format 1\)$/ },
    { name: 'a list for the document', text: '[1, 2]', message: /final-state\.json: \(document\): expected a mapping, got a list$/ },
  ])('refuses $name with a VerificationError naming the file and the path', (c) => {
    const f = file();
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, c.text);
    const { err, line } = refusal(() => readRecordedState(f));
    expect(err).toBeInstanceOf(VerificationError);
    expect(err.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    expect(line).toMatch(c.message);
    expect(line.startsWith(f)).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------ embedded instances

describe('embedded-instance registry entries (forgiving reader: a damaged entry reads as no instance)', () => {
  const rec: InstanceRecord = {
    id: 'abc',
    name: 'test',
    pid: 4242,
    ownerPid: 4241,
    keep: false,
    port: 33061,
    socket: '/tmp/x.sock',
    datadir: '/tmp/x/data',
    baseDir: '/tmp/x',
    serverBin: '/usr/sbin/mariadbd',
    serverVersion: '10.11.6-MariaDB',
    startedAt: '2026-01-01T00:00:00.000Z',
    settings: { lowerCaseTableNames: 1, extraArgs: ['--skip-log-bin'] },
    watchdogPid: 4243,
  };
  it('round-trips through its atomic writer (owner-only), and reads a torn or foreign file as absent', () => {
    const f = path.join(freshDir(), 'abc.json');
    expect(readInstanceRecord(f)).toBeUndefined();
    writeInstanceRecord(f, rec);
    expect(readInstanceRecord(f)).toEqual(rec);
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(f))).toEqual(['abc.json']);
    fs.writeFileSync(f, '{"id": "abc", "pi');
    expect(readInstanceRecord(f)).toBeUndefined();
    fs.writeFileSync(f, JSON.stringify({ ...rec, pid: '4242' }));
    expect(readInstanceRecord(f)).toBeUndefined();
    fs.writeFileSync(f, JSON.stringify({ ...rec, settings: { lowerCaseTableNames: 3 } }));
    expect(readInstanceRecord(f)).toBeUndefined();
  });
});
