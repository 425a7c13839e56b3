// The OCI 1.1 referrers code paths against a registry that has the referrers
// API (test/harness/oci11-registry.ts), and across schemes with Debian's
// docker-registry 2.8, which has none and gets the `sha256-<hex>` fallback tag.
// Every assertion is on what the registries really hold or were asked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyImage } from "../../src/oci/copy.js";
import { digestOf } from "../../src/oci/digest.js";
import type { Descriptor } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseReference } from "../../src/oci/reference.js";
import { cosignTags, fallbackTag } from "../../src/oci/referrers.js";
import { applyRemoval, planRemoval } from "../../src/oci/remove.js";
import { RegistryRepository } from "../../src/oci/transports/registry.js";
import type { ManifestBlob } from "../../src/oci/transports/types.js";
import { type Oci11Registry, type RecordedRequest, startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { descriptorOf, pushArtifact, pushCosignSignature, SIGSTORE_BUNDLE } from "../helpers/artifacts.js";

const CYCLONEDX = "application/vnd.cyclonedx+json";
const SPDX = "application/spdx+json";
/** A fallback index tag, never a cosign `.sig/.att/.sbom` tag. */
const FALLBACK_TAG_PATH = /\/manifests\/sha256-[a-f0-9]{64}$/;

/** Referrers API, DELETE by tag, and tag lists in pages of two so every tag walk follows `Link`. */
let api: Oci11Registry;
/** The same server as a pre-1.1 registry: no referrers API, no OCI-Subject, no DELETE by tag. */
let old: Oci11Registry;
/** CNCF distribution 2.8: no referrers API either. */
let dr: TestRegistry;

beforeAll(async () => {
  [api, old, dr] = await Promise.all([
    startOci11Registry({ tagPageMax: 2 }),
    startOci11Registry({ referrersApi: false, deleteByTag: false }),
    startRegistry(),
  ]);
});

afterAll(async () => {
  await Promise.all([api?.stop(), old?.stop(), dr?.stop()]);
});

const repoOn = (host: string, path: string) =>
  new RegistryRepository(parseReference(`${host}/${path}`), { credentials: null });

/** The requests a registry served after `mark` (an earlier `requests.length`). */
const since = (reg: Oci11Registry, mark: number): RecordedRequest[] => reg.requests.slice(mark);

/** A small but complete image: an OCI config naming one layer, tagged `tag`. */
async function pushImage(repo: RegistryRepository, tag: string | undefined, seed: string) {
  const layer = await repo.client.uploadBytes(repo.repository, Buffer.from(`layer of ${seed}`));
  const config = await repo.client.uploadBytes(
    repo.repository,
    Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Labels: { seed } },
        rootfs: { type: "layers", diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: [{ mediaType: MediaType.ociLayer, digest: layer.digest, size: layer.size }],
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const blob: ManifestBlob = { bytes, mediaType: MediaType.ociManifest, digest: digestOf(bytes) };
  await repo.writeManifest(blob, tag);
  return blob;
}

/** An index over two single-platform images, tagged `tag`. */
async function pushIndex(repo: RegistryRepository, tag: string, seed: string) {
  const amd = await pushImage(repo, undefined, `${seed}-amd64`);
  const arm = await pushImage(repo, undefined, `${seed}-arm64`);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        { ...descriptorOf(amd), platform: { os: "linux", architecture: "amd64" } },
        { ...descriptorOf(arm), platform: { os: "linux", architecture: "arm64" } },
      ],
    }),
  );
  const index: ManifestBlob = { bytes, mediaType: MediaType.ociIndex, digest: digestOf(bytes) };
  await repo.writeManifest(index, tag);
  return { index, amd, arm };
}

const bundleOn = (repo: RegistryRepository, subject: ManifestBlob, note: string) =>
  pushArtifact(repo, {
    payload: Buffer.from(JSON.stringify({ mediaType: SIGSTORE_BUNDLE, note })),
    layerMediaType: SIGSTORE_BUNDLE,
    artifactType: SIGSTORE_BUNDLE,
    subject: descriptorOf(subject),
  });

