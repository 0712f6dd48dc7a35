/**
 * The DAT (dossier d'architecture technique) skeleton, filled with what the tool knows from a run
 * directory (snapshot manifest, plan, audit) or a snapshot directory alone. What it cannot know is an
 * explicit "À compléter" marker with a hint. Pure: same inputs → same bytes.
 */
import { render } from '../i18n/render.ts';
import type { ReportInputs } from './inputs.ts';
import type { RenderOptions } from './dossier.ts';
import { bytes, entry, planNotes, stepTitle, stringsFor, text } from './format.ts';
import type { Strings } from './i18n/fr.ts';
import { bullets, code, doc, esc, fence, heading, numbered, redact, table } from './md.ts';
import type { Manifest, ManifestDatabase } from '../snapshot/manifest-types.ts';
import type { PlanFile, PlanStep } from '../plan/plan-types.ts';
import type { FindingsFile } from '../audit/finding-types.ts';
import { compareDotted } from '../catalog/version.ts';
import type { JournalEvent, RunSummary } from '../rehearse/run-types.ts';
import { duration } from './format.ts';
import { numberHeadings } from './dossier.ts';
import { polish } from './typography.ts';

/** OCS tables the connector reads, with the CHECKSUM section bit that triggers a re-read (ocsinventoryng). */
const OCS_TABLES: Array<[string, string]> = [
  ['hardware', '—'],
  ['accountinfo', '—'],
  ['bios', '0x2'],
  ['memories', '0x4'],
  ['slots', '0x8'],
  ['registry', '0x10'],
  ['controllers', '0x20'],
  ['monitors', '0x40'],
  ['ports', '0x80'],
  ['storages', '0x100'],
  ['drives', '0x200'],
  ['inputs', '0x400'],
  ['modems', '0x800'],
  ['networks', '0x1000'],
  ['printers', '0x2000'],
  ['sounds', '0x4000'],
  ['videos', '0x8000'],
  ['softwares', '0x10000'],
  ['software', '0x10000'],
  ['virtualmachines', '0x20000'],
  ['cpus', '0x40000'],
  ['sim', '0x80000'],
  ['config', '—'],
  ['deleted_equiv', '—'],
];

const GLPI_CONNECTOR_TABLES = [
  'glpi_ocsservers',
  'glpi_ocslinks',
  'glpi_ocsadmininfoslinks',
  'glpi_registrykeys',
  'glpi_plugin_ocsinventoryng_ocsservers',
  'glpi_plugin_ocsinventoryng_ocslinks',
  'glpi_plugin_ocsinventoryng_ocsadmininfoslinks',
  'glpi_plugin_ocsinventoryng_registrykeys',
  'glpi_computers',
];

/** The tool's own commands quoted by the DAT (see docs/runbook.md). Addresses carry no password. */
const CMD = {
  snapshot: 'glpi-ocs-upgrade snapshot --glpi mysql://glpi@DB_HOST/GLPI_DB --ocs mysql://ocs@DB_HOST/OCS_DB --defaults-file /etc/glpi-ocs-upgrade/backup.cnf -o SNAPSHOT_DIR',
  verify: 'glpi-ocs-upgrade verify SNAPSHOT_DIR',
  restoreTest: 'glpi-ocs-upgrade restore SNAPSHOT_DIR',
  mark: 'glpi-ocs-upgrade instance mark --instance mysql://root@DB_HOST:3306/ --confirm DB_HOST:3306',
  restoreProd: 'glpi-ocs-upgrade restore SNAPSHOT_DIR --instance mysql://root@DB_HOST:3306/ --force',
  audit: 'glpi-ocs-upgrade audit SNAPSHOT_DIR -o findings.yaml',
  plan: 'glpi-ocs-upgrade plan SNAPSHOT_DIR --findings findings.yaml -o plan.yaml',
  rehearse: 'glpi-ocs-upgrade rehearse plan.yaml --snapshot SNAPSHOT_DIR --findings findings.yaml -o RUN_DIR --glpi-dist GLPI_DIST --ocs-dist OCS_DIST --plugin-dist PLUGIN_DIST',
  documents: 'glpi-ocs-upgrade dossier RUN_DIR\nglpi-ocs-upgrade dat RUN_DIR',
};

