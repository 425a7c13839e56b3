import { ShipgateError } from "../errors.js";
import { type DsseEnvelope, parseEnvelope } from "./dsse.js";
import type { PublicKey } from "./keys.js";

/**
 * Sigstore bundle v0.3 (sigstore/protobuf-specs, bundle.proto, in its JSON
 * form): the verification material (a key hint, or a certificate and
 * transparency-log entries) next to the signed content. cosign v3 stores
 * image signatures and attestations as such bundles, pushed as OCI 1.1
 * referrers of the image.
 */
export const BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
const ACCEPTED_MEDIA_TYPES: ReadonlySet<string> = new Set([
  BUNDLE_V03_MEDIA_TYPE,
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  "application/vnd.dev.sigstore.bundle+json;version=0.2",
  "application/vnd.dev.sigstore.bundle+json;version=0.1",
]);

/** Referrer-manifest annotations cosign v3 sets, so tools can filter without reading the bundle. */
export const BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content";
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = "dev.sigstore.bundle.predicateType";

export interface TlogEntry {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof?: unknown;
  canonicalizedBody: string;
}

export interface Bundle {
  mediaType: string;
  verificationMaterial: {
    publicKey?: { hint: string };
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    tlogEntries?: TlogEntry[];
    timestampVerificationData?: unknown;
  };
  dsseEnvelope?: DsseEnvelope;
  messageSignature?: { messageDigest?: { algorithm: string; digest: string }; signature: string };
}

/** A keyed bundle over a DSSE envelope. No transparency-log entry: shipgate does not upload to Rekor. */
export function keyedDsseBundle(envelope: DsseEnvelope, key: PublicKey): Bundle {
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    // Proto3 JSON, as cosign's protojson writes it: empty fields (no tlog entries, an empty keyid) are left out.
    verificationMaterial: { publicKey: { hint: key.hint } },
    dsseEnvelope: {
      payload: envelope.payload,
      payloadType: envelope.payloadType,
      signatures: envelope.signatures.map((s) => (s.keyid ? { sig: s.sig, keyid: s.keyid } : { sig: s.sig })),
    },
  };
}

export function parseBundle(bytes: Uint8Array | string, where: string): Bundle {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ShipgateError(
      "SIGNATURE_INVALID",
      `${where} is not a JSON Sigstore bundle: ${(error as Error).message}`,
    );
  }
  const b = doc as Partial<Bundle> | null;
  if (
    typeof b !== "object" ||
    b === null ||
    typeof b.mediaType !== "string" ||
    !ACCEPTED_MEDIA_TYPES.has(b.mediaType)
  ) {
    throw new ShipgateError(
      "SIGNATURE_INVALID",
      `${where} is not a Sigstore bundle (mediaType ${JSON.stringify(b?.mediaType)})`,
    );
  }
  if (typeof b.verificationMaterial !== "object" || b.verificationMaterial === null) {
    throw new ShipgateError("SIGNATURE_INVALID", `${where} has no verificationMaterial`);
  }
  if ((b.dsseEnvelope === undefined) === (b.messageSignature === undefined)) {
    throw new ShipgateError(
      "SIGNATURE_INVALID",
      `${where} must hold exactly one of dsseEnvelope and messageSignature`,
    );
  }
  if (b.dsseEnvelope !== undefined) parseEnvelope(JSON.stringify(b.dsseEnvelope), `${where} dsseEnvelope`);
  return b as Bundle;
}
