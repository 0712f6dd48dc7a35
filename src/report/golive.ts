/**
 * The go-live report (« compte rendu de mise en production »), French by default, `--lang en`: each step as
 * applied on production against the same step in the rehearsal (duration, rows changed per table), the
 * differences explained by data that moved between the snapshot and the backup, the proof that the final
 * structure equals the rehearsal's, the backup (id, place) and the rollback command. Markdown, written to
 * RUN_DIR/apply/. Its strings live here (the rest of src/report belongs to the dossier and DAT).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary, StepResult } from '../rehearse/run-types.ts';
import { readRunSummary } from '../rehearse/runner.ts';
import { readManifest } from '../snapshot/index.ts';
import { appliedRunDirs, applyDir, readApplyRecord, recordedBackups, recordedHostPorts } from '../apply/state.ts';
import { confirmFlags } from '../apply/servers.ts';
import { NotFoundError } from '../errors.ts';
import { render } from '../i18n/render.ts';
import { readFunctionalResultsFile } from '../formats/functional-results.ts';

type Lang = 'fr' | 'en';
const NB = '\u00a0';

const T = {
  fr: {
    file: 'compte-rendu-mise-en-production.md',
    title: 'Compte rendu de mise en production',
    production: 'Serveur de production',
    rehearsal: 'Répétition appliquée',
    plan: 'Plan (empreinte SHA-256)',
    backup: 'Sauvegarde préalable',
    backupTaken: 'prise par la commande avant la première écriture et vérifiée',
    backupGiven: 'fournie (--backup), identique à la production au moment de l’application',
    rollback: 'Retour arrière',
    rollbackText: 'Pour rendre à la production son état d’avant l’application, exécuter (avec les mêmes adresses --glpi/--ocs)',
    rolledBack: (n: number, at: string) => `La production a été restaurée depuis la sauvegarde le ${at}${NB}: ${n} tables identiques au manifeste (lignes et sommes de contrôle).`,
    preflight: 'Contrôles avant la première écriture',
    steps: 'Étapes : appliquées et répétées',
    stepHead: '| Étape | Statut | Durée en production | Durée en répétition | Tables modifiées (lignes avant → après) |',
    status: { passed: 'réussie', failed: 'en échec', 'not-run': 'non exécutée', skipped: 'ignorée' },
    moved: 'Données ayant évolué depuis l’instantané',
    movedText: 'Écarts de nombre de lignes entre l’instantané répété et la sauvegarde de production, qui expliquent les écarts de chiffres entre l’application et la répétition',
    movedNone: 'Aucune table n’a changé de nombre de lignes entre l’instantané et la sauvegarde.',
    final: 'État final',
    structureEqual: 'La structure finale (tables, colonnes, index, moteurs, interclassements) est identique à celle de la fin de la répétition.',
    structureDiff: (n: number) => `La structure finale diffère de celle de la répétition en ${n}${NB}point(s)${NB}:`,
    tables: (n: number, d: number) =>
      `${n} tables comparées${NB}; ${d} avec un nombre de lignes ou une somme de contrôle différents de la répétition${d ? ` (données ayant évolué depuis l’instantané)` : ''}.`,
    incomplete: 'L’application n’est pas terminée : voir le journal et les étapes ci-dessus.',
    allowed: 'Étapes non exécutées, acceptées par --allow-not-run',
    scenarioStatus: { passed: 'réussi', failed: 'en échec', 'not-run': 'non exécuté' },
    functional: 'Contrôles applicatifs sur la production',
    functionalText: `Seuls les scénarios en lecture seule s’exécutent en production (pages de GLPI ouvertes sans connexion, lectures, contrôle des prérequis)${NB}: les autres se connectent avec un compte temporaire ou cliquent, ce qui écrirait dans la base, et la console OCS demanderait de recopier son mot de passe${NB}; ils restent «${NB}non exécutés${NB}» et relèvent des contrôles manuels.`,
    functionalError: (e: string) => `Les scénarios n’ont pas pu s’exécuter${NB}: ${e}.`,
    glpiSide: 'GLPI hors base de données',
    configDir: (d: string, w: boolean) =>
      `Répertoire de configuration de GLPI en production${NB}: \`${d}\` — ${w ? 'config_db.php y a été écrit par la commande (il n’en avait pas), avec l’adresse de la base GLPI de production' : 'son config_db.php a été utilisé tel quel (copie préalable à côté, remise en place par un retour arrière)'}.`,
    keyBackup: (b: string, step: string) => `Clé glpicrypt.key existante copiée à part avant l’étape \`${step}\`${NB}: \`${b}\`.`,
    keyEnd: (sum: string, created: boolean) =>
      `Clé glpicrypt.key à la fin${NB}: empreinte SHA-256 \`${sum.slice(0, 16)}…\`${created ? ', créée par la première mise à jour vers 10.0 et conservée pour les versions suivantes' : ''}.`,
    keyNone: 'Aucune clé glpicrypt.key dans le répertoire de configuration à la fin.',
    keyCreated: (c: string, step: string) => `Clé glpicrypt.key créée par la mise à jour, copiée à part avant l’étape \`${step}\`${NB}: \`${c}\`.`,
    maintenance: (after: string | undefined, off: boolean, state: string | undefined) =>
      `Mode maintenance de GLPI${NB}: ${after ? `activé ${after === 'start' ? 'avant la première étape' : `après l’étape \`${after}\``}` : 'jamais activé (aucune version ne le permettait)'}${off ? ', désactivé à la fin' : ''}. État à la fin de la commande${NB}: **${state === 'on' ? 'activé' : state === 'off' ? 'désactivé' : 'sans objet'}**${state === 'on' ? ` — la production, partiellement migrée, reste fermée jusqu’à \`apply --resume\` (qui le désactive à la fin) ou \`rollback\` (qui rend la sauvegarde, prise avant son activation)` : ''}.`,
  },
  en: {
    file: 'go-live-report.md',
    title: 'Go-live report',
    production: 'Production server',
    rehearsal: 'Rehearsal applied',
    plan: 'Plan (SHA-256)',
    backup: 'Pre-apply backup',
    backupTaken: 'taken by the command before the first write, and verified',
    backupGiven: 'given (--backup), equal to production when the apply started',
    rollback: 'Rollback',
    rollbackText: 'To give production back its state before the apply, run (with the same --glpi/--ocs addresses)',
    rolledBack: (n: number, at: string) => `Production was restored from the backup at ${at}: ${n} tables equal to the manifest (rows and checksums).`,
    preflight: 'Checks before the first write',
    steps: 'Steps: applied and rehearsed',
    stepHead: '| Step | Status | Duration on production | Duration in the rehearsal | Tables changed (rows before → after) |',
    status: { passed: 'passed', failed: 'failed', 'not-run': 'not run', skipped: 'skipped' },
    moved: 'Data that moved since the snapshot',
    movedText: 'Row count differences between the rehearsed snapshot and the production backup, which explain the differences between the apply and the rehearsal',
    movedNone: 'No table changed its row count between the snapshot and the backup.',
    final: 'Final state',
    structureEqual: 'The final structure (tables, columns, indexes, engines, collations) is equal to the rehearsal’s at its end.',
    structureDiff: (n: number) => `The final structure differs from the rehearsal’s in ${n} point(s):`,
    tables: (n: number, d: number) => `${n} tables compared; ${d} with another row count or checksum than in the rehearsal${d ? ' (data that moved since the snapshot)' : ''}.`,
    incomplete: 'The apply is not finished: see the journal and the steps above.',
    allowed: 'Steps not run, accepted with --allow-not-run',
    scenarioStatus: { passed: 'passed', failed: 'failed', 'not-run': 'not run' },
    functional: 'Application checks on production',
    functionalText:
      'Only read-only scenarios run on production (GLPI pages opened without logging in, reads, the requirements check): the others log in with a temporary account or click, which would write to the database, and the OCS console would need its password copied; they stay “not run” and belong to the manual checks.',
    functionalError: (e: string) => `The scenarios could not run: ${e}.`,
    glpiSide: 'GLPI beyond the database',
    configDir: (d: string, w: boolean) =>
      `Production GLPI's config directory: \`${d}\` — ${w ? 'config_db.php was written there by the command (it had none), with the address of production’s GLPI database' : 'its config_db.php was used as it is (copied aside first; a rollback puts the copy back)'}.`,
    keyBackup: (b: string, step: string) => `Existing glpicrypt.key copied aside before step \`${step}\`: \`${b}\`.`,
    keyEnd: (sum: string, created: boolean) => `glpicrypt.key at the end: SHA-256 \`${sum.slice(0, 16)}…\`${created ? ', created by the first 10.0 update and kept for the later releases' : ''}.`,
    keyNone: 'No glpicrypt.key in the config directory at the end.',
    keyCreated: (c: string, step: string) => `glpicrypt.key created by the update, copied aside before step \`${step}\`: \`${c}\`.`,
    maintenance: (after: string | undefined, off: boolean, state: string | undefined) =>
      `GLPI maintenance mode: ${after ? `turned on ${after === 'start' ? 'before the first step' : `after step \`${after}\``}` : 'never turned on (no release had it)'}${off ? ', turned off at the end' : ''}. State when the command ended: **${state ?? 'n/a'}**${state === 'on' ? ' — production, half-migrated, stays closed until `apply --resume` (which turns it off at the end) or `rollback` (which gives back the backup, taken before it was turned on)' : ''}.`,
  },
};

function seconds(ms: number | undefined, lang: Lang): string {
  if (ms === undefined) return '—';
  const s = (ms / 1000).toFixed(1);
  return lang === 'fr' ? `${s.replace('.', ',')}${NB}s` : `${s} s`;
}

function deltas(r: StepResult | undefined): string {
  if (!r || r.tableDeltas.length === 0) return '—';
  return r.tableDeltas.map((d) => `\`${d.table}\` ${d.before ?? '∅'} → ${d.after ?? '∅'}`).join(', ');
}

export function goLiveReportPath(runDir: string, lang: Lang): string {
  return path.join(applyDir(runDir), T[lang].file);
}

export async function renderGoLiveReport(runDir: string, lang: Lang = 'fr'): Promise<string> {
  const t = T[lang];
  const rec = readApplyRecord(runDir);
  const rehearsed = readRunSummary(runDir);
  if (!rec || !rehearsed) throw new NotFoundError(`${runDir}: no apply to report on (apply/apply.yaml)`);
  const appliedSteps = appliedRunDirs(runDir, rec).flatMap((d) => readRunSummary(d)?.steps ?? []);
  const out: string[] = [`# ${t.title}`, ''];
  out.push(
    `- ${t.production}${lang === 'fr' ? NB : ''}: \`${rec.production.hostPort}\` (${rec.production.serverVersion}), ${Object.values(rec.production.databases)
      .map((d) => `\`${d}\``)
      .join(', ')}`,
  );
  out.push(`- ${t.rehearsal}${lang === 'fr' ? NB : ''}: \`${rec.rehearsal.runId}\``);
  out.push(`- ${t.plan}${lang === 'fr' ? NB : ''}: \`${rec.rehearsal.planSha256}\``);
  for (const b of recordedBackups(rec)) {
    const where = rec.backups && rec.backups.length > 1 ? ` (${(b.roles ?? []).join(', ')}, \`${b.hostPort}\`)` : '';
    out.push(`- ${t.backup}${where}${lang === 'fr' ? NB : ''}: \`${b.id}\`, \`${b.dir}\` — ${b.taken ? t.backupTaken : t.backupGiven}`);
  }
  out.push('', `## ${t.preflight}`, '');
  for (const p of rec.preflight) out.push(`- \`${p.check}\`${lang === 'fr' ? NB : ''}: ${render(p.detail, lang)}`);
  if (rec.allowNotRun.length) out.push('', `${t.allowed}${lang === 'fr' ? NB : ''}: ${rec.allowNotRun.map((s) => `\`${s}\``).join(', ')}`);
  out.push('', `## ${t.steps}`, '', t.stepHead, '|---|---|---:|---:|---|');
  const byId = new Map((rehearsed as RunSummary).steps.map((s) => [s.stepId, s]));
  const order = new Map((rehearsed as RunSummary).steps.map((s, i) => [s.stepId, i]));
  appliedSteps.sort((a, b) => (order.get(a.stepId) ?? 0) - (order.get(b.stepId) ?? 0));
  for (const s of appliedSteps) {
    const r = byId.get(s.stepId);
    out.push(`| \`${s.stepId}\` | ${t.status[s.status] ?? s.status} | ${seconds(s.durationMs, lang)} | ${seconds(r?.durationMs, lang)} | ${deltas(s)} |`);
  }
  if (rec.backup) {
    out.push('', `## ${t.moved}`, '');
    const snap = await readManifest(path.resolve(runDir, rehearsed.snapshot.dir)).catch(() => undefined);
    const backs = await Promise.all(recordedBackups(rec).map((b) => readManifest(b.dir).catch(() => undefined)));
    const moved: string[] = [];
    for (const d of backs.flatMap((m) => m?.databases ?? [])) {
      const before = new Map((snap?.databases.find((x) => x.role === d.role)?.tables ?? []).map((x) => [x.name, x.rows]));
      for (const x of d.tables) if (before.get(x.name) !== x.rows) moved.push(`- \`${d.name}.${x.name}\`${lang === 'fr' ? NB : ''}: ${before.get(x.name) ?? '∅'} → ${x.rows}`);
    }
    out.push(moved.length ? `${t.movedText}${lang === 'fr' ? NB : ''}:` : t.movedNone, '', ...moved);
  }
  if (rec.glpiConfig) {
    const g = rec.glpiConfig;
    out.push('', `## ${t.glpiSide}`, '', `- ${t.configDir(g.dir, g.configDb === 'written')}`);
    for (const b of g.keyBackups) out.push(`- ${t.keyBackup(b.backup, b.before)}`);
    if (g.keyCreated) out.push(`- ${t.keyCreated(g.keyCreated.copy, g.keyCreated.before)}`);
    out.push(`- ${g.keyAtEnd ? t.keyEnd(g.keyAtEnd.sha256, g.keyAtEnd.createdByApply) : t.keyNone}`);
    out.push(`- ${t.maintenance(g.maintenance.enabledAfter, Boolean(g.maintenance.disabledAt), g.maintenance.state)}`);
  }
  if (rec.functional) {
    out.push('', `## ${t.functional}`, '', t.functionalText, '');
    if (rec.functional.error) out.push(t.functionalError(rec.functional.error));
    else {
      const results = readFunctionalResultsFile(rec.functional.resultsFile);
      for (const sc of results?.scenarios ?? [])
        out.push(
          `- \`${sc.id}\` ${render(sc.title, lang)}${lang === 'fr' ? NB : ''}: ${t.scenarioStatus[sc.status] ?? sc.status}${sc.status !== 'passed' && sc.reason ? ` — ${render(sc.reason, lang)}` : ''}`,
        );
    }
  }
  out.push('', `## ${t.final}`, '');
  if (rec.final) {
    out.push(rec.final.structureEqual ? t.structureEqual : t.structureDiff(rec.final.structureDifferences.length));
    for (const d of rec.final.structureDifferences.slice(0, 50)) out.push(`- ${d}`);
    out.push('', t.tables(rec.final.tablesCompared, rec.final.tablesDiffering.length));
  } else {
    out.push(t.incomplete);
  }
  out.push('', `## ${t.rollback}`, '');
  if (rec.rollback) out.push(t.rolledBack(rec.rollback.tables, rec.rollback.finishedAt));
  else out.push(`${t.rollbackText}${lang === 'fr' ? NB : ''}:`, '', '```sh', `glpi-ocs-upgrade rollback ${runDir} ${confirmFlags(recordedHostPorts(rec))}`, '```');
  return `${out.join('\n')}\n`;
}

export async function writeGoLiveReport(runDir: string, opts: { lang?: Lang } = {}): Promise<string> {
  const lang = opts.lang ?? 'fr';
  const file = goLiveReportPath(runDir, lang);
  fs.writeFileSync(file, await renderGoLiveReport(runDir, lang));
  return file;
}

/** For --json consumers. */
export function goLiveData(runDir: string): unknown {
  const rec = readApplyRecord(runDir);
  if (!rec) throw new NotFoundError(`${runDir} has no apply record (apply/apply.yaml)`);
  return rec;
}
