/**
 * Issue 16: the embedded server starts every time. Two processes each start and stop 10 servers, one after
 * the other, while busy loops keep both cores loaded — the conditions under which `mariadb-install-db`
 * used to fail (each starting server deletes the `#sql*` temporary files in its tmpdir, and the bootstraps
 * shared /tmp). 20 of 20 must start.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './helpers/shared.ts';

const CHILD = path.join(REPO_ROOT, 'test', 'helpers', 'embedded-child.ts');

describe('embedded server start under load', () => {
  it('20 of 20 servers start, two at a time, from two processes, with both cores busy', async () => {
    const burners: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    try {
      const runs = await Promise.all(
        [0, 1].map(() => execa(process.execPath, ['--import', 'tsx', CHILD, 'cycle', '10'], { cwd: REPO_ROOT, reject: false, timeout: 280_000, env: { GOU_STATE_DIR: process.env.GOU_STATE_DIR } })),
      );
      const attempts = runs.flatMap((r) =>
        String(r.stdout)
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { ok: boolean; ms: number; error?: string; hint?: string }),
      );
      const failures = attempts.filter((a) => !a.ok);
      expect(failures).toEqual([]);
      expect(attempts.filter((a) => a.ok).length).toBe(20);
    } finally {
      for (const b of burners) if (b.pid) process.kill(b.pid, 'SIGKILL');
    }
  }, 300_000);
});
