import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseManifest } from "../../src/oci/manifest.js";
import { parseReference } from "../../src/oci/reference.js";
import { cosignTags } from "../../src/oci/referrers.js";
import { parseLocation } from "../../src/oci/transports/location.js";
import { RegistryRepository } from "../../src/oci/transports/registry.js";
import { attachSbom, detectSbomFormat, getAttachedSboms } from "../../src/sbom/attach.js";
import { startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { skopeoCopy, skopeoInspectRaw } from "../harness/skopeo.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES } from "../helpers/cli.js";

const spdx = Buffer.from(JSON.stringify({ spdxVersion: "SPDX-2.3", SPDXID: "SPDXRef-DOCUMENT", name: "x" }));
const cdx = Buffer.from(JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", version: 1 }));

let registry: TestRegistry;
let api: Awaited<ReturnType<typeof startOci11Registry>>;

beforeAll(async () => {
  [registry, api] = await Promise.all([startRegistry(), startOci11Registry({ referrersApi: true })]);
  await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${registry.host}/sbom/app:1.0`);
  await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${api.host}/sbom/app:1.0`);
});

afterAll(async () => {
  await Promise.all([registry?.stop(), api?.stop()]);
});

describe("sbom attach and get", () => {
  it("tells SPDX from CycloneDX, and refuses anything else with a clear error", () => {
    expect(detectSbomFormat(spdx, "a")).toBe("spdx-json");
    expect(detectSbomFormat(cdx, "b")).toBe("cyclonedx-json");
    expect(() => detectSbomFormat(Buffer.from("{}"), "c.json")).toThrow(/c.json is neither SPDX/);
    expect(() => detectSbomFormat(Buffer.from("<xml/>"), "d.xml")).toThrow(/d.xml is not JSON/);
  });

  it("writes cosign's .sbom tag and a referrer on a registry without the referrers API, and reads both back", async () => {
    const where = parseLocation(`${registry.host}/sbom/app:1.0`);
    const result = await attachSbom(where, spdx, { mode: "both" });
    expect(result.subject).toBe(DEBIAN_BASE_DIGEST);
    expect(result.tag?.name).toBe(cosignTags(DEBIAN_BASE_DIGEST)[2]);
    // skopeo, an independent client, sees the .sbom tag with cosign's layer media type.
    const raw = await skopeoInspectRaw(`docker://${registry.host}/sbom/app:${result.tag?.name}`);
    const tagged = parseManifest(raw, "application/vnd.oci.image.manifest.v1+json", "tag");
    expect(tagged.kind === "manifest" && tagged.manifest.layers.map((l) => l.mediaType)).toEqual([
      "text/spdx+json",
    ]);
    // The referrer is listed in the sha256-<hex> fallback index.
    const repo = new RegistryRepository(parseReference(`${registry.host}/sbom/app`), { credentials: null });
    const referrers = await repo.listReferrers(DEBIAN_BASE_DIGEST);
    expect(referrers.map((r) => [r.digest, r.artifactType])).toEqual([
      [result.referrer, "application/spdx+json"],
    ]);

    const found = await getAttachedSboms(where);
    expect(found.map((f) => [f.via.kind, f.format])).toEqual([
      ["referrer", "spdx-json"],
      ["tag", "spdx-json"],
    ]);
    for (const f of found) expect(f.bytes.equals(spdx)).toBe(true);
  });

  it("uses the referrers API where the registry has it", async () => {
    const where = parseLocation(`${api.host}/sbom/app:1.0`);
    const result = await attachSbom(where, cdx, { mode: "oci-1-1", open: { insecure: true } });
    expect(result.tag).toBeUndefined();
    const found = await getAttachedSboms(where, { open: { insecure: true } });
    expect(found.map((f) => [f.via.kind, f.via.digest, f.format])).toEqual([
      ["referrer", result.referrer, "cyclonedx-json"],
    ]);
    expect(api.requests.some((r) => r.method === "GET" && r.path.includes("/referrers/"))).toBe(true);
  });

  it("attaches to an image in an oci: layout, readable by skopeo afterwards", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-attach-"));
    cpSync(SHARED_IMAGES, dir, { recursive: true });
    const where = parseLocation(`oci:${dir}:debian-base`);
    const result = await attachSbom(where, cdx, { mode: "both" });
    const found = await getAttachedSboms(where);
    expect(found.map((f) => f.via.kind).sort()).toEqual(["referrer", "tag"]);
    expect(found.every((f) => f.bytes.equals(cdx))).toBe(true);
    const raw = await skopeoInspectRaw(`oci:${dir}:${result.tag?.name}`);
    expect(raw.toString()).toContain("application/vnd.cyclonedx+json");
  });

  it("says plainly when nothing is attached", async () => {
    await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${registry.host}/sbom/bare:1.0`);
    // The same digest in another repository has no attachments there.
    const found = await getAttachedSboms(parseLocation(`${registry.host}/sbom/bare:1.0`));
    expect(found).toEqual([]);
  });
});
