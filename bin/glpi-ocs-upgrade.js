#!/usr/bin/env node
// Thin executable: load the CLI (bundled, or the TypeScript sources through tsx: see bundle.js) and run it.
import { loadCli } from './bundle.js';

const { main } = await loadCli();
process.exitCode = await main(process.argv);
