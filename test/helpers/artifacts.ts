import { digestOf } from "../../src/oci/digest.js";
import type { Descriptor } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { cosignTags } from "../../src/oci/referrers.js";
import type { RegistryRepository } from "../../src/oci/transports/registry.js";
import type { ManifestBlob } from "../../src/oci/transports/types.js";

export const SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
export const COSIGN_SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const EMPTY = Buffer.from("{}");

/**
 * Pushes an artifact manifest the way cosign and oras do: an empty (or given)
 * config, one layer holding `payload`, optional `subject` and `artifactType`.
 */
export async function pushArtifact(
  repo: RegistryRepository,
  options: {
    payload: Buffer;
    layerMediaType: string;
    artifactType?: string;
    subject?: Descriptor;
    tag?: string;
    layerAnnotations?: Record<string, string>;
    configMediaType?: string;
  },
): Promise<ManifestBlob> {
  const config = await repo.client.uploadBytes(repo.repository, EMPTY);
  const layer = await repo.client.uploadBytes(repo.repository, options.payload);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: {
      mediaType: options.configMediaType ?? MediaType.ociEmpty,
      digest: config.digest,
      size: config.size,
    },
    layers: [
      {
        mediaType: options.layerMediaType,
        digest: layer.digest,
        size: layer.size,
        ...(options.layerAnnotations ? { annotations: options.layerAnnotations } : {}),
      },
    ],
    ...(options.subject ? { subject: options.subject } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const blob = { bytes, mediaType: MediaType.ociManifest, digest: digestOf(bytes) };
  await repo.writeManifest(blob, options.tag);
  return blob;
}

/** A legacy cosign signature: the `.sig` tag with a simple-signing payload and the signature annotation. */
export function pushCosignSignature(repo: RegistryRepository, subjectDigest: string): Promise<ManifestBlob> {
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": `${repo.registry}/${repo.repository}` },
        image: { "docker-manifest-digest": subjectDigest },
        type: "cosign container image signature",
      },
      optional: null,
    }),
  );
  return pushArtifact(repo, {
    payload,
    layerMediaType: COSIGN_SIMPLESIGNING,
    configMediaType: MediaType.ociConfig,
    tag: cosignTags(subjectDigest)[0] as string,
    layerAnnotations: { "dev.cosignproject.cosign/signature": "MEUCIQDtest" },
  });
}

export function descriptorOf(blob: ManifestBlob): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.bytes.length };
}
