/**
 * `npm run bench -- NAME [options]`: runs one registered benchmark (or all with `all`) and prints its figures
 * (`--json` for the raw result). To add a benchmark, add one entry to BENCHMARKS.
 *
 *   npm run bench -- snapshot --computers 5000 --jobs 2
 *   npm run bench -- list
 */
import { benchSnapshot, parseArgs, printSnapshotBench } from './snapshot.ts';

export interface Benchmark {
  name: string;
  description: string;
  /** Runs the benchmark with the command-line arguments after its name; prints as it goes; returns the result. */
  run(argv: string[], log: (s: string) => void): Promise<unknown>;
}

export const BENCHMARKS: Benchmark[] = [
  {
    name: 'snapshot',
    description: 'snapshot + restore vs mariadb-dump|gzip, gunzip|mariadb, mydumper/myloader (--computers N, --jobs N)',
    async run(argv, log) {
      const { computers, jobs } = parseArgs(argv);
      const r = await benchSnapshot(computers, jobs, log);
      if (!argv.includes('--json')) printSnapshotBench(r, (s) => console.log(s));
      return r;
    },
  },
  {
    name: 'anonymize',
    description: 'anonymization throughput vs a plain restore (--computers N, --jobs N)',
    async run(argv, log) {
      const { benchAnonymize } = await import('./anonymize.ts');
      const { computers, jobs } = parseArgs(argv);
      const r = await benchAnonymize(computers, jobs, log);
      if (!argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
      return r;
    },
  },
  {
    name: 'rehearse',
    description: 'rehearse overhead on the OCS path vs the same SQL files fed to `mariadb --force` (--computers N, --fixture DIR, --rounds N)',
    async run(argv, log) {
      const { benchRehearse, parseRehearseArgs, printRehearseBench } = await import('./rehearse-overhead.ts');
      const r = await benchRehearse(parseRehearseArgs(argv), log);
      if (!argv.includes('--json')) printRehearseBench(r, (s) => console.log(s));
      return r;
    },
  },
  {
    name: 'apply',
    description: 'apply minus its backup vs the rehearsal of the same plan, on an unmarked embedded "production" (--fixture DIR)',
    async run(argv, log) {
      const { benchApply, printApplyBench } = await import('./apply.ts');
      const r = await benchApply(argv, log);
      if (!argv.includes('--json')) printApplyBench(r, (s) => console.log(s));
      return r;
    },
  },
];

async function main(): Promise<number> {
  const [name = 'list', ...rest] = process.argv.slice(2);
  if (name === 'list' || name === '--help' || name === '-h') {
    console.log('usage: npm run bench -- NAME [options] [--json]   (NAME "all" runs every benchmark)\n');
    for (const b of BENCHMARKS) console.log(`  ${b.name.padEnd(12)} ${b.description}`);
    return 0;
  }
  const chosen = name === 'all' ? BENCHMARKS : BENCHMARKS.filter((b) => b.name === name);
  if (chosen.length === 0) {
    console.error(`error: unknown benchmark "${name}" (known: ${BENCHMARKS.map((b) => b.name).join(', ')})`);
    return 2;
  }
  const json = rest.includes('--json');
  const log = (s: string) => {
    if (!json) console.error(s);
  };
  const results: Record<string, unknown> = {};
  for (const b of chosen) results[b.name] = await b.run(rest, log);
  if (json) console.log(JSON.stringify(chosen.length === 1 ? results[chosen[0].name] : results, null, 2));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
