/**
 * A generic webhook: the notification as JSON, with an optional
 * `X-Shipgate-Signature: sha256=<hex>` header, the HMAC-SHA256 of the exact
 * body bytes under the shared secret (the GitHub webhook convention), so a
 * receiver can check the message came from shipgate and was not altered.
 */
import { createHmac } from "node:crypto";
import type { Notification } from "./message.js";

export interface WebhookConfig {
  url: string;
  secret?: string;
  headers?: Record<string, string>;
}

export const SIGNATURE_HEADER = "x-shipgate-signature";
export const EVENT_HEADER = "x-shipgate-event";

export function webhookBody(n: Notification): string {
  return JSON.stringify({ ...n, at: n.at.toISOString(), source: "shipgate" });
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function webhookHeaders(config: WebhookConfig, n: Notification, body: string): Record<string, string> {
  const headers: Record<string, string> = { ...config.headers, [EVENT_HEADER]: n.kind };
  if (config.secret) headers[SIGNATURE_HEADER] = signBody(config.secret, body);
  return headers;
}
