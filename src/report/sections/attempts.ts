/**
 * The dossier's "attempts and rollbacks" section, from the journal (the run's single truth): every attempt
 * of the run directory (a failed attempt is evidence, even when a later one passed), every rollback of a
 * step, and what a resume had to stop or repair (an updater left running, sessions held on the instance, a
 * torn journal line, a lock left by a dead process). Nothing when the run was one attempt without any of it.
 */
import type { JournalEvent, RunAttempt } from '../../rehearse/run-types.ts';
import { journalState } from '../../formats/journal.ts';
import { code, esc, heading, table } from '../md.ts';

type Lang = 'fr' | 'en';

const OUTCOME: Record<RunAttempt['outcome'], Record<Lang, string>> = {
  complete: { fr: 'terminée, toutes les étapes réussies', en: 'complete, every step passed' },
  incomplete: { fr: 'incomplète', en: 'incomplete' },
  failed: { fr: 'en échec', en: 'failed' },
  interrupted: { fr: 'interrompue', en: 'interrupted' },
  abandoned: { fr: 'abandonnée pour une nouvelle tentative', en: 'abandoned for a new attempt' },
  running: { fr: 'en cours ou arrêtée brutalement', en: 'running or killed' },
};

const CAUSE: Record<string, Record<Lang, string>> = {
  failed: { fr: 'échec de l’étape', en: 'the step failed' },
  interrupted: { fr: 'interruption (signal)', en: 'interruption (signal)' },
  crash: { fr: 'arrêt brutal de l’outil, constaté à la reprise', en: 'the tool was killed, found on resume' },
};

const MODE: Record<string, Record<Lang, string>> = {
  copy: { fr: 'copie des tables', en: 'copy of the tables' },
  replay: { fr: 'restauration et rejeu', en: 'restore and replay' },
  none: { fr: 'rien à défaire', en: 'nothing to undo' },
};

function ids(list: string[]): string {
  return list.length ? list.map(code).join(', ') : '—';
}

function changesText(a: RunAttempt, lang: Lang): string {
  const c = a.planChanges;
  if (!c) return a.attempt === 1 ? (lang === 'fr' ? 'plan initial' : 'initial plan') : '—';
  const parts: string[] = [];
  const sep = lang === 'fr' ? '\u00a0: ' : ': ';
  if (c.removed.length) parts.push(`${lang === 'fr' ? 'retirées' : 'removed'}${sep}${ids(c.removed)}`);
  if (c.added.length) parts.push(`${lang === 'fr' ? 'ajoutées' : 'added'}${sep}${ids(c.added)}`);
  if (c.changed.length) parts.push(`${lang === 'fr' ? 'modifiées' : 'edited'}${sep}${ids(c.changed)}`);
  if (c.moved.length) parts.push(`${lang === 'fr' ? 'déplacées' : 'moved'}${sep}${ids(c.moved)}`);
  if (parts.length === 0) return lang === 'fr' ? 'mêmes étapes' : 'same steps';
  return parts.join(lang === 'fr' ? '\u00a0; ' : '; ');
}

/** Markdown blocks of the section (empty when there is nothing to say). */
export function attemptsSection(journal: JournalEvent[], lang: Lang): string[] {
  const st = journalState(journal);
  const interventions = journal.filter((e) => e.event === 'process-stopped' || e.event === 'sessions-killed' || e.event === 'journal-repaired' || e.event === 'lock-taken-over');
  if (st.attempts.length <= 1 && st.rollbacks.length === 0 && interventions.length === 0) return [];
  const fr = lang === 'fr';
  const out: string[] = [
    heading(2, fr ? 'Tentatives et retours arrière' : 'Attempts and rollbacks'),
    fr
      ? 'Chaque tentative de ce répertoire de répétition, chaque retour arrière d’une étape et chaque intervention faite à la reprise, tels que le journal les enregistre. Une tentative en échec reste une preuve, même quand une tentative suivante a réussi.'
      : 'Every attempt of this run directory, every rollback of a step and every intervention made on resume, as the journal records them. A failed attempt remains evidence, even when a later attempt passed.',
  ];
  out.push(
    heading(3, fr ? 'Tentatives' : 'Attempts'),
    table(
      fr ? ['N°', 'Début', 'Plan (SHA-256)', 'Étapes', 'Issue', 'Étapes en échec', 'Changements du plan'] : ['No.', 'Started', 'Plan (SHA-256)', 'Steps', 'Outcome', 'Failed steps', 'Plan changes'],
      st.attempts.map((a) => [
        String(a.attempt),
        esc(a.startedAt),
        a.planSha256 ? code(a.planSha256.slice(0, 12)) : '—',
        a.steps === undefined ? '—' : String(a.steps),
        OUTCOME[a.outcome][lang],
        ids(a.failedSteps),
        changesText(a, lang),
      ]),
    ),
  );
  if (st.rollbacks.length) {
    out.push(
      heading(3, fr ? 'Retours arrière' : 'Rollbacks'),
      table(
        fr ? ['Étape', 'Cause', 'Méthode', 'Résultat'] : ['Step', 'Cause', 'Method', 'Result'],
        st.rollbacks.map((r) => [
          code(r.stepId),
          CAUSE[r.cause]?.[lang] ?? esc(r.cause),
          MODE[r.mode]?.[lang] ?? esc(r.mode),
          r.ok
            ? fr
              ? 'état d’avant l’étape rétabli et vérifié'
              : 'pre-step state restored and verified'
            : `${fr ? 'échec du retour arrière' : 'rollback failed'}${r.detail ? ` (${code(r.detail)})` : ''}`,
        ]),
      ),
    );
  }
  if (interventions.length) {
    out.push(heading(3, fr ? 'Interventions à la reprise' : 'Interventions on resume'));
    const items = interventions.map((e) => {
      switch (e.event) {
        case 'process-stopped':
          return e.signal === 'already-gone'
            ? fr
              ? `processus ${code(String(e.pid))} de l’étape ${code(e.stepId ?? '?')} déjà terminé`
              : `process ${code(String(e.pid))} of step ${code(e.stepId ?? '?')} had already ended`
            : fr
              ? `programme de mise à jour laissé en marche (processus ${code(String(e.pid))}, étape ${code(e.stepId ?? '?')}) arrêté par ${code(e.signal)}`
              : `updater left running (process ${code(String(e.pid))}, step ${code(e.stepId ?? '?')}) stopped with ${code(e.signal)}`;
        case 'sessions-killed':
          return fr ? `${e.ids.length} session(s) laissée(s) sur l’instance de test fermée(s)` : `${e.ids.length} session(s) left on the test instance killed`;
        case 'journal-repaired':
          return fr ? `ligne ${e.line} du journal tronquée par l’arrêt brutal (${e.bytes} octets) écartée` : `journal line ${e.line}, torn by the kill (${e.bytes} bytes), cut off`;
        case 'lock-taken-over':
          return fr ? `verrou laissé par le processus arrêté ${code(String(e.holderPid))} repris` : `lock left by the dead process ${code(String(e.holderPid))} taken over`;
        default:
          return '';
      }
    });
    out.push(items.map((text, i) => `- ${esc(interventions[i].t)} — ${text}`).join('\n'));
  }
  return out;
}
