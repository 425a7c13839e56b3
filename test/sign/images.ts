import { digestOf } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseReference } from "../../src/oci/reference.js";
import { RegistryRepository } from "../../src/oci/transports/registry.js";
import type { ManifestBlob } from "../../src/oci/transports/types.js";

export const repoOn = (host: string, path: string): RegistryRepository =>
  new RegistryRepository(parseReference(`${host}/${path}`), { credentials: null });

/** A small complete image (config + one layer), tagged `tag` when given. */
export async function pushImage(
  repo: RegistryRepository,
  tag: string | undefined,
  seed: string,
  platform = { os: "linux", architecture: "amd64" },
): Promise<ManifestBlob> {
  const layer = await repo.client.uploadBytes(repo.repository, Buffer.from(`layer of ${seed}`));
  const config = await repo.client.uploadBytes(
    repo.repository,
    Buffer.from(
      JSON.stringify({ ...platform, config: {}, rootfs: { type: "layers", diff_ids: [layer.digest] } }),
    ),
  );
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
      layers: [{ mediaType: MediaType.ociLayer, digest: layer.digest, size: layer.size }],
    }),
  );
  const blob: ManifestBlob = { bytes, mediaType: MediaType.ociManifest, digest: digestOf(bytes) };
  await repo.writeManifest(blob, tag);
  return blob;
}

/** An index over linux/amd64 and linux/arm64 images, tagged `tag`. */
export async function pushIndex(
  repo: RegistryRepository,
  tag: string,
  seed: string,
): Promise<{ index: ManifestBlob; amd64: ManifestBlob; arm64: ManifestBlob }> {
  const amd64 = await pushImage(repo, undefined, `${seed}-amd64`);
  const arm64 = await pushImage(repo, undefined, `${seed}-arm64`, { os: "linux", architecture: "arm64" });
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: amd64.digest,
          size: amd64.bytes.length,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          mediaType: MediaType.ociManifest,
          digest: arm64.digest,
          size: arm64.bytes.length,
          platform: { os: "linux", architecture: "arm64" },
        },
      ],
    }),
  );
  const index: ManifestBlob = { bytes, mediaType: MediaType.ociIndex, digest: digestOf(bytes) };
  await repo.writeManifest(index, tag);
  return { index, amd64, arm64 };
}
