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

/**
 * A string as Go's encoding/json writes it (cosign marshals the payload with
 * it): like JSON.stringify, except that <, >, & and U+2028/U+2029 are escaped.
 */
function goString(value: string): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The payload bytes exactly as cosign writes them (sigstore/sigstore
 * pkg/signature/payload, through encoding/json): struct fields in declaration
 * order, `optional` null without annotations, and, as a Go map, its keys sorted
 * bytewise, whatever order they were given in.
 */
export function simpleSigningPayload(
  dockerReference: string,
  digest: string,
  annotations?: Record<string, string>,
): Buffer {
  const entries = Object.entries(annotations ?? {}).sort(([a], [b]) =>
    Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")),
  );
  const optional =
    entries.length === 0 ? "null" : `{${entries.map(([k, v]) => `${goString(k)}:${goString(v)}`).join(",")}}`;
  return Buffer.from(
    `{"critical":{"identity":{"docker-reference":${goString(dockerReference)}},` +
      `"image":{"docker-manifest-digest":${goString(digest)}},"type":${goString(COSIGN_SIGNATURE_TYPE)}},` +
      `"optional":${optional}}`,
  );
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
  if (optional === undefined || optional === null) return { ok: true, payload: doc, optional: {} };
  // cosign decodes `optional` into a map: anything else fails its json.Unmarshal, and the signature with it.
  if (typeof optional !== "object" || Array.isArray(optional)) {
    return {
      ok: false,
      reason: `the payload's optional section is ${JSON.stringify(optional)}, not an object`,
    };
  }
  return { ok: true, payload: doc, optional: optional as Record<string, unknown> };
}

/**
 * Every required annotation is present with the same value. As cosign's
 * correctAnnotations (pkg/cosign/verify.go) compares `have[k] != v` with `v` a
 * string from `-a`, a signed number or boolean never matches: `"n": 1` is not `n=1`.
 */
export function missingAnnotations(
  have: Record<string, unknown>,
  required: Record<string, string> | undefined,
): string[] {
  if (required === undefined) return [];
  return Object.entries(required)
    .filter(([k, v]) => have[k] !== v)
    .map(([k, v]) => `${k}=${v}`);
}
