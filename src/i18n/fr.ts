/**
 * French texts of the messages (the documents' default language). Same ids as en.ts: see messages.ts.
 * Typography: « guillemets », a plain space before « : ; ? ! ».
 */
import type { Catalog } from './messages.ts';

/** "a, b et c": a French enumeration. */
const frList = (xs: string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} et ${xs[xs.length - 1]}` : xs.join(''));

/** A non-breaking space. */
const NB = '\u00a0';

/** A text quoted from a page, « between guillemets », cut at 120 characters. */
const quoteFr = (s: string, max = 120) => `«${NB}${s.length > max ? `${s.slice(0, max)}…` : s}${NB}»`;

/** A number of seconds with one decimal, French style (1,5). */
const secondsFr = (ms: number) => (ms / 1000).toFixed(1).replace('.', ',');

/** French plural mark: none for 0 and 1. */
const pl = (n: number) => (n > 1 ? 's' : '');

/** "GLPI"/"OCS" for a database role. */
const roleName = (role: string) => (role === 'glpi' ? 'GLPI' : role === 'ocs' ? 'OCS' : role);

/** The connector's forms, as the audit names them. */
const CONNECTOR_FORMS: Record<string, string> = {
  'core-0.83': 'intégrée au cœur de GLPI 0.83 (core-0.83)',
  'renamed-0.84': 'des tables renommées par la migration 0.84 (renamed-0.84)',
  plugin: 'du greffon ocsinventoryng',
};

const GLPI_ADVICE = 'GLPI recommande lui-même de mettre à jour les bases anciennes en passant par la 10.0.x (PR #13845, ticket #15983).';

export const fr = {
  // --- plan notes
  'plan.glpi-target-ignored': (p) => `--glpi-target ${p.target} ignoré : aucune base GLPI n’a été fournie.`,
  'plan.ocs-target-ignored': (p) => `--ocs-target ${p.target} ignoré : aucune base OCS n’a été fournie.`,
  'plan.no-glpi-no-connector': () => 'Pas de base GLPI : aucune étape d’interconnexion.',
  'plan.glpi-at-target': (p) => `GLPI est déjà à la version cible ${p.target} : aucune étape de mise à jour de GLPI.`,
  'plan.glpi-myisam-refused': (p) =>
    `GLPI ${p.release} refuse les tables MyISAM et la base peut encore en contenir (GLPI ${p.current}) : le parcours s’arrête à une version antérieure, dont les conversions s’exécutent d’abord.`,
  'plan.glpi-engines-unknown': (p) =>
    `GLPI ${p.release} refuse les tables MyISAM ; les moteurs des tables de cette base ${p.current} sont inconnus et supposés InnoDB (GLPI crée des tables InnoDB depuis la 9.3). Si certaines sont en MyISAM, refaire le plan à partir d’un instantané ou avec --glpi-via ${p.via}.`,
  'plan.glpi-route': (p) => `GLPI ${p.route} : ${p.hops} saut${p.hops > 1 ? 's' : ''}, le plus petit nombre que permettent les outils de mise à jour des mainteneurs.`,
  'plan.glpi-hop-updater': (p) => `L’outil de mise à jour de la ${p.to} accepte les bases à partir de la ${p.acceptsFrom} et enchaîne lui-même toutes les migrations depuis la ${p.from}.`,
  'plan.glpi-branches-skipped': (p) =>
    p.branches.length > 1
      ? `Les branches intermédiaires ${frList(p.branches)} ne sont pas installées : chacune exigerait sa propre pile PHP, et ${GLPI_ADVICE}`
      : `La branche intermédiaire ${p.branches[0]} n’est pas installée : elle exigerait sa propre pile PHP, et ${GLPI_ADVICE}`,
  'plan.glpi-older-target': (p) => `La cible ${p.target} a été demandée ; la version la plus récente du catalogue est la ${p.newest}.`,
  'plan.ocs-after-plugin': (p, t) =>
    `Les étapes OCS viennent après la mise en place du greffon d’interconnexion capable de lire le schéma OCS cible (${p.plugin ? t(p.plugin) : 'greffon'}) : un connecteur plus ancien ne sait pas lire OCS à partir de la 2.8 (la table softwares n’existe plus).`,
  'plan.ocs-first': () => 'Les étapes OCS viennent en premier : elles ne dépendent ici d’aucune étape GLPI.',
  'plan.no-plugin-for-glpi': (p) => `Aucune version d’ocsinventoryng ne prend en charge GLPI ${p.release} : l’interconnexion attend une étape ultérieure.`,
  'plan.connector-late-migration': () =>
    'Interconnexion : la migration 0.84 de GLPI renomme en ocs_glpi_* les tables OCS du cœur de GLPI 0.83 ; la version du greffon ocsinventoryng correspondant à la version de GLPI atteinte les reprend ensuite dans ses propres tables. Cette migration tardive a été répétée en conditions réelles (GLPI 10.0.19 et greffon 2.0.5 : serveurs, liens, règles et tâche automatique conservés ; le mot de passe OCS et les droits des profils demandent les corrections indiquées parmi les risques). L’autre voie, une migration lors d’un saut par la 0.84 avec le greffon 1.0.x (--glpi-via 0.84.8), exige une pile PHP 5 et l’interface web, et n’a pas été répétée.',
  'plan.connector-end': (p) => `Interconnexion à l’arrivée : ocsinventoryng ${p.installed}${p.ocs ? `, qui lit OCS ${p.ocs} (à partir d’OCS 2.8, il faut le greffon 1.7.1 ou plus récent)` : ''}.`,
  'plan.connector-native': () =>
    'Interconnexion : l’inventaire natif de GLPI (GLPI Agent) est la voie que recommandent les mainteneurs pour les nouvelles installations, mais rien n’y migre les données OCS : les agents sont redéployés et les ordinateurs inventoriés de nouveau. Aucune étape d’interconnexion n’est prévue ; les tables ocs_glpi_* et celles du greffon restent en l’état (les archiver ou les supprimer après la recette).',
  'plan.connector-none': () => 'Interconnexion : aucune n’est demandée ; les données d’interconnexion restent en l’état (les mises à jour de GLPI désactivent les greffons).',
  'plan.ocs-at-target': (p) => `OCS est déjà à la version cible ${p.target} (GUI_VERSION ${p.gui}) : aucune étape OCS.`,
  'plan.ocs-bridge': (p) =>
    `OCS : GUI_VERSION ${p.source} n’a pas de fichier de mise à jour ; le script de passage (${p.file} d’OCS ${p.release}) porte la base à ${p.to}, puis les fichiers files/update/NNNN.sql jusqu’à ${p.target} s’exécutent l’un après l’autre. Le script install.php des versions ultérieures n’est jamais utilisé : celui des 2.3 à 2.5 saute des fichiers de mise à jour, celui des 2.6 à 2.8 tourne en boucle, et à partir de la 2.8.1 il supprime toutes les tables.`,
  'plan.ocs-7006': (p) =>
    `OCS : GUI_VERSION ${p.gui} (la 7006 de la 2.1.2 ajoute snmp_mibs, celle du script de passage ajoute plugins ; 7009 et 7011 font converger les deux), les fichiers de mise à jour commencent donc à ${p.gui + 1}.`,
  'plan.ocs-steps': (p) =>
    `OCS : ${p.count} étape${p.count > 1 ? 's' : ''} jusqu’à la ${p.target} (GUI_VERSION ${p.gui}) ; les fichiers de mise à jour proviennent de la distribution d’OCS ${p.target} (--ocs-dist). Mettre le serveur de communication Perl à la même version avant que les agents n’envoient leurs inventaires.`,
  'plan.corrective-none': () => 'Migrations correctives : aucune dans migrations/corrective/ pour l’instant.',
  'plan.corrective-planned': (p) => `Migrations correctives prévues (chacune ne s’exécute que si son contrôle préalable trouve quelque chose) : ${p.ids.join(', ')}.`,
  'plan.corrective-skipped': (p) => `Migrations correctives sans objet pour ce plan (aucune étape du type qu’elles précèdent) : ${p.ids.join(', ')}.`,
  // --- audit : pourquoi un contrôle n’a pas été exécuté
  'audit.skip.no-database': (p) => `aucune base ${p.product} fournie`,
  'audit.skip.glpi-older': (p) => `GLPI ${p.version} est antérieur à ${p.min}`,
  'audit.skip.glpi-newer': (p) => `GLPI ${p.version} est déjà en version ${p.max} ou ultérieure`,
  'audit.skip.gui-older': (p) => `GUI_VERSION ${p.gui} est antérieure à ${p.min}`,
  'audit.skip.gui-newer': (p) => `GUI_VERSION ${p.gui} vaut déjà ${p.max} ou plus`,
  'audit.skip.no-connector': () => 'aucun connecteur GLPI–OCS dans la base GLPI',
  'audit.skip.connector-form': (p) => `le connecteur est sous la forme ${CONNECTOR_FORMS[p.mode] ?? p.mode}`,
  'audit.skip.no-table': (p) => `pas de table ${p.table}`,
  'audit.skip.no-softwares': () => 'pas de table softwares (déjà migrée par 7037 ?)',
  'audit.skip.columns-missing': (p) => `il manque à ${p.table} l’une des colonnes ${p.columns.join(', ')} (dérive du schéma : voir glpi.schema.drift)`,
  'audit.skip.no-connector-tables': () => 'aucune table du connecteur GLPI–OCS dans la base GLPI',
  'audit.skip.gui-version-unknown': () => 'la GUI_VERSION d’OCS est inconnue',
  'audit.skip.no-ocs-server': () => 'aucun serveur OCS',
  'audit.skip.no-server-with-id': (p) => `aucun serveur OCS d’identifiant ${p.id} dans ${p.table}`,
  'audit.skip.servers-empty': (p) => `${p.table} est vide`,
  'audit.skip.servers-ambiguous': (p) => `${p.count} serveurs OCS sont déclarés dans ${p.table} : indiquer avec --ocs-server-id celui qui correspond à la base OCS`,
  'audit.skip.no-import-switches': () => 'aucune option d’import connue pour cette forme du connecteur',
  'audit.skip.connector-is-plugin': () => 'le connecteur est déjà le greffon (ou il est absent)',
  'audit.skip.no-right-columns': (p) => `${p.table} n’a pas de colonne de droits OCS`,
  'audit.skip.no-reference-source': () => 'aucune source de schéma de référence fournie (--reference-dir ou --glpi-dist)',
  'audit.skip.glpi-version-unknown': () => 'la version de GLPI est inconnue',
  'audit.skip.no-glpi-reference': (p) => `pas de ${p.file} dans les répertoires de référence ni dans les distributions de GLPI fournis`,
  'audit.skip.gui-not-in-catalog': (p) => `GUI_VERSION ${p.gui} ne correspond à aucune version connue du catalogue`,
  'audit.skip.no-ocs-reference': (p) => `pas de ocsbase_new-${p.release}.sql dans les répertoires de référence fournis`,
  // --- répétition : contrôles préalables
  'precheck.restore.title': (p) => `Restauration de la base ${p.role} conforme au manifeste de l’instantané`,
  'precheck.restore.ok': (p) => `${p.tables} tables et ${p.rows} lignes restaurées ; nombre de lignes et sommes de contrôle identiques au manifeste pour chaque table`,
  'precheck.restore.differs': (p) =>
    `${p.count} table(s) différente(s) : ${p.tables.map((t) => `${t.table} (lignes ${t.rows}/${t.expectedRows}, somme de contrôle ${t.checksum}/${t.expectedChecksum})`).join(', ')}`,
  // --- application en production : contrôles avant la première écriture
  'apply.preflight.sessions': () => 'aucune autre session sur les deux bases (SHOW PROCESSLIST)',
  'apply.preflight.versions': () => 'versions de GLPI, du connecteur et d’OCS identiques à celles de l’instantané',
  'apply.preflight.structure': () => 'tables, colonnes, index, moteurs et interclassements identiques à ceux de l’instantané répété',
  'apply.preflight.audit': (p) =>
    `${p.checked}\u00a0contrôles bloquants exécutés de nouveau\u00a0: ${p.found.length ? `seulement les constats déjà répétés (${p.found.join(', ')})` : 'aucun constat'}${p.notRehearsed?.length ? `\u00a0; constatés par des contrôles que l’audit de la répétition n’avait pas pu exécuter (pas de référence), sur la structure répétée\u00a0: ${p.notRehearsed.join(', ')}` : ''}`,
  'apply.preflight.glpi-config': (p) =>
    `la console de GLPI utilisera ${p.dir}\u00a0: ${p.hasConfigDb ? `son config_db.php désigne ${p.database}` : 'pas de config_db.php\u00a0: apply en écrit un avec l’adresse de la base GLPI de production'}\u00a0; ${p.hasKey ? 'sa clé glpicrypt.key est copiée à part avant toute étape GLPI' : 'pas encore de glpicrypt.key (la première mise à jour vers 10.0 la crée dans ce répertoire)'}`,
  'apply.preflight.distributions': (p) => `les distributions de la répétition\u00a0: ${p.given.join(', ') || 'aucune'}`,
  'apply.preflight.rollback-possible': () => 'local_infile est actif\u00a0: la sauvegarde peut être rechargée',
  'apply.preflight.allow-not-run': (p) => `${p.step}\u00a0: non exécutée en répétition, non exécutée en production (--allow-not-run)`,
  // --- plan steps
  'step.glpi-update.title': (p) => `GLPI ${p.from} → ${p.to} (${p.updater})`,
  'step.glpi-update.updates': (p) =>
    `Met à jour la base GLPI de la ${p.from} à la ${p.to} avec l’outil de mise à jour de la ${p.to} (${p.updater}), qui accepte les bases à partir de la ${p.acceptsFrom}.`,
  'step.glpi-update.branches': (p) => `Il enchaîne en une seule fois les migrations des branches ${frList(p.branches)}.`,
  'step.glpi-update.schema-check': (p) => `Il compare d’abord le schéma à la référence de GLPI pour la ${p.from} et refuse de poursuivre (code de sortie 4) en cas d’écart.`,
  'step.glpi-update.not-in-archive': (p) =>
    `${p.entry} ne figure pas dans l’archive de la version : le prendre dans l’étiquette git ${p.to} de GLPI, ou passer par la mise à jour web (install/update.php).`,
  'step.glpi-update.ocs-out-of-core': () =>
    'Sa migration 0.84 sort le mode OCS du cœur de GLPI : les tables glpi_ocs* deviennent ocs_glpi_* (conservées pour le greffon ocsinventoryng), is_ocs_import devient is_dynamic, et les règles OCS, la tâche automatique et les préférences d’affichage sont copiées dans les tables ocs_glpi_* puis supprimées des tables du cœur.',
  'step.conversion.title': (p) => `GLPI ${p.release} : ${p.command}`,
  'step.conversion.explanation': (p, t) =>
    `Conversion ${p.index} sur ${p.total} que GLPI ${p.branch} demande après une mise à jour depuis une version antérieure : ${t(p.what)}. ` +
    'Elle ne change aucun nombre de lignes et ne touche que les tables glpi_% (les tables ocs_glpi_* restent en l’état). Ordre identique à celui de l’exécution réelle : myisam_to_innodb, dynamic_row_format, utf8mb4, unsigned_keys, timestamps.',
  'step.check.title': (p) => `GLPI ${p.release} : ${p.command}`.trim(),
  'step.check.explanation': (p) =>
    `Preuve en lecture seule pour le dossier : la base correspond désormais au schéma de référence de GLPI ${p.release}, conversions comprises (code de sortie 0 : schéma conforme ; 2 : écarts).`,
  'step.plugin.title': (p) => (p.update ? `Mise à jour du greffon ocsinventoryng en ${p.version} sur GLPI ${p.release}` : `Installation du greffon ocsinventoryng ${p.version} sur GLPI ${p.release}`),
  'step.plugin.carries-core': (p) =>
    `Installe ocsinventoryng ${p.version}, la version du greffon prévue pour GLPI ${p.branch} (compatible avec GLPI à partir de la ${p.min}, jusqu’à la ${p.maxExclusive} exclue). Son installation trouve les tables ocs_glpi_* laissées par la migration 0.84 de GLPI et reprend dans ses propres tables les serveurs OCS, les liens, les liens d’informations administratives, les clés de registre, les règles OCS, la tâche automatique et les préférences d’affichage, puis supprime les copies ocs_glpi_* qu’elle a reprises (les copies des règles restent).`,
  'step.plugin.proven': (p, t) => `Validé par un essai réel : ${t(p.proven)}.`,
  'step.plugin.dump-first': () => 'Sauvegarder d’abord les tables ocs_glpi_* : l’installation les consomme, et les contrôles qui la suivent s’y comparent.',
  'step.plugin.update': (p) =>
    `Met à jour ocsinventoryng de ${p.installed ?? '(version inconnue)'} à ${p.version}, la version du greffon prévue pour GLPI ${p.branch} ; sa procédure d’installation exécute les migrations cumulées du greffon.`,
  'step.plugin.fresh': (p) => `Installe ocsinventoryng ${p.version} à neuf (aucune donnée d’interconnexion à reprendre), la version du greffon prévue pour GLPI ${p.branch}.`,
  'step.plugin.glpi11': () => 'GLPI 11 suspend les greffons pendant db:update : il faut de nouveau installer et activer le greffon.',
  'step.plugin.web-install': (p) => `GLPI ${p.release} n’a pas de commande pour les greffons : l’installer depuis l’interface web (Configuration > Plugins), connecté avec un compte super-admin.`,
  'step.plugin.ocs-limit': (p) => `Cette version ne lit OCS que jusqu’à GUI_VERSION ${p.guiMax} : la mise à jour d’OCS attend une version ultérieure du greffon.`,
  'step.ocs-bridge.title': (p) => `OCS ${p.from} → ${p.to} : script de passage ${p.file} d’OCS ${p.release}`,
  'step.ocs-bridge.explanation': (p, t) =>
    `Aucun fichier de mise à jour n’existe en deçà de 7007 : GUI_VERSION ${p.from} est porté à ${p.to} par le ${p.file} d’OCS ${p.release}, le dernier script CREATE + ALTER qui puisse être rejoué. ${t(p.notes)}`,
  'step.ocs-file.title': (p) => `OCS ${p.from} → ${p.to} : ${p.file}`,
  'step.ocs-file.applies': (p) =>
    `Applique ${p.file} (livré avec OCS ${p.release}) et porte GUI_VERSION à ${p.gui} ; les instructions sont découpées sur « ; » comme le fait l’installateur officiel, mais une véritable erreur arrête le plan.`,
  'step.ocs-php.title': (p) => `OCS ${p.gui} : modification de schéma faite en PHP par ${p.fn}()`,
  'step.ocs-php.explanation': (p, t) =>
    `La console OCS fait cette modification en PHP (${p.fn}(), à chaque affichage de page) et non dans un fichier de mise à jour : l’outil la reproduit à GUI_VERSION ${p.gui}. ` +
    `${t(p.what)}${p.onlyIf ? ` (seulement si ${t(p.onlyIf)})` : ''}.${p.notes ? ` ${t(p.notes)}.` : ''}`,
  'step.corrective.title': (p) => `Migration corrective ${p.id}`,
  'step.corrective.explanation': (p, t) =>
    `${t(p.title)}. Ne s’exécute que si son contrôle préalable trouve quelque chose à corriger, avant l’étape ${p.before} ; son contrôle final doit alors renvoyer 0 (migrations/corrective/${p.id}.yaml).`,
  // --- rehearsal: step results
  'result.no-database': (p) => `l’instantané ne contient pas de base ${roleName(p.role)}`,
  // The error's own message (English, from the code that threw) is quoted as is.
  'result.error': (p) => `erreur pendant l’exécution de l’étape : ${p.message}`,
  'result.interrupted': () => 'interrompue',
  'result.blocked': (p) => `non exécutée : elle dépend de l’étape ${p.blocker}, qui n’a pas réussi`,
  'result.apply-stopped': (p) => `non exécutée : la mise en production s’est arrêtée à l’étape ${p.step}, en échec`,
  'result.dry-run': (p, t) => `exécution à blanc : ${p.reason ? t(p.reason) : 'une distribution du produit est nécessaire'}`,
  'result.corrective.missing': (p) => `la migration corrective ${p.migration} est absente de migrations/corrective/`,
  'result.corrective.no-database': (p) => `la répétition n’a pas de base ${roleName(p.role)}`,
  'result.corrective.nothing': () => 'rien à corriger : le contrôle préalable ne trouve aucune ligne',
  'result.corrective.done': (p) => `contrôle préalable : ${p.precheck} ligne(s) → contrôle final : ${p.postcheck} ; ${p.statements} instruction(s)`,
  'result.corrective.still': (p) => `le contrôle final trouve encore ${p.postcheck} ligne(s)`,
  'result.ocs.statements': (p) =>
    `${p.total} instruction${pl(p.total)} : ${p.ok} réussie${pl(p.ok)}, ${p.expectedErrors} erreur${pl(p.expectedErrors)} attendue${pl(p.expectedErrors)} (déjà appliquée${pl(p.expectedErrors)}), ${p.failed} en échec`,
  'result.ocs.no-database': (p) => `l’étape ${p.step} écrit dans la base OCS, mais la répétition n’en a pas`,
  'result.ocs.not-ocs': (p) => `${p.database} n’a pas de ligne GUI_VERSION dans sa table config : ce n’est pas une base OCS`,
  'result.ocs.gui-version': (p) => (p.gui === undefined ? 'GUI_VERSION est absente' : `GUI_VERSION vaut ${p.gui}`),
  'result.ocs.bridge-not-needed': (p) => `GUI_VERSION vaut déjà ${p.gui} : aucun schéma de passage n’est nécessaire`,
  'result.ocs.official-bridge': (p, t) => `schéma de passage officiel, ${t(p.summary)}`,
  'result.ocs.official-bridge-failed': (p) => `schéma de passage officiel : ${p.failed} instruction(s) en échec réel (première : n° ${p.index} ${p.message})`,
  'result.ocs.official-bridge-version': (p, t) => `le schéma de passage officiel a été exécuté, mais ${t(p.is)} (7006 attendue)`,
  'result.ocs.tool-bridge-7005-only': (p) => `GUI_VERSION vaut ${p.gui} : le schéma de passage propre à l’outil ne couvre qu’OCS 2.1/2.1.1 (7005)`,
  'result.ocs.tool-bridge': (p, t) => `schéma de passage de l’outil, ${t(p.summary)}`,
  'result.ocs.tool-bridge-failed': (p) => `le schéma de passage de l’outil a échoué à l’instruction ${p.index} : ${p.message}`,
  'result.ocs.no-dist': () => 'aucune distribution OCS fournie (--ocs-dist)',
  'result.ocs.no-update-file': (p) => `aucune des distributions OCS fournies ne contient files/update/${p.target}.sql`,
  'result.ocs.file-applied-before': (p) => `GUI_VERSION vaut déjà ${p.gui} : ${p.target}.sql a déjà été appliqué`,
  'result.ocs.file-out-of-order': (p) => `GUI_VERSION vaut ${p.gui} : ${p.target}.sql ne s’applique qu’à ${p.target - 1} (appliquer d’abord les fichiers intermédiaires)`,
  'result.ocs.file-failed': (p) => `l’instruction ${p.index} de ${p.target}.sql a échoué (${p.code} ${p.message}) ; GUI_VERSION laissée à ${p.after}`,
  'result.ocs.file-version': (p, t) => `après ${p.target}.sql, ${t({ id: 'result.ocs.gui-version', params: { gui: p.after } })} (${p.target} attendue)`,
  'result.ocs.php-unknown': (p) => `modification d’OCS côté PHP inconnue « ${p.change} » (connues : ${p.known.join(', ')})`,
  'result.ocs.php-error': (p) => `${p.change} : ${p.error}`,
  'result.glpi.no-database': (p) => `l’étape ${p.step} écrit dans la base GLPI, mais la répétition n’en a pas`,
  'result.glpi.no-dist': (p) =>
    `aucune distribution de GLPI ${p.release}${p.given.length ? ` (fournies : ${p.given.join(', ')})` : ''} : indiquer avec --glpi-dist DIR l’archive décompressée de GLPI ${p.release}`,
  'result.glpi.no-vendor': (p) => `${p.dir} n’a pas de répertoire vendor/ (copie des sources et non version publiée : exécuter composer install ou utiliser l’archive de la version)`,
  'result.glpi.no-console': (p) => `${p.dir} n’a pas de bin/console (GLPI < 9.4 n’a pas de console)`,
  // The probe's own message (src/distributions) is English: quoted as is after a French lead-in.
  'result.glpi.php-unusable': (p) => `PHP inutilisable (${p.php}) : ${p.message}`,
  'result.glpi.php-range': (p) => `PHP ${p.version} (${p.php}) est hors de la plage que requiert GLPI ${p.glpi} (${p.range}) : indiquer un binaire adapté avec --php`,
  'result.glpi.old-updater': (p) =>
    `GLPI ${p.release} se met à jour par ${p.entry}, qui lit config/config_db.php dans l’arborescence de la version : l’outil n’écrit pas dans une distribution, l’exécuter sur une copie de l’arborescence`,
  // The detection's problems (src/inspect) are English diagnostics: quoted as is.
  'result.glpi.version-rows': (p) => (p.version ? `${p.version}${p.dbversion ? ` (dbversion ${p.dbversion})` : ''}` : `aucune version (${p.problems.join(' ; ')})`),
  'result.glpi.update-version': (p, t) =>
    `db:update s’est terminé avec le code ${p.exitCode}, mais les lignes de version indiquent ${t(p.rows)} au lieu de ${p.expected}${p.refused ? ' (le programme de mise à jour a refusé de s’exécuter)' : ''}`,
  'result.glpi.update-exit': (p, t) => `db:update s’est terminé avec le code ${p.exitCode}, bien que les lignes de version indiquent ${t(p.rows)}`,
  'result.glpi.updated': (p, t) => `GLPI ${t(p.before)} → ${t(p.after)} en ${secondsFr(p.ms)} s`,
  'result.glpi.schema-differs': (p) => `${p.command} : différences de schéma constatées (voir les preuves)`,
  'result.glpi.exit-code': (p) => `${p.command} : code de sortie ${p.exitCode}`,
  'result.glpi.version-changed': (p, t) => `${p.command} a modifié les lignes de version (${t(p.before)} → ${t(p.after)})`,
  'result.glpi.exited-0': (p) => `${p.command} s’est terminé avec le code 0 en ${secondsFr(p.ms)} s`,
  'result.list': (p, t) => p.items.map(t).join(' ; '),
  'result.plugin.no-dist': (p) => `aucune distribution du greffon ocsinventoryng ${p.version} : indiquer avec --plugin-dist DIR l’archive décompressée de pluginsGLPI/ocsinventoryng ${p.version}`,
  'result.plugin.exit': (p) => `${p.command} s’est terminé avec le code ${p.exitCode}`,
  'result.plugin.no-row': () => 'aucune ligne ocsinventoryng dans glpi_plugins',
  'result.plugin.wrong-row': (p) => `glpi_plugins indique la version ${p.version}, état ${p.state} (attendu : ${p.expected}, état 1)`,
  'result.plugin.sql-errors': (p) => `${p.count} erreur(s) SQL dans la sortie ou les journaux de GLPI (première : ${p.first})`,
  // The French detail says what it compares: no check id in front.
  'result.plugin.check': (p, t) => t(p.detail),
  'result.plugin.installed': (p) => `ocsinventoryng ${p.version} installé et activé`,
  'result.ocs-php.no-table': (p) => `pas de table ${p.table}`,
  'result.ocs-php.accountinfo-converted': (p) => `${p.rows} ligne(s) de accountinfo_config convertie(s) aux types de champs de la 2.5`,
  'result.ocs-php.snmp-off': () => 'SNMP n’est pas activé (paramètre SNMP de config) : la console officielle ne fait rien non plus',
  'result.ocs-php.snmp-table-missing': (p) => `la table de type SNMP ${p.table} n’existe pas : ignorée`,
  'result.ocs-php.lastdate-added': (p) => `colonne LASTDATE ajoutée à ${p.table}`,
  'result.ocs-php.nothing': () => 'rien à modifier',
  // The functional stage's texts use non-breaking spaces before « : ; » and inside « ».
  'functional.production-ocs': () => `non exécuté en production${NB}: servir la console OCS recopierait son mot de passe dans un fichier de configuration`,
  'functional.production-writes': () => `non exécuté en production${NB}: il se connecte ou clique (écritures dans la base)`,
  'functional.no-data': (p) => `pas de données pour ce scénario${NB}: ${p.error}`,
  'functional.step-failed': (p) => `l’étape ${quoteFr(p.step)} a échoué${NB}: ${p.error}`,
  'functional.assertions-failed': (p, t) => p.failed.map((x) => `${x.assertion}${NB}: ${t(x.detail)}`).join(`${NB}; `),
  'functional.cannot-serve': (p) => `impossible de servir ${p.app.toUpperCase()} : ${p.error}`,
  'functional.no-chromium-start': (p) => `Chromium ne démarre pas : ${p.error}`,
  'functional.no-glpi-dist': () => 'aucune distribution GLPI (--glpi-dist)',
  'functional.glpi-no-vendor': (p) => `l’arborescence GLPI ${p.dir} n’a pas de vendor/ (ce n’est pas une archive de publication)`,
  'functional.glpi-no-public': (p) => `l’arborescence GLPI ${p.dir} n’a pas de public/index.php (GLPI ≥ 10.0.7 est servi par lui)`,
  'functional.no-glpi-db': () => 'pas de base GLPI dans cette répétition',
  'functional.no-ocs-dist': () => 'aucune distribution OCS (--ocs-dist)',
  // The problem (src/distributions) is an English diagnostic: quoted as is.
  'functional.ocs-not-servable': (p) => `la console OCS ne peut pas être servie : ${p.problem}`,
  'functional.no-ocs-db': () => 'pas de base OCS dans cette répétition',
  'functional.no-playwright': () => 'le paquet playwright-core n’est pas installé (npm ci)',
  'functional.php-cannot-run': (p) => `PHP « ${p.php} » ne peut pas s’exécuter (--php)`,
  'functional.no-chromium': (p) => `pas de Chromium en ${p.path} (--chromium ; Debian : apt-get install chromium)`,
  'functional.http': (p) => `HTTP ${p.status ?? 'sans réponse'}`,
  'functional.php-errors': (p) => `${p.count}${NB}erreur(s) PHP${NB}: ${p.first}`,
  'functional.none': () => 'aucune',
  'functional.no-console-step': () => 'aucune commande de console exécutée',
  'functional.console-exit': (p) => `code de sortie ${p.exitCode}${p.last ? `${NB}: ${p.last}` : ''}`,
  'functional.element': (p) => (p.found ? 'présent' : 'absent'),
  'functional.found': (p) => `trouvé${NB}: ${quoteFr(p.text)}`,
  'functional.not-on-page': (p) => `${quoteFr(p.text)} absent de la page`,
  'functional.no-match': (p) => `l’expression /${p.source}/ ne correspond pas à la page`,
  'functional.selector-absent': (p) => `${p.selector} absent`,
  'functional.unknown-assertion': () => 'assertion inconnue',
  'functional.assertion-error': (p) => p.error,
  'functional.double-encoded': (p) =>
    `caractères doublement encodés affichés${NB}: ${p.bad.map((b) => quoteFr(b)).join(', ')} dans ${quoteFr(p.shown)}${p.equal ? ` (la base contient les mêmes octets${NB}: le texte était doublement encodé avant la mise à niveau et rien ne l’a réparé)` : ''}`,
  'functional.differs': (p) => `diffère de la base au caractère ${p.at}${NB}: page ${quoteFr(p.page)}, base ${quoteFr(p.database)}`,
  'functional.identical': (p) => `identique à la base (${p.bytes}${NB}octets)${NB}: ${quoteFr(p.text)}`,
  'result.plugin.links': (p) => `${p.before} lien(s) avant, ${p.after} après${p.missing.length ? `, manquants : ${p.missing.slice(0, 5).join(', ')}` : ''}`,
  'result.plugin.servers': (p) => `${p.before} serveur(s) OCS avant, ${p.after} après (identifiant, hôte, base et utilisateur comparés)`,
  'result.plugin.count': (p) => `${p.before} ${p.table === 'registrykeys' ? 'clé(s) de registre' : 'correspondance(s) de champs administratifs'} avant, ${p.after} après`,
  'result.plugin.rules': (p) => `${p.before} règle(s) d’import OCS avant${p.missing.length ? `, manquantes après : ${p.missing.join(', ')}` : ', toutes présentes après'}`,
  'result.plugin.cron': (p) => `état de la tâche ocsng : ${p.before} avant, ${p.after ?? 'tâche absente'} après`,
  // --- audit: check titles and manual remedies
  'audit.title.duplicates': (p, t) => `Doublons dans ${p.table} (${p.columns.join(', ')}) : collision avec la clé unique ajoutée en ${typeof p.addedIn === 'string' ? p.addedIn : t(p.addedIn)}`,
  'audit.added-in.glpi.duplicates.documentcategories': () => '9.2 sur (documentcategories_id, name), documentcategories_id étant mis à 0 sur toutes les lignes',
  'audit.added-in.glpi.duplicates.computers_softwareversions': () => '9.5 sur glpi_items_softwareversions (itemtype, items_id, softwareversions_id)',
  'audit.added-in.glpi.duplicates.documents_items': () => '9.5 sur (documents_id, itemtype, items_id, timeline_position)',
  'audit.added-in.glpi.duplicates.displaypreferences': () => '0.83.8 (« unicity », exigée par les contrôles de schéma de toutes les versions suivantes)',
  'audit.remedy.glpi.dates.after_2038': (p) =>
    `Avant migration:timestamps, corriger les dates listées ou les ramener avant le ${p.max} (il s’agit souvent de fins de garantie ou de contrat saisies en 2099) (GLPI #10534).`,
  'audit.remedy.same-fix': (p) => `Même correction que la migration corrective ${p.migration}, à appliquer à la table ${p.table ?? 'des liens'}.`,
  'audit.data-instants': () => 'Données GLPI et OCS copiées à deux moments différents (instantané sans verrou commun) : les écarts entre les deux bases peuvent venir de ce décalage.',
  'audit.remedy.glpi.duplicates.reservationitems': () =>
    'Avant la mise à jour, pour chaque objet réservable présent en double, reporter ses réservations (glpi_reservations.reservationitems_id) sur une seule ligne de glpi_reservationitems, puis supprimer les autres lignes.',
  'audit.remedy.glpi.duplicates.documentcategories': () =>
    'Avant la mise à jour, renommer les catégories de documents qui portent le même nom (par exemple en y ajoutant le nom du service) : la 9.2 les place toutes à la racine, sous une clé unique.',
  'audit.title.glpi.dates.zero_values': () => 'Dates nulles « 0000-00-00 » (refusées par les modes SQL stricts et par les conversions migration:*)',
  'audit.title.glpi.dates.zero_defaults': () => 'Colonnes de date dont la valeur par défaut est une date nulle (ALTER TABLE refusé en mode strict)',
  'audit.remedy.glpi.dates.zero_defaults': () =>
    'Sur l’instance de test, après db:update et avant les commandes migration:*, remettre à NULL la valeur par défaut de chaque colonne listée (ALTER TABLE t MODIFY col <type> DEFAULT NULL) (GLPI #11902).',
  'audit.title.glpi.dates.after_2038': () => 'Dates postérieures au 19/01/2038 (migration:timestamps échoue : TIMESTAMP ne peut pas les contenir)',
  'audit.title.glpi.ids.negative': () => 'Identifiants négatifs (migration:unsigned_keys les refuse)',
  'audit.remedy.glpi.ids.negative': () =>
    'Avant migration:unsigned_keys, pour chaque colonne listée, remplacer les valeurs négatives par 0 (ou par NULL pour les clés qui l’acceptent), après avoir vérifié ce qu’elles signifient.',
  'audit.title.glpi.ids.oversized': () => 'Identifiants supérieurs à 2 147 483 647 (ils ne tiennent pas dans les clés INT de GLPI)',
  'audit.remedy.glpi.ids.oversized': () => 'La colonne a été élargie en dehors de GLPI : renuméroter les lignes concernées (et les références à ces lignes) en dessous de 2 147 483 647.',
  'audit.title.glpi.text.double_encoded': () => 'Texte doublement encodé (UTF-8 relu comme du latin1 puis réencodé, « Ã© » au lieu de « é ») : GLPI le conserve tel quel',
  'audit.remedy.glpi.text.double_encoded': () =>
    'Corriger les valeurs listées, par exemple par UPDATE t SET col = CONVERT(CAST(CONVERT(col USING latin1) AS BINARY) USING utf8) WHERE id IN (…) sur les lignes listées, après un contrôle ligne à ligne (une valeur correcte qui contient « Ã » serait abîmée).',
  'audit.title.glpi.text.replacement_chars': () => 'Caractères perdus (U+FFFD « � ») : du texte latin1 est passé par une conversion destructive',
  'audit.remedy.glpi.text.replacement_chars': () =>
    'Les caractères d’origine ne peuvent plus être retrouvés dans la base : corriger les valeurs listées à la main ou à partir d’une autre source (ancienne sauvegarde, annuaire).',
  'audit.title.glpi.text.latin1_holding_utf8': () => 'Octets UTF-8 stockés dans des colonnes latin1 : migration:utf8mb4 les transformera en « Ã© »',
  'audit.remedy.glpi.text.latin1_holding_utf8': () =>
    'Après migration:utf8mb4, réparer les lignes listées : UPDATE t SET col = CONVERT(CAST(CONVERT(col USING latin1) AS BINARY) USING utf8mb4) WHERE id IN (…). Ne pas modifier le schéma avant db:update (glpi_notimportedemails est en latin1 dans le schéma de référence).',
  'audit.title.glpi.text.large_values': () => 'Valeurs très longues : TEXT à la limite des 65 535 octets (sans doute tronquées) ou champs d’au moins 1 Mio',
  'audit.remedy.glpi.text.large_values': () =>
    'Régler max_allowed_packet à 64 Mio au moins sur les clients de sauvegarde et de restauration et sur le serveur cible ; vérifier les valeurs TEXT à la limite (tronquées à la saisie) et s’assurer qu’une conversion de latin1 en utf8mb4 ne les allonge pas au-delà de cette limite.',
  'audit.title.glpi.tables.mixed_engines': () => 'Moteurs de stockage hétérogènes',
  'audit.remedy.glpi.tables.mixed_engines': () =>
    'Rien à faire avant la mise à jour : migration:myisam_to_innodb convertit les tables glpi_* ; les tables ocs_glpi_* et backup_* restent en MyISAM et doivent être archivées ou converties à la main.',
  'audit.title.glpi.tables.mixed_collations': () => 'Tables ou colonnes dont l’interclassement n’est pas utf8_unicode_ci (le contrôle de schéma de GLPI refuse alors la mise à jour)',
  'audit.remedy.glpi.tables.mixed_collations': () =>
    'Ramener chaque colonne listée à sa définition exacte dans la version d’origine, colonne par colonne (ALTER TABLE t MODIFY col <type> CHARACTER SET utf8 COLLATE utf8_unicode_ci …, et non CONVERT TO, qui change TEXT en MEDIUMTEXT), puis exécuter ALTER TABLE t DEFAULT CHARSET=utf8 COLLATE=utf8_unicode_ci. Pour glpi_computers : migration corrective glpi-repair-charset-computers.',
  'audit.title.glpi.tables.row_size': () => 'Tables dont les lignes seront trop grandes pour le format cible (InnoDB COMPACT ou REDUNDANT, ou plus de 65 535 octets en utf8mb4)',
  'audit.remedy.glpi.tables.row_size': () =>
    'Avant db:update, passer les tables InnoDB listées en ROW_FORMAT=DYNAMIC (ALTER TABLE t ROW_FORMAT=DYNAMIC, ou migration:dynamic_row_format) ; pour les tables trop larges en utf8mb4, réduire les colonnes VARCHAR ajoutées en dehors de GLPI (GLPI #7697, #11840).',
  'audit.title.glpi.schema.drift': () => 'Écarts par rapport au schéma de référence de la version déclarée (le contrôle de schéma de GLPI refuse la mise à jour)',
  'audit.remedy.glpi.schema.drift': () =>
    'Sur l’instance de test, ramener chaque table listée à sa définition de référence (colonnes, index, jeux de caractères) ; ne pas utiliser --skip-db-checks, qui laisse l’écart en place (les index manquants ne sont jamais recréés).',
  'audit.title.ocs.software.null_fields': () => 'Logiciels OCS sans éditeur, nom ou version (NULL) : la mise à jour 7037 les supprime sans avertissement',
  'audit.title.ocs.batteries.dropped': () => 'Batteries inventoriées : la mise à jour 7080 supprime et recrée la table batteries',
  'audit.remedy.ocs.batteries.dropped': () =>
    'Accepter la perte (les agents remontent de nouveau les batteries à l’inventaire suivant) ou, si l’historique compte, exporter la table batteries avant la mise à jour.',
  'audit.title.ocs.tables.myisam': () => 'Tables OCS en MyISAM alors que le schéma 2.1 les crée en InnoDB (la mise à jour 7034 échoue)',
  'audit.title.ocs.schema.drift': () => 'Écarts du schéma OCS par rapport au schéma de référence de sa version (les fichiers de mise à jour peuvent échouer en silence)',
  'audit.remedy.ocs.schema.drift': () =>
    'Avant la mise à jour, ramener les tables listées à leur définition de référence, ou vérifier dans la répétition que chaque fichier de mise à jour concerné s’applique sans erreur.',
  'audit.title.ocs.version.target_refuses': () => 'Version d’OCS ou du serveur de bases de données refusée par la version cible',
  'audit.remedy.ocs.version.target_refuses': () =>
    'GUI_VERSION doit être un numéro connu (7005 pour OCS 2.1) et le serveur doit accepter les index FULLTEXT sur InnoDB (fichier 7022 : MySQL ≥ 5.6 ou MariaDB ≥ 10.0.5) ; sinon, faire la répétition sur un serveur plus récent.',
  'audit.title.link.orphan_links': () => 'Liens OCS vers un ordinateur GLPI qui n’existe plus',
  'audit.title.link.multiple_links': () => 'Ordinateurs GLPI liés plusieurs fois à OCS',
  'audit.title.link.vanished_hardware': () => 'Liens vers une machine OCS qui n’existe plus',
  'audit.remedy.link.vanished_hardware': () =>
    'Avant la migration, lancer en production le nettoyage des liens du connecteur (Outils > OCSNG > Nettoyer les liens, ou le script checkocslinks.php) pour appliquer le comportement de suppression choisi ; sinon, ces ordinateurs resteront « dynamiques » sans source.',
  'audit.title.link.never_imported': () => 'Machines OCS jamais importées dans GLPI',
  'audit.remedy.link.never_imported': () =>
    'Vérifier avec la DSI si ces machines doivent être gérées dans GLPI (filtres sur le TAG, règles d’import) ; sinon, rien à faire. Les machines sans ligne dans accountinfo ne sont pas vues par le connecteur.',
  'audit.title.link.stale': () => 'Liens non synchronisés depuis le dernier inventaire OCS (retard au-delà du seuil)',
  'audit.remedy.link.stale': () =>
    'Vérifier que l’action automatique ocsng s’exécute (glpi_crontasks) et lancer une synchronisation complète avant l’instantané de production, pour migrer des données à jour.',
  'audit.title.ocs.trace_deleted_off': () => 'TRACE_DELETED désactivé dans OCS (exigé par le connecteur)',
  'audit.remedy.ocs.trace_deleted_off': () =>
    "Dans la console OCS (Configuration > Serveur), activer TRACE_DELETED, ou exécuter UPDATE config SET IVALUE = 1 WHERE NAME = 'TRACE_DELETED' ; sans ce réglage, les machines supprimées ou fusionnées restent liées dans GLPI.",
  'audit.title.ocs.deleted_equiv_backlog': () => 'Suppressions OCS en attente dans deleted_equiv (le connecteur refuse l’import et la synchronisation tant qu’il en reste)',
  'audit.remedy.ocs.deleted_equiv_backlog': () =>
    'En production, avant l’instantané : lancer le traitement des machines supprimées par le connecteur (action automatique ocsng ou « Nettoyer les liens »), qui applique les remplacements puis vide deleted_equiv.',
  'audit.title.link.declared_version': () => 'Version OCS déclarée dans GLPI différente de la version réelle (GUI_VERSION)',
  'audit.remedy.link.declared_version': () =>
    'Sans conséquence sur les données : le connecteur réécrit ocs_version lors du test de connexion. Vérifier que le serveur OCS déclaré correspond bien à la base auditée (hôte, base).',
  'audit.title.link.synchronised_fields_empty': () => 'Champs synchronisés depuis OCS mais vides dans GLPI sur des ordinateurs liés',
  'audit.remedy.link.synchronised_fields_empty': () =>
    'Examiner avec la DSI pourquoi ces champs sont vides : soit l’information manque dans OCS (agents), soit le champ est verrouillé dans GLPI (computer_update) ; une synchronisation complète après la migration les remplit si OCS dispose de l’information.',
  'audit.title.link.glpicrypt_key_needed': () => 'Mot de passe de la base OCS stocké dans GLPI : la répétition a besoin de la clé glpicrypt.key',
  'audit.remedy.link.glpicrypt_key_needed': () =>
    'GLPI ≥ 9.4 : fournir à la répétition le fichier config/glpicrypt.key de production (--glpi-dir), faute de quoi le mot de passe OCS est illisible. GLPI 0.83 : conserver avec la base répétée la clé glpicrypt.key créée par db:update, qui chiffre le mot de passe lors de la migration du connecteur.',
  'audit.title.plugin.lost_profile_rights': () => 'Droits OCS des profils autres que celui de l’installateur : la migration vers le greffon ocsinventoryng les perd',
  'audit.remedy.plugin.lost_profile_rights': () =>
    "Après l’installation du greffon, recréer pour chaque profil listé les droits plugin_ocsinventoryng (ocsng), _sync, _view, _clean, _rule dans glpi_profilerights ('w' → 23 ou 3, 'r' → 1) et une ligne glpi_plugin_ocsinventoryng_ocsservers_profiles par serveur.",
  'audit.title.plugin.password_special_chars': () => 'Mot de passe OCS contenant des caractères spéciaux : la migration vers le greffon ocsinventoryng l’encode deux fois (connexion refusée)',
  'audit.remedy.plugin.password_special_chars': () =>
    'Après l’installation du greffon, ressaisir le mot de passe de la base OCS dans le formulaire du serveur OCS (ou enregistrer encrypt(rawurldecode(decrypt(valeur)))), puis tester la connexion.',
  // --- rehearsal: anomalies
  'anomaly.row-count.title': (p) => `Variation inexpliquée du nombre de lignes de ${p.table}`,
  'anomaly.row-count.detail': (p) => `${p.before ?? 'absente'} → ${p.after ?? 'absente'} ligne(s) lors de l'étape ${p.step}, sans que le plan ne le prévoie.`,
  'anomaly.undetected.title': (p) => `Table ${p.table} modifiée sans que le contrôle par étape ne le voie`,
  'anomaly.undetected.detail': (p) =>
    `Le contrôle complet de fin de chaîne (${p.step}) trouve pour ${p.table} un nombre de lignes ou une somme de contrôle différents de ceux reportés depuis la dernière lecture de cette table : une étape de la chaîne l'a modifiée sans changer ses métadonnées.`,
  'anomaly.untouched.title': (p) => `Table ${p.table} modifiée hors du périmètre de l'étape`,
  'anomaly.untouched.detail': (p) => `La somme de contrôle de ${p.table} a changé pendant l'étape ${p.step}.`,
  'anomaly.deleted.title': (p) => `${p.rows} ligne(s) de ${p.table} supprimée(s) par la mise à jour officielle`,
  'anomaly.deleted.detail': (p) => `Perte de données connue de l'outil de mise à jour : ${p.why}`,
  'anomaly.deleted.remedy': () => 'Exporter ces lignes avant la mise à jour de production ou compléter les valeurs manquantes à la source.',
  'anomaly.step-failed.title': (p) => `Échec de l'étape ${p.step}`,
  'anomaly.step-failed.detail': (p, t) => (p.reason ? t(p.reason) : 'échec'),
  'anomaly.finding.detail': (p) =>
    `${p.count} occurrence(s) relevée(s) par l'audit${p.recheck ? ', corrigée(s) : le contrôle relancé après les migrations correctives ne relève plus rien' : p.migration !== undefined ? `, corrigée(s) par la migration ${p.migration}` : ''}.`,
  'anomaly.finding.remedy-migration': (p) => `Migration corrective ${p.migration}`,
  'anomaly.functional.title': (p, t) => `Test fonctionnel ${p.id} en échec : ${t(p.title)}`,
  'anomaly.functional.detail': (p, t) => (p.reason ? t(p.reason) : 'échec'),
} satisfies Catalog;
