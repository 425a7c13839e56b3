import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ShipgateError } from "../errors.js";
import { VerifyingStream } from "./digest.js";
import { limiter } from "./limit.js";
import {
  type Descriptor,
  type ParsedManifest,
  type Platform,
  parseManifest,
  selectPlatform,
} from "./manifest.js";
import { cosignTags, isDigestTag } from "./referrers.js";
import { defaultRetryPolicy, type RetryPolicy, withRetries } from "./registry/retry.js";
import type { ImageDest, ImageSource, ManifestBlob } from "./transports/types.js";

export interface CopyProgress {
  blobsTotal: number;
  blobsDone: number;
  bytesTotal: number;
  bytesDone: number;
  /** Bytes actually moved (skipped and mounted blobs move none). */
  bytesTransferred: number;
}

export interface CopyOptions {
  /** Copy only this platform's manifest out of an index. */
  platform?: Platform;
  /** Also copy signatures, attestations and SBOMs: OCI 1.1 referrers and cosign `.sig/.att/.sbom` tags. */
  includeReferrers?: boolean;
  /** Blobs in flight at once. */
  concurrency?: number;
  retry?: RetryPolicy;
  onProgress?: (progress: CopyProgress) => void;
  signal?: AbortSignal;
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  /** Manifests written, the root and referrers included. */
  manifests: number;
  blobs: { copied: number; skipped: number; mounted: number };
  bytesTransferred: number;
  referrers: number;
}

interface Node {
  manifest: ManifestBlob;
  parsed: ParsedManifest;
  children: Node[];
}

interface Attachment {
  node: Node;
  /** The cosign tag it lives under, for legacy attachments; undefined for OCI 1.1 referrers. */
  tag: string | undefined;
}

export const DEFAULT_CONCURRENCY = 6;

/**
 * Copies one image (an index with all its platforms, or one manifest) from
 * `source` to `dest`. The source reference is resolved to a digest once;
 * every manifest and blob is verified on the way; the destination tag is
 * written last, after everything beneath it is in place.
 */
export async function copyImage(
  source: ImageSource,
  sourceReference: string | undefined,
  dest: ImageDest,
  destTag: string | undefined,
  options: CopyOptions = {},
): Promise<CopyResult> {
  const reference = sourceReference ?? source.defaultReference;
  if (reference === undefined) {
    throw new ShipgateError("USAGE", `${source.name} holds several images; say which one (a tag or digest)`);
  }
  const retry = options.retry ?? defaultRetryPolicy;
  const fetchManifest = (ref: string) => withRetries(`manifest ${ref}`, retry, () => source.getManifest(ref));

  let rootBlob = await fetchManifest(reference);
  let root = parseManifest(rootBlob.bytes, rootBlob.mediaType, `${source.name}:${reference}`);
  if (options.platform !== undefined && root.kind === "index") {
    const chosen = selectPlatform(root.manifest, options.platform, `${source.name}:${reference}`);
    rootBlob = await fetchManifest(chosen.digest);
    root = parseManifest(rootBlob.bytes, rootBlob.mediaType, `${source.name}@${chosen.digest}`);
  }
  const tree = await loadTree(rootBlob, root, fetchManifest);
  const attachments = options.includeReferrers ? await findAttachments(source, tree, fetchManifest) : [];

  const blobs = uniqueBlobs([tree, ...attachments.map((a) => a.node)]);
  const result: CopyResult = {
    digest: rootBlob.digest,
    mediaType: rootBlob.mediaType,
    manifests: 0,
    blobs: { copied: 0, skipped: 0, mounted: 0 },
    bytesTransferred: 0,
    referrers: attachments.length,
  };
  const progress: CopyProgress = {
    blobsTotal: blobs.length,
    blobsDone: 0,
    bytesTotal: blobs.reduce((sum, b) => sum + b.size, 0),
    bytesDone: 0,
    bytesTransferred: 0,
  };
  options.onProgress?.({ ...progress });
  const report = () => options.onProgress?.({ ...progress });

  const run = limiter(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
  await Promise.all(
    blobs.map((descriptor) =>
      run(async () => {
        const outcome = await copyBlob(source, dest, descriptor, retry, (n) => {
          progress.bytesDone += n;
          progress.bytesTransferred += n;
          report();
        });
        result.blobs[outcome.kind]++;
        result.bytesTransferred += outcome.transferred;
        if (outcome.kind !== "copied") progress.bytesDone += descriptor.size;
        progress.blobsDone++;
        report();
      }),
    ),
  );

  // Children before parents, then attachments, then the tag: nothing is reachable before it is whole.
  const writeTree = async (node: Node, tag?: string) => {
    for (const child of node.children) await writeTree(child);
    await withRetries(`write manifest ${node.manifest.digest}`, retry, () =>
      dest.writeManifest(node.manifest, tag),
    );
    result.manifests++;
  };
  for (const child of tree.children) await writeTree(child);
  for (const attachment of attachments) await writeTree(attachment.node, attachment.tag);
  await withRetries(`write manifest ${tree.manifest.digest}`, retry, () =>
    dest.writeManifest(tree.manifest, destTag),
  );
  result.manifests++;
  return result;
}

async function loadTree(
  manifest: ManifestBlob,
  parsed: ParsedManifest,
  fetchManifest: (ref: string) => Promise<ManifestBlob>,
): Promise<Node> {
  if (parsed.kind === "manifest") return { manifest, parsed, children: [] };
  const children = await Promise.all(
    parsed.manifest.manifests.map(async (descriptor) => {
      const child = await fetchManifest(descriptor.digest);
      const childParsed = parseManifest(child.bytes, child.mediaType, `manifest ${descriptor.digest}`);
      return loadTree(child, childParsed, fetchManifest);
    }),
  );
  return { manifest, parsed, children };
}

function allDigests(node: Node): string[] {
  return [node.manifest.digest, ...node.children.flatMap(allDigests)];
}

/**
 * Everything attached to any manifest of the tree, in both storage schemes:
 * OCI 1.1 referrers (API or fallback index, cosign v3 bundles included) and
 * cosign's `.sig/.att/.sbom` tags; and, recursively, what is attached to those.
 */
async function findAttachments(
  source: ImageSource,
  tree: Node,
  fetchManifest: (ref: string) => Promise<ManifestBlob>,
): Promise<Attachment[]> {
  const tags = new Set<string>();
  for await (const tag of source.listTags()) if (isDigestTag(tag)) tags.add(tag);
  const seen = new Set<string>(allDigests(tree));
  const found: Attachment[] = [];
  let frontier = allDigests(tree);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const subject of frontier) {
      const referrers = await source.listReferrers(subject);
      const candidates: { digest: string; tag: string | undefined }[] = referrers.map((d) => ({
        digest: d.digest,
        tag: undefined,
      }));
      for (const tag of cosignTags(subject)) {
        if (tags.has(tag)) candidates.push({ digest: "", tag });
      }
      for (const candidate of candidates) {
        const blob = await fetchManifest(candidate.tag ?? candidate.digest).catch((error: unknown) => {
          // A fallback index may still list a referrer that was deleted (the spec only says
          // clients SHOULD update it), and a tag may go between listing and reading: what is
          // gone cannot be copied, and must not stop the image and its other attachments.
          if (error instanceof ShipgateError && error.code === "NOT_FOUND") return undefined;
          throw error;
        });
        if (blob === undefined) continue;
        if (seen.has(blob.digest) && candidate.tag === undefined) continue;
        const parsed = parseManifest(
          blob.bytes,
          blob.mediaType,
          `attachment ${candidate.tag ?? candidate.digest}`,
        );
        const node = await loadTree(blob, parsed, fetchManifest);
        found.push({ node, tag: candidate.tag });
        if (!seen.has(blob.digest)) {
          seen.add(blob.digest);
          next.push(...allDigests(node));
        }
      }
    }
    frontier = next;
  }
  return found;
}

