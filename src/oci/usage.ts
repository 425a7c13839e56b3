import { limiter } from "./limit.js";
import { type Descriptor, parseManifest } from "./manifest.js";
import type { ImageSource } from "./transports/types.js";

export interface RepositoryUsage {
  name: string;
  tags: number;
  manifests: number;
  blobs: number;
  /** Unique blobs and manifests of this repository, each counted once. */
  bytes: number;
}

export interface UsageReport {
  repositories: RepositoryUsage[];
  /** Across all repositories, blobs shared between them counted once. */
  totalBytes: number;
  uniqueBlobs: number;
}

/**
 * Storage used by repositories: every blob and manifest reachable from any
 * tag (attachments included), each digest counted once per repository and
 * once in the total. `seen` lets callers share the dedupe across repositories.
 */
export async function repositoryUsage(
  source: ImageSource,
  seen: Map<string, number> = new Map(),
  concurrency = 8,
): Promise<RepositoryUsage> {
  const local = new Map<string, number>();
  let manifests = 0;
  let tags = 0;
  const run = limiter(concurrency);
  const visited = new Set<string>();
  const visit = async (reference: string): Promise<void> => {
    const blob = await source.getManifest(reference);
    if (visited.has(blob.digest)) return;
    visited.add(blob.digest);
    manifests++;
    local.set(blob.digest, blob.bytes.length);
    const parsed = parseManifest(blob.bytes, blob.mediaType, `${source.name}@${blob.digest}`);
    if (parsed.kind === "index") {
      await Promise.all(parsed.manifest.manifests.map((d) => visit(d.digest)));
      return;
    }
    const add = (d: Descriptor) => local.set(d.digest, d.size);
    add(parsed.manifest.config);
    parsed.manifest.layers.forEach(add);
  };
  const pending: Promise<void>[] = [];
  for await (const tag of source.listTags()) {
    tags++;
    pending.push(run(() => visit(tag)));
  }
  await Promise.all(pending);
  for (const [digest, size] of local) seen.set(digest, size);
  return {
    name: source.name,
    tags,
    manifests,
    blobs: local.size - manifests,
    bytes: [...local.values()].reduce((a, b) => a + b, 0),
  };
}

export function summarise(repositories: RepositoryUsage[], seen: Map<string, number>): UsageReport {
  return {
    repositories,
    totalBytes: [...seen.values()].reduce((a, b) => a + b, 0),
    uniqueBlobs: seen.size,
  };
}
