import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShipgateError } from "../../../src/errors.js";
import { copyImage } from "../../../src/oci/copy.js";
import { digestOf } from "../../../src/oci/digest.js";
import { type Descriptor, parseManifest } from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/mediatypes.js";
import { fallbackTag } from "../../../src/oci/referrers.js";
import { OciLayout, REF_NAME_ANNOTATION } from "../../../src/oci/transports/layout.js";
import type { ManifestBlob } from "../../../src/oci/transports/types.js";
import { skopeoCopy, skopeoInspectRaw } from "../../harness/skopeo.js";
import { makeTempDir, removeTempDir } from "../../harness/util.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES, SHOP_DIGEST } from "../../helpers/cli.js";

let dir: string;
let shared: OciLayout;

beforeAll(async () => {
  dir = makeTempDir("layout");
  shared = await OciLayout.open(SHARED_IMAGES);
});

afterAll(async () => {
  await removeTempDir(dir);
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ShipgateError)
      return `${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ""}`;
    throw error;
  }
  return "no error";
}

function manifestBlob(document: unknown, mediaType: string = MediaType.ociManifest): ManifestBlob {
  const bytes = Buffer.from(JSON.stringify(document));
  return { bytes, mediaType, digest: digestOf(bytes) };
}

const descriptorOf = (m: ManifestBlob): Descriptor => ({
  mediaType: m.mediaType,
  digest: m.digest,
  size: m.bytes.length,
});

async function putBytes(
  layout: OciLayout,
  bytes: Buffer,
  mediaType = "application/octet-stream",
): Promise<Descriptor> {
  const d = { mediaType, digest: digestOf(bytes), size: bytes.length };
  await layout.writeBlob(d, Readable.from([bytes]));
  return d;
}

/** Copies one tagged image blob by blob, with OciLayout on both sides, as the brief's skopeo check asks. */
async function copyByHand(from: OciLayout, tag: string, to: OciLayout): Promise<ManifestBlob> {
  const manifest = await from.getManifest(tag);
  const parsed = parseManifest(manifest.bytes, manifest.mediaType, tag);
  if (parsed.kind !== "manifest") throw new Error("expected a manifest");
  for (const d of [parsed.manifest.config, ...parsed.manifest.layers]) {
    if (!(await to.blobExists(d))) await to.writeBlob(d, await from.openBlob(d));
  }
  await to.writeManifest(manifest, tag);
  return manifest;
}

describe("layouts skopeo reads", () => {
  it("writes an image skopeo inspects and copies, with the same digest", async () => {
    const path = join(dir, "debian");
    const layout = await OciLayout.open(path, { create: true });
    const written = await copyByHand(shared, "debian-base", layout);
    expect(written.digest).toBe(DEBIAN_BASE_DIGEST);
    const index = JSON.parse(await readFile(join(path, "index.json"), "utf8")) as { manifests: Descriptor[] };
    expect(index.manifests).toEqual([
      { ...descriptorOf(written), annotations: { [REF_NAME_ANNOTATION]: "debian-base" } },
    ]);
    const raw = await skopeoInspectRaw(`oci:${path}:debian-base`);
    expect(Buffer.compare(raw, Buffer.from(written.bytes))).toBe(0);
    await skopeoCopy(`oci:${path}:debian-base`, `oci:${join(dir, "debian-2")}:x`);
    const back = await OciLayout.open(join(dir, "debian-2"));
    expect((await back.getManifest("x")).digest).toBe(DEBIAN_BASE_DIGEST);
    expect(back.defaultReference).toBe(DEBIAN_BASE_DIGEST);
  });

  it("holds an index and its untagged children, which skopeo copies whole", async () => {
    const path = join(dir, "multi");
    const layout = await OciLayout.open(path, { create: true });
    const children = [];
    for (const tag of ["debian-base", "shop-1.4.2"])
      children.push(descriptorOf(await copyByHand(shared, tag, layout)));
    // Children written untagged are plain blobs; only the index is tagged.
    await layout.deleteTag("debian-base");
    await layout.deleteTag("shop-1.4.2");
    const index = manifestBlob(
      { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: children },
      MediaType.ociIndex,
    );
    await layout.writeManifest(index, "multi");
    expect((await layout.listManifests()).map((e) => [e.tag, e.descriptor.digest])).toEqual([
      ["multi", index.digest],
    ]);
    const child = await layout.getManifest(SHOP_DIGEST);
    expect(child.mediaType).toBe(MediaType.ociManifest);
    expect(layout.defaultReference).toBeUndefined(); // opened before anything was written
    expect((await OciLayout.open(path)).defaultReference).toBe(index.digest);
    await skopeoCopy(`oci:${path}:multi`, `oci:${join(dir, "multi-2")}:m`, ["--all"]);
    expect((await (await OciLayout.open(join(dir, "multi-2"))).getManifest("m")).digest).toBe(index.digest);
  });

  it("works as a copyImage source and destination", async () => {
    const layout = await OciLayout.open(join(dir, "copied"), { create: true });
    const result = await copyImage(shared, "shop-1.4.2", layout, "shop");
    expect(result.digest).toBe(SHOP_DIGEST);
    const raw = await skopeoInspectRaw(`oci:${join(dir, "copied")}:shop`);
    expect(digestOf(raw)).toBe(SHOP_DIGEST);
  });
});