const todo = (s: Strings, what: string, hint: string) => `**${s.todo}** — ${what}${s.lang === 'fr' ? ' ;' : ';'} ${hint}.`;
const todoCell = (s: Strings, hint: string) => `**${s.todo}** (${hint})`;

interface Parts {
  run?: RunSummary;
  journal?: JournalEvent[];
  manifest?: Manifest;
  plan?: PlanFile;
  findings?: FindingsFile;
  runId?: string;
  date: string;
  tool: string;
}

function parts(inputs: ReportInputs): Parts {
  if (inputs.kind === 'run') {
    const r = inputs.run;
    return {
      run: r,
      journal: inputs.journal,
      manifest: inputs.manifest,
      plan: inputs.plan,
      findings: inputs.findings,
      runId: r.runId,
      date: r.finishedAt ?? r.startedAt,
      tool: `${r.tool.name} ${r.tool.version}`,
    };
  }
  const m = inputs.manifest;
  return { manifest: m, date: m.createdAt, tool: `${m.tool.name} ${m.tool.version}` };
}

function db(p: Parts, role: 'glpi' | 'ocs'): ManifestDatabase | undefined {
  return p.manifest?.databases.find((d) => d.role === role);
}

function rowsOf(d: ManifestDatabase | undefined, table: string): number | undefined {
  return d?.tables.find((t) => t.name === table)?.rows;
}

function dbBytes(d: ManifestDatabase): number {
  return d.tables.reduce((a, t) => a + t.files.reduce((b, f) => b + f.bytes, 0), 0);
}

function lastRequirement(plan: PlanFile | undefined, product: 'glpi' | 'ocs', key: 'php'): string | undefined {
  const steps = (plan?.steps ?? []).filter((s) => s.product === product && s.requires[key]);
  return steps.length ? steps[steps.length - 1].requires[key] : undefined;
}

function maxServer(plan: PlanFile | undefined): string | undefined {
  const parts: string[] = [];
  for (const k of ['mariadb', 'mysql'] as const) {
    const vs = (plan?.steps ?? []).map((s) => s.requires[k]).filter((v): v is string => Boolean(v));
    if (vs.length) parts.push(`${k === 'mariadb' ? 'MariaDB' : 'MySQL'} ≥ ${vs.sort(compareDotted)[vs.length - 1]}`);
  }
  return parts.length ? parts.join(' / ') : undefined;
}

function currentVersions(s: Strings, p: Parts): { glpi: string; ocs: string } {
  const g = db(p, 'glpi');
  const o = db(p, 'ocs');
  return {
    glpi: g?.glpi?.version.version ? `GLPI ${g.glpi.version.version}` : p.plan?.source.glpi?.version ? `GLPI ${p.plan.source.glpi.version}` : s.unknown,
    ocs: o?.ocs?.version.releases?.length
      ? `OCS ${o.ocs.version.releases.join(' / ')} (GUI_VERSION ${o.ocs.version.guiVersion})`
      : p.plan?.source.ocs
        ? `OCS GUI_VERSION ${p.plan.source.ocs.guiVersion}`
        : s.unknown,
  };
}

function mermaid(s: Strings, p: Parts): string {
  const m = s.dat.m;
  const native = p.plan?.targets.connector === 'native';
  const glpiV = p.plan?.targets.glpi ? ` ${p.plan.targets.glpi}` : '';
  const ocsV = p.plan?.targets.ocs ? ` ${p.plan.targets.ocs}` : '';
  const g = db(p, 'glpi')?.name ?? 'glpi';
  const o = db(p, 'ocs')?.name ?? 'ocsweb';
  const q = (t: string) => `"${t.replace(/"/g, "'")}"`;
  const lines = [
    'flowchart LR',
    `  agents[${q(m.agents)}]`,
    `  users[${q(m.users)}]`,
    `  subgraph ocs_srv[${q(m.ocsServer + ocsV)}]`,
    `    comm[${q(m.comm)}]`,
    `    console[${q(m.console)}]`,
    '  end',
    `  ocsdb[(${q(`${m.ocsDb} ${o}`)})]`,
    `  subgraph glpi_srv[${q(m.glpiServer)}]`,
    `    glpi[${q(m.glpi + glpiV)}]`,
    native ? `    inv[${q(m.native)}]` : `    connector[${q(m.connector)}]`,
    '  end',
    `  glpidb[(${q(`${m.glpiDb} ${g}`)})]`,
    native ? `  gagents[${q(m.glpiAgents)}]` : undefined,
    '  agents -- "F1 HTTP(S)" --> comm',
    '  comm -- "F2 SQL" --> ocsdb',
    '  console -- "F3 SQL" --> ocsdb',
    native ? '  gagents -- "F8 HTTP(S)" --> inv' : '  connector -- "F4 SQL" --> ocsdb',
    native ? '  inv --> glpi' : '  connector --> glpi',
    '  glpi -- "F5 SQL" --> glpidb',
    '  users -- "F6 HTTPS" --> glpi',
    '  users -- "F7 HTTPS" --> console',
  ].filter((x): x is string => Boolean(x));
  return fence('mermaid', lines.join('\n'));
}

