// A small in-memory registry that follows the OCI distribution-spec v1.1
// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md),
// including the referrers API that Debian's docker-registry 2.8 lacks. Tests use
// it for code paths that depend on `OCI-Subject` and GET /referrers; with
// `referrersApi: false` it behaves like a pre-1.1 registry, so the
// referrers-tag fallback can be exercised against the same server.
//
// node:http only, nothing on disk, no auth. It is strict where the spec lets a
// registry be strict (digests, names, Content-Type vs mediaType, missing blobs),
// because a test registry that accepts sloppy requests hides client bugs.
import { createHash, randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listen } from "./util.js";

export interface Oci11RegistryOptions {
  /** Serve GET /v2/<name>/referrers/<digest> and answer `OCI-Subject` (default true). */
  referrersApi?: boolean;
  /** Allow DELETE /v2/<name>/manifests/<tag> (default true); otherwise 400 UNSUPPORTED. */
  deleteByTag?: boolean;
  /** Largest page tags/list and _catalog return, whatever `n` asks for (default: no cap). */
  tagPageMax?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path plus query string, exactly as received. */
  path: string;
}

export interface Oci11Registry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT" */
  url: string;
  /** Every request served, in arrival order. */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** The parts of a manifest (image manifest or index) the registry looks at; everything else is opaque. */
interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  urls?: unknown;
}
interface ManifestJson {
  mediaType?: unknown;
  artifactType?: unknown;
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  annotations?: unknown;
}
interface StoredManifest {
  bytes: Buffer; // exactly as pushed: the digest is over these bytes
  mediaType: string; // the Content-Type it was pushed with, served back on GET
  json: ManifestJson;
  subject?: string;
}
interface Repo {
  blobs: Set<string>; // digests linked into this repository; content lives in the shared store
  manifests: Map<string, StoredManifest>; // by digest, in push order
  tags: Map<string, string>; // tag -> manifest digest
}
interface Upload {
  repo: string;
  chunks: Buffer[];
  size: number;
}
interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  name: string; // repository, already validated
  arg: string; // the route's last path segment (digest, reference or upload id)
  query: URLSearchParams;
}
type Handler = (ctx: Ctx) => void | Promise<void>;

// Regular expressions straight from the spec ("Pulling manifests") and image-spec descriptor.md.
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024; // the spec says registries should accept at least 4 MB
const INDEX_TYPE = "application/vnd.oci.image.index.v1+json";
const IMAGE_MANIFEST_TYPES = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);

const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;
/** Well-formed per image-spec; sha256 (the only algorithm registered with a fixed form) must be 64 lowercase hex. */
const validDigest = (d: string): boolean =>
  DIGEST_RE.test(d) && (!d.startsWith("sha256:") || SHA256_RE.test(d));
const refKind = (ref: string): "digest" | "tag" | undefined =>
  ref.includes(":") ? (validDigest(ref) ? "digest" : undefined) : TAG_RE.test(ref) ? "tag" : undefined;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string = "",
): void {
  const buf = typeof body === "string" ? Buffer.from(body) : body;
  // A 204 must not carry Content-Length (RFC 9110 8.6); everything else states it, HEAD included.
  res.writeHead(status, status === 204 ? headers : { ...headers, "Content-Length": String(buf.length) });
  res.end(buf); // Node drops the body of HEAD responses itself
}

/** The spec's error body: {"errors":[{code,message,detail}]}. */
function fail(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  detail: unknown = {},
): void {
  send(
    res,
    status,
    { "Content-Type": "application/json" },
    JSON.stringify({ errors: [{ code, message, detail }] }),
  );
}

