import { mkdir, open, readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { ShipgateError } from "../../errors.js";
import { assertDigest, isDigest, VerifyingStream, verifyBytes } from "../digest.js";
import {
  type Descriptor,
  type ImageIndex,
  MANIFEST_SIZE_LIMIT,
  type ParsedManifest,
  parseManifest,
} from "../manifest.js";
import { imageManifestMediaTypes, indexMediaTypes, MediaType } from "../mediatypes.js";
import { fallbackTag, filterByArtifactType, referrerDescriptor } from "../referrers.js";
import { writeFileAtomic, writeStreamAtomic } from "./atomic-file.js";
import type { ImageDest, ImageSource, ManifestBlob, WriteBlobOptions } from "./types.js";

/** The annotation skopeo, umoci and the image-spec use to name an image in index.json. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
const LAYOUT_VERSION = "1.0.0";
/** index.json of a big store with many referrers can outgrow a manifest; anything past this is broken or hostile. */
const INDEX_SIZE_LIMIT = 64 * 1024 * 1024;
/** What skopeo accepts as `oci:PATH:REF` (it refuses e.g. "-x" and "_a"), so layouts we write stay readable. */
const refNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:@+/-]*$/;

/**
 * index.json updates per directory, chained so that parallel writers in this
 * process (copy writes manifests concurrently; two OciLayout objects may
 * share a directory) never lose each other's entries. Other processes are not
 * coordinated: like skopeo, last writer wins across processes.
 */
const indexQueues = new Map<string, Promise<void>>();

export interface OciLayoutOptions {
  /** Make the directory (and oci-layout, index.json) when missing, as a copy destination does. */
  create?: boolean;
  /** The tag or digest this layout was named with (`oci:PATH:REF`). */
  reference?: string | undefined;
}

/** One index.json entry, with its tag (ref.name) pulled out. */
export interface LayoutEntry {
  tag: string | undefined;
  descriptor: Descriptor;
}

function invalid(path: string, why: string, cause?: unknown): ShipgateError {
  return new ShipgateError("LAYOUT_INVALID", `${path}: ${why}`, {
    cause,
    hint: "an OCI image layout has an oci-layout file, an index.json and blobs/<alg>/<hex>",
  });
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function tagOf(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION];
}

/**
 * An OCI image layout directory (image-spec image-layout.md), read and written
 * the way skopeo's `oci:PATH[:TAG]` transport does: tags are the ref.name
 * annotation of index.json entries; one layout is one repository.
 */
/** What a layout holds while `open` is still creating it: blobs/, index.json, atomic-write temporaries. */
function isLayoutInTheMaking(name: string): boolean {
  return name === "blobs" || name === "index.json" || /^\.(index\.json|oci-layout)\.tmp-/.test(name);
}

