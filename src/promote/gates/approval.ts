/**
 * N approvals from people other than the requester. The first run that gets
 * this far (every other gate passed) opens a request and notifies; later
 * runs read its state, and escalate it once its timeout has passed.
 */
import type { ApprovalGateConfig } from "../../policy/config-schema.js";
import { findApproval, requestApproval } from "../approvals.js";
import { escalateDue } from "../escalation.js";
import { approvalNotice, deliver } from "../notices.js";
import { type GateContext, type GateResult, result } from "./types.js";

export async function approvalGate(
  ctx: GateContext,
  gate: ApprovalGateConfig,
  others: readonly GateResult[],
  options: { dryRun: boolean },
): Promise<GateResult> {
  const othersPass = others.every((g) => g.status === "pass");
  let request = await findApproval(ctx.store, ctx.digest, ctx.to);
  const evidence: Record<string, unknown> = { required: gate.approvers, requester: ctx.requester };
  if (request === undefined) {
    if (!othersPass)
      return result("approval", "fail", "not requested: other gates must pass first", evidence);
    if (options.dryRun)
      return result("approval", "fail", `would request ${gate.approvers} approval(s)`, evidence);
    const made = await requestApproval(ctx.store, {
      app: ctx.app,
      tag: ctx.tag,
      digest: ctx.digest,
      from: ctx.from,
      to: ctx.to,
      requester: ctx.requester,
      required: gate.approvers,
      timeoutMs: gate.timeout,
      now: ctx.now,
    });
    request = made.request;
    if (made.created) {
      const subject = {
        app: ctx.app,
        tag: ctx.tag,
        digest: ctx.digest,
        reference: ctx.reference,
        from: ctx.from,
        to: ctx.to,
      };
      evidence.notified = await deliver(
        ctx.store,
        ctx.loaded.config,
        gate.notify,
        approvalNotice(subject, request, others, ctx.now),
      );
    }
  } else if (request.status === "pending" && !options.dryRun) {
    const escalated = await escalateDue(ctx.store, ctx.loaded.config, { now: ctx.now, only: request.id });
    if (escalated.length > 0) evidence.escalated = escalated[0]?.channels;
  }
  Object.assign(evidence, {
    id: request.id,
    status: request.status,
    approvers: request.approvers,
    votes: request.votes,
    requestedBy: request.requester,
    timeoutAt: request.timeoutAt,
  });
  if (request.status === "approved") {
    return result("approval", "pass", `${request.id} approved by ${request.approvers.join(", ")}`, evidence);
  }
  if (request.status === "rejected") {
    const by = request.votes.find((v) => v.decision === "reject");
    return result(
      "approval",
      "fail",
      `${request.id} rejected by ${by?.approver ?? "?"}: ${by?.reason ?? ""}`,
      evidence,
    );
  }
  const got = request.approvers.length ? ` (approved by ${request.approvers.join(", ")})` : "";
  return result(
    "approval",
    "fail",
    `${request.id} pending: ${request.approvers.length} of ${request.required} approvals${got}; run \`shipgate approvals approve ${request.id}\``,
    evidence,
  );
}