describe("tags, references and index.json updates", () => {
  it("replaces a tag, keeps other entries, resolves @N and lists tags", async () => {
    const layout = await OciLayout.open(join(dir, "tags"), { create: true });
    const a = manifestBlob(
      { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] },
      MediaType.ociIndex,
    );
    const b = manifestBlob(
      { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [], annotations: { v: "2" } },
      MediaType.ociIndex,
    );
    await layout.writeManifest(a, "one");
    await layout.writeManifest(a, "keep");
    await layout.writeManifest(b, "one");
    const entries = await layout.listManifests();
    expect(entries.map((e) => [e.tag, e.descriptor.digest])).toEqual([
      ["keep", a.digest],
      ["one", b.digest],
    ]);
    expect((await layout.getManifest("one")).digest).toBe(b.digest);
    expect((await layout.getManifest("@0")).digest).toBe(a.digest);
    const tags: string[] = [];
    for await (const t of layout.listTags()) tags.push(t);
    expect(tags).toEqual(["keep", "one"]);
    expect(await codeOf(layout.writeManifest(a, "-bad"))).toMatch(/^INVALID_REFERENCE/);
  });

  it("does not lose entries when many tags are written at once, from two objects on one directory", async () => {
    const path = join(dir, "parallel");
    const [x, y] = await Promise.all([
      OciLayout.open(path, { create: true }),
      OciLayout.open(path, { create: true }),
    ]);
    const writes = Array.from({ length: 40 }, (_, i) => {
      const m = manifestBlob(
        { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [], annotations: { i: String(i) } },
        MediaType.ociIndex,
      );
      return (i % 2 === 0 ? x : y).writeManifest(m, `t${i}`);
    });
    await Promise.all(writes);
    expect((await x.listManifests()).length).toBe(40);
  });

  it("deletes a tag (blobs stay), or every entry of a digest", async () => {
    const layout = await OciLayout.open(join(dir, "delete"), { create: true });
    const m = manifestBlob(
      { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] },
      MediaType.ociIndex,
    );
    await layout.writeManifest(m, "a");
    await layout.writeManifest(m, "b");
    await layout.deleteTag("a");
    expect((await layout.listManifests()).map((e) => e.tag)).toEqual(["b"]);
    expect(await layout.manifestExists(m.digest)).toBe(true);
    expect(await codeOf(layout.deleteTag("a"))).toMatch(/^NOT_FOUND: .*"a".*available tags: b/);
    await layout.deleteTag(m.digest);
    expect(await layout.listManifests()).toEqual([]);
    expect((await layout.getManifest(m.digest)).digest).toBe(m.digest);
  });
});

