/**
 * The test dossier (dossier de tests) of lot MAJSER, rendered from a run directory's inputs.
 * Pure: same inputs and options → same bytes. Wording in i18n/{fr,en}.ts.
 */
import { attemptsSection } from './sections/attempts.ts';
import type { RunInputs } from './inputs.ts';
import type { Lang } from './format.ts';
import { render } from '../i18n/render.ts';
import type { Message } from '../i18n/messages.ts';
import { baseName, bytes, deletionReason, duration, entry, text, planNotes, stepExplanation, stepTitle, stringsFor } from './format.ts';
import type { Strings } from './i18n/fr.ts';
import type { DossierModel, TestCase } from './model.ts';
import { buildDossierModel } from './model.ts';
import type { ModelOptions } from './model.ts';
import { bullets, code, doc, esc, fence, heading, quote, redact, table } from './md.ts';
import { ACCEPTANCE_RULE, DEFAULT_LOT } from './verdict.ts';
import type { PlanStep } from '../plan/plan-types.ts';
import { isResidual } from './registers.ts';
import type { RegisterAnomaly } from './registers.ts';
import { polish } from './typography.ts';
import type { Recette } from './recette.ts';
import { synthesisSection } from './sections/synthesis.ts';
import { registersSection } from './sections/registers.ts';
import { phasesSection } from './sections/phases.ts';
import { functionalSection, type FunctionalResults } from './sections/functional.ts';

export interface RenderOptions {
  lang?: Lang;
  /** Customer name for the identification and the PV (else an explicit "to complete" marker). */
  customer?: string;
  /** Project name (default: the MAJSER lot's title). */
  project?: string;
  /** recette.yaml, for the DAT (the dossier reads it through its model). */
  recette?: Recette;
  /** The functional stage's results (<runDir>/functional/results.json); no section when absent. */
  functional?: FunctionalResults;
}

export { todo, customerOf, severityText } from './sections/common.ts';
import { todo, customerOf } from './sections/common.ts';

/** `php bin/console … -n -n` as recorded by older runners: each option once. */
export function dedupeOptions(cmd: string): string {
  let out = cmd;
  for (let prev = ''; prev !== out; ) {
    prev = out;
    out = out.replace(/(^|\s)(-n|--no-interaction|--no-ansi)(?=\s|$)((?:\s+\S+)*?)\s+\2(?=\s|$)/g, '$1$2$3');
  }
  return out;
}

export function caseTitle(s: Strings, c: TestCase): string {
  const d = s.dossier;
  if (c.kind === 'manual') return c.manual!.title;
  if (c.bridgeSource === 'tool' && c.planStep) return s.rec.bridgeTitleTool(c.planStep.from, c.planStep.to);
  if (c.kind === 'pre-check') return entry(d.preCheckTitles, c.ref) ?? text(s, c.preCheck!.title);
  if (c.kind === 'audit-check') return render(c.auditCheck!.title, s.lang as 'fr' | 'en');
  return c.planStep ? stepTitle(s, c.planStep) : (c.ref ?? d.stepNoPlan);
}

export function statusLabel(s: Strings, c: TestCase): string {
  if (c.kind === 'manual') return s.rec.manualStatus[c.manual!.status];
  if (c.kind === 'audit-check' && c.status === 'passed' && c.auditCheck?.status === 'finding') return s.auditTreated;
  return (c.kind === 'audit-check' ? s.auditStatus : s.caseStatus)[c.status];
}

function statusText(s: Strings, c: TestCase): string {
  return `**${statusLabel(s, c)}**`;
}

/** Lower-cases the first letter for use after a colon, unless it starts an acronym ("OCS", "GLPI"). */
function _lcfirst(t: string): string {
  return /^\p{Lu}\p{Ll}/u.test(t) ? t[0].toLowerCase() + t.slice(1) : t;
}

function distProduct(s: Strings, product: string): string {
  return product in s.product ? s.product[product as 'glpi' | 'ocs' | 'connector'] : esc(product);
}

function runnerText(s: Strings, step: PlanStep, bridge?: 'tool' | 'official'): string {
  const r = s.dossier.runnerText;
  const k = step.runner;
  switch (k.kind) {
    case 'ocs-bridge':
      return bridge === 'tool' ? s.rec.bridgeProcTool : s.rec.bridgeProcOfficial;
    case 'ocs-update-file':
      return r['ocs-update-file'](code(k.file));
    case 'ocs-php-change':
      return r['ocs-php-change'](esc(k.change));
    case 'glpi-console':
      return r['glpi-console'](esc(k.release));
    case 'plugin-install':
      return r['plugin-install'](esc(k.pluginVersion), esc(k.glpiRelease));
    case 'corrective-migration':
      return r['corrective-migration'](code(k.migration), code(`migrations/corrective/${k.migration}.yaml`));
  }
}

function targetsText(s: Strings, m: DossierModel): string {
  const t = m.inputs.plan.targets;
  const parts: string[] = [];
  if (t.glpi) parts.push(`${s.product.glpi} ${esc(t.glpi)}`);
  if (t.ocs) parts.push(`${s.product.ocs} ${esc(t.ocs)}`);
  parts.push(`${s.product.connector}${s.colon} ${s.connectorTarget[t.connector] ?? esc(t.connector)}`);
  return parts.join(', ');
}

