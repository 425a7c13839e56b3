import { type Kysely, sql } from "kysely";
import type { StoreSchema } from "./schema.js";

/**
 * Runs `work` inside BEGIN IMMEDIATE on the store's one connection: the write
 * lock is taken first, so concurrent writers (other processes) wait on the
 * busy timeout instead of failing when a read transaction upgrades.
 */
export async function immediate<T>(
  db: Kysely<StoreSchema>,
  work: (conn: Kysely<StoreSchema>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const result = await work(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (error) {
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
