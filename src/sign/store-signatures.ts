import { createHash } from "node:crypto";
import { ShipgateError } from "../errors.js";
import { type ArtifactLayer, pushArtifact } from "../oci/artifact.js";
import { readSmallBlob } from "../oci/inspect.js";
import { type Descriptor, parseManifest } from "../oci/manifest.js";
import { MediaType } from "../oci/mediatypes.js";
import { fallbackTag } from "../oci/referrers.js";
import type { ImageDest, ImageSource } from "../oci/transports/types.js";
import type { BlobCache } from "./blob-cache.js";
import {
  BUNDLE_CONTENT_ANNOTATION,
  BUNDLE_PREDICATE_TYPE_ANNOTATION,
  BUNDLE_V03_MEDIA_TYPE,
} from "./bundle.js";

/**
 * Where cosign keeps what it attaches to an image, both layouts:
 * - legacy: one manifest per subject and kind under the tag
 *   `sha256-<hex>.sig` / `.att`, one layer per signature or attestation,
 *   appended to, never replaced;
 * - cosign v3: one OCI 1.1 referrer manifest per bundle (artifactType
 *   bundle v0.3, empty config, `subject` = the image).
 */
export type AttachmentKind = "sig" | "att";

/** The legacy attachment tag for a subject digest. */
export function legacyTag(digest: string, kind: AttachmentKind): string {
  return `${fallbackTag(digest)}.${kind}`;
}

export interface LegacyLayer {
  descriptor: Descriptor;
  bytes: Buffer;
  /** The `.sig`/`.att` manifest it was found in. */
  manifestDigest: string;
  tag: string;
}

const LEGACY_LAYER_LIMIT = 4 * 1024 * 1024;
/** cosign's own cap on signatures per image; past it, an attachment is an attack on the verifier's time. */
export const MAX_ATTACHMENTS = 1000;

function tooMany(what: string, count: number): ShipgateError {
  return new ShipgateError(
    "LIMIT_EXCEEDED",
    `${what}: ${count} entries, over the limit of ${MAX_ATTACHMENTS}`,
    {
      hint: "someone with write access flooded the image's attachments; remove them (shipgate tree shows them)",
    },
  );
}

/** Every layer of the legacy `.sig`/`.att` manifest, read and digest-checked; none when the tag is absent. */
export async function readLegacyLayers(
  source: ImageSource,
  digest: string,
  kind: AttachmentKind,
  cache?: BlobCache,
): Promise<LegacyLayer[]> {
  const tag = legacyTag(digest, kind);
  const manifest = await source.getManifest(tag).catch((error: unknown) => {
    if (error instanceof ShipgateError && error.code === "NOT_FOUND") return undefined;
    throw error;
  });
  if (manifest === undefined) return [];
  const parsed = parseManifest(manifest.bytes, manifest.mediaType, `${source.name}:${tag}`);
  if (parsed.kind !== "manifest") return [];
  if (parsed.manifest.layers.length > MAX_ATTACHMENTS) {
    throw tooMany(`${source.name}:${tag}`, parsed.manifest.layers.length);
  }
  const layers: LegacyLayer[] = [];
  for (const descriptor of parsed.manifest.layers) {
    if (descriptor.size > LEGACY_LAYER_LIMIT) continue; // not a signature; never buffer it
    const bytes =
      cache?.get(descriptor.digest) ??
      (await readSmallBlob(source, descriptor, `${source.name}:${tag} layer ${descriptor.digest}`));
    cache?.set(descriptor.digest, bytes);
    layers.push({ descriptor, bytes, manifestDigest: manifest.digest, tag });
  }
  return layers;
}

/**
 * The image config cosign gives its `.sig`/`.att` manifests: empty platform,
 * the zero time, and one diff_id per layer (the layers are not compressed).
 */
function legacyConfig(layers: ArtifactLayer[]): Buffer {
  const zero = "0001-01-01T00:00:00Z";
  return Buffer.from(
    JSON.stringify({
      architecture: "",
      created: zero,
      history: layers.map(() => ({ created: zero })),
      os: "",
      rootfs: {
        type: "layers",
        diff_ids: layers.map((l) => `sha256:${createHash("sha256").update(l.bytes).digest("hex")}`),
      },
      config: {},
    }),
  );
}

/**
 * Adds a layer to the legacy manifest: the existing layers are kept (several
 * signers on one image), `isDuplicate` lets the caller skip a signature it
 * already has, and the tag is moved last, after every blob is in place.
 */
