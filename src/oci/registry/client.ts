import { Readable } from "node:stream";
import { ShipgateError } from "../../errors.js";
import { digestOf, verifyBytes } from "../digest.js";
import { type Descriptor, MANIFEST_SIZE_LIMIT, parseManifest } from "../manifest.js";
import { MediaType, manifestAccept } from "../mediatypes.js";
import type { ManifestBlob } from "../transports/types.js";
import { header, RegistryHttp, type RegistryOptions, type RegistryResponse } from "./http.js";

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface ReferrersAnswer {
  /** False when the registry has no referrers API (answered 404): use the tag-schema fallback. */
  supported: boolean;
  descriptors: Descriptor[];
}

/** Tags are listed in pages of this size; distribution accepts it and it keeps answers small. */
const TAG_PAGE_SIZE = 1000;

const pull = (repo: string) => [`repository:${repo}:pull`];
const push = (repo: string) => [`repository:${repo}:pull,push`];

/**
 * The distribution-spec operations on one registry. Every method takes the
 * repository path; the registry host is fixed per client.
 */
export class RegistryClient {
  readonly http: RegistryHttp;

  constructor(
    readonly registry: string,
    options: RegistryOptions = {},
  ) {
    this.http = new RegistryHttp(registry, options);
  }

  private label(repo: string, reference?: string): string {
    if (reference === undefined) return `${this.registry}/${repo}`;
    return `${this.registry}/${repo}${reference.includes(":") ? "@" : ":"}${reference}`;
  }

  async ping(): Promise<void> {
    await this.http.baseUrl();
  }

  /** Checks the credentials work by asking for a catalog-free scope: a pull token for any repository. */
  async checkLogin(): Promise<void> {
    const response = await this.http.request({
      method: "GET",
      path: "/v2/",
      scopes: [],
      expect: [200],
      what: `login to ${this.registry}`,
    });
    await response.body.dump();
  }

