// Proves the in-memory OCI 1.1 registry: skopeo (an independent client) can push
// and pull through it, and the 1.1 behaviour our code relies on (referrers,
// OCI-Subject, mounts, chunked uploads, tag deletion, pagination) follows the spec.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Oci11Registry, startOci11Registry } from "./oci11-registry.js";
import { skopeoCopy, skopeoInspectDigest, skopeoInspectRaw } from "./skopeo.js";
import { makeTempDir, removeTempDir } from "./util.js";

const OCI_LAYOUT = "/work/shared/images/oci";
const DEBIAN_BASE_DIGEST = "sha256:04768ef3e2f30b0174eb7bc21326f4357276a9ca1ebd91765ca09d836dd327c0";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const EMPTY_JSON = "application/vnd.oci.empty.v1+json";

const sha256 = (b: Buffer | string): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function pushBlob(base: string, repo: string, blob: Buffer | string): Promise<string> {
  const digest = sha256(blob);
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: blob,
  });
  expect(res.status).toBe(201);
  expect(res.headers.get("location")).toBe(`/v2/${repo}/blobs/${digest}`);
  return digest;
}

function putManifest(
  base: string,
  repo: string,
  ref: string,
  manifest: unknown,
  type = OCI_MANIFEST,
): Promise<Response> {
  return fetch(`${base}/v2/${repo}/manifests/${ref}`, {
    method: "PUT",
    headers: { "content-type": type },
    body: JSON.stringify(manifest),
  });
}

/** A tiny image in `repo` (config + one layer), tagged `tag`; returns its manifest digest and size. */
async function pushImage(
  base: string,
  repo: string,
  tag: string,
  layer = "layer",
): Promise<{ digest: string; size: number }> {
  const config = '{"architecture":"amd64","os":"linux"}';
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: await pushBlob(base, repo, config),
      size: config.length,
    },
    layers: [
      {
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: await pushBlob(base, repo, layer),
        size: layer.length,
      },
    ],
  };
  const res = await putManifest(base, repo, tag, manifest);
  expect(res.status).toBe(201);
  const bytes = JSON.stringify(manifest);
  expect(res.headers.get("docker-content-digest")).toBe(sha256(bytes));
  return { digest: sha256(bytes), size: Buffer.byteLength(bytes) };
}

/** An artifact manifest attached to `subject` (empty config, one blob). */
async function artifact(
  base: string,
  repo: string,
  subject: { digest: string; size: number },
  opts: { artifactType?: string; configType?: string; payload: string; annotations?: Record<string, string> },
): Promise<Record<string, unknown>> {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
    config: { mediaType: opts.configType ?? EMPTY_JSON, digest: await pushBlob(base, repo, "{}"), size: 2 },
    layers: [
      {
        mediaType: "text/plain",
        digest: await pushBlob(base, repo, opts.payload),
        size: opts.payload.length,
      },
    ],
    subject: { mediaType: OCI_MANIFEST, ...subject },
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
}

async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code?: string }[] };
  return body.errors?.[0]?.code;
}