function uniqueBlobs(nodes: Node[]): Descriptor[] {
  const byDigest = new Map<string, Descriptor>();
  const visit = (node: Node) => {
    if (node.parsed.kind === "manifest") {
      for (const blob of [node.parsed.manifest.config, ...node.parsed.manifest.layers]) {
        // Foreign layers (Windows base images) live elsewhere and are not copied, as skopeo and crane do.
        if (blob.urls !== undefined && blob.urls.length > 0) continue;
        if (!byDigest.has(blob.digest)) byDigest.set(blob.digest, blob);
      }
    }
    node.children.forEach(visit);
  };
  nodes.forEach(visit);
  return [...byDigest.values()];
}

async function copyBlob(
  source: ImageSource,
  dest: ImageDest,
  descriptor: Descriptor,
  retry: RetryPolicy,
  onBytes: (n: number) => void,
): Promise<{ kind: "copied" | "skipped" | "mounted"; transferred: number }> {
  if (await dest.blobExists(descriptor)) return { kind: "skipped", transferred: 0 };
  if (dest.mountBlob !== undefined && (await dest.mountBlob(descriptor, source))) {
    return { kind: "mounted", transferred: 0 };
  }
  let transferred = 0;
  await withRetries(`copy blob ${descriptor.digest}`, retry, async () => {
    // A retry starts over: take back the progress of the failed attempt.
    onBytes(-transferred);
    transferred = 0;
    const input = await source.openBlob(descriptor);
    // A registry re-hashes on PUT ?digest= and refuses a mismatch (answered
    // DIGEST_INVALID, which is retried like our own mismatch): that check
    // stands in for ours there, and halves the hashing on a machine where
    // both registries also need the CPU. An oci: layout does not verify, so
    // for it the copier hashes the stream itself.
    const verifier = new VerifyingStream(
      descriptor.digest,
      descriptor.size,
      `blob ${descriptor.digest}`,
      (n) => {
        transferred += n;
        onBytes(n);
      },
      { hash: dest.verifiesDigests !== true },
    );
    const through = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = dest.writeBlob(descriptor, through).catch((error: unknown) => {
      // The destination gave up: stop reading the source too, so nothing dangles.
      input.destroy();
      through.destroy();
      throw error;
    });
    await Promise.all([pipeline(input, verifier, through), upload]);
  });
  return { kind: "copied", transferred };
}
