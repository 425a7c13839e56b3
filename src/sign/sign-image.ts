import { ShipgateError } from "../errors.js";
import type { Descriptor } from "../oci/manifest.js";
import type { Location } from "../oci/transports/location.js";
import { type OpenOptions, openDest, openSource } from "../oci/transports/open.js";
import type { ImageDest, ImageSource } from "../oci/transports/types.js";
import { keyedDsseBundle } from "./bundle.js";
import {
  DSSE_ENVELOPE_MEDIA_TYPE,
  envelopePayload,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
} from "./dsse.js";
import { COSIGN_SIGN_PREDICATE, makeStatement, predicateTypeFor } from "./intoto.js";
import { type PrivateKey, signBytes, verifyBytes } from "./keys.js";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, simpleSigningPayload } from "./simple-signing.js";
import { appendLegacyLayer, pushBundleReferrer } from "./store-signatures.js";
import { resolveTargets, type Target } from "./targets.js";

/**
 * Where signatures are written. `legacy` (the default): cosign's
 * `sha256-<hex>.sig`/`.att` tags, which every cosign version, Kyverno and
 * policy-controller read. `oci-1-1`: cosign v3's Sigstore bundle pushed as an
 * OCI 1.1 referrer. Verification always reads both.
 */
export type ReferrersMode = "legacy" | "oci-1-1";
export const DEFAULT_REFERRERS_MODE: ReferrersMode = "legacy";

export interface SignOptions {
  /** `-a k=v`: signed into the payload's `optional` section (legacy) or the subject's annotations (bundle). */
  annotations?: Record<string, string>;
  /** Sign every platform of an index too, not only the index. */
  recursive?: boolean;
  mode?: ReferrersMode;
  open?: OpenOptions;
}

export interface SignedImage {
  digest: string;
  platform?: string;
  layout: "legacy" | "bundle";
  /** The `.sig`/`.att` tag (legacy) written to. */
  tag?: string;
  /** The manifest written: the `.sig`/`.att` manifest, or the bundle referrer. */
  manifest: string;
  /** The same signer had already signed this exact payload: nothing was written. */
  duplicate: boolean;
  /** attest --replace: earlier attestations of the same predicate type dropped from the `.att` manifest. */
  replaced?: number;
}

export interface SignResult {
  /** What the reference resolved to, once. */
  subject: string;
  images: SignedImage[];
}

/** Opens both ends of a location (read and write), runs `work`, and always closes them. */
export async function withEnds<T>(
  location: Location,
  open: OpenOptions | undefined,
  work: (source: ImageSource, dest: ImageDest) => Promise<T>,
): Promise<T> {
  const source = await openSource(location, open);
  try {
    const dest = await openDest(location, open);
    try {
      return await work(source, dest);
    } finally {
      await dest.close?.();
    }
  } finally {
    await source.close?.();
  }
}

/** Signs the digest a location resolves to (never the tag), cosign's way. */
export async function signImage(
  location: Location,
  key: PrivateKey,
  options: SignOptions = {},
): Promise<SignResult> {
  const mode = options.mode ?? DEFAULT_REFERRERS_MODE;
  return withEnds(location, options.open, async (source, dest) => {
    const { name, root, targets } = await resolveTargets(source, location, options.recursive ?? false);
    const images: SignedImage[] = [];
    for (const target of targets) {
      const digest = target.descriptor.digest;
      const base = target.platform === undefined ? { digest } : { digest, platform: target.platform };
      if (mode === "legacy") {
        const payload = simpleSigningPayload(name, digest, options.annotations);
        const signature = signBytes(key, payload).toString("base64");
        const written = await appendLegacyLayer(
          source,
          dest,
          digest,
          "sig",
          {
            bytes: payload,
            mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
            annotations: { [SIGNATURE_ANNOTATION]: signature },
          },
          // cosign's duplicate rule: the same payload already carries a signature this key made.
          (existing) =>
            existing.bytes.equals(payload) &&
            verifyBytes(
              key.publicKey,
              payload,
              Buffer.from(existing.descriptor.annotations?.[SIGNATURE_ANNOTATION] ?? "", "base64"),
            ),
        );
        images.push({ ...base, layout: "legacy", ...written });
      } else {
        const subject = { name, digest: { sha256: hexOf(digest) }, ...annotationsOf(options.annotations) };
        const statement = makeStatement([subject], COSIGN_SIGN_PREDICATE, {});
        const manifest = await pushBundle(dest, target, key, statement);
        images.push({ ...base, layout: "bundle", manifest, duplicate: false });
      }
    }
    return { subject: root.digest, images };
  });
}