describe("oci11 registry with skopeo", () => {
  let reg: Oci11Registry;
  beforeAll(async () => {
    reg = await startOci11Registry();
  });
  afterAll(() => reg?.stop());

  it("answers /v2/ like a registry", async () => {
    expect(reg.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("takes an image from skopeo byte-for-byte and gives it back", { timeout: 60_000 }, async () => {
    await skopeoCopy(`oci:${OCI_LAYOUT}:debian-base`, `docker://${reg.host}/x/debian:base`);
    expect(await skopeoInspectDigest(`docker://${reg.host}/x/debian:base`)).toBe(DEBIAN_BASE_DIGEST);
    // skopeo streams blobs with PATCH and finishes with PUT ?digest=.
    expect(reg.requests.some((r) => r.method === "PATCH")).toBe(true);

    const head = await fetch(`${reg.url}/v2/x/debian/manifests/base`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("docker-content-digest")).toBe(DEBIAN_BASE_DIGEST);
    expect(head.headers.get("content-type")).toBe(OCI_MANIFEST);
    expect(head.headers.get("content-length")).toBe("350");

    // Pull it back out with skopeo and push it to a second repository of the same registry.
    const dir = makeTempDir("oci11-pull");
    try {
      await skopeoCopy(`docker://${reg.host}/x/debian:base`, `oci:${dir}:base`);
      await skopeoCopy(`oci:${dir}:base`, `docker://${reg.host}/y/debian:copy`);
    } finally {
      await removeTempDir(dir);
    }
    const raw = await skopeoInspectRaw(`docker://${reg.host}/y/debian:copy`);
    expect(sha256(raw)).toBe(DEBIAN_BASE_DIGEST);
    // skopeo usually cross-mounts layers from x/debian here (its blob-info cache decides);
    // either way every layer must be readable through y/debian.
    const { layers } = JSON.parse(raw.toString()) as { layers: { digest: string }[] };
    for (const { digest } of layers)
      expect((await fetch(`${reg.url}/v2/y/debian/blobs/${digest}`, { method: "HEAD" })).status).toBe(200);
    const catalog = await (await fetch(`${reg.url}/v2/_catalog`)).json();
    expect(catalog).toEqual({ repositories: ["x/debian", "y/debian"] });
  });
});

describe("oci11 registry protocol", () => {
  let reg: Oci11Registry;
  beforeAll(async () => {
    reg = await startOci11Registry();
  });
  afterAll(() => reg?.stop());

  it("indexes subjects and lists referrers, filtered or not", async () => {
    const base = reg.url;
    // The spec requires accepting a referrer before its subject exists: push the artifact first.
    const subjectBytes = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      note: "not pushed yet",
    });
    const early = await artifact(
      base,
      "ref/app",
      { digest: sha256(subjectBytes), size: subjectBytes.length },
      {
        artifactType: "application/vnd.example.early",
        payload: "early",
      },
    );
    expect((await putManifest(base, "ref/app", sha256(JSON.stringify(early)), early)).status).toBe(201);

    const image = await pushImage(base, "ref/app", "v1");
    const sbom = await artifact(base, "ref/app", image, {
      artifactType: "application/vnd.example.sbom.v1",
      payload: "sbom",
      annotations: { "org.example.format": "json" },
    });
    const sbomDigest = sha256(JSON.stringify(sbom));
    const put = await putManifest(base, "ref/app", sbomDigest, sbom);
    expect(put.status).toBe(201);
    expect(put.headers.get("oci-subject")).toBe(image.digest);
    expect(put.headers.get("location")).toBe(`/v2/ref/app/manifests/${sbomDigest}`);
    // No artifactType: the referrers list must fall back to the config's mediaType.
    const sig = await artifact(base, "ref/app", image, {
      configType: "application/vnd.example.sig.config",
      payload: "sig",
    });
    const sigDigest = sha256(JSON.stringify(sig));
    expect((await putManifest(base, "ref/app", sigDigest, sig)).headers.get("oci-subject")).toBe(
      image.digest,
    );
    // The same subject in another repository must not leak into this one's list.
    await pushBlob(base, "ref/other", "{}");
    await pushBlob(base, "ref/other", "sbom");
    expect((await putManifest(base, "ref/other", "sbom", sbom)).status).toBe(201);

    const all = await fetch(`${base}/v2/ref/app/referrers/${image.digest}`);
    expect(all.status).toBe(200);
    expect(all.headers.get("content-type")).toBe(OCI_INDEX);
    expect(all.headers.get("oci-filters-applied")).toBeNull();
    expect(await all.json()).toEqual({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: sbomDigest,
          size: JSON.stringify(sbom).length,
          artifactType: "application/vnd.example.sbom.v1",
          annotations: { "org.example.format": "json" },
        },
        {
          mediaType: OCI_MANIFEST,
          digest: sigDigest,
          size: JSON.stringify(sig).length,
          artifactType: "application/vnd.example.sig.config",
        },
      ],
    });

    const filtered = await fetch(
      `${base}/v2/ref/app/referrers/${image.digest}?artifactType=application/vnd.example.sbom.v1`,
    );
    expect(filtered.headers.get("oci-filters-applied")).toBe("artifactType");
    const filteredBody = (await filtered.json()) as { manifests: { digest: string }[] };
    expect(filteredBody.manifests.map((d) => d.digest)).toEqual([sbomDigest]);

    // A referrers query never 404s on a 1.1 registry: unknown subjects give an empty index.
    const none = await fetch(`${base}/v2/ref/app/referrers/${sha256("nothing")}`);
    expect(none.status).toBe(200);
    expect(((await none.json()) as { manifests: unknown[] }).manifests).toEqual([]);
    expect((await fetch(`${base}/v2/ref/app/referrers/sha256:nothex`)).status).toBe(400);
    // The early referrer is listed once its subject digest is asked for.
    const earlyList = await (await fetch(`${base}/v2/ref/app/referrers/${sha256(subjectBytes)}`)).json();
    expect((earlyList as { manifests: { artifactType: string }[] }).manifests[0]?.artifactType).toBe(
      "application/vnd.example.early",
    );
    expect(reg.requests).toContainEqual({ method: "GET", path: `/v2/ref/app/referrers/${image.digest}` });
  });

  it("mounts a blob only from a repository that holds it", async () => {
    const digest = await pushBlob(reg.url, "mnt/src", "shared layer");
    const ok = await fetch(`${reg.url}/v2/mnt/dst/blobs/uploads/?mount=${digest}&from=mnt/src`, {
      method: "POST",
    });
    expect(ok.status).toBe(201);
    expect(ok.headers.get("location")).toBe(`/v2/mnt/dst/blobs/${digest}`);
    expect(ok.headers.get("docker-content-digest")).toBe(digest);
    const got = await fetch(`${reg.url}/v2/mnt/dst/blobs/${digest}`);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe("shared layer");

    // The bytes exist in the registry, but not in mnt/none: no mount, an upload session instead.
    const refused = await fetch(`${reg.url}/v2/mnt/third/blobs/uploads/?mount=${digest}&from=mnt/none`, {
      method: "POST",
    });
    expect(refused.status).toBe(202);
    expect(refused.headers.get("location")).toMatch(/^\/v2\/mnt\/third\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const missing = await fetch(`${reg.url}/v2/mnt/third/blobs/${digest}`, { method: "HEAD" });
    expect(missing.status).toBe(404);
    const notFound = await fetch(`${reg.url}/v2/mnt/third/blobs/${digest}`);
    expect(await errorCode(notFound)).toBe("BLOB_UNKNOWN");
  });

  it("takes a chunked upload in order and rejects gaps and wrong digests", async () => {
    const blob = Buffer.from("hello, chunked world");
    const start = await fetch(`${reg.url}/v2/chunk/blobs/uploads/`, { method: "POST" });
    expect(start.status).toBe(202);
    const loc = new URL(start.headers.get("location") ?? "", reg.url);

    const patch = (body: Buffer, range: string, at: URL = loc): Promise<Response> =>
      fetch(at, {
        method: "PATCH",
        headers: { "content-range": range, "content-type": "application/octet-stream" },
        body,
      });
    const first = await patch(blob.subarray(0, 5), "0-4");
    expect(first.status).toBe(202);
    expect(first.headers.get("range")).toBe("0-4");
    const next = new URL(first.headers.get("location") ?? "", reg.url);

    const gap = await patch(blob.subarray(6, 10), "6-9", next);
    expect(gap.status).toBe(416);
    const status = await fetch(next);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-4");

    expect((await patch(blob.subarray(5, 12), "5-11", next)).headers.get("range")).toBe("0-11");
    next.searchParams.set("digest", sha256(blob));
    const done = await fetch(next, {
      method: "PUT",
      headers: { "content-range": `12-${blob.length - 1}`, "content-type": "application/octet-stream" },
      body: blob.subarray(12),
    });
    expect(done.status).toBe(201);
    expect(done.headers.get("docker-content-digest")).toBe(sha256(blob));
    const got = await fetch(`${reg.url}${done.headers.get("location")}`);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(blob);
    expect(got.headers.get("content-length")).toBe(String(blob.length));
    expect((await fetch(next)).status).toBe(404); // the session is closed

    const bad = await fetch(`${reg.url}/v2/chunk/blobs/uploads/`, { method: "POST" });
    const badLoc = new URL(bad.headers.get("location") ?? "", reg.url);
    badLoc.searchParams.set("digest", sha256("something else"));
    const wrong = await fetch(badLoc, { method: "PUT", body: blob });
    expect(wrong.status).toBe(400);
    expect(await errorCode(wrong)).toBe("DIGEST_INVALID");

    const cancel = await fetch(`${reg.url}/v2/chunk/blobs/uploads/`, { method: "POST" });
    const cancelLoc = new URL(cancel.headers.get("location") ?? "", reg.url);
    expect((await fetch(cancelLoc, { method: "DELETE" })).status).toBe(204);
    const gone = await fetch(cancelLoc);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe("BLOB_UPLOAD_UNKNOWN");
  });

  it("deletes a tag alone, and a manifest with all its tags", async () => {
    const image = await pushImage(reg.url, "del/app", "a");
    const bytes = await (await fetch(`${reg.url}/v2/del/app/manifests/a`)).text();
    expect((await putManifest(reg.url, "del/app", "b", JSON.parse(bytes))).status).toBe(201);

    expect((await fetch(`${reg.url}/v2/del/app/manifests/a`, { method: "DELETE" })).status).toBe(202);
    expect((await fetch(`${reg.url}/v2/del/app/manifests/a`)).status).toBe(404);
    expect((await fetch(`${reg.url}/v2/del/app/manifests/b`)).status).toBe(200);

    expect(
      (await fetch(`${reg.url}/v2/del/app/manifests/${image.digest}`, { method: "DELETE" })).status,
    ).toBe(202);
    const gone = await fetch(`${reg.url}/v2/del/app/manifests/b`);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe("MANIFEST_UNKNOWN");
    expect((await fetch(`${reg.url}/v2/del/app/manifests/${image.digest}`)).status).toBe(404);
    // No dangling tags left behind either.
    expect(await (await fetch(`${reg.url}/v2/del/app/tags/list`)).json()).toEqual({
      name: "del/app",
      tags: [],
    });
  });

  it("paginates tags in lexical order with Link headers", async () => {
    const tags = ["v2", "latest", "v1", "V3", "alpha"];
    const image = await pushImage(reg.url, "page/app", "seed");
    const bytes = await (await fetch(`${reg.url}/v2/page/app/manifests/seed`)).text();
    for (const t of tags)
      expect((await putManifest(reg.url, "page/app", t, JSON.parse(bytes))).status).toBe(201);
    expect(sha256(bytes)).toBe(image.digest);

    const seen: string[] = [];
    let next: string | undefined = "/v2/page/app/tags/list?n=2";
    let pages = 0;
    while (next) {
      const res: Response = await fetch(`${reg.url}${next}`);
      const body = (await res.json()) as { name: string; tags: string[] };
      expect(body.name).toBe("page/app");
      seen.push(...body.tags);
      pages++;
      next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get("link") ?? "")?.[1];
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(["V3", "alpha", "latest", "seed", "v1", "v2"]);

    const zero = await fetch(`${reg.url}/v2/page/app/tags/list?n=0`);
    expect(await zero.json()).toEqual({ name: "page/app", tags: [] });
    expect(zero.headers.get("link")).toBeNull();
    const after = await fetch(`${reg.url}/v2/page/app/tags/list?last=seed`);
    expect(((await after.json()) as { tags: string[] }).tags).toEqual(["v1", "v2"]);
    expect((await fetch(`${reg.url}/v2/page/none/tags/list`)).status).toBe(404);
  });

  it("validates manifests, names and routes", async () => {
    const image = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "x", digest: sha256("absent"), size: 6 },
      layers: [],
    };
    const missing = await putManifest(reg.url, "val/app", "t", image);
    expect(missing.status).toBe(400);
    expect(await errorCode(missing)).toBe("MANIFEST_BLOB_UNKNOWN");

    const wrongDigest = await putManifest(
      reg.url,
      "val/app",
      sha256("other"),
      { schemaVersion: 2 },
      OCI_INDEX,
    );
    expect(await errorCode(wrongDigest)).toBe("DIGEST_INVALID");
    const typeMismatch = await putManifest(reg.url, "val/app", "t", {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [],
    });
    expect(await errorCode(typeMismatch)).toBe("MANIFEST_INVALID");

    const huge = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [],
      annotations: { pad: "x".repeat(4 * 1024 * 1024) },
    };
    expect((await putManifest(reg.url, "val/app", "huge", huge, OCI_INDEX)).status).toBe(413);

    const badName = await fetch(`${reg.url}/v2/Bad..Name/tags/list`);
    expect(badName.status).toBe(400);
    expect(await errorCode(badName)).toBe("NAME_INVALID");
    const unknown = await fetch(`${reg.url}/v2/val/app/nowhere`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/json");
    expect(await errorCode(unknown)).toBeDefined();
    const notAllowed = await fetch(`${reg.url}/v2/val/app/tags/list`, { method: "DELETE" });
    expect(notAllowed.status).toBe(405);
  });
});