  async getManifest(repo: string, reference: string): Promise<ManifestBlob> {
    const what = `manifest ${this.label(repo, reference)}`;
    const response = await this.http.request({
      method: "GET",
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: manifestAccept },
      scopes: pull(repo),
      expect: [200],
      what,
    });
    const declared = Number(header(response, "content-length"));
    if (Number.isFinite(declared) && declared > MANIFEST_SIZE_LIMIT) {
      response.body.destroy();
      throw new ShipgateError(
        "MANIFEST_TOO_LARGE",
        `${what}: ${declared} bytes, over the ${MANIFEST_SIZE_LIMIT}-byte limit`,
      );
    }
    const bytes = await readCapped(response, MANIFEST_SIZE_LIMIT, what);
    const contentType = header(response, "content-type");
    const parsed = parseManifest(bytes, contentType, what);
    if (reference.includes(":")) {
      verifyBytes(bytes, reference, what);
    } else {
      const served = header(response, "docker-content-digest");
      const computed = digestOf(bytes);
      if (served?.startsWith("sha256:") && served !== computed) {
        throw new ShipgateError(
          "DIGEST_MISMATCH",
          `${what}: registry says ${served} but the bytes hash to ${computed}`,
        );
      }
    }
    const digest = reference.includes(":") ? reference : digestOf(bytes);
    return { bytes, mediaType: parsed.mediaType, digest };
  }

  /** HEAD a manifest; undefined when it does not exist. */
  async headManifest(repo: string, reference: string): Promise<ManifestHead | undefined> {
    const response = await this.http.request({
      method: "HEAD",
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: manifestAccept },
      scopes: pull(repo),
      expect: [200, 404],
      what: `manifest ${this.label(repo, reference)}`,
    });
    await response.body.dump();
    if (response.status === 404) return undefined;
    const digest = header(response, "docker-content-digest");
    const mediaType = header(response, "content-type")?.split(";")[0] ?? "";
    const size = Number(header(response, "content-length") ?? "0");
    if (digest === undefined) {
      // Some registries omit the digest on HEAD: fetch the bytes once to know it.
      const blob = await this.getManifest(repo, reference);
      return { digest: blob.digest, mediaType: blob.mediaType, size: blob.bytes.length };
    }
    return { digest, mediaType, size };
  }

  /** PUTs a manifest under a tag or its digest; returns the `OCI-Subject` header when the registry sent one. */
  async putManifest(
    repo: string,
    reference: string,
    manifest: ManifestBlob,
  ): Promise<{ subject: string | undefined }> {
    const response = await this.http.request({
      method: "PUT",
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { "content-type": manifest.mediaType },
      body: manifest.bytes,
      scopes: push(repo),
      expect: [201, 200],
      what: `push manifest ${this.label(repo, reference)}`,
    });
    await response.body.dump();
    const returned = header(response, "docker-content-digest");
    if (returned !== undefined && returned.startsWith("sha256:") && returned !== manifest.digest) {
      throw new ShipgateError(
        "DIGEST_MISMATCH",
        `push manifest ${this.label(repo, reference)}: registry stored ${returned}, expected ${manifest.digest}`,
      );
    }
    return { subject: header(response, "oci-subject") };
  }

  async deleteManifest(repo: string, reference: string): Promise<void> {
    const response = await this.http.request({
      method: "DELETE",
      path: `/v2/${repo}/manifests/${reference}`,
      scopes: [`repository:${repo}:delete`, ...push(repo)],
      expect: [202, 200],
      what: `delete ${this.label(repo, reference)}`,
    });
    await response.body.dump();
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const response = await this.http.request({
      method: "HEAD",
      path: `/v2/${repo}/blobs/${digest}`,
      scopes: pull(repo),
      expect: [200, 404],
      what: `blob ${this.label(repo, digest)}`,
    });
    await response.body.dump();
    return response.status === 200;
  }

  /** The blob as a stream (redirects followed). Callers verify it. */
  async getBlob(repo: string, digest: string): Promise<Readable> {
    const response = await this.http.request({
      method: "GET",
      path: `/v2/${repo}/blobs/${digest}`,
      scopes: pull(repo),
      expect: [200],
      what: `blob ${this.label(repo, digest)}`,
    });
    return response.body;
  }

  /** Tries a cross-repository mount; false when the registry started an upload instead. */
  async mountBlob(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    const query = new URLSearchParams({ mount: digest, from: fromRepo });
    const response = await this.http.request({
      method: "POST",
      path: `/v2/${repo}/blobs/uploads/?${query}`,
      scopes: [...push(repo), ...pull(fromRepo)],
      expect: [201, 202],
      what: `mount blob ${digest} from ${fromRepo} into ${this.label(repo)}`,
    });
    await response.body.dump();
    if (response.status === 202) await this.cancelUpload(repo, response);
    return response.status === 201;
  }

  private async cancelUpload(repo: string, started: RegistryResponse): Promise<void> {
    const location = header(started, "location");
    if (location === undefined) return;
    try {
      const r = await this.http.request({
        method: "DELETE",
        path: new URL(location, started.url).toString(),
        scopes: push(repo),
        expect: [204, 200, 202, 404],
        what: "cancel upload",
      });
      await r.body.dump();
    } catch {
      // An abandoned upload session expires on its own; cancelling is a courtesy.
    }
  }

  private async startUpload(repo: string, digest: string): Promise<URL> {
    const response = await this.http.request({
      method: "POST",
      path: `/v2/${repo}/blobs/uploads/`,
      scopes: push(repo),
      expect: [202],
      what: `start upload of ${digest} to ${this.label(repo)}`,
    });
    await response.body.dump();
    const location = header(response, "location");
    if (location === undefined) {
      throw new ShipgateError(
        "REGISTRY_ERROR",
        `${this.registry} started an upload without a Location header`,
      );
    }
    return new URL(location, response.url);
  }

  /**
   * Uploads a blob in one PUT with a streamed body. The registry hashes what
   * it receives and refuses the PUT when the digest differs (distribution-spec
   * requires it), so a truncated or corrupted stream never becomes a blob.
   */
  async uploadBlob(repo: string, descriptor: Descriptor, content: Readable): Promise<void> {
    const location = await this.startUpload(repo, descriptor.digest);
    location.searchParams.set("digest", descriptor.digest);
    const response = await this.http.request({
      method: "PUT",
      path: location.toString(),
      headers: { "content-type": "application/octet-stream", "content-length": String(descriptor.size) },
      body: content,
      scopes: push(repo),
      expect: [201],
      what: `upload blob ${descriptor.digest} to ${this.label(repo)}`,
    });
    await response.body.dump();
  }

  /**
   * Uploads a blob in PATCH chunks of `chunkSize` bytes, for registries or
   * proxies that cap request sizes. Each chunk is streamed, not held: memory
   * stays bounded whatever the chunk size and however many blobs are in
   * flight. A failed chunk fails the upload; the caller starts it over.
   */
  async uploadBlobChunked(
    repo: string,
    descriptor: Descriptor,
    content: Readable,
    chunkSize: number,
  ): Promise<void> {
    let location = await this.startUpload(repo, descriptor.digest);
    const source = new ChunkReader(content);
    for (let offset = 0; offset < descriptor.size; ) {
      const length = Math.min(chunkSize, descriptor.size - offset);
      const response = await this.http.request({
        method: "PATCH",
        path: location.toString(),
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(length),
          "content-range": `${offset}-${offset + length - 1}`,
        },
        body: Readable.from(source.take(length), { objectMode: false }),
        scopes: push(repo),
        expect: [202],
        what: `upload chunk of ${descriptor.digest} to ${this.label(repo)}`,
      });
      await response.body.dump();
      offset += length;
      const next = header(response, "location");
      if (next !== undefined) location = new URL(next, response.url);
    }
    await source.expectEnd(`blob ${descriptor.digest}`, descriptor.size);
    location.searchParams.set("digest", descriptor.digest);
    const response = await this.http.request({
      method: "PUT",
      path: location.toString(),
      headers: { "content-length": "0" },
      body: new Uint8Array(0),
      scopes: push(repo),
      expect: [201],
      what: `finish upload of ${descriptor.digest} to ${this.label(repo)}`,
    });
    await response.body.dump();
  }

  /** Pushes a small blob held in memory (configs, empty descriptors, signature payloads). */
  async uploadBytes(repo: string, bytes: Uint8Array, digest = digestOf(bytes)): Promise<Descriptor> {
    const descriptor = { mediaType: MediaType.ociEmpty, digest, size: bytes.length };
    if (!(await this.blobExists(repo, digest))) {
      const location = await this.startUpload(repo, digest);
      location.searchParams.set("digest", digest);
      const response = await this.http.request({
        method: "PUT",
        path: location.toString(),
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
        scopes: push(repo),
        expect: [201],
        what: `upload blob ${digest} to ${this.label(repo)}`,
      });
      await response.body.dump();
    }
    return descriptor;
  }

  /** Every tag, following `Link` pagination (`n`, `last`). */
  async *listTags(repo: string): AsyncIterable<string> {
    let path: string | undefined = `/v2/${repo}/tags/list?n=${TAG_PAGE_SIZE}`;
    while (path !== undefined) {
      const response: RegistryResponse = await this.http.request({
        method: "GET",
        path,
        scopes: pull(repo),
        expect: [200],
        what: `tags of ${this.label(repo)}`,
      });
      const page = (await response.body.json()) as { tags?: string[] | null };
      const tags = page.tags ?? [];
      yield* tags;
      path = nextPage(header(response, "link"));
      // Registries that ignore `n` but honour `last` still page correctly; ones that send no Link are done.
    }
  }

  /** Every repository in the registry's catalog, following pagination. */
  async *catalog(): AsyncIterable<string> {
    let path: string | undefined = `/v2/_catalog?n=${TAG_PAGE_SIZE}`;
    while (path !== undefined) {
      const response: RegistryResponse = await this.http.request({
        method: "GET",
        path,
        scopes: ["registry:catalog:*"],
        expect: [200],
        what: `catalog of ${this.registry}`,
      });
      const page = (await response.body.json()) as { repositories?: string[] | null };
      yield* page.repositories ?? [];
      path = nextPage(header(response, "link"));
    }
  }

  /** The OCI 1.1 referrers API, paginated and filtered by artifactType. */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<ReferrersAnswer> {
    const descriptors: Descriptor[] = [];
    let path: string | undefined =
      `/v2/${repo}/referrers/${digest}` +
      (artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "");
    while (path !== undefined) {
      const response: RegistryResponse = await this.http.request({
        method: "GET",
        path,
        headers: { accept: MediaType.ociIndex },
        scopes: pull(repo),
        expect: [200, 404],
        what: `referrers of ${this.label(repo, digest)}`,
      });
      if (response.status === 404) {
        await response.body.dump();
        return { supported: false, descriptors: [] };
      }
      const contentType = header(response, "content-type") ?? "";
      const text = await response.body.text();
      let index: { manifests?: Descriptor[] };
      try {
        index = JSON.parse(text) as { manifests?: Descriptor[] };
      } catch {
        // A registry without the API that answers 200 with HTML or a catch-all page.
        return { supported: false, descriptors: [] };
      }
      if (!contentType.startsWith(MediaType.ociIndex) && !Array.isArray(index.manifests)) {
        return { supported: false, descriptors: [] };
      }
      let page = index.manifests ?? [];
      // The spec lets a registry ignore the filter; it then omits the OCI-Filters-Applied header.
      if (artifactType && !(header(response, "oci-filters-applied") ?? "").includes("artifactType")) {
        page = page.filter((d) => d.artifactType === artifactType);
      }
      descriptors.push(...page);
      path = nextPage(header(response, "link"));
    }
    return { supported: true, descriptors };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** The next page from an RFC 5988 `Link: </v2/...?n=..&last=..>; rel="next"` header. */
export function nextPage(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  return match?.[1];
}

async function readCapped(response: RegistryResponse, limit: number, what: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      response.body.destroy();
      throw new ShipgateError("MANIFEST_TOO_LARGE", `${what}: manifest is over the ${limit}-byte limit`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Hands out a stream's bytes in runs of exact lengths, one run at a time, without copying them. */
class ChunkReader {
  private readonly iterator: AsyncIterator<unknown>;
  private carry: Buffer | undefined;

  constructor(stream: Readable) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  async *take(length: number): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      let buf = this.carry;
      this.carry = undefined;
      if (buf === undefined) {
        const next = await this.iterator.next();
        if (next.done) {
          throw new ShipgateError("DIGEST_MISMATCH", `the source ended ${left} bytes early`);
        }
        buf = next.value as Buffer;
      }
      if (buf.length > left) {
        this.carry = buf.subarray(left);
        buf = buf.subarray(0, left);
      }
      left -= buf.length;
      yield buf;
    }
  }

  /** The stream must hold no more than was declared: a longer blob is not the one described. */
  async expectEnd(what: string, size: number): Promise<void> {
    const extra = this.carry !== undefined && this.carry.length > 0 ? this.carry : undefined;
    const next = extra === undefined ? await this.iterator.next() : { done: false };
    if (!next.done) {
      throw new ShipgateError(
        "DIGEST_MISMATCH",
        `${what}: the source holds more than the ${size} bytes declared`,
      );
    }
  }
}
