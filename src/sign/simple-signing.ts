/**
 * cosign's signature payload: the "simple signing" JSON of containers/image
 * (containers-signature.5) with cosign's type string, as specs/SIGNATURE_SPEC.md
 * describes. The signature is over these exact bytes; the payload names the
 * digest it covers, which is what makes a detached signature safe to move.
 */
export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const COSIGN_SIGNATURE_TYPE = "cosign container image signature";
/** The layer annotation holding the base64 signature. */
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";

export interface SimpleSigningPayload {
  critical: {
    identity: { "docker-reference": string };
    image: { "docker-manifest-digest": string };
    type: string;
  };
  optional: Record<string, unknown> | null;
}

/** The payload bytes, in cosign's key order; `optional` is null without annotations, as cosign writes it. */
export function simpleSigningPayload(
  dockerReference: string,
  digest: string,
  annotations?: Record<string, string>,
): Buffer {
  const payload: SimpleSigningPayload = {
    critical: {
      identity: { "docker-reference": dockerReference },
      image: { "docker-manifest-digest": digest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: annotations && Object.keys(annotations).length > 0 ? { ...annotations } : null,
  };
  return Buffer.from(JSON.stringify(payload));
}

/**
 * A field as Go's encoding/json finds it, which is how cosign decodes the
 * payload: keys match case-insensitively ("Docker-manifest-digest" is the same
 * field) and, when several keys match, the last one wins. A verifier that
 * compared keys exactly could be shown a payload cosign reads differently.
 */
function goField(object: unknown, name: string): unknown {
  if (typeof object !== "object" || object === null || Array.isArray(object)) return undefined;
  let found: unknown;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === lower) found = value;
  }
  return found;
}

export type PayloadCheck =
  | { ok: true; payload: unknown; optional: Record<string, unknown> }
  | { ok: false; reason: string };

/** The payload is cosign's type and names exactly `digest`. */
export function checkSimpleSigning(bytes: Uint8Array, digest: string): PayloadCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { ok: false, reason: "the payload is not JSON" };
  }
  const critical = goField(doc, "critical");
  if (critical === undefined || critical === null)
    return { ok: false, reason: "the payload has no critical section" };
  const type = goField(critical, "type");
  if (type !== COSIGN_SIGNATURE_TYPE) {
    return {
      ok: false,
      reason: `the payload type is ${JSON.stringify(type)}, not "${COSIGN_SIGNATURE_TYPE}"`,
    };
  }
  const named = goField(goField(critical, "image"), "docker-manifest-digest");
  if (named !== digest) {
    return { ok: false, reason: `the payload names ${String(named)}, not ${digest}` };
  }
  const optional = goField(doc, "optional");
  return {
    ok: true,
    payload: doc,
    optional:
      typeof optional === "object" && optional !== null && !Array.isArray(optional)
        ? (optional as Record<string, unknown>)
        : {},
  };
}

/** Every required annotation is present with the same value (cosign compares values as strings). */
export function missingAnnotations(
  have: Record<string, unknown>,
  required: Record<string, string> | undefined,
): string[] {
  if (required === undefined) return [];
  return Object.entries(required)
    .filter(([k, v]) => have[k] === undefined || String(have[k]) !== v)
    .map(([k, v]) => `${k}=${v}`);
}