describe("referrers", () => {
  it("records untagged referrers in index.json and lists them like the referrers API, with the fallback tag too", async () => {
    const path = join(dir, "referrers");
    const layout = await OciLayout.open(path, { create: true });
    const subject = descriptorOf(await copyByHand(shared, "debian-base", layout));
    const empty = await putBytes(layout, Buffer.from("{}"), MediaType.ociEmpty);
    const sbomLayer = await putBytes(
      layout,
      Buffer.from('{"bomFormat":"CycloneDX"}'),
      "application/vnd.cyclonedx+json",
    );
    const sbom = manifestBlob({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: "application/vnd.cyclonedx+json",
      config: empty,
      layers: [sbomLayer],
      subject,
      annotations: { "org.opencontainers.image.created": "2024-01-15T10:00:00Z" },
    });
    const sig = manifestBlob({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { ...empty, mediaType: "application/vnd.example.sig" },
      layers: [sbomLayer],
      subject,
    });
    await layout.writeManifest(sbom);
    await layout.writeManifest(sig);
    await layout.writeManifest(sbom); // again: still one entry
    const entries = await layout.listManifests();
    expect(entries.filter((e) => e.tag === undefined).map((e) => e.descriptor.digest)).toEqual([
      sbom.digest,
      sig.digest,
    ]);

    const all = await layout.listReferrers(subject.digest);
    expect(all).toEqual([
      {
        ...descriptorOf(sbom),
        artifactType: "application/vnd.cyclonedx+json",
        annotations: { "org.opencontainers.image.created": "2024-01-15T10:00:00Z" },
      },
      { ...descriptorOf(sig), artifactType: "application/vnd.example.sig" },
    ]);
    expect(
      (await layout.listReferrers(subject.digest, "application/vnd.example.sig")).map((d) => d.digest),
    ).toEqual([sig.digest]);
    expect(await layout.listReferrers(empty.digest)).toEqual([]);

    // A tag-schema fallback index (as copied from a registry without the referrers API) counts too, deduplicated.
    const other = {
      mediaType: MediaType.ociManifest,
      digest: digestOf(Buffer.from("x")),
      size: 1,
      artifactType: "application/x",
    };
    const fallback = manifestBlob(
      { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [descriptorOf(sbom), other] },
      MediaType.ociIndex,
    );
    await layout.writeManifest(fallback, fallbackTag(subject.digest));
    expect((await layout.listReferrers(subject.digest)).map((d) => d.digest)).toEqual([
      sbom.digest,
      sig.digest,
      other.digest,
    ]);

    // skopeo still reads the layout with untagged entries in it.
    expect(digestOf(await skopeoInspectRaw(`oci:${path}:debian-base`))).toBe(subject.digest);
  });
});

