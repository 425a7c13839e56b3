/**
 * The notifications a promotion sends, built from its facts, and their
 * delivery recorded in the audit trail (channel names and outcomes only:
 * never a URL or key).
 */
import type { GateLine, Notification } from "../notify/message.js";
import { type DeliveryResult, notifyAll, type SendOptions } from "../notify/send.js";
import type { Config } from "../policy/config-schema.js";
import { recordAudit } from "../store/audit.js";
import type { StoreDb } from "../store/store.js";
import type { ApprovalRequest } from "./approvals.js";
import type { GateResult } from "./gates/types.js";

export interface Subject {
  app: string;
  tag: string;
  digest: string;
  reference: string;
  from: string | undefined;
  to: string;
}

export function gateLines(gates: readonly GateResult[]): GateLine[] {
  return gates.map((g) => ({ gate: g.gate, status: g.status, summary: g.summary }));
}

function image(s: Subject): Notification["image"] {
  return { app: s.app, tag: s.tag, digest: s.digest, reference: s.reference };
}

export function promotionNotice(
  s: Subject,
  promoted: boolean,
  gates: readonly GateResult[],
  actor: string,
  now: Date,
): Notification {
  const failed = gates.filter((g) => g.status !== "pass");
  return {
    kind: promoted ? "promotion" : "promotion-blocked",
    severity: promoted ? "info" : "warning",
    title: promoted ? `${s.app}:${s.tag} promoted to ${s.to}` : `${s.app}:${s.tag} blocked from ${s.to}`,
    text: promoted
      ? `Every gate passed; ${s.digest} is now ${s.app}:${s.tag} in ${s.to}.`
      : `${failed.map((g) => `${g.gate}: ${g.summary}`).join("; ")}`,
    image: image(s),
    ...(s.from ? { from: s.from } : {}),
    to: s.to,
    actor,
    gates: gateLines(gates),
    dedupKey: `shipgate/promotion/${s.app}/${s.digest}/${s.to}`,
    resolve: promoted,
    at: now,
  };
}

export function approvalNotice(
  s: Subject,
  request: ApprovalRequest,
  gates: readonly GateResult[],
  now: Date,
): Notification {
  return {
    kind: "approval-requested",
    severity: "warning",
    title: `${s.app}:${s.tag} awaits approval for ${s.to}`,
    text: `${request.requester} asks to promote ${s.digest} from ${s.from ?? "?"} to ${s.to}; ${request.required} approval(s) needed from someone else.`,
    image: image(s),
    ...(s.from ? { from: s.from } : {}),
    to: s.to,
    actor: request.requester,
    gates: gateLines(gates),
    approval: {
      id: request.id,
      required: request.required,
      approvals: request.approvers,
      requester: request.requester,
    },
    dedupKey: `shipgate/approval/${request.id}`,
    at: now,
  };
}

export function escalationNotice(request: ApprovalRequest, now: Date): Notification {
  const waited = Math.round((now.getTime() - Date.parse(request.createdAt)) / 60_000);
  return {
    kind: "escalation",
    severity: "critical",
    title: `Approval ${request.id} for ${request.app}:${request.tag} to ${request.to} is overdue`,
    text: `Requested by ${request.requester} ${waited} minute(s) ago; ${request.approvers.length} of ${request.required} approvals so far.`,
    image: { app: request.app, tag: request.tag, digest: request.digest },
    ...(request.from ? { from: request.from } : {}),
    to: request.to,
    approval: {
      id: request.id,
      required: request.required,
      approvals: request.approvers,
      requester: request.requester,
    },
    dedupKey: `shipgate/approval/${request.id}`,
    at: now,
  };
}

/** The escalation's incident closes once the request is decided. */
export function decidedNotice(request: ApprovalRequest, now: Date): Notification {
  return {
    ...escalationNotice(request, now),
    kind: "approval-decided",
    severity: request.status === "approved" ? "info" : "warning",
    title: `Approval ${request.id} for ${request.app}:${request.tag} to ${request.to}: ${request.status}`,
    text: `${request.status} by ${request.votes.map((v) => v.approver).join(", ")}${request.reason ? `: ${request.reason}` : ""}`,
    resolve: true,
  };
}

export async function deliver(
  db: StoreDb,
  config: Config,
  channels: readonly string[],
  notice: Notification,
  options: SendOptions = {},
): Promise<DeliveryResult[]> {
  if (channels.length === 0) return [];
  const results = await notifyAll(channels, config.notifications, notice, options);
  await recordAudit(
    {
      kind: "notification",
      action: notice.kind,
      outcome: results.every((r) => r.ok) ? "delivered" : "failed",
      ...(notice.actor ? { actor: notice.actor } : {}),
      ...(notice.image ? { app: notice.image.app, digest: notice.image.digest } : {}),
      ...(notice.to ? { environment: notice.to } : {}),
      details: { title: notice.title, deliveries: results },
      at: notice.at,
    },
    db,
  );
  return results;
}
