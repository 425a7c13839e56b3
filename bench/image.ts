import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack as createPack } from "tar-stream";

/**
 * A multi-layer image of incompressible data, as an OCI layout: each layer is
 * an uncompressed tar holding one file of random bytes. Random data keeps
 * every byte on the wire; made once and reused between benchmark runs.
 */
export async function benchImage(dir: string, layers: number, layerMiB: number): Promise<string> {
  const marker = join(dir, `.complete-${layers}x${layerMiB}`);
  if (existsSync(marker)) return dir;
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const descriptors: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layers; i++) {
    const tar = createPack();
    const hash = createHash("sha256");
    let size = 0;
    const temp = join(blobs, `layer-${i}.tmp`);
    const out = createWriteStream(temp);
    tar.on("data", (data: unknown) => {
      const chunk = data as Buffer;
      hash.update(chunk);
      size += chunk.length;
    });
    const done = pipeline(tar, out);
    const bytes = layerMiB * 1024 * 1024;
    const entry = tar.entry({ name: `data/layer-${i}.bin`, size: bytes, mtime: new Date(0) });
    await pipeline(
      Readable.from(
        (function* () {
          for (let left = bytes; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20));
        })(),
      ),
      entry,
    );
    tar.finalize();
    await done;
    const digest = `sha256:${hash.digest("hex")}`;
    await rename(temp, join(blobs, digest.slice(7)));
    descriptors.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size });
    diffIds.push(digest);
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: "2024-01-15T00:00:00Z",
      rootfs: { type: "layers", diff_ids: diffIds },
    }),
  );
  const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
  await writeFile(join(blobs, configDigest.slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: configDigest,
        size: config.length,
      },
      layers: descriptors,
    }),
  );
  const manifestDigest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
  await writeFile(join(blobs, manifestDigest.slice(7)), manifest);
  await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifestDigest,
          size: manifest.length,
          annotations: { "org.opencontainers.image.ref.name": "big" },
        },
      ],
    }),
  );
  await writeFile(marker, "");
  return dir;
}