const sbomOn = (repo: RegistryRepository, subject: ManifestBlob, note: string) =>
  pushArtifact(repo, {
    payload: Buffer.from(JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", note })),
    layerMediaType: CYCLONEDX,
    artifactType: CYCLONEDX,
    subject: descriptorOf(subject),
  });

/** The fallback index a registry holds for `subject`, or undefined when there is no such tag. */
async function fallbackIndexOf(repo: RegistryRepository, subject: string) {
  const head = await repo.client.headManifest(repo.repository, fallbackTag(subject));
  if (head === undefined) return undefined;
  const blob = await repo.getManifest(fallbackTag(subject));
  expect(blob.mediaType).toBe(MediaType.ociIndex);
  return JSON.parse(Buffer.from(blob.bytes).toString()) as { manifests: Descriptor[] };
}

async function allTags(repo: RegistryRepository): Promise<string[]> {
  const tags: string[] = [];
  for await (const tag of repo.listTags()) tags.push(tag);
  return tags.sort();
}

const digests = (ds: { digest: string }[]) => ds.map((d) => d.digest);

describe("listing referrers", () => {
  it("asks GET /v2/<name>/referrers/<digest> and returns what was pushed with that subject", async () => {
    const repo = repoOn(api.host, "list/app");
    const image = await pushImage(repo, "v1", "list");
    const other = await pushImage(repo, "v2", "list-other");
    const bundle = await bundleOn(repo, image, "one");
    const sbom = await sbomOn(repo, image, "two");
    // No artifactType: a referrers list reports the config's mediaType instead.
    const legacy = await pushArtifact(repo, {
      payload: Buffer.from("sig"),
      layerMediaType: "application/vnd.example.sig",
      configMediaType: "application/vnd.example.sig.config+json",
      subject: descriptorOf(image),
    });
    const unrelated = await sbomOn(repo, other, "not this one");

    const mark = api.requests.length;
    const listed = await repo.listReferrers(image.digest);
    expect(listed).toEqual([
      {
        mediaType: MediaType.ociManifest,
        digest: bundle.digest,
        size: bundle.bytes.length,
        artifactType: SIGSTORE_BUNDLE,
      },
      {
        mediaType: MediaType.ociManifest,
        digest: sbom.digest,
        size: sbom.bytes.length,
        artifactType: CYCLONEDX,
      },
      {
        mediaType: MediaType.ociManifest,
        digest: legacy.digest,
        size: legacy.bytes.length,
        artifactType: "application/vnd.example.sig.config+json",
      },
    ]);
    expect(listed.map((d) => d.digest)).not.toContain(unrelated.digest);
    // One GET on the API, and no look at a fallback tag: the registry has the API.
    expect(since(api, mark)).toEqual([{ method: "GET", path: `/v2/list/app/referrers/${image.digest}` }]);

    const filterMark = api.requests.length;
    expect(digests(await repo.listReferrers(image.digest, CYCLONEDX))).toEqual([sbom.digest]);
    expect(since(api, filterMark)).toEqual([
      {
        method: "GET",
        path: `/v2/list/app/referrers/${image.digest}?artifactType=${encodeURIComponent(CYCLONEDX)}`,
      },
    ]);
    expect(await repo.listReferrers(image.digest, SPDX)).toEqual([]);
    expect(await repo.client.referrers(repo.repository, image.digest)).toMatchObject({ supported: true });
    // A subject nobody refers to: an empty list, still from the API.
    expect(await repo.listReferrers(digestOf(Buffer.from("no such manifest")))).toEqual([]);
    expect(since(api, mark).every((r) => !FALLBACK_TAG_PATH.test(r.path))).toBe(true);
  });

  it("falls back to the sha256-<hex> tag when /referrers answers 404", async () => {
    const repo = repoOn(old.host, "list/app");
    const image = await pushImage(repo, "v1", "list");
    const bundle = await bundleOn(repo, image, "one");
    const sbom = await sbomOn(repo, image, "two");

    expect(await repo.client.referrers(repo.repository, image.digest)).toEqual({
      supported: false,
      descriptors: [],
    });
    const mark = old.requests.length;
    expect(digests(await repo.listReferrers(image.digest))).toEqual([bundle.digest, sbom.digest]);
    const asked = since(old, mark).map((r) => `${r.method} ${r.path}`);
    expect(asked[0]).toBe(`GET /v2/list/app/referrers/${image.digest}`);
    expect(asked).toContain(`HEAD /v2/list/app/manifests/${fallbackTag(image.digest)}`);
    expect(digests(await repo.listReferrers(image.digest, SIGSTORE_BUNDLE))).toEqual([bundle.digest]);
    expect(await repo.listReferrers(image.digest, SPDX)).toEqual([]);
  });
});

describe("pushing a referrer", () => {
  it("writes no fallback tag when the registry answers the PUT with OCI-Subject", async () => {
    const repo = repoOn(api.host, "push/app");
    const image = await pushImage(repo, "v1", "push");
    const mark = api.requests.length;
    const bundle = await bundleOn(repo, image, "one");
    const sbom = await sbomOn(repo, image, "two");

    const asked = since(api, mark);
    // The two referrers went up by digest, and nothing touched sha256-<hex>.
    expect(asked.filter((r) => r.method === "PUT" && r.path.includes("/manifests/"))).toEqual([
      { method: "PUT", path: `/v2/push/app/manifests/${bundle.digest}` },
      { method: "PUT", path: `/v2/push/app/manifests/${sbom.digest}` },
    ]);
    expect(asked.filter((r) => FALLBACK_TAG_PATH.test(r.path))).toEqual([]);
    expect(await fallbackIndexOf(repo, image.digest)).toBeUndefined();
    expect(await allTags(repo)).toEqual(["v1"]);
    expect(digests(await repo.listReferrers(image.digest))).toEqual([bundle.digest, sbom.digest]);
  });

  it("without OCI-Subject, creates the fallback index and appends each new referrer once", async () => {
    const repo = repoOn(old.host, "push/app");
    const image = await pushImage(repo, "v1", "push");
    const tagPath = `/v2/push/app/manifests/${fallbackTag(image.digest)}`;

    const bundle = await bundleOn(repo, image, "one");
    const first = await fallbackIndexOf(repo, image.digest);
    expect(first).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: bundle.digest,
          size: bundle.bytes.length,
          artifactType: SIGSTORE_BUNDLE,
        },
      ],
    });

    const mark = old.requests.length;
    const sbom = await sbomOn(repo, image, "two");
    expect(since(old, mark)).toContainEqual({ method: "PUT", path: tagPath });
    const second = await fallbackIndexOf(repo, image.digest);
    // Appended: the first referrer is still there, first.
    expect(second?.manifests).toEqual([
      first?.manifests[0],
      {
        mediaType: MediaType.ociManifest,
        digest: sbom.digest,
        size: sbom.bytes.length,
        artifactType: CYCLONEDX,
      },
    ]);

    // Pushing a referrer the index already lists leaves the index alone.
    const again = old.requests.length;
    await repo.writeManifest(sbom);
    expect(since(old, again).filter((r) => r.method === "PUT" && r.path === tagPath)).toEqual([]);
    expect((await fallbackIndexOf(repo, image.digest))?.manifests).toHaveLength(2);

    // Concurrent pushes for one subject must not lose each other's entry.
    const [c, d] = await Promise.all([bundleOn(repo, image, "three"), sbomOn(repo, image, "four")]);
    expect(digests(await repo.listReferrers(image.digest)).sort()).toEqual(
      [bundle.digest, sbom.digest, c.digest, d.digest].sort(),
    );
    expect(await allTags(repo)).toEqual([fallbackTag(image.digest), "v1"].sort());
  });
});