function identification(s: Strings, m: DossierModel, o: RenderOptions): string[] {
  const d = s.dossier;
  const { run, plan, manifest } = m.inputs;
  const rows: string[][] = [
    [d.customer, customerOf(m, o) ? esc(customerOf(m, o)!) : todo(s, s.rec.customerHint)],
    [d.project, esc(o.project ?? m.recette?.project ?? d.projectDefault)],
    [s.rec.contractRef, m.recette?.contract ? esc(m.recette.contract) : todo(s, s.rec.contractHint)],
    [s.rec.order, m.recette?.order ? esc(m.recette.order) : todo(s, s.rec.orderHint)],
    [d.lot, d.lotValue],
    [d.runRef, code(run.runId)],
    [
      d.runDates,
      run.finishedAt && s.day(run.finishedAt) === s.day(run.startedAt)
        ? d.runSameDay(s.day(run.startedAt), d.time(run.startedAt), d.time(run.finishedAt))
        : d.runDatesValue(s.date(run.startedAt), run.finishedAt ? s.date(run.finishedAt) : undefined),
    ],
    [d.mode, modeText(s, m)],
    [s.rec.recetteFile, m.recette?.source ? code(m.recette.source.path) : s.rec.recetteNone],
    [d.toolVersion, d.toolValue(run.tool.name, esc(run.tool.version))],
    [d.planRef, d.planValue(s.date(plan.createdAt), esc(plan.tool.version))],
    [d.snapshot, d.snapshotValue(code(run.snapshot.id), manifest ? s.date(manifest.createdAt) : undefined)],
    [d.docDate, s.day(m.date)],
  ];
  const versions = m.versions.map((v) => [
    s.product[v.product],
    v.before ? (v.product === 'connector' ? (entry(s.connectorMode, v.before) ?? esc(v.before)) : esc(v.before)) : s.unknown,
    v.target ? (v.product === 'connector' ? (entry(s.connectorTarget, v.target) ?? esc(v.target)) : esc(v.target)) : s.notApplicable,
    v.reached ? (v.product === 'ocs' && /^\d+$/.test(v.reached) ? esc(`GUI_VERSION ${v.reached}`) : esc(v.reached)) : v.target && v.target !== 'none' ? d.notReached : s.notApplicable,
  ]);
  return [
    heading(2, d.identification),
    table([d.idItem, d.idValue], rows),
    heading(3, d.versions),
    table([d.component, d.before, d.target, d.reached], versions),
    heading(3, d.revisions),
    table(
      [d.revVersion, d.revDate, d.revAuthor, d.revObject],
      [
        ['1.0', s.day(m.date), `${run.tool.name} ${esc(run.tool.version)}`, d.revFirst(code(run.runId))],
        ['1.1', '', '', d.revNext],
      ],
    ),
    heading(3, d.sources),
    d.sourcesIntro,
    table(
      [d.file, d.size, 'SHA-256'],
      [...m.inputs.sources, ...(m.recette?.source ? [m.recette.source] : [])].map((f) => [
        f.path.startsWith('snapshot/') ? `${code(f.path)} (${s.rec.outsideRun})` : code(f.path),
        bytes(s, f.bytes),
        code(f.sha256),
      ]),
    ),
  ];
}

function modeText(s: Strings, m: DossierModel): string {
  const run = m.inputs.run;
  if (run.dryRun) return s.rec.mode.dry;
  const steps = m.cases.filter((c) => c.kind === 'step');
  const ran = steps.filter((c) => c.status !== 'not-run').length;
  if (ran === steps.length) return s.rec.mode.all;
  if (!m.finished) return s.rec.mode.interrupted;
  return s.rec.mode.partial(ran, steps.length);
}

function environment(s: Strings, m: DossierModel): string[] {
  const d = s.dossier;
  const { run, manifest } = m.inputs;
  const out: string[] = [heading(2, d.environment), heading(3, d.sourceData), d.sourceDataIntro];
  if (manifest) {
    out.push(
      table(
        [d.database, d.role, d.version, d.tables, d.rows, d.compressed, d.charset],
        manifest.databases.map((db) => {
          const version =
            db.role === 'glpi' ? `GLPI ${db.glpi?.version.version ?? s.unknown}` : `OCS ${db.ocs?.version.releases?.join(' / ') || s.unknown} (GUI_VERSION ${db.ocs?.version.guiVersion ?? '?'})`;
          const size = db.tables.reduce((a, t) => a + t.files.reduce((b, f) => b + f.bytes, 0), 0);
          return [
            code(db.name),
            db.role === 'glpi' ? 'GLPI' : 'OCS',
            esc(version),
            s.count(db.tables.length),
            s.count(db.tables.reduce((a, t) => a + t.rows, 0)),
            bytes(s, size),
            esc(`${db.charset ?? '?'} / ${db.collation ?? '?'}`),
          ];
        }),
      ),
      table(
        [d.parameter, d.idValue],
        [
          [d.sourceServer, esc(manifest.source.serverVersion)],
          [d.sqlMode, manifest.source.sqlMode ? code(manifest.source.sqlMode) : d.emptySqlMode],
          [d.serverCharset, esc(`${manifest.source.characterSetServer ?? '?'} / ${manifest.source.collationServer ?? '?'}`)],
          [d.lowerCase, String(manifest.source.lowerCaseTableNames ?? '?')],
          [d.consistency, d.consistencyValue(code(manifest.consistency.method), duration(s, manifest.consistency.lockHeldMs ?? 0))],
        ],
      ),
    );
    if (manifest.generated) {
      const g = manifest.generated;
      out.push(d.generated(esc(g.generator), g.seed, s.count(g.computers), g.hazards.length ? g.hazards.map(code).join(', ') : s.none));
    }
  }
  if (m.inputs.warnings.length) out.push(quote(m.inputs.warnings.map((w) => d.warnings[w]).join('\n\n')));

  const settings = Object.keys(run.instance.settings)
    .sort()
    .filter((k) => !/pass|pwd|secret|key/i.test(k))
    .map((k) => {
      const v = run.instance.settings[k];
      return [code(k), v === null || v === undefined || v === '' ? d.emptySqlMode : code(redact(typeof v === 'string' ? v : JSON.stringify(v)))];
    });
  out.push(
    heading(3, d.instance),
    table([d.parameter, d.idValue], [[d.instanceKind, run.instance.kind === 'embedded' ? d.kindEmbedded : d.kindExternal], [d.serverVersion, esc(run.instance.serverVersion)], ...settings]),
    heading(3, d.distributions),
  );
  if (run.distributions.length) {
    const hashes = m.inputs.distributionHashes ?? {};
    const dists = run.distributions
      .map((x, i) => ({ x, h: x.sha256 ? { sha256: x.sha256, method: 'file' as const } : hashes[i] }))
      .sort((a, b) => (a.x.product + a.x.version < b.x.product + b.x.version ? -1 : 1));
    out.push(
      table(
        [d.distProduct, d.version, d.distLocation, 'SHA-256'],
        dists.map(({ x, h }) => [distProduct(s, x.product), esc(x.version), code(baseName(x.path)), h ? `${code(h.sha256)} (${s.rec.distHash[h.method]})` : s.rec.distNotRecorded]),
      ),
    );
  } else {
    out.push(d.distNone);
  }
  return out;
}