async function waitForFile(path: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

export class OciLayout implements ImageSource, ImageDest {
  readonly name: string;
  /** Referrer lookups read every manifest in index.json; blobs are content-addressed, so caching is safe. */
  private readonly subjects = new Map<string, { subject: string | undefined; descriptor: Descriptor }>();

  private constructor(
    readonly dir: string,
    readonly defaultReference: string | undefined,
  ) {
    this.name = `oci:${dir}`;
  }

  static async open(dir: string, options: OciLayoutOptions = {}): Promise<OciLayout> {
    const root = resolve(dir);
    const info = await stat(root).catch((error: unknown) => {
      if (errno(error) === "ENOENT") return undefined;
      throw new ShipgateError("IO", `${root}: ${(error as Error).message}`, { cause: error });
    });
    if (info !== undefined && !info.isDirectory()) throw invalid(root, "is not a directory");
    if (info === undefined && !options.create) throw invalid(root, "does not exist");
    await mkdir(root, { recursive: true });

    const layoutPath = join(root, "oci-layout");
    const layoutText = await readFile(layoutPath, "utf8").catch((error: unknown) => {
      if (errno(error) === "ENOENT") return undefined;
      throw error;
    });
    if (layoutText === undefined) {
      if (!options.create) throw invalid(root, "is not an OCI image layout (no oci-layout file)");
      // Never turn a directory holding something else into a layout by accident.
      const present = await readdir(root);
      if (present.length > 0 && present.every(isLayoutInTheMaking)) {
        // Another writer (two copies into one new store repository) is creating this very layout:
        // its oci-layout file is written last, so wait for it rather than call the directory foreign.
        if (await waitForFile(layoutPath)) return OciLayout.open(dir, options);
      }
      if (present.length > 0) {
        throw invalid(
          root,
          `is not empty and not an OCI image layout (it holds ${present.slice(0, 3).join(", ")}…)`,
        );
      }
      await mkdir(join(root, "blobs", "sha256"), { recursive: true });
      await writeFileAtomic(
        join(root, "index.json"),
        Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] })),
      );
      await writeFileAtomic(layoutPath, Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })));
    } else {
      let version: unknown;
      try {
        version = (JSON.parse(layoutText) as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
      } catch (error) {
        throw invalid(layoutPath, "is not JSON", error);
      }
      if (version !== LAYOUT_VERSION) {
        throw invalid(
          layoutPath,
          `imageLayoutVersion is ${JSON.stringify(version)}, expected "${LAYOUT_VERSION}"`,
        );
      }
    }

    const layout = new OciLayout(root, undefined);
    const index = await layout.readIndex(options.create === true);
    const only = index.manifests.length === 1 ? index.manifests[0]?.digest : undefined;
    return new OciLayout(root, options.reference ?? only);
  }

  // ---- index.json ----

  private get indexPath(): string {
    return join(this.dir, "index.json");
  }

  /** index.json, validated; with `createMissing`, a missing one counts as empty (a half-made layout). */
  async readIndex(createMissing = false): Promise<ImageIndex> {
    let bytes: Buffer;
    try {
      const info = await stat(this.indexPath);
      if (info.size > INDEX_SIZE_LIMIT)
        throw invalid(this.indexPath, `is ${info.size} bytes, over ${INDEX_SIZE_LIMIT}`);
      bytes = await readFile(this.indexPath);
    } catch (error) {
      if (error instanceof ShipgateError) throw error;
      if (errno(error) === "ENOENT" && createMissing) return { schemaVersion: 2, manifests: [] };
      if (errno(error) === "ENOENT") throw invalid(this.dir, "is not an OCI image layout (no index.json)");
      throw new ShipgateError("IO", `${this.indexPath}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(bytes, MediaType.ociIndex, this.indexPath);
    } catch (error) {
      throw invalid(this.indexPath, `is not a valid image index (${(error as Error).message})`, error);
    }
    if (parsed.kind !== "index") throw invalid(this.indexPath, "is not an image index");
    return parsed.manifest;
  }

  /**
   * Read-modify-write of index.json, serialised per directory and written
   * atomically; `change` returns undefined when there is nothing to write.
   */
  private updateIndex(change: (index: ImageIndex) => ImageIndex | undefined): Promise<void> {
    const previous = indexQueues.get(this.dir) ?? Promise.resolve();
    const next = previous.then(async () => {
      const updated = change(await this.readIndex(true));
      if (updated !== undefined) await writeFileAtomic(this.indexPath, Buffer.from(JSON.stringify(updated)));
    });
    const settled = next.catch(() => undefined);
    indexQueues.set(this.dir, settled);
    // Drop the entry once idle so the map does not grow with every layout ever opened.
    void settled.then(() => {
      if (indexQueues.get(this.dir) === settled) indexQueues.delete(this.dir);
    });
    return next;
  }

  async listManifests(): Promise<LayoutEntry[]> {
    return (await this.readIndex()).manifests.map((descriptor) => ({ tag: tagOf(descriptor), descriptor }));
  }

  async *listTags(): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const { tag } of await this.listManifests()) {
      if (tag !== undefined && !seen.has(tag)) {
        seen.add(tag);
        yield tag;
      }
    }
  }

  /** For "not found" messages: what the user could have asked for instead. */
  async describeTags(): Promise<string> {
    const tags: string[] = [];
    for await (const tag of this.listTags()) tags.push(tag);
    if (tags.length === 0) return `${this.name} has no tags`;
    const shown = tags.slice(0, 20).join(", ");
    return `available tags: ${shown}${tags.length > 20 ? `, … (${tags.length} in all)` : ""}`;
  }

  /**
   * Removes a tag from index.json (blobs stay). Given a digest, removes every
   * entry for it, tagged or not, which leaves the manifest unreachable.
   */
  async deleteTag(reference: string): Promise<void> {
    let removed = 0;
    await this.updateIndex((index) => {
      const match = (d: Descriptor) =>
        isDigest(reference) ? d.digest === reference : tagOf(d) === reference;
      const kept = index.manifests.filter((d) => !match(d));
      removed = index.manifests.length - kept.length;
      return removed === 0 ? undefined : { ...index, manifests: kept };
    });
    if (removed === 0) {
      throw new ShipgateError(
        "NOT_FOUND",
        `${this.name} has no ${isDigest(reference) ? "entry" : "tag"} "${reference}"`,
        {
          hint: await this.describeTags(),
        },
      );
    }
  }

  // ---- blobs and manifests ----

  /** blobs/<alg>/<hex>; the digest's shape is checked first, so a hostile digest cannot name another path. */
  blobPath(digest: string): string {
    const [algorithm = "", hex = ""] = assertDigest(digest, this.name).split(":");
    return join(this.dir, "blobs", algorithm, hex);
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const path = this.blobPath(descriptor.digest);
    try {
      const handle = await open(path, "r");
      return handle.createReadStream();
    } catch (error) {
      if (errno(error) === "ENOENT")
        throw new ShipgateError("NOT_FOUND", `${this.name}: blob ${descriptor.digest} is missing (${path})`);
      throw new ShipgateError("IO", `${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async blobExists(descriptor: Descriptor): Promise<boolean> {
    const info = await stat(this.blobPath(descriptor.digest)).catch(() => undefined);
    return info?.isFile() === true && info.size === descriptor.size;
  }

  async manifestExists(digest: string): Promise<boolean> {
    const info = await stat(this.blobPath(digest)).catch(() => undefined);
    return info?.isFile() === true;
  }

  /**
   * A layout does not check what it stores, so this does: the bytes are
   * hashed and counted on their way to a temporary file and renamed into
   * place only when digest and size match (a bad stream leaves nothing).
   */
  async writeBlob(descriptor: Descriptor, content: Readable, options: WriteBlobOptions = {}): Promise<void> {
    const target = this.blobPath(descriptor.digest);
    await mkdir(join(target, ".."), { recursive: true });
    const verifier = new VerifyingStream(
      descriptor.digest,
      descriptor.size,
      `${this.name}: blob ${descriptor.digest}`,
      options.onBytes,
    );
    await writeStreamAtomic(target, content, [verifier], options.signal);
  }

  /** A manifest by tag, by digest (index.json entry or any manifest blob, e.g. an index's child) or `@N`. */
  async getManifest(reference: string): Promise<ManifestBlob> {
    const index = await this.readIndex();
    let descriptor: Descriptor | undefined;
    let digest: string;
    if (isDigest(reference)) {
      digest = reference;
      descriptor = index.manifests.find((d) => d.digest === reference);
    } else if (/^@\d+$/.test(reference)) {
      // skopeo's `oci:PATH:@N`: the N-th entry of index.json.
      descriptor = index.manifests[Number(reference.slice(1))];
      if (descriptor === undefined) {
        throw new ShipgateError(
          "NOT_FOUND",
          `${this.name}: index.json has ${index.manifests.length} entries, no ${reference}`,
        );
      }
      digest = descriptor.digest;
    } else {
      const matches = index.manifests.filter((d) => tagOf(d) === reference);
      const distinct = new Set(matches.map((d) => d.digest));
      if (distinct.size > 1)
        throw invalid(this.indexPath, `tag "${reference}" names ${distinct.size} different manifests`);
      descriptor = matches[0];
      if (descriptor === undefined) {
        throw new ShipgateError("NOT_FOUND", `${this.name} has no tag "${reference}"`, {
          hint: await this.describeTags(),
        });
      }
      digest = descriptor.digest;
    }
    const bytes = await this.readManifestBytes(digest);
    verifyBytes(bytes, digest, `${this.name}: manifest ${digest}`);
    if (descriptor !== undefined && descriptor.size !== bytes.length) {
      throw invalid(
        this.indexPath,
        `the entry for ${digest} says ${descriptor.size} bytes, the blob has ${bytes.length}`,
      );
    }
    const parsed = parseManifest(bytes, descriptor?.mediaType, `${this.name}@${digest}`);
    return { bytes, mediaType: parsed.mediaType, digest };
  }

  private async readManifestBytes(digest: string): Promise<Buffer> {
    const path = this.blobPath(digest);
    try {
      const info = await stat(path);
      if (info.size > MANIFEST_SIZE_LIMIT) {
        throw new ShipgateError(
          "MANIFEST_TOO_LARGE",
          `${path} is ${info.size} bytes, over the ${MANIFEST_SIZE_LIMIT}-byte limit`,
        );
      }
      return await readFile(path);
    } catch (error) {
      if (error instanceof ShipgateError) throw error;
      if (errno(error) === "ENOENT")
        throw new ShipgateError("NOT_FOUND", `${this.name}: manifest ${digest} not found (${path})`);
      throw new ShipgateError("IO", `${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Writes the manifest blob, then index.json. With a tag, the entry with that
   * ref.name is replaced. Without one, a manifest with a `subject` (a
   * signature, SBOM or other referrer) gets an untagged entry so referrer
   * lookups and skopeo see it; other untagged manifests (an index's children)
   * are reachable through their parent and stay plain blobs, as skopeo does.
   */
  async writeManifest(manifest: ManifestBlob, tag?: string): Promise<void> {
    verifyBytes(manifest.bytes, manifest.digest, `${this.name}: manifest ${manifest.digest}`);
    if (tag !== undefined && !refNamePattern.test(tag)) {
      throw new ShipgateError("INVALID_REFERENCE", `"${tag}" is not a valid OCI layout reference name`, {
        hint: "start with a letter or digit; then letters, digits and . _ - : @ + /",
      });
    }
    const parsed = parseManifest(
      manifest.bytes,
      manifest.mediaType,
      `${this.name}: manifest ${manifest.digest}`,
    );
    const target = this.blobPath(manifest.digest);
    await mkdir(join(target, ".."), { recursive: true });
    await writeFileAtomic(target, manifest.bytes);

    const entry: Descriptor = {
      mediaType: parsed.mediaType,
      digest: manifest.digest,
      size: manifest.bytes.length,
    };
    if (tag !== undefined) {
      entry.annotations = { [REF_NAME_ANNOTATION]: tag };
      await this.updateIndex((index) => {
        // The tag moves here; an untagged entry for the same digest is now redundant.
        const kept = index.manifests.filter(
          (d) => tagOf(d) !== tag && !(tagOf(d) === undefined && d.digest === manifest.digest),
        );
        return { ...index, manifests: [...kept, entry] };
      });
      return;
    }
    if (parsed.manifest.subject === undefined) return;
    const artifactType = referrerDescriptor(manifest, parsed).artifactType;
    if (artifactType !== undefined) entry.artifactType = artifactType;
    await this.updateIndex((index) =>
      index.manifests.some((d) => d.digest === manifest.digest)
        ? undefined
        : { ...index, manifests: [...index.manifests, entry] },
    );
  }

  // ---- referrers ----

  /**
   * Manifests in index.json whose subject is `digest`, described as the
   * referrers API would (artifactType, annotations), plus the entries of a
   * `sha256-<hex>` fallback index if one is tagged here.
   */
  async listReferrers(digest: string, artifactType?: string): Promise<Descriptor[]> {
    const index = await this.readIndex();
    const found = new Map<string, Descriptor>();
    for (const d of index.manifests) {
      if (!imageManifestMediaTypes.has(d.mediaType) && !indexMediaTypes.has(d.mediaType)) continue;
      const facts = await this.subjectOf(d.digest);
      if (facts.subject === digest && !found.has(d.digest)) found.set(d.digest, facts.descriptor);
    }
    const fallback = index.manifests.find((d) => tagOf(d) === fallbackTag(digest));
    if (fallback !== undefined) {
      const blob = await this.getManifest(fallback.digest);
      const parsed = parseManifest(blob.bytes, blob.mediaType, `${this.name}:${fallbackTag(digest)}`);
      if (parsed.kind === "index") {
        for (const d of parsed.manifest.manifests) if (!found.has(d.digest)) found.set(d.digest, d);
      }
    }
    return filterByArtifactType([...found.values()], artifactType);
  }

  private async subjectOf(digest: string): Promise<{ subject: string | undefined; descriptor: Descriptor }> {
    const cached = this.subjects.get(digest);
    if (cached !== undefined) return cached;
    const blob = await this.getManifest(digest);
    const parsed = parseManifest(blob.bytes, blob.mediaType, `${this.name}@${digest}`);
    const facts = { subject: parsed.manifest.subject?.digest, descriptor: referrerDescriptor(blob, parsed) };
    this.subjects.set(digest, facts);
    return facts;
  }
}
