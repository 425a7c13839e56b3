import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHARED_IMAGES } from "./cli.js";

const cache = new Map<string, string>();

/**
 * A shared test image's root filesystem unpacked with GNU tar, layer by
 * layer (whiteout marker files are left as they are: cataloguer tests read
 * specific files, the image reader's own tests cover whiteouts). Unpacked
 * once per test process.
 */
export function unpackSharedImage(tag: "debian-base" | "shop-1.4.2"): string {
  const cached = cache.get(tag);
  if (cached) return cached;
  const index = JSON.parse(readFileSync(join(SHARED_IMAGES, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const descriptor = index.manifests.find(
    (m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag,
  );
  if (!descriptor) throw new Error(`no ${tag} in ${SHARED_IMAGES}`);
  const blob = (digest: string) => join(SHARED_IMAGES, "blobs", "sha256", digest.slice("sha256:".length));
  const manifest = JSON.parse(readFileSync(blob(descriptor.digest), "utf8")) as {
    layers: { digest: string }[];
  };
  const dir = join(tmpdir(), `shipgate-rootfs-${tag}-${process.pid}`);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    for (const layer of manifest.layers) {
      execFileSync("tar", [
        "-xzf",
        blob(layer.digest),
        "-C",
        dir,
        "--no-same-owner",
        "--delay-directory-restore",
      ]);
    }
  }
  cache.set(tag, dir);
  return dir;
}
