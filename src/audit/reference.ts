/**
 * Reference schemas for the drift checks: GLPI's own `glpi-<version>-empty.sql` (from a reference
 * directory, or from a GLPI distribution's `install/mysql/`), OCS's `ocsbase_new-<release>.sql` from a
 * reference directory. A file is loaded into a scratch database on a *test* instance (never production:
 * the interlock is asserted), described with describeSchema, and the scratch database dropped again.
 *
 * Nothing is bundled: files are read where the user has them (--reference-dir, --glpi-dist).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import type { Dsn } from '../db/dsn.ts';
import { connect, qi } from '../db/connect.ts';
import { assertWritable } from '../db/interlock.ts';
import type { SchemaShape } from '../db/schema.ts';
import { describeSchema } from '../db/schema.ts';
import { splitSqlStatements } from '../db/sql-script.ts';
import type { EmbeddedInstance } from '../db/embedded.ts';
import { startEmbedded } from '../db/embedded.ts';
import type { Message } from '../i18n/messages.ts';
import { msg } from '../i18n/messages.ts';

/** A reference schema, or why there is none (`missing`: a check's skip reason). */
export type ReferenceResult = { shape: SchemaShape; file: string; loadErrors: number } | { missing: Message };

/** Default charset/collation of the scratch database (those of the audited database). */
export interface DbDefaults {
  charset: string;
  collation: string;
}

export interface ReferenceProvider {
  glpi(version: string, defaults?: DbDefaults): Promise<ReferenceResult>;
  ocs(guiVersion: number, releases: string[], defaults?: DbDefaults): Promise<ReferenceResult>;
  close(): Promise<void>;
}

/** Where scratch databases go: a writable test instance. */
export interface ScratchSource {
  connection(): Promise<{ conn: Connection; dsn: Dsn }>;
  close(): Promise<void>;
}

/** Scratch databases on an existing test instance (e.g. the one a snapshot was restored into). */
export function scratchOn(dsn: Dsn): ScratchSource {
  let conn: Connection | undefined;
  return {
    async connection() {
      conn ??= await connect({ ...dsn, database: undefined }, { promptOnDenied: false });
      return { conn, dsn };
    },
    async close() {
      await conn?.end().catch(() => undefined);
      conn = undefined;
    },
  };
}

/** Scratch databases on an embedded instance started on first use (for audits of live databases). */
export function embeddedScratch(serverBin?: string): ScratchSource {
  let inst: EmbeddedInstance | undefined;
  let inner: ScratchSource | undefined;
  return {
    async connection() {
      if (!inner) {
        inst = await startEmbedded({ serverBin, name: 'audit-reference' });
        inner = scratchOn(inst.dsn);
      }
      return inner.connection();
    },
    async close() {
      await inner?.close();
      await inst?.stop();
      inst = undefined;
      inner = undefined;
    },
  };
}

export interface ReferenceSources {
  /** Directories holding glpi-<version>-empty.sql and/or ocsbase_new-<release>.sql files. */
  dirs: string[];
  /** GLPI distributions (their install/mysql/ holds glpi-<version>-empty.sql for older versions). */
  glpiDists?: string[];
  scratch: ScratchSource;
}

/** Candidate file names for a GLPI version: exact, then normalised to three numbers (9.1.7.1 → 9.1.7). */
export function glpiReferenceNames(version: string): string[] {
  const parts = version.split('.');
  const names = [`glpi-${version}-empty.sql`];
  if (parts.length > 3) names.push(`glpi-${parts.slice(0, 3).join('.')}-empty.sql`);
  return names;
}

export function findGlpiReference(version: string, sources: Pick<ReferenceSources, 'dirs' | 'glpiDists'>): string | undefined {
  const dirs = [...sources.dirs, ...(sources.glpiDists ?? []).map((d) => path.join(d, 'install', 'mysql'))];
  for (const name of glpiReferenceNames(version)) {
    for (const d of dirs) {
      const f = path.join(d, name);
      if (fs.existsSync(f)) return f;
    }
  }
  return undefined;
}

export function findOcsReference(releases: string[], dirs: string[]): string | undefined {
  for (const r of releases) {
    for (const d of dirs) {
      const f = path.join(d, `ocsbase_new-${r}.sql`);
      if (fs.existsSync(f)) return f;
    }
  }
  return undefined;
}

/**
 * Loads a schema script into a fresh scratch database and describes it. GLPI files must load cleanly;
 * OCS files are replayed like OCS's installer would (errors counted, not fatal).
 */
export async function loadReferenceShape(
  scratch: ScratchSource,
  file: string,
  tolerant: boolean,
  defaults: DbDefaults = { charset: 'utf8', collation: 'utf8_unicode_ci' },
): Promise<{ shape: SchemaShape; loadErrors: number }> {
  const { conn, dsn } = await scratch.connection();
  await assertWritable(conn, dsn, 'load a reference schema into a scratch database');
  const db = `gou_ref_${crypto.randomBytes(4).toString('hex')}`;
  const ident = (x: string) => (/^[A-Za-z0-9_]+$/.test(x) ? x : 'utf8');
  await conn.query(`CREATE DATABASE ${qi(db)} DEFAULT CHARACTER SET ${ident(defaults.charset)} COLLATE ${ident(defaults.collation)}`);
  let loadErrors = 0;
  try {
    await conn.query(`USE ${qi(db)}`);
    await conn.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'");
    await conn.query('SET NAMES utf8');
    const sql = fs.readFileSync(file, 'utf8');
    for (const stmt of splitSqlStatements(sql)) {
      try {
        await conn.query(stmt);
      } catch (err) {
        if (!tolerant) throw err;
        loadErrors++;
      }
    }
    const shape = await describeSchema(conn, db);
    return { shape, loadErrors };
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS ${qi(db)}`).catch(() => undefined);
    await conn.query('SET NAMES utf8mb4').catch(() => undefined);
  }
}

export function createReferenceProvider(sources: ReferenceSources): ReferenceProvider {
  const cache = new Map<string, Promise<ReferenceResult>>();
  const load = (file: string, tolerant: boolean, defaults?: DbDefaults): Promise<ReferenceResult> => {
    const key = `${file}\u0000${defaults?.collation ?? ''}`;
    let p = cache.get(key);
    if (!p) {
      p = loadReferenceShape(sources.scratch, file, tolerant, defaults).then((r) => ({ ...r, file }));
      cache.set(key, p);
    }
    return p;
  };
  return {
    async glpi(version, defaults) {
      const file = findGlpiReference(version, sources);
      if (!file) {
        const name = glpiReferenceNames(version)[0];
        return { missing: msg('audit.skip.no-glpi-reference', { file: name }) };
      }
      return load(file, false, defaults);
    },
    async ocs(gui, releases, defaults) {
      if (releases.length === 0) return { missing: msg('audit.skip.gui-not-in-catalog', { gui }) };
      const file = findOcsReference(releases, sources.dirs);
      if (!file) return { missing: msg('audit.skip.no-ocs-reference', { release: releases[0] }) };
      return load(file, true, defaults);
    },
    async close() {
      await sources.scratch.close();
    },
  };
}
