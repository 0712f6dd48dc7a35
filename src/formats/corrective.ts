/**
 * A corrective migration file, migrations/corrective/<id>.yaml (docs/plan.md): the schema, its type and the
 * one parser (the files are data shipped with the tool: nothing writes them). A broken file is reported by
 * `invalid` (exit 1, INTERNAL: the tool's own data is wrong) naming the file, the path and what is wrong.
 * The checksum (sha256 of the file's bytes) is computed by the loader, not here.
 */
import { bilingual } from './message.ts';
import { nonEmpty, parseDocument, parseYamlText, show, z } from './schema.ts';

/** The plan step kind a migration must precede. */
export const correctiveBefore = z.enum(['glpi-db-update', 'ocs-bridge', 'ocs-update-file', 'plugin-install', 'any']);
export type CorrectiveBefore = z.infer<typeof correctiveBefore>;

/** A check query: it must be a SELECT (its first column: > 0 before, 0 after). */
const select = z.string({ error: (iss) => `expected a SELECT, got ${show(iss.input)}` }).regex(/^\s*select/i, { error: (iss) => `expected a SELECT, got ${show(iss.input)}` });

export const correctiveFileSchema = z.strictObject({
  /** Equals the file name (checked by the parser, which knows it). */
  id: z.string(),
  database: z.enum(['glpi', 'ocs']),
  /** Given in both languages by the file; read as a literal message. */
  title: bilingual,
  fixes: z.array(z.string()),
  before: correctiveBefore,
  touches: z.array(z.string()),
  precheck: select,
  statements: nonEmpty(z.string()),
  postcheck: select,
  /** Not needed on the default path (e.g. GLPI 10.0 already does it): the plan may leave it out. */
  optional: z.boolean().optional(),
});

export type CorrectiveFile = z.infer<typeof correctiveFileSchema>;

/**
 * Parses the text of `<id>.yaml`; `label` names the file in messages. A file whose `id` is not `id` is refused.
 */
export function parseCorrectiveFile(text: string, id: string, label: string, invalid: (message: string) => Error): CorrectiveFile {
  const doc = parseYamlText(text, label, invalid);
  const m = parseDocument(correctiveFileSchema, doc, label, invalid);
  if (m.id !== id) throw invalid(`${label}: id: expected the file name ${JSON.stringify(id)}, got ${show(m.id)}`);
  return m;
}
