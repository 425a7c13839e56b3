import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShipgateError } from "../../../src/errors.js";
import { copyImage } from "../../../src/oci/copy.js";
import { VerifyingStream } from "../../../src/oci/digest.js";
import { type Descriptor, parseManifest } from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/mediatypes.js";
import { DOCKER_LAYER_TAR, DockerArchive } from "../../../src/oci/transports/archive.js";
import { OciLayout } from "../../../src/oci/transports/layout.js";
import { skopeoCopy, skopeoInspectRaw } from "../../harness/skopeo.js";
import { makeTempDir, removeTempDir } from "../../harness/util.js";
import { SHARED_IMAGES } from "../../helpers/cli.js";
import { mergeArchives, sha256, syntheticImage, type TarItem, tinyLayer, writeTar } from "./fixtures.js";

let dir: string;
let debianTar: string;
let shopTar: string;

beforeAll(async () => {
  dir = makeTempDir("archive");
  debianTar = join(dir, "debian.tar");
  shopTar = join(dir, "shop.tar");
  await Promise.all([
    skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker-archive:${debianTar}:test/debian:1`, [
      "--additional-tag",
      "test/debian:latest",
    ]),
    skopeoCopy(`oci:${SHARED_IMAGES}:shop-1.4.2`, `docker-archive:${shopTar}:test/shop:1.4.2`),
  ]);
}, 180_000);

afterAll(async () => {
  await removeTempDir(dir);
});

/** Reads a blob through a VerifyingStream, so offsets and digests are both checked. */
async function drainVerified(archive: DockerArchive, d: Descriptor): Promise<number> {
  let n = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      n += chunk.length;
      cb();
    },
  });
  await pipeline(await archive.openBlob(d), new VerifyingStream(d.digest, d.size, d.digest), sink);
  return n;
}

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

describe("docker-archive written by skopeo", () => {
  it("in skopeo mode synthesizes the manifest skopeo does, byte for byte", async () => {
    const archive = await DockerArchive.open(debianTar, undefined, { layers: "skopeo" });
    const mine = await archive.getManifest(archive.defaultReference as string);
    const theirs = await skopeoInspectRaw(`docker-archive:${debianTar}`);
    expect(Buffer.from(mine.bytes).toString("utf8")).toBe(theirs.toString("utf8"));
    expect(mine.digest).toBe(sha256(theirs));
    expect(archive.defaultReference).toBe(mine.digest);
  });

  it("by default labels uncompressed layers as plain tar, with the same digests and sizes", async () => {
    const archive = await DockerArchive.open(debianTar);
    const blob = await archive.getManifest("test/debian:1");
    expect(blob.mediaType).toBe(MediaType.dockerManifest);
    const parsed = parseManifest(blob.bytes, blob.mediaType, "test");
    if (parsed.kind !== "manifest") throw new Error("expected a manifest");
    expect(parsed.manifest.config.mediaType).toBe(MediaType.dockerConfig);
    const skopeo = JSON.parse((await skopeoInspectRaw(`docker-archive:${debianTar}`)).toString("utf8")) as {
      layers: Descriptor[];
      config: Descriptor;
    };
    expect(parsed.manifest.config).toEqual(skopeo.config);
    expect(parsed.manifest.layers.map((l) => l.mediaType)).toEqual([DOCKER_LAYER_TAR]);
    expect(parsed.manifest.layers.map(({ digest, size }) => ({ digest, size }))).toEqual(
      skopeo.layers.map(({ digest, size }) => ({ digest, size })),
    );
    for (const d of [parsed.manifest.config, ...parsed.manifest.layers])
      expect(await drainVerified(archive, d)).toBe(d.size);
  });

  it("resolves tags the way skopeo does, lists RepoTags, and names what exists when a tag is unknown", async () => {
    const archive = await DockerArchive.open(debianTar);
    const tags: string[] = [];
    for await (const t of archive.listTags()) tags.push(t);
    expect(tags).toEqual(["docker.io/test/debian:1", "docker.io/test/debian:latest"]);
    const digest = archive.defaultReference;
    for (const ref of [
      "test/debian:1",
      "docker.io/test/debian:latest",
      "test/debian",
      "@0",
      digest as string,
    ]) {
      expect((await archive.getManifest(ref)).digest).toBe(digest);
    }
    const missing = await codeOf(archive.getManifest("test/debian:2"));
    expect(missing).toMatch(/^NOT_FOUND: .*test\/debian:2.*docker\.io\/test\/debian:1/);
    expect(await codeOf(DockerArchive.open(debianTar, "other:1"))).toMatch(/^NOT_FOUND/);
    expect(await codeOf(archive.getManifest("@1"))).toMatch(/^NOT_FOUND/);
    expect(await archive.listReferrers()).toEqual([]);
  });

  it("reads a multi-image archive; with no reference given, one must be named", async () => {
    const multi = join(dir, "multi.tar");
    await mergeArchives(multi, [debianTar, shopTar]);
    const archive = await DockerArchive.open(multi, undefined, { layers: "skopeo" });
    expect(archive.images).toHaveLength(2);
    expect(archive.defaultReference).toBeUndefined();
    for (const [ref, skopeoRef] of [
      ["test/shop:1.4.2", "test/shop:1.4.2"],
      ["@0", "@0"],
      ["@1", "@1"],
    ] as const) {
      const mine = await archive.getManifest(ref);
      const theirs = await skopeoInspectRaw(`docker-archive:${multi}:${skopeoRef}`);
      expect(mine.digest).toBe(sha256(theirs));
    }
    const shop = parseManifest((await archive.getManifest("@1")).bytes, undefined, "shop");
    if (shop.kind !== "manifest") throw new Error("expected a manifest");
    expect(shop.manifest.layers).toHaveLength(4);
    expect(await drainVerified(archive, shop.manifest.layers[3] as Descriptor)).toBeGreaterThan(0);
    expect(await codeOf(DockerArchive.open(multi, "test/nope:1"))).toMatch(/test\/shop:1\.4\.2/);
  });

  it("copies into an oci: layout that skopeo reads back (by position: skopeo finds only OCI media types by tag)", async () => {
    const archive = await DockerArchive.open(debianTar, "test/debian:1");
    const path = join(dir, "from-archive");
    const layout = await OciLayout.open(path, { create: true });
    const result = await copyImage(archive, undefined, layout, "debian");
    expect(result.mediaType).toBe(MediaType.dockerManifest);
    expect((await layout.getManifest("debian")).digest).toBe(result.digest);
    // containers/image's oci: transport skips index.json entries whose mediaType is not an OCI
    // manifest or index when looking up a tag; a lone entry is found without one.
    expect(sha256(await skopeoInspectRaw(`oci:${path}`))).toBe(result.digest);
    await expect(skopeoInspectRaw(`oci:${path}:debian`)).rejects.toThrow(/no descriptor found for reference/);
    await skopeoCopy(`oci:${path}`, `oci:${join(dir, "from-archive-2")}:x`);
  });
});

describe("docker ≥ 25 archive shape (blobs/sha256, gzip layers)", () => {
  it("reads gzip layers as stored by default, and decompressed like skopeo in skopeo mode", async () => {
    const blobs = join(SHARED_IMAGES, "blobs", "sha256");
    const manifest = JSON.parse(
      await readFile(join(blobs, "f7aa42d02a4cf62b97457cf190b3f91a0e5d60d017681d17dd5904204e305d29"), "utf8"),
    ) as {
      config: Descriptor;
      layers: Descriptor[];
    };
    const hex = (d: Descriptor) => d.digest.slice(7);
    const path = join(dir, "docker25.tar");
    const items: TarItem[] = [manifest.config, ...manifest.layers.slice(0, 2)].map((d) => ({
      name: `blobs/sha256/${hex(d)}`,
      data: { file: join(blobs, hex(d)) },
    }));
    // Only the first two layers: the config's diff_ids must match, so cut those too.
    const config = JSON.parse(await readFile(join(blobs, hex(manifest.config)), "utf8")) as {
      rootfs: { diff_ids: string[] };
    };
    config.rootfs.diff_ids = config.rootfs.diff_ids.slice(0, 2);
    const configBytes = Buffer.from(JSON.stringify(config));
    items.splice(0, 1, { name: `blobs/sha256/${sha256(configBytes).slice(7)}`, data: configBytes });
    items.push({ name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' });
    items.push({ name: "index.json", data: '{"schemaVersion":2,"manifests":[]}' });
    items.push({
      name: "manifest.json",
      data: JSON.stringify([
        {
          Config: `blobs/sha256/${sha256(configBytes).slice(7)}`,
          RepoTags: ["shop:2"],
          Layers: manifest.layers.slice(0, 2).map((d) => `blobs/sha256/${hex(d)}`),
        },
      ]),
    });
    await writeTar(path, items);

    const actual = await DockerArchive.open(path, "shop:2");
    const a = parseManifest((await actual.getManifest("shop:2")).bytes, undefined, "a");
    if (a.kind !== "manifest") throw new Error("expected a manifest");
    expect(a.manifest.layers.map((l) => [l.mediaType, l.digest, l.size])).toEqual(
      manifest.layers.slice(0, 2).map((l) => [MediaType.dockerLayerGzip, l.digest, l.size]),
    );
    expect(await drainVerified(actual, a.manifest.layers[1] as Descriptor)).toBe(manifest.layers[1]?.size);

    const skopeoMode = await DockerArchive.open(path, "shop:2", { layers: "skopeo" });
    const mine = await skopeoMode.getManifest("shop:2");
    const theirs = await skopeoInspectRaw(`docker-archive:${path}:shop:2`);
    expect(Buffer.from(mine.bytes).toString("utf8")).toBe(theirs.toString("utf8"));
    const s = parseManifest(mine.bytes, undefined, "s");
    if (s.kind !== "manifest") throw new Error("expected a manifest");
    expect(s.manifest.layers.map((l) => l.digest)).toEqual(config.rootfs.diff_ids);
    const small = s.manifest.layers[1] as Descriptor;
    expect(await drainVerified(skopeoMode, small)).toBe(small.size);
  }, 120_000);
});

describe("hostile and broken archives", () => {
  let layer: Buffer;
  beforeAll(async () => {
    layer = await tinyLayer(join(dir, "tiny-layer.tar"), "hello\n");
  });

  async function archiveOf(
    name: string,
    mutate: (img: ReturnType<typeof syntheticImage>) => TarItem[],
  ): Promise<string> {
    const img = syntheticImage([layer]);
    const path = join(dir, name);
    await writeTar(path, mutate(img));
    return path;
  }
  const withManifest = (items: TarItem[], manifest: unknown): TarItem[] => [
    ...items,
    { name: "manifest.json", data: JSON.stringify(manifest) },
  ];

  it("a well-formed synthetic archive opens (the baseline for the cases below)", async () => {
    const path = await archiveOf("ok.tar", (img) => withManifest(img.items, img.manifest));
    const archive = await DockerArchive.open(path);
    const m = parseManifest((await archive.getManifest("example/app:1")).bytes, undefined, "m");
    if (m.kind !== "manifest") throw new Error("expected a manifest");
    expect(m.manifest.layers[0]?.digest).toBe(sha256(layer));
    expect(await drainVerified(archive, m.manifest.layers[0] as Descriptor)).toBe(layer.length);
  });

  it("follows symlinks and hard links inside the archive, and finds data after pax long-name headers", async () => {
    // Past the 255 bytes ustar name+prefix can hold: tar-stream writes a pax header first.
    const long = `${"d".repeat(120)}/${"e".repeat(120)}/layer.tar`;
    const path = await archiveOf("links.tar", (img) =>
      withManifest(
        [
          ...img.items.map((i) => (i.name === img.layerNames[0] ? { ...i, name: long } : i)),
          { name: "sym/layer.tar", type: "symlink", linkname: `../${long}` },
          { name: "./hard.json", type: "link", linkname: img.configName },
        ],
        [{ ...img.manifest[0], Config: "hard.json", Layers: ["./sym//layer.tar"] }],
      ),
    );
    expect((await readFile(path)).includes("PaxHeader")).toBe(true);
    const archive = await DockerArchive.open(path);
    const m = parseManifest((await archive.getManifest("@0")).bytes, undefined, "m");
    if (m.kind !== "manifest") throw new Error("expected a manifest");
    expect(m.manifest.config.digest).toBe(sha256(syntheticImage([layer]).config));
    for (const d of [m.manifest.config, ...m.manifest.layers])
      expect(await drainVerified(archive, d)).toBe(d.size);
  });

  it("refuses paths outside the archive: absolute, .., and links that escape", async () => {
    for (const bad of ["/etc/passwd", "../../etc/passwd", "layer0/../../x"]) {
      const path = await archiveOf("abs.tar", (img) =>
        withManifest(img.items, [{ ...img.manifest[0], Layers: [bad] }]),
      );
      expect(await codeOf(DockerArchive.open(path))).toMatch(
        /^ARCHIVE_INVALID: .*not a relative path inside the archive/,
      );
    }
    const link = await archiveOf("link.tar", (img) =>
      withManifest(
        [...img.items, { name: "evil/layer.tar", type: "symlink", linkname: "../../../etc/passwd" }],
        [{ ...img.manifest[0], Layers: ["evil/layer.tar"] }],
      ),
    );
    expect(await codeOf(DockerArchive.open(link))).toMatch(/^ARCHIVE_INVALID: .*link pointing outside/);
  });

  it("refuses missing files, a missing manifest.json, bad JSON and inconsistent layer counts", async () => {
    const missing = await archiveOf("missing.tar", (img) =>
      withManifest(img.items, [{ ...img.manifest[0], Layers: ["nope/layer.tar"] }]),
    );
    expect(await codeOf(DockerArchive.open(missing))).toMatch(
      /^ARCHIVE_INVALID: .*"nope\/layer.tar" is not in the archive/,
    );
    const noManifest = await archiveOf("nomanifest.tar", (img) => img.items);
    expect(await codeOf(DockerArchive.open(noManifest))).toMatch(/^ARCHIVE_INVALID: .*no manifest\.json/);
    const badJson = await archiveOf("badjson.tar", (img) => [
      ...img.items,
      { name: "manifest.json", data: "[{" },
    ]);
    expect(await codeOf(DockerArchive.open(badJson))).toMatch(
      /^ARCHIVE_INVALID: .*manifest\.json is not JSON/,
    );
    const counts = await archiveOf("counts.tar", (img) =>
      withManifest(img.items, [{ ...img.manifest[0], Layers: [...img.layerNames, ...img.layerNames] }]),
    );
    expect(await codeOf(DockerArchive.open(counts))).toMatch(
      /^ARCHIVE_INVALID: .*2 layers but its config has 1 diff_ids/,
    );
  });

  it("refuses a layer whose content does not match the config's diff_id", async () => {
    const path = await archiveOf("tampered.tar", (img) =>
      withManifest(
        img.items.map((i) =>
          i.name === img.layerNames[0]
            ? { ...i, data: Buffer.concat([layer.subarray(0, 600), Buffer.from("X"), layer.subarray(601)]) }
            : i,
        ),
        img.manifest,
      ),
    );
    expect(await codeOf(DockerArchive.open(path))).toMatch(/^ARCHIVE_INVALID: .*diff_ids\[0\]/);
  });

  it("says clearly when the file is not a tar, is compressed, is truncated or does not exist", async () => {
    const text = join(dir, "not-a-tar.tar");
    await writeFile(text, "this is not a tar file\n".repeat(100));
    expect(await codeOf(DockerArchive.open(text))).toMatch(/^ARCHIVE_INVALID: .*is not a tar archive/);
    const good = await archiveOf("good.tar", (img) => withManifest(img.items, img.manifest));
    const gz = join(dir, "good.tar.gz");
    await writeFile(gz, gzipSync(await readFile(good)));
    expect(await codeOf(DockerArchive.open(gz))).toMatch(/^ARCHIVE_INVALID: .*gzip-compressed.*gunzip -k/);
    const truncated = join(dir, "truncated.tar");
    await writeFile(truncated, (await readFile(good)).subarray(0, 1000));
    expect(await codeOf(DockerArchive.open(truncated))).toMatch(/^ARCHIVE_INVALID: .*truncated/);
    expect(await codeOf(DockerArchive.open(join(dir, "absent.tar")))).toMatch(/^NOT_FOUND: .*absent\.tar/);
    expect(await codeOf(DockerArchive.open(dir))).toMatch(/^ARCHIVE_INVALID: .*not a file/);
  });
});
