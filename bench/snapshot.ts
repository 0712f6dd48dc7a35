/**
 * Snapshot / restore benchmark: our `snapshot` and `restore` against `mariadb-dump --single-transaction --quick
 * | gzip`, `gunzip | mariadb`, and mydumper / myloader, in the same run, on the same embedded server, with the
 * same parallelism. Every tool runs as a separate process under GNU time (wall time and peak RSS).
 *
 *   npm run bench -- snapshot [--computers 5000] [--jobs N] [--json]
 *
 * Figures are recorded in docs/benchmarks.md ("Snapshot and restore").
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import mysql from 'mysql2/promise';
import YAML from 'yaml';
import { startEmbedded } from '../src/db/embedded.ts';
import { defaultJobs } from '../src/snapshot/index.ts';
import { generateBenchData } from './snapshot-data.ts';

export interface Measure {
  name: string;
  kind: 'snapshot' | 'restore';
  wallS: number | null;
  peakRssMb: number | null;
  outputMb?: number;
  note?: string;
}

export interface SnapshotBenchResult {
  computers: number;
  rows: number;
  jobs: number;
  generateS: number;
  machine: string;
  server: string;
  measures: Measure[];
  ratios: Record<string, number | null>;
  /** Our snapshot (gzip -1): seconds production writes were held by its lock, request to release. */
  lockHeldS?: number;
}

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(REPO, 'bin', 'glpi-ocs-upgrade.js');

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const p = path.join(dir, cmd);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

