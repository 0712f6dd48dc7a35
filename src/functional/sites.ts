/**
 * Serving the rehearsed applications without writing to their distribution trees:
 *
 *  GLPI  the --glpi-dist tree behind PHP's built-in server, through GLPI's own public/index.php router, with
 *        the rehearsal's private config/var/marketplace directories (src/rehearse/executors/glpi-env.ts:
 *        the same config_db.php and glpicrypt.key the steps used, the plugin copied by the plugin step).
 *        A small router written in the private directory serves the plugin's pages from the private
 *        marketplace directory (GLPI's router only knows the tree's own plugins/ and marketplace/), and
 *        `<private>/glpi/inc` points at the tree's inc/ so that the plugin's `../../../inc/includes.php`
 *        finds GLPI's.
 *  OCS   a private copy of the ocsreports tree (Debian's package unpacked by src/distributions/ocs.ts), with its own
 *        dbconfig.inc.php for the rehearsed OCS database (Debian links it to /etc/ocsinventory) and its log and
 *        lib directories moved into the private directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Dsn } from '../db/dsn.ts';
import type { GlpiDistribution } from '../distributions/glpi.ts';
import type { OcsDistribution } from '../distributions/ocs.ts';
import { prepareGlpiDirs, writeConfigDb, type GlpiEnvDirs } from '../rehearse/executors/glpi-env.ts';
import { startPhpServer, type PhpServer } from './php-server.ts';

export interface ServedApp {
  server: PhpServer;
  /** Extra log files whose new lines count as PHP errors (GLPI's files/_log/php-errors.log). */
  appLogs: string[];
  stop(): Promise<void>;
}

const GLPI_ROUTER = `<?php
// Written by glpi-ocs-upgrade (functional tests): PHP built-in server router for a GLPI tree whose plugins
// live in a private marketplace directory. Everything else goes to GLPI's own public/index.php router.
$glpi_root = getenv('GOU_GLPI_ROOT');
$mp = rtrim((string) getenv('GLPI_MARKETPLACE_DIR'), '/');
$path = rawurldecode((string) parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH));
if ($mp !== '' && strncmp($path, $mp . '/', strlen($mp) + 1) === 0) {
    $parts = explode('/', ltrim(substr($path, strlen($mp)), '/'));
    $file = null;
    $acc = $mp;
    $pathinfo = '';
    foreach ($parts as $i => $p) {
        if ($p === '..' || $p === '') { continue; }
        $acc .= '/' . $p;
        if (is_file($acc)) {
            $file = $acc;
            $pathinfo = implode('/', array_slice($parts, $i + 1));
            break;
        }
    }
    if ($file === null && is_dir($acc) && is_file($acc . '/index.php')) { $file = $acc . '/index.php'; }
    $real_mp = realpath($mp);
    $real = $file === null ? false : realpath($file);
    if ($real === false || strncmp($real, $real_mp . '/', strlen($real_mp) + 1) !== 0) {
        http_response_code(404);
        exit();
    }
    if (substr($real, -4) === '.php') {
        chdir(dirname($file));
        $_SERVER['SCRIPT_FILENAME'] = $file;
        $_SERVER['SCRIPT_NAME'] = $file;
        $_SERVER['PHP_SELF'] = $file;
        if ($pathinfo !== '') { $_SERVER['PATH_INFO'] = '/' . $pathinfo; }
        require $file;
        exit();
    }
    $types = ['css' => 'text/css', 'js' => 'application/javascript', 'png' => 'image/png', 'gif' => 'image/gif',
        'jpg' => 'image/jpeg', 'svg' => 'image/svg+xml', 'json' => 'application/json', 'woff' => 'font/woff', 'woff2' => 'font/woff2'];
    $ext = strtolower(pathinfo($real, PATHINFO_EXTENSION));
    header('Content-Type: ' . ($types[$ext] ?? 'application/octet-stream'));
    readfile($real);
    exit();
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $glpi_root . '/public/index.php';
require $glpi_root . '/public/index.php';
`;

export interface GlpiSiteOptions {
  dist: GlpiDistribution;
  php: string;
  /** The test instance (with its password) and the GLPI database on it. */
  dsn: Dsn;
  database: string;
  /** The rehearsal's private directory (or its run directory, from which glpi-env derives it). */
  privateDir?: string;
  runDir: string;
  logDir: string;
  signal?: AbortSignal;
  /** [apply --functional] Production GLPI's config dir, used as it is (its config_db.php is never written). */
  glpiConfigDir?: string;
}

export function glpiEnv(dirs: GlpiEnvDirs, dist: GlpiDistribution): Record<string, string> {
  return { GLPI_CONFIG_DIR: dirs.config, GLPI_VAR_DIR: dirs.files, GLPI_MARKETPLACE_DIR: dirs.marketplace, GOU_GLPI_ROOT: dist.dir };
}

