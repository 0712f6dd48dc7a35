/**
 * Process identity and stopping: a pid alone can be reused, so a process is named by its pid and its start
 * time (field 22 of /proc/<pid>/stat, in clock ticks since boot). Used by the run locks (is the holder still
 * alive?) and to stop an updater left running by a killed rehearsal.
 */
import fs from 'node:fs';

/** Start time of `pid` (clock ticks since boot), or undefined when there is no such process (or no /proc). */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Is `pid` alive and (when `startTime` is known) still the same process? A zombie counts as dead. */
export function isSameProcessAlive(pid: number, startTime?: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // No /proc: only kill(0) is known.
    return startTime === undefined;
  }
  if (startTime === undefined) return true;
  return processStartTime(pid) === startTime;
}

/** Command line of `pid` (for messages), or undefined. */
export function processCommand(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 200);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends `signal` to the process group led by `pid`, or to `pid` alone when it has no group of its own; silent when gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/**
 * Stops the process group led by `pid` (started with its own group), if that process is still the one
 * recorded: SIGTERM, then SIGKILL after `graceMs`. Returns the signal that ended it, or undefined if it was
 * already gone.
 */
export async function stopProcessGroup(pid: number, startTime: number | undefined, graceMs = 5000): Promise<'SIGTERM' | 'SIGKILL' | undefined> {
  if (!isSameProcessAlive(pid, startTime)) return undefined;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isSameProcessAlive(pid, startTime)) return 'SIGTERM';
    await sleep(100);
  }
  signalGroup(pid, 'SIGKILL');
  for (let i = 0; i < 50 && isSameProcessAlive(pid, startTime); i++) await sleep(100);
  return 'SIGKILL';
}
