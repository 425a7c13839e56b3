import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector } from "../../../src/image/collector.js";
import { collectDirectory } from "../../../src/image/directory.js";
import { collectLayer } from "../../../src/image/layers.js";
import type { Cataloger } from "../../../src/sbom/catalogers/types.js";
import type { Package, Relationship } from "../../../src/sbom/model.js";
import { SHARED_IMAGES } from "../../helpers/cli.js";

export async function catalogDir(root: string, cataloger: Cataloger) {
  const collector = await collectDirectory(root, [cataloger]);
  return collector.finish();
}

/** A shared image streamed layer by layer, as `shipgate sbom` reads it: locations carry real layer digests. */
export async function catalogSharedImage(tag: string, cataloger: Cataloger | readonly Cataloger[]) {
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
  const collector = new Collector(Array.isArray(cataloger) ? cataloger : [cataloger as Cataloger]);
  for (const [i, layer] of manifest.layers.entries()) {
    await collectLayer(
      createReadStream(blob(layer.digest)),
      { digest: layer.digest, index: i, what: layer.digest },
      collector,
    );
  }
  return { ...collector.finish(), layers: manifest.layers.map((l) => l.digest) };
}

/** `name@version` of each package: what package managers list. */
export const ids = (packages: readonly Package[]) =>
  [...new Set(packages.map((p) => `${p.name}@${p.version}`))].sort();

/** Edges as `name@version -> name@version`, by the packages' purls. */
export function edgeIds(packages: readonly Package[], relationships: readonly Relationship[]): string[] {
  const byPurl = new Map(packages.map((p) => [p.purl, `${p.name}@${p.version}`]));
  return [
    ...new Set(
      relationships
        .filter((r) => r.type === "depends-on")
        .map((r) => `${byPurl.get(r.from)} -> ${byPurl.get(r.to)}`),
    ),
  ].sort();
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian packages the test's oracle needs, when missing (as scripts/test-deps.sh does for CI). */
export function ensureDebianPackages(command: string, packages: string[]): void {
  if (hasCommand(command)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...packages], { stdio: "ignore", env, timeout: 300_000 });
}

/**
 * Only the paths an oracle needs from a shared image, unpacked with GNU tar
 * layer by layer (`--wildcards` patterns, relative to /): much cheaper than
 * writing the whole root filesystem. Lower layers first, so upper ones win.
 */
export function extractFromSharedImage(tag: string, patterns: string[]): string {
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
  const dir = mkdtempSync(join(tmpdir(), `shipgate-extract-${tag}-`));
  for (const layer of manifest.layers) {
    try {
      execFileSync(
        "tar",
        ["-xzf", blob(layer.digest), "-C", dir, "--no-same-owner", "--wildcards", ...patterns],
        { stdio: "pipe" },
      );
    } catch (error) {
      // Exit status 2 with "Not found in archive": this layer holds none of the paths.
      if (!/Not found in archive/.test(String((error as { stderr?: Buffer }).stderr ?? ""))) throw error;
    }
  }
  return dir;
}