function requirementsText(s: Strings, step: PlanStep): string {
  const r = step.requires;
  const parts: string[] = [];
  if (r.php) parts.push(`PHP ${code(r.php)}`);
  if (r.mariadb) parts.push(`MariaDB ≥ ${esc(r.mariadb)}`);
  if (r.mysql) parts.push(`MySQL ≥ ${esc(r.mysql)}`);
  if (r.distribution) parts.push(s.dossier.distRequirement(distProduct(s, r.distribution.product), esc(r.distribution.version)));
  return parts.join(', ') || s.none;
}

function runnerShort(step: PlanStep): string {
  const k = step.runner;
  switch (k.kind) {
    case 'ocs-bridge':
      return 'ocsbase.sql 2.2';
    case 'ocs-update-file':
      return code(k.file);
    case 'ocs-php-change':
      return esc(k.change);
    case 'glpi-console':
      return code(`bin/console ${k.command}`);
    case 'plugin-install':
      return `ocsinventoryng ${esc(k.pluginVersion)}`;
    case 'corrective-migration':
      return code(k.migration);
  }
}

function planSection(s: Strings, m: DossierModel): string[] {
  const d = s.dossier;
  const plan = m.inputs.plan;
  const rows = plan.steps.map((st, i) => [
    String(i + 1),
    `${esc(stepTitle(s, st))} (${code(st.id)})`,
    s.product[st.product],
    esc(st.database),
    `${esc(st.from)} → ${esc(st.to)}`,
    runnerShort(st),
    requirementsText(s, st),
  ]);
  return [
    heading(2, d.plan),
    d.planIntro(plan.steps.length, targetsText(s, m)),
    table([d.stepNo, d.step, d.distProduct, d.database, d.fromTo, d.runner, d.requirements], rows),
    plan.notes.length ? `${d.planNotes}\n\n${bullets(planNotes(s, plan).map(esc))}` : undefined,
  ].filter((x): x is string => Boolean(x));
}

function labelFor(s: Strings, label: string): string {
  return `**${label}${s.colon}**`;
}

function fieldL(s: Strings, label: string, body: string): string {
  return `${labelFor(s, label)} ${body}`;
}

function evidenceBlock(s: Strings, m: DossierModel, files: string[]): string {
  const d = s.dossier;
  if (!files.length) return fieldL(s, d.evidence, `${d.evidenceNone}.`);
  const rows = [...files].sort().map((f) => {
    const e = m.inputs.evidence[f];
    return [code(f), e?.missing ? d.evidenceMissing : bytes(s, e?.bytes ?? 0), e?.sha256 ? code(e.sha256) : ''];
  });
  return `${labelFor(s, d.evidence)}\n\n${table([d.file, d.size, 'SHA-256'], rows)}`;
}

function anomaliesLine(s: Strings, c: TestCase): string | undefined {
  // Anomalies derived from an audit finding are constats on the existing system: the sheet shows the finding.
  const observed = c.anomalies.filter((a) => !a.findingId);
  if (!observed.length) return undefined;
  c = { ...c, anomalies: observed };
  return fieldL(
    s,
    s.dossier.anomaliesRaised,
    `${c.anomalies.map((a) => `${code(a.id)} (${s.severity[a.severity].toLowerCase()}, ${a.resolved ? s.dossier.stateResolved.toLowerCase() : s.dossier.stateResidual.toLowerCase()})`).join(', ')}.`,
  );
}

/**
 * A pre-check's detail in the document's language: the restore summary from the document's catalog (numbers
 * formatted; also when an older run recorded it as English text), else the message in the document's language.
 */
function preCheckDetail(s: Strings, detail: Message): string {
  if (detail.id === 'precheck.restore.ok') return s.dossier.restoreOk(s.count(detail.params.tables), s.count(detail.params.rows));
  const m = /^(\d+) tables, (\d+) rows: row counts and (?:CHECKSUM TABLE|checksums) equal to the manifest$/.exec(render(detail, 'en').trim());
  if (m) return s.dossier.restoreOk(s.count(Number(m[1])), s.count(Number(m[2])));
  return (esc(redact(text(s, detail))) || s.none).replace(/([^.!?])$/, '$1.');
}