describe("copy with referrers across the two schemes", () => {
  it("from a referrers-API registry to docker-registry 2.8: listed there through the fallback tag", async () => {
    const src = repoOn(api.host, "cross/app");
    const { index, amd, arm } = await pushIndex(src, "1.0", "cross");
    const bundle = await bundleOn(src, index, "index bundle");
    const sbom = await sbomOn(src, arm, "arm sbom");
    const bundleSig = await bundleOn(src, bundle, "signature of the bundle");
    const legacySig = await pushCosignSignature(src, index.digest);

    const dest = repoOn(dr.host, "cross/app");
    const mark = api.requests.length;
    const result = await copyImage(src, "1.0", dest, "1.0", { includeReferrers: true });
    expect(result.digest).toBe(index.digest);
    expect(result.referrers).toBe(4);
    // The source was asked through its API for the index, both children and the referrers themselves.
    const asked = since(api, mark);
    for (const subject of [index, amd, arm, bundle, sbom, bundleSig, legacySig]) {
      expect(asked).toContainEqual({ method: "GET", path: `/v2/cross/app/referrers/${subject.digest}` });
    }
    expect(asked.filter((r) => FALLBACK_TAG_PATH.test(r.path))).toEqual([]);

    // docker-registry 2.8 has no API: the copy left fallback indexes, and listing goes through them.
    expect(await dest.client.referrers(dest.repository, index.digest)).toMatchObject({ supported: false });
    expect((await fallbackIndexOf(dest, index.digest))?.manifests).toEqual([
      {
        mediaType: MediaType.ociManifest,
        digest: bundle.digest,
        size: bundle.bytes.length,
        artifactType: SIGSTORE_BUNDLE,
      },
    ]);
    expect(digests(await dest.listReferrers(arm.digest, CYCLONEDX))).toEqual([sbom.digest]);
    expect(digests(await dest.listReferrers(bundle.digest))).toEqual([bundleSig.digest]);
    expect(await dest.listReferrers(amd.digest)).toEqual([]);
    expect((await dest.getManifest(cosignTags(index.digest)[0] as string)).digest).toBe(legacySig.digest);
    for (const referrer of [bundle, sbom, bundleSig]) {
      expect(Buffer.from((await dest.getManifest(referrer.digest)).bytes)).toEqual(
        Buffer.from(referrer.bytes),
      );
    }
    expect(await allTags(dest)).toEqual(
      [
        "1.0",
        fallbackTag(index.digest),
        fallbackTag(arm.digest),
        fallbackTag(bundle.digest),
        cosignTags(index.digest)[0] as string,
      ].sort(),
    );
  });

  it("from docker-registry 2.8 to a referrers-API registry: listed there through the API, no fallback tag", async () => {
    const src = repoOn(dr.host, "back/app");
    const image = await pushImage(src, "2.0", "back");
    const bundle = await bundleOn(src, image, "bundle");
    const sbom = await sbomOn(src, image, "sbom");
    const bundleSig = await bundleOn(src, bundle, "signature of the bundle");
    const legacySig = await pushCosignSignature(src, image.digest);
    // The source keeps them in fallback indexes.
    expect(digests((await fallbackIndexOf(src, image.digest))?.manifests ?? [])).toEqual([
      bundle.digest,
      sbom.digest,
    ]);

    const dest = repoOn(api.host, "back/app");
    const mark = api.requests.length;
    const result = await copyImage(src, "2.0", dest, "2.0", { includeReferrers: true });
    expect(result.referrers).toBe(4);
    const written = since(api, mark).filter((r) => r.method === "PUT" && r.path.includes("/manifests/"));
    expect(written.filter((r) => FALLBACK_TAG_PATH.test(r.path))).toEqual([]);
    expect(written).toContainEqual({
      method: "PUT",
      path: `/v2/back/app/manifests/${cosignTags(image.digest)[0]}`,
    });

    const listMark = api.requests.length;
    expect(digests(await dest.listReferrers(image.digest))).toEqual([bundle.digest, sbom.digest]);
    expect(since(api, listMark)).toEqual([{ method: "GET", path: `/v2/back/app/referrers/${image.digest}` }]);
    expect(digests(await dest.listReferrers(image.digest, SIGSTORE_BUNDLE))).toEqual([bundle.digest]);
    expect(digests(await dest.listReferrers(bundle.digest))).toEqual([bundleSig.digest]);
    expect(await fallbackIndexOf(dest, image.digest)).toBeUndefined();
    expect(await fallbackIndexOf(dest, bundle.digest)).toBeUndefined();
    // Only the release tag and the cosign tag: the source's sha256-<hex> indexes stay behind.
    expect(await allTags(dest)).toEqual(["2.0", cosignTags(image.digest)[0] as string].sort());
    expect((await dest.getManifest(cosignTags(image.digest)[0] as string)).digest).toBe(legacySig.digest);
  });
});