export async function serveGlpi(o: GlpiSiteOptions): Promise<ServedApp & { dirs: GlpiEnvDirs }> {
  const dirs = prepareGlpiDirs({ runDir: o.runDir, privateDir: o.privateDir, glpiConfigDir: o.glpiConfigDir });
  const ownConfig = !o.glpiConfigDir;
  const router = path.join(dirs.base, 'functional-router.php');
  fs.writeFileSync(router, GLPI_ROUTER, { mode: 0o600 });
  const incLink = path.join(dirs.base, 'inc');
  try {
    if (fs.readlinkSync(incLink) !== path.join(o.dist.dir, 'inc')) fs.rmSync(incLink);
  } catch {
    /* absent */
  }
  if (!fs.existsSync(incLink)) fs.symlinkSync(path.join(o.dist.dir, 'inc'), incLink);
  if (ownConfig) writeConfigDb(dirs, o.dsn, o.database, true);
  const phpErrors = path.join(dirs.files, '_log', 'php-errors.log');
  try {
    const server = await startPhpServer({
      php: o.php,
      docroot: path.join(o.dist.dir, 'public'),
      router,
      cwd: o.dist.dir,
      env: glpiEnv(dirs, o.dist),
      logFile: path.join(o.logDir, 'glpi-server.log'),
      signal: o.signal,
    });
    return {
      server,
      dirs,
      appLogs: [phpErrors],
      stop: async () => {
        await server.stop();
        if (ownConfig) writeConfigDb(dirs, o.dsn, o.database, false);
      },
    };
  } catch (err) {
    if (ownConfig) writeConfigDb(dirs, o.dsn, o.database, false);
    throw err;
  }
}

export interface OcsSiteOptions {
  dist: OcsDistribution;
  php: string;
  dsn: Dsn;
  database: string;
  /** Private directory for the copy of the tree (mode 0700). */
  privateDir: string;
  logDir: string;
  signal?: AbortSignal;
}

function phpQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function ocsDbConfig(dsn: Dsn, database: string): string {
  const host = dsn.socket ? 'localhost' : (dsn.host ?? '127.0.0.1');
  const define = (k: string, v: string) => `define(${phpQuote(k)}, ${phpQuote(v)});`;
  return [
    '<?php',
    '// Written by glpi-ocs-upgrade (functional tests) for the rehearsed OCS database on the test instance.',
    define('DB_NAME', database),
    define('SERVER_READ', host),
    define('SERVER_WRITE', host),
    define('SERVER_PORT', String(dsn.port ?? 3306)),
    define('COMPTE_BASE', dsn.user),
    define('PSWD_BASE', dsn.password ?? ''),
    define('ENABLE_SSL', '0'),
    define('SSL_MODE', ''),
    define('SSL_KEY', ''),
    define('SSL_CERT', ''),
    define('CA_CERT', ''),
    '',
  ].join('\n');
}

/** The ocsreports root of an OCS distribution, or why it cannot be served. */
export function ocsConsoleRoot(dist: OcsDistribution): { root?: string; problem?: string } {
  if (dist.layout === 'reference') return { problem: `${dist.dir} holds only update files (reference layout), not the OCS console` };
  if (!fs.existsSync(path.join(dist.root, 'index.php')) || !fs.existsSync(path.join(dist.root, 'var.php'))) {
    return { problem: `${dist.root} has no index.php / var.php: not an ocsreports tree` };
  }
  return { root: dist.root };
}

export async function serveOcs(o: OcsSiteOptions): Promise<ServedApp & { root: string }> {
  const { root: source, problem } = ocsConsoleRoot(o.dist);
  if (!source) throw new Error(problem);
  const base = path.join(o.privateDir, 'ocsreports');
  fs.mkdirSync(o.privateDir, { recursive: true, mode: 0o700 });
  fs.rmSync(base, { recursive: true, force: true });
  // A copy: the console writes into its own tree (dbconfig.inc.php, logs, uploads) and Debian links
  // dbconfig.inc.php to /etc. Symbolic links of the package (to /usr/share/javascript…) are kept as links.
  fs.cpSync(source, base, { recursive: true, verbatimSymlinks: true });
  const varDir = path.join(o.privateDir, 'ocs-var');
  const logDir = path.join(o.privateDir, 'ocs-log');
  for (const d of [varDir, logDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.rmSync(path.join(base, 'dbconfig.inc.php'), { force: true });
  fs.writeFileSync(path.join(base, 'dbconfig.inc.php'), ocsDbConfig(o.dsn, o.database), { mode: 0o600 });
  const varPhp = path.join(base, 'var.php');
  const text = fs
    .readFileSync(varPhp, 'utf8')
    .replace(/define\('VARLIB_DIR',[^)]*\)/, `define('VARLIB_DIR', ${phpQuote(varDir)})`)
    .replace(/define\('VARLOG_DIR',[^)]*\)/, `define('VARLOG_DIR', ${phpQuote(logDir)})`);
  fs.writeFileSync(varPhp, text);
  // Debian's package strips the bundled PHP libraries (vendor/) and relies on system packages (php-cas,
  // libphp-phpmailer…) that only its postinst wires in; the login and the computer list need none of them.
  const autoload = path.join(base, 'vendor', 'autoload.php');
  if (!fs.existsSync(autoload)) {
    fs.mkdirSync(path.dirname(autoload), { recursive: true });
    fs.writeFileSync(autoload, "<?php\n// glpi-ocs-upgrade: Debian's ocsinventory-reports ships no vendor/; its libraries are not needed for the functional tests.\n");
  }
  const server = await startPhpServer({
    php: o.php,
    docroot: base,
    cwd: base,
    env: {},
    logFile: path.join(o.logDir, 'ocs-server.log'),
    signal: o.signal,
  });
  return {
    server,
    root: base,
    appLogs: [],
    stop: async () => {
      await server.stop();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
