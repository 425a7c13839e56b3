import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Generated, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../src/store/sqlite.js";

interface Schema {
  item: { id: Generated<number>; name: string; flag: number; at: string | null };
}

describe("openSqlite", () => {
  it("runs Kysely queries over node:sqlite: create, insert with RETURNING, select, update, transaction", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "shipgate-sqlite-")), "nested", "store.db");
    const db = openSqlite<Schema>(path);
    await db.schema
      .createTable("item")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("name", "text", (c) => c.notNull().unique())
      .addColumn("flag", "integer", (c) => c.notNull())
      .addColumn("at", "text")
      .execute();
    const inserted = await db
      .insertInto("item")
      .values({ name: "a", flag: true as unknown as number, at: null })
      .returning(["id", "flag"])
      .executeTakeFirstOrThrow();
    expect(inserted).toEqual({ id: 1, flag: 1 });
    await db.insertInto("item").values({ name: "b", flag: 0, at: "2026-01-01" }).execute();
    await expect(db.insertInto("item").values({ name: "a", flag: 0, at: null }).execute()).rejects.toThrow(
      /UNIQUE/,
    );
    await db.transaction().execute(async (trx) => {
      await trx.updateTable("item").set({ flag: 5 }).where("name", "=", "b").execute();
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.updateTable("item").set({ flag: 9 }).where("name", "=", "a").execute();
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    const rows = await db.selectFrom("item").select(["name", "flag", "at"]).orderBy("name").execute();
    expect(rows).toEqual([
      { name: "a", flag: 1, at: null },
      { name: "b", flag: 5, at: "2026-01-01" },
    ]);
    const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(db);
    expect(mode.rows[0]?.journal_mode).toBe("wal");
    await db.destroy();

    // The data is on disk: a second connection sees it.
    const again = openSqlite<Schema>(path);
    expect(await again.selectFrom("item").select("name").execute()).toHaveLength(2);
    await again.destroy();
  });

  it("reuses prepared statements, also after a stream stopped early and while one is open", async () => {
    const db = openSqlite<Schema>(":memory:");
    await db.schema
      .createTable("item")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("flag", "integer", (c) => c.notNull())
      .addColumn("at", "text")
      .execute();
    for (let i = 1; i <= 5; i++)
      await db
        .insertInto("item")
        .values({ name: `n${i}`, flag: i, at: null })
        .execute();
    const names = (min: number) =>
      db.selectFrom("item").select("name").where("flag", ">=", min).orderBy("id");
    // the same SQL with other parameters: each run sees its own
    expect((await names(4).execute()).map((r) => r.name)).toEqual(["n4", "n5"]);
    expect((await names(2).execute()).map((r) => r.name)).toEqual(["n2", "n3", "n4", "n5"]);
    // a stream abandoned after one row leaves the statement usable from its start
    for await (const row of names(1).stream()) {
      expect(row.name).toBe("n1");
      break;
    }
    expect((await names(1).execute()).map((r) => r.name)).toEqual(["n1", "n2", "n3", "n4", "n5"]);
    const streamed: string[] = [];
    for await (const row of names(3).stream()) streamed.push(row.name);
    expect(streamed).toEqual(["n3", "n4", "n5"]);
    // writes between runs of a cached statement are seen
    await db.updateTable("item").set({ flag: 0 }).where("name", "=", "n5").execute();
    expect((await names(3).execute()).map((r) => r.name)).toEqual(["n3", "n4"]);
    await db.destroy();
  });

  it("says which file it could not open", () => {
    const file = join(mkdtempSync(join(tmpdir(), "shipgate-sqlite-")), "a-file");
    writeFileSync(file, "not a directory");
    const path = join(file, "x.db");
    expect(() => openSqlite(path)).toThrow(`cannot open the database ${path}`);
  });
});
