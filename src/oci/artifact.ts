import { Readable } from "node:stream";
import { digestOf } from "./digest.js";
import type { Descriptor } from "./manifest.js";
import { MediaType } from "./mediatypes.js";
import type { ImageDest, ManifestBlob } from "./transports/types.js";

export const EMPTY_CONFIG = Buffer.from("{}");

export interface ArtifactLayer {
  bytes: Uint8Array;
  mediaType: string;
  annotations?: Record<string, string>;
}

export interface ArtifactOptions {
  layers: ArtifactLayer[];
  /** OCI 1.1 artifactType; with it, the config is the empty descriptor as the image-spec recommends. */
  artifactType?: string;
  /** A config of one's own (cosign's legacy attachments carry an image config). */
  config?: { bytes: Uint8Array; mediaType: string };
  subject?: Descriptor;
  annotations?: Record<string, string>;
  /** Written under this tag; without one, by digest (a referrer is found through its subject). */
  tag?: string;
}

/**
 * Pushes a small artifact (SBOM, signature, attestation) to any destination:
 * blobs first, the manifest last, so the tag or referrer never points at
 * missing content. Returns the manifest as written.
 */
export async function pushArtifact(dest: ImageDest, options: ArtifactOptions): Promise<ManifestBlob> {
  const config = options.config ?? { bytes: EMPTY_CONFIG, mediaType: MediaType.ociEmpty };
  const configDescriptor = await putBlob(dest, config.bytes, config.mediaType);
  const layers: Descriptor[] = [];
  for (const layer of options.layers) {
    const descriptor = await putBlob(dest, layer.bytes, layer.mediaType);
    if (layer.annotations) descriptor.annotations = layer.annotations;
    layers.push(descriptor);
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: configDescriptor,
    layers,
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const blob: ManifestBlob = { bytes, mediaType: MediaType.ociManifest, digest: digestOf(bytes) };
  await dest.writeManifest(blob, options.tag);
  return blob;
}

async function putBlob(dest: ImageDest, bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
  const descriptor: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length };
  if (!(await dest.blobExists(descriptor)))
    await dest.writeBlob(descriptor, Readable.from([Buffer.from(bytes)]));
  return descriptor;
}
