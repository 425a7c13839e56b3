/**
 * Approval requests for promotions, kept in the store so any process (the
 * CLI of another person, a later `promote` run) sees the same state. One
 * request per digest and target environment: re-running a promotion finds
 * the request it made before instead of asking again. The requester never
 * counts as an approver; a rejection is final for that digest.
 */
import { randomBytes } from "node:crypto";
import { ShipgateError } from "../errors.js";
import { currentUser, recordAudit } from "../store/audit.js";
import type { ApprovalRequestTable, ApprovalVoteTable } from "../store/schema.js";
import type { StoreDb } from "../store/store.js";
import { immediate } from "../store/transaction.js";

export type ApprovalStatus = "pending" | "approved" | "rejected";

export interface ApprovalVote {
  approver: string;
  decision: "approve" | "reject";
  reason: string | null;
  at: string;
}

export interface ApprovalRequest {
  id: string;
  app: string;
  tag: string;
  digest: string;
  from: string | null;
  to: string;
  requester: string;
  required: number;
  status: ApprovalStatus;
  createdAt: string;
  timeoutAt: string | null;
  escalatedAt: string | null;
  decidedAt: string | null;
  reason: string | null;
  votes: ApprovalVote[];
  /** Who approved, in order. */
  approvers: string[];
}

export interface NewRequest {
  app: string;
  tag: string;
  digest: string;
  from?: string | undefined;
  to: string;
  requester: string;
  required: number;
  timeoutMs?: number | undefined;
  now?: Date;
}

function toRequest(row: ApprovalRequestTable, votes: ApprovalVoteTable[]): ApprovalRequest {
  const mine = votes
    .filter((v) => v.request_id === row.id)
    .map((v) => ({
      approver: v.approver,
      decision: v.decision as ApprovalVote["decision"],
      reason: v.reason,
      at: v.at,
    }))
    .sort((a, b) => (a.at < b.at ? -1 : 1));
  return {
    id: row.id,
    app: row.app,
    tag: row.tag,
    digest: row.digest,
    from: row.from_env,
    to: row.to_env,
    requester: row.requester,
    required: row.required,
    status: row.status as ApprovalStatus,
    createdAt: row.created_at,
    timeoutAt: row.timeout_at,
    escalatedAt: row.escalated_at,
    decidedAt: row.decided_at,
    reason: row.reason,
    votes: mine,
    approvers: mine.filter((v) => v.decision === "approve").map((v) => v.approver),
  };
}

async function load(db: StoreDb, rows: ApprovalRequestTable[]): Promise<ApprovalRequest[]> {
  if (rows.length === 0) return [];
  const votes = await db
    .selectFrom("approval_votes")
    .selectAll()
    .where(
      "request_id",
      "in",
      rows.map((r) => r.id),
    )
    .execute();
  return rows.map((r) => toRequest(r, votes));
}

export async function getApproval(db: StoreDb, id: string): Promise<ApprovalRequest> {
  const row = await db.selectFrom("approval_requests").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined) {
    throw new ShipgateError("NOT_FOUND", `no approval request ${id}`, {
      hint: "list them with `shipgate approvals list`",
    });
  }
  return (await load(db, [row]))[0] as ApprovalRequest;
}

/** The latest request for this digest into this environment, if any. */
export async function findApproval(
  db: StoreDb,
  digest: string,
  to: string,
): Promise<ApprovalRequest | undefined> {
  const row = await db
    .selectFrom("approval_requests")
    .selectAll()
    .where("digest", "=", digest)
    .where("to_env", "=", to)
    .orderBy("created_at", "desc")
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : (await load(db, [row]))[0];
}

export async function listApprovals(
  db: StoreDb,
  filter: { status?: ApprovalStatus; to?: string } = {},
): Promise<ApprovalRequest[]> {
  let query = db.selectFrom("approval_requests").selectAll();
  if (filter.status !== undefined) query = query.where("status", "=", filter.status);
  if (filter.to !== undefined) query = query.where("to_env", "=", filter.to);
  return load(db, await query.orderBy("created_at", "asc").execute());
}

/** Finds the request for (digest, to) or creates it; `created` says which. */
export async function requestApproval(
  db: StoreDb,
  request: NewRequest,
): Promise<{ request: ApprovalRequest; created: boolean }> {
  const now = request.now ?? new Date();
  const created = await immediate(db, async (conn) => {
    const existing = await conn
      .selectFrom("approval_requests")
      .select("id")
      .where("digest", "=", request.digest)
      .where("to_env", "=", request.to)
      .executeTakeFirst();
    if (existing) return undefined;
    const id = `apr-${randomBytes(4).toString("hex")}`;
    await conn
      .insertInto("approval_requests")
      .values({
        id,
        app: request.app,
        tag: request.tag,
        digest: request.digest,
        from_env: request.from ?? null,
        to_env: request.to,
        requester: request.requester,
        required: request.required,
        status: "pending",
        created_at: now.toISOString(),
        timeout_at:
          request.timeoutMs === undefined ? null : new Date(now.getTime() + request.timeoutMs).toISOString(),
        escalated_at: null,
        decided_at: null,
        reason: null,
      })
      .execute();
    return id;
  });
  if (created !== undefined) {
    await recordAudit(
      {
        kind: "approval",
        action: "requested",
        outcome: "pending",
        actor: request.requester,
        app: request.app,
        digest: request.digest,
        environment: request.to,
        details: { id: created, tag: request.tag, from: request.from ?? null, required: request.required },
        at: now,
      },
      db,
    );
    return { request: await getApproval(db, created), created: true };
  }
  return { request: (await findApproval(db, request.digest, request.to)) as ApprovalRequest, created: false };
}

