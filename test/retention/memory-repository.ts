import { digestOf } from "../../src/oci/digest.js";
import type { Descriptor } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { cosignTags, fallbackTag } from "../../src/oci/referrers.js";
import type { ManifestBlob } from "../../src/oci/transports/types.js";
import type { RepositoryReader } from "../../src/retention/inventory.js";

/**
 * An in-memory repository with real manifest and config documents (digests computed from their
 * bytes), for planning tests that need no registry: table tests and 100,000-tag planning.
 */
export class MemoryRepository implements RepositoryReader {
  readonly name: string;
  readonly tags = new Map<string, string>();
  readonly manifests = new Map<string, ManifestBlob>();
  readonly blobs = new Map<string, Uint8Array>();
  /** When set, the repository answers the OCI 1.1 referrers API. */
  referrersApi: Map<string, Descriptor[]> | undefined;
  /** Counts of reads, to check dedupe. */
  readonly reads = { manifests: 0, blobs: 0, referrers: 0 };
  /** Requests in flight now, and the most ever at once (reads yield once, as a network read would). */
  inFlight = 0;
  maxInFlight = 0;
  private counter = 0;

  constructor(name = "docker://memory.test/app") {
    this.name = name;
  }

  private blob(bytes: Uint8Array, mediaType: string): Descriptor {
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  private put(doc: object, tags: string[]): string {
    const bytes = Buffer.from(JSON.stringify(doc));
    const digest = digestOf(bytes);
    const mediaType = (doc as { mediaType: string }).mediaType;
    this.manifests.set(digest, { bytes, mediaType, digest });
    for (const t of tags) this.tags.set(t, digest);
    return digest;
  }

  /** A manifest stored as given (Docker schema 1, foreign types). */
  raw(tags: string[], mediaType: string, text: string): string {
    const bytes = Buffer.from(text);
    const digest = digestOf(bytes);
    this.manifests.set(digest, { bytes, mediaType, digest });
    for (const t of tags) this.tags.set(t, digest);
    return digest;
  }

  /** A one-layer image. `created` goes in the config unless `annotationOnly`. */
  image(
    tags: string[],
    created: string | undefined,
    options: { annotationOnly?: boolean; layers?: Descriptor[]; layerSize?: number } = {},
  ): string {
    const n = this.counter++;
    const config = this.blob(
      Buffer.from(
        JSON.stringify({
          ...(created !== undefined && !options.annotationOnly ? { created } : {}),
          architecture: "amd64",
          os: "linux",
          n,
        }),
      ),
      MediaType.ociConfig,
    );
    const layer = {
      mediaType: MediaType.ociLayerGzip,
      digest: digestOf(Buffer.from(`layer ${n}`)),
      size: options.layerSize ?? 1000,
    };
    return this.put(
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config,
        layers: options.layers ?? [layer],
        ...(created !== undefined && options.annotationOnly
          ? { annotations: { "org.opencontainers.image.created": created } }
          : {}),
      },
      tags,
    );
  }

  index(tags: string[], children: string[], created?: string): string {
    return this.put(
      {
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: children.map((digest, i) => ({
          mediaType: MediaType.ociManifest,
          digest,
          size: this.manifests.get(digest)?.bytes.length ?? 0,
          platform: { os: "linux", architecture: ["amd64", "arm64", "s390x"][i] ?? "riscv64" },
        })),
        ...(created ? { annotations: { "org.opencontainers.image.created": created } } : {}),
      },
      tags,
    );
  }

  private artifact(kind: string, subject: string | undefined, tag: string | undefined): string {
    const n = this.counter++;
    const config = this.blob(Buffer.from("{}"), MediaType.ociEmpty);
    const layer = this.blob(Buffer.from(`${kind} ${n}`), "application/vnd.dev.cosign.simplesigning.v1+json");
    const subjectDescriptor =
      subject === undefined ? undefined : { mediaType: MediaType.ociManifest, digest: subject, size: 1 };
    return this.put(
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: `application/vnd.test.${kind}`,
        config,
        layers: [layer],
        ...(subjectDescriptor ? { subject: subjectDescriptor } : {}),
      },
      tag === undefined ? [] : [tag],
    );
  }

  /** A legacy cosign attachment tag (`sha256-<hex>.sig|.att|.sbom`). */
  cosign(subject: string, which: "sig" | "att" | "sbom" = "sig"): string {
    const tag = cosignTags(subject).find((t) => t.endsWith(`.${which}`)) as string;
    return this.artifact(which, undefined, tag);
  }

  /** An OCI 1.1 referrer recorded in the `sha256-<hex>` fallback index. */
  referrerByFallback(subject: string, kind = "sbom"): string {
    const digest = this.artifact(kind, subject, undefined);
    const tag = fallbackTag(subject);
    const existing = this.tags.get(tag);
    const manifests: Descriptor[] = existing
      ? (
          JSON.parse(Buffer.from((this.manifests.get(existing) as ManifestBlob).bytes).toString()) as {
            manifests: Descriptor[];
          }
        ).manifests
      : [];
    const blob = this.manifests.get(digest) as ManifestBlob;
    manifests.push({
      mediaType: MediaType.ociManifest,
      digest,
      size: blob.bytes.length,
      artifactType: `application/vnd.test.${kind}`,
    });
    this.put({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, [tag]);
    return digest;
  }

  /** An OCI 1.1 referrer the referrers API lists (no tag at all). */
  referrerByApi(subject: string, kind = "sbom"): string {
    const digest = this.artifact(kind, subject, undefined);
    this.referrersApi ??= new Map();
    const blob = this.manifests.get(digest) as ManifestBlob;
    const list = this.referrersApi.get(subject) ?? [];
    list.push({
      mediaType: MediaType.ociManifest,
      digest,
      size: blob.bytes.length,
      artifactType: `application/vnd.test.${kind}`,
    });
    this.referrersApi.set(subject, list);
    return digest;
  }

  async *listTags(): AsyncIterable<string> {
    yield* [...this.tags.keys()].sort();
  }

  private async request(): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight--;
  }

  async manifest(reference: string): Promise<ManifestBlob | undefined> {
    this.reads.manifests++;
    await this.request();
    const digest = reference.includes(":") ? reference : this.tags.get(reference);
    return digest === undefined ? undefined : this.manifests.get(digest);
  }

  async smallBlob(descriptor: Descriptor): Promise<Uint8Array> {
    this.reads.blobs++;
    await this.request();
    const bytes = this.blobs.get(descriptor.digest);
    if (bytes === undefined) throw new Error(`no blob ${descriptor.digest}`);
    return bytes;
  }

  async referrers(digest: string): Promise<Descriptor[] | undefined> {
    this.reads.referrers++;
    return this.referrersApi === undefined ? undefined : (this.referrersApi.get(digest) ?? []);
  }
}
