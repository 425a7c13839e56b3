/**
 * Opens the embedded store's database (`<store dir>/shipgate.sqlite`) with
 * its schema migrated. The store layer is the only code that knows SQL; the
 * promotion engine and retention call its functions.
 */
import { join } from "node:path";
import type { Kysely } from "kysely";
import { ShipgateError } from "../errors.js";
import { storeDirectory } from "../oci/transports/location.js";
import { migrate } from "./migrations.js";
import type { StoreSchema } from "./schema.js";
import { openSqlite } from "./sqlite.js";

export { immediate } from "./transaction.js";

export type StoreDb = Kysely<StoreSchema>;

export const DATABASE_FILE = "shipgate.sqlite";

/** A store directory, or `:memory:` for a private in-memory database. */
export async function openStore(dir: string = storeDirectory()): Promise<StoreDb> {
  const path = dir === ":memory:" ? dir : join(dir, DATABASE_FILE);
  const db = openSqlite<StoreSchema>(path);
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw new ShipgateError("STORE_ERROR", `cannot prepare the store ${path}: ${(error as Error).message}`, {
      cause: error,
      hint: "check that the store directory is writable and the file is a shipgate store",
    });
  }
  return db;
}

/** Either an open store or its directory; functions given a directory open and close it themselves. */
export type StoreTarget = StoreDb | string | undefined;

export async function withStore<T>(target: StoreTarget, work: (db: StoreDb) => Promise<T>): Promise<T> {
  if (target !== undefined && typeof target !== "string") return work(target);
  const db = await openStore(target);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}
