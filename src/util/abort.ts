/**
 * Ending awaited work early. mysql2 fails the query in flight when the server closes a connection, but not
 * when the tool destroys it (after a failure elsewhere, or Ctrl-C): code that destroys connections to stop
 * parallel work races each query against an AbortSignal so that no worker waits forever.
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

