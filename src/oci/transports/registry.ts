import type { Readable } from "node:stream";
import { ShipgateError } from "../../errors.js";
import { digestOf } from "../digest.js";
import { type Descriptor, parseManifest } from "../manifest.js";
import { MediaType } from "../mediatypes.js";
import { formatReference, type Reference } from "../reference.js";
import { addToFallbackIndex, fallbackTag, filterByArtifactType, referrerDescriptor } from "../referrers.js";
import { RegistryClient } from "../registry/client.js";
import type { RegistryOptions } from "../registry/http.js";
import type { ImageDest, ImageSource, ManifestBlob, WriteBlobOptions } from "./types.js";

export interface RegistryRepositoryOptions extends RegistryOptions {
  /** Upload blobs in PATCH chunks of this many bytes instead of one streamed PUT. */
  chunkSize?: number;
}

/** Clients are shared per registry host so tokens and keep-alive connections are reused across repositories. */
const clients = new Map<string, RegistryClient>();
/** Every client made, shared or not, so closeClients() leaves no keep-alive socket open. */
const allClients = new Set<RegistryClient>();

function track(client: RegistryClient): RegistryClient {
  allClients.add(client);
  return client;
}

export function clientFor(registry: string, options: RegistryOptions = {}): RegistryClient {
  // Explicit credentials, environment or retry policy make a client of their own, never shared.
  if (options.credentials !== undefined || options.env !== undefined || options.retry !== undefined) {
    return track(new RegistryClient(registry, options));
  }
  const key = `${registry}|${options.insecure ? "insecure" : ""}|${options.caFile ?? ""}`;
  let client = clients.get(key);
  if (client === undefined) {
    client = track(new RegistryClient(registry, options));
    clients.set(key, client);
  }
  return client;
}

export async function closeClients(): Promise<void> {
  const all = [...allClients];
  clients.clear();
  allClients.clear();
  await Promise.all(all.map((c) => c.close()));
}

/** A repository in a registry (`docker://`), as an image source and destination. */
export class RegistryRepository implements ImageSource, ImageDest {
  readonly name: string;
  readonly defaultReference: string | undefined;
  readonly client: RegistryClient;
  readonly repository: string;
  /** The final PUT of every upload carries `?digest=`, which the registry must check (distribution-spec). */
  readonly verifiesDigests = true;
  /** Fallback-index updates for one subject must not interleave, or one writer loses the other's entry. */
  private readonly fallbackLocks = new Map<string, Promise<void>>();

  constructor(
    readonly reference: Reference,
    private readonly options: RegistryRepositoryOptions = {},
  ) {
    this.client = clientFor(reference.registry, options);
    this.repository = reference.repository;
    this.name = `docker://${formatReference({ ...reference, tag: undefined, digest: undefined })}`;
    this.defaultReference = reference.digest ?? reference.tag;
  }

  get registry(): string {
    return this.reference.registry;
  }

  getManifest(reference: string): Promise<ManifestBlob> {
    return this.client.getManifest(this.repository, reference);
  }

  openBlob(descriptor: Descriptor): Promise<Readable> {
    return this.client.getBlob(this.repository, descriptor.digest);
  }

  listTags(): AsyncIterable<string> {
    return this.client.listTags(this.repository);
  }

  /** The referrers API when the registry has it, else the `sha256-<hex>` fallback index. */
  async listReferrers(digest: string, artifactType?: string): Promise<Descriptor[]> {
    const answer = await this.client.referrers(this.repository, digest, artifactType);
    if (answer.supported) return answer.descriptors;
    const head = await this.client.headManifest(this.repository, fallbackTag(digest));
    if (head === undefined) return [];
    const index = await this.client.getManifest(this.repository, head.digest);
    const parsed = parseManifest(index.bytes, index.mediaType, `referrers fallback ${fallbackTag(digest)}`);
    if (parsed.kind !== "index") return [];
    return filterByArtifactType(parsed.manifest.manifests, artifactType);
  }

  blobExists(descriptor: Descriptor): Promise<boolean> {
    return this.client.blobExists(this.repository, descriptor.digest);
  }

  async writeBlob(descriptor: Descriptor, content: Readable, _options?: WriteBlobOptions): Promise<void> {
    if (this.options.chunkSize !== undefined) {
      await this.client.uploadBlobChunked(this.repository, descriptor, content, this.options.chunkSize);
    } else {
      await this.client.uploadBlob(this.repository, descriptor, content);
    }
  }

  async mountBlob(descriptor: Descriptor, source: ImageSource): Promise<boolean> {
    if (!(source instanceof RegistryRepository)) return false;
    if (source.registry !== this.registry || source.repository === this.repository) return false;
    return this.client.mountBlob(this.repository, descriptor.digest, source.repository);
  }

  async manifestExists(digest: string): Promise<boolean> {
    return (await this.client.headManifest(this.repository, digest)) !== undefined;
  }

  async writeManifest(manifest: ManifestBlob, tag?: string): Promise<void> {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType, `manifest ${manifest.digest}`);
    const { subject } = await this.client.putManifest(this.repository, tag ?? manifest.digest, manifest);
    const wanted = parsed.manifest.subject;
    // A registry that processed the subject says so with OCI-Subject; otherwise keep the fallback index.
    if (wanted !== undefined && subject === undefined) {
      await this.recordInFallback(wanted.digest, referrerDescriptor(manifest, parsed));
    }
  }

  private recordInFallback(subjectDigest: string, referrer: Descriptor): Promise<void> {
    const previous = this.fallbackLocks.get(subjectDigest) ?? Promise.resolve();
    const next = previous.then(async () => {
      const tag = fallbackTag(subjectDigest);
      const head = await this.client.headManifest(this.repository, tag);
      const existing =
        head === undefined ? undefined : await this.client.getManifest(this.repository, head.digest);
      const bytes = addToFallbackIndex(existing, referrer);
      if (bytes === undefined) return;
      await this.client.putManifest(this.repository, tag, {
        bytes,
        mediaType: MediaType.ociIndex,
        digest: digestOf(bytes),
      });
    });
    this.fallbackLocks.set(
      subjectDigest,
      next.catch(() => undefined),
    );
    return next;
  }

  async resolve(reference: string): Promise<string> {
    const head = await this.client.headManifest(this.repository, reference);
    if (head === undefined) {
      throw new ShipgateError("NOT_FOUND", `${this.name}:${reference} not found`, {
        hint: `list the tags with: shipgate tags ${this.registry}/${this.repository}`,
      });
    }
    return head.digest;
  }
}
