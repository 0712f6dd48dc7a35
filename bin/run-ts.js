#!/usr/bin/env node
// Runs a TypeScript script of this repository (benchmarks, maintenance scripts) with the tsx loader.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

register();
const script = process.argv[2];
if (!script) {
  console.error('usage: node bin/run-ts.js SCRIPT.ts [args…]');
  process.exit(2);
}
process.argv.splice(1, 1);
await import(pathToFileURL(path.resolve(script)).href);
