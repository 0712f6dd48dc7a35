/**
 * Private by default (issue 15): what the tool writes holds production data — snapshots, anonymised copies,
 * rehearsal evidence, the embedded servers' datadirs — so nobody but the owner may read it.
 *
 * The CLI sets the process umask to PRIVATE_UMASK at start (src/cli/main.ts): every directory it or its
 * children create is then 0700 and every file 0600. `ensurePrivateDir` covers the one case the umask cannot:
 * an output directory that already existed with wider rights.
 */
import fs from 'node:fs';

export const PRIVATE_UMASK = 0o077;

/**
 * Creates `dir` (and its missing parents) mode 0700, or narrows an existing directory owned by this user to
 * 0700. A directory owned by someone else is left as it is (it is theirs to protect).
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
  if (mine && (st.mode & 0o077) !== 0) fs.chmodSync(dir, st.mode & 0o700);
}
