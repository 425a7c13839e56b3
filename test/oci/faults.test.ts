import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import { copyImage } from "../../src/oci/copy.js";
import { parseReference } from "../../src/oci/reference.js";
import { OciLayout } from "../../src/oci/transports/layout.js";
import { RegistryRepository } from "../../src/oci/transports/registry.js";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { skopeoCopy } from "../harness/skopeo.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES } from "../helpers/cli.js";

// The debian-base layer: the one big blob, so faults on it hit the streaming path.
const LAYER = "sha256:";

let origin: TestRegistry;
let dest: TestRegistry;
let proxy: FaultProxy;
let destProxy: FaultProxy;
let layerDigest: string;
const fast = { attempts: 4, baseDelayMs: 50, maxDelayMs: 200 };
const open = (host: string, path: string) =>
  new RegistryRepository(parseReference(`${host}/${path}`), { credentials: null, retry: fast });

beforeAll(async () => {
  [origin, dest] = await Promise.all([startRegistry(), startRegistry()]);
  [proxy, destProxy] = await Promise.all([startFaultProxy(origin.host), startFaultProxy(dest.host)]);
  await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${origin.host}/library/debian:base`);
  const manifest = JSON.parse(
    Buffer.from((await open(origin.host, "library/debian").getManifest("base")).bytes).toString(),
  ) as {
    layers: { digest: string }[];
  };
  layerDigest = manifest.layers[0]?.digest as string;
  expect(layerDigest.startsWith(LAYER)).toBe(true);
});

afterEach(() => {
  proxy.clearFaults();
  destProxy.clearFaults();
});

afterAll(async () => {
  await Promise.all([proxy?.stop(), destProxy?.stop(), origin?.stop(), dest?.stop()]);
});

const isLayerGet = (r: { method: string; path: string }) =>
  r.method === "GET" && r.path.includes(`/blobs/${layerDigest}`);

async function tagExists(repo: string, tag: string): Promise<boolean> {
  return (await open(dest.host, repo).client.headManifest(repo, tag)) !== undefined;
}

describe("copy through a faulty network", () => {
  it("recovers from a 500 on the layer", async () => {
    proxy.addFault({ match: isLayerGet, times: 1, kind: "status", status: 500 });
    const result = await copyImage(
      open(proxy.host, "library/debian"),
      "base",
      open(dest.host, "f/500"),
      "base",
    );
    expect(result.digest).toBe(DEBIAN_BASE_DIGEST);
    expect(proxy.requests.filter(isLayerGet).length).toBe(2);
  });

  it("waits as long as a 429's Retry-After says", async () => {
    proxy.addFault({
      match: (r) => r.method === "GET" && r.path.includes("/manifests/base"),
      times: 1,
      kind: "status",
      status: 429,
      retryAfter: 1,
    });
    const started = Date.now();
    const result = await copyImage(
      open(proxy.host, "library/debian"),
      "base",
      open(dest.host, "f/429"),
      "base",
    );
    expect(result.digest).toBe(DEBIAN_BASE_DIGEST);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("recovers from a dropped connection and from a truncated body", async () => {
    proxy.addFault({ match: isLayerGet, times: 1, kind: "drop" });
    proxy.addFault({ match: isLayerGet, times: 1, kind: "truncate", bytes: 100_000 });
    const result = await copyImage(
      open(proxy.host, "library/debian"),
      "base",
      open(dest.host, "f/drop"),
      "base",
    );
    expect(result.digest).toBe(DEBIAN_BASE_DIGEST);
    expect(proxy.pendingFaults()).toBe(0);
    expect(await tagExists("f/drop", "base")).toBe(true);
  });

  it("recovers from a 503 on the destination's upload", async () => {
    destProxy.addFault({
      match: (r) => r.method === "POST" && r.path.includes("/blobs/uploads/"),
      times: 1,
      kind: "status",
      status: 503,
    });
    const result = await copyImage(
      open(origin.host, "library/debian"),
      "base",
      open(destProxy.host, "f/503"),
      "base",
    );
    expect(result.digest).toBe(DEBIAN_BASE_DIGEST);
    expect(destProxy.pendingFaults()).toBe(0);
  });

  it.each([
    ["corrupted", { kind: "corrupt" as const }, "DIGEST_MISMATCH"],
    ["truncated", { kind: "truncate" as const, bytes: 4096 }, undefined],
  ])("fails clearly on a layer that always arrives %s, and writes no tag", async (name, fault, code) => {
    proxy.addFault({ match: isLayerGet, times: 100, ...fault });
    let error: unknown;
    try {
      await copyImage(open(proxy.host, "library/debian"), "base", open(dest.host, `f/${name}`), "base", {
        retry: fast,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ShipgateError);
    const message = (error as ShipgateError).message;
    expect(message).toContain("gave up after 4 attempts");
    if (code) expect((error as ShipgateError).code).toBe(code);
    expect(message).toContain(layerDigest);
    expect(await tagExists(`f/${name}`, "base")).toBe(false);
    expect(
      await open(dest.host, `f/${name}`).blobExists({ mediaType: "", digest: layerDigest, size: 0 }),
    ).toBe(false);
  });

  it("streams chunked uploads: a truncated chunk starts the blob over, a corrupted one never lands", async () => {
    // Chunks of 1 MiB + 1 byte, so chunk edges fall inside the socket's reads, not on them.
    const chunked = (path: string) =>
      new RegistryRepository(parseReference(`${dest.host}/${path}`), {
        credentials: null,
        retry: fast,
        chunkSize: 1024 * 1024 + 1,
      });
    proxy.addFault({ match: isLayerGet, times: 1, kind: "truncate", bytes: 3 * 1024 * 1024 });
    const layerGetsBefore = proxy.requests.filter(isLayerGet).length;
    const result = await copyImage(open(proxy.host, "library/debian"), "base", chunked("f/chunked"), "base");
    expect(result.digest).toBe(DEBIAN_BASE_DIGEST);
    expect(proxy.requests.filter(isLayerGet).length - layerGetsBefore).toBe(2);
    expect(await tagExists("f/chunked", "base")).toBe(true);

    proxy.addFault({ match: isLayerGet, times: 100, kind: "corrupt" });
    await expect(
      copyImage(open(proxy.host, "library/debian"), "base", chunked("f/chunked-bad"), "base", {
        retry: fast,
      }),
    ).rejects.toMatchObject({ code: "DIGEST_MISMATCH" });
    expect(await tagExists("f/chunked-bad", "base")).toBe(false);
    expect(
      await open(dest.host, "f/chunked-bad").blobExists({ mediaType: "", digest: layerDigest, size: 0 }),
    ).toBe(false);
  });

  it("hashes blobs itself for a destination that does not (an oci: layout): corrupted content never lands", async () => {
    // A registry re-hashes on PUT ?digest=, so the copier only counts bytes for it; a layout
    // trusts what it is given, so the copier's own digest check is what stands between them.
    const layout = await OciLayout.open(join(mkdtempSync(join(tmpdir(), "faults-layout-")), "out"), {
      create: true,
    });
    expect((layout as { verifiesDigests?: boolean }).verifiesDigests).not.toBe(true);
    proxy.addFault({ match: isLayerGet, times: 100, kind: "corrupt" });
    let error: unknown;
    try {
      await copyImage(open(proxy.host, "library/debian"), "base", layout, "base", { retry: fast });
    } catch (e) {
      error = e;
    }
    expect((error as ShipgateError).code).toBe("DIGEST_MISMATCH");
    expect((error as ShipgateError).message).toContain(layerDigest);
    expect(await layout.blobExists({ mediaType: "", digest: layerDigest, size: 0 })).toBe(false);
    await expect(layout.getManifest("base")).rejects.toThrow();
  });

  it("gives up on a registry that keeps failing, saying how often it tried", async () => {
    proxy.addFault({ match: (r) => r.path.includes("/manifests/"), times: 100, kind: "status", status: 500 });
    let error: unknown;
    try {
      await open(proxy.host, "library/debian").getManifest("base");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).message).toMatch(/answered 500.*gave up after 4 attempts/);
  });
});
