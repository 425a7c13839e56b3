/**
 * Stored scan results: the findings for a digest against one state of the
 * vulnerability database. A gate reuses a stored scan while it is younger
 * than its maximum age and the database has not changed since.
 */
import type { StoreDb } from "./store.js";

export interface StoredScan<F> {
  digest: string;
  database: string;
  scannedAt: string;
  findings: F[];
}

export async function saveScan<F>(db: StoreDb, scan: StoredScan<F>): Promise<void> {
  const row = {
    digest: scan.digest,
    database: scan.database,
    scanned_at: scan.scannedAt,
    findings: JSON.stringify(scan.findings),
  };
  await db
    .insertInto("scan_results")
    .values(row)
    .onConflict((c) =>
      c.columns(["digest", "database"]).doUpdateSet({ scanned_at: row.scanned_at, findings: row.findings }),
    )
    .execute();
}

/** The stored scan of `digest` against `database` made at or after `notBefore`, if any. */
export async function findScan<F>(
  db: StoreDb,
  digest: string,
  database: string,
  notBefore: Date,
): Promise<StoredScan<F> | undefined> {
  const row = await db
    .selectFrom("scan_results")
    .selectAll()
    .where("digest", "=", digest)
    .where("database", "=", database)
    .where("scanned_at", ">=", notBefore.toISOString())
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    digest: row.digest,
    database: row.database,
    scannedAt: row.scanned_at,
    findings: JSON.parse(row.findings) as F[],
  };
}