/**
 * The rehearsal's analysis of a row-count change, in the document's language. run.yaml records it in English
 * (src/rehearse/checks.ts); the known forms are rendered from i18n, a reason for deleted rows through the
 * plan's own message in French. Anything else is printed as recorded.
 */
function deltaExplanation(s: Strings, step: PlanStep | undefined, text: string): string {
  if (s.lang !== 'fr') return text;
  const t = s.dossier.deltaTexts;
  const fixed: Record<string, string> = {
    'created by the step': t.created,
    'dropped by the step': t.dropped,
    'rows added by the step': t.rowsAdded,
    'emptied by the step': t.emptied,
    'table recreated by the step': t.recreated,
  };
  if (fixed[text]) return fixed[text];
  let m = /^renamed from (\S+)$/.exec(text);
  if (m) return t.renamedFrom(m[1]);
  m = /^renamed to (\S+)$/.exec(text);
  if (m) return t.renamedTo(m[1]);
  m = /^(\d+) row\(s\) deleted on purpose by the step$/.exec(text);
  if (m) return t.deletedCount(s.count(Number(m[1])));
  m = /^rows deleted on purpose: ([\s\S]*)$/.exec(text);
  if (m) {
    const row = step?.expected.rowsDeleted?.find((r) => render(r.why, 'en') === m![1]);
    if (row) return t.deletedOnPurpose(render(row.why, 'fr'));
    const corrective = /^corrective migration ([\w.-]+): /.exec(m[1]);
    if (corrective) return t.deletedOnPurpose(t.corrective(corrective[1]));
  }
  return text;
}

function preCheckCase(s: Strings, c: TestCase): string[] {
  const d = s.dossier;
  const p = c.preCheck!;
  const title = esc(caseTitle(s, c));
  return [
    heading(4, `${c.id} — ${title}`),
    fieldL(s, d.objective, d.preObjective(title)),
    fieldL(s, d.procedure, d.preProcedure(code(p.id))),
    fieldL(s, d.expected, d.preExpected),
    fieldL(s, d.observed, preCheckDetail(s, p.detail)),
    anomaliesLine(s, c),
    fieldL(s, d.status, statusText(s, c)),
  ].filter((x): x is string => Boolean(x));
}

function stepCase(s: Strings, m: DossierModel, c: TestCase): string[] {
  const d = s.dossier;
  const st = c.planStep;
  const r = c.result;
  const title = st ? caseTitle(s, c) : c.ref;
  // A title the dossier wrote itself (the tool's bridge) is already Markdown.
  const shown = c.bridgeSource === 'tool' ? title : esc(title);
  const out: string[] = [heading(4, `${c.id} — ${shown} (${code(c.ref)})`)];
  if (st) {
    out.push(fieldL(s, d.objective, stepObjective(s, st)));
    const context = stepExplanation(s, st);
    if (context && c.bridgeSource !== 'tool') out.push(fieldL(s, s.rec.context, esc(context)));
    out.push(`${labelFor(s, d.procedure)} ${runnerText(s, st, c.bridgeSource)}`);
    if (r?.commandForUser) out.push(labelFor(s, c.status === 'not-run' ? d.toRunIt : d.commandRun), fence('sh', dedupeOptions(redact(r.commandForUser))));
    else if (st.runner.kind === 'glpi-console') out.push(fence('sh', redact(['php', 'bin/console', st.runner.command, ...st.runner.args].join(' '))));
    const exp: string[] = [st.from === st.to ? d.expectedVersionSame(esc(st.from)) : d.expectedVersion(esc(st.from), esc(st.to))];
    if (st.runner.kind !== 'glpi-console' && st.runner.kind !== 'plugin-install') exp.push(d.expectedStatements);
    const e = st.expected;
    if (e.tablesCreated?.length) exp.push(d.expectedCreated(e.tablesCreated.map(code).join(', ')));
    if (e.tablesDropped?.length) exp.push(d.expectedDropped(e.tablesDropped.map(code).join(', ')));
    if (e.tablesRenamed?.length) exp.push(d.expectedRenamed(e.tablesRenamed.map((x) => `${code(x.from)} → ${code(x.to)}`).join(', ')));
    if (c.bridgeSource === 'tool') exp.push(s.rec.bridgeNoTruncate);
    else if (e.rowsDeleted?.length) exp.push(d.expectedDeleted(e.rowsDeleted.map((x) => `${code(x.table)} (${esc(deletionReason(s, x))})`).join(', ')));
    if (Array.isArray(e.tablesTouched) && e.tablesTouched.length) exp.push(d.expectedTouched(e.tablesTouched.map(code).join(', ')));
    exp.push(d.expectedCounts, s.rec.expectedChecked);
    out.push(`${labelFor(s, d.expected)}\n\n${bullets(exp)}`);
    if (c.findings.length) {
      out.push(`${labelFor(s, d.hazards)}\n\n${bullets(c.findings.map((f) => `${code(f.id)} — ${esc(render(f.title, s.lang as 'fr' | 'en'))} (${s.severity[f.severity].toLowerCase()})`))}`);
    }
  } else {
    out.push(d.stepNoPlan);
  }
  if (!r) {
    out.push(fieldL(s, d.observed, d.observedNoResult));
  } else {
    const obs: string[] = c.status === 'passed' ? [] : [d.observedStatus(s.caseStatus[c.status])];
    if (r.reason) obs.push(`${d.reason}${s.colon} ${esc(redact(text(s, r.reason)))}`);
    if (r.versionBefore || r.versionAfter) obs.push(d.observedVersion(esc(r.versionBefore ?? '?'), esc(r.versionAfter ?? '?')));
    if (r.statements) {
      const x = r.statements;
      obs.push(d.observedStatements(s.count(x.total), s.count(x.ok), s.count(x.expectedErrors), s.count(x.failed)));
    }
    if (r.durationMs !== undefined) obs.push(d.observedDuration(duration(s, r.durationMs)));
    if (r.untouchedChecked !== undefined) obs.push(d.observedUntouched(s.count(r.untouchedChecked)));
    if (r.untouchedChanged?.length) obs.push(d.observedChanged(r.untouchedChanged.map(code).join(', ')));
    const changed = r.tableDeltas.filter((t) => t.verdict !== 'unchanged');
    if (r.tableDeltas.length) obs.push(changed.length ? d.observedDeltas(changed.length, r.tableDeltas.length - changed.length) : d.observedDeltasNone);
    if (!obs.length) obs.push(d.observedStatus(s.caseStatus[c.status]));
    out.push(`${labelFor(s, d.observed)}\n\n${bullets(obs)}`);
    if (changed.length) {
      const rows = [...changed]
        .sort((a, b) => (a.table < b.table ? -1 : 1))
        .map((t) => [
          code(t.table),
          t.before === null ? '—' : s.count(t.before),
          t.after === null ? '—' : s.count(t.after),
          `${d.deltaVerdicts[t.verdict]}${t.explanation ? `${s.colon} ${esc(deltaExplanation(s, st, t.explanation))}` : ''}`,
        ]);
      out.push(table([d.deltaTable, d.deltaBefore, d.deltaAfter, d.deltaVerdict], rows));
    }
    if (r.outputExcerpt?.trim()) out.push(d.excerpt, fence('text', redact(r.outputExcerpt)));
    out.push(evidenceBlock(s, m, r.evidence));
  }
  const an = anomaliesLine(s, c);
  if (an) out.push(an);
  out.push(fieldL(s, d.status, statusText(s, c)));
  return out;
}

