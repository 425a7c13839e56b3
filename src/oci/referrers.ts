import { type Descriptor, type ImageIndex, type ParsedManifest, parseManifest } from "./manifest.js";
import { MediaType } from "./mediatypes.js";
import type { ManifestBlob } from "./transports/types.js";

/**
 * The referrers tag-schema fallback (distribution-spec v1.1): an index tagged
 * `<alg>-<hex>` listing every manifest whose subject is that digest, for
 * registries without the referrers API.
 */
export function fallbackTag(digest: string): string {
  const [algorithm = "sha256", hex = ""] = digest.split(":");
  return `${algorithm.slice(0, 32)}-${hex.slice(0, 64)}`;
}

/** cosign's legacy attachment tags for a subject digest: `sha256-<hex>.sig` / `.att` / `.sbom`. */
export function cosignTags(digest: string): string[] {
  const base = fallbackTag(digest);
  return [`${base}.sig`, `${base}.att`, `${base}.sbom`];
}

/** "Digest tags" are attachments of their subject, never releases (DESIGN.md). */
export function isDigestTag(tag: string): boolean {
  return /^sha(256|512)-[a-f0-9]{64,128}(\.(sig|att|sbom))?$/.test(tag);
}

/** The descriptor a referrers listing carries for a manifest: its artifactType and annotations. */
export function referrerDescriptor(manifest: ManifestBlob, parsed: ParsedManifest): Descriptor {
  const doc = parsed.manifest;
  const artifactType =
    doc.artifactType ?? (parsed.kind === "manifest" ? parsed.manifest.config.mediaType : undefined);
  const descriptor: Descriptor = {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.bytes.length,
  };
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (doc.annotations !== undefined) descriptor.annotations = doc.annotations;
  return descriptor;
}

/** Reads the fallback index (or starts an empty one) and adds `referrer` if it is not listed yet. */
export function addToFallbackIndex(
  existing: ManifestBlob | undefined,
  referrer: Descriptor,
): Uint8Array | undefined {
  let index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  if (existing !== undefined) {
    const parsed = parseManifest(existing.bytes, existing.mediaType, "referrers fallback index");
    if (parsed.kind === "index") index = parsed.manifest;
  }
  if (index.manifests.some((d) => d.digest === referrer.digest)) return undefined;
  const updated: ImageIndex = { ...index, manifests: [...index.manifests, referrer] };
  return Buffer.from(JSON.stringify(updated));
}

/**
 * The fallback index without `digest` (distribution-spec, "Deleting Manifests"): the new bytes,
 * "empty" when nothing would be left, or undefined when the index does not list it.
 */
export function removeFromFallbackIndex(
  existing: ManifestBlob,
  digest: string,
): Uint8Array | "empty" | undefined {
  const parsed = parseManifest(existing.bytes, existing.mediaType, "referrers fallback index");
  if (parsed.kind !== "index") return undefined;
  const index = parsed.manifest;
  const manifests = index.manifests.filter((d) => d.digest !== digest);
  if (manifests.length === index.manifests.length) return undefined;
  if (manifests.length === 0) return "empty";
  return Buffer.from(JSON.stringify({ ...index, manifests }));
}

export function filterByArtifactType(
  descriptors: Descriptor[],
  artifactType: string | undefined,
): Descriptor[] {
  return artifactType === undefined
    ? descriptors
    : descriptors.filter((d) => d.artifactType === artifactType);
}
