/**
 * Escalation: a pending approval past its `timeout` notifies the gate's
 * `escalate` channels once (the store marks it, so concurrent runs do not
 * page twice). Run by `shipgate approvals escalate` (e.g. from cron) and on
 * every promote re-run.
 */
import type { DeliveryResult } from "../notify/send.js";
import type { Config } from "../policy/config-schema.js";
import { recordAudit } from "../store/audit.js";
import type { StoreDb } from "../store/store.js";
import { type ApprovalRequest, dueForEscalation, markEscalated } from "./approvals.js";
import { deliver, escalationNotice } from "./notices.js";

export interface Escalated {
  request: ApprovalRequest;
  channels: string[];
  deliveries: DeliveryResult[];
}

export async function escalateDue(
  db: StoreDb,
  config: Config,
  options: { now?: Date; only?: string; sendOptions?: { backoffMs?: number } } = {},
): Promise<Escalated[]> {
  const now = options.now ?? new Date();
  const out: Escalated[] = [];
  for (const request of await dueForEscalation(db, now)) {
    if (options.only !== undefined && request.id !== options.only) continue;
    const channels = config.promotion[request.to]?.gates.approval?.escalate ?? [];
    if (!(await markEscalated(db, request.id, now))) continue;
    const deliveries = await deliver(
      db,
      config,
      channels,
      escalationNotice(request, now),
      options.sendOptions,
    );
    await recordAudit(
      {
        kind: "escalation",
        action: "escalated",
        outcome:
          channels.length === 0 ? "no-channels" : deliveries.every((d) => d.ok) ? "delivered" : "failed",
        actor: "shipgate",
        app: request.app,
        digest: request.digest,
        environment: request.to,
        details: { id: request.id, channels, timeoutAt: request.timeoutAt },
        at: now,
      },
      db,
    );
    out.push({ request: { ...request, escalatedAt: now.toISOString() }, channels, deliveries });
  }
  return out;
}