/** Runs a shell command under GNU time; returns wall seconds and peak RSS (MB) of the biggest process. */
async function timed(shell: string, env: Record<string, string> = {}): Promise<{ wallS: number; peakRssMb: number | null }> {
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const marker = path.join(os.tmpdir(), `gou-bench-time-${process.pid}-${Date.now()}`);
  const t0 = process.hrtime.bigint();
  const cmd = timeBin ? [timeBin, '-f', '%M', '-o', marker, 'bash', '-o', 'pipefail', '-c', shell] : ['bash', '-o', 'pipefail', '-c', shell];
  const r = await execa(cmd[0], cmd.slice(1), { reject: false, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.exitCode !== 0) fs.rmSync(marker, { force: true });
  if (r.exitCode !== 0) throw new Error(`benchmark step failed (exit ${r.exitCode}): ${shell}\n${String(r.stderr).slice(-2000)}`);
  let peakRssMb: number | null = null;
  if (timeBin) {
    const kb = Number(fs.readFileSync(marker, 'utf8').trim().split('\n').pop());
    peakRssMb = Number.isFinite(kb) ? Math.round(kb / 1024) : null;
    fs.rmSync(marker, { force: true });
  }
  return { wallS, peakRssMb };
}

function dirMb(p: string): number {
  let n = 0;
  const st = fs.statSync(p);
  if (st.isFile()) return st.size / 1048576;
  for (const e of fs.readdirSync(p)) n += dirMb(path.join(p, e)) * 1048576;
  return n / 1048576;
}

function q(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

export async function benchSnapshot(computers: number, jobs: number, log: (s: string) => void = () => undefined): Promise<SnapshotBenchResult> {
  // Measure the CLI as `npm ci` installs it: bundled (a stale bundle would run the sources through tsx,
  // whose start-up adds about 0.4 s to every command).
  await execa(process.execPath, [path.join(REPO, 'bin', 'build.js')]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gou-bench-snap-'));
  const inst = await startEmbedded({
    name: 'bench-snapshot',
    settings: { innodbBufferPoolSize: '2G', extraArgs: ['--key-buffer-size=512M', '--innodb-log-buffer-size=64M'] },
  });
  const sock = inst.record.socket;
  const G = 'bench_glpi';
  const O = 'bench_ocs';
  const measures: Measure[] = [];
  let lockHeldS: number | undefined;
  try {
    const c = await mysql.createConnection({ socketPath: sock, user: 'root', password: inst.dsn.password });
    log(`generating ${computers} computers (GLPI 0.83.8 / OCS 2.1-like)…`);
    const g0 = Date.now();
    const rows = await generateBenchData(c, G, O, computers, log);
    const generateS = (Date.now() - g0) / 1000;
    log(`generated ${rows} rows in ${generateS.toFixed(1)} s`);
    const dropTargets = async (names: string[]) => {
      for (const n of names) await c.query(`DROP DATABASE IF EXISTS \`${n}\``);
    };
    const node = `${q(process.execPath)} ${q(BIN)}`;
    const dsn = (db: string) => q(`mysql://root@localhost/${db}?socket=${sock}`);
    const env = { MYSQL_PWD: inst.dsn.password ?? '' };
    const client = `-S ${q(sock)} -u root`;

    // --- snapshots
    for (const level of [1, 6]) {
      const out = path.join(tmp, `ours-l${level}`);
      log(`our snapshot, gzip -${level}, ${jobs} jobs…`);
      // The bench measures; the lock limit protects production. On a loaded machine the lock outlasts the default
      // 60 s (docs/benchmarks.md), so the limit is raised here and the lock's length reported instead.
      const m = await timed(`${node} --quiet snapshot --glpi ${dsn(G)} --ocs ${dsn(O)} -o ${q(out)} --jobs ${jobs} --compression-level ${level} --max-lock-seconds 900`, env);
      // How long production writes were held (lock request to release) and by which method: from the manifest.
      const doc = YAML.parse(fs.readFileSync(path.join(out, 'manifest.yaml'), 'utf8')) as { consistency: { method: string; lockHeldMs: number; longestWriteWaitMs?: number | null } };
      const c = doc.consistency;
      measures.push({
        name: `glpi-ocs-upgrade snapshot (gzip -${level})`,
        kind: 'snapshot',
        ...m,
        outputMb: dirMb(out),
        note: `${c.method}, writes held ${(c.lockHeldMs / 1000).toFixed(2)} s`,
      });
      lockHeldS ??= c.lockHeldMs / 1000;
    }
    for (const level of [6, 1]) {
      const out = path.join(tmp, `dump-l${level}.sql.gz`);
      log(`mariadb-dump | gzip -${level}…`);
      const m = await timed(`mariadb-dump ${client} --single-transaction --quick --databases ${G} ${O} | gzip -${level} > ${q(out)}`, env);
      measures.push({ name: `mariadb-dump --single-transaction --quick | gzip -${level}`, kind: 'snapshot', ...m, outputMb: dirMb(out) });
    }
    const mydumper = which('mydumper');
    const myloader = which('myloader');
    if (mydumper) {
      const out = path.join(tmp, 'mydumper');
      log('mydumper…');
      const m = await timed(`${q(mydumper)} ${client} -t ${jobs} --compress --rows 100000 --regex ${q(`^(${G}|${O})\\.`)} -o ${q(out)}`, env);
      measures.push({ name: `mydumper -t ${jobs} --compress --rows 100000 (gzip -6)`, kind: 'snapshot', ...m, outputMb: dirMb(out) });
    } else {
      measures.push({ name: 'mydumper', kind: 'snapshot', wallS: null, peakRssMb: null, note: 'MISSING: mydumper is not installed (apt-get install mydumper)' });
    }

    // --- restores (ours into other names; the baselines recreate the source names, so drop them first)
    log(`our restore, ${jobs} jobs…`);
    const restored = await timed(
      `${node} --quiet restore ${q(path.join(tmp, 'ours-l1'))} --instance ${q(`mysql://root@localhost/?socket=${sock}`)} --glpi-db r_glpi --ocs-db r_ocs --force --jobs ${jobs}`,
      env,
    );
    measures.push({ name: 'glpi-ocs-upgrade restore (incl. sha256 verify + digest of every table read back)', kind: 'restore', ...restored });
    await dropTargets(['r_glpi', 'r_ocs']);
    log('gunzip | mariadb…');
    await dropTargets([G, O]);
    const base = await timed(`gunzip < ${q(path.join(tmp, 'dump-l6.sql.gz'))} | mariadb ${client}`, env);
    measures.push({ name: 'gunzip < dump.sql.gz | mariadb', kind: 'restore', ...base });
    if (mydumper && myloader) {
      log('myloader…');
      await dropTargets([G, O]);
      const m = await timed(`${q(myloader)} ${client} -t ${jobs} -o -d ${q(path.join(tmp, 'mydumper'))}`, env);
      measures.push({ name: `myloader -t ${jobs} -o`, kind: 'restore', ...m });
    } else {
      measures.push({ name: 'myloader', kind: 'restore', wallS: null, peakRssMb: null, note: 'MISSING: myloader is not installed (apt-get install mydumper)' });
    }
    await c.end();

    const w = (prefix: string) => measures.find((m) => m.name.startsWith(prefix))?.wallS ?? null;
    const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? Math.round((a / b) * 100) / 100 : null);
    const ours1 = w('glpi-ocs-upgrade snapshot (gzip -1)');
    const ours6 = w('glpi-ocs-upgrade snapshot (gzip -6)');
    const ratios = {
      'snapshot gzip-1 / mariadb-dump|gzip-6 (target ≤ 0.6)': ratio(ours1, w('mariadb-dump --single-transaction --quick | gzip -6')),
      'snapshot gzip-1 / mariadb-dump|gzip-1': ratio(ours1, w('mariadb-dump --single-transaction --quick | gzip -1')),
      'snapshot gzip-6 / mydumper (same threads, gzip-6; target ≤ 1.1)': ratio(ours6, w('mydumper -t')),
      'snapshot gzip-1 / mydumper': ratio(ours1, w('mydumper -t')),
      'restore / gunzip|mariadb (target ≤ 0.5)': ratio(w('glpi-ocs-upgrade restore'), w('gunzip')),
      'restore / myloader (target ≤ 1.1)': ratio(w('glpi-ocs-upgrade restore'), w('myloader -t')),
    };
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    return {
      computers,
      rows,
      jobs,
      generateS,
      machine: `${os.cpus().length} vCPU ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
      server: inst.record.serverVersion,
      measures,
      ratios,
      lockHeldS,
    };
  } finally {
    await inst.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function printSnapshotBench(r: SnapshotBenchResult, print: (s: string) => void): void {
  print(`\nSnapshot / restore benchmark: ${r.computers} computers, ${r.rows.toLocaleString('en-US')} rows, ${r.jobs} jobs`);
  print(`machine: ${r.machine}; server ${r.server}; data generated in ${r.generateS.toFixed(1)} s\n`);
  const rows = r.measures.map((m) => [
    m.kind,
    m.name,
    m.wallS === null ? '—' : m.wallS.toFixed(1),
    m.outputMb === undefined ? '' : m.outputMb.toFixed(1),
    m.peakRssMb === null ? '—' : String(m.peakRssMb),
    m.note ?? '',
  ]);
  const head = ['step', 'tool', 'wall s', 'out MB', 'peak RSS MB', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  print(line(head));
  print(widths.map((x) => '-'.repeat(x)).join('  '));
  for (const row of rows) print(line(row));
  print('');
  for (const [k, v] of Object.entries(r.ratios)) print(`${k}: ${v === null ? 'n/a (tool missing)' : v}`);
  if (r.lockHeldS !== undefined) print(`our snapshot held production writes for ${r.lockHeldS.toFixed(2)} s (lock request to release, gzip -1)`);
}

export function parseArgs(argv: string[]): { computers: number; jobs: number } {
  const get = (name: string, fallback: number) => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : fallback;
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
    return v;
  };
  return { computers: get('computers', 5000), jobs: get('jobs', defaultJobs()) };
}
