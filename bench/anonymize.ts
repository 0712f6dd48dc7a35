/**
 * Anonymization throughput on a generated GLPI 0.83.8 + OCS 2.1 snapshot, against a plain restore of the same
 * snapshot measured in the same run, on the same embedded server. `anonymize` restores, rewrites and
 * snapshots only the tables with rules, and copies the other tables' files.
 *
 *   node bin/run-ts.js bench/anonymize.ts [--computers 5000] [--jobs N] [--json]
 *
 * Figures are recorded in docs/benchmarks.md ("Anonymization").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { startEmbedded } from '../src/db/embedded.ts';
import { generateFixtures, writeFixtureSnapshot } from '../src/synthetic/index.ts';
import { defaultJobs, restoreSnapshot } from '../src/snapshot/index.ts';
import { anonymizeSnapshot } from '../src/anonymize/index.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

export interface AnonymizeBenchResult {
  computers: number;
  jobs: number;
  rows: number;
  valuesChanged: number;
  columns: number;
  plainRestoreMs: number;
  /**
   * restore, rewrite (rules, then free text) and new snapshot of the tables with rules; copyMs (the other tables'
   * files) overlaps them; sweepMs is the sweep of the new tables and the wait for the sweep of the copied ones.
   */
  anonymize: { totalMs: number; restoreMs: number; anonymizeMs: number; snapshotMs: number; copyMs: number; sweepMs: number };
  sweep: { remaining: number; scannedBytes: number; columns: number; elapsedMs: number };
  /** The 1-minute load average before and after the run (the machine may be shared). */
  load: [number, number];
  tables: { rewritten: number; copied: number };
  ratioToRestore: number;
  machine: string;
}

export async function benchAnonymize(computers: number, jobs: number, log: (s: string) => void = () => undefined): Promise<AnonymizeBenchResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-bench-anon-'));
  const inst = await startEmbedded({ name: 'bench-anonymize' });
  const loadBefore = os.loadavg()[0];
  try {
    log(`generating ${computers} computers…`);
    const gen = await generateFixtures(inst.dsn, { seed: 1, computers, hazards: 'all', glpiDb: 'bench_glpi', ocsDb: 'bench_ocs' });
    const inDir = path.join(tmp, 'in');
    const manifest = await writeFixtureSnapshot(inst.dsn, gen, inDir, { jobs, compressionLevel: 1 });
    const rows = manifest.databases.reduce((s, d) => s + d.tables.reduce((t, x) => t + x.rows, 0), 0);

    log('plain restore…');
    const t0 = Date.now();
    await restoreSnapshot(inDir, inst.dsn, { databases: { glpi: 'bench_plain_glpi', ocs: 'bench_plain_ocs' }, jobs });
    const plainRestoreMs = Date.now() - t0;

    log('anonymize (restore + rewrite + snapshot of the tables with rules, copy of the others, sweep)…');
    const salt = crypto.randomBytes(32).toString('hex');
    const r = await anonymizeSnapshot(inDir, path.join(tmp, 'out'), { salt, instance: inst.dsn, jobs });
    const sw = r.report.sweep!;
    return {
      computers,
      jobs,
      rows,
      valuesChanged: r.report.totals.rowsChanged,
      columns: r.report.totals.columns,
      plainRestoreMs,
      anonymize: r.timings,
      sweep: { remaining: sw.remaining, scannedBytes: sw.scanned.bytes, columns: sw.scanned.columns, elapsedMs: sw.elapsedMs },
      load: [loadBefore, os.loadavg()[0]],
      tables: r.tables,
      ratioToRestore: r.timings.totalMs / plainRestoreMs,
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, MariaDB ${inst.record.serverVersion}`,
    };
  } finally {
    await inst.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'anonymize.ts'));
if (isMain) {
  const computers = arg('computers', 5000);
  const jobs = arg('jobs', defaultJobs());
  const r = await benchAnonymize(computers, jobs, (s) => process.stderr.write(`${s}\n`));
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`computers ${computers}, rows ${r.rows}, jobs ${r.jobs} — ${r.machine}`);
    console.log(`plain restore            ${s(r.plainRestoreMs)}`);
    console.log(`anonymize, total         ${s(r.anonymize.totalMs)}  (${r.ratioToRestore.toFixed(2)}× the plain restore)`);
    console.log(`  tables                 ${r.tables.rewritten} rewritten, ${r.tables.copied} copied unchanged (copy ${s(r.anonymize.copyMs)}, alongside)`);
    console.log(`  restore                ${s(r.anonymize.restoreMs)}`);
    console.log(
      `  rewrite                ${s(r.anonymize.anonymizeMs)}  (${r.valuesChanged} values in ${r.columns} columns, ${Math.round(r.valuesChanged / (r.anonymize.anonymizeMs / 1000))} values/s)`,
    );
    console.log(`  new snapshot           ${s(r.anonymize.snapshotMs)}`);
    console.log(
      `  sweep (after)          ${s(r.anonymize.sweepMs)}  (${r.sweep.columns} text columns, ${Math.round(r.sweep.scannedBytes / 2 ** 20)} MiB of data, ${r.sweep.remaining} hit(s) left; ${s(r.sweep.elapsedMs)} from its start, alongside)`,
    );
    console.log(`load average (1 min)     ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)}`);
  }
}