/** What the step's checks verify, as an objective one can check (not "carry out the step"). */
function stepObjective(s: Strings, st: PlanStep): string {
  const o = s.rec.objective;
  const k = st.runner;
  switch (k.kind) {
    case 'ocs-update-file':
      return o['ocs-update-file'](code(k.file), esc(st.from), esc(st.to));
    case 'ocs-bridge':
      return o['ocs-bridge'](esc(st.from), esc(st.to));
    case 'ocs-php-change':
      return o['ocs-php-change'](esc(k.change));
    case 'glpi-console':
      return o['glpi-console'](code(`bin/console ${k.command}`), esc(st.from), esc(st.to));
    case 'plugin-install':
      return o['plugin-install'](esc(k.pluginVersion), esc(k.glpiRelease));
    case 'corrective-migration':
      return o['corrective-migration'](code(k.migration));
  }
}

function manualCase(s: Strings, c: TestCase): string[] {
  const d = s.dossier;
  const t = c.manual!;
  return [
    heading(4, `${c.id} — ${esc(t.title)} (${code(t.id)})`),
    fieldL(s, d.objective, esc(t.title).replace(/([^.!?])$/, '$1.')),
    fieldL(s, d.procedure, s.rec.manualProcedure(esc(t.tester), s.day(`${t.date}T00:00:00Z`))),
    fieldL(s, d.expected, t.expected ? esc(t.expected) : todo(s, 'recette.yaml, `expected`')),
    fieldL(s, d.observed, esc(t.observed)),
    t.anomaly ? fieldL(s, d.anomaliesRaised, `${code(t.anomaly.id)} (${s.severity[t.anomaly.severity].toLowerCase()}).`) : undefined,
    fieldL(s, d.status, statusText(s, c)),
  ].filter((x): x is string => Boolean(x));
}

function auditCase(s: Strings, c: TestCase): string[] {
  const d = s.dossier;
  const k = c.auditCheck!;
  const lang = s.lang as 'fr' | 'en';
  let observed: string;
  if (k.status === 'ok') observed = d.auditOk;
  else if (k.status === 'skipped') observed = d.auditSkipped(k.reason ? esc(text(s, k.reason)) : undefined);
  else
    observed = c.findings
      .map((f) => {
        const remedy = f.remedy.migration ? d.auditRemedyMigration(code(f.remedy.migration)) : f.remedy.manual ? d.auditRemedyManual(esc(render(f.remedy.manual, lang)).replace(/\.$/, '')) : undefined;
        return `${d.auditFinding(esc(render(f.title, lang)), s.count(f.count), s.severity[f.severity].toLowerCase())}${remedy ? ` ${remedy}` : ''}`;
      })
      .join(' ');
  return [
    heading(4, `${c.id} — ${esc(render(k.title, lang))}`),
    fieldL(s, d.objective, d.auditObjective(esc(render(k.title, lang)), d.families[k.family] ?? esc(k.family))),
    fieldL(s, d.procedure, d.auditProcedure(code(k.id))),
    fieldL(s, d.expected, d.auditExpected),
    fieldL(s, d.observed, observed || s.none),
    anomaliesLine(s, c),
    fieldL(s, d.status, statusText(s, c)),
  ].filter((x): x is string => Boolean(x));
}

