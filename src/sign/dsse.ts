import { ShipgateError } from "../errors.js";
import { type PrivateKey, type PublicKey, signBytes, verifyBytes } from "./keys.js";

/** DSSE v1 (secure-systems-lab/dsse, envelope.md and protocol.md). */
export const DSSE_ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json";
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseSignature {
  keyid?: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/**
 * The pre-authentication encoding: what is signed is never the payload alone
 * but "DSSEv1 <len(type)> <type> <len(body)> <body>", lengths in bytes as
 * ASCII decimal, so a signature cannot be replayed under another payload type.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    Buffer.from(payload),
  ]);
}

export function signEnvelope(payloadType: string, payload: Uint8Array, key: PrivateKey): DsseEnvelope {
  const sig = signBytes(key, preAuthEncoding(payloadType, payload));
  return {
    payloadType,
    payload: Buffer.from(payload).toString("base64"),
    signatures: [{ keyid: "", sig: sig.toString("base64") }],
  };
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function parseEnvelope(bytes: Uint8Array | string, where: string): DsseEnvelope {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ShipgateError(
      "SIGNATURE_INVALID",
      `${where} is not a JSON DSSE envelope: ${(error as Error).message}`,
    );
  }
  const d = doc as Partial<DsseEnvelope> | null;
  const ok =
    typeof d === "object" &&
    d !== null &&
    typeof d.payloadType === "string" &&
    typeof d.payload === "string" &&
    BASE64.test(d.payload) &&
    Array.isArray(d.signatures) &&
    d.signatures.every(
      (s) => typeof s === "object" && s !== null && typeof s.sig === "string" && BASE64.test(s.sig),
    );
  if (!ok) {
    throw new ShipgateError(
      "SIGNATURE_INVALID",
      `${where} is not a DSSE envelope (payloadType, base64 payload, signatures[].sig)`,
    );
  }
  return d as DsseEnvelope;
}

export function envelopePayload(envelope: DsseEnvelope): Buffer {
  return Buffer.from(envelope.payload, "base64");
}

/** The keys (by index in `keys`) that made at least one of the envelope's signatures. */
export function verifyEnvelope(envelope: DsseEnvelope, keys: readonly PublicKey[]): PublicKey[] {
  const pae = preAuthEncoding(envelope.payloadType, envelopePayload(envelope));
  return keys.filter((key) =>
    envelope.signatures.some((s) => s.sig !== "" && verifyBytes(key, pae, Buffer.from(s.sig, "base64"))),
  );
}