describe("copy with a stale fallback index", () => {
  it("skips a referrer the fallback index still lists after another client deleted it", async () => {
    const src = repoOn(old.host, "stale/app");
    const image = await pushImage(src, "v1", "stale");
    const bundle = await bundleOn(src, image, "bundle");
    const sbom = await sbomOn(src, image, "sbom");
    // Deleted straight through the API, as a client that does not maintain the fallback index would.
    await src.client.deleteManifest(src.repository, sbom.digest);
    expect(digests(await src.listReferrers(image.digest))).toEqual([bundle.digest, sbom.digest]);

    const dest = repoOn(dr.host, "stale/app");
    const result = await copyImage(src, "v1", dest, "v1", { includeReferrers: true });
    expect(result.referrers).toBe(1);
    expect(await dest.resolve("v1")).toBe(image.digest);
    expect(digests(await dest.listReferrers(image.digest))).toEqual([bundle.digest]);
  });
});

describe("remove", () => {
  it("removes a tag with DELETE by tag where the registry allows it, and keeps the other tags", async () => {
    const repo = repoOn(api.host, "rm/tag");
    const image = await pushImage(repo, "v1", "rm-tag");
    for (const tag of ["v2", "latest"]) await repo.writeManifest(image, tag);
    const other = await pushImage(repo, "v3", "rm-tag-other");
    await bundleOn(repo, image, "stays with the image");

    const plan = await planRemoval(repo, "v1");
    // The tags come in pages of two here: the plan saw past the first page.
    expect(plan).toMatchObject({
      kind: "tag",
      digest: image.digest,
      otherTags: ["latest", "v2"],
      attachments: [],
    });

    const mark = api.requests.length;
    const result = await applyRemoval(repo, plan);
    expect(result).toEqual({ method: "delete-by-tag", deleted: ["v1"] });
    const changes = since(api, mark).filter((r) => r.method === "DELETE" || r.method === "PUT");
    expect(changes).toEqual([{ method: "DELETE", path: "/v2/rm/tag/manifests/v1" }]);

    expect(await repo.client.headManifest(repo.repository, "v1")).toBeUndefined();
    expect(await repo.resolve("v2")).toBe(image.digest);
    expect(await repo.resolve("latest")).toBe(image.digest);
    expect(await repo.resolve("v3")).toBe(other.digest);
    expect(await repo.listReferrers(image.digest)).toHaveLength(1);
    expect(await allTags(repo)).toEqual(["latest", "v2", "v3"]);
  });

  it("falls back to retag-and-delete where DELETE by tag is refused, keeping the other tags", async () => {
    const repo = repoOn(old.host, "rm/tag");
    const image = await pushImage(repo, "v1", "rm-tag");
    await repo.writeManifest(image, "v2");

    const plan = await planRemoval(repo, "v1");
    expect(plan.otherTags).toEqual(["v2"]);
    const mark = old.requests.length;
    expect(await applyRemoval(repo, plan)).toEqual({ method: "retag-and-delete", deleted: ["v1"] });
    const changes = since(old, mark).filter((r) => r.method === "DELETE" || r.method === "PUT");
    expect(changes[0]).toEqual({ method: "DELETE", path: "/v2/rm/tag/manifests/v1" });
    expect(changes).toContainEqual({ method: "PUT", path: "/v2/rm/tag/manifests/v1" });
    expect(changes).not.toContainEqual({ method: "DELETE", path: `/v2/rm/tag/manifests/${image.digest}` });

    expect(await repo.client.headManifest(repo.repository, "v1")).toBeUndefined();
    expect(await repo.resolve("v2")).toBe(image.digest);
    expect(await allTags(repo)).toEqual(["v2"]);
  });

  it("removes a digest with its referrers, their referrers and its cosign tags (referrers API)", async () => {
    const repo = repoOn(api.host, "rm/digest");
    const image = await pushImage(repo, "v1", "rm-digest");
    await repo.writeManifest(image, "stable");
    const bundle = await bundleOn(repo, image, "bundle");
    const sbom = await sbomOn(repo, image, "sbom");
    const bundleSig = await bundleOn(repo, bundle, "signature of the bundle");
    const legacySig = await pushCosignSignature(repo, image.digest);
    const keep = await pushImage(repo, "keep", "rm-digest-keep");
    const keepSbom = await sbomOn(repo, keep, "keep");

    const plan = await planRemoval(repo, image.digest);
    expect(plan.kind).toBe("digest");
    expect(plan.otherTags).toEqual(["stable", "v1"]);
    expect(digests(plan.attachments).sort()).toEqual(
      [bundle.digest, sbom.digest, bundleSig.digest, legacySig.digest].sort(),
    );
    expect(plan.attachments).toContainEqual({
      digest: bundleSig.digest,
      via: `referrer ${SIGSTORE_BUNDLE} of ${bundle.digest}`,
    });
    expect(plan.attachments).toContainEqual({ digest: sbom.digest, via: `referrer ${CYCLONEDX}` });
    expect(plan.attachments).toContainEqual({
      digest: legacySig.digest,
      via: `tag ${cosignTags(image.digest)[0]}`,
    });

    const mark = api.requests.length;
    const result = await applyRemoval(repo, plan);
    expect(result.method).toBe("delete-manifest");
    expect(result.deleted.sort()).toEqual(
      [image.digest, bundle.digest, sbom.digest, bundleSig.digest, legacySig.digest].sort(),
    );
    // Nothing to fix up in fallback indexes on a registry with the API.
    expect(since(api, mark).filter((r) => r.method === "PUT")).toEqual([]);

    for (const gone of [image, bundle, sbom, bundleSig, legacySig]) {
      await expect(repo.getManifest(gone.digest)).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await repo.listReferrers(image.digest)).toEqual([]);
    expect(await repo.listReferrers(bundle.digest)).toEqual([]);
    expect(await allTags(repo)).toEqual(["keep"]);
    expect(digests(await repo.listReferrers(keep.digest))).toEqual([keepSbom.digest]);
  });

  it("removes a digest with its referrers and fallback indexes on docker-registry 2.8", async () => {
    const repo = repoOn(dr.host, "rm/digest");
    const image = await pushImage(repo, "v1", "rm-digest");
    const bundle = await bundleOn(repo, image, "bundle");
    const sbom = await sbomOn(repo, image, "sbom");
    const bundleSig = await bundleOn(repo, bundle, "signature of the bundle");
    const legacySig = await pushCosignSignature(repo, image.digest);
    const keep = await pushImage(repo, "keep", "rm-digest-keep");
    const keepSbom = await sbomOn(repo, keep, "keep");
    const imageIndex = await repo.getManifest(fallbackTag(image.digest));
    const bundleIndex = await repo.getManifest(fallbackTag(bundle.digest));

    const plan = await planRemoval(repo, image.digest);
    expect(plan.otherTags).toEqual(["v1"]);
    expect(digests(plan.attachments).sort()).toEqual(
      [
        bundle.digest,
        sbom.digest,
        bundleSig.digest,
        legacySig.digest,
        imageIndex.digest,
        bundleIndex.digest,
      ].sort(),
    );
    await applyRemoval(repo, plan);

    for (const gone of [image, bundle, sbom, bundleSig, legacySig, imageIndex, bundleIndex]) {
      await expect(repo.getManifest(gone.digest)).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await repo.listReferrers(image.digest)).toEqual([]);
    expect(await allTags(repo)).toEqual([fallbackTag(keep.digest), "keep"].sort());
    expect(digests(await repo.listReferrers(keep.digest))).toEqual([keepSbom.digest]);
  });

  it("removing one referrer by digest takes it out of its subject's fallback index", async () => {
    const repo = repoOn(dr.host, "rm/referrer");
    const image = await pushImage(repo, "v1", "rm-referrer");
    const bundle = await bundleOn(repo, image, "bundle");
    const sbom = await sbomOn(repo, image, "sbom");

    const plan = await planRemoval(repo, sbom.digest);
    expect(plan.attachments).toEqual([]);
    expect(plan.fallbackIndex).toEqual({ subject: image.digest, tag: fallbackTag(image.digest) });
    const mark = (await fallbackIndexOf(repo, image.digest))?.manifests;
    expect(digests(mark ?? [])).toEqual([bundle.digest, sbom.digest]);
    expect(await applyRemoval(repo, plan)).toEqual({ method: "delete-manifest", deleted: [sbom.digest] });
    await expect(repo.getManifest(sbom.digest)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(digests((await fallbackIndexOf(repo, image.digest))?.manifests ?? [])).toEqual([bundle.digest]);
    expect(digests(await repo.listReferrers(image.digest))).toEqual([bundle.digest]);

    // What remains copies cleanly: no dangling entry to trip over.
    const dest = repoOn(api.host, "rm/referrer");
    const copied = await copyImage(repo, "v1", dest, "v1", { includeReferrers: true });
    expect(copied.referrers).toBe(1);
    expect(digests(await dest.listReferrers(image.digest))).toEqual([bundle.digest]);

    // The last one out takes the emptied index and its tag along.
    const lastIndex = await repo.getManifest(fallbackTag(image.digest));
    const last = await planRemoval(repo, bundle.digest);
    expect(last.fallbackIndex).toEqual({ subject: image.digest, tag: fallbackTag(image.digest) });
    expect(await applyRemoval(repo, last)).toEqual({
      method: "delete-manifest",
      deleted: [bundle.digest, lastIndex.digest],
    });
    expect(await fallbackIndexOf(repo, image.digest)).toBeUndefined();
    expect(await repo.listReferrers(image.digest)).toEqual([]);
    expect(await repo.resolve("v1")).toBe(image.digest);
    expect(await allTags(repo)).toEqual(["v1"]);
  });

  it("removing one referrer by digest on a referrers-API registry touches no fallback tag", async () => {
    const repo = repoOn(api.host, "rm/referrer");
    const image = await pushImage(repo, "v9", "rm-referrer-api");
    const bundle = await bundleOn(repo, image, "bundle");
    const sbom = await sbomOn(repo, image, "sbom");
    const plan = await planRemoval(repo, sbom.digest);
    expect(plan.fallbackIndex).toBeUndefined();
    const mark = api.requests.length;
    await applyRemoval(repo, plan);
    const asked = since(api, mark);
    expect(asked.filter((r) => r.method === "PUT")).toEqual([]);
    expect(asked.filter((r) => r.method === "DELETE")).toEqual([
      { method: "DELETE", path: `/v2/rm/referrer/manifests/${sbom.digest}` },
    ]);
    expect(digests(await repo.listReferrers(image.digest))).toEqual([bundle.digest]);
  });
});
