/**
 * Schema migrations for the embedded store: numbered, applied once each, in
 * order, inside one immediate transaction so two processes opening a fresh
 * store at the same moment do not both create tables.
 */
import { type Kysely, sql } from "kysely";
import type { StoreSchema } from "./schema.js";
import { immediate } from "./transaction.js";

interface Migration {
  version: number;
  statements: string[];
}

const migrations: Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        app TEXT,
        digest TEXT,
        environment TEXT,
        outcome TEXT NOT NULL,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE
      )`,
      "CREATE INDEX audit_log_digest ON audit_log (digest)",
      "CREATE INDEX audit_log_environment ON audit_log (environment)",
      `CREATE TABLE approval_requests (
        id TEXT PRIMARY KEY,
        app TEXT NOT NULL,
        tag TEXT NOT NULL,
        digest TEXT NOT NULL,
        from_env TEXT,
        to_env TEXT NOT NULL,
        requester TEXT NOT NULL,
        required INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        timeout_at TEXT,
        escalated_at TEXT,
        decided_at TEXT,
        reason TEXT
      )`,
      "CREATE INDEX approval_requests_subject ON approval_requests (digest, to_env)",
      `CREATE TABLE approval_votes (
        request_id TEXT NOT NULL REFERENCES approval_requests (id),
        approver TEXT NOT NULL,
        decision TEXT NOT NULL,
        reason TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (request_id, approver)
      )`,
    ],
  },
  {
    // A scan of a digest against one state of the vulnerability database, reused while fresh.
    version: 2,
    statements: [
      `CREATE TABLE scan_results (
        digest TEXT NOT NULL,
        database TEXT NOT NULL,
        scanned_at TEXT NOT NULL,
        findings TEXT NOT NULL,
        PRIMARY KEY (digest, database)
      )`,
    ],
  },
];

export const LATEST_VERSION = migrations[migrations.length - 1]?.version ?? 0;

export async function migrate(db: Kysely<StoreSchema>): Promise<void> {
  await immediate(db, async (conn) => {
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`.execute(
      conn,
    );
    const applied = await conn.selectFrom("schema_migrations").select("version").execute();
    const done = new Set(applied.map((r) => r.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await sql.raw(statement).execute(conn);
      await conn
        .insertInto("schema_migrations")
        .values({ version: migration.version, applied_at: new Date().toISOString() })
        .execute();
    }
  });
}
