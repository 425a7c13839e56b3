import { createPublicKey, type KeyObject, verify as nodeVerify } from "node:crypto";
import { ASN1Obj, X509Certificate } from "@sigstore/core";
import { ShipgateError } from "../errors.js";
import type { Bundle, TlogEntry } from "./bundle.js";
import { envelopePayload, preAuthEncoding } from "./dsse.js";
import { parseStatement, type Statement } from "./intoto.js";
import {
  type TransparencyLogKey,
  tlogKey,
  verifyInclusionProof,
  verifySignedEntryTimestamp,
} from "./rekor.js";
import { dsseEntryMismatch } from "./rekor-bodies.js";

/**
 * Offline verification of a keyless (Fulcio certificate + Rekor entry)
 * bundle against a Sigstore trusted root file
 * (application/vnd.dev.sigstore.trustedroot+json): the certificate chains to
 * a Fulcio CA valid at the time the log integrated the entry, the leaf was
 * valid then, the log promised and proved inclusion of exactly this
 * signature, the DSSE signature verifies with the certificate's key, and the
 * certificate names the expected identity and OIDC issuer.
 */
export interface TrustedRoot {
  authorities: { chain: X509Certificate[]; validFrom?: Date; validUntil?: Date }[];
  logs: TransparencyLogKey[];
}

interface TrustedRootJson {
  mediaType?: string;
  tlogs?: {
    publicKey: { rawBytes: string; validFor?: { start?: string; end?: string } };
    logId: { keyId: string };
  }[];
  certificateAuthorities?: {
    certChain: { certificates: { rawBytes: string }[] };
    validFor?: { start?: string; end?: string };
  }[];
}

export function parseTrustedRoot(text: string, where: string): TrustedRoot {
  let doc: TrustedRootJson;
  try {
    doc = JSON.parse(text) as TrustedRootJson;
  } catch (error) {
    throw new ShipgateError("CONFIG_INVALID", `${where} is not JSON: ${(error as Error).message}`);
  }
  if (!String(doc.mediaType ?? "").startsWith("application/vnd.dev.sigstore.trustedroot")) {
    throw new ShipgateError(
      "CONFIG_INVALID",
      `${where} is not a Sigstore trusted root (mediaType ${doc.mediaType})`,
      {
        hint: "pass a trusted_root.json (application/vnd.dev.sigstore.trustedroot+json)",
      },
    );
  }
  return {
    authorities: (doc.certificateAuthorities ?? []).map((ca) => ({
      chain: ca.certChain.certificates.map((c) => X509Certificate.parse(Buffer.from(c.rawBytes, "base64"))),
      ...(ca.validFor?.start ? { validFrom: new Date(ca.validFor.start) } : {}),
      ...(ca.validFor?.end ? { validUntil: new Date(ca.validFor.end) } : {}),
    })),
    logs: (doc.tlogs ?? []).map((t) => tlogKey(t.publicKey.rawBytes, t.logId.keyId, t.publicKey.validFor)),
  };
}

/** What keyless (Fulcio + Rekor) bundles are checked against, offline. */
export interface Keyless {
  trustedRoot: TrustedRoot;
  identity: IdentityPolicy;
}

export interface IdentityPolicy {
  /** The certificate's SAN (email or URI), exactly; or a regular expression with `certificateIdentityRegexp`. */
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
}

export type KeylessResult =
  | { ok: true; identity: string; issuer: string; integratedTime: Date; statement: Statement }
  | { ok: false; reason: string };

const ISSUER_V1 = "1.3.6.1.4.1.57264.1.1";
const ISSUER_V2 = "1.3.6.1.4.1.57264.1.8";

function issuerOf(cert: X509Certificate): string | undefined {
  const v2 = cert.extension(ISSUER_V2);
  if (v2 !== undefined) return ASN1Obj.parseBuffer(Buffer.from(v2.value)).value.toString("utf8"); // a DER UTF8String
  return cert.extension(ISSUER_V1)?.value.toString("utf8"); // the raw string
}

export const within = (date: Date, from?: Date, until?: Date) =>
  (from === undefined || from <= date) && (until === undefined || date <= until);

export function chainFor(leaf: X509Certificate, root: TrustedRoot, at: Date): boolean {
  return root.authorities.some(({ chain, validFrom, validUntil }) => {
    if (chain.length === 0 || !within(at, validFrom, validUntil)) return false;
    if (!leaf.verify(chain[0])) return false;
    for (let i = 0; i < chain.length; i++) {
      const cert = chain[i] as X509Certificate;
      if (!cert.isCA || !cert.validForDate(at)) return false;
      if (!cert.verify(chain[i + 1] ?? cert)) return false; // the last one is self-signed
    }
    return true;
  });
}