function flowRows(s: Strings, p: Parts): string[][] {
  const t = s.dat;
  const native = p.plan?.targets.connector === 'native';
  const f = t.flowRows;
  const port = (n: string) => `${n} (${t.defaultPort})`;
  return [
    ['F1', t.m.agents, t.m.comm, port('HTTP(S) 80/443'), f.agents],
    ['F2', t.m.comm, `${t.m.ocsDb} (${code(db(p, 'ocs')?.name ?? 'ocsweb')})`, port('SQL 3306'), f.comm],
    ['F3', t.m.console, t.m.ocsDb, port('SQL 3306'), f.console],
    native ? ['F8', t.m.glpiAgents, t.m.glpi, port('HTTP(S) 443'), f.native] : ['F4', t.m.connector, t.m.ocsDb, port('SQL 3306'), f.connector],
    ['F5', t.m.glpi, `${t.m.glpiDb} (${code(db(p, 'glpi')?.name ?? 'glpi')})`, port('SQL 3306'), f.glpi],
    ['F6', t.m.users, t.m.glpi, port('HTTPS 443'), f.users],
    ['F7', t.m.users, t.m.console, port('HTTPS 443'), f.admins],
  ];
}

function technical(s: Strings, p: Parts): string[] {
  const t = s.dat;
  const cur = currentVersions(s, p);
  const php = lastRequirement(p.plan, 'glpi', 'php');
  const server = maxServer(p.plan);
  const flows = flowRows(s, p);
  return [
    heading(2, t.technical),
    heading(3, t.diagram),
    t.diagramIntro,
    mermaid(s, p),
    s.datx.mermaidNote,
    heading(3, t.platform),
    table(
      [t.component, t.currentVersion, t.targetVersion, t.prerequisites, t.host],
      [
        [
          t.webServer,
          esc(cur.glpi),
          p.plan?.targets.glpi ? `GLPI ${esc(p.plan.targets.glpi)}` : todoCell(s, t.planHintShort),
          php ? t.phpRange(code(php)) : todoCell(s, t.planHintShort),
          todoCell(s, t.hostHint),
        ],
        [t.ocsWeb, esc(cur.ocs), p.plan?.targets.ocs ? `OCS ${esc(p.plan.targets.ocs)}` : todoCell(s, t.planHintShort), t.ocsPrereq, todoCell(s, t.hostHint)],
        [t.dbServer, p.manifest ? esc(p.manifest.source.serverVersion) : s.unknown, server ? esc(server) : todoCell(s, t.planHintShort), '—', todoCell(s, t.hostHint)],
      ],
    ),
    heading(3, t.flows),
    table([t.flowNo, t.flowFrom, t.flowTo, t.flowProto, t.flowContent], flows),
  ];
}