export async function appendLegacyLayer(
  source: ImageSource,
  dest: ImageDest,
  digest: string,
  kind: AttachmentKind,
  layer: ArtifactLayer,
  isDuplicate: (existing: LegacyLayer) => boolean,
  /** Layers to drop (attest --replace: the earlier attestations of the same predicate type). */
  replaces?: (existing: LegacyLayer) => boolean,
): Promise<{ tag: string; manifest: string; duplicate: boolean; replaced: number }> {
  const tag = legacyTag(digest, kind);
  const all = await readLegacyLayers(source, digest, kind);
  const existing = replaces === undefined ? all : all.filter((l) => !replaces(l));
  const replaced = all.length - existing.length;
  const same = existing.find(isDuplicate);
  if (same !== undefined && replaced === 0) {
    return { tag, manifest: same.manifestDigest, duplicate: true, replaced };
  }
  const layers: ArtifactLayer[] = existing
    .filter((l) => l !== same)
    .map((l) => ({
      bytes: l.bytes,
      mediaType: l.descriptor.mediaType,
      ...(l.descriptor.annotations ? { annotations: l.descriptor.annotations } : {}),
    }));
  layers.push(layer);
  const written = await pushArtifact(dest, {
    layers,
    config: { bytes: legacyConfig(layers), mediaType: MediaType.ociConfig },
    tag,
  });
  return { tag, manifest: written.digest, duplicate: false, replaced };
}

/** Pushes a bundle as an OCI 1.1 referrer of `subject` (the fallback index is kept where there is no API). */
export async function pushBundleReferrer(
  dest: ImageDest,
  subject: Descriptor,
  bundle: Uint8Array,
  predicateType: string,
): Promise<string> {
  const written = await pushArtifact(dest, {
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    layers: [{ bytes: bundle, mediaType: BUNDLE_V03_MEDIA_TYPE }],
    subject,
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: "dsse-envelope",
      [BUNDLE_PREDICATE_TYPE_ANNOTATION]: predicateType,
      // cosign: time.Now().UTC().Format(time.RFC3339), whole seconds.
      "org.opencontainers.image.created": new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    },
  });
  return written.digest;
}

export interface StoredBundle {
  bytes: Buffer;
  /** The referrer manifest holding it. */
  referrer: string;
  annotations: Record<string, string>;
}

/**
 * cosign (GetBundles, ociremote.Bundle) takes any layer whose media type
 * starts with this, so the older `application/vnd.dev.sigstore.bundle+json;version=0.3`
 * spelling other tools write is read too; parseBundle then checks the version.
 */
const BUNDLE_MEDIA_TYPE_PREFIX = "application/vnd.dev.sigstore.bundle";
function isBundleMediaType(mediaType: string): boolean {
  return mediaType.startsWith(BUNDLE_MEDIA_TYPE_PREFIX);
}

/**
 * The artifact type of `cosign sign --registry-referrers-mode=oci-1-1` without
 * the bundle format (cosign's WriteSignaturesExperimentalOCI, verified by
 * `cosign verify --experimental-oci11`): the `.sig` manifest, simple-signing
 * layers and all, pushed as a referrer of the image instead of under a tag.
 */
export const COSIGN_SIG_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json";

export interface Referrers {
  bundles: StoredBundle[];
  /** Simple-signing layers of cosign's experimental signature referrers (`tag` is the referrer's digest). */
  signatureLayers: LegacyLayer[];
}

/** What the referrers of `digest` hold, from the referrers API or the fallback tag, in one listing. */
export async function readReferrers(source: ImageSource, digest: string): Promise<Referrers> {
  const found: Referrers = { bundles: [], signatureLayers: [] };
  const referrers = await source.listReferrers(digest);
  if (referrers.length > MAX_ATTACHMENTS)
    throw tooMany(`referrers of ${source.name}@${digest}`, referrers.length);
  const wanted = (type: string) => isBundleMediaType(type) || type === COSIGN_SIG_ARTIFACT_TYPE;
  for (const referrer of referrers) {
    if (referrer.artifactType !== undefined && !wanted(referrer.artifactType)) continue;
    const blob = await source.getManifest(referrer.digest);
    const parsed = parseManifest(blob.bytes, blob.mediaType, `${source.name}@${referrer.digest}`);
    if (parsed.kind !== "manifest") continue;
    const doc = parsed.manifest;
    const type = doc.artifactType ?? doc.config.mediaType;
    if (!wanted(type)) continue;
    // The subject must be this image: a fallback index can list anything a writer put there.
    if (doc.subject?.digest !== digest) continue;
    if (type === COSIGN_SIG_ARTIFACT_TYPE) {
      if (doc.layers.length > MAX_ATTACHMENTS)
        throw tooMany(`${source.name}@${referrer.digest}`, doc.layers.length);
      for (const descriptor of doc.layers) {
        if (descriptor.size > LEGACY_LAYER_LIMIT) continue;
        const bytes = await readSmallBlob(
          source,
          descriptor,
          `${source.name}@${referrer.digest} layer ${descriptor.digest}`,
        );
        found.signatureLayers.push({
          descriptor,
          bytes,
          manifestDigest: referrer.digest,
          tag: referrer.digest,
        });
      }
      continue;
    }
    for (const layer of doc.layers) {
      if (!isBundleMediaType(layer.mediaType) || layer.size > LEGACY_LAYER_LIMIT) continue;
      const bytes = await readSmallBlob(source, layer, `bundle ${layer.digest} of ${source.name}@${digest}`);
      found.bundles.push({ bytes, referrer: referrer.digest, annotations: doc.annotations ?? {} });
    }
  }
  return found;
}

/** Every bundle referrer of `digest`, from the referrers API or the fallback tag. */
export async function readBundleReferrers(source: ImageSource, digest: string): Promise<StoredBundle[]> {
  return (await readReferrers(source, digest)).bundles;
}
