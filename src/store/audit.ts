/**
 * The audit trail: append-only records of every promotion decision, gate
 * result, approval, notification and deletion. Each record's hash covers its
 * content and the previous record's hash, so editing or deleting a record
 * anywhere breaks the chain and `verifyAudit` says where.
 */
import { createHash } from "node:crypto";
import { ShipgateError } from "../errors.js";
import type { AuditLogTable } from "./schema.js";
import { type StoreTarget, withStore } from "./store.js";
import { immediate } from "./transaction.js";

export type AuditKind = "promotion" | "approval" | "notification" | "deletion" | "escalation" | (string & {});

export interface AuditEventInput {
  kind: AuditKind;
  action: string;
  outcome: string;
  /** Who did it: $SHIPGATE_USER or the OS user, unless the caller knows better. */
  actor?: string;
  app?: string;
  digest?: string;
  environment?: string;
  details?: Record<string, unknown>;
  /** Defaults to now. */
  at?: Date;
}

export interface AuditRecord {
  seq: number;
  at: string;
  kind: string;
  action: string;
  actor: string;
  app: string | null;
  digest: string | null;
  environment: string | null;
  outcome: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  kind?: string;
  app?: string;
  digest?: string;
  environment?: string;
  /** Records at or after this time. */
  since?: Date;
  /** Newest records, at most this many (returned oldest first). */
  limit?: number;
}

export const GENESIS_HASH = "0".repeat(64);

/** JSON with object keys sorted, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  });
}

type RowContent = Omit<AuditLogTable, "seq" | "hash">;
type Row = RowContent & { seq: number; hash: string };

function hashRecord(row: RowContent): string {
  const content = [
    row.at,
    row.kind,
    row.action,
    row.actor,
    row.app,
    row.digest,
    row.environment,
    row.outcome,
    row.details,
  ];
  return createHash("sha256")
    .update(row.prev_hash)
    .update("\n")
    .update(JSON.stringify(content))
    .digest("hex");
}

/** Who is acting: $SHIPGATE_USER, else the OS user. */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  return env.SHIPGATE_USER || env.USER || env.LOGNAME || "unknown";
}

/** Appends one record to the trail (in `target`: an open store or a store directory; default the user's store). */
export async function recordAudit(event: AuditEventInput, target?: StoreTarget): Promise<AuditRecord> {
  return withStore(target, (db) =>
    immediate(db, async (conn) => {
      const last = await conn
        .selectFrom("audit_log")
        .select("hash")
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirst();
      const content: RowContent = {
        at: (event.at ?? new Date()).toISOString(),
        kind: event.kind,
        action: event.action,
        actor: event.actor ?? currentUser(),
        app: event.app ?? null,
        digest: event.digest ?? null,
        environment: event.environment ?? null,
        outcome: event.outcome,
        details: canonicalJson(event.details ?? {}),
        prev_hash: last?.hash ?? GENESIS_HASH,
      };
      const hash = hashRecord(content);
      const inserted = await conn
        .insertInto("audit_log")
        .values({ ...content, hash })
        .returning("seq")
        .executeTakeFirstOrThrow();
      return toRecord({ ...content, hash, seq: inserted.seq });
    }),
  );
}

function toRecord(row: Row): AuditRecord {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    details = { unparsable: row.details };
  }
  return {
    seq: row.seq,
    at: row.at,
    kind: row.kind,
    action: row.action,
    actor: row.actor,
    app: row.app,
    digest: row.digest,
    environment: row.environment,
    outcome: row.outcome,
    details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Records matching the filter, oldest first. */
export async function listAudit(filter: AuditFilter = {}, target?: StoreTarget): Promise<AuditRecord[]> {
  return withStore(target, async (db) => {
    let query = db.selectFrom("audit_log").selectAll();
    if (filter.kind !== undefined) query = query.where("kind", "=", filter.kind);
    if (filter.app !== undefined) query = query.where("app", "=", filter.app);
    if (filter.digest !== undefined) query = query.where("digest", "=", filter.digest);
    if (filter.environment !== undefined) query = query.where("environment", "=", filter.environment);
    if (filter.since !== undefined) query = query.where("at", ">=", filter.since.toISOString());
    query = query.orderBy("seq", "desc");
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    const rows = await query.execute();
    return rows.reverse().map((r) => toRecord(r as unknown as Row));
  });
}

export interface AuditVerification {
  ok: boolean;
  records: number;
  /** The first record whose hash or link does not match, and why. */
  broken?: { seq: number; reason: string };
}

/** Walks the whole chain and recomputes every hash. */
export async function verifyAudit(target?: StoreTarget): Promise<AuditVerification> {
  return withStore(target, async (db) => {
    let prev = GENESIS_HASH;
    let count = 0;
    try {
      for await (const row of db.selectFrom("audit_log").selectAll().orderBy("seq", "asc").stream()) {
        count++;
        const seq = row.seq as unknown as number;
        if (row.prev_hash !== prev) {
          return {
            ok: false,
            records: count,
            broken: {
              seq,
              reason: "its link to the previous record does not match (a record was removed or reordered)",
            },
          };
        }
        if (hashRecord(row) !== row.hash) {
          return {
            ok: false,
            records: count,
            broken: { seq, reason: "its content does not match its hash (the record was edited)" },
          };
        }
        prev = row.hash;
      }
    } catch (error) {
      throw new ShipgateError("STORE_ERROR", `cannot read the audit trail: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return { ok: true, records: count };
  });
}