export interface Decision {
  id: string;
  who?: string;
  reason?: string | undefined;
  now?: Date;
}

async function decide(db: StoreDb, decision: Decision, kind: "approve" | "reject"): Promise<ApprovalRequest> {
  const who = decision.who ?? currentUser();
  const now = (decision.now ?? new Date()).toISOString();
  await immediate(db, async (conn) => {
    const row = await conn
      .selectFrom("approval_requests")
      .selectAll()
      .where("id", "=", decision.id)
      .executeTakeFirst();
    if (row === undefined) {
      throw new ShipgateError("NOT_FOUND", `no approval request ${decision.id}`, {
        hint: "list them with `shipgate approvals list`",
      });
    }
    if (row.status !== "pending") {
      throw new ShipgateError("USAGE", `approval request ${row.id} is already ${row.status}`, {
        hint: "a decided request cannot change; promote a new digest to ask again",
      });
    }
    if (kind === "approve" && who === row.requester) {
      throw new ShipgateError("POLICY_DENIED", `${who} requested ${row.id} and cannot approve it`, {
        hint: "someone other than the requester must approve (set SHIPGATE_USER to who you are)",
      });
    }
    const voted = await conn
      .selectFrom("approval_votes")
      .select("decision")
      .where("request_id", "=", row.id)
      .where("approver", "=", who)
      .executeTakeFirst();
    if (voted) throw new ShipgateError("USAGE", `${who} already voted on ${row.id} (${voted.decision})`);
    await conn
      .insertInto("approval_votes")
      .values({ request_id: row.id, approver: who, decision: kind, reason: decision.reason ?? null, at: now })
      .execute();
    const approvals = await conn
      .selectFrom("approval_votes")
      .select(({ fn }) => fn.countAll<number>().as("n"))
      .where("request_id", "=", row.id)
      .where("decision", "=", "approve")
      .executeTakeFirstOrThrow();
    const status =
      kind === "reject" ? "rejected" : Number(approvals.n) >= row.required ? "approved" : "pending";
    if (status !== "pending") {
      await conn
        .updateTable("approval_requests")
        .set({ status, decided_at: now, reason: decision.reason ?? null })
        .where("id", "=", row.id)
        .execute();
    }
  });
  const request = await getApproval(db, decision.id);
  await recordAudit(
    {
      kind: "approval",
      action: kind === "approve" ? "approved" : "rejected",
      outcome: request.status,
      actor: who,
      app: request.app,
      digest: request.digest,
      environment: request.to,
      details: {
        id: request.id,
        reason: decision.reason ?? null,
        approvals: request.approvers,
        required: request.required,
      },
      at: new Date(now),
    },
    db,
  );
  return request;
}

export const approve = (db: StoreDb, decision: Decision) => decide(db, decision, "approve");

export function reject(db: StoreDb, decision: Decision): Promise<ApprovalRequest> {
  if (!decision.reason) {
    throw new ShipgateError("USAGE", "a rejection needs a reason", { hint: 'pass --reason "why"' });
  }
  return decide(db, decision, "reject");
}

/** Pending requests whose timeout has passed and that were not escalated yet. */
export async function dueForEscalation(db: StoreDb, now: Date = new Date()): Promise<ApprovalRequest[]> {
  const rows = await db
    .selectFrom("approval_requests")
    .selectAll()
    .where("status", "=", "pending")
    .where("escalated_at", "is", null)
    .where("timeout_at", "is not", null)
    .where("timeout_at", "<=", now.toISOString())
    .execute();
  return load(db, rows);
}

/** Marks a request escalated; false when another process got there first (so only one escalation is sent). */
export async function markEscalated(db: StoreDb, id: string, now: Date = new Date()): Promise<boolean> {
  const updated = await db
    .updateTable("approval_requests")
    .set({ escalated_at: now.toISOString() })
    .where("id", "=", id)
    .where("escalated_at", "is", null)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/**
 * Polls a request until it is decided or `timeoutMs` passes (then returns it
 * still pending); `onPoll` runs each round (escalation checks, progress).
 */
export async function waitForDecision(
  db: StoreDb,
  id: string,
  options: { timeoutMs: number; pollMs?: number; onPoll?: (r: ApprovalRequest) => Promise<void> | void },
): Promise<ApprovalRequest> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const request = await getApproval(db, id);
    if (request.status !== "pending" || Date.now() >= deadline) return request;
    await options.onPoll?.(request);
    await new Promise((r) =>
      setTimeout(r, Math.min(options.pollMs ?? 2000, Math.max(0, deadline - Date.now()))),
    );
  }
}
