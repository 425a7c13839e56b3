// Proves the integration harness itself works: registries with each auth mode,
// the token flow, skopeo interop and the fault proxy.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.js";
import { startRegistry, type TestRegistry } from "./registry.js";
import { skopeoCopy, skopeoInspectDigest, skopeoInspectRaw } from "./skopeo.js";

const OCI_LAYOUT = "/work/shared/images/oci";
const DEBIAN_BASE_DIGEST = "sha256:04768ef3e2f30b0174eb7bc21326f4357276a9ca1ebd91765ca09d836dd327c0";

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const basic = (user: string, pass: string): string =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

/** Monolithic blob upload. distribution 2.8 ignores `?digest=` on POST, so finish with PUT. */
async function pushBlob(
  base: string,
  repo: string,
  blob: Buffer,
  headers: Record<string, string> = {},
): Promise<string> {
  const digest = sha256(blob);
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/octet-stream" },
    body: blob,
  });
  if (post.status === 201) return digest;
  expect(post.status).toBe(202);
  const location = new URL(post.headers.get("location") ?? "", base);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/octet-stream" },
    body: blob,
  });
  expect(put.status).toBe(201);
  return digest;
}

describe("plain registry", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg?.stop());

  it("answers /v2/ with 200", async () => {
    expect(reg.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("takes an image from skopeo and keeps its digest", { timeout: 30_000 }, async () => {
    await skopeoCopy(`oci:${OCI_LAYOUT}:debian-base`, `docker://${reg.host}/debian:base`);
    expect(await skopeoInspectDigest(`docker://${reg.host}/debian:base`)).toBe(DEBIAN_BASE_DIGEST);
    const manifest = JSON.parse((await skopeoInspectRaw(`docker://${reg.host}/debian:base`)).toString());
    expect(manifest.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
  });
});

describe("basic-auth registry", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "basic" });
  });
  afterAll(() => reg?.stop());

  it("needs credentials", async () => {
    const anon = await fetch(`${reg.url}/v2/`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    expect(reg.username).toBe("shipgate");
    const authed = await fetch(`${reg.url}/v2/`, {
      headers: { authorization: basic("shipgate", "s3cret-pw") },
    });
    expect(authed.status).toBe(200);
    const wrong = await fetch(`${reg.url}/v2/`, { headers: { authorization: basic("shipgate", "nope") } });
    expect(wrong.status).toBe(401);
  });
});

describe("token-auth registry", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "token" });
  });
  afterAll(() => reg?.stop());

  async function challenge(): Promise<{ realm: string; service: string }> {
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(401);
    const header = res.headers.get("www-authenticate") ?? "";
    expect(header).toMatch(/^Bearer /);
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    return { realm: params.realm ?? "", service: params.service ?? "" };
  }

  it("issues a Bearer challenge, a token for basic creds, and the token works for push and pull", async () => {
    const { realm, service } = await challenge();
    expect(realm).toBe(reg.tokenRealm);
    expect(service).toBe("test-registry");

    const tokenUrl = `${realm}?service=${service}&scope=${encodeURIComponent("repository:x:pull,push")}`;
    const tokenRes = await fetch(tokenUrl, {
      headers: { authorization: basic(reg.username ?? "", reg.password ?? "") },
    });
    expect(tokenRes.status).toBe(200);
    const body = (await tokenRes.json()) as { token: string; access_token: string; expires_in: number };
    expect(body.access_token).toBe(body.token);
    const bearer = { authorization: `Bearer ${body.token}` };

    const blob = Buffer.from("hello from the shipgate harness\n");
    const digest = await pushBlob(reg.url, "x", blob, bearer);
    const pulled = await fetch(`${reg.url}/v2/x/blobs/${digest}`, { headers: bearer });
    expect(pulled.status).toBe(200);
    expect(Buffer.from(await pulled.arrayBuffer())).toEqual(blob);

    // Without a token, or with one for another repository, the registry refuses.
    expect((await fetch(`${reg.url}/v2/x/blobs/${digest}`)).status).toBe(401);
    expect((await fetch(`${reg.url}/v2/y/blobs/${digest}`, { headers: bearer })).status).toBe(401);
    expect(reg.tokenRequests?.at(-1)).toMatchObject({
      scopes: ["repository:x:pull,push"],
      credentials: "valid",
    });
  });

  it("grants registry:catalog:*", async () => {
    const { realm, service } = await challenge();
    const url = `${realm}?service=${service}&scope=${encodeURIComponent("registry:catalog:*")}`;
    const { token } = (await (
      await fetch(url, { headers: { authorization: basic("shipgate", "s3cret-pw") } })
    ).json()) as {
      token: string;
    };
    const res = await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty("repositories");
  });

  it("rejects a wrong password at the token server and gives anonymous users no access", async () => {
    const { realm, service } = await challenge();
    const scope = encodeURIComponent("repository:x:pull");
    const wrong = await fetch(`${realm}?service=${service}&scope=${scope}`, {
      headers: { authorization: basic("shipgate", "wrong") },
    });
    expect(wrong.status).toBe(401);
    expect(reg.tokenRequests?.at(-1)).toMatchObject({ credentials: "invalid", username: "shipgate" });

    const anon = (await (await fetch(`${realm}?service=${service}&scope=${scope}`)).json()) as {
      token: string;
    };
    const res = await fetch(`${reg.url}/v2/x/tags/list`, {
      headers: { authorization: `Bearer ${anon.token}` },
    });
    expect(res.status).toBe(401);
    expect(reg.tokenRequests?.at(-1)).toMatchObject({ credentials: "none" });
  });

  it("works with skopeo, which goes through the token server", { timeout: 30_000 }, async () => {
    const before = reg.tokenRequests?.length ?? 0;
    await skopeoCopy(`oci:${OCI_LAYOUT}:debian-base`, `docker://${reg.host}/debian:base`, [], {
      auth: [reg],
    });
    expect(await skopeoInspectDigest(`docker://${reg.host}/debian:base`, { auth: [reg] })).toBe(
      DEBIAN_BASE_DIGEST,
    );
    const seen = reg.tokenRequests?.slice(before) ?? [];
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.credentials === "valid")).toBe(true);
    expect(seen.flatMap((r) => r.scopes)).toContain("repository:debian:pull,push");
  });
});

