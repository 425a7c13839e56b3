import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyImage } from "../../src/oci/copy.js";
import { digestOf } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseReference } from "../../src/oci/reference.js";
import { cosignTags, fallbackTag } from "../../src/oci/referrers.js";
import { RegistryRepository } from "../../src/oci/transports/registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { skopeoCopy } from "../harness/skopeo.js";
import { descriptorOf, pushArtifact, pushCosignSignature, SIGSTORE_BUNDLE } from "../helpers/artifacts.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";

let a: TestRegistry;
let b: TestRegistry;
const repo = (r: TestRegistry, path: string) =>
  new RegistryRepository(parseReference(`${r.host}/${path}`), { credentials: null });

beforeAll(async () => {
  [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${a.host}/signed/app:base`);
  await skopeoCopy(`oci:${SHARED_IMAGES}:shop-1.4.2`, `docker://${a.host}/signed/app:shop`);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("referrers on a registry without the referrers API (tag-schema fallback)", () => {
  it("records a pushed referrer in the sha256-<hex> fallback index and lists it, filtered by artifactType", async () => {
    const src = repo(a, "signed/app");
    const subject = descriptorOf(await src.getManifest(DEBIAN_BASE_DIGEST));
    const bundle = await pushArtifact(src, {
      payload: Buffer.from('{"mediaType":"bundle"}'),
      layerMediaType: SIGSTORE_BUNDLE,
      artifactType: SIGSTORE_BUNDLE,
      subject,
    });
    const sbom = await pushArtifact(src, {
      payload: Buffer.from('{"bomFormat":"CycloneDX"}'),
      layerMediaType: "application/vnd.cyclonedx+json",
      artifactType: "application/vnd.cyclonedx+json",
      subject,
    });
    const all = await src.listReferrers(DEBIAN_BASE_DIGEST);
    expect(all.map((d) => d.digest).sort()).toEqual([bundle.digest, sbom.digest].sort());
    expect((await src.listReferrers(DEBIAN_BASE_DIGEST, SIGSTORE_BUNDLE)).map((d) => d.digest)).toEqual([
      bundle.digest,
    ]);
    const fallback = await src.getManifest(fallbackTag(DEBIAN_BASE_DIGEST));
    expect(fallback.mediaType).toBe(MediaType.ociIndex);
  });

  it("copies an image with every attachment in both schemes, for the index and each child", async () => {
    const src = repo(a, "signed/app");
    // An index over both images; a cosign .sig on the index and on one child; a v3 bundle on the other
    // child; and a signature on that bundle (an attachment of an attachment).
    const manifests = [];
    for (const digest of [DEBIAN_BASE_DIGEST, SHOP_DIGEST]) {
      const blob = await src.getManifest(digest);
      manifests.push({
        ...descriptorOf(blob),
        platform: { os: "linux", architecture: digest === SHOP_DIGEST ? "arm64" : "amd64" },
      });
    }
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
    const index = { bytes, mediaType: MediaType.ociIndex, digest: digestOf(bytes) };
    await src.writeManifest(index, "multi");
    const indexSig = await pushCosignSignature(src, index.digest);
    const childSig = await pushCosignSignature(src, SHOP_DIGEST);
    const bundle = await pushArtifact(src, {
      payload: Buffer.from('{"bundle":"shop"}'),
      layerMediaType: SIGSTORE_BUNDLE,
      artifactType: SIGSTORE_BUNDLE,
      subject: descriptorOf(await src.getManifest(SHOP_DIGEST)),
    });
    const bundleSig = await pushArtifact(src, {
      payload: Buffer.from('{"sig":"of the bundle"}'),
      layerMediaType: SIGSTORE_BUNDLE,
      artifactType: SIGSTORE_BUNDLE,
      subject: descriptorOf(bundle),
    });

    const dest = repo(b, "prod/app");
    const result = await copyImage(src, "multi", dest, "multi", { includeReferrers: true });
    expect(result.digest).toBe(index.digest);
    expect(result.referrers).toBeGreaterThanOrEqual(4);
    expect((await dest.getManifest(cosignTags(index.digest)[0] as string)).digest).toBe(indexSig.digest);
    expect((await dest.getManifest(cosignTags(SHOP_DIGEST)[0] as string)).digest).toBe(childSig.digest);
    const shopReferrers = (await dest.listReferrers(SHOP_DIGEST)).map((d) => d.digest);
    expect(shopReferrers).toContain(bundle.digest);
    expect((await dest.listReferrers(bundle.digest)).map((d) => d.digest)).toEqual([bundleSig.digest]);
    // The debian child's referrers from the first test came along too.
    expect((await dest.listReferrers(DEBIAN_BASE_DIGEST)).length).toBe(2);

    const bare = repo(b, "bare/app");
    const plain = await copyImage(src, "multi", bare, "multi");
    expect(plain.referrers).toBe(0);
    expect(await bare.listReferrers(SHOP_DIGEST)).toEqual([]);
    expect(await bare.client.headManifest("bare/app", cosignTags(index.digest)[0] as string)).toBeUndefined();
  });
});