describe("bad layouts and bad input", () => {
  it("names the path when a directory is missing or not a layout", async () => {
    expect(await codeOf(OciLayout.open(join(dir, "absent")))).toMatch(
      /^LAYOUT_INVALID: .*absent: does not exist/,
    );
    const plain = join(dir, "plain");
    await mkdir(plain);
    await writeFile(join(plain, "notes.txt"), "hi");
    expect(await codeOf(OciLayout.open(plain))).toMatch(
      /^LAYOUT_INVALID: .*plain: is not an OCI image layout \(no oci-layout/,
    );
    expect(await codeOf(OciLayout.open(plain, { create: true }))).toMatch(
      /^LAYOUT_INVALID: .*is not empty and not an OCI image layout/,
    );
    expect(await codeOf(OciLayout.open(join(plain, "notes.txt")))).toMatch(
      /^LAYOUT_INVALID: .*is not a directory/,
    );
  });

  it("refuses a missing or broken index.json and a wrong layout version", async () => {
    const noIndex = join(dir, "no-index");
    await mkdir(noIndex);
    await writeFile(join(noIndex, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    expect(await codeOf(OciLayout.open(noIndex))).toMatch(
      /^LAYOUT_INVALID: .*no-index: is not an OCI image layout \(no index\.json\)/,
    );
    await writeFile(join(noIndex, "index.json"), "{not json");
    expect(await codeOf(OciLayout.open(noIndex))).toMatch(
      /^LAYOUT_INVALID: .*no-index\/index\.json: is not a valid image index/,
    );
    await writeFile(join(noIndex, "index.json"), '{"schemaVersion":2,"manifests":[{"digest":"nope"}]}');
    expect(await codeOf(OciLayout.open(noIndex))).toMatch(/^LAYOUT_INVALID: .*index\.json/);
    await writeFile(join(noIndex, "oci-layout"), '{"imageLayoutVersion":"2.0.0"}');
    expect(await codeOf(OciLayout.open(noIndex))).toMatch(
      /^LAYOUT_INVALID: .*oci-layout: imageLayoutVersion is "2\.0\.0"/,
    );
  });

  it("lists the available tags when a tag is unknown, and names the path of a missing blob", async () => {
    expect(await codeOf(shared.getManifest("nope"))).toMatch(
      /^NOT_FOUND: .*"nope".*available tags: debian-base, shop-1\.4\.2/,
    );
    const missing = { mediaType: "x", digest: digestOf(Buffer.from("missing")), size: 7 };
    expect(await codeOf(shared.openBlob(missing))).toMatch(/^NOT_FOUND: .*blobs\/sha256\/[0-9a-f]{64}/);
    expect(await codeOf(shared.getManifest(missing.digest))).toMatch(/^NOT_FOUND/);
  });

  it("refuses a tampered manifest blob", async () => {
    const path = join(dir, "tampered");
    const layout = await OciLayout.open(path, { create: true });
    const m = await copyByHand(shared, "debian-base", layout);
    const file = join(path, "blobs", "sha256", m.digest.slice(7));
    // Same length, one byte different: the config size a substituted manifest might lie about.
    const tampered = Buffer.from(m.bytes).toString("utf8").replace('"size":559', '"size":558');
    expect(tampered.length).toBe(m.bytes.length);
    await writeFile(file, tampered);
    expect(await codeOf(layout.getManifest("debian-base"))).toMatch(/^DIGEST_MISMATCH/);
    expect(await codeOf(layout.getManifest(m.digest))).toMatch(/^DIGEST_MISMATCH/);
  });

  it("writeBlob fed the wrong content, too few bytes or a failing stream leaves no file behind", async () => {
    const path = join(dir, "writes");
    const layout = await OciLayout.open(path, { create: true });
    const good = Buffer.from("the right content");
    const d = { mediaType: "x", digest: digestOf(good), size: good.length };
    const blobDir = join(path, "blobs", "sha256");
    expect(await codeOf(layout.writeBlob(d, Readable.from([Buffer.from("the wrong content")])))).toMatch(
      /^DIGEST_MISMATCH/,
    );
    expect(await codeOf(layout.writeBlob(d, Readable.from([good.subarray(0, 5)])))).toMatch(/^SIZE_MISMATCH/);
    const failing = new PassThrough();
    const write = codeOf(layout.writeBlob(d, failing));
    failing.write(good.subarray(0, 3));
    setTimeout(() => failing.destroy(new ShipgateError("NETWORK", "connection reset")), 20);
    expect(await write).toMatch(/^NETWORK/);
    expect(await readdir(blobDir)).toEqual([]);
    expect(await layout.blobExists(d)).toBe(false);
    await layout.writeBlob(d, Readable.from([good]));
    expect(await readdir(blobDir)).toEqual([d.digest.slice(7)]);
    expect(await layout.blobExists(d)).toBe(true);
    expect(await layout.blobExists({ ...d, size: d.size + 1 })).toBe(false);
  });
});
