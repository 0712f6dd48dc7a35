/**
 * What every command action needs: the global flags turned into an Output.
 */
import type { Command } from 'commander';
import type { GlobalFlags, Output } from './output.ts';
import { createOutput } from './output.ts';

export function outputFor(cmd: Command): Output {
  return createOutput(cmd.optsWithGlobals() as GlobalFlags);
}