describe("fault proxy", () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  const blob = Buffer.alloc(64 * 1024, "shipgate-");
  let digest: string;
  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.host);
    digest = await pushBlob(reg.url, "faulty", blob);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it("injects a 500 once, then passes through", async () => {
    proxy.addFault({ match: (r) => r.path === "/v2/", times: 1, kind: "status", status: 500 });
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(500);
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200);
    expect(proxy.pendingFaults()).toBe(0);
    expect(proxy.requests.slice(-2)).toEqual([
      { method: "GET", path: "/v2/" },
      { method: "GET", path: "/v2/" },
    ]);
  });

  it("sends Retry-After with 429", async () => {
    proxy.addFault({ match: () => true, times: 1, kind: "status", status: 429, retryAfter: 2 });
    const res = await fetch(`${proxy.url}/v2/`);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
  });

  it("truncates a blob GET", async () => {
    proxy.addFault({ match: (r) => r.path.includes("/blobs/"), times: 1, kind: "truncate", bytes: 1000 });
    const res = await fetch(`${proxy.url}/v2/faulty/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(blob.length));
    const received: number[] = [];
    await expect(
      (async () => {
        for await (const chunk of res.body ?? []) received.push(chunk.length);
      })(),
    ).rejects.toThrow();
    expect(received.reduce((a, b) => a + b, 0)).toBe(1000);
    // Next time the full blob comes through.
    const again = Buffer.from(await (await fetch(`${proxy.url}/v2/faulty/blobs/${digest}`)).arrayBuffer());
    expect(again).toEqual(blob);
  });

  it("corrupts one byte and keeps the length", async () => {
    proxy.addFault({ match: (r) => r.path.includes("/blobs/"), times: 1, kind: "corrupt" });
    const got = Buffer.from(await (await fetch(`${proxy.url}/v2/faulty/blobs/${digest}`)).arrayBuffer());
    expect(got.length).toBe(blob.length);
    expect(sha256(got)).not.toBe(digest);
  });

  it("drops the connection", async () => {
    proxy.addFault({ match: () => true, times: 1, kind: "drop" });
    await expect(fetch(`${proxy.url}/v2/`)).rejects.toThrow();
    expect((await fetch(`${proxy.url}/v2/`)).status).toBe(200);
  });

  it("forwards uploads and rewrites Location to point at the proxy", async () => {
    const res = await fetch(`${proxy.url}/v2/faulty/blobs/uploads/`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toMatch(new RegExp(`^http://${proxy.host}/v2/faulty/blobs/uploads/`));
    const small = Buffer.from("via the proxy");
    expect(await pushBlob(proxy.url, "faulty", small)).toBe(sha256(small));
  });
});
