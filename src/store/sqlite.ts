/**
 * The embedded store's SQL database: Kysely over Node's built-in
 * `node:sqlite`, so the default install needs no native addon.
 *
 * Kysely's SqliteDialect expects better-sqlite3's statement shape
 * (`reader`, `all`, `run`, `iterate` taking an array of parameters); the
 * adapter below is the whole difference between the two, which is why it is
 * hand-written rather than a dependency.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";
import { ShipgateError } from "../errors.js";

function adapt(db: DatabaseSync): SqliteDatabase {
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      const statement = db.prepare(sql);
      const params = (p: ReadonlyArray<unknown>) => p.map(toSqlite);
      return {
        // A statement that yields columns is a reader (SELECT, or RETURNING).
        reader: statement.columns().length > 0,
        all: (p) => statement.all(...params(p)),
        run: (p) => {
          const r = statement.run(...params(p));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        iterate: (p) => statement.iterate(...params(p)) as IterableIterator<unknown>,
      };
    },
  };
}

/** node:sqlite binds only null, numbers, bigints, strings and bytes. */
function toSqlite(value: unknown): SQLInputValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return value;
  return JSON.stringify(value);
}

export interface OpenDatabaseOptions {
  /** Milliseconds to wait for another process's write lock before failing. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) a SQLite database file, in WAL mode so readers
 * do not block the writer and several shipgate processes can share it.
 * `:memory:` gives a private in-memory database (tests).
 */
export function openSqlite<Schema>(path: string, options: OpenDatabaseOptions = {}): Kysely<Schema> {
  let db: DatabaseSync;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA foreign_keys = ON");
  } catch (error) {
    throw new ShipgateError("STORE_ERROR", `cannot open the database ${path}: ${(error as Error).message}`, {
      cause: error,
      hint: "check that the store directory is writable (--store, $SHIPGATE_STORE)",
    });
  }
  return new Kysely<Schema>({ dialect: new SqliteDialect({ database: adapt(db) }) });
}
