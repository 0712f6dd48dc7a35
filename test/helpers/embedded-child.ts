/**
 * A separate process that uses embedded servers, for tests that need their owner to be another process:
 *   hold      start one (not kept), print its record as one JSON line, then wait to be killed;
 *   cycle N   start and stop N instances one after the other, printing one JSON line per attempt.
 * Run with: node --import tsx test/helpers/embedded-child.ts MODE [N]
 */
import { startEmbedded } from '../../src/db/embedded.ts';

const [mode, count] = process.argv.slice(2);
if (mode === 'hold') {
  const inst = await startEmbedded({ name: 'held-by-child' });
  process.stdout.write(`${JSON.stringify(inst.record)}\n`);
  setInterval(() => undefined, 1 << 30);
} else if (mode === 'cycle') {
  for (let i = 0; i < Number(count ?? 1); i++) {
    const t0 = Date.now();
    try {
      const inst = await startEmbedded();
      process.stdout.write(`${JSON.stringify({ ok: true, ms: Date.now() - t0 })}\n`);
      await inst.stop();
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, ms: Date.now() - t0, error: (err as Error).message, hint: (err as { hint?: string }).hint })}\n`);
    }
  }
} else {
  process.stderr.write('usage: embedded-child.ts hold | cycle N\n');
  process.exit(2);
}
