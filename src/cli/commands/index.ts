/**
 * The list of commands. Each module owns one command (or command group) and exports `register(program)`.
 */
import type { Command } from 'commander';
import { register as inspect } from './inspect.ts';
import { register as instance } from './instance.ts';

export function registerCommands(program: Command): void {
  inspect(program);
  instance(program);
}
