import type { Location } from "../oci/transports/location.js";
import { type OpenOptions, openSource } from "../oci/transports/open.js";
import type { ImageSource } from "../oci/transports/types.js";
import type { BlobCache } from "./blob-cache.js";
import { type Bundle, parseBundle } from "./bundle.js";
import {
  type DsseEnvelope,
  envelopePayload,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  verifyEnvelope,
} from "./dsse.js";
import {
  COSIGN_SIGN_PREDICATE,
  parseStatement,
  predicateTypeFor,
  type Statement,
  subjectFor,
} from "./intoto.js";
import { type IdentityPolicy, type TrustedRoot, verifyKeylessBundle } from "./keyless.js";
import { CERTIFICATE_ANNOTATION, verifyLegacyKeyless } from "./keyless-legacy.js";
import { type PublicKey, verifyBytes } from "./keys.js";
import {
  checkSimpleSigning,
  missingAnnotations,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from "./simple-signing.js";
import { readBundleReferrers, readLegacyLayers } from "./store-signatures.js";
import { resolveTargets } from "./targets.js";

export type Layout = "legacy" | "bundle";

export interface VerifiedSignature {
  layout: Layout;
  /** The image digest the signature covers. */
  digest: string;
  /** The key that verified it (its source, e.g. the .pub path). */
  key: string;
  /** The signed payload: the simple-signing JSON (legacy) or the in-toto statement (bundle). */
  payload: unknown;
  /** The signed annotations (`optional` of the payload; the subject's annotations in a bundle). */
  annotations: Record<string, unknown>;
  /** Where it was found: the `.sig` tag, or the referrer manifest's digest. */
  foundIn: string;
}

export interface ImageVerification {
  digest: string;
  platform?: string;
  verified: boolean;
  signatures: VerifiedSignature[];
  /** Why each candidate was rejected, or that none was found. */
  reasons: string[];
}

export interface VerifyResult {
  /** Every image checked has at least one valid signature. */
  verified: boolean;
  subject: string;
  images: ImageVerification[];
  signatures: VerifiedSignature[];
  reasons: string[];
}

/** What keyless (Fulcio + Rekor) bundles are checked against, offline. */
export interface Keyless {
  trustedRoot: TrustedRoot;
  identity: IdentityPolicy;
}

export interface VerifyOptions {
  /**
   * Where to look (default both). Only the legacy layout costs at most three
   * registry requests per image: the manifest, the `.sig` manifest, the payload.
   */
  layouts?: Layout[];
  /** Payloads already read (content-addressed) are not fetched again. */
  cache?: BlobCache;
  /** Also accept keyless bundles that verify against this trusted root and identity. */
  keyless?: Keyless;
  /** `-a k=v`: a signature counts only if it signed these annotations. */
  annotations?: Record<string, string>;
  /** Verify every platform of an index too (cosign cannot). */
  recursive?: boolean;
  open?: OpenOptions;
}

async function withSource<T>(
  location: Location,
  open: OpenOptions | undefined,
  work: (s: ImageSource) => Promise<T>,
) {
  const source = await openSource(location, open);
  try {
    return await work(source);
  } finally {
    await source.close?.();
  }
}

/**
 * Verifies an image's signatures in both layouts. A signature counts when it
 * verifies with one of `keys` over its payload AND the payload names this
 * exact digest with cosign's type (so a payload signed for another image and
 * copied here does not count). Never throws because nothing verified: that is
 * `verified: false` with the reasons; only runtime failures throw.
 */
export async function verifyImage(
  location: Location,
  keys: readonly PublicKey[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  return withSource(location, options.open, async (source) => {
    const { root, targets } = await resolveTargets(source, location, options.recursive ?? false);
    const images: ImageVerification[] = [];
    for (const target of targets) {
      const digest = target.descriptor.digest;
      const signatures: VerifiedSignature[] = [];
      const reasons: string[] = [];
      const layouts = options.layouts ?? ["legacy", "bundle"];
      if (layouts.includes("legacy")) {
        await verifyLegacySignatures(source, digest, keys, options, signatures, reasons);
      }
      const bundles = layouts.includes("bundle") ? await readBundleReferrers(source, digest) : [];
      for (const stored of bundles) {
        const where = `bundle referrer ${stored.referrer}`;
        const checked = checkBundleStatement(stored.bytes, where, digest, keys, options.keyless);
        if (!checked.ok) {
          reasons.push(checked.reason);
          continue;
        }
        if (checked.statement.predicateType !== COSIGN_SIGN_PREDICATE) continue; // an attestation, not a signature
        const subject = subjectFor(checked.statement, digest);
        const annotations = (subject?.annotations ?? {}) as Record<string, unknown>;
        const missing = missingAnnotations(annotations, options.annotations);
        if (missing.length > 0) {
          reasons.push(`${where}: missing annotations ${missing.join(", ")}`);
          continue;
        }
        signatures.push({
          layout: "bundle",
          digest,
          key: checked.key,
          payload: checked.statement,
          annotations,
          foundIn: stored.referrer,
        });
      }
      if (signatures.length === 0 && reasons.length === 0) {
        reasons.push(`no signatures found for ${digest} (neither a .sig tag nor a bundle referrer)`);
      }
      images.push({
        digest,
        ...(target.platform === undefined ? {} : { platform: target.platform }),
        verified: signatures.length > 0,
        signatures,
        reasons: signatures.length > 0 ? [] : reasons,
      });
    }
    return {
      verified: images.every((i) => i.verified),
      subject: root.digest,
      images,
      signatures: images.flatMap((i) => i.signatures),
      reasons: images.flatMap((i) =>
        i.reasons.map((r) => (targets.length > 1 ? `${i.platform ?? i.digest}: ${r}` : r)),
      ),
    };
  });
}

/** Checks each layer of the `.sig` manifest, adding what verifies to `out` and why the rest did not to `reasons`. */
async function verifyLegacySignatures(
  source: ImageSource,
  digest: string,
  keys: readonly PublicKey[],
  options: VerifyOptions,
  out: VerifiedSignature[],
  reasons: string[],
): Promise<void> {
  const required = options.annotations;
  const layers = await readLegacyLayers(source, digest, "sig", options.cache);
  for (const layer of layers) {
    const where = `${layer.tag} layer ${layer.descriptor.digest}`;
    if (layer.descriptor.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) {
      reasons.push(`${where}: media type ${layer.descriptor.mediaType} is not a simple-signing payload`);
      continue;
    }
    const annotations = layer.descriptor.annotations ?? {};
    const encoded = annotations[SIGNATURE_ANNOTATION] ?? "";
    const signature = Buffer.from(encoded, "base64");
    let signer =
      signature.length > 0 ? keys.find((k) => verifyBytes(k, layer.bytes, signature))?.source : undefined;
    if (
      signer === undefined &&
      options.keyless !== undefined &&
      annotations[CERTIFICATE_ANNOTATION] !== undefined
    ) {
      const keyless = verifyLegacyKeyless(
        layer.bytes,
        encoded,
        annotations,
        options.keyless.trustedRoot,
        options.keyless.identity,
      );
      if (!keyless.ok) {
        reasons.push(`${where}: keyless: ${keyless.reason}`);
        continue;
      }
      signer = `keyless:${keyless.identity} (${keyless.issuer})`;
    }
    if (signer === undefined) {
      const tried = [...keys.map((k) => k.source), ...(options.keyless ? ["the trusted root"] : [])];
      reasons.push(`${where}: the signature does not verify with ${tried.join(", ") || "no key"}`);
      continue;
    }
    const check = checkSimpleSigning(layer.bytes, digest);
    if (!check.ok) {
      reasons.push(`${where}: ${check.reason}`);
      continue;
    }
    const missing = missingAnnotations(check.optional, required);
    if (missing.length > 0) {
      reasons.push(`${where}: missing annotations ${missing.join(", ")}`);
      continue;
    }
    out.push({
      layout: "legacy",
      digest,
      key: signer,
      payload: check.payload,
      annotations: check.optional,
      foundIn: layer.tag,
    });
  }
}

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

function checkBundleStatement(
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
    if (subjectFor(result.statement, digest) === undefined) {
      return { ok: false, reason: `${where}: the statement's subjects do not include ${digest}` };
    }
    return {
      ok: true,
      statement: result.statement,
      key: `keyless:${result.identity} (${result.issuer})`,
      envelope: bundle.dsseEnvelope,
    };
  }
  return checkEnvelope(bundle.dsseEnvelope, where, digest, keys);
}

export interface VerifiedAttestation {
  layout: Layout;
  digest: string;
  key: string;
  predicateType: string;
  statement: Statement;
  foundIn: string;
}

export interface AttestationResult {
  verified: boolean;
  subject: string;
  attestations: VerifiedAttestation[];
  reasons: string[];
}

/**
 * Verifies the attestations of an image (both layouts): envelope signature,
 * in-toto statement, subject digest, and (when asked) the predicate type.
 */
export async function verifyAttestations(
  location: Location,
  keys: readonly PublicKey[],
  options: { predicateType?: string; recursive?: boolean; open?: OpenOptions; keyless?: Keyless } = {},
): Promise<AttestationResult> {
  const wanted = options.predicateType === undefined ? undefined : predicateTypeFor(options.predicateType);
  return withSource(location, options.open, async (source) => {
    const { root, targets } = await resolveTargets(source, location, options.recursive ?? false);
    const attestations: VerifiedAttestation[] = [];
    const reasons: string[] = [];
    let allVerified = true;
    for (const target of targets) {
      const digest = target.descriptor.digest;
      const found: VerifiedAttestation[] = [];
      const local: string[] = [];
      const consider = (result: StatementResult, layout: Layout, foundIn: string) => {
        if (!result.ok) return void local.push(result.reason);
        const type = result.statement.predicateType;
        if (layout === "bundle" && type === COSIGN_SIGN_PREDICATE && wanted !== COSIGN_SIGN_PREDICATE) return;
        if (wanted !== undefined && type !== wanted)
          return void local.push(`${foundIn}: predicate type ${type}, not ${wanted}`);
        found.push({
          layout,
          digest,
          key: result.key,
          predicateType: type,
          statement: result.statement,
          foundIn,
        });
      };
      for (const layer of await readLegacyLayers(source, digest, "att")) {
        const where = `${layer.tag} layer ${layer.descriptor.digest}`;
        try {
          consider(
            checkEnvelope(parseEnvelope(layer.bytes, where), where, digest, keys),
            "legacy",
            layer.tag,
          );
        } catch (error) {
          local.push((error as Error).message);
        }
      }
      for (const stored of await readBundleReferrers(source, digest)) {
        consider(
          checkBundleStatement(
            stored.bytes,
            `bundle referrer ${stored.referrer}`,
            digest,
            keys,
            options.keyless,
          ),
          "bundle",
          stored.referrer,
        );
      }
      if (found.length === 0) {
        allVerified = false;
        if (local.length === 0) local.push(`no attestations found for ${digest}`);
        reasons.push(...local.map((r) => (target.platform ? `${target.platform}: ${r}` : r)));
      }
      attestations.push(...found);
    }
    return { verified: allVerified, subject: root.digest, attestations, reasons };
  });
}

/**
 * A DSSE attestation over a blob (cosign verify-blob-attestation): signed by
 * one of the keys and naming the blob's sha256 among its subjects.
 */
export function verifyBlobAttestation(
  envelopeJson: Uint8Array | string,
  keys: readonly PublicKey[],
  blobSha256: string,
  predicateType?: string,
): StatementResult {
  let envelope: DsseEnvelope;
  try {
    envelope = parseEnvelope(envelopeJson, "the attestation");
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  const result = checkEnvelope(envelope, "the attestation", `sha256:${blobSha256}`, keys);
  if (
    result.ok &&
    predicateType !== undefined &&
    result.statement.predicateType !== predicateTypeFor(predicateType)
  ) {
    return {
      ok: false,
      reason: `the predicate type is ${result.statement.predicateType}, not ${predicateTypeFor(predicateType)}`,
    };
  }
  return result;
}