/** The certificate's SAN and OIDC issuer, checked against the policy: the signer, or why not. */
export function checkIdentity(
  leaf: X509Certificate,
  policy: IdentityPolicy,
): { identity: string; issuer: string } | string {
  const san = leaf.extSubjectAltName;
  const identity = san?.rfc822Name ?? san?.uri ?? "";
  const issuer = issuerOf(leaf) ?? "";
  if (policy.certificateIdentity !== undefined && identity !== policy.certificateIdentity) {
    return `the certificate identity is ${identity}, not ${policy.certificateIdentity}`;
  }
  if (
    policy.certificateIdentityRegexp !== undefined &&
    !new RegExp(policy.certificateIdentityRegexp).test(identity)
  ) {
    return `the certificate identity ${identity} does not match /${policy.certificateIdentityRegexp}/`;
  }
  if (policy.certificateOidcIssuer !== undefined && issuer !== policy.certificateOidcIssuer) {
    return `the OIDC issuer is ${issuer}, not ${policy.certificateOidcIssuer}`;
  }
  return { identity, issuer };
}

/**
 * `envelopeBytes`: the envelope's bytes as stored, where they are kept (a
 * legacy `.att` layer); the log entry's envelope hash is then checked against
 * them, as cosign does.
 */
export function verifyKeylessBundle(
  bundle: Bundle,
  root: TrustedRoot,
  policy: IdentityPolicy,
  envelopeBytes?: Uint8Array,
): KeylessResult {
  const envelope = bundle.dsseEnvelope;
  if (envelope === undefined)
    return { ok: false, reason: "only DSSE bundles are supported for keyless verification" };
  const material = bundle.verificationMaterial;
  const raw = material.certificate?.rawBytes ?? material.x509CertificateChain?.certificates[0]?.rawBytes;
  if (raw === undefined)
    return { ok: false, reason: "the bundle carries no certificate (it is keyed: use --key)" };
  const der = Buffer.from(raw, "base64");
  const leaf = X509Certificate.parse(der);

  // The log's time is the only trustworthy clock for a certificate valid ten minutes.
  let integratedTime: Date | undefined;
  const failures: string[] = [];
  for (const entry of material.tlogEntries ?? []) {
    const mismatch = dsseEntryMismatch(
      entry.canonicalizedBody,
      entry.kindVersion,
      envelope,
      der,
      envelopeBytes,
    );
    const log = root.logs.find((l) => l.keyId === entry.logId.keyId);
    if (log === undefined) {
      failures.push(`log ${entry.logId.keyId} is not in the trusted root`);
      continue;
    }
    const time = new Date(Number(entry.integratedTime) * 1000);
    if (!within(time, log.validFrom, log.validUntil))
      failures.push("the log key was not valid at the entry's time");
    else if (!verifySignedEntryTimestamp(entry, log))
      failures.push("the signed entry timestamp does not verify");
    else if (mismatch !== undefined) failures.push(mismatch);
    else {
      const proof = entry.inclusionProof === undefined ? undefined : verifyInclusionProof(entry, log);
      if (proof !== undefined) failures.push(proof);
      else integratedTime = time;
    }
    if (integratedTime !== undefined) break;
  }
  if (integratedTime === undefined) {
    return {
      ok: false,
      reason: `no verified transparency-log entry (${failures.join("; ") || "none in the bundle"})`,
    };
  }
  if (!leaf.validForDate(integratedTime))
    return { ok: false, reason: "the certificate was not valid when the log integrated the entry" };
  if (!chainFor(leaf, root, integratedTime))
    return { ok: false, reason: "the certificate does not chain to a trusted Fulcio CA" };

  const key = createPublicKey({ key: leaf.publicKey, format: "der", type: "spki" });
  const pae = preAuthEncoding(envelope.payloadType, envelopePayload(envelope));
  if (!envelope.signatures.some((s) => verifiesWith(pae, key, s.sig)))
    return { ok: false, reason: "the DSSE signature does not verify with the certificate" };

  const who = checkIdentity(leaf, policy);
  if (typeof who === "string") return { ok: false, reason: who };
  const { identity, issuer } = who;
  const statement = parseStatement(envelopePayload(envelope));
  if (!statement.ok) return { ok: false, reason: statement.reason };
  return { ok: true, identity, issuer, integratedTime, statement: statement.statement };
}

function verifiesWith(data: Buffer, key: KeyObject, sig: string): boolean {
  try {
    return nodeVerify("sha256", data, key, Buffer.from(sig, "base64"));
  } catch {
    return false;
  }
}
