/**
 * Stopping parallel database work at the first failure. mysql2 fails the query in flight when the server
 * closes a connection, but not when the tool destroys it (it half-closes; a reader paused by back-pressure
 * then waits forever): so a Stopper destroys every connection it was given AND fires an AbortSignal that
 * every awaited query races (`run`).
 */

/** `work`, or the abort reason as soon as `signal` fires (what `work` does afterwards is ignored). */
export function untilStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export class Stopper {
  private readonly controller = new AbortController();
  private readonly destroyables = new Set<{ destroy(): void }>();
  private first: unknown;

  /** The first error given to stop(); undefined while the work goes on. */
  get failure(): unknown {
    return this.first;
  }

  /** Something to destroy on stop (a connection, a file writer); removed with `release`. */
  track<T extends { destroy(): void }>(thing: T): T {
    this.destroyables.add(thing);
    return thing;
  }

  release(thing: { destroy(): void }): void {
    this.destroyables.delete(thing);
  }

  /** Records the first failure, fires the signal, destroys everything tracked. */
  stop(err: unknown): void {
    if (this.first === undefined) this.first = err;
    this.controller.abort(this.first);
    for (const d of this.destroyables) {
      try {
        d.destroy();
      } catch {
        /* gone */
      }
    }
  }

  /** `work`, or the first failure as soon as stop() is called. */
  run<T>(work: Promise<T>): Promise<T> {
    return untilStopped(work, this.controller.signal);
  }
}
