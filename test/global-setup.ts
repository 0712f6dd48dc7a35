/**
 * Runs once around the whole suite: after it, no embedded instance started by the suite may be left
 * running (each test process also kills its own on exit; this sweeps up after crashed workers).
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

export default function setup(): () => Promise<void> {
  const dir = path.join(os.tmpdir(), `gou-test-state-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  process.env.GOU_STATE_DIR = dir;
  return async () => {
    const { cleanStaleInstances, listInstances } = await import('../src/db/embedded.ts');
    // Workers have exited by now: every instance they owned is stale.
    cleanStaleInstances(dir);
    const left = listInstances(dir).filter((r) => r.alive);
    for (const r of left) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    if (left.length) throw new Error(`${left.length} embedded instance(s) were still running after the suite`);
  };
}