function application(s: Strings, p: Parts): string[] {
  const t = s.dat;
  const out: string[] = [heading(2, t.application), heading(3, t.databases)];
  const cur = currentVersions(s, p);
  if (p.manifest) {
    out.push(
      table(
        [t.dbName, t.dbRole, t.currentVersion, t.targetVersion, s.dossier.tables, s.dossier.rows, t.volume, t.engines, t.collation],
        p.manifest.databases.map((d) => {
          const engines = new Map<string, number>();
          for (const tb of d.tables) engines.set(tb.engine ?? '?', (engines.get(tb.engine ?? '?') ?? 0) + 1);
          const target = d.role === 'glpi' ? p.plan?.targets.glpi : p.plan?.targets.ocs;
          return [
            code(d.name),
            d.role === 'glpi' ? 'GLPI' : 'OCS Inventory NG',
            esc(d.role === 'glpi' ? cur.glpi : cur.ocs),
            target ? esc(target) : todoCell(s, t.planHintShort),
            s.count(d.tables.length),
            s.count(d.tables.reduce((a, x) => a + x.rows, 0)),
            bytes(s, dbBytes(d)),
            [...engines.entries()]
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([e, n]) => `${esc(e)} ${n}`)
              .join(', '),
            esc(d.collation ?? '?'),
          ];
        }),
      ),
    );
  } else {
    out.push(t.noManifest);
  }
  const g = db(p, 'glpi');
  const o = db(p, 'ocs');
  const n = (d: ManifestDatabase | undefined, tb: string) => {
    const r = rowsOf(d, tb);
    return r === undefined ? undefined : s.count(r);
  };
  const auth: string[] = [];
  const users = n(g, 'glpi_users');
  if (users) auth.push(t.authGlpiUsers(users));
  const ldap = n(g, 'glpi_authldaps');
  if (ldap) auth.push(t.authGlpiLdap(ldap));
  const mail = n(g, 'glpi_authmails');
  if (mail) auth.push(t.authGlpiMail(mail));
  const profiles = n(g, 'glpi_profiles');
  if (profiles) auth.push(t.authGlpiProfiles(profiles));
  auth.push(todo(s, t.authGlpiSso, t.authGlpiSsoHint));
  const ops = n(o, 'operators');
  if (ops) auth.push(t.authOcsOperators(ops));
  auth.push(todo(s, t.authOcsMode, t.authOcsModeHint));
  auth.push(todo(s, t.authAgents, t.authAgentsHint));
  auth.push(t.authConnector);
  auth.push(todo(s, t.authDbAccounts, t.authDbAccountsHint));
  out.push(heading(3, t.auth), t.authIntro, bullets(auth));
  return out;
}

function backup(s: Strings, p: Parts): string[] {
  const t = s.dat;
  const items: string[][] = [];
  for (const d of p.manifest?.databases ?? []) {
    items.push([t.dbItem(code(d.name)), p.manifest?.source.address ? code(redact(p.manifest.source.address)) : todoCell(s, t.dbLocationHint), bytes(s, dbBytes(d)), t.daily]);
  }
  if (!p.manifest) items.push([t.dbItem('GLPI / OCS'), todoCell(s, t.dbLocationHint), '—', t.daily]);
  items.push(
    [t.glpiFiles, todoCell(s, t.locationHint), '—', t.daily],
    [t.glpiConfig, todoCell(s, t.locationHint), '—', t.onChange],
    [t.glpiPlugins, todoCell(s, t.locationHint), '—', t.onChange],
    [t.ocsConfig, todoCell(s, t.locationHint), '—', t.onChange],
    [t.ocsPackages, todoCell(s, t.locationHint), '—', t.daily],
  );
  const x = s.datx;
  return [
    heading(2, t.backup),
    heading(3, t.backupItems),
    table([t.item, t.location, t.size, t.frequency], items),
    heading(3, x.backupProc),
    todo(s, x.backupTool, x.backupToolHint),
    x.dumpHint,
    heading(3, x.rollbackPoint),
    x.rollbackPointIntro,
    fence('sh', `${CMD.snapshot}\n${CMD.verify}`),
    heading(3, x.restoreProc),
    todo(s, x.restoreTool, x.restoreToolHint),
    x.rollbackRestore,
    fence('sh', `${CMD.verify}\n${CMD.restoreTest}`),
    fence('sh', `${CMD.verify}\n${CMD.mark}\n${CMD.restoreProd}`),
    todo(s, t.restoreFiles, t.restoreFilesHint),
  ];
}

