import { type Bundle, parseBundle } from "./bundle.js";
import { type DsseEnvelope, envelopePayload, IN_TOTO_PAYLOAD_TYPE, verifyEnvelope } from "./dsse.js";
import { parseStatement, type Statement, subjectFor } from "./intoto.js";
import { type Keyless, verifyKeylessBundle } from "./keyless.js";
import type { PublicKey } from "./keys.js";

export type StatementResult =
  | { ok: true; statement: Statement; key: string; envelope: DsseEnvelope }
  | { ok: false; reason: string };

/** A DSSE envelope: signed by one of the keys, an in-toto statement, naming `digest` among its subjects. */
export function checkEnvelope(
  envelope: DsseEnvelope,
  where: string,
  digest: string,
  keys: readonly PublicKey[],
): StatementResult {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return { ok: false, reason: `${where}: payload type ${envelope.payloadType} is not in-toto` };
  }
  const key = verifyEnvelope(envelope, keys)[0];
  if (key === undefined) {
    return {
      ok: false,
      reason: `${where}: the signature does not verify with ${keys.map((k) => k.source).join(", ")}`,
    };
  }
  const parsed = parseStatement(envelopePayload(envelope));
  if (!parsed.ok) return { ok: false, reason: `${where}: ${parsed.reason}` };
  if (subjectFor(parsed.statement, digest) === undefined) {
    const named =
      parsed.statement.subject.map((s) => JSON.stringify(s?.digest ?? {})).join(", ") || "no subject";
    return { ok: false, reason: `${where}: the statement's subjects (${named}) do not include ${digest}` };
  }
  return { ok: true, statement: parsed.statement, key: key.source, envelope };
}

/** A Sigstore bundle (keyed, or keyless against `keyless`) whose statement names `digest`. */
export function verifyBundle(
  bytes: Uint8Array,
  where: string,
  digest: string,
  keys: readonly PublicKey[],
  keyless?: Keyless,
): StatementResult {
  return checkBundleStatement(bytes, where, digest, keys, keyless);
}

export function checkBundleStatement(
  bytes: Uint8Array,
  where: string,
  digest: string,
  keys: readonly PublicKey[],
  keyless: Keyless | undefined,
): StatementResult {
  let bundle: Bundle;
  try {
    bundle = parseBundle(bytes, where);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (bundle.dsseEnvelope === undefined) {
    return {
      ok: false,
      reason: `${where}: a message-signature bundle is not an image signature shipgate can check`,
    };
  }
  if (bundle.verificationMaterial.publicKey === undefined) {
    if (keyless === undefined) {
      return {
        ok: false,
        reason: `${where}: signed keyless (certificate); verify it with a trusted root and an identity, not --key`,
      };
    }
    const result = verifyKeylessBundle(bundle, keyless.trustedRoot, keyless.identity);
    if (!result.ok) return { ok: false, reason: `${where}: ${result.reason}` };
    return keylessStatement(result, where, digest, bundle.dsseEnvelope);
  }
  return checkEnvelope(bundle.dsseEnvelope, where, digest, keys);
}

/** A statement whose keyless signature verified: it must also be about this digest. */
export function keylessStatement(
  verified: { statement: Statement; identity: string; issuer: string },
  where: string,
  digest: string,
  envelope: DsseEnvelope,
): StatementResult {
  if (subjectFor(verified.statement, digest) === undefined) {
    return { ok: false, reason: `${where}: the statement's subjects do not include ${digest}` };
  }
  return {
    ok: true,
    statement: verified.statement,
    key: `keyless:${verified.identity} (${verified.issuer})`,
    envelope,
  };
}
