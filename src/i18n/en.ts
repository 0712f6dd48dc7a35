/** English texts of the messages (CLI output, JSON readers, `--lang en` documents). Same ids as fr.ts: see messages.ts. */
import type { Catalog } from './messages.ts';

export const en = {
  // --- plan notes
  'plan.glpi-target-ignored': (p) => `--glpi-target ${p.target} ignored: no GLPI database was given.`,
  'plan.ocs-target-ignored': (p) => `--ocs-target ${p.target} ignored: no OCS database was given.`,
  'plan.no-glpi-no-connector': () => 'No GLPI database: no connector step.',
  'plan.glpi-at-target': (p) => `GLPI is already at the target ${p.target}: no GLPI update step.`,
  'plan.glpi-myisam-refused': (p) =>
    `GLPI ${p.release} refuses MyISAM tables and the database may still hold some (GLPI ${p.current}): the route stops at an earlier release whose conversions run first.`,
  'plan.glpi-engines-unknown': (p) =>
    `GLPI ${p.release} refuses MyISAM tables; the table engines of this ${p.current} database are unknown and assumed InnoDB (GLPI creates InnoDB tables from 9.3). If some are MyISAM, plan again from a snapshot or with --glpi-via ${p.via}.`,
  'plan.glpi-route': (p) => `GLPI ${p.route}: ${p.hops} hop${p.hops > 1 ? 's' : ''}, the fewest the maintainers' updaters support.`,
  'plan.glpi-hop-updater': (p) => `${p.to}'s updater accepts databases from ${p.acceptsFrom} and runs every migration from ${p.from} itself.`,
  'plan.glpi-branches-skipped': (p) =>
    `Intermediate branches ${p.branches.join(', ')} are not installed: each would need its own PHP stack, and GLPI's own advice is to update old databases through 10.0.x (PR #13845, issue #15983).`,
  'plan.glpi-older-target': (p) => `Target ${p.target} was asked for; the newest release in the catalog is ${p.newest}.`,
  'plan.ocs-after-plugin': (p, t) =>
    `OCS steps come after the connector plugin that reads the target OCS schema is in place (${p.plugin ? t(p.plugin) : 'plugin'}): an older connector cannot read OCS ≥ 2.8 (the softwares table is gone).`,
  'plan.ocs-first': () => 'OCS steps come first: they do not depend on any GLPI step here.',
  'plan.no-plugin-for-glpi': (p) => `No ocsinventoryng release supports GLPI ${p.release}: the connector waits for a later step.`,
  'plan.connector-late-migration': () =>
    "Connector: GLPI's 0.84 migration renames the 0.83 core OCS tables to ocs_glpi_*; the ocsinventoryng plugin release of the GLPI step reached then carries them into its tables. This late migration was rehearsed for real (GLPI 10.0.19 + plugin 2.0.5: servers, links, rules, cron task kept; the OCS password and profile rights need the fixes listed as hazards). The alternative, migrating at a 0.84 hop with plugin 1.0.x (--glpi-via 0.84.8), needs a PHP 5 stack and the web interface, and was not rehearsed.",
  'plan.connector-end': (p) => `Connector at the end: ocsinventoryng ${p.installed}${p.ocs ? `, which reads OCS ${p.ocs} (OCS ≥ 2.8 needs plugin ≥ 1.7.1)` : ''}.`,
  'plan.connector-native': () =>
    "Connector: GLPI's native inventory (GLPI Agent) is the maintainers' recommended direction for new setups, but nothing migrates OCS data into it: agents are redeployed and computers are inventoried again. No connector step is planned; the ocs_glpi_* / plugin tables are left as they are (archive or drop them after acceptance).",
  'plan.connector-none': () => "Connector: none asked for; the connector data is left as it is (GLPI's updates deactivate plugins).",
  'plan.ocs-at-target': (p) => `OCS is already at the target ${p.target} (GUI_VERSION ${p.gui}): no OCS step.`,
  'plan.ocs-bridge': (p) =>
    `OCS: GUI_VERSION ${p.source} has no update file; the bridge (${p.file} of OCS ${p.release}) brings it to ${p.to}, then every files/update/NNNN.sql up to ${p.target} runs one by one. The install.php of later releases is never used: 2.3–2.5 skip update files, 2.6–2.8 loop, 2.8.1+ drop every table.`,
  'plan.ocs-7006': (p) => `OCS: GUI_VERSION ${p.gui} (2.1.2's 7006 adds snmp_mibs, the bridge's adds plugins; 7009 and 7011 make both converge), so the update files start at ${p.gui + 1}.`,
  'plan.ocs-steps': (p) =>
    `OCS: ${p.count} step(s) up to ${p.target} (GUI_VERSION ${p.gui}); the update files come from the OCS ${p.target} distribution (--ocs-dist). Upgrade the Perl communication server to the same release before agents send inventories.`,
  'plan.corrective-none': () => 'Corrective migrations: none in migrations/corrective/ yet.',
  'plan.corrective-planned': (p) => `Corrective migrations planned (each runs only if its pre-check finds something): ${p.ids.join(', ')}.`,
  'plan.corrective-skipped': (p) => `Corrective migrations not applicable to this plan (no step of the kind they precede): ${p.ids.join(', ')}.`,
  // --- audit: why a check did not run
  'audit.skip.no-database': (p) => `no ${p.product} database given`,
  'audit.skip.glpi-older': (p) => `GLPI ${p.version} is older than ${p.min}`,
  'audit.skip.glpi-newer': (p) => `GLPI ${p.version} is already ${p.max} or newer`,
  'audit.skip.gui-older': (p) => `GUI_VERSION ${p.gui} is older than ${p.min}`,
  'audit.skip.gui-newer': (p) => `GUI_VERSION ${p.gui} is already ${p.max} or newer`,
  'audit.skip.no-connector': () => 'no GLPI–OCS connector in the GLPI database',
  'audit.skip.connector-form': (p) => `the connector is in ${p.mode} form`,
  'audit.skip.no-table': (p) => `no ${p.table} table`,
  'audit.skip.no-softwares': () => 'no softwares table (already migrated by 7037?)',
  'audit.skip.columns-missing': (p) => `${p.table} lacks one of ${p.columns.join(', ')} (schema drift: see glpi.schema.drift)`,
  'audit.skip.no-connector-tables': () => 'no GLPI–OCS connector tables in the GLPI database',
  'audit.skip.gui-version-unknown': () => 'the OCS GUI_VERSION is unknown',
  'audit.skip.no-ocs-server': () => 'no OCS server',
  'audit.skip.no-server-with-id': (p) => `no OCS server with id ${p.id} in ${p.table}`,
  'audit.skip.servers-empty': (p) => `${p.table} is empty`,
  'audit.skip.servers-ambiguous': (p) => `${p.count} OCS servers are declared in ${p.table}: say which one the OCS database is with --ocs-server-id`,
  'audit.skip.no-import-switches': () => 'no import switches known in this connector form',
  'audit.skip.connector-is-plugin': () => 'the connector is already the plugin (or absent)',
  'audit.skip.no-right-columns': (p) => `${p.table} has no OCS right columns`,
  'audit.skip.no-reference-source': () => 'no reference schema source was given (--reference-dir or --glpi-dist)',
  'audit.skip.glpi-version-unknown': () => 'the GLPI version is unknown',
  'audit.skip.no-glpi-reference': (p) => `no ${p.file} in the reference directories or GLPI distributions given`,
  'audit.skip.gui-not-in-catalog': (p) => `GUI_VERSION ${p.gui} is not a release the catalog knows`,
  'audit.skip.no-ocs-reference': (p) => `no ocsbase_new-${p.release}.sql in the reference directories given`,
  // --- rehearsal: pre-checks
  'precheck.restore.title': (p) => `Restore of the ${p.role} database matches the snapshot manifest`,
  'precheck.restore.ok': (p) => `${p.tables} tables, ${p.rows} rows: row counts and CHECKSUM TABLE equal to the manifest`,
  'precheck.restore.differs': (p) => `${p.count} table(s) differ: ${p.tables.map((t) => `${t.table} (rows ${t.rows}/${t.expectedRows}, checksum ${t.checksum}/${t.expectedChecksum})`).join(', ')}`,
  // --- apply: checks before the first write on production
  'apply.preflight.sessions': () => 'no other session on the two databases (SHOW PROCESSLIST)',
  'apply.preflight.versions': () => 'GLPI, connector and OCS versions equal to the snapshot’s',
  'apply.preflight.structure': () => 'tables, columns, indexes, engines and collations equal to the rehearsed snapshot’s',
  'apply.preflight.audit': (p) => `${p.checked} blocking check(s) run again: ${p.found.length ? `only the rehearsed findings (${p.found.join(', ')})` : 'nothing found'}`,
  'apply.preflight.distributions': (p) => `the rehearsal's distributions: ${p.given.join(', ') || 'none'}`,
  'apply.preflight.rollback-possible': () => 'local_infile is ON: the backup can be loaded back',
  'apply.preflight.allow-not-run': (p) => `${p.step}: not run in the rehearsal, not run on production (--allow-not-run)`,
  // --- plan steps
  'step.glpi-update.title': (p) => `GLPI ${p.from} → ${p.to} (${p.updater})`,
  'step.glpi-update.updates': (p) => `Updates the GLPI database from ${p.from} to ${p.to} with the updater of ${p.to} (${p.updater}), which accepts databases from ${p.acceptsFrom}.`,
  'step.glpi-update.branches': (p) => `It runs the migrations of ${p.branches.join(', ')} in one go.`,
  'step.glpi-update.schema-check': (p) => `It first checks the schema against GLPI's reference for ${p.from} and refuses (exit 4) on drift.`,
  'step.glpi-update.not-in-archive': (p) => `${p.entry} is not in the release archive: take it from GLPI's git tag ${p.to}, or run the web updater (install/update.php).`,
  'step.glpi-update.ocs-out-of-core': () =>
    'Its 0.84 migration takes OCS mode out of the core: glpi_ocs* tables become ocs_glpi_* (kept for the ocsinventoryng plugin), is_ocs_import becomes is_dynamic, OCS rules, cron task and display preferences are copied to ocs_glpi_* and deleted from the core tables.',
  'step.conversion.title': (p) => `GLPI ${p.release}: ${p.command}`,
  'step.conversion.explanation': (p, t) =>
    `Conversion ${p.index} of ${p.total} GLPI ${p.branch} asks for after an update from an older release: ${t(p.what)}. ` +
    'It changes no row count; it only touches glpi_% tables (ocs_glpi_* stay as they are). Order as in the real run: myisam_to_innodb, dynamic_row_format, utf8mb4, unsigned_keys, timestamps.',
  'step.check.title': (p) => `GLPI ${p.release}: ${p.command}`.trim(),
  'step.check.explanation': (p) =>
    `Read-only proof for the dossier: the database now matches GLPI ${p.release}'s reference schema, conversions included (exit 0 = "Database schema is OK", 2 = differences).`,
  'step.plugin.title': (p) => `${p.update ? 'Update' : 'Install'} ocsinventoryng ${p.version} on GLPI ${p.release}`,
  'step.plugin.carries-core': (p) =>
    `Installs ocsinventoryng ${p.version}, the release for GLPI ${p.branch} (accepts ${p.min} ≤ GLPI < ${p.maxExclusive}). Its install finds the ocs_glpi_* tables left by GLPI's 0.84 migration and carries the OCS servers, links, admin-info links, registry keys, OCS rules, cron task and display preferences into its own tables, then drops the ocs_glpi_* copies it consumed (the rules copies stay).`,
  'step.plugin.proven': (p, t) => `Proven: ${t(p.proven)}.`,
  'step.plugin.dump-first': () => 'Dump the ocs_glpi_* tables first: the install consumes them, and the checks after it compare against them.',
  'step.plugin.update': (p) =>
    `Updates ocsinventoryng ${p.installed ?? '(unknown version)'} → ${p.version}, the release for GLPI ${p.branch}; its install hook runs the plugin's cumulative migrations.`,
  'step.plugin.fresh': (p) => `Installs ocsinventoryng ${p.version} fresh (no connector data to carry), the release for GLPI ${p.branch}.`,
  'step.plugin.glpi11': () => 'GLPI 11 suspends plugins during db:update: install and activate again.',
  'step.plugin.web-install': (p) => `GLPI ${p.release} has no plugin command line: install it from the web interface (Setup > Plugins), logged in as a super-admin.`,
  'step.plugin.ocs-limit': (p) => `This release reads OCS only up to GUI_VERSION ${p.guiMax}: the OCS upgrade waits for a later plugin.`,
  'step.ocs-bridge.title': (p) => `OCS ${p.from} → ${p.to}: ${p.file} of OCS ${p.release} (bridge)`,
  'step.ocs-bridge.explanation': (p, t) =>
    `No update file exists below 7007: GUI_VERSION ${p.from} is brought to ${p.to} by ${p.file} of OCS ${p.release}, the last re-runnable CREATE + ALTER script. ${t(p.notes)}`,
  'step.ocs-file.title': (p) => `OCS ${p.from} → ${p.to}: ${p.file}`,
  'step.ocs-file.applies': (p) => `Applies ${p.file} (part of OCS ${p.release}) and sets GUI_VERSION to ${p.gui}; statements split on ';' like the official updater, but a real error stops the plan.`,
  'step.ocs-php.title': (p) => `OCS ${p.gui}: PHP-side change ${p.fn}()`,
  'step.ocs-php.explanation': (p, t) =>
    `The OCS console does this in PHP (${p.fn}() on every page), not in an update file: the tool replicates it at GUI_VERSION ${p.gui}. ${t(p.what)}${p.onlyIf ? ` (only when ${t(p.onlyIf)})` : ''}.${p.notes ? ` ${t(p.notes)}.` : ''}`,
  'step.corrective.title': (p) => `Corrective migration ${p.id}`,
  'step.corrective.explanation': (p, t) =>
    `${t(p.title)}. Runs only when its pre-check finds something to fix, before ${p.before}; its post-check must then return 0 (migrations/corrective/${p.id}.yaml).`,
  // --- rehearsal: step results
  'result.no-database': (p) => `the snapshot has no ${p.role} database`,
  'result.error': (p) => p.message,
  'result.interrupted': () => 'interrupted',
  'result.blocked': (p) => `not run: it depends on step ${p.blocker}, which did not pass`,
  'result.apply-stopped': (p) => `not run: apply stopped at the failed step ${p.step}`,
  'result.dry-run': (p, t) => `dry run: ${p.reason ? t(p.reason) : 'needs a product distribution'}`,
  'result.corrective.missing': (p) => `corrective migration ${p.migration} is not in migrations/corrective/`,
  'result.corrective.no-database': (p) => `no ${p.role} database in this rehearsal`,
  'result.corrective.nothing': () => 'nothing to fix: the pre-check found no row',
  'result.corrective.done': (p) => `pre-check ${p.precheck} → post-check ${p.postcheck}; ${p.statements} statement(s)`,
  'result.corrective.still': (p) => `post-check still finds ${p.postcheck} row(s)`,
  'result.ocs.statements': (p) => `${p.total} statements: ${p.ok} ok, ${p.expectedErrors} expected errors (already applied), ${p.failed} failed`,
  'result.ocs.no-database': (p) => `step ${p.step} writes the OCS database, but the rehearsal has none`,
  'result.ocs.not-ocs': (p) => `${p.database} has no GUI_VERSION row in table config: not an OCS database`,
  'result.ocs.gui-version': (p) => (p.gui === undefined ? 'GUI_VERSION is missing' : `GUI_VERSION is ${p.gui}`),
  'result.ocs.bridge-not-needed': (p) => `GUI_VERSION is already ${p.gui}: no bridge needed`,
  'result.ocs.official-bridge': (p, t) => `official bridge: ${t(p.summary)}`,
  'result.ocs.official-bridge-failed': (p) => `official bridge: ${p.failed} statement(s) failed for real (first: #${p.index} ${p.message})`,
  'result.ocs.official-bridge-version': (p, t) => `official bridge ran but ${t(p.is)}, expected 7006`,
  'result.ocs.tool-bridge-7005-only': (p) => `GUI_VERSION is ${p.gui}: the tool's own bridge covers OCS 2.1/2.1.1 (7005) only`,
  'result.ocs.tool-bridge': (p, t) => `tool's bridge: ${t(p.summary)}`,
  'result.ocs.tool-bridge-failed': (p) => `tool's bridge failed at statement ${p.index}: ${p.message}`,
  'result.ocs.no-dist': () => 'no --ocs-dist was given',
  'result.ocs.no-update-file': (p) => `no given OCS distribution has files/update/${p.target}.sql`,
  'result.ocs.file-applied-before': (p) => `GUI_VERSION is already ${p.gui}: ${p.target}.sql was applied before`,
  'result.ocs.file-out-of-order': (p) => `GUI_VERSION is ${p.gui}: ${p.target}.sql applies to ${p.target - 1} only (apply the files in between first)`,
  'result.ocs.file-failed': (p) => `${p.target}.sql statement ${p.index} failed (${p.code} ${p.message}); GUI_VERSION left at ${p.after}`,
  'result.ocs.file-version': (p) => `GUI_VERSION reads ${p.after ?? 'nothing'} after ${p.target}.sql, expected ${p.target}`,
  'result.ocs.php-unknown': (p) => `unknown OCS PHP-side change "${p.change}" (known: ${p.known.join(', ')})`,
  'result.ocs.php-error': (p) => `${p.change}: ${p.error}`,
} satisfies Catalog;
