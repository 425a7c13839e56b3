/**
 * PagerDuty Events API v2 (POST https://events.pagerduty.com/v2/enqueue):
 * `trigger` with routing_key, dedup_key and payload {summary (≤1024
 * characters), source, severity, timestamp, component, group, class,
 * custom_details}; `resolve` with just routing_key, event_action and
 * dedup_key, which closes the alert the trigger opened. The endpoint
 * answers 202 with {status: "success", dedup_key}.
 */
import type { Notification, NotificationSeverity } from "./message.js";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

export interface PagerDutyConfig {
  routing_key: string;
  url?: string;
  /** The severity used when the notification's own is lower. */
  severity?: NotificationSeverity;
}

const RANK: Record<NotificationSeverity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

/** A stable key for the incident: the same image and target give the same key. */
export function dedupKeyFor(n: Notification): string {
  if (n.dedupKey) return n.dedupKey.slice(0, 255);
  const parts = ["shipgate", n.kind, n.image?.app, n.image?.digest, n.to].filter((p) => p !== undefined);
  return parts.join("/").slice(0, 255);
}

export function pagerDutyPayload(config: PagerDutyConfig, n: Notification): Record<string, unknown> {
  const dedup_key = dedupKeyFor(n);
  if (n.resolve) return { routing_key: config.routing_key, event_action: "resolve", dedup_key };
  const floor = config.severity ?? "info";
  const severity = RANK[n.severity] >= RANK[floor] ? n.severity : floor;
  const details: Record<string, unknown> = { text: n.text };
  if (n.image) details.image = n.image;
  if (n.from) details.from = n.from;
  if (n.to) details.to = n.to;
  if (n.approval) details.approval = n.approval;
  if (n.gates) details.gates = n.gates;
  return {
    routing_key: config.routing_key,
    event_action: "trigger",
    dedup_key,
    payload: {
      summary: n.title.slice(0, 1024),
      source: n.image?.reference ?? n.image?.app ?? "shipgate",
      severity,
      timestamp: n.at.toISOString(),
      component: n.image?.app ?? "shipgate",
      group: n.to ?? "shipgate",
      class: n.kind,
      custom_details: details,
    },
    client: "shipgate",
  };
}
