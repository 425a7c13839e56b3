import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Oci11Registry, startOci11Registry } from "../../harness/oci11-registry.js";
import { skopeoCopy } from "../../harness/skopeo.js";
import { runCli, SHARED_IMAGES } from "../../helpers/cli.js";

// Debian's docker-registry 2.8 ignores `n` on tags/list and answers everything at once, so the
// paging path is exercised against the spec registry of the tests, with a page cap of its own.
const TAGS = 250;
let registry: Oci11Registry;

beforeAll(async () => {
  registry = await startOci11Registry({ tagPageMax: 100 });
  await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${registry.host}/big/app:seed`);
  for (const repo of ["a/one", "b/two", "c/three"]) {
    await skopeoCopy(`docker://${registry.host}/big/app:seed`, `docker://${registry.host}/${repo}:x`);
  }
  const manifest = await fetch(`${registry.url}/v2/big/app/manifests/seed`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  const bytes = Buffer.from(await manifest.arrayBuffer());
  const type = manifest.headers.get("content-type") ?? "application/vnd.oci.image.manifest.v1+json";
  for (let t = 0; t < TAGS; t++) {
    const put = await fetch(`${registry.url}/v2/big/app/manifests/t${String(t).padStart(3, "0")}`, {
      method: "PUT",
      headers: { "content-type": type },
      body: bytes,
    });
    expect(put.status).toBe(201);
  }
});

afterAll(async () => {
  await registry?.stop();
});

describe("pagination", () => {
  it("tags: follows the Link header through every page, each tag once", async () => {
    const mark = registry.requests.length;
    const result = await runCli(["tags", `${registry.host}/big/app`]);
    expect(result.code).toBe(0);
    const listed = result.stdout.trim().split("\n");
    expect(listed).toHaveLength(TAGS + 1);
    expect(new Set(listed).size).toBe(TAGS + 1);
    expect(listed).toContain("t000");
    expect(listed).toContain("t249");
    const pages = registry.requests.slice(mark).filter((r) => r.path.startsWith("/v2/big/app/tags/list"));
    expect(pages).toHaveLength(3);
    expect(pages[1]?.path).toMatch(/[?&]last=/);
  });

  it("catalog: every repository across pages", async () => {
    const small = await startOci11Registry({ tagPageMax: 2 });
    try {
      for (const repo of ["a/one", "b/two", "c/three", "d/four", "e/five"]) {
        await skopeoCopy(`docker://${registry.host}/big/app:seed`, `docker://${small.host}/${repo}:x`);
      }
      const mark = small.requests.length;
      const result = await runCli(["ls", small.host]);
      expect(result.code).toBe(0);
      for (const repo of ["a/one", "b/two", "c/three", "d/four", "e/five"])
        expect(result.stdout).toContain(repo);
      expect(small.requests.slice(mark).filter((r) => r.path.startsWith("/v2/_catalog")).length).toBe(3);
    } finally {
      await small.stop();
    }
  });
});
