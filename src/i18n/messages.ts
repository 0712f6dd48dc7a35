/**
 * Messages: what domain code says to people, as an id and its parameters, rendered in a language only at the
 * edges (CLI output, documents). Saved files carry messages, never paired prose.
 *
 * `MessageParams` is the one source of the ids: each id names the parameters its texts need, and each
 * language's catalog (src/i18n/en.ts, fr.ts) is typed `Catalog`, so a missing or misspelt id in either
 * language, or a text using a parameter its id does not have, is a build error.
 *
 * Two ids are not in the catalogs:
 * - `literal`: a text given in both languages by data that is itself bilingual (a catalog YAML entry's
 *   `notes` / `notes_fr`, a corrective migration's or a scenario's `{ fr, en }` title), or read from a file
 *   written before messages existed (its English and French twins, or its `{ en, fr }` pairs);
 * - `joined`: several messages printed one after the other, separated by a space.
 */

/** The parameters of a message that needs none. */
export type NoParams = Record<string, never>;

/** Every catalog message id, with its parameters. */
export interface MessageParams {
  // --- plan notes
  'plan.glpi-target-ignored': { target: string };
  'plan.ocs-target-ignored': { target: string };
  'plan.no-glpi-no-connector': NoParams;
  'plan.glpi-at-target': { target: string };
  'plan.glpi-myisam-refused': { release: string; current: string };
  'plan.glpi-engines-unknown': { release: string; current: string; via: string };
  'plan.glpi-route': { route: string; hops: number };
  'plan.glpi-hop-updater': { to: string; acceptsFrom: string; from: string };
  'plan.glpi-branches-skipped': { branches: string[] };
  'plan.glpi-older-target': { target: string; newest: string };
  'plan.ocs-after-plugin': { plugin?: Message };
  'plan.ocs-first': NoParams;
  'plan.no-plugin-for-glpi': { release: string };
  'plan.connector-late-migration': NoParams;
  'plan.connector-end': { installed: string; ocs?: string };
  'plan.connector-native': NoParams;
  'plan.connector-none': NoParams;
  'plan.ocs-at-target': { target: string; gui: number };
  'plan.ocs-bridge': { source: number; file: string; release: string; to: number; target: number };
  'plan.ocs-7006': { gui: number };
  'plan.ocs-steps': { count: number; target: string; gui: number };
  'plan.corrective-none': NoParams;
  'plan.corrective-planned': { ids: string[] };
  'plan.corrective-skipped': { ids: string[] };
  // --- audit: why a check did not run
  'audit.skip.no-database': { product: 'GLPI' | 'OCS' };
  'audit.skip.glpi-older': { version: string; min: string };
  'audit.skip.glpi-newer': { version: string; max: string };
  'audit.skip.gui-older': { gui: number; min: number };
  'audit.skip.gui-newer': { gui: number; max: number };
  'audit.skip.no-connector': NoParams;
  'audit.skip.connector-form': { mode: string };
  'audit.skip.no-table': { table: string };
  'audit.skip.no-softwares': NoParams;
  'audit.skip.columns-missing': { table: string; columns: string[] };
  'audit.skip.no-connector-tables': NoParams;
  'audit.skip.gui-version-unknown': NoParams;
  'audit.skip.no-ocs-server': NoParams;
  'audit.skip.no-server-with-id': { id: number; table: string };
  'audit.skip.servers-empty': { table: string };
  'audit.skip.servers-ambiguous': { count: number; table: string };
  'audit.skip.no-import-switches': NoParams;
  'audit.skip.connector-is-plugin': NoParams;
  'audit.skip.no-right-columns': { table: string };
  'audit.skip.no-reference-source': NoParams;
  'audit.skip.glpi-version-unknown': NoParams;
  'audit.skip.no-glpi-reference': { file: string };
  'audit.skip.gui-not-in-catalog': { gui: number };
  'audit.skip.no-ocs-reference': { release: string };
  // --- rehearsal: pre-checks
  'precheck.restore.title': { role: string };
  'precheck.restore.ok': { tables: number; rows: number };
  'precheck.restore.differs': { count: number; tables: Array<{ table: string; rows: number; expectedRows: number; checksum: string; expectedChecksum: string }> };
  // --- apply: checks before the first write on production
  'apply.preflight.sessions': NoParams;
  'apply.preflight.versions': NoParams;
  'apply.preflight.structure': NoParams;
  'apply.preflight.audit': { checked: number; found: string[]; notRehearsed?: string[] };
  'apply.preflight.glpi-config': { dir: string; database: string; hasConfigDb: boolean; hasKey: boolean };
  'apply.preflight.distributions': { given: string[] };
  'apply.preflight.rollback-possible': NoParams;
  'apply.preflight.allow-not-run': { step: string };
  // --- plan steps: titles and explanations
  'step.glpi-update.title': { from: string; to: string; updater: string };
  'step.glpi-update.updates': { from: string; to: string; updater: string; acceptsFrom: string };
  'step.glpi-update.branches': { branches: string[] };
  'step.glpi-update.schema-check': { from: string };
  'step.glpi-update.not-in-archive': { entry: string; to: string };
  'step.glpi-update.ocs-out-of-core': NoParams;
  'step.conversion.title': { release: string; command: string };
  'step.conversion.explanation': { index: number; total: number; branch: string; what: Message };
  'step.check.title': { release: string; command: string };
  'step.check.explanation': { release: string };
  'step.plugin.title': { update: boolean; version: string; release: string };
  'step.plugin.carries-core': { version: string; branch: string; min: string; maxExclusive: string };
  'step.plugin.proven': { proven: Message };
  'step.plugin.dump-first': NoParams;
  'step.plugin.update': { installed?: string; version: string; branch: string };
  'step.plugin.fresh': { version: string; branch: string };
  'step.plugin.glpi11': NoParams;
  'step.plugin.web-install': { release: string };
  'step.plugin.ocs-limit': { guiMax: number };
  'step.ocs-bridge.title': { from: number; to: number; file: string; release: string };
  'step.ocs-bridge.explanation': { from: number; to: number; file: string; release: string; notes: Message };
  'step.ocs-file.title': { from: number; to: number; file: string };
  'step.ocs-file.applies': { file: string; release: string; gui: number };
  'step.ocs-php.title': { gui: number; fn: string };
  'step.ocs-php.explanation': { gui: number; fn: string; what: Message; onlyIf?: Message; notes?: Message };
  'step.corrective.title': { id: string };
  'step.corrective.explanation': { id: string; title: Message; before: string };
  // --- rehearsal: why a step failed, did not run, or what it did (run.yaml steps[].reason)
  'result.no-database': { role: string };
  'result.error': { message: string };
  'result.interrupted': NoParams;
  'result.blocked': { blocker: string };
  'result.apply-stopped': { step: string };
  'result.dry-run': { reason?: Message };
  'result.corrective.missing': { migration: string };
  'result.corrective.no-database': { role: string };
  'result.corrective.nothing': NoParams;
  'result.corrective.done': { precheck: number; postcheck: number; statements: number };
  'result.corrective.still': { postcheck: number };
  'result.ocs.statements': { total: number; ok: number; expectedErrors: number; failed: number };
  'result.ocs.no-database': { step: string };
  'result.ocs.not-ocs': { database: string };
  'result.ocs.gui-version': { gui?: number };
  'result.ocs.bridge-not-needed': { gui: number };
  'result.ocs.official-bridge': { summary: Message };
  'result.ocs.official-bridge-failed': { failed: number; index?: number; message?: string };
  'result.ocs.official-bridge-version': { is: Message };
  'result.ocs.tool-bridge-7005-only': { gui: number };
  'result.ocs.tool-bridge': { summary: Message };
  'result.ocs.tool-bridge-failed': { index?: number; message?: string };
  'result.ocs.no-dist': NoParams;
  'result.ocs.no-update-file': { target: number };
  'result.ocs.file-applied-before': { gui: number; target: number };
  'result.ocs.file-out-of-order': { gui: number; target: number };
  'result.ocs.file-failed': { target: number; index: number; code: string; message: string; after?: number };
  'result.ocs.file-version': { target: number; after?: number };
  'result.ocs.php-unknown': { change: string; known: string[] };
  'result.ocs.php-error': { change: string; error: string };
  'result.glpi.no-database': { step: string };
  'result.glpi.no-dist': { release: string; given: string[] };
  'result.glpi.no-vendor': { dir: string };
  'result.glpi.no-console': { dir: string };
  'result.glpi.php-unusable': { php: string; message: string };
  'result.glpi.php-range': { version: string; php: string; glpi: string; range?: string };
  'result.glpi.old-updater': { release: string; entry: string };
  'result.glpi.version-rows': { version?: string; dbversion?: string; problems: string[] };
  'result.glpi.update-version': { exitCode: number; rows: Message; expected: string; refused: boolean };
  'result.glpi.update-exit': { exitCode: number; rows: Message };
  'result.glpi.updated': { before: Message; after: Message; ms: number };
  'result.glpi.schema-differs': { command: string };
  'result.glpi.exit-code': { command: string; exitCode: number };
  'result.glpi.version-changed': { command: string; before: Message; after: Message };
  'result.glpi.exited-0': { command: string; ms: number };
  'result.list': { items: Message[] };
  'result.ocs-php.no-table': { table: string };
  'result.ocs-php.accountinfo-converted': { rows: number };
  'result.ocs-php.snmp-off': NoParams;
  'result.ocs-php.snmp-table-missing': { table: string };
  'result.ocs-php.lastdate-added': { table: string };
  'result.ocs-php.nothing': NoParams;
  // --- functional tests: why a scenario failed or did not run
  'functional.no-data': { error: string };
  'functional.production-ocs': NoParams;
  'functional.production-writes': NoParams;
  'functional.step-failed': { step: string; error: string };
  'functional.assertions-failed': { failed: Array<{ assertion: string; detail: Message }> };
  'functional.cannot-serve': { app: string; error: string };
  'functional.no-chromium-start': { error: string };
  'functional.no-glpi-dist': NoParams;
  'functional.glpi-no-vendor': { dir: string };
  'functional.glpi-no-public': { dir: string };
  'functional.no-glpi-db': NoParams;
  'functional.no-ocs-dist': NoParams;
  'functional.ocs-not-servable': { problem: string };
  'functional.no-ocs-db': NoParams;
  'functional.no-playwright': NoParams;
  'functional.php-cannot-run': { php: string };
  'functional.no-chromium': { path: string };
  // --- functional tests: assertion details (texts quoted from the page are cut at 120 characters when shown)
  'functional.http': { status: number | null };
  'functional.php-errors': { count: number; first: string };
  'functional.none': NoParams;
  'functional.no-console-step': NoParams;
  'functional.console-exit': { exitCode: number; last: string };
  'functional.element': { found: boolean };
  'functional.found': { text: string };
  'functional.not-on-page': { text: string };
  'functional.no-match': { source: string };
  'functional.selector-absent': { selector: string };
  'functional.unknown-assertion': NoParams;
  'functional.assertion-error': { error: string };
  'functional.double-encoded': { bad: string[]; shown: string; equal: boolean };
  'functional.differs': { at: number; page: string; database: string };
  'functional.identical': { bytes: number; text: string };
  'result.plugin.no-dist': { version: string };
  'result.plugin.exit': { command: string; exitCode: number };
  'result.plugin.no-row': NoParams;
  'result.plugin.wrong-row': { version: string; state: number; expected: string };
  'result.plugin.sql-errors': { count: number; first: string };
  'result.plugin.check': { check: string; detail: Message };
  'result.plugin.installed': { version: string };
  'result.plugin.links': { before: number; after: number; missing: string[] };
  'result.plugin.servers': { before: number; after: number };
  'result.plugin.count': { table: 'registrykeys' | 'ocsadmininfoslinks'; before: number; after: number };
  'result.plugin.rules': { before: number; missing: string[] };
  'result.plugin.cron': { before: string; after?: string };
  // --- audit: check titles and manual remedies
  'audit.title.duplicates': { table: string; columns: string[]; addedIn: string | Message };
  'audit.added-in.glpi.duplicates.documentcategories': NoParams;
  'audit.added-in.glpi.duplicates.computers_softwareversions': NoParams;
  'audit.added-in.glpi.duplicates.documents_items': NoParams;
  'audit.added-in.glpi.duplicates.displaypreferences': NoParams;
  'audit.remedy.glpi.dates.after_2038': { max: string };
  'audit.remedy.same-fix': { migration: string; table?: string };
  'audit.data-instants': NoParams;
  'audit.remedy.glpi.duplicates.reservationitems': NoParams;
  'audit.remedy.glpi.duplicates.documentcategories': NoParams;
  'audit.title.glpi.dates.zero_values': NoParams;
  'audit.title.glpi.dates.zero_defaults': NoParams;
  'audit.remedy.glpi.dates.zero_defaults': NoParams;
  'audit.title.glpi.dates.after_2038': NoParams;
  'audit.title.glpi.ids.negative': NoParams;
  'audit.remedy.glpi.ids.negative': NoParams;
  'audit.title.glpi.ids.oversized': NoParams;
  'audit.remedy.glpi.ids.oversized': NoParams;
  'audit.title.glpi.text.double_encoded': NoParams;
  'audit.remedy.glpi.text.double_encoded': NoParams;
  'audit.title.glpi.text.replacement_chars': NoParams;
  'audit.remedy.glpi.text.replacement_chars': NoParams;
  'audit.title.glpi.text.latin1_holding_utf8': NoParams;
  'audit.remedy.glpi.text.latin1_holding_utf8': NoParams;
  'audit.title.glpi.text.large_values': NoParams;
  'audit.remedy.glpi.text.large_values': NoParams;
  'audit.title.glpi.tables.mixed_engines': NoParams;
  'audit.remedy.glpi.tables.mixed_engines': NoParams;
  'audit.title.glpi.tables.mixed_collations': NoParams;
  'audit.remedy.glpi.tables.mixed_collations': NoParams;
  'audit.title.glpi.tables.row_size': NoParams;
  'audit.remedy.glpi.tables.row_size': NoParams;
  'audit.title.glpi.schema.drift': NoParams;
  'audit.remedy.glpi.schema.drift': NoParams;
  'audit.title.ocs.software.null_fields': NoParams;
  'audit.title.ocs.batteries.dropped': NoParams;
  'audit.remedy.ocs.batteries.dropped': NoParams;
  'audit.title.ocs.tables.myisam': NoParams;
  'audit.title.ocs.schema.drift': NoParams;
  'audit.remedy.ocs.schema.drift': NoParams;
  'audit.title.ocs.version.target_refuses': NoParams;
  'audit.remedy.ocs.version.target_refuses': NoParams;
  'audit.title.link.orphan_links': NoParams;
  'audit.title.link.multiple_links': NoParams;
  'audit.title.link.vanished_hardware': NoParams;
  'audit.remedy.link.vanished_hardware': NoParams;
  'audit.title.link.never_imported': NoParams;
  'audit.remedy.link.never_imported': NoParams;
  'audit.title.link.stale': NoParams;
  'audit.remedy.link.stale': NoParams;
  'audit.title.ocs.trace_deleted_off': NoParams;
  'audit.remedy.ocs.trace_deleted_off': NoParams;
  'audit.title.ocs.deleted_equiv_backlog': NoParams;
  'audit.remedy.ocs.deleted_equiv_backlog': NoParams;
  'audit.title.link.declared_version': NoParams;
  'audit.remedy.link.declared_version': NoParams;
  'audit.title.link.synchronised_fields_empty': NoParams;
  'audit.remedy.link.synchronised_fields_empty': NoParams;
  'audit.title.link.glpicrypt_key_needed': NoParams;
  'audit.remedy.link.glpicrypt_key_needed': NoParams;
  'audit.title.plugin.lost_profile_rights': NoParams;
  'audit.remedy.plugin.lost_profile_rights': NoParams;
  'audit.title.plugin.password_special_chars': NoParams;
  'audit.remedy.plugin.password_special_chars': NoParams;
  // --- rehearsal: anomalies (run.yaml anomalies[])
  'anomaly.row-count.title': { table: string };
  'anomaly.row-count.detail': { before: number | null; after: number | null; step: string };
  'anomaly.undetected.title': { table: string };
  'anomaly.undetected.detail': { table: string; step: string };
  'anomaly.untouched.title': { table: string };
  'anomaly.untouched.detail': { table: string; step: string };
  'anomaly.deleted.title': { rows: number; table: string };
  'anomaly.deleted.detail': { why: string };
  'anomaly.deleted.remedy': NoParams;
  'anomaly.step-failed.title': { step: string };
  'anomaly.step-failed.detail': { reason?: Message };
  'anomaly.finding.detail': { count: number; recheck?: boolean; migration?: string };
  'anomaly.finding.remedy-migration': { migration: string };
  'anomaly.functional.title': { id: string; title: Message };
  'anomaly.functional.detail': { reason?: Message };
}

