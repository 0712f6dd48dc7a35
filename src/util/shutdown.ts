/**
 * Process-wide cleanup: hooks that must run however the process ends (normal exit, Ctrl-C, SIGTERM,
 * uncaught error). Hooks are synchronous so that they also run from the 'exit' event.
 */

type Hook = () => void;

const hooks = new Map<number, Hook>();
let nextId = 1;
let installed = false;
let interruptedBy: NodeJS.Signals | undefined;
const interruptListeners = new Set<(signal: NodeJS.Signals) => void>();

function runHooks(): void {
  for (const [id, hook] of [...hooks].reverse()) {
    hooks.delete(id);
    try {
      hook();
    } catch {
      /* best effort: keep cleaning */
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runHooks);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (interruptedBy) {
        // Second signal: stop now.
        runHooks();
        process.exit(130);
      }
      interruptedBy = signal;
      if (interruptListeners.size > 0) {
        // A long-running command asked to be told: it will stop at the next safe point and exit 130 itself.
        for (const listener of interruptListeners) listener(signal);
        return;
      }
      runHooks();
      // A test runner stopping its worker processes is not a user's Ctrl-C.
      if (!process.env.VITEST_WORKER_ID) process.stderr.write(`\ninterrupted (${signal})\n`);
      process.exit(130);
    });
  }
}

/** Registers a synchronous cleanup hook; returns a function that removes it. */
export function onShutdown(hook: Hook): () => void {
  install();
  const id = nextId++;
  hooks.set(id, hook);
  return () => hooks.delete(id);
}

/**
 * Lets a command handle Ctrl-C itself (finish or abandon the current unit of work, write its journal).
 * While at least one listener is registered, the first signal only calls the listeners.
 */
export function onInterrupt(listener: (signal: NodeJS.Signals) => void): () => void {
  install();
  interruptListeners.add(listener);
  return () => interruptListeners.delete(listener);
}

export function wasInterrupted(): NodeJS.Signals | undefined {
  return interruptedBy;
}

/** Runs the hooks now (used by the CLI before it exits on an error). */
export function runShutdownHooks(): void {
  runHooks();
}