describe("oci11 registry options", () => {
  let reg: Oci11Registry;
  beforeAll(async () => {
    reg = await startOci11Registry({ referrersApi: false, deleteByTag: false, tagPageMax: 2 });
  });
  afterAll(() => reg?.stop());

  it("behaves like a pre-1.1 registry: no OCI-Subject, referrers 404", async () => {
    const image = await pushImage(reg.url, "old/app", "v1");
    const sbom = await artifact(reg.url, "old/app", image, {
      artifactType: "application/vnd.example.sbom.v1",
      payload: "s",
    });
    const put = await putManifest(reg.url, "old/app", sha256(JSON.stringify(sbom)), sbom);
    expect(put.status).toBe(201);
    expect(put.headers.get("oci-subject")).toBeNull();
    expect((await fetch(`${reg.url}/v2/old/app/referrers/${image.digest}`)).status).toBe(404);
  });

  it("refuses tag deletion with 400 UNSUPPORTED but deletes by digest", async () => {
    const image = await pushImage(reg.url, "old/del", "v1");
    const res = await fetch(`${reg.url}/v2/old/del/manifests/v1`, { method: "DELETE" });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("UNSUPPORTED");
    expect(
      (await fetch(`${reg.url}/v2/old/del/manifests/${image.digest}`, { method: "DELETE" })).status,
    ).toBe(202);
    expect((await fetch(`${reg.url}/v2/old/del/manifests/v1`)).status).toBe(404);
  });

  it("caps page size at tagPageMax", async () => {
    await pushImage(reg.url, "old/page", "a");
    const bytes = await (await fetch(`${reg.url}/v2/old/page/manifests/a`)).text();
    for (const t of ["b", "c"]) await putManifest(reg.url, "old/page", t, JSON.parse(bytes));
    const res = await fetch(`${reg.url}/v2/old/page/tags/list?n=100`);
    expect(((await res.json()) as { tags: string[] }).tags).toEqual(["a", "b"]);
    expect(res.headers.get("link")).toBe('</v2/old/page/tags/list?n=2&last=b>; rel="next"');
    const catalog = await fetch(`${reg.url}/v2/_catalog`);
    expect(await catalog.json()).toEqual({ repositories: ["old/app", "old/del"] });
    expect(catalog.headers.get("link")).toBe('</v2/_catalog?n=2&last=old%2Fdel>; rel="next"');
  });
});
