import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ShipgateError } from "../../errors.js";
import { digestOf, isDigest } from "../digest.js";
import type { Descriptor } from "../manifest.js";
import { MediaType } from "../mediatypes.js";
import { parseReference } from "../reference.js";
import { compressionOf, type FileEntry, TarIndex } from "./tar-index.js";
import type { ImageSource, ManifestBlob } from "./types.js";

/** Docker's media type for an uncompressed layer (containerd: MediaTypeDockerSchema2Layer). */
export const DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
/** manifest.json and configs are small; anything past this is broken or hostile. */
const JSON_SIZE_LIMIT = 16 * 1024 * 1024;

/**
 * How layers are described in the synthesized manifest:
 * - "actual" (default): each layer file as stored, labelled by what it is —
 *   `…rootfs.diff.tar` for a plain tar, `…rootfs.diff.tar.gzip` for gzip —
 *   so an image copied from the archive byte for byte is labelled correctly.
 * - "skopeo": byte-identical to what skopeo (containers/image) synthesizes,
 *   so manifest digests match `skopeo inspect docker-archive:…`: every layer
 *   is served decompressed, described by its diff_id and uncompressed size,
 *   and labelled `…tar.gzip` whatever it is (skopeo re-compresses and fixes
 *   the label when it copies; shipgate's copy does not, hence not the default).
 */
export type LayerDescription = "actual" | "skopeo";

export interface DockerArchiveOptions {
  layers?: LayerDescription;
}

/** One image of the archive (one manifest.json item). */
export interface ArchiveImage {
  /** Its position in manifest.json: `@N` names it. */
  index: number;
  /** As written in manifest.json (`docker save` writes short names, skopeo fully qualified ones). */
  repoTags: string[];
  manifest: ManifestBlob;
}

interface BlobSource {
  entry: FileEntry;
  /** Serve the decompressed bytes (skopeo's description of a gzip layer file). */
  gunzip: boolean;
}

function invalid(file: string, why: string): ShipgateError {
  return new ShipgateError("ARCHIVE_INVALID", `${file}: ${why}`, {
    hint: "a docker-archive is the tar `docker save` or `skopeo copy … docker-archive:FILE` writes",
  });
}

/** `repo:tag` in one canonical spelling (`docker.io/library/x:latest`), or undefined if it is not one. */
function canonicalTag(input: string): string | undefined {
  try {
    const r = parseReference(input);
    return r.digest === undefined ? `${r.registry}/${r.repository}:${r.tag}` : undefined;
  } catch {
    return undefined;
  }
}

function stringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/**
 * A `docker save` tarball (`docker-archive:FILE[:REF]`), read-only. The tar is
 * indexed once (offsets and digests, streamed); each image is presented as a
 * Docker v2 schema 2 manifest synthesized from manifest.json and its config,
 * as skopeo does. Reads both the classic layout (`<id>/layer.tar`, `<hex>.json`)
 * and docker ≥ 25's (`blobs/sha256/<hex>`, whose index.json is ignored: the
 * manifest.json it also writes says the same).
 */
export class DockerArchive implements ImageSource {
  readonly name: string;

  private constructor(
    readonly file: string,
    readonly images: readonly ArchiveImage[],
    private readonly tar: TarIndex,
    private readonly blobs: ReadonlyMap<string, BlobSource>,
    readonly defaultReference: string | undefined,
  ) {
    this.name = `docker-archive:${file}`;
  }

