import type { Location } from "../oci/transports/location.js";
import { type OpenOptions, openSource } from "../oci/transports/open.js";
import type { ImageSource } from "../oci/transports/types.js";
import type { BlobCache } from "./blob-cache.js";
import { COSIGN_SIGN_PREDICATE, subjectFor } from "./intoto.js";
import type { Keyless } from "./keyless.js";
import { CERTIFICATE_ANNOTATION, verifyLegacyKeyless } from "./keyless-legacy.js";
import { type PublicKey, verifyBytes } from "./keys.js";
import {
  checkSimpleSigning,
  missingAnnotations,
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from "./simple-signing.js";
import { checkBundleStatement } from "./statement-checks.js";
import { type LegacyLayer, readLegacyLayers, readReferrers } from "./store-signatures.js";
import { resolveTargets, withSource } from "./targets.js";

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
        const layers = await readLegacyLayers(source, digest, "sig", options.cache);
        verifyLegacySignatures(digest, layers, keys, options, signatures, reasons);
      }
      // One referrers listing: bundles, and cosign's experimental simple-signing referrers
      // (checked as legacy signatures are; they are one only in where they are stored).
      const referrers = layouts.includes("bundle")
        ? await readReferrers(source, digest)
        : { bundles: [], signatureLayers: [] };
      verifyLegacySignatures(digest, referrers.signatureLayers, keys, options, signatures, reasons);
      for (const stored of referrers.bundles) {
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

/**
 * Checks each simple-signing layer (of the `.sig` manifest, or of a cosign
 * signature referrer), adding what verifies to `out` and why the rest did not to `reasons`.
 */
function verifyLegacySignatures(
  digest: string,
  layers: readonly LegacyLayer[],
  keys: readonly PublicKey[],
  options: VerifyOptions,
  out: VerifiedSignature[],
  reasons: string[],
): void {
  const required = options.annotations;
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

// Attestations and the statement checks live in their own files; re-exported so callers have one entry point.
export type { Keyless } from "./keyless.js";
export { checkEnvelope, type StatementResult, verifyBundle } from "./statement-checks.js";
export {
  type AttestationResult,
  type VerifiedAttestation,
  verifyAttestations,
  verifyBlobAttestation,
} from "./verify-attestations.js";