/** The whole request body, or undefined once it exceeds `limit` (the rest is drained, so the connection stays usable). */
async function readBody(req: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/** The type a referrers list reports: artifactType if set, else (image manifests only) the config's mediaType. */
function artifactTypeOf(json: ManifestJson): string | undefined {
  if (typeof json.artifactType === "string" && json.artifactType !== "") return json.artifactType;
  return typeof json.config?.mediaType === "string" ? json.config.mediaType : undefined;
}

export async function startOci11Registry(options: Oci11RegistryOptions = {}): Promise<Oci11Registry> {
  const referrersApi = options.referrersApi ?? true;
  const deleteByTag = options.deleteByTag ?? true;
  const pageMax = options.tagPageMax ?? Number.POSITIVE_INFINITY;
  const content = new Map<string, Buffer>(); // blob bytes by digest, shared by all repositories
  const repos = new Map<string, Repo>();
  const uploads = new Map<string, Upload>();
  const requests: RecordedRequest[] = [];

  // Repositories come into existence when a blob or manifest lands in them, as in distribution.
  const repoOf = (name: string): Repo => {
    const repo = repos.get(name) ?? { blobs: new Set(), manifests: new Map(), tags: new Map() };
    repos.set(name, repo);
    return repo;
  };
  const hasBlob = (name: string, digest: string): boolean => repos.get(name)?.blobs.has(digest) ?? false;
  const uploadHeaders = (name: string, id: string, size: number): Record<string, string> => ({
    Location: `/v2/${name}/blobs/uploads/${id}`,
    // Inclusive end of what was received; distribution says "0-0" for an empty upload and clients expect it.
    Range: `0-${Math.max(size - 1, 0)}`,
    "Docker-Upload-UUID": id,
  });

  /** Verify and store a finished upload: 201 with the blob's location, or 400 DIGEST_INVALID. */
  function commitBlob(res: ServerResponse, name: string, expected: string | null, data: Buffer) {
    if (expected === null || !validDigest(expected))
      return fail(res, 400, "DIGEST_INVALID", "a valid ?digest= is required", { digest: expected });
    const actual = sha256(data);
    if (actual !== expected)
      return fail(res, 400, "DIGEST_INVALID", "content does not match digest", { expected, actual });
    content.set(actual, data);
    repoOf(name).blobs.add(actual);
    send(res, 201, { Location: `/v2/${name}/blobs/${actual}`, "Docker-Content-Digest": actual });
  }

  /** Append a chunk, enforcing in-order `Content-Range: start-end` when given. Returns false after answering 416. */
  function appendChunk(ctx: Ctx, upload: Upload, data: Buffer): boolean {
    const range = ctx.req.headers["content-range"];
    if (range !== undefined) {
      const m = /^(\d+)-(\d+)$/.exec(range);
      const start = Number(m?.[1]);
      const end = Number(m?.[2]);
      if (!m || start !== upload.size || end - start + 1 !== data.length) {
        // Tell the client where the upload really stands, so it can resume (spec: "after a 416 error").
        ctx.res.setHeader("Location", `/v2/${ctx.name}/blobs/uploads/${ctx.arg}`);
        ctx.res.setHeader("Range", `0-${Math.max(upload.size - 1, 0)}`);
        fail(ctx.res, 416, "BLOB_UPLOAD_INVALID", `chunk ${range} does not continue at byte ${upload.size}`);
        return false;
      }
    }
    upload.chunks.push(data);
    upload.size += data.length;
    return true;
  }

  /** The session behind an upload URL; a session is only valid under the repository that opened it. */
  function sessionOf(ctx: Ctx): Upload | undefined {
    const upload = uploads.get(ctx.arg);
    if (upload?.repo === ctx.name) return upload;
    fail(ctx.res, 404, "BLOB_UPLOAD_UNKNOWN", "upload unknown", { id: ctx.arg });
    return undefined;
  }

  const startUpload: Handler = async (ctx) => {
    const { res, name, query } = ctx;
    const algorithm = query.get("digest-algorithm");
    if (algorithm !== null && algorithm !== "sha256")
      return fail(res, 400, "UNSUPPORTED", `digest algorithm ${algorithm} is not supported`);
    const mount = query.get("mount");
    if (mount !== null) {
      if (!validDigest(mount))
        return fail(res, 400, "DIGEST_INVALID", "invalid mount digest", { digest: mount });
      // Content is shared, but access is per repository: only mount what `from` really holds,
      // otherwise a client could link any blob it knows the digest of. Failure is not an error:
      // the spec says to answer 202 with a fresh session so the client uploads instead.
      const from = query.get("from");
      if (from !== null && hasBlob(from, mount)) {
        repoOf(name).blobs.add(mount);
        return send(res, 201, { Location: `/v2/${name}/blobs/${mount}`, "Docker-Content-Digest": mount });
      }
    } else if (query.get("digest") !== null) {
      // Single-POST monolithic upload.
      return commitBlob(res, name, query.get("digest"), (await readBody(ctx.req)) ?? Buffer.alloc(0));
    }
    const id = randomUUID();
    uploads.set(id, { repo: name, chunks: [], size: 0 });
    send(res, 202, uploadHeaders(name, id, 0));
  };

  const uploadStatus: Handler = (ctx) => {
    const upload = sessionOf(ctx);
    if (upload) send(ctx.res, 204, uploadHeaders(ctx.name, ctx.arg, upload.size));
  };

  const patchUpload: Handler = async (ctx) => {
    const upload = sessionOf(ctx);
    if (!upload) return;
    if (appendChunk(ctx, upload, (await readBody(ctx.req)) ?? Buffer.alloc(0)))
      send(ctx.res, 202, uploadHeaders(ctx.name, ctx.arg, upload.size));
  };

  const finishUpload: Handler = async (ctx) => {
    const upload = sessionOf(ctx);
    if (!upload) return;
    const last = (await readBody(ctx.req)) ?? Buffer.alloc(0);
    if (
      (last.length > 0 || ctx.req.headers["content-range"] !== undefined) &&
      !appendChunk(ctx, upload, last)
    )
      return;
    // The session ends here whether or not the digest matches: a client that got it wrong starts over.
    uploads.delete(ctx.arg);
    commitBlob(ctx.res, ctx.name, ctx.query.get("digest"), Buffer.concat(upload.chunks));
  };

  const cancelUpload: Handler = (ctx) => {
    if (!sessionOf(ctx)) return;
    uploads.delete(ctx.arg);
    send(ctx.res, 204, {});
  };

  const getBlob: Handler = ({ res, name, arg: digest }) => {
    if (!validDigest(digest)) return fail(res, 400, "DIGEST_INVALID", "invalid digest", { digest });
    const data = content.get(digest);
    if (!data || !hasBlob(name, digest)) return fail(res, 404, "BLOB_UNKNOWN", "blob unknown", { digest });
    send(res, 200, { "Content-Type": "application/octet-stream", "Docker-Content-Digest": digest }, data);
  };

  const deleteBlob: Handler = ({ res, name, arg: digest }) => {
    if (!validDigest(digest)) return fail(res, 400, "DIGEST_INVALID", "invalid digest", { digest });
    if (!hasBlob(name, digest)) return fail(res, 404, "BLOB_UNKNOWN", "blob unknown", { digest });
    repoOf(name).blobs.delete(digest);
    // Drop the bytes once no repository links them, so deletions are observable through mounts too.
    if (![...repos.values()].some((r) => r.blobs.has(digest))) content.delete(digest);
    send(res, 202, {});
  };

  const getManifest: Handler = ({ res, name, arg: ref }) => {
    const kind = refKind(ref);
    if (!kind) return fail(res, 400, "MANIFEST_INVALID", "reference is neither a tag nor a digest", { ref });
    const repo = repos.get(name);
    const digest = kind === "tag" ? repo?.tags.get(ref) : ref;
    const manifest = digest === undefined ? undefined : repo?.manifests.get(digest);
    if (!manifest || digest === undefined)
      return fail(res, 404, "MANIFEST_UNKNOWN", "manifest unknown", { ref });
    send(res, 200, { "Content-Type": manifest.mediaType, "Docker-Content-Digest": digest }, manifest.bytes);
  };

  const putManifest: Handler = async ({ req, res, name, arg: ref }) => {
    const kind = refKind(ref);
    if (!kind) return fail(res, 400, "MANIFEST_INVALID", "reference is neither a tag nor a digest", { ref });
    const bytes = await readBody(req, MAX_MANIFEST_BYTES);
    if (!bytes) return fail(res, 413, "MANIFEST_INVALID", `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`);
    const digest = sha256(bytes);
    if (kind === "digest" && ref !== digest)
      return fail(res, 400, "DIGEST_INVALID", "manifest does not match digest", {
        expected: ref,
        actual: digest,
      });
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString("utf8"));
    } catch {
      return fail(res, 400, "MANIFEST_INVALID", "manifest is not JSON");
    }
    if (!isObject(json)) return fail(res, 400, "MANIFEST_INVALID", "manifest is not a JSON object");
    const manifest = json as ManifestJson;
    const declared = typeof manifest.mediaType === "string" ? manifest.mediaType : undefined;
    // The registry SHOULD ignore Content-Type parameters; it stores and serves the bare type.
    const mediaType = req.headers["content-type"]?.split(";")[0]?.trim() || declared;
    if (!mediaType) return fail(res, 400, "MANIFEST_INVALID", "no Content-Type and no mediaType");
    // Clients MUST send Content-Type equal to the mediaType field; a mismatch is a client bug, so refuse it.
    if (declared !== undefined && declared !== mediaType)
      return fail(res, 400, "MANIFEST_INVALID", "Content-Type does not match mediaType", {
        declared,
        mediaType,
      });
    if (
      manifest.subject !== undefined &&
      !(typeof manifest.subject?.digest === "string" && validDigest(manifest.subject.digest))
    )
      return fail(res, 400, "MANIFEST_INVALID", "subject is not a valid descriptor");
    // Image manifests may only reference blobs this repository holds (a MAY in the spec that catches
    // pushes which skipped a blob). The subject is exempt: a referrer may be pushed before its subject.
    if (IMAGE_MANIFEST_TYPES.has(mediaType) || isObject(manifest.config)) {
      for (const d of [manifest.config, ...(Array.isArray(manifest.layers) ? manifest.layers : [])]) {
        if (isObject(d) && d.urls !== undefined) continue; // foreign layers live elsewhere by design
        const blob = isObject(d) && typeof d.digest === "string" ? d.digest : undefined;
        if (blob === undefined || !hasBlob(name, blob))
          return fail(res, 400, "MANIFEST_BLOB_UNKNOWN", "manifest references an unknown blob", {
            digest: blob,
          });
      }
    }
    const subject = typeof manifest.subject?.digest === "string" ? manifest.subject.digest : undefined;
    const repo = repoOf(name);
    repo.manifests.set(digest, { bytes, mediaType, json: manifest, ...(subject ? { subject } : {}) });
    if (kind === "tag") repo.tags.set(ref, digest);
    const headers: Record<string, string> = {
      Location: `/v2/${name}/manifests/${digest}`,
      "Docker-Content-Digest": digest,
    };
    // OCI-Subject tells the client the registry indexed the subject, so it must not maintain a referrers tag.
    if (subject && referrersApi) headers["OCI-Subject"] = subject;
    send(res, 201, headers);
  };

  const deleteManifest: Handler = ({ res, name, arg: ref }) => {
    const kind = refKind(ref);
    if (!kind) return fail(res, 400, "MANIFEST_INVALID", "reference is neither a tag nor a digest", { ref });
    const repo = repos.get(name);
    if (kind === "tag") {
      if (!deleteByTag) return fail(res, 400, "UNSUPPORTED", "deleting tags is disabled; delete by digest");
      if (!repo?.tags.delete(ref)) return fail(res, 404, "MANIFEST_UNKNOWN", "tag unknown", { ref });
      return send(res, 202, {});
    }
    if (!repo?.manifests.delete(ref)) return fail(res, 404, "MANIFEST_UNKNOWN", "manifest unknown", { ref });
    // Spec: after deleting a manifest, every tag that pointed at it is gone too.
    for (const [tag, digest] of repo.tags) if (digest === ref) repo.tags.delete(tag);
    send(res, 202, {});
  };

  /** `?n=&last=` pagination shared by tags/list and _catalog; `all` must already be sorted. */
  function paginate(ctx: Ctx, path: string, all: string[], wrap: (items: string[]) => unknown) {
    const nParam = ctx.query.get("n");
    const last = ctx.query.get("last");
    if (nParam !== null && !/^\d+$/.test(nParam))
      return fail(ctx.res, 400, "UNSUPPORTED", "n must be a non-negative integer");
    const n = Math.min(nParam === null ? Number.POSITIVE_INFINITY : Number(nParam), pageMax);
    const from = last === null ? 0 : all.findIndex((item) => item > last); // `last` itself is excluded
    const start = from === -1 ? all.length : from;
    const items = all.slice(start, start + n);
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    // Link only when this page left items out; n=0 must never carry one.
    const lastItem = items.at(-1);
    if (lastItem !== undefined && start + items.length < all.length)
      headers.Link = `<${path}?n=${n}&last=${encodeURIComponent(lastItem)}>; rel="next"`;
    send(ctx.res, 200, headers, JSON.stringify(wrap(items)));
  }

  const listTags: Handler = (ctx) => {
    const repo = repos.get(ctx.name);
    if (!repo) return fail(ctx.res, 404, "NAME_UNKNOWN", "repository unknown", { name: ctx.name });
    // Default string order is code-unit order, i.e. the spec's "ASCIIbetical" for valid tags.
    paginate(ctx, `/v2/${ctx.name}/tags/list`, [...repo.tags.keys()].sort(), (tags) => ({
      name: ctx.name,
      tags,
    }));
  };

  const catalog: Handler = (ctx) =>
    paginate(ctx, "/v2/_catalog", [...repos.keys()].sort(), (repositories) => ({ repositories }));

  const listReferrers: Handler = ({ res, name, arg: subject, query }) => {
    if (!validDigest(subject)) return fail(res, 400, "DIGEST_INVALID", "invalid digest", { digest: subject });
    const filter = query.get("artifactType");
    const manifests: Record<string, unknown>[] = [];
    // Unknown repositories and subjects give an empty index: a 1.1 registry must never 404 here,
    // since clients read a 404 as "no referrers API" and fall back to the tag schema.
    for (const [digest, m] of repos.get(name)?.manifests ?? new Map<string, StoredManifest>()) {
      if (m.subject !== subject) continue;
      const artifactType = artifactTypeOf(m.json);
      if (filter !== null && artifactType !== filter) continue;
      manifests.push({
        mediaType: m.mediaType,
        digest,
        size: m.bytes.length,
        ...(artifactType !== undefined ? { artifactType } : {}),
        ...(isObject(m.json.annotations) ? { annotations: m.json.annotations } : {}),
      });
    }
    const headers: Record<string, string> = { "Content-Type": INDEX_TYPE };
    if (filter !== null) headers["OCI-Filters-Applied"] = "artifactType";
    send(res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests }));
  };

  // First match wins; `(.+)` is the repository name (validated before dispatch). HEAD shares
  // the GET handlers because Node strips HEAD bodies while keeping Content-Length.
  const routes: { re: RegExp; methods: Record<string, Handler> }[] = [
    {
      re: /^\/v2\/$/,
      methods: { GET: ({ res }) => send(res, 200, { "Content-Type": "application/json" }, "{}") },
    },
    { re: /^\/v2\/_catalog$/, methods: { GET: catalog } },
    { re: /^\/v2\/(.+)\/blobs\/uploads\/$/, methods: { POST: startUpload } },
    {
      re: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
      methods: { GET: uploadStatus, PATCH: patchUpload, PUT: finishUpload, DELETE: cancelUpload },
    },
    { re: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
    {
      re: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
      methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
    },
    { re: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: listTags } },
    // Without the referrers API the route does not exist, like on a pre-1.1 registry.
    ...(referrersApi ? [{ re: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: listReferrers } }] : []),
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "";
    requests.push({ method, path: req.url ?? "" });
    res.setHeader("Docker-Distribution-API-Version", "registry/2.0");
    const url = new URL(req.url ?? "/", "http://registry.invalid");
    for (const { re, methods } of routes) {
      const m = re.exec(url.pathname);
      if (!m) continue;
      const handler = methods[method];
      if (!handler) {
        res.setHeader("Allow", Object.keys(methods).join(", "));
        return fail(res, 405, "UNSUPPORTED", `${method} is not allowed here`);
      }
      const name = m[1] === undefined ? "" : decodeURIComponent(m[1]);
      if (m[1] !== undefined && !NAME_RE.test(name))
        return fail(res, 400, "NAME_INVALID", "invalid repository name", { name });
      return handler({ req, res, name, arg: decodeURIComponent(m[2] ?? ""), query: url.searchParams });
    }
    fail(res, 404, "UNSUPPORTED", `no route for ${method} ${url.pathname}`);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug here should fail the test loudly, not hang the client.
      if (!res.headersSent) fail(res, 500, "UNKNOWN", String(err));
      else res.destroy();
    });
  });
  const port = await listen(server);
  const host = `127.0.0.1:${port}`;
  return { host, url: `http://${host}`, requests, stop: () => closeServer(server) };
}
