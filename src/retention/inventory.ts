import { ShipgateError } from "../errors.js";
import { readSmallBlob } from "../oci/inspect.js";
import { type Descriptor, type ImageManifest, parseManifest } from "../oci/manifest.js";
import { isDigestTag } from "../oci/referrers.js";
import type { RegistryRepository } from "../oci/transports/registry.js";
import type { ManifestBlob } from "../oci/transports/types.js";
import type { Attachment, Inventory, ManifestRecord } from "./model.js";
import { pool } from "./pool.js";

/**
 * The few reads retention needs from a repository. A registry repository is one (see
 * `registryReader`); tests plan over an in-memory one of 100,000 tags.
 */
export interface RepositoryReader {
  readonly name: string;
  listTags(): AsyncIterable<string>;
  /** The manifest a tag or digest names; undefined when there is none. */
  manifest(reference: string): Promise<ManifestBlob | undefined>;
  /** A small blob (an image config), verified. */
  smallBlob(descriptor: Descriptor): Promise<Uint8Array>;
  /** OCI 1.1 referrers API answer; undefined when the registry has no such API. */
  referrers(digest: string): Promise<Descriptor[] | undefined>;
}

export interface InventoryOptions {
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

const CREATED_ANNOTATION = "org.opencontainers.image.created";

/** `sha256-<hex>[.sig|.att|.sbom]` → `sha256:<hex>`. */
export function subjectOfDigestTag(tag: string): string {
  const [base = ""] = tag.split(".");
  const dash = base.indexOf("-");
  return `${base.slice(0, dash)}:${base.slice(dash + 1)}`;
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const t = Date.parse(value);
  // Go's zero time (0001-01-01) and the epoch mean "unset" in reproducible builds' configs.
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

/**
 * Reads every tag once and every distinct manifest and config once (bounded concurrency, deduped
 * by digest), so 100,000 tags on a few thousand images cost a few thousand config reads.
 */
export async function readInventory(
  reader: RepositoryReader,
  options: InventoryOptions = {},
): Promise<Inventory> {
  const run = pool(options.concurrency ?? 16);
  const inventory: Inventory = {
    repository: reader.name,
    tags: new Map(),
    manifests: new Map(),
    attachments: new Map(),
    missingSubjects: new Set(),
    dangling: new Set(),
  };
  const loading = new Map<string, Promise<ManifestRecord | undefined>>();
  let done = 0;
  let total = 0;

  const attach = (subject: string, attachment: Attachment) => {
    const list = inventory.attachments.get(subject) ?? [];
    if (!list.some((a) => a.digest === attachment.digest)) list.push(attachment);
    inventory.attachments.set(subject, list);
  };

  const record = async (blob: ManifestBlob, isFallbackIndex: boolean): Promise<ManifestRecord> => {
    const parsed = readable(blob, reader.name);
    if (parsed === undefined) {
      // Docker schema 1 or a foreign type: no creation time, so it is kept and reported.
      return {
        digest: blob.digest,
        mediaType: blob.mediaType,
        size: blob.bytes.length,
        kind: "manifest",
        children: [],
        blobs: [],
      };
    }
    const doc = parsed.manifest;
    const rec: ManifestRecord = {
      digest: blob.digest,
      mediaType: blob.mediaType,
      size: blob.bytes.length,
      kind: parsed.kind,
      children: [],
      blobs: [],
    };
    if (doc.subject !== undefined) rec.subject = doc.subject.digest;
    if (doc.artifactType !== undefined) rec.artifactType = doc.artifactType;
    if (parsed.kind === "index") {
      if (isFallbackIndex) return rec;
      rec.children = parsed.manifest.manifests.map((d) => d.digest);
      const children = await Promise.all(rec.children.map((c) => load(c, false)));
      const annotated = parseTime(doc.annotations?.[CREATED_ANNOTATION]);
      const newest = Math.max(...children.map((c) => c?.created ?? Number.NEGATIVE_INFINITY));
      if (annotated !== undefined) {
        rec.created = annotated;
        rec.createdFrom = "annotation";
      } else if (Number.isFinite(newest)) {
        rec.created = newest;
        rec.createdFrom = "children";
      }
      return rec;
    }
    const manifest = parsed.manifest as ImageManifest;
    rec.blobs = [manifest.config, ...manifest.layers].map((d) => ({ digest: d.digest, size: d.size }));
    // Attachments are never judged by age: skip their configs (cosign's are not image configs).
    if (rec.subject === undefined && !isArtifactConfig(manifest.config.mediaType)) {
      const created = await configCreated(manifest);
      if (created !== undefined) {
        rec.created = created;
        rec.createdFrom = "config";
      }
    }
    if (rec.created === undefined) {
      const annotated = parseTime(doc.annotations?.[CREATED_ANNOTATION]);
      if (annotated !== undefined) {
        rec.created = annotated;
        rec.createdFrom = "annotation";
      }
    }
    return rec;
  };

  const configCreated = async (manifest: ImageManifest): Promise<number | undefined> => {
    try {
      const bytes = await run(() => reader.smallBlob(manifest.config));
      return parseTime((JSON.parse(Buffer.from(bytes).toString("utf8")) as { created?: unknown }).created);
    } catch (error) {
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  };

  /** Loads a manifest once by digest (or by tag, then recorded under its digest). */
  const load = (reference: string, isFallbackIndex: boolean, blob?: ManifestBlob) => {
    const key = blob?.digest ?? reference;
    let pending = loading.get(key);
    if (pending === undefined) {
      pending = (async () => {
        const got = blob ?? (await run(() => reader.manifest(reference)));
        if (got === undefined) return undefined;
        const rec = await record(got, isFallbackIndex);
        inventory.manifests.set(rec.digest, rec);
        return rec;
      })();
      loading.set(key, pending);
    }
    return pending;
  };

  const tagReads: Promise<void>[] = [];
  for await (const tag of reader.listTags()) {
    total++;
    tagReads.push(
      (async () => {
        const blob = await run(() => reader.manifest(tag));
        done++;
        options.onProgress?.(done, total);
        // Listed but resolving to nothing: deleted under the listing, or left behind by a registry.
        if (blob === undefined) {
          inventory.dangling.add(tag);
          return;
        }
        inventory.tags.set(tag, blob.digest);
        const fallback = isDigestTag(tag) && !tag.includes(".");
        const rec = await load(blob.digest, fallback, blob);
        if (!isDigestTag(tag)) return;
        const subject = subjectOfDigestTag(tag);
        attach(subject, { digest: blob.digest, via: `tag ${tag}` });
        if (fallback && rec !== undefined) {
          const parsed = readable(blob, reader.name);
          if (parsed?.kind === "index") {
            for (const d of parsed.manifest.manifests) {
              attach(subject, { digest: d.digest, via: `referrer ${d.artifactType ?? d.mediaType}` });
              await load(d.digest, false);
            }
          }
        }
      })(),
    );
  }
  await Promise.all(tagReads);
  // Subjects named by attachment tags: tagged images, untagged manifests, or gone.
  await Promise.all(
    [...inventory.attachments.keys()].map(async (subject) => {
      if (inventory.manifests.has(subject)) return;
      const rec = await load(subject, false);
      if (rec === undefined) inventory.missingSubjects.add(subject);
    }),
  );
  // A referrer pushed with a tag of its own still belongs to its subject.
  for (const rec of inventory.manifests.values())
    if (rec.subject !== undefined) attach(rec.subject, { digest: rec.digest, via: "subject field" });
  return inventory;
}

/**
 * Adds what the OCI 1.1 referrers API lists for `digests` (and, recursively, for those referrers),
 * on registries that have it; returns how many it added. Only called for manifests about to be deleted: asking for all
 * 100,000 would cost as many requests for nothing.
 */
export async function addReferrers(
  reader: RepositoryReader,
  inventory: Inventory,
  digests: string[],
  concurrency = 16,
): Promise<number> {
  const run = pool(concurrency);
  let added = 0;
  const asked = new Set<string>();
  let frontier = digests;
  while (frontier.length > 0) {
    const next: string[] = [];
    await Promise.all(
      frontier.map(async (digest) => {
        if (asked.has(digest)) return;
        asked.add(digest);
        const listed = await run(() => reader.referrers(digest));
        for (const d of listed ?? []) {
          const list = inventory.attachments.get(digest) ?? [];
          if (list.some((a) => a.digest === d.digest)) continue;
          list.push({ digest: d.digest, via: `referrer ${d.artifactType ?? d.mediaType}` });
          inventory.attachments.set(digest, list);
          added++;
          if (!inventory.manifests.has(d.digest)) {
            const blob = await run(() => reader.manifest(d.digest));
            if (blob !== undefined) {
              const parsed = readable(blob, reader.name);
              const blobs =
                parsed?.kind === "manifest"
                  ? [parsed.manifest.config, ...parsed.manifest.layers].map((b) => ({
                      digest: b.digest,
                      size: b.size,
                    }))
                  : [];
              inventory.manifests.set(d.digest, {
                digest: d.digest,
                mediaType: blob.mediaType,
                size: blob.bytes.length,
                kind: parsed?.kind ?? "manifest",
                children: [],
                blobs,
                subject: digest,
              });
            }
          }
          next.push(d.digest);
        }
      }),
    );
    frontier = next;
  }
  return added;
}

const UNREADABLE: string[] = ["UNSUPPORTED_MEDIA_TYPE", "MANIFEST_INVALID"];

function readable(blob: ManifestBlob, name: string): ReturnType<typeof parseManifest> | undefined {
  try {
    return parseManifest(blob.bytes, blob.mediaType, `${name}@${blob.digest}`);
  } catch (error) {
    if (error instanceof ShipgateError && UNREADABLE.includes(error.code)) return undefined;
    throw error;
  }
}

function isArtifactConfig(mediaType: string): boolean {
  return mediaType === "application/vnd.oci.empty.v1+json";
}

/** A registry repository as a RepositoryReader. */
export function registryReader(repo: RegistryRepository): RepositoryReader {
  return {
    name: repo.name,
    listTags: () => repo.listTags(),
    async manifest(reference) {
      try {
        return await repo.client.getManifest(repo.repository, reference);
      } catch (error) {
        if (error instanceof ShipgateError && error.code === "NOT_FOUND") return undefined;
        if (!(error instanceof ShipgateError && UNREADABLE.includes(error.code))) throw error;
        // A manifest shipgate cannot parse still has a digest, and retention must know it is there.
        const head = await repo.client.headManifest(repo.repository, reference);
        return head === undefined
          ? undefined
          : { bytes: new Uint8Array(), mediaType: head.mediaType, digest: head.digest };
      }
    },
    smallBlob: (descriptor) => readSmallBlob(repo, descriptor, `config ${descriptor.digest}`),
    async referrers(digest) {
      const answer = await repo.client.referrers(repo.repository, digest);
      return answer.supported ? answer.descriptors : undefined;
    },
  };
}
