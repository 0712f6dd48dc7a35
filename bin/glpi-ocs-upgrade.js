#!/usr/bin/env node
// Thin executable: load the CLI (bundled, or the TypeScript sources through tsx: see bundle.js) and run it.
import { loadCli } from './bundle.js';

// Output into a closed pipe (`glpi-ocs-upgrade audit --help | head -3`) ends quietly: the reader has seen what
// it wanted, so further output is dropped and the command finishes with its own exit code, without a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err?.code === 'EPIPE' || err?.code === 'ERR_STREAM_DESTROYED') {
      stream.write = () => true;
      return;
    }
    throw err;
  });
}

const { main } = await loadCli();
process.exitCode = await main(process.argv);
