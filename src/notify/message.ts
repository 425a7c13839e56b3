/**
 * What shipgate tells people about, independent of where it is sent: each
 * channel module (slack.ts, teams.ts, pagerduty.ts, webhook.ts) renders this
 * one shape in its service's own message format.
 */
export type NotificationKind =
  | "promotion" // an image entered an environment
  | "promotion-blocked" // a gate said no
  | "approval-requested"
  | "approval-decided"
  | "escalation" // an approval waited past its timeout
  | "alert"; // e.g. a critical CVE in a promoted digest

export type NotificationSeverity = "info" | "warning" | "error" | "critical";

export interface GateLine {
  gate: string;
  status: "pass" | "fail" | "error";
  summary: string;
}

export interface Notification {
  kind: NotificationKind;
  severity: NotificationSeverity;
  /** One line, what happened: `shop:1.4.2 promoted to prod`. */
  title: string;
  /** A few sentences more. */
  text: string;
  image?: { app: string; tag?: string; digest: string; reference?: string };
  from?: string;
  to?: string;
  actor?: string;
  gates?: GateLine[];
  approval?: { id: string; required: number; approvals: string[]; requester: string };
  /** Identifies the incident for services that deduplicate (PagerDuty), so a later resolve closes it. */
  dedupKey?: string;
  /** True when this closes what an earlier notification with the same dedupKey opened. */
  resolve?: boolean;
  at: Date;
}

/** Facts as label/value pairs, in the order every channel shows them. */
export function facts(n: Notification): [string, string][] {
  const out: [string, string][] = [];
  if (n.image) {
    out.push(["Image", `${n.image.app}${n.image.tag ? `:${n.image.tag}` : ""}`]);
    out.push(["Digest", n.image.digest]);
  }
  if (n.from) out.push(["From", n.from]);
  if (n.to) out.push(["To", n.to]);
  if (n.actor) out.push(["By", n.actor]);
  if (n.approval) {
    out.push(["Request", n.approval.id]);
    out.push(["Approvals", `${n.approval.approvals.length} of ${n.approval.required}`]);
    out.push(["Requester", n.approval.requester]);
  }
  return out;
}

export function gateSymbol(status: GateLine["status"]): string {
  return status === "pass" ? "✅" : status === "fail" ? "❌" : "⚠️";
}

/** What a reader does next, for approval requests: the exact commands. */
export function approvalHint(n: Notification): string | undefined {
  if (n.approval === undefined) return undefined;
  return `shipgate approvals approve ${n.approval.id}  |  shipgate approvals reject ${n.approval.id} --reason "..."`;
}
