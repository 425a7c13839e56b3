import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyImage } from "../../src/oci/copy.js";
import { digestOf } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseReference } from "../../src/oci/reference.js";
import { RegistryRepository } from "../../src/oci/transports/registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { skopeoCopy, skopeoInspectDigest, skopeoInspectRaw } from "../harness/skopeo.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";

const anonymous = { credentials: null } as const;
const repo = (registry: TestRegistry, path: string) =>
  new RegistryRepository(parseReference(`${registry.host}/${path}`), anonymous);

let a: TestRegistry;
let b: TestRegistry;

beforeAll(async () => {
  [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${a.host}/library/debian:base`);
  await skopeoCopy(`oci:${SHARED_IMAGES}:shop-1.4.2`, `docker://${a.host}/team/shop:1.4.2`);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("copy between registries", () => {
  it("keeps the digest skopeo pushed, and skopeo reads shipgate's copy back identically", async () => {
    const result = await copyImage(repo(a, "team/shop"), "1.4.2", repo(b, "mirror/shop"), "1.4.2");
    expect(result.digest).toBe(SHOP_DIGEST);
    expect(result.blobs.copied).toBe(5); // config + 4 layers
    expect(await skopeoInspectDigest(`docker://${b.host}/mirror/shop:1.4.2`)).toBe(SHOP_DIGEST);
    const raw = await skopeoInspectRaw(`docker://${b.host}/mirror/shop:1.4.2`);
    expect(digestOf(raw)).toBe(SHOP_DIGEST);
  });

  it("skips blobs the destination already has and mounts across repositories of one registry", async () => {
    const again = await copyImage(repo(a, "team/shop"), "1.4.2", repo(b, "mirror/shop"), "again");
    expect(again.blobs).toEqual({ copied: 0, skipped: 5, mounted: 0 });
    expect(again.bytesTransferred).toBe(0);
    const mounted = await copyImage(repo(a, "team/shop"), "1.4.2", repo(a, "other/shop"), "1.4.2");
    expect(mounted.blobs.mounted).toBe(5);
    expect(mounted.bytesTransferred).toBe(0);
    expect(await skopeoInspectDigest(`docker://${a.host}/other/shop:1.4.2`)).toBe(SHOP_DIGEST);
  });

  it("uploads in chunks when asked, with the same result", async () => {
    const dest = new RegistryRepository(parseReference(`${b.host}/chunked/debian`), {
      ...anonymous,
      chunkSize: 1024 * 1024,
    });
    const result = await copyImage(repo(a, "library/debian"), "base", dest, "base");
    expect(result.blobs.copied).toBe(2);
    expect(await skopeoInspectDigest(`docker://${b.host}/chunked/debian:base`)).toBe(DEBIAN_BASE_DIGEST);
  });

  it("copies a multi-platform index whole, or one platform of it", async () => {
    // An index over two real images, pushed as the children it names.
    const src = repo(a, "multi/app");
    const children = [
      { digest: DEBIAN_BASE_DIGEST, platform: { os: "linux", architecture: "amd64" } },
      { digest: SHOP_DIGEST, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    ];
    const manifests = [];
    for (const child of children) {
      await copyImage(
        repo(a, child.digest === SHOP_DIGEST ? "team/shop" : "library/debian"),
        child.digest,
        src,
        undefined,
      );
      const blob = await src.getManifest(child.digest);
      manifests.push({
        mediaType: blob.mediaType,
        digest: child.digest,
        size: blob.bytes.length,
        platform: child.platform,
      });
    }
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
    const index = { bytes, mediaType: MediaType.ociIndex, digest: digestOf(bytes) };
    await src.writeManifest(index, "1.0");

    const whole = await copyImage(src, "1.0", repo(b, "multi/app"), "1.0");
    expect(whole.digest).toBe(index.digest);
    expect(whole.manifests).toBe(3);
    expect(await skopeoInspectDigest(`docker://${b.host}/multi/app:1.0`)).toBe(index.digest);
    for (const child of children) {
      expect(await repo(b, "multi/app").manifestExists(child.digest)).toBe(true);
    }

    const one = await copyImage(src, "1.0", repo(b, "multi/arm"), "1.0", {
      platform: { os: "linux", architecture: "arm64" },
    });
    expect(one.digest).toBe(SHOP_DIGEST);
    expect(await repo(b, "multi/arm").manifestExists(DEBIAN_BASE_DIGEST)).toBe(false);
  });

  it("lists tags across pages", async () => {
    const src = repo(a, "paged/app");
    await copyImage(repo(a, "library/debian"), "base", src, "t0");
    const manifest = await src.getManifest("t0");
    const wanted = ["t0"];
    for (let i = 1; i < 1050; i++) wanted.push(`t${i}`);
    // 1,050 tags in two pages of 1,000; pushed through the API, in parallel.
    await Promise.all(
      Array.from({ length: 10 }, async (_, worker) => {
        for (let i = 1 + worker; i < 1050; i += 10)
          await src.client.putManifest(src.repository, `t${i}`, manifest);
      }),
    );
    const tags: string[] = [];
    for await (const tag of src.listTags()) tags.push(tag);
    expect(tags.sort()).toEqual(wanted.sort());
  });
});
