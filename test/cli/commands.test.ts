// The built CLI, run as a user runs it, against real registries (Debian's
// docker-registry 2.8), OCI layouts, docker-archive tarballs and the embedded
// store; skopeo is the independent client that checks what shipgate wrote.
// Independent commands run in parallel to keep the file fast.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/digest.js";
import { hostPlatform } from "../../src/oci/inspect.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseReference } from "../../src/oci/reference.js";
import { cosignTags, fallbackTag } from "../../src/oci/referrers.js";
import { closeClients, RegistryRepository } from "../../src/oci/transports/registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { skopeoCopy, skopeoInspectDigest, skopeoInspectRaw } from "../harness/skopeo.js";
import { makeTempDir, removeTempDir } from "../harness/util.js";
import { descriptorOf, pushArtifact, pushCosignSignature, SIGSTORE_BUNDLE } from "../helpers/artifacts.js";
import { type CliResult, DEBIAN_BASE_DIGEST, runCli, SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";

const execFileAsync = promisify(execFile);

/** `a` takes every write; `b` holds a fixed pair of repositories, so its catalog and usage are exact. */
let a: TestRegistry;
let b: TestRegistry;
let tmp: string;
/** An index over both shared images in a/multi/app:1.0: debian-base as linux/amd64, shop as linux/arm64. */
let indexDigest: string;

const repo = (r: TestRegistry, path: string) =>
  new RegistryRepository(parseReference(`${r.host}/${path}`), { credentials: null });

/** Runs the CLI and insists on success; the stderr is the failure message. */
async function ok(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  const out = await runCli(args, options);
  expect(out.code, `shipgate ${args.join(" ")}\n${out.stderr}`).toBe(0);
  return out;
}

/** The shared layout's blobs, read directly: the reference for sizes and config bytes. */
function sharedBlob(digest: string): Buffer {
  return readFileSync(join(SHARED_IMAGES, "blobs", "sha256", digest.replace(/^sha256:/, "")));
}

interface ManifestDoc {
  config: { digest: string; size: number };
  layers: { digest: string; size: number }[];
}

function sharedManifest(digest: string): ManifestDoc {
  return JSON.parse(sharedBlob(digest).toString("utf8")) as ManifestDoc;
}

/** What `du` must report for one image: its manifest, config and layers. */
function imageBytes(digest: string): { bytes: number; blobs: string[] } {
  const doc = sharedManifest(digest);
  const blobs = [doc.config, ...doc.layers];
  return {
    bytes: sharedBlob(digest).length + blobs.reduce((n, d) => n + d.size, 0),
    blobs: blobs.map((d) => d.digest),
  };
}

function sharedConfig(manifestDigest: string): Record<string, unknown> {
  return JSON.parse(sharedBlob(sharedManifest(manifestDigest).config.digest).toString("utf8")) as Record<
    string,
    unknown
  >;
}

async function tagsOf(r: TestRegistry, path: string): Promise<string[]> {
  const out = await ok(["tags", "--json", `${r.host}/${path}`]);
  return (JSON.parse(out.stdout) as string[]).sort();
}

/** Whether the registry still serves a manifest, asked with a HEAD of our own. */
async function exists(r: TestRegistry, path: string, reference: string): Promise<boolean> {
  return (await repo(r, path).client.headManifest(path, reference)) !== undefined;
}

beforeAll(async () => {
  [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  tmp = makeTempDir("cli-commands");
  await Promise.all([
    skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${a.host}/library/debian:base`),
    skopeoCopy(`oci:${SHARED_IMAGES}:shop-1.4.2`, `docker://${a.host}/team/shop:1.4.2`),
    skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${b.host}/library/debian:base`),
    skopeoCopy(`oci:${SHARED_IMAGES}:shop-1.4.2`, `docker://${b.host}/team/shop:1.4.2`),
  ]);
  // A two-platform index, its children pushed by shipgate itself (a copy to a digest, no tag).
  const children = await Promise.all([
    ok(["copy", `${a.host}/library/debian:base`, `${a.host}/multi/app@${DEBIAN_BASE_DIGEST}`]),
    ok(["copy", `${a.host}/team/shop:1.4.2`, `${a.host}/multi/app@${SHOP_DIGEST}`]),
  ]);
  expect(children.map((c) => c.stdout)).toEqual([`${DEBIAN_BASE_DIGEST}\n`, `${SHOP_DIGEST}\n`]);
  const multi = repo(a, "multi/app");
  const manifests = [];
  for (const [digest, architecture] of [
    [DEBIAN_BASE_DIGEST, "amd64"],
    [SHOP_DIGEST, "arm64"],
  ] as const) {
    manifests.push({
      ...descriptorOf(await multi.getManifest(digest)),
      platform: { os: "linux", architecture },
    });
  }
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  indexDigest = digestOf(bytes);
  await multi.writeManifest({ bytes, mediaType: MediaType.ociIndex, digest: indexDigest }, "1.0");
});

afterAll(async () => {
  await closeClients();
  await Promise.all([a?.stop(), b?.stop()]);
  if (tmp) await removeTempDir(tmp);
});

describe("help", () => {
  it("every command explains itself with an example", async () => {
    const commands = [
      "ls",
      "tags",
      "digest",
      "manifest",
      "config",
      "inspect",
      "copy",
      "tag",
      "rm",
      "du",
      "login",
      "logout",
      "demo",
    ];
    const [top, ...results] = await Promise.all([
      runCli(["--help"]),
      ...commands.map((c) => runCli([c, "--help"])),
    ]);
    results.forEach((out, i) => {
      const name = commands[i] as string;
      expect(out.code, `${name} --help`).toBe(0);
      expect(out.stdout, `${name} --help`).toContain(`Usage: shipgate ${name}`);
      expect(out.stdout, `${name} --help`).toMatch(/\nExamples?:\n\s+\$ .*shipgate /);
    });
    expect(top?.code).toBe(0);
    expect(top?.stdout).toContain("Exit codes:");
    for (const name of commands) expect(top?.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, "m"));
  });
});

describe("ls", () => {
  it("lists a registry's catalog, as lines and as JSON; refuses a repository", async () => {
    const [lines, json, notHost] = await Promise.all([
      ok(["ls", b.host]),
      ok(["ls", "--json", `docker://${b.host}/`]),
      runCli(["ls", `${b.host}/team/shop`]),
    ]);
    expect(lines.stdout).toBe("library/debian\nteam/shop\n");
    expect(JSON.parse(json.stdout)).toEqual(["library/debian", "team/shop"]);
    expect(notHost.code).toBe(2);
    expect(notHost.stderr).toContain("is not a registry host");
    expect(notHost.stdout).toBe("");
  });
});

describe("tags", () => {
  const releases = ["1.4.2", "sha256-nightly", "stable"];
  let signed: string;
  beforeAll(async () => {
    // Release tags (one merely starting like a digest tag) next to every kind of attachment tag.
    signed = `${a.host}/signed/shop`;
    await ok(["copy", `${a.host}/team/shop:1.4.2`, `${signed}:1.4.2`]);
    await Promise.all([
      ok(["tag", `${signed}:1.4.2`, "stable"]),
      ok(["tag", `${signed}:1.4.2`, "sha256-nightly"]),
    ]);
    const r = repo(a, "signed/shop");
    const [, att, sbom] = cosignTags(SHOP_DIGEST) as [string, string, string];
    await Promise.all([
      pushCosignSignature(r, SHOP_DIGEST),
      pushArtifact(r, {
        payload: Buffer.from('{"payloadType":"application/vnd.in-toto+json"}'),
        layerMediaType: "application/vnd.dsse.envelope.v1+json",
        tag: att,
      }),
      pushArtifact(r, {
        payload: Buffer.from('{"spdxVersion":"SPDX-2.3"}'),
        layerMediaType: "text/spdx+json",
        tag: sbom,
      }),
      // An OCI 1.1 referrer: this registry has no referrers API, so it lands in the sha256-<hex> index.
      pushArtifact(r, {
        payload: Buffer.from('{"bundle":1}'),
        layerMediaType: SIGSTORE_BUNDLE,
        artifactType: SIGSTORE_BUNDLE,
        subject: descriptorOf(await r.getManifest(SHOP_DIGEST)),
      }),
    ]);
  });

  it("lists every tag; --omit-digest-tags hides sha256-… and .sig/.att/.sbom; --json prints an array", async () => {
    const [all, omitted, json, allJson] = await Promise.all([
      ok(["tags", signed]),
      ok(["tags", "--omit-digest-tags", signed]),
      ok(["tags", "--omit-digest-tags", "--json", `docker://${signed}`]),
      ok(["tags", "--json", signed]),
    ]);
    const attachments = [fallbackTag(SHOP_DIGEST), ...cosignTags(SHOP_DIGEST)];
    expect(all.stdout.trim().split("\n").sort()).toEqual([...releases, ...attachments].sort());
    expect(omitted.stdout.trim().split("\n").sort()).toEqual(releases);
    expect((JSON.parse(json.stdout) as string[]).sort()).toEqual(releases);
    expect((JSON.parse(allJson.stdout) as string[]).sort()).toEqual([...releases, ...attachments].sort());
  });

  it("lists an oci: layout; refuses a tagged reference; a missing repository is a runtime failure", async () => {
    const [layout, tagged, missing] = await Promise.all([
      ok(["tags", "--json", `oci:${SHARED_IMAGES}`]),
      runCli(["tags", `${a.host}/team/shop:1.4.2`]),
      runCli(["tags", `${a.host}/no/such-repo`]),
    ]);
    expect((JSON.parse(layout.stdout) as string[]).sort()).toEqual(["debian-base", "shop-1.4.2"]);
    expect(tagged.code).toBe(2);
    expect(tagged.stderr).toContain("tags takes a repository");
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("no/such-repo");
    expect(missing.stderr).toMatch(/not found/i);
  });
});

describe("digest, manifest, config", () => {
  it("digest resolves a tag, a digest, an index and one platform of it", async () => {
    const [tag, json, index, arm, byDigest, layout, skopeo] = await Promise.all([
      ok(["digest", `${a.host}/team/shop:1.4.2`]),
      ok(["digest", "--json", `${a.host}/library/debian:base`]),
      ok(["digest", `${a.host}/multi/app:1.0`]),
      ok(["digest", "--platform", "linux/arm64", `${a.host}/multi/app:1.0`]),
      ok(["digest", `docker://${a.host}/multi/app@${indexDigest}`]),
      ok(["digest", `oci:${SHARED_IMAGES}:debian-base`]),
      skopeoInspectDigest(`docker://${a.host}/team/shop:1.4.2`),
    ]);
    expect(tag.stdout).toBe(`${SHOP_DIGEST}\n`);
    expect(skopeo).toBe(SHOP_DIGEST);
    expect(JSON.parse(json.stdout)).toEqual({ digest: DEBIAN_BASE_DIGEST, mediaType: MediaType.ociManifest });
    expect(index.stdout).toBe(`${indexDigest}\n`);
    expect(arm.stdout).toBe(`${SHOP_DIGEST}\n`);
    expect(byDigest.stdout).toBe(`${indexDigest}\n`);
    expect(layout.stdout).toBe(`${DEBIAN_BASE_DIGEST}\n`);
  });

  it("manifest prints the exact bytes, which hash to the digest", async () => {
    const [shop, index, child, arm, raw] = await Promise.all([
      ok(["manifest", `${a.host}/team/shop:1.4.2`]),
      ok(["manifest", `${a.host}/multi/app:1.0`]),
      ok(["manifest", `${a.host}/multi/app@${DEBIAN_BASE_DIGEST}`]),
      ok(["manifest", "--platform", "linux/arm64", `${a.host}/multi/app:1.0`]),
      skopeoInspectRaw(`docker://${a.host}/team/shop:1.4.2`),
    ]);
    expect(digestOf(Buffer.from(shop.stdout))).toBe(SHOP_DIGEST);
    expect(shop.stdout).toBe(raw.toString("utf8"));
    expect(digestOf(Buffer.from(index.stdout))).toBe(indexDigest);
    expect(digestOf(Buffer.from(child.stdout))).toBe(DEBIAN_BASE_DIGEST);
    expect(digestOf(Buffer.from(arm.stdout))).toBe(SHOP_DIGEST);
  });

  it("config prints the image config; for an index, this machine's platform or --platform", async () => {
    const [shop, arm, byHost, none] = await Promise.all([
      ok(["config", `${a.host}/team/shop:1.4.2`]),
      ok(["config", "--platform", "linux/arm64", `${a.host}/multi/app:1.0`]),
      runCli(["config", `${a.host}/multi/app:1.0`]),
      runCli(["config", "--platform", "linux/s390x", `${a.host}/multi/app:1.0`]),
    ]);
    expect(JSON.parse(shop.stdout)).toEqual(sharedConfig(SHOP_DIGEST));
    expect(JSON.parse(arm.stdout)).toEqual(sharedConfig(SHOP_DIGEST));
    const host = hostPlatform().architecture;
    if (host === "amd64" || host === "arm64") {
      expect(byHost.code, byHost.stderr).toBe(0);
      expect(byHost.stderr).toContain(`is an index; showing linux/${host}`);
      expect(JSON.parse(byHost.stdout)).toEqual(
        sharedConfig(host === "amd64" ? DEBIAN_BASE_DIGEST : SHOP_DIGEST),
      );
    }
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("linux/s390x");
    expect(none.stdout).toBe("");
  });
});

describe("inspect", () => {
  interface InspectJson {
    digest: string;
    kind: string;
    platforms: {
      platform: string;
      digest: string;
      size: number;
      layers: { digest: string; size: number }[];
      labels: object;
    }[];
  }

  it("shows an image as a table and as JSON, from a registry and a layout", async () => {
    const [table, json, layout] = await Promise.all([
      ok(["inspect", `${a.host}/team/shop:1.4.2`]),
      ok(["inspect", "--json", `${a.host}/team/shop:1.4.2`]),
      ok(["inspect", "--json", `oci:${SHARED_IMAGES}:debian-base`]),
    ]);
    const doc = sharedManifest(SHOP_DIGEST);
    expect(table.stdout).toContain(`Digest:     ${SHOP_DIGEST}`);
    expect(table.stdout).toContain("Platform:   linux/amd64");
    expect(table.stdout).toContain("Size:       90.9 MiB in 4 layers");
    expect(table.stdout).toContain("Created:    2024-02-01T09:15:00Z");
    expect(table.stdout).toContain('Cmd:        ["node","/app/server.js"]');
    expect(table.stdout).toContain("  org.opencontainers.image.version=1.4.2");
    expect(table.stdout).toMatch(/^LAYER\s+SIZE\s+MEDIA TYPE$/m);
    for (const layer of doc.layers) expect(table.stdout).toContain(layer.digest.slice(0, 19));

    const shop = JSON.parse(json.stdout) as InspectJson;
    expect(shop.digest).toBe(SHOP_DIGEST);
    expect(shop.kind).toBe("manifest");
    expect(shop.platforms).toHaveLength(1);
    expect(shop.platforms[0]?.layers.map((l) => l.digest)).toEqual(doc.layers.map((l) => l.digest));
    expect(shop.platforms[0]?.size).toBe(doc.config.size + doc.layers.reduce((n, l) => n + l.size, 0));
    expect(shop.platforms[0]?.labels).toEqual({
      "org.opencontainers.image.title": "demo-shop",
      "org.opencontainers.image.version": "1.4.2",
    });
    expect((JSON.parse(layout.stdout) as InspectJson).digest).toBe(DEBIAN_BASE_DIGEST);
  });

  it("lists an index's platforms; --platform keeps one", async () => {
    const [json, table, one] = await Promise.all([
      ok(["inspect", "--json", `${a.host}/multi/app:1.0`]),
      ok(["inspect", `${a.host}/multi/app:1.0`]),
      ok(["inspect", "--json", "--platform", "linux/arm64", `${a.host}/multi/app:1.0`]),
    ]);
    const index = JSON.parse(json.stdout) as InspectJson;
    expect(index.kind).toBe("index");
    expect(index.digest).toBe(indexDigest);
    expect(index.platforms.map((p) => p.digest)).toEqual([DEBIAN_BASE_DIGEST, SHOP_DIGEST]);
    expect(table.stdout).toMatch(/^PLATFORM\s+DIGEST\s+SIZE\s+CREATED$/m);
    expect(table.stdout).toContain(`(${DEBIAN_BASE_DIGEST.slice(0, 19)})`);
    expect(table.stdout).toContain(`(${SHOP_DIGEST.slice(0, 19)})`);
    const arm = JSON.parse(one.stdout) as InspectJson;
    // The index calls it linux/arm64; the entry shows what its own config says.
    expect(arm.digest).toBe(SHOP_DIGEST);
    expect(arm.platforms.map((p) => p.digest)).toEqual([SHOP_DIGEST]);
    expect(arm.platforms[0]?.layers).toHaveLength(4);
  });
});

interface UsageJson {
  repositories: { name: string; tags: number; manifests: number; blobs: number; bytes: number }[];
  totalBytes: number;
  uniqueBlobs: number;
}

/** debian-base and shop share their base layer: counted in each repository, once in the total. */
function expectUsageOfBoth(report: UsageJson): void {
  const deb = imageBytes(DEBIAN_BASE_DIGEST);
  const shop = imageBytes(SHOP_DIGEST);
  expect(report.repositories.map((r) => r.name.replace(/^.*\//, ""))).toEqual(["debian", "shop"]);
  expect(
    report.repositories.map(({ tags, manifests, blobs, bytes }) => ({ tags, manifests, blobs, bytes })),
  ).toEqual([
    { tags: 1, manifests: 1, blobs: deb.blobs.length, bytes: deb.bytes },
    { tags: 1, manifests: 1, blobs: shop.blobs.length, bytes: shop.bytes },
  ]);
  const shared = deb.blobs.filter((d) => shop.blobs.includes(d));
  expect(shared).toHaveLength(1);
  const sharedSize = sharedManifest(DEBIAN_BASE_DIGEST).layers.find((l) => l.digest === shared[0])?.size;
  expect(report.totalBytes).toBe(deb.bytes + shop.bytes - (sharedSize ?? Number.NaN));
  expect(report.uniqueBlobs).toBe(2 + deb.blobs.length + shop.blobs.length - 1);
}

describe("copy", () => {
  it("oci: layout → registry keeps the digest and the bytes, and skopeo reads it back identically", async () => {
    const out = await ok(["copy", `oci:${SHARED_IMAGES}:shop-1.4.2`, `${a.host}/copy/shop:1.4.2`]);
    expect(out.stdout).toBe(`${SHOP_DIGEST}\n`);
    expect(out.stderr).toContain("5 blobs copied");
    const raw = await skopeoInspectRaw(`docker://${a.host}/copy/shop:1.4.2`);
    expect(raw.equals(sharedBlob(SHOP_DIGEST))).toBe(true);

    // Again, as JSON: nothing left to upload.
    const again = await ok([
      "copy",
      "--json",
      `oci:${SHARED_IMAGES}:shop-1.4.2`,
      `${a.host}/copy/shop:again`,
    ]);
    const result = JSON.parse(again.stdout) as { digest: string; blobs: { copied: number; skipped: number } };
    expect(result.digest).toBe(SHOP_DIGEST);
    expect(result.blobs).toMatchObject({ copied: 0, skipped: 5 });
  });

  it("registry → oci: → registry round-trips with an identical digest", async () => {
    const layout = join(tmp, "layout");
    const out = await ok(["copy", `${a.host}/team/shop:1.4.2`, `oci:${layout}:shop`]);
    expect(out.stdout).toBe(`${SHOP_DIGEST}\n`);
    expect(await skopeoInspectDigest(`oci:${layout}:shop`)).toBe(SHOP_DIGEST);
    const back = await ok(["copy", `oci:${layout}:shop`, `docker://${a.host}/round/shop:back`]);
    expect(back.stdout).toBe(`${SHOP_DIGEST}\n`);
    expect(await skopeoInspectDigest(`docker://${a.host}/round/shop:back`)).toBe(SHOP_DIGEST);
  });

  it("registry → store: writes OCI layouts skopeo reads; ls, tags, digest and du see them", async () => {
    const store = join(tmp, "store");
    const [shop, debian] = await Promise.all([
      ok(["--store", store, "copy", `${a.host}/team/shop:1.4.2`, "store:mirror/shop:1.4.2"]),
      // Without a tag the store takes the source's; the store directory may come from the environment.
      ok(["copy", `${a.host}/library/debian:base`, "store:mirror/debian"], {
        env: { SHIPGATE_STORE: store },
      }),
    ]);
    expect(shop.stdout).toBe(`${SHOP_DIGEST}\n`);
    expect(debian.stdout).toBe(`${DEBIAN_BASE_DIGEST}\n`);
    const [skopeoShop, skopeoDebian, lsJson, ls, tags, digest, du] = await Promise.all([
      skopeoInspectDigest(`oci:${join(store, "mirror", "shop")}:1.4.2`),
      skopeoInspectDigest(`oci:${join(store, "mirror", "debian")}:base`),
      ok(["ls", "--json"], { env: { SHIPGATE_STORE: store } }),
      ok(["--store", store, "ls"]),
      ok(["--store", store, "tags", "store:mirror/debian"]),
      ok(["--store", store, "digest", "store:mirror/shop:1.4.2"]),
      ok(["--store", store, "du", "--json"]),
    ]);
    expect(skopeoShop).toBe(SHOP_DIGEST);
    expect(skopeoDebian).toBe(DEBIAN_BASE_DIGEST);
    expect(JSON.parse(lsJson.stdout)).toEqual(["mirror/debian", "mirror/shop"]);
    expect(ls.stdout).toBe("mirror/debian\nmirror/shop\n");
    expect(tags.stdout).toBe("base\n");
    expect(digest.stdout).toBe(`${SHOP_DIGEST}\n`);
    expectUsageOfBoth(JSON.parse(du.stdout) as UsageJson);
  });

  it("docker-archive → registry: skopeo sees the image shipgate reports", async () => {
    const archive = join(tmp, "debian.tar");
    const policy = join(tmp, "policy.json");
    await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    await execFileAsync("skopeo", [
      "--policy",
      policy,
      "copy",
      `oci:${SHARED_IMAGES}:debian-base`,
      `docker-archive:${archive}:library/debian:bookworm`,
    ]);
    const [out, named, skopeoView] = await Promise.all([
      ok(["copy", `docker-archive:${archive}`, `${a.host}/from/archive:bookworm`]),
      ok(["digest", `docker-archive:${archive}:library/debian:bookworm`]),
      skopeoInspectRaw(`docker-archive:${archive}`),
    ]);
    const digest = out.stdout.trim();
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(named.stdout).toBe(`${digest}\n`); // naming the image inside the archive: the same image

    const [raw, inspected] = await Promise.all([
      skopeoInspectRaw(`docker://${a.host}/from/archive:bookworm`),
      execFileAsync("skopeo", ["inspect", "--tls-verify=false", `docker://${a.host}/from/archive:bookworm`]),
    ]);
    expect(digestOf(raw)).toBe(digest);
    // skopeo's own reading of the archive names the same config and layer blobs (it labels the
    // uncompressed layer tar+gzip, which shipgate does not copy: the layer is a plain tar).
    const mine = JSON.parse(raw.toString("utf8")) as ManifestDoc & { layers: { mediaType: string }[] };
    const theirs = JSON.parse(skopeoView.toString("utf8")) as ManifestDoc;
    expect(mine.config).toEqual(theirs.config);
    expect(mine.layers.map(({ digest, size }) => ({ digest, size }))).toEqual(
      theirs.layers.map(({ digest, size }) => ({ digest, size })),
    );
    expect((mine.layers as { mediaType: string }[]).map((l) => l.mediaType)).toEqual([
      "application/vnd.docker.image.rootfs.diff.tar",
    ]);
    const info = JSON.parse(inspected.stdout) as {
      Name: string;
      Digest: string;
      RepoTags: string[];
      Layers: string[];
      Labels: Record<string, string>;
      Os: string;
      Architecture: string;
    };
    expect(info.Digest).toBe(digest);
    expect(info.RepoTags).toEqual(["bookworm"]);
    expect([info.Os, info.Architecture]).toEqual(["linux", "amd64"]);
    expect(info.Labels).toEqual({ "org.opencontainers.image.title": "debian-base" });
    // shipgate pushed the archive's uncompressed layer: its digest is the config's diff_id.
    const config = sharedConfig(DEBIAN_BASE_DIGEST) as { rootfs: { diff_ids: string[] } };
    expect(info.Layers).toEqual(config.rootfs.diff_ids);
  });

  it("copies a whole index, or one platform of it with --platform", async () => {
    const [arm, whole] = await Promise.all([
      ok(["copy", "--platform", "linux/arm64", `${a.host}/multi/app:1.0`, `${a.host}/copy/arm:1`]),
      ok(["copy", `${a.host}/multi/app:1.0`, `${b.host}/copy/multi:1.0`]),
    ]);
    expect(arm.stdout).toBe(`${SHOP_DIGEST}\n`);
    expect(whole.stdout).toBe(`${indexDigest}\n`);
    const [armDigest, wholeDigest] = await Promise.all([
      skopeoInspectDigest(`docker://${a.host}/copy/arm:1`),
      skopeoInspectDigest(`docker://${b.host}/copy/multi:1.0`),
    ]);
    expect(armDigest).toBe(SHOP_DIGEST);
    expect(wholeDigest).toBe(indexDigest);
    // b's catalog is back to its two repositories' content for du: drop the index (its children stay).
    await ok(["rm", "--yes", `${b.host}/copy/multi@${indexDigest}`]);
  });

  it("a missing source fails with exit 3 and writes nothing", async () => {
    const out = await runCli(["copy", `${a.host}/team/shop:9.9.9`, `${a.host}/copy/missing:1`]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain("team/shop:9.9.9");
    expect(out.stderr).toContain("not found");
    expect(out.stdout).toBe("");
    expect(await exists(a, "copy/missing", "1")).toBe(false);
  });
});

describe("tag", () => {
  it("adds tags to the same digest; refuses an invalid tag", async () => {
    const out = await ok(["tag", `${a.host}/team/shop:1.4.2`, "stable"]);
    expect(out.stdout).toBe(`${a.host}/team/shop:stable@${SHOP_DIGEST}\n`);
    const [json, bad, skopeo] = await Promise.all([
      ok(["tag", "--json", `${a.host}/team/shop@${SHOP_DIGEST}`, "1.4"]),
      runCli(["tag", `${a.host}/team/shop:1.4.2`, "bad tag!"]),
      skopeoInspectDigest(`docker://${a.host}/team/shop:stable`),
    ]);
    expect(skopeo).toBe(SHOP_DIGEST);
    expect(JSON.parse(json.stdout)).toEqual({ digest: SHOP_DIGEST, tag: `${a.host}/team/shop:1.4` });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"bad tag!" is not a valid tag');
    expect(await tagsOf(a, "team/shop")).toEqual(["1.4", "1.4.2", "stable"]);
  });
});

describe("rm", () => {
  it("rm of a tag keeps the other tags on its digest (retag-to-placeholder on distribution 2.8)", async () => {
    const r = `${a.host}/rm/tags`;
    await ok(["copy", `${a.host}/library/debian:base`, `${r}:a`]);
    await Promise.all([ok(["tag", `${r}:a`, "b"]), ok(["tag", `${r}:a`, "c"])]);

    const out = await ok(["rm", "--yes", "--json", `${r}:b`]);
    const { plan, result } = JSON.parse(out.stdout) as {
      plan: { kind: string; digest: string; otherTags: string[] };
      result: { method: string; deleted: string[] };
    };
    expect(plan).toMatchObject({ kind: "tag", digest: DEBIAN_BASE_DIGEST, otherTags: ["a", "c"] });
    expect(result).toEqual({ method: "retag-and-delete", deleted: ["b"] });
    const [tags, tagA, tagC, gone] = await Promise.all([
      tagsOf(a, "rm/tags"),
      skopeoInspectDigest(`docker://${r}:a`),
      skopeoInspectDigest(`docker://${r}:c`),
      runCli(["digest", `${r}:b`]),
    ]);
    expect(tags).toEqual(["a", "c"]);
    expect([tagA, tagC]).toEqual([DEBIAN_BASE_DIGEST, DEBIAN_BASE_DIGEST]);
    expect(gone.code).toBe(3);
  });

  it("rm of the last tag leaves the image, untagged, by digest", async () => {
    const r = `${a.host}/rm/solo`;
    await ok(["copy", `${a.host}/team/shop:1.4.2`, `${r}:only`]);
    const out = await ok(["rm", "--yes", `${r}:only`]);
    expect(out.stderr).toContain("the manifest stays, untagged");
    expect(out.stdout).toBe("removed only (retag-and-delete, 1 manifest(s))\n");
    expect(await tagsOf(a, "rm/solo")).toEqual([]);
    expect(await skopeoInspectDigest(`docker://${r}@${SHOP_DIGEST}`)).toBe(SHOP_DIGEST);
  });

  it("--dry-run, and a non-TTY without --yes, change nothing", async () => {
    const r = `${a.host}/rm/safe`;
    await ok(["copy", `${a.host}/library/debian:base`, `${r}:keep`]);
    const [dry, dryDigest, refusedTag, refusedDigest] = await Promise.all([
      ok(["rm", "--dry-run", `${r}:keep`]),
      ok(["rm", "--dry-run", "--yes", `${r}@${DEBIAN_BASE_DIGEST}`]),
      // runCli's stdin is a pipe, not a terminal: no prompt, even with a "y" waiting on it.
      runCli(["rm", `${r}:keep`], { input: "y\n" }),
      runCli(["rm", `${r}@${DEBIAN_BASE_DIGEST}`], { input: "y\n" }),
    ]);
    expect(dry.stderr).toContain(`remove tag keep from docker://${r}`);
    expect(dryDigest.stderr).toContain(`delete manifest ${DEBIAN_BASE_DIGEST}`);
    expect(dryDigest.stderr).toContain("tags that go with it: keep");
    for (const refused of [refusedTag, refusedDigest]) {
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("not removed: confirm with --yes");
      expect(refused.stdout).toBe("");
    }
    expect(await tagsOf(a, "rm/safe")).toEqual(["keep"]);
    expect(await skopeoInspectDigest(`docker://${r}:keep`)).toBe(DEBIAN_BASE_DIGEST);
  });

  it("rm by digest removes the manifest, its tags, its cosign .sig tag and its referrers", async () => {
    const path = "rm/signed";
    const r = `${a.host}/${path}`;
    await Promise.all([
      ok(["copy", `${a.host}/team/shop:1.4.2`, `${r}:v1`]),
      ok(["copy", `${a.host}/library/debian:base`, `${r}:base`]),
    ]);
    await ok(["tag", `${r}:v1`, "v1-alias"]);
    const dest = repo(a, path);
    const [sig, baseSig, bundle] = await Promise.all([
      pushCosignSignature(dest, SHOP_DIGEST),
      pushCosignSignature(dest, DEBIAN_BASE_DIGEST),
      pushArtifact(dest, {
        payload: Buffer.from('{"bundle":"shop"}'),
        layerMediaType: SIGSTORE_BUNDLE,
        artifactType: SIGSTORE_BUNDLE,
        subject: descriptorOf(await dest.getManifest(SHOP_DIGEST)),
      }),
    ]);
    const fallback = await dest.getManifest(fallbackTag(SHOP_DIGEST));
    const sigTag = cosignTags(SHOP_DIGEST)[0] as string;

    const dry = await ok(["rm", "--dry-run", "--json", `${r}@${SHOP_DIGEST}`]);
    const { plan } = JSON.parse(dry.stdout) as {
      plan: { kind: string; otherTags: string[]; attachments: { digest: string; via: string }[] };
    };
    expect(plan.kind).toBe("digest");
    expect(plan.otherTags).toEqual(["v1", "v1-alias"]);
    expect(plan.attachments.map((x) => x.digest).sort()).toEqual(
      [sig.digest, fallback.digest, bundle.digest].sort(),
    );
    expect(await exists(a, path, SHOP_DIGEST)).toBe(true);

    const out = await ok(["rm", "--yes", `${r}@${SHOP_DIGEST}`]);
    expect(out.stderr).toContain(`(tag ${sigTag})`);
    expect(out.stdout).toBe(`removed ${SHOP_DIGEST} (delete-manifest, 4 manifest(s))\n`);
    const [gone, tags, missingSig, base, shopSource] = await Promise.all([
      Promise.all([SHOP_DIGEST, sig.digest, bundle.digest, fallback.digest].map((d) => exists(a, path, d))),
      tagsOf(a, path),
      runCli(["digest", `${r}:${sigTag}`]),
      skopeoInspectDigest(`docker://${r}:base`),
      skopeoInspectDigest(`docker://${a.host}/team/shop:1.4.2`),
    ]);
    expect(gone).toEqual([false, false, false, false]);
    expect(missingSig.code).toBe(3);
    // The other image and its signature are untouched; so is the repository the image came from.
    expect(tags).toEqual(["base", cosignTags(DEBIAN_BASE_DIGEST)[0]].sort());
    expect(base).toBe(DEBIAN_BASE_DIGEST);
    expect(await exists(a, path, baseSig.digest)).toBe(true);
    expect(shopSource).toBe(SHOP_DIGEST);
  });

  it("rm of a tag in an oci: layout; rm of a bare repository is a usage error", async () => {
    const layout = join(tmp, "rm-layout");
    await ok(["copy", `oci:${SHARED_IMAGES}:debian-base`, `oci:${layout}:one`]);
    await ok(["copy", `oci:${layout}:one`, `oci:${layout}:two`]);
    const [removed, bare] = await Promise.all([
      ok(["rm", "--yes", `oci:${layout}:one`]),
      runCli(["rm", "--yes", `${a.host}/team/shop`]),
    ]);
    expect(removed.stdout).toContain("removed one");
    expect(JSON.parse((await ok(["tags", "--json", `oci:${layout}`])).stdout)).toEqual(["two"]);
    expect(await skopeoInspectDigest(`oci:${layout}:two`)).toBe(DEBIAN_BASE_DIGEST);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("rm needs a tag or digest");
    expect(await skopeoInspectDigest(`docker://${a.host}/team/shop:1.4.2`)).toBe(SHOP_DIGEST);
  });
});

describe("du", () => {
  it("reports one repository, and a whole registry with shared blobs counted once", async () => {
    const [one, oneTable, all, allTable] = await Promise.all([
      ok(["du", "--json", `${b.host}/team/shop`]),
      ok(["du", `${b.host}/team/shop`]),
      ok(["du", "--json", b.host]),
      ok(["du", b.host]),
    ]);
    const shop = imageBytes(SHOP_DIGEST);
    const report = JSON.parse(one.stdout) as UsageJson;
    expect(report.repositories).toEqual([
      { name: `docker://${b.host}/team/shop`, tags: 1, manifests: 1, blobs: 5, bytes: shop.bytes },
    ]);
    expect(report.totalBytes).toBe(shop.bytes);
    expect(oneTable.stdout).toMatch(/^REPOSITORY\s+TAGS\s+MANIFESTS\s+BLOBS\s+SIZE$/m);
    expect(oneTable.stdout).toMatch(/team\/shop\s+1\s+1\s+5\s+90\.9 MiB$/m);
    expect(oneTable.stdout).not.toContain("Total:");

    const usage = JSON.parse(all.stdout) as UsageJson;
    // copy/multi's index was removed: the repository is listed, empty.
    const multi = usage.repositories.find((r) => r.name.endsWith("/copy/multi"));
    expect(multi).toMatchObject({ tags: 0, manifests: 0, bytes: 0 });
    expectUsageOfBoth({ ...usage, repositories: usage.repositories.filter((r) => r !== multi) });
    expect(allTable.stdout).toMatch(
      /^Total: .* in 8 unique blobs and manifests \(shared ones counted once\)$/m,
    );
  });

  it("says so when the store is empty, and refuses a tag", async () => {
    const empty = join(tmp, "empty-store");
    await mkdir(empty);
    const [out, tagged] = await Promise.all([
      ok(["--store", empty, "du"]),
      runCli(["du", `${b.host}/team/shop:1.4.2`]),
    ]);
    expect(out.stderr).toContain(`the store at ${empty} is empty`);
    expect(tagged.code).toBe(2);
    expect(tagged.stderr).toContain("not a tag");
  });
});

describe("exit codes", () => {
  it("a malformed reference or bad option is a usage error (2) with a clear message", async () => {
    const cases = [
      ["digest", `${a.host}/Team//Shop:1.0`],
      ["inspect", `${a.host}/team/shop@sha256:1234`],
      ["copy", `oci:${SHARED_IMAGES}:debian-base`, `${a.host}/team/shop:bad:tag:x`],
      ["tags", "not a reference"],
      ["manifest", "ftp://example.com/app:1.0"],
      ["digest", "--platform", "linux", `${a.host}/multi/app:1.0`],
      ["copy", "--concurrency", "0", `${a.host}/team/shop:1.4.2`, `${a.host}/x/y:1`],
    ];
    const [unknown, ...results] = await Promise.all([runCli(["frobnicate"]), ...cases.map((c) => runCli(c))]);
    results.forEach((out, i) => {
      const what = (cases[i] as string[]).join(" ");
      expect(out.code, what).toBe(2);
      expect(out.stderr, what).toMatch(/^error: .*(invalid|not a valid|unknown transport|must be)/im);
      expect(out.stdout, what).toBe("");
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
    expect(await exists(a, "x/y", "1")).toBe(false);
  });

  it("a missing tag is a runtime failure (3) that names it", async () => {
    const commands = ["digest", "manifest", "config", "inspect", "tag", "rm"];
    const results = await Promise.all(
      commands.map((c) => {
        const ref = `${a.host}/team/shop:no-such-tag`;
        if (c === "tag") return runCli([c, ref, "other"]);
        if (c === "rm") return runCli([c, "--yes", ref]);
        return runCli([c, ref]);
      }),
    );
    results.forEach((out, i) => {
      const command = commands[i] as string;
      expect(out.code, command).toBe(3);
      expect(out.stderr, command).toMatch(/^error: .*team\/shop:no-such-tag:? not found/m);
      expect(out.stdout, command).toBe("");
    });
  });
});
