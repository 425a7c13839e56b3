import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { X509Certificate } from "@sigstore/core";
import { BUNDLE_V03_MEDIA_TYPE, type Bundle, type TlogEntry } from "./bundle.js";
import type { DsseEnvelope } from "./dsse.js";
import {
  chainFor,
  checkIdentity,
  type IdentityPolicy,
  type KeylessResult,
  type TrustedRoot,
  verifyKeylessBundle,
  within,
} from "./keyless.js";
import { verifySignedEntryTimestamp } from "./rekor.js";

/**
 * cosign v2's keyless signatures in the legacy `.sig` layout: the Fulcio
 * certificate and the Rekor "bundle" (signed entry timestamp and the entry
 * it covers) are layer annotations next to the signature.
 */
export const CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate";
export const REKOR_BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle";
/** The intermediates and root above the certificate (PEM); verification takes the chain from the trusted root instead. */
export const CHAIN_ANNOTATION = "dev.sigstore.cosign/chain";

interface RekorBundle {
  SignedEntryTimestamp?: string;
  Payload?: { body?: string; integratedTime?: number; logIndex?: number; logID?: string };
}

export type LegacyKeylessResult =
  | { ok: true; identity: string; issuer: string }
  | { ok: false; reason: string };

/** The hashedrekord entry the log holds must be for exactly this payload, signature and certificate. */
function entryMatches(body: string, payload: Uint8Array, signature: string, certPem: string): boolean {
  let entry: {
    kind?: string;
    spec?: {
      data?: { hash?: { value?: string } };
      signature?: { content?: string; publicKey?: { content?: string } };
    };
  };
  try {
    entry = JSON.parse(Buffer.from(body, "base64").toString("utf8"));
  } catch {
    return false;
  }
  if (entry.kind !== "hashedrekord") return false;
  const hash = createHash("sha256").update(payload).digest("hex");
  const logged = Buffer.from(entry.spec?.signature?.publicKey?.content ?? "", "base64").toString("utf8");
  return (
    entry.spec?.data?.hash?.value === hash &&
    entry.spec?.signature?.content === signature &&
    logged.trim() === certPem.trim()
  );
}

export function verifyLegacyKeyless(
  payload: Uint8Array,
  signature: string,
  annotations: Record<string, string>,
  root: TrustedRoot,
  policy: IdentityPolicy,
): LegacyKeylessResult {
  const certPem = annotations[CERTIFICATE_ANNOTATION];
  if (certPem === undefined) return { ok: false, reason: "no certificate annotation" };
  let leaf: X509Certificate;
  try {
    leaf = X509Certificate.parse(certPem);
  } catch {
    return { ok: false, reason: "the certificate annotation is not a PEM certificate" };
  }
  const found = rekorEntry(annotations, ["hashedrekord"], root);
  if (typeof found === "string") return { ok: false, reason: found };
  const { entry, log } = found;
  const time = new Date(Number(entry.integratedTime) * 1000);
  if (!within(time, log.validFrom, log.validUntil))
    return { ok: false, reason: "the log key was not valid then" };
  if (!verifySignedEntryTimestamp(entry, log))
    return { ok: false, reason: "the signed entry timestamp does not verify" };
  if (!entryMatches(entry.canonicalizedBody, payload, signature, certPem)) {
    return { ok: false, reason: "the log entry is for another signature" };
  }
  if (!leaf.validForDate(time))
    return { ok: false, reason: "the certificate was not valid when the log integrated the entry" };
  if (!chainFor(leaf, root, time))
    return { ok: false, reason: "the certificate does not chain to a trusted Fulcio CA" };
  const key = createPublicKey({ key: leaf.publicKey, format: "der", type: "spki" });
  let valid = false;
  try {
    valid = nodeVerify("sha256", payload, key, Buffer.from(signature, "base64"));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: "the signature does not verify with the certificate" };
  const who = checkIdentity(leaf, policy);
  return typeof who === "string" ? { ok: false, reason: who } : { ok: true, ...who };
}

/**
 * The Rekor entry of the bundle annotation, in the bundle's form, and the
 * trusted log that signed it. The annotation does not name the entry's kind:
 * it is read from the body (the SET covers the body), and `kinds` are those
 * the caller knows how to check.
 */
function rekorEntry(
  annotations: Record<string, string>,
  kinds: readonly string[],
  root: TrustedRoot,
): { entry: TlogEntry; log: TrustedRoot["logs"][number] } | string {
  let rekor: RekorBundle;
  try {
    rekor = JSON.parse(annotations[REKOR_BUNDLE_ANNOTATION] ?? "") as RekorBundle;
  } catch {
    return "no transparency-log bundle annotation (offline keyless verification needs it)";
  }
  const p = rekor.Payload ?? {};
  const logId = Buffer.from(p.logID ?? "", "hex").toString("base64");
  const log = root.logs.find((l) => l.keyId === logId);
  if (log === undefined) return `log ${p.logID} is not in the trusted root`;
  let kindVersion: { kind: string; version: string };
  try {
    const body = (JSON.parse(Buffer.from(p.body ?? "", "base64").toString("utf8")) ?? {}) as {
      kind?: unknown;
      apiVersion?: unknown;
    };
    kindVersion = { kind: String(body.kind), version: String(body.apiVersion) };
  } catch {
    return "the transparency-log bundle annotation's body is not a Rekor entry";
  }
  if (!kinds.includes(kindVersion.kind)) {
    return `the log entry is of kind ${kindVersion.kind}, not ${kinds.join(" or ")}`;
  }
  const entry: TlogEntry = {
    logIndex: String(p.logIndex ?? ""),
    logId: { keyId: logId },
    kindVersion,
    integratedTime: String(p.integratedTime ?? ""),
    inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp ?? "" },
    canonicalizedBody: p.body ?? "",
  };
  return { entry, log };
}

/**
 * A keyless `.att` layer (the DSSE envelope, the certificate and the Rekor
 * bundle as annotations) is the keyless bundle in another dress: checked as
 * one, with the signed entry timestamp as the proof of logging (the
 * annotation carries no inclusion proof). The log entry may be `dsse`
 * (cosign v2.2 and later by default, and shipgate's default) or `intoto`
 * (0.0.1 as cosign v2.0/2.1 write it, and shipgate with --rekor-entry-type
 * intoto; 0.0.2); its envelope hash must be that of the layer's bytes, as
 * cosign checks.
 */
export function verifyLegacyKeylessAttestation(
  envelope: DsseEnvelope,
  envelopeBytes: Uint8Array,
  annotations: Record<string, string>,
  root: TrustedRoot,
  policy: IdentityPolicy,
): KeylessResult {
  const certPem = annotations[CERTIFICATE_ANNOTATION];
  if (certPem === undefined) return { ok: false, reason: "no certificate annotation" };
  let der: Buffer;
  try {
    der = Buffer.from(X509Certificate.parse(certPem).root.toDER());
  } catch {
    return { ok: false, reason: "the certificate annotation is not a PEM certificate" };
  }
  const found = rekorEntry(annotations, ["intoto", "dsse"], root);
  if (typeof found === "string") return { ok: false, reason: found };
  const bundle: Bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { certificate: { rawBytes: der.toString("base64") }, tlogEntries: [found.entry] },
    dsseEnvelope: envelope,
  };
  return verifyKeylessBundle(bundle, root, policy, envelopeBytes);
}