export type MessageId = keyof MessageParams;

/** A text in both languages, given by bilingual data or by a file written before messages existed. */
export interface LiteralMessage {
  id: 'literal';
  params: { en: string; fr: string };
}

/** Messages printed one after the other, separated by a space (a step's explanation, sentence by sentence). */
export interface JoinedMessage {
  id: 'joined';
  params: { parts: Message[] };
}

export type CatalogMessage = { [K in MessageId]: { id: K; params: MessageParams[K] } }[MessageId];
export type Message = CatalogMessage | LiteralMessage | JoinedMessage;

export type Lang = 'en' | 'fr';

/** One language's texts: a function per id, given the id's parameters and `t` to render a nested message. */
export type Catalog = { readonly [K in MessageId]: (p: MessageParams[K], t: (m: Message) => string) => string };

/** A catalog message; its parameters are checked against its id. */
export function msg<K extends MessageId>(id: K, params: MessageParams[K]): { id: K; params: MessageParams[K] } {
  return { id, params };
}

/** A text given in both languages by bilingual data (a catalog entry) or by an older file. */
export function literal(en: string, fr: string): LiteralMessage {
  return { id: 'literal', params: { en, fr } };
}

export function joined(parts: Message[]): JoinedMessage {
  return { id: 'joined', params: { parts } };
}
