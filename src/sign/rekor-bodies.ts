import { createHash } from "node:crypto";
import { type DsseEnvelope, envelopePayload } from "./dsse.js";

/**
 * Does a Rekor entry body (what the log holds, base64 of its canonical JSON)
 * speak of exactly this DSSE envelope, signed under this certificate? The
 * three entry kinds a DSSE envelope is logged as, per Rekor's types
 * (pkg/types/{dsse/v0.0.1,intoto/v0.0.1,intoto/v0.0.2}) and as sigstore-js
 * and cosign compare them:
 *
 * - dsse 0.0.1: `signatures[]` (signature as in the envelope, verifier =
 *   base64 of the PEM certificate), `payloadHash`, `envelopeHash`.
 * - intoto 0.0.2: `content.envelope.signatures[]` with `sig` base64 of the
 *   envelope's (already base64) signature and `publicKey` base64 of the PEM
 *   certificate; `content.payloadHash` (computed by the log) and
 *   `content.hash`, the client's hash of the envelope; the payload itself is
 *   left out of the canonical body.
 * - intoto 0.0.1 (what cosign v2 writes with `--rekor-entry-type intoto`, and
 *   by default before v2.2): no signature at all, only `content.hash`
 *   (sha256 of the envelope bytes as submitted), `content.payloadHash` and
 *   `publicKey`. The envelope hash is the only tie to the signature, so it
 *   can be checked only where the envelope's own bytes are kept.
 *
 * `envelopeBytes` are the bytes of the envelope as stored (a legacy `.att`
 * layer): there, as cosign does, the entry's envelope hash must be theirs.
 * Returns why not, or undefined when the entry matches.
 */
export function dsseEntryMismatch(
  canonicalizedBody: string,
  kindVersion: { kind: string; version: string } | undefined,
  envelope: DsseEnvelope,
  certDer: Uint8Array,
  envelopeBytes?: Uint8Array,
): string | undefined {
  let body: { kind?: unknown; apiVersion?: unknown; spec?: unknown };
  try {
    body = JSON.parse(Buffer.from(canonicalizedBody, "base64").toString("utf8"));
  } catch {
    return "the log entry body is not JSON";
  }
  if (typeof body !== "object" || body === null) return "the log entry body is not a Rekor entry";
  const kind = `${String(body.kind)} ${String(body.apiVersion)}`;
  if (kindVersion !== undefined && `${kindVersion.kind} ${kindVersion.version}` !== kind) {
    return `the log entry is ${kind}, not the ${kindVersion.kind} ${kindVersion.version} the bundle names`;
  }
  const payloadHash = sha256hex(envelopePayload(envelope));
  const wrong = "the log entry is for another signature";
  const hashOk = (h: unknown) =>
    envelopeBytes === undefined || hashValue(h) === `sha256:${sha256hex(envelopeBytes)}`;
  const spec = (body.spec ?? {}) as Record<string, unknown>;
  switch (kind) {
    case "dsse 0.0.1": {
      const s = spec as { payloadHash?: unknown; envelopeHash?: unknown; signatures?: unknown };
      const signed = new Set(envelope.signatures.map((x) => x.sig));
      const sigs = Array.isArray(s.signatures)
        ? (s.signatures as { signature?: unknown; verifier?: unknown }[])
        : [];
      const match = sigs.some(
        (x) => typeof x.signature === "string" && signed.has(x.signature) && samePem(x.verifier, certDer),
      );
      if (!match || hashValue(s.payloadHash) !== `sha256:${payloadHash}` || !hashOk(s.envelopeHash))
        return wrong;
      return undefined;
    }
    case "intoto 0.0.2": {
      const content = (spec.content ?? {}) as { envelope?: unknown; hash?: unknown; payloadHash?: unknown };
      const logged = (content.envelope ?? {}) as { payloadType?: unknown; signatures?: unknown };
      const sigs = Array.isArray(logged.signatures)
        ? (logged.signatures as { sig?: unknown; publicKey?: unknown }[])
        : [];
      // sigstore-js and cosign read one signature; so does shipgate.
      if (sigs.length !== 1) return `the intoto entry carries ${sigs.length} signatures, not one`;
      const [only] = sigs as [{ sig?: unknown; publicKey?: unknown }];
      // Double base64: the entry's sig is base64 of the envelope's base64 signature.
      const sig =
        typeof only.sig === "string" ? decodeBase64(decodeBase64(only.sig).toString("utf8")) : undefined;
      const signedHere = envelope.signatures.some(
        (x) => sig !== undefined && sig.equals(decodeBase64(x.sig)),
      );
      if (
        !signedHere ||
        sig?.length === 0 ||
        logged.payloadType !== envelope.payloadType ||
        !samePem(only.publicKey, certDer) ||
        hashValue(content.payloadHash) !== `sha256:${payloadHash}` ||
        !hashOk(content.hash)
      )
        return wrong;
      return undefined;
    }
    case "intoto 0.0.1": {
      const content = (spec.content ?? {}) as { hash?: unknown; payloadHash?: unknown };
      if (envelopeBytes === undefined) {
        return "an intoto 0.0.1 entry names the envelope only by the hash of its bytes, which a bundle does not keep";
      }
      if (
        !samePem(spec.publicKey, certDer) ||
        hashValue(content.payloadHash) !== `sha256:${payloadHash}` ||
        !hashOk(content.hash)
      )
        return wrong;
      return undefined;
    }
    default:
      return `the log entry is ${kind}, not a kind that logs a DSSE envelope (dsse 0.0.1, intoto 0.0.1 or 0.0.2)`;
  }
}

const sha256hex = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

/** `{algorithm, value}` as `alg:hex`, lower case as Rekor writes it. */
function hashValue(h: unknown): string | undefined {
  const { algorithm, value } = (h ?? {}) as { algorithm?: unknown; value?: unknown };
  return typeof algorithm === "string" && typeof value === "string"
    ? `${algorithm}:${value.toLowerCase()}`
    : undefined;
}

function decodeBase64(text: string): Buffer {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) ? Buffer.from(text, "base64") : Buffer.alloc(0);
}

/** base64 of a PEM certificate, compared by the DER it encodes (cosign ignores the PEM's line breaks the same way). */
function samePem(b64: unknown, certDer: Uint8Array): boolean {
  if (typeof b64 !== "string") return false;
  const pem = decodeBase64(b64).toString("utf8");
  const m = /^\s*-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----\s*$/.exec(
    pem,
  );
  if (m === null) return false;
  const der = Buffer.from((m[1] as string).replace(/\s+/g, ""), "base64");
  return der.length > 0 && der.equals(Buffer.from(certDer));
}
