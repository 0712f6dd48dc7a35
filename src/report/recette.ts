/**
 * `recette.yaml` (format 1): what the customer and the supplier agreed, which no run can know. Read by
 * `dossier --recette FILE` and `dat --recette FILE`; everything in it shows in the documents, and whatever it
 * overrides is marked as such. The schema, its types, the reader and the writer are in src/formats/recette.ts.
 */
import { parseRecette, readRecetteFile } from '../formats/recette.ts';
import type { Recette } from '../formats/recette.ts';

export { ANOMALY_STATES, stringifyRecette } from '../formats/recette.ts';
export type { AnomalyFollowUp, AnomalyState, ManualStatus, ManualTest, Recette, RecettePerson, Reserve, SeverityChange } from '../formats/recette.ts';

/** Checks a parsed recette.yaml; `label` names the file in errors. */
export function checkRecette(doc: unknown, label = 'recette.yaml'): Recette {
  return parseRecette(doc, label);
}

/** Reads and checks a recette.yaml file. */
export function loadRecette(file: string): Recette {
  return readRecetteFile(file);
}