  /**
   * `reference` is what may follow `docker-archive:FILE:` — `repo:tag` (matched
   * after normalisation, so `debian:12` finds `docker.io/library/debian:12`)
   * or `@N`, the N-th image. Without one, an archive of one image opens that
   * image; with several, getManifest needs a reference.
   */
  static async open(
    file: string,
    reference?: string,
    options: DockerArchiveOptions = {},
  ): Promise<DockerArchive> {
    const path = resolve(file);
    await refuseCompressed(path);
    const tar = await TarIndex.build(path);
    if (!tar.has("manifest.json")) {
      throw invalid(
        path,
        "has no manifest.json: not a docker-archive (archives from docker before 1.10 are not supported)",
      );
    }
    const listText = await tar.read(
      tar.resolve("manifest.json", "manifest.json"),
      JSON_SIZE_LIMIT,
      "manifest.json",
    );
    let list: unknown;
    try {
      list = JSON.parse(listText.toString("utf8"));
    } catch (error) {
      throw invalid(path, `manifest.json is not JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(list) || list.length === 0) throw invalid(path, "manifest.json lists no images");
    const blobs = new Map<string, BlobSource>();
    const images: ArchiveImage[] = [];
    for (const [i, item] of list.entries()) {
      images.push(await synthesize(tar, item, i, options.layers ?? "actual", blobs));
    }
    const archive = new DockerArchive(path, images, tar, blobs, undefined);
    if (reference !== undefined) {
      archive.find(reference); // fail now, naming what the archive holds, rather than mid-copy
      return new DockerArchive(path, images, tar, blobs, reference);
    }
    return new DockerArchive(
      path,
      images,
      tar,
      blobs,
      images.length === 1 ? images[0]?.manifest.digest : undefined,
    );
  }

  /** The image a reference names: `@N`, a manifest digest, or `repo:tag`. */
  find(reference: string): ArchiveImage {
    let image: ArchiveImage | undefined;
    if (/^@\d+$/.test(reference)) {
      image = this.images[Number(reference.slice(1))];
    } else if (isDigest(reference)) {
      image = this.images.find((m) => m.manifest.digest === reference);
    } else {
      const wanted = canonicalTag(reference);
      if (wanted === undefined) {
        throw new ShipgateError("INVALID_REFERENCE", `"${reference}" is not a repo:tag or @N reference`, {
          hint: "a docker-archive reference is e.g. debian:12 or @0 (the first image); digests are not accepted here",
        });
      }
      image = this.images.find((m) => m.repoTags.some((t) => canonicalTag(t) === wanted));
    }
    if (image === undefined) {
      throw new ShipgateError("NOT_FOUND", `${this.name} has no image "${reference}"`, {
        hint: this.describeImages(),
      });
    }
    return image;
  }

  /** For messages: the archive's tags and `@N` indices. */
  describeImages(): string {
    const tags = this.images.flatMap((m) => m.repoTags);
    const indices = this.images.length === 1 ? "@0" : `@0…@${this.images.length - 1}`;
    return `${tags.length > 0 ? `available: ${tags.join(", ")}; ` : ""}images by position: ${indices}`;
  }

  async getManifest(reference: string): Promise<ManifestBlob> {
    const { manifest } = this.find(reference);
    return { bytes: manifest.bytes, mediaType: manifest.mediaType, digest: manifest.digest };
  }

  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const source = this.blobs.get(descriptor.digest);
    if (source === undefined)
      throw new ShipgateError("NOT_FOUND", `${this.name} holds no blob ${descriptor.digest}`);
    const raw = this.tar.open(source.entry);
    if (!source.gunzip) return raw;
    // pipeline destroys both on failure, so a consumer of the gunzip end sees the error.
    return pipeline(raw, createGunzip(), () => undefined);
  }

  async *listTags(): AsyncIterable<string> {
    for (const image of this.images) yield* image.repoTags;
  }

  /** An archive has no referrers: `docker save` does not carry signatures or attestations. */
  async listReferrers(): Promise<Descriptor[]> {
    return [];
  }
}

/** Compressed archives (`docker save | gzip`) cannot be read by byte range; say so instead of "not a tar". */
async function refuseCompressed(path: string): Promise<void> {
  const info = await stat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new ShipgateError("NOT_FOUND", `${path} does not exist`);
    throw new ShipgateError("IO", `${path}: ${(error as Error).message}`, { cause: error });
  });
  if (!info.isFile()) throw invalid(path, "is not a file");
  const handle = await open(path, "r");
  const head = Buffer.alloc(6);
  try {
    await handle.read(head, 0, 6, 0);
  } finally {
    await handle.close();
  }
  const compression = compressionOf(head);
  if (compression !== undefined) {
    throw new ShipgateError(
      "ARCHIVE_INVALID",
      `${path} is ${compression}-compressed; shipgate reads uncompressed docker-archive tars`,
      {
        hint: compression === "gzip" ? `decompress it first, e.g. gunzip -k ${path}` : "decompress it first",
      },
    );
  }
}

/** Builds the Docker v2 schema 2 manifest for one manifest.json item, registering its blobs. */
async function synthesize(
  tar: TarIndex,
  item: unknown,
  position: number,
  mode: LayerDescription,
  blobs: Map<string, BlobSource>,
): Promise<ArchiveImage> {
  const where = `manifest.json[${position}]`;
  if (typeof item !== "object" || item === null) throw invalid(tar.file, `${where} is not an object`);
  const { Config, RepoTags, Layers } = item as Record<string, unknown>;
  if (typeof Config !== "string") throw invalid(tar.file, `${where} has no Config`);
  if (!stringArray(Layers)) throw invalid(tar.file, `${where} has no Layers list`);
  // `docker save IMAGE-ID` writes RepoTags: null.
  if (RepoTags !== null && RepoTags !== undefined && !stringArray(RepoTags))
    throw invalid(tar.file, `${where}.RepoTags is not a list`);

  const configEntry = tar.resolve(Config, `${where}.Config`);
  const configBytes = await tar.read(configEntry, JSON_SIZE_LIMIT, `config ${Config}`);
  let diffIds: unknown;
  try {
    diffIds = (JSON.parse(configBytes.toString("utf8")) as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs
      ?.diff_ids;
  } catch (error) {
    throw invalid(tar.file, `config ${Config} is not JSON (${(error as Error).message})`);
  }
  if (!stringArray(diffIds) || !diffIds.every(isDigest))
    throw invalid(tar.file, `config ${Config} has no valid rootfs.diff_ids`);
  if (diffIds.length !== Layers.length) {
    throw invalid(
      tar.file,
      `${where} lists ${Layers.length} layers but its config has ${diffIds.length} diff_ids`,
    );
  }
  blobs.set(configEntry.digest, { entry: configEntry, gunzip: false });

  const layers = Layers.map((path, i): Descriptor => {
    const entry = tar.resolve(path, `${where}.Layers[${i}]`);
    const diffId = diffIds[i] as string;
    if (entry.compression !== undefined && entry.compression !== "gzip") {
      throw new ShipgateError(
        "UNSUPPORTED",
        `${tar.file}: layer ${path} is ${entry.compression}-compressed`,
        {
          hint: "docker-archive layers are plain or gzip-compressed tars",
        },
      );
    }
    const gzip = entry.compression === "gzip";
    if (gzip && entry.uncompressed === undefined)
      throw invalid(tar.file, `layer ${path} starts like gzip but is not valid gzip`);
    const content = gzip
      ? (entry.uncompressed as { digest: string; size: number })
      : { digest: entry.digest, size: entry.size };
    // The diff_id is the digest of the uncompressed layer; a mismatch means a corrupted or substituted layer.
    if (content.digest !== diffId) {
      throw invalid(
        tar.file,
        `layer ${path} has content ${content.digest}, but the config's diff_ids[${i}] is ${diffId}`,
      );
    }
    // Key order follows Go's Schema2Descriptor (mediaType, size, digest) so "skopeo" mode is byte-identical.
    if (mode === "skopeo") {
      blobs.set(diffId, { entry, gunzip: gzip });
      return { mediaType: MediaType.dockerLayerGzip, size: content.size, digest: diffId };
    }
    blobs.set(entry.digest, { entry, gunzip: false });
    return {
      mediaType: gzip ? MediaType.dockerLayerGzip : DOCKER_LAYER_TAR,
      size: entry.size,
      digest: entry.digest,
    };
  });

  const document = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, size: configEntry.size, digest: configEntry.digest },
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(document));
  return {
    index: position,
    repoTags: stringArray(RepoTags) ? RepoTags : [],
    manifest: { bytes, mediaType: MediaType.dockerManifest, digest: digestOf(bytes) },
  };
}
