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
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";
import { ShipgateError } from "../errors.js";

/** Prepared statements kept per connection (the SQL text is the key); least recently used go first. */
const STATEMENT_CACHE_SIZE = 256;

interface Prepared {
  statement: StatementSync;
  reader: boolean;
  /** An iterate() over it is still open: reusing the statement would reset that iteration. */
  busy: boolean;
}

function adapt(db: DatabaseSync): SqliteDatabase {
  // Kysely prepares every query it runs; preparing is a good part of a small
  // query's time, and a rescan runs thousands of the same few.
  const cache = new Map<string, Prepared>();
  const prepared = (sql: string): Prepared => {
    const hit = cache.get(sql);
    if (hit !== undefined && !hit.busy) {
      cache.delete(sql);
      cache.set(sql, hit);
      return hit;
    }
    const statement = db.prepare(sql);
    // A statement that yields columns is a reader (SELECT, or RETURNING).
    const fresh = { statement, reader: statement.columns().length > 0, busy: false };
    // One in use by an open iteration stays with it; this one is used once, uncached.
    if (hit !== undefined) return fresh;
    cache.set(sql, fresh);
    if (cache.size > STATEMENT_CACHE_SIZE) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return fresh;
  };
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const p = prepared(sql);
      const params = (values: ReadonlyArray<unknown>) => values.map(toSqlite);
      return {
        reader: p.reader,
        all: (values) => p.statement.all(...params(values)),
        run: (values) => {
          const r = p.statement.run(...params(values));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        iterate: (values) => iterate(p, params(values)),
      };
    },
  };
}

/** Iterates a statement, marking it busy until the iteration ends (or is abandoned through return()). */
function iterate(p: Prepared, values: SQLInputValue[]): IterableIterator<unknown> {
  const inner = p.statement.iterate(...values);
  p.busy = true;
  const release = () => {
    p.busy = false;
  };
  const it: IterableIterator<unknown> = {
    next: () => {
      try {
        const r = inner.next();
        if (r.done) release();
        return r;
      } catch (error) {
        release();
        throw error;
      }
    },
    return: (value?: unknown) => {
      release();
      inner.return?.();
      return { done: true, value };
    },
    [Symbol.iterator]: () => it,
  };
  return it;
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
