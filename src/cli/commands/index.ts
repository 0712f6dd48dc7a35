/**
 * The list of commands. Each module owns one command (or command group) and exports `register(program)`.
 */
import type { Command } from 'commander';
import { register as inspect } from './inspect.ts';
import { register as audit } from './audit.ts';
import { register as instance } from './instance.ts';
import { register as snapshot } from './snapshot.ts';
import { register as verify } from './verify.ts';
import { register as restore } from './restore.ts';
import { register as dossier } from './dossier.ts';
import { register as dat } from './dat.ts';
import { register as fixtures } from './fixtures.ts';
import { register as plan } from './plan.ts';
import { register as rehearse } from './rehearse.ts';
import { register as demo } from './demo.ts';
import { register as anonymize } from './anonymize.ts';
import { register as functional } from './functional.ts';
import { register as apply } from './apply.ts';
import { register as rollback } from './rollback.ts';

export function registerCommands(program: Command): void {
  inspect(program);
  audit(program);
  plan(program);
  rehearse(program);
  apply(program);
  rollback(program);
  demo(program);
  instance(program);
  snapshot(program);
  verify(program);
  restore(program);
  dossier(program);
  dat(program);
  fixtures(program);
  anonymize(program);
  functional(program);
}
