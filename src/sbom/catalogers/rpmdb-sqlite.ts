import { DatabaseSync } from "node:sqlite";

/** SQLite's file header (sqlite.org/fileformat.html, "The Database Header"). */
const MAGIC = Buffer.from("SQLite format 3\u0000", "latin1");
/** Largest header blob read: rpm itself refuses headers over 256 MiB; a real one is a few hundred KiB. */
const MAX_BLOB = 64 * 1024 * 1024;

export interface RpmdbRows {
  blobs: { hnum: number; blob: Uint8Array }[];
  warnings: string[];
}

/**
 * The header blobs of rpm's SQLite database (rpm 4.16+, lib/backend/sqlite.c:
 * table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`), read from the
 * file's bytes in memory: nothing is written to disk and the image's file is
 * never opened by SQLite itself.
 */
export function readRpmdbSqlite(content: Buffer, path: string): RpmdbRows {
  if (content.length < 100 || !content.subarray(0, 16).equals(MAGIC)) {
    return { blobs: [], warnings: [`rpm: ${path} is not an SQLite database; no packages read from it`] };
  }
  const db = new DatabaseSync(":memory:");
  const warnings: string[] = [];
  const blobs: RpmdbRows["blobs"] = [];
  try {
    // rpm keeps the database in WAL mode (header bytes 18 and 19 are 2). An
    // in-memory database cannot use a WAL, so SQLite is handed the pages as a
    // rollback-journal database (the pages are the same; a WAL left beside the
    // file is reported by the cataloguer). deserialize copies the bytes, so
    // the two header bytes are patched in place, not in a second copy of a
    // file that may be tens of MiB, and put back at once.
    const [read, write] = [content[18], content[19]];
    if (read === 2) content[18] = 1;
    if (write === 2) content[19] = 1;
    try {
      db.deserialize(content);
    } finally {
      content[18] = read as number;
      content[19] = write as number;
    }
    // The database is the image's, so it is not trusted: `Packages` must be a
    // table (a view could run any SQL), and blobs are size-checked before they are fetched.
    const kind = db.prepare("SELECT type FROM sqlite_master WHERE name = 'Packages'").get() as
      | { type: string }
      | undefined;
    if (kind?.type !== "table") {
      return { blobs: [], warnings: [`rpm: ${path} has no Packages table; no packages read from it`] };
    }
    const rows = db
      .prepare(
        "SELECT hnum, length(blob) AS size, CASE WHEN length(blob) <= ? THEN blob END AS blob FROM Packages",
      )
      .iterate(MAX_BLOB) as Iterable<{ hnum: unknown; size: unknown; blob: unknown }>;
    for (const row of rows) {
      const hnum = Number(row.hnum);
      if (row.blob instanceof Uint8Array) blobs.push({ hnum, blob: row.blob });
      else if (row.size !== null)
        warnings.push(`rpm: ${path}: header ${hnum} (${row.size} bytes) is too large; not read`);
      else warnings.push(`rpm: ${path}: header ${hnum} is empty; not read`);
    }
    return { blobs, warnings };
  } catch (error) {
    // A corrupt page mid-table: keep the headers read before it, and say so.
    warnings.push(`rpm: ${path} could not be read (whole) as an rpm database: ${(error as Error).message}`);
    return { blobs, warnings };
  } finally {
    db.close();
  }
}
