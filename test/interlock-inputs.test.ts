/**
 * Inputs refused before anything runs: a plan whose `before:` names an unknown corrective migration, or
 * whose `migration:` is a path (exit 5 when the plan is read, no server started); an audit of a GLPI
 * older than 0.83 (exit 11, one line).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './helpers/shared.ts';
import { runCli } from './helpers/cli.ts';
import { startTestServer } from './helpers/server.ts';
import { buildPlan, planInputFromSnapshot, readPlan, writePlan } from '../src/plan/index.ts';
import type { PlanFile } from '../src/plan/plan-types.ts';
import { restoreSnapshot } from '../src/snapshot/index.ts';
import { withDatabase } from '../src/db/dsn.ts';
import { ExitCode, type ToolError } from '../src/errors.ts';

const FIXTURE = path.join(REPO_ROOT, 'fixtures', 'small');
let work: string;
let plan: PlanFile;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-inputs-'));
  plan = buildPlan(await planInputFromSnapshot(FIXTURE), { ocs: '2.11.1' });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function variant(name: string, edit: (p: PlanFile) => void): string {
  const copy = structuredClone(plan);
  edit(copy);
  const file = path.join(work, `${name}.yaml`);
  // Written as text: writePlan validates, and these plans are meant to be invalid.
  fs.writeFileSync(file, YAML.stringify(copy, { lineWidth: 0 }));
  return file;
}

describe('plan validation when the plan is read', () => {
  it('the generated plan has corrective steps with before: links, and reads back', () => {
    const file = path.join(work, 'ok.yaml');
    writePlan(file, plan);
    const read = readPlan(file);
    expect(read.steps.some((s) => s.runner.kind === 'corrective-migration')).toBe(true);
    expect(read.steps.some((s) => s.before.length > 0)).toBe(true);
  });

  it('an unknown id in before: is refused (exit 5), naming the step and the id', () => {
    const file = variant('unknown-before', (p) => {
      p.steps.find((s) => s.runner.kind !== 'corrective-migration')!.before.push('no-such-migration');
    });
    try {
      readPlan(file);
      expect.unreachable();
    } catch (err) {
      expect((err as ToolError).exitCode).toBe(ExitCode.VERIFICATION_FAILED);
      expect((err as Error).message).toMatch(/before lists "no-such-migration", which is not a corrective migration/);
    }
  });

  it.each([['../../../../etc/passwd'], ['/etc/passwd'], ['glpi-null-zero-dates/../../x'], ['..']])('a path in migration: (%s) is refused (exit 5)', (bad) => {
    const file = variant('traversal', (p) => {
      const step = p.steps.find((s) => s.runner.kind === 'corrective-migration')!;
      (step.runner as { migration: string }).migration = bad;
    });
    expect(() => readPlan(file)).toThrow(/is not a corrective migration id/);
  });

  it('rehearse refuses such a plan with exit 5 and one line, before starting any server', async () => {
    const file = variant('traversal-cli', (p) => {
      const step = p.steps.find((s) => s.runner.kind === 'corrective-migration')!;
      (step.runner as { migration: string }).migration = '../../secrets';
    });
    const r = await runCli(['rehearse', file, '--snapshot', FIXTURE, '-o', path.join(work, 'run')]);
    expect(r.exitCode).toBe(ExitCode.VERIFICATION_FAILED);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: .* is not a valid plan: step fix-.*: runner\.migration "\.\.\/\.\.\/secrets" is not a corrective migration id/);
    expect(fs.existsSync(path.join(work, 'run'))).toBe(false);
  });
});

describe('audit of an unsupported GLPI version', () => {
  it('GLPI 0.78: exit 11 with one line saying 0.83.x is the oldest source', async () => {
    const server = await startTestServer();
    try {
      const restored = await restoreSnapshot(FIXTURE, server.dsn, { databases: { glpi: `old_glpi_${process.pid}`, ocs: `old_ocs_${process.pid}` } });
      const glpiDb = restored.databases.glpi!;
      const c = await server.connect(glpiDb);
      await c.query("UPDATE glpi_configs SET version = '0.78.5'");
      await c.end();
      const dsn = withDatabase(server.dsn, glpiDb);
      const r = await runCli(['audit', '--glpi', `mysql://root@127.0.0.1:${dsn.port}/${glpiDb}`], { env: { GLPI_DB_PASSWORD: server.dsn.password ?? '' } });
      expect(r.exitCode).toBe(ExitCode.UNSUPPORTED);
      expect(r.stderr).toMatch(/^error: database "old_glpi_\d+" is GLPI 0\.78\.5, older than 0\.83: this tool upgrades GLPI from 0\.83\.x only\nhint: /);
      // The same database at 0.83.8 is audited normally.
      const c2 = await server.connect(glpiDb);
      await c2.query("UPDATE glpi_configs SET version = '0.83.8'");
      await c2.end();
      const ok = await runCli(['audit', '--glpi', `mysql://root@127.0.0.1:${dsn.port}/${glpiDb}`], { env: { GLPI_DB_PASSWORD: server.dsn.password ?? '' } });
      expect([ExitCode.OK, ExitCode.FINDINGS]).toContain(ok.exitCode);
    } finally {
      await server.stop();
    }
  });
});
