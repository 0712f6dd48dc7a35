import { UnsupportedError } from '../errors.ts';
import { readManifestFile } from '../formats/manifest.ts';
import type { Dsn } from '../db/dsn.ts';
import { connectReadOnly } from '../db/connect.ts';
import { inspectGlpi, inspectOcs } from '../inspect/report.ts';
import type { Manifest } from '../snapshot/manifest-types.ts';
import type { PlanInput } from './planner.ts';

/** Reads a snapshot's manifest through the one manifest reader (src/formats/manifest.ts). */
export async function readSnapshotManifest(dir: string): Promise<Manifest> {
  return readManifestFile(dir);
}

export function planInputFromManifest(m: Manifest): PlanInput {
  const input: PlanInput = { snapshotId: m.id };
  for (const db of m.databases) {
    if (db.role === 'glpi') {
      if (!db.glpi) throw new UnsupportedError(`the snapshot's GLPI database ${db.name} has no version information in its manifest`);
      input.glpi = {
        database: db.name,
        version: db.glpi.version,
        connector: db.glpi.connector,
        tables: db.tables.map((t) => ({ name: t.name, engine: t.engine, collation: t.collation })),
      };
    } else if (db.role === 'ocs') {
      if (!db.ocs) throw new UnsupportedError(`the snapshot's OCS database ${db.name} has no version information in its manifest`);
      input.ocs = { database: db.name, version: db.ocs.version };
    }
  }
  return input;
}

export async function planInputFromSnapshot(dir: string): Promise<PlanInput> {
  return planInputFromManifest(await readSnapshotManifest(dir));
}

/** Inspects live databases, read-only (connectReadOnly), into a PlanInput. No snapshot id: the plan says "live". */
export async function planInputFromLive(sources: { glpi?: Dsn; ocs?: Dsn }): Promise<PlanInput> {
  const input: PlanInput = {};
  if (sources.glpi) {
    const conn = await connectReadOnly(sources.glpi);
    try {
      const r = await inspectGlpi(conn, sources.glpi.database!);
      input.glpi = { database: r.database, version: r.version, connector: r.connector, tables: r.tables.map((t) => ({ name: t.name, engine: t.engine, collation: t.collation })) };
    } finally {
      await conn.end().catch(() => undefined);
    }
  }
  if (sources.ocs) {
    const conn = await connectReadOnly(sources.ocs);
    try {
      const r = await inspectOcs(conn, sources.ocs.database!);
      input.ocs = { database: r.database, version: r.version };
    } finally {
      await conn.end().catch(() => undefined);
    }
  }
  return input;
}