export function hexOf(digest: string): string {
  const [algorithm, hex] = digest.split(":");
  if (algorithm !== "sha256" || hex === undefined) {
    throw new ShipgateError("UNSUPPORTED", `${digest}: only sha256 image digests can be signed`);
  }
  return hex;
}

export function annotationsOf(annotations: Record<string, string> | undefined): {
  annotations?: Record<string, string>;
} {
  return annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {};
}

async function pushBundle(
  dest: ImageDest,
  target: Target,
  key: PrivateKey,
  statement: ReturnType<typeof makeStatement>,
): Promise<string> {
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key);
  const bundle = Buffer.from(JSON.stringify(keyedDsseBundle(envelope, key.publicKey)));
  const subject: Descriptor = {
    mediaType: target.descriptor.mediaType,
    digest: target.descriptor.digest,
    size: target.descriptor.size,
  };
  return pushBundleReferrer(dest, subject, bundle, statement.predicateType);
}

export interface AttestOptions {
  /** The predicate document (already parsed JSON). */
  predicate: unknown;
  /** `--type`: a cosign short name (slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, custom...) or a URI. */
  type: string;
  /** Legacy layout: drop earlier attestations of the same predicate type (cosign attest --replace). */
  replace?: boolean;
  recursive?: boolean;
  mode?: ReferrersMode;
  open?: OpenOptions;
}

export interface AttestResult extends SignResult {
  predicateType: string;
}

/**
 * Attaches an in-toto statement about the image (subject: its name and sha256)
 * in a DSSE envelope: a layer of the `.att` manifest (media type DSSE
 * envelope, annotation `predicateType`), or a bundle referrer.
 */
export async function attestImage(
  location: Location,
  key: PrivateKey,
  options: AttestOptions,
): Promise<AttestResult> {
  const predicateType = predicateTypeFor(options.type);
  const mode = options.mode ?? DEFAULT_REFERRERS_MODE;
  return withEnds(location, options.open, async (source, dest) => {
    const { name, root, targets } = await resolveTargets(source, location, options.recursive ?? false);
    const images: SignedImage[] = [];
    for (const target of targets) {
      const digest = target.descriptor.digest;
      const base = target.platform === undefined ? { digest } : { digest, platform: target.platform };
      const statement = makeStatement(
        [{ name, digest: { sha256: hexOf(digest) } }],
        predicateType,
        options.predicate,
      );
      if (mode === "legacy") {
        const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key);
        const bytes = Buffer.from(JSON.stringify(envelope));
        const written = await appendLegacyLayer(
          source,
          dest,
          digest,
          "att",
          {
            bytes,
            mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
            annotations: { predicateType, [SIGNATURE_ANNOTATION]: "" },
          },
          (existing) => sameAttestation(existing.bytes, envelopePayload(envelope), key),
          options.replace
            ? (existing) => existing.descriptor.annotations?.predicateType === predicateType
            : undefined,
        );
        images.push({ ...base, layout: "legacy", ...written });
      } else {
        images.push({
          ...base,
          layout: "bundle",
          manifest: await pushBundle(dest, target, key, statement),
          duplicate: false,
        });
      }
    }
    return { subject: root.digest, predicateType, images };
  });
}

/** This key already attested this exact statement (ECDSA signatures differ each time; the statement does not). */
function sameAttestation(existingEnvelope: Buffer, statement: Buffer, key: PrivateKey): boolean {
  try {
    const existing = parseEnvelope(existingEnvelope, "existing attestation");
    return (
      envelopePayload(existing).equals(statement) && verifyEnvelope(existing, [key.publicKey]).length > 0
    );
  } catch {
    return false;
  }
}
