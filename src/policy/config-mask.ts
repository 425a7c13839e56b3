/**
 * Secrets in a resolved config, masked for printing: webhook URLs keep their
 * scheme and host (which service) but lose the path (the secret part);
 * routing keys, tokens, passwords and HMAC secrets are replaced whole.
 */
const SECRET_KEYS = /^(webhook_url|routing_key|secret|password|token|.*_token|api_key|authorization)$/i;

export const MASK = "****";

function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}/${MASK}`;
  } catch {
    return MASK;
  }
}

export function maskSecrets<T>(value: T): T {
  return walk(value, undefined) as T;
}

function walk(value: unknown, key: string | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, undefined));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => {
        // Header values of a generic webhook usually carry tokens: mask them all.
        if (k === "headers" && v !== null && typeof v === "object")
          return [k, Object.fromEntries(Object.keys(v).map((h) => [h, MASK]))];
        return [k, walk(v, k)];
      }),
    );
  }
  if (typeof value === "string" && key !== undefined && SECRET_KEYS.test(key)) {
    return key.toLowerCase() === "webhook_url" ? maskUrl(value) : MASK;
  }
  return value;
}
