/**
 * The texts of a plan read from disk, as messages. Plans written before messages existed carry English
 * strings with French twins (`titleFr`, `explanationFr`, `notesFr`, `rowsDeleted[].whyFr`): they are turned
 * into literal messages here, in place, before the plan is checked, so both plan readers (parsePlan in
 * src/formats/plan.ts, which every stage goes through) sees one shape.
 */
import { fromSaved } from '../i18n/saved.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Upgrades an older plan's paired texts to messages, in place; returns a problem when `notesFr` and `notes` do not go one for one. */
export function upgradePlanTexts(doc: Obj): string | undefined {
  let problem: string | undefined;
  if (Array.isArray(doc.steps)) {
    for (const s of doc.steps) {
      if (!isObj(s)) continue;
      s.title = fromSaved(s.title, s.titleFr);
      s.explanation = fromSaved(s.explanation ?? '', s.explanationFr);
      delete s.titleFr;
      delete s.explanationFr;
      const rows = isObj(s.expected) ? s.expected.rowsDeleted : undefined;
      if (Array.isArray(rows)) {
        for (const r of rows) {
          if (!isObj(r)) continue;
          r.why = fromSaved(r.why, r.whyFr);
          delete r.whyFr;
        }
      }
    }
  }
  if (Array.isArray(doc.notes)) {
    let fr = Array.isArray(doc.notesFr) ? doc.notesFr : undefined;
    if (fr && fr.length !== doc.notes.length) {
      problem = `notesFr has ${fr.length} entries, notes has ${doc.notes.length} (they go one for one)`;
      fr = undefined;
    }
    doc.notes = doc.notes.map((n, i) => fromSaved(n, fr?.[i]));
    delete doc.notesFr;
  }
  return problem;
}