function casesSection(s: Strings, m: DossierModel): string[] {
  const d = s.dossier;
  const out: string[] = [heading(2, s.rec.annexCases), s.rec.annexCasesIntro, heading(3, d.summary)];
  out.push(
    table(
      [d.caseId, d.caseObject, d.status],
      m.cases.map((c) => [c.id, c.bridgeSource === 'tool' ? caseTitle(s, c) : esc(caseTitle(s, c)), statusLabel(s, c)]),
    ),
  );
  out.push(heading(3, d.preChecks));
  const pre = m.cases.filter((c) => c.kind === 'pre-check');
  if (!pre.length) out.push(d.preChecksNone);
  for (const c of pre) out.push(...preCheckCase(s, c));
  out.push(heading(3, d.steps));
  for (const c of m.cases.filter((x) => x.kind === 'step')) out.push(...stepCase(s, m, c));
  const aud = m.cases.filter((c) => c.kind === 'audit-check');
  if (aud.length) {
    out.push(heading(3, d.auditChecks), d.auditIntro);
    for (const c of aud) out.push(...auditCase(s, c));
  }
  const man = m.cases.filter((c) => c.kind === 'manual');
  if (man.length) {
    out.push(heading(3, s.rec.manual), s.rec.manualIntro);
    for (const c of man) out.push(...manualCase(s, c));
  }
  return out;
}

function verdictSection(s: Strings, m: DossierModel): string[] {
  const d = s.dossier;
  const r = s.rec;
  const v = m.verdict;
  const yes = (b: boolean) => (b ? s.yes : `**${s.no}**`);
  const runCases = m.cases.filter((c) => c.kind === 'pre-check' || c.kind === 'step');
  const run = runCases.filter((c) => c.status !== 'not-run').length;
  const passed = runCases.filter((c) => c.status === 'passed').length;
  const audit = m.cases.filter((c) => c.kind === 'audit-check');
  const auditRun = audit.filter((c) => c.status !== 'not-run').length;
  const manual = m.cases.filter((c) => c.kind === 'manual');
  const majorRows = (v.majorsByLot.length ? v.majorsByLot : [{ lot: DEFAULT_LOT, major: 0 }]).map((l) => [
    d.critMajor(l.lot),
    d.atMost(ACCEPTANCE_RULE.maxMajorPerLot),
    String(l.major),
    yes(l.major <= ACCEPTANCE_RULE.maxMajorPerLot),
  ]);
  const rows = [
    [d.critBlocking, d.exactly(ACCEPTANCE_RULE.maxBlocking), String(v.residual.blocking), yes(v.residual.blocking <= ACCEPTANCE_RULE.maxBlocking)],
    ...majorRows,
    [d.critResidual, d.lessThan(ACCEPTANCE_RULE.residualLimit), String(v.residual.total), yes(v.residual.total < ACCEPTANCE_RULE.residualLimit)],
    [r.runRow, d.all, d.outOf(run, runCases.length), yes(run === runCases.length && !m.inputs.run.dryRun)],
    [r.passedRow, d.all, d.outOf(passed, runCases.length), yes(passed === runCases.length)],
  ];
  if (manual.length) {
    const mp = manual.filter((c) => c.status === 'passed').length;
    rows.push([r.figManual, d.all, d.outOf(mp, manual.length), yes(mp === manual.length)]);
  }
  if (audit.length) rows.push([r.auditRow, d.all, d.outOf(auditRun, audit.length), auditRun === audit.length ? s.yes : `**${r.auditRowNote(audit.length - auditRun)}**`]);
  const out: string[] = [
    heading(2, d.verdict),
    d.rule,
    r.openNote,
    table([d.criterion, d.threshold, d.measured, d.compliant], rows),
    quote(`**${d.verdictKind[v.kind]}.** ${d.verdictExplain[v.kind]}`),
  ];
  const reasons = v.reasons.map((x) => {
    if (x === 'run-not-complete') return d.reasons[x]();
    if (x === 'steps-not-run' && m.finished && !m.inputs.run.complete) return r.finishedNotRun(v.notRun.length);
    const n = x === 'steps-not-run' ? v.notRun.length : x === 'failed-steps' ? v.failed.length : x === 'blocking' ? v.residual.blocking : x === 'too-many-majors' ? v.residual.major : v.residual.total;
    return d.reasons[x](n);
  });
  if (reasons.length) out.push(bullets(reasons));
  if (v.kind === 'incomplete' && !v.thresholdsMet) out.push(d.thresholdsAlready);
  if (v.notRun.length) out.push(`${d.notRunList} ${v.notRun.map(code).join(', ')}.`);
  if (m.auditSkipped.length) {
    out.push(bullets(m.auditSkipped.map((k) => `${code(k.id)}${s.colon} ${k.reason ? esc(text(s, k.reason)) : s.unknown}`)));
  }
  return out;
}

function exitSection(s: Strings, m: DossierModel): string[] {
  const d = s.dossier;
  return [
    heading(2, d.exit),
    table(
      [d.exitCriterion, d.exitStatus, d.exitDetail],
      m.exitCriteria.map((e) => [
        d.exitTexts[e.key],
        e.met === undefined ? d.toReview : e.met ? s.yes : `**${s.no}**`,
        e.key === 'functionalValidation' && e.detail
          ? `${s.rec.figManual}${s.colon} ${s.rec.outOf(Number(e.detail.split('/')[0]), Number(e.detail.split('/')[1]))}`
          : d.exitDetails[e.key](e.detail ?? ''),
      ]),
    ),
  ];
}

