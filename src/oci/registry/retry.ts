import { setTimeout as sleep } from "node:timers/promises";
import { ShipgateError } from "../../errors.js";

/** One retry policy for every registry request (DESIGN: one place per concern). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff, doubled each time, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

/** An error the next attempt may not repeat: overload, server fault, dropped connection. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RetryableError";
  }
}

const retryableNetworkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

export function isRetryable(error: unknown): boolean {
  if (error instanceof RetryableError) return true;
  // Corrupt or truncated content from a flaky proxy is worth one more fetch.
  if (error instanceof ShipgateError)
    return error.code === "DIGEST_MISMATCH" || error.code === "SIZE_MISMATCH";
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code !== undefined && retryableNetworkCodes.has(code)) return true;
    current = current.cause;
  }
  return false;
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds, capped. */
export function parseRetryAfter(value: string | undefined, capMs = 60_000): number | undefined {
  if (value === undefined || value === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, capMs);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - Date.now()), capMs);
}

export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(Math.random() * ceiling);
}

/**
 * Runs `operation` until it succeeds, fails with a non-retryable error, or
 * runs out of attempts; then the last error is thrown with how many tries were made.
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const last = attempt + 1 >= policy.attempts;
      if (!isRetryable(error) || last) {
        if (last && isRetryable(error)) throw exhausted(what, policy.attempts, error);
        throw error;
      }
      const retryAfter = error instanceof RetryableError ? error.retryAfterMs : undefined;
      const delay = retryAfter ?? backoffDelay(policy, attempt);
      onRetry?.(error, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

function exhausted(what: string, attempts: number, error: unknown): Error {
  if (error instanceof ShipgateError) {
    return new ShipgateError(error.code, `${error.message} (gave up after ${attempts} attempts)`, {
      cause: error,
      hint: error.hint,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ShipgateError("NETWORK", `${what}: ${reason} (gave up after ${attempts} attempts)`, {
    cause: error,
    hint: "the registry is unreachable or overloaded; check the address and try again later",
  });
}
