/**
 * One POST of a JSON body to a notification endpoint, retried on 429 and
 * 5xx (honouring Retry-After) and on network errors. Endpoint URLs are
 * secrets (Slack and Teams webhook URLs carry the token in their path), so
 * messages name the channel, never the URL.
 */
import { ShipgateError } from "../errors.js";

export interface PostOptions {
  /** The channel's name in shipgate.yaml, for messages. */
  channel: string;
  headers?: Record<string, string>;
  /** Attempts in all (default 4). */
  attempts?: number;
  /** First back-off in ms, doubled each retry (default 500). */
  backoffMs?: number;
  /** Per-attempt timeout in ms (default 10 s). */
  timeoutMs?: number;
}

export interface PostResult {
  status: number;
  body: string;
  attempts: number;
}

const MAX_RETRY_AFTER_MS = 30_000;

function retryAfterMs(header: string | null, fallback: number): number {
  if (header === null) return fallback;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(header);
  return Number.isNaN(date) ? fallback : Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS);
}

export async function postJson(url: string, body: string, options: PostOptions): Promise<PostResult> {
  const attempts = Math.max(1, options.attempts ?? 4);
  let backoff = options.backoffMs ?? 500;
  let lastProblem = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let wait = backoff;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "shipgate", ...options.headers },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const text = await response.text();
      if (response.ok) return { status: response.status, body: text, attempts: attempt };
      lastProblem = `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
      if (response.status !== 429 && response.status < 500) break;
      wait = retryAfterMs(response.headers.get("retry-after"), backoff);
    } catch (error) {
      lastProblem = (error as Error).name === "TimeoutError" ? "timed out" : (error as Error).message;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, wait));
    backoff *= 2;
  }
  throw new ShipgateError(
    "NOTIFY_FAILED",
    `notification channel "${options.channel}" refused the message: ${lastProblem}`,
    {
      hint: "check the channel's URL or key in the environment variable shipgate.yaml names",
    },
  );
}