function traceSection(s: Strings, m: DossierModel): string[] {
  const d = s.dossier;
  const target = (key: string) => {
    const t = m.inputs.plan.targets;
    if (key === 'glpiLatest' && t.glpi) return ` (${d.withTarget(esc(t.glpi))})`;
    if (key === 'ocsLatest' && t.ocs) return ` (${d.withTarget(esc(t.ocs))})`;
    if (key === 'connectorUpdated') return ` (${d.withTarget(s.connectorTarget[t.connector] ?? esc(t.connector))})`;
    return '';
  };
  return [
    heading(2, d.trace),
    d.traceIntro,
    table(
      [d.requirement, d.source, d.titleCol, d.caseCol, d.status],
      m.requirements.map((r) => [
        r.id,
        r.ref.replace('§', s.lang === 'fr' ? '§ ' : '§'),
        `${d.reqTexts[r.key]}${target(r.key)}`,
        caseRanges(r.cases.map((c) => c.id)) || '—',
        r.status === 'older-target' && r.newest
          ? s.rec.reqOlder(
              esc(r.key === 'glpiLatest' ? m.inputs.plan.targets.glpi! : m.inputs.plan.targets.ocs!),
              r.newest.branch ? s.rec.reqNewestBranch(esc(r.newest.branch), esc(r.newest.overall)) : s.rec.reqNewest(esc(r.newest.overall)),
            )
          : (entry(d.reqStatus, r.status) ?? esc(r.status)),
      ]),
    ),
  ];
}

/** CT-ETP-01, CT-ETP-02, CT-ETP-03 → CT-ETP-01 à CT-ETP-03: a traceability cell stays readable. */
function caseRanges(ids: string[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < ids.length) {
    const m = /^(.*-)(\d+)$/.exec(ids[i]);
    let j = i;
    while (m && j + 1 < ids.length) {
      const n = /^(.*-)(\d+)$/.exec(ids[j + 1]);
      if (!n || n[1] !== m[1] || Number(n[2]) !== Number(/(\d+)$/.exec(ids[j])![1]) + 1) break;
      j++;
    }
    out.push(j - i >= 2 ? `${ids[i]} – ${ids[j]}` : ids.slice(i, j + 1).join(', '));
    i = j + 1;
  }
  return out.join(', ');
}

function signoffSection(s: Strings, m: DossierModel, o: RenderOptions): string[] {
  const d = s.dossier;
  const customer = customerOf(m, o);
  const visas = m.recette?.visas ?? [];
  if (visas.length) {
    return [
      heading(2, d.signoff),
      table(
        [d.signRole, d.signName, d.signOrg, d.signDate, d.signVisa],
        visas.map((p) => [esc(p.role), esc(p.name), esc(p.organisation ?? ''), '', '']),
      ),
    ];
  }
  const orgs = [d.orgSupplier, d.orgSupplier, customer ? esc(customer) : d.orgCustomer, customer ? esc(customer) : d.orgCustomer];
  return [
    heading(2, d.signoff),
    s.rec.visaNone,
    table(
      [d.signRole, d.signName, d.signOrg, d.signDate, d.signVisa],
      d.signRoles.map((r, i) => [r, '', orgs[i], '', '']),
    ),
  ];
}

function pvSection(s: Strings, m: DossierModel, o: RenderOptions): string[] {
  const d = s.dossier;
  const lang = s.lang as 'fr' | 'en';
  const customer = customerOf(m, o);
  const residual = m.register.filter(isResidual);
  const parties = [d.pvParties[0], customer ? esc(customer) : d.pvParties[1]];
  const signers = [m.recette?.pv.supplier, m.recette?.pv.customer];
  const reserves = m.recette?.reserves ?? [];
  return [
    heading(2, d.pv),
    d.pvIntro,
    table(
      [d.idItem, d.idValue],
      [
        [d.pvMarket, m.recette?.contract ? `${d.pvMarketValue} (${s.rec.pvContract(esc(m.recette.contract))})` : `${d.pvMarketValue} (${todo(s, s.rec.contractHint)})`],
        [s.rec.order, m.recette?.order ? esc(m.recette.order) : todo(s, s.rec.orderHint)],
        [d.customer, customer ? esc(customer) : todo(s, s.rec.customerHint)],
        [d.lot, d.lotValue],
        [d.pvObject, d.pvObjectValue],
        [d.pvDossier, d.pvDossierValue(code(m.inputs.run.runId), s.day(m.date))],
        [d.pvProposed, `**${d.verdictKind[m.verdict.kind]}**`],
      ],
    ),
    d.pvDecision,
    d.pvChoices.map((c) => `- [ ] ${c}`).join('\n'),
    d.pvReserves,
    reserves.length
      ? table(
          [s.rec.reserveCol, s.rec.deadlineCol, s.rec.anomaliesCol],
          reserves.map((x) => [`${code(x.id)} — ${esc(x.text)}`, s.day(`${x.deadline}T00:00:00Z`), x.anomalies.map(code).join(', ') || '—']),
        )
      : residual.length
        ? bullets(residual.map((a: RegisterAnomaly) => `${code(a.id)} (${s.severity[a.severity].toLowerCase()}) — ${esc(render(a.title, lang))}`))
        : d.pvReservesNone,
    d.pvSignatures,
    table(
      [d.pvFor, d.signName, d.pvPlaceDate, d.pvSignature],
      parties.map((p, i) => [`${d.pvFor} ${p}`, signers[i] ? `${esc(signers[i]!.name)}, ${esc(signers[i]!.role)}` : '', '', '']),
    ),
  ];
}

/** A manifest table's recorded proof: its digest, or CHECKSUM TABLE in older snapshots. */
function proofOf(t: { digest?: string; checksum?: string | null }): string {
  const v = t.digest ?? t.checksum;
  return v === undefined || v === null ? '—' : code(v);
}