function toolBridge(p: Parts): boolean {
  return Boolean(
    p.run &&
      (p.run.steps.some((r) => r.reason !== undefined && /^tool's bridge/i.test(render(r.reason, 'en'))) || p.run.distributions.some((d) => /(^|\/)migrations\/ocs\/bridge-[^/]*\.sql$/.test(d.path))),
  );
}

function security(s: Strings, p: Parts, flows: string[][]): string[] {
  const x = s.datx;
  const items = [...x.hardeningItems];
  if (!toolBridge(p) && p.plan?.steps.some((st) => st.hazards.includes('ocs.bridge.admin-password-reset'))) items.push(x.hardeningBridge);
  items.push(todo(s, x.hardeningOs, x.hardeningOsHint));
  return [
    heading(2, x.security),
    heading(3, x.tls),
    bullets([...x.tlsItems, todo(s, x.tlsCert, x.tlsCertHint), todo(s, x.tlsDb, x.tlsDbHint)]),
    heading(3, x.hardening),
    bullets(items),
    heading(3, x.matrix),
    x.matrixIntro,
    table(
      [s.dat.flowNo, s.dat.flowFrom, s.dat.flowTo, s.dat.flowProto, x.encryption, x.rule],
      flows.map((f) => [f[0], f[1], f[2], f[3], /SQL/.test(f[3]) ? x.tlsLocal : x.tlsYes, todoCell(s, x.ruleHint)]),
    ),
  ];
}

function runDurationMs(p: Parts): number | undefined {
  if (!p.run?.finishedAt) return undefined;
  const ms = Date.parse(p.run.finishedAt) - Date.parse(p.run.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function sizing(s: Strings, p: Parts): string[] {
  const x = s.datx;
  const rows: string[][] = [];
  for (const d of p.manifest?.databases ?? []) {
    rows.push([x.sizingDb(code(d.name)), bytes(s, dbBytes(d))], [x.sizingRows(code(d.name)), s.count(d.tables.reduce((a, t) => a + t.rows, 0))]);
  }
  for (const [role, table] of [
    ['glpi', 'glpi_computers'],
    ['glpi', 'glpi_tickets'],
    ['glpi', 'glpi_users'],
    ['ocs', 'hardware'],
  ] as const) {
    const n = rowsOf(db(p, role), table);
    if (n !== undefined) rows.push([s.dat.adminLabels[table] ?? code(table), s.count(n)]);
  }
  const ms = runDurationMs(p);
  if (ms !== undefined) rows.push([x.sizingRehearsal, `${duration(s, ms)}, ${x.sizingRehearsalNote}`]);
  const out = [heading(2, x.sizing)];
  if (rows.length) out.push(x.sizingIntro, table([x.sizingItem, x.sizingValue], rows));
  else out.push(s.dat.noManifest);
  const total = (p.manifest?.databases ?? []).reduce((a, d) => a + dbBytes(d), 0);
  out.push(bullets([...(total ? [`${x.sizingSnapshot} ${bytes(s, total)}.`] : []), todo(s, x.sizingServers, x.sizingServersHint), todo(s, x.sizingGrowth, x.sizingGrowthHint)]));
  return out;
}

function pra(s: Strings, p: Parts): string[] {
  const x = s.datx;
  const restores = (p.run?.preChecks ?? []).filter((c) => c.id.startsWith('restore-'));
  let restore: string | undefined;
  if (restores.length && restores.every((c) => c.status === 'passed')) {
    const started = p.journal?.find((e) => e.event === 'run-started')?.t;
    const restored = p.journal?.find((e) => e.event === 'restore-finished')?.t;
    const ms = started && restored ? Date.parse(restored) - Date.parse(started) : NaN;
    const details = restores.map((c) => text(s, c.detail)).filter((d) => Boolean(d));
    restore = [p.runId ? code(p.runId) : undefined, Number.isFinite(ms) && ms >= 0 ? duration(s, ms) : undefined, ...details.map((d) => esc(d).replace(/\.$/, ''))].filter(Boolean).join(' ; ');
  }
  return [heading(2, x.pra), x.praKnown, bullets(x.praItems(restore)), bullets([todo(s, x.praRpo, x.praRpoHint), todo(s, x.praSite, x.praSiteHint)]), x.praMode];
}

function environments(s: Strings, p: Parts): string[] {
  const x = s.datx;
  const cur = currentVersions(s, p);
  const rows: string[][] = [
    [x.envProd, x.envProdUse, `${esc(cur.glpi)} ; ${esc(cur.ocs)}${p.manifest ? ` ; ${esc(p.manifest.source.serverVersion)}` : ''}`],
    [x.envRecette, x.envRecetteUse, todoCell(s, x.envRecetteHint)],
  ];
  if (p.run) rows.push([x.envTest, x.envTestUse, p.run.instance.kind === 'embedded' ? x.envTestValue(esc(p.run.instance.serverVersion)) : esc(p.run.instance.serverVersion)]);
  rows.push([x.envTraining, '—', todoCell(s, x.envTrainingHint)]);
  return [heading(2, x.environments), table([x.envCol, x.envUse, x.envServers], rows)];
}

function stepRow(s: Strings, st: PlanStep, i: number): string[] {
  const r = st.requires;
  const req = [r.php ? `PHP ${code(r.php)}` : '', r.mariadb ? `MariaDB ≥ ${esc(r.mariadb)}` : '', r.mysql ? `MySQL ≥ ${esc(r.mysql)}` : ''].filter(Boolean).join(', ');
  return [String(i + 1), `${esc(stepTitle(s, st))} (${code(st.id)})`, s.product[st.product], `${esc(st.from)} → ${esc(st.to)}`, req || s.none];
}

function update(s: Strings, p: Parts): string[] {
  const t = s.dat;
  const out: string[] = [heading(2, t.update)];
  if (p.plan) {
    out.push(
      t.updateIntro(p.plan.steps.length, s.day(p.plan.createdAt)),
      table(
        [s.dossier.stepNo, s.dossier.step, s.dossier.distProduct, s.dossier.fromTo, s.dossier.requirements],
        p.plan.steps.map((st, i) => stepRow(s, st, i)),
      ),
    );
    if (p.plan.notes.length) out.push(s.dossier.planNotes, bullets(planNotes(s, p.plan).map(esc)));
  } else {
    out.push(todo(s, t.updateNoPlan, t.updateNoPlanHint));
  }
  out.push(
    t.updateCommands,
    fence('sh', [CMD.snapshot, CMD.verify, CMD.audit, CMD.plan, CMD.rehearse, CMD.documents].join('\n')),
    t.updateProd,
    numbered(t.updateProdSteps),
    todo(s, t.window, t.windowHint),
    t.rollback,
  );
  return out;
}

function documentation(s: Strings, p: Parts): string[] {
  const t = s.dat;
  const g = db(p, 'glpi');
  const o = db(p, 'ocs');
  const php = lastRequirement(p.plan, 'glpi', 'php');
  const server = maxServer(p.plan);
  const counts: string[] = [];
  for (const [tb, label] of Object.entries(t.adminLabels)) {
    const r = rowsOf(tb.startsWith('glpi_') ? g : o, tb);
    if (r !== undefined) counts.push(t.adminCount(label, s.count(r)));
  }
  return [
    heading(2, t.docs),
    heading(3, t.ops),
    bullets([...t.opsItems, todo(s, t.supervision, t.supervisionHint)]),
    heading(3, t.install),
    bullets([...t.installItems(php ? code(php) : `**${s.todo}**`, server ? esc(server) : `**${s.todo}**`), todo(s, t.installSteps, t.installStepsHint)]),
    heading(3, t.admin),
    counts.length ? `${t.adminIntro}\n\n${bullets(counts)}` : undefined,
    todo(s, t.adminTodo, t.adminTodoHint),
  ].filter((x): x is string => Boolean(x));
}

function interconnection(s: Strings, p: Parts): string[] {
  const t = s.dat;
  const lang = s.lang as 'fr' | 'en';
  const o = db(p, 'ocs');
  const g = db(p, 'glpi');
  const ocsRows = OCS_TABLES.filter(([name]) => !o || o.tables.some((x) => x.name === name) || !['software', 'softwares'].includes(name)).map(([name, bit]) => {
    const r = rowsOf(o, name);
    return [code(name), entry(t.ocsTables, name) ?? '', bit, r === undefined ? (o ? t.absent : '—') : s.count(r)];
  });
  const glpiRows = GLPI_CONNECTOR_TABLES.filter((name) => g?.tables.some((x) => x.name === name) ?? !name.startsWith('glpi_plugin')).map((name) => {
    const r = rowsOf(g, name);
    return [code(name), entry(t.glpiTables, name) ?? '', r === undefined ? '—' : s.count(r)];
  });
  const out: string[] = [
    heading(2, t.interco),
    heading(3, t.intercoPrinciple),
    t.intercoText,
    heading(3, t.structures),
    t.structuresIntro,
    table([t.ocsTable, t.content, t.bit, t.rowsNow], ocsRows),
    t.glpiSide,
    table([t.glpiTable, t.content, t.rowsNow], glpiRows),
    t.formats,
    heading(3, t.rules),
    t.rulesIntro,
    bullets(t.ruleList),
  ];
  const checks = (p.findings?.checksRun ?? []).filter((k) => k.family === 'interconnection');
  if (p.findings) {
    out.push(
      t.auditResults,
      checks.length
        ? table(
            [t.checkCol, s.dossier.caseObject, t.resultCol],
            checks.map((k) => {
              const found = p.findings!.findings.filter((f) => f.id === k.id || f.id.startsWith(`${k.id}.`));
              const result =
                k.status === 'ok'
                  ? t.checkOk
                  : k.status === 'skipped'
                    ? t.checkSkipped
                    : found.map((f) => t.checkFinding(s.count(f.count), s.severity[f.severity].toLowerCase())).join(' ; ') || t.checkFinding('?', '?');
              return [code(k.id), esc(render(k.title, lang)), result];
            }),
          )
        : s.none,
    );
  } else {
    out.push(todo(s, t.noAudit, t.noAuditHint));
  }
  out.push(heading(3, t.loading), numbered(t.loadingSteps), todo(s, t.loadingTodo, t.loadingTodoHint));
  return out;
}

/** The DAT skeleton as Markdown (French by default). */
export function renderDat(inputs: ReportInputs, options: RenderOptions = {}): string {
  const s = stringsFor(options.lang);
  const t = s.dat;
  const p = parts(inputs);
  const snapId = p.manifest?.id ?? (inputs.kind === 'run' ? inputs.run.snapshot.id : '?');
  const idRows: string[][] = [
    [s.dossier.customer, options.customer ? esc(options.customer) : todoCell(s, s.rec.customerHint)],
    [s.rec.contractRef, options.recette?.contract ? esc(options.recette.contract) : todoCell(s, s.rec.contractHint)],
    [s.dossier.project, esc(options.project ?? s.dossier.projectDefault)],
    [s.dossier.lot, s.dossier.lotValue],
    [s.dossier.snapshot, s.dossier.snapshotValue(code(snapId), p.manifest ? s.date(p.manifest.createdAt) : undefined)],
  ];
  if (p.runId) idRows.push([s.dossier.runRef, code(p.runId)]);
  if (p.plan) idRows.push([s.dossier.planRef, s.dossier.planValue(s.date(p.plan.createdAt), esc(p.plan.tool.version))]);
  idRows.push([t.docDate, s.day(p.date)]);
  const body: Array<string | undefined> = [
    heading(2, t.identification),
    table([s.dossier.idItem, s.dossier.idValue], idRows),
    heading(3, t.revisions),
    table(
      [s.dossier.revVersion, s.dossier.revDate, s.dossier.revAuthor, s.dossier.revObject],
      [
        ['0.1', s.day(p.date), esc(p.tool), t.revFirst],
        ['1.0', '', '', s.dossier.revNext],
      ],
    ),
    ...technical(s, p),
    ...application(s, p),
    ...security(s, p, flowRows(s, p)),
    ...environments(s, p),
    ...sizing(s, p),
    ...backup(s, p),
    ...pra(s, p),
    ...update(s, p),
    ...documentation(s, p),
    ...interconnection(s, p),
    heading(2, t.native),
    t.nativeText,
    p.plan?.targets.connector === 'native' ? t.nativeChosen : undefined,
    heading(2, t.validation),
    t.validationIntro,
    options.recette?.visas.length
      ? table(
          [s.dossier.signRole, s.dossier.signName, s.dossier.signOrg, s.dossier.signDate, s.dossier.signVisa],
          options.recette.visas.map((v) => [esc(v.role), esc(v.name), esc(v.organisation ?? ''), '', '']),
        )
      : table(
          [s.dossier.signRole, s.dossier.signName, s.dossier.signOrg, s.dossier.signDate, s.dossier.signVisa],
          s.dossier.signRoles.map((r) => [r, '', '', '', '']),
        ),
  ];
  return polish(
    doc([
      heading(1, t.title),
      t.intro(esc(p.tool)),
      p.runId ? t.sourcesRun(code(p.runId), code(snapId)) : t.sourcesSnap(code(snapId)),
      ...numberHeadings(
        s,
        body.filter((b): b is string => typeof b === 'string' && b.trim() !== ''),
        'body',
        { n: 0 },
      ),
    ]),
    s.lang as 'fr' | 'en',
  );
}