function annexes(s: Strings, m: DossierModel): string[] {
  const d = s.dossier;
  const out: string[] = [];
  const manifest = m.inputs.manifest;
  if (manifest) {
    out.push(heading(2, d.annexSnapshot), d.annexSnapshotIntro);
    for (const db of manifest.databases) {
      out.push(
        heading(3, `${db.role === 'glpi' ? 'GLPI' : 'OCS'} — ${code(db.name)}`),
        table(
          [d.deltaTable, d.engine, d.rows, d.checksum],
          [...db.tables].sort((a, b) => (a.name < b.name ? -1 : 1)).map((t) => [code(t.name), esc(t.engine ?? '—'), s.count(t.rows), proofOf(t)]),
        ),
      );
    }
  }
  if (m.inputs.journal.length) {
    out.push(
      heading(2, d.annexJournal),
      table(
        [d.journalTime, d.journalEvent, d.journalDetail],
        m.inputs.journal.map((e) => {
          const rest = Object.entries(e)
            .filter(([k]) => k !== 't' && k !== 'event')
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join(' ');
          return [esc(e.t), entry(d.events, e.event) ?? esc(e.event), rest ? code(redact(rest)) : ''];
        }),
      ),
    );
  }
  return out;
}

/** What a section gets to render itself. */
export interface SectionContext {
  s: Strings;
  m: DossierModel;
  o: RenderOptions;
}

/**
 * A part of the dossier. `synthesis` comes first (at most three pages), `body` is numbered 1, 2, 3…, `annex`
 * is lettered A, B, C…; headings are numbered here, so a section only writes its own titles (## and ###).
 */
export interface DossierSection {
  id: string;
  part: 'synthesis' | 'body' | 'annex';
  render(ctx: SectionContext): string[];
}

/**
 * The sections in document order. Stages that add their own sections (attempts, functional tests, go-live)
 * hook in here with one line each, from a file under src/report/sections/.
 */
export const DOSSIER_SECTIONS: DossierSection[] = [
  synthesisSection,
  { id: 'identification', part: 'body', render: ({ s, m, o }) => identification(s, m, o) },
  { id: 'environment', part: 'body', render: ({ s, m }) => environment(s, m) },
  { id: 'plan', part: 'body', render: ({ s, m }) => planSection(s, m) },
  { id: 'functional', part: 'body', render: ({ s, o }) => functionalSection(s.lang as 'fr' | 'en', o.functional) },
  { id: 'attempts', part: 'body', render: ({ s, m }) => attemptsSection(m.inputs.journal, s.lang === 'en' ? 'en' : 'fr') },
  registersSection,
  { id: 'verdict', part: 'body', render: ({ s, m }) => verdictSection(s, m) },
  { id: 'exit', part: 'body', render: ({ s, m }) => exitSection(s, m) },
  { id: 'trace', part: 'body', render: ({ s, m }) => traceSection(s, m) },
  phasesSection,
  { id: 'signoff', part: 'body', render: ({ s, m, o }) => signoffSection(s, m, o) },
  { id: 'pv', part: 'body', render: ({ s, m, o }) => pvSection(s, m, o) },
  { id: 'cases', part: 'annex', render: ({ s, m }) => casesSection(s, m) },
  { id: 'annexes', part: 'annex', render: ({ s, m }) => annexes(s, m) },
];

/** A marker the exports turn into a page break (an HTML comment: invisible in the Markdown). */
export const PAGE_BREAK = '<!-- page-break -->';

/** Numbers the ## and ### headings of the body (1, 1.1) and letters those of the annexes (Annexe A, A.1). */
export function numberHeadings(s: Strings, blocks: string[], part: 'body' | 'annex', counter: { n: number }): string[] {
  let sub = 0;
  const letter = () => String.fromCharCode(64 + counter.n);
  return blocks.map((b) => {
    if (b.startsWith('## ')) {
      counter.n++;
      sub = 0;
      return part === 'body' ? `## ${counter.n}. ${b.slice(3)}` : `## ${s.lang === 'fr' ? 'Annexe' : 'Annex'} ${letter()} — ${b.slice(3)}`;
    }
    if (b.startsWith('### ')) {
      sub++;
      return part === 'body' ? `### ${counter.n}.${sub} ${b.slice(4)}` : `### ${letter()}.${sub} ${b.slice(4)}`;
    }
    return b;
  });
}

export function renderDossierModel(m: DossierModel, options: RenderOptions = {}, sections: DossierSection[] = DOSSIER_SECTIONS): string {
  const s = stringsFor(options.lang);
  const d = s.dossier;
  const ctx: SectionContext = { s, m, o: options };
  const body = { n: 0 };
  const annex = { n: 0 };
  // The introduction opens the first section (the synthesis), so exports do not give it a page of its own.
  const intro = d.intro(`${m.inputs.run.tool.name} ${esc(m.inputs.run.tool.version)}`, code(m.inputs.run.runId));
  const blocks: string[] = [heading(1, d.title)];
  let previous: DossierSection['part'] | undefined;
  let previous2 = false;
  for (const section of sections) {
    const out = section.render(ctx).filter((b) => b && b.trim() !== '');
    if (!out.length) continue;
    if (previous && previous !== section.part) blocks.push(PAGE_BREAK);
    previous = section.part;
    const numbered = section.part === 'synthesis' ? out : numberHeadings(s, out, section.part, section.part === 'body' ? body : annex);
    if (!previous2) numbered.splice(numbered[0].startsWith('## ') ? 1 : 0, 0, intro);
    previous2 = true;
    blocks.push(...numbered);
  }
  return polish(doc(blocks), s.lang as 'fr' | 'en');
}

/** The dossier de tests as Markdown (French by default). */
export function renderDossier(inputs: RunInputs, options: RenderOptions & ModelOptions = {}): string {
  return renderDossierModel(buildDossierModel(inputs, options), options);
}
