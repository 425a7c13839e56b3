// The sbom and licenses commands, run as a user runs them: on the shared
// images, a two-platform layout built here, and a real registry (Debian's
// docker-registry) to attach SBOMs to and get them back. Every document the
// CLI writes is checked against its official schema.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { cosignTags } from "../../src/oci/referrers.js";
import type { SbomDiff } from "../../src/sbom/diff.js";
import type { Sbom } from "../../src/sbom/model.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { skopeoCopy } from "../harness/skopeo.js";
import { makeTempDir, removeTempDir } from "../harness/util.js";
import { type CliResult, DEBIAN_BASE_DIGEST, runCli, SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";
import { unpackSharedImage } from "../helpers/rootfs.js";
import { cycloneDxErrors, spdxErrors } from "../sbom/formats/validators.js";

const BASE = `oci:${SHARED_IMAGES}:debian-base`;
const SHOP = `oci:${SHARED_IMAGES}:shop-1.4.2`;

let registry: TestRegistry;
let tmp: string;
/** An OCI layout whose `multi` tag is an index: debian-base as linux/amd64, shop as linux/arm64/v8. */
let multi: string;
let shopStderr = "";

async function ok(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  const out = await runCli(args, options);
  expect(out.code, `shipgate ${args.join(" ")}\n${out.stderr}`).toBe(0);
  return out;
}

function multiPlatformLayout(dir: string): string {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const shared = join(SHARED_IMAGES, "blobs", "sha256");
  for (const name of readdirSync(shared)) symlinkSync(join(shared, name), join(blobs, name));
  const size = (digest: string) => readFileSync(join(shared, digest.slice(7))).length;
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: DEBIAN_BASE_DIGEST,
          size: size(DEBIAN_BASE_DIGEST),
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          mediaType: MediaType.ociManifest,
          digest: SHOP_DIGEST,
          size: size(SHOP_DIGEST),
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        },
      ],
    }),
  );
  const digest = digestOf(index);
  writeFileSync(join(blobs, digest.slice(7)), index);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MediaType.ociIndex,
          digest,
          size: index.length,
          annotations: { "org.opencontainers.image.ref.name": "multi" },
        },
      ],
    }),
  );
  return `oci:${dir}:multi`;
}

beforeAll(async () => {
  tmp = makeTempDir("cli-sbom");
  multi = multiPlatformLayout(join(tmp, "multi"));
  [registry] = await Promise.all([
    startRegistry(),
    // The shop image is catalogued once here; later tests read the file back where they can.
    ok(["sbom", SHOP, "--format", "cyclonedx-json", "-o", join(tmp, "shop.cdx.json")]).then((out) => {
      shopStderr = out.stderr;
    }),
    ok(["sbom", BASE, "--format", "spdx-json", "-o", join(tmp, "base.spdx.json")]),
  ]);
  await skopeoCopy(BASE, `docker://${registry.host}/sbom/base:1.0`);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (tmp) await removeTempDir(tmp);
});

describe("shipgate sbom", () => {
  it("writes CycloneDX and SPDX that validate, byte-identical on a second run", async () => {
    const cdx = join(tmp, "shop.cdx.json");
    expect(shopStderr).toMatch(
      /^wrote .*shop\.cdx\.json: \d+ packages \(deb \d+, .*npm \d+.*\) · Debian GNU\/Linux 12 \(bookworm\) · linux\/amd64\n/,
    );
    const written = readFileSync(cdx, "utf8");
    const again = await ok(["sbom", SHOP, "--format", "cyclonedx-json"]);
    expect(again.stdout).toBe(written);
    expect(await cycloneDxErrors(written)).toBeNull();
    expect(spdxErrors(readFileSync(join(tmp, "base.spdx.json"), "utf8"))).toBeNull();
    const doc = JSON.parse(written);
    expect(doc.metadata.tools.components[0]).toMatchObject({
      name: "shipgate",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    // curl was purged in the top layer: the whiteout hides it.
    expect(doc.components.some((c: { name: string }) => c.name === "curl")).toBe(false);
    expect(doc.components.some((c: { name: string }) => c.name === "libcurl4")).toBe(true);
  });

  it("converts an SBOM file to the other format: the same packages, a valid document", async () => {
    const spdx = join(tmp, "shop.spdx.json");
    await ok(["sbom", join(tmp, "shop.cdx.json"), "-f", "spdx-json", "-o", spdx]);
    const text = readFileSync(spdx, "utf8");
    expect(spdxErrors(text)).toBeNull();
    const purls = (doc: { externalRefs?: { referenceLocator: string }[] }[]) =>
      doc.flatMap((p) => p.externalRefs?.map((r) => r.referenceLocator) ?? []);
    const cdx = JSON.parse(readFileSync(join(tmp, "shop.cdx.json"), "utf8"));
    expect(purls(JSON.parse(text).packages)).toEqual(
      cdx.components.filter((c: { purl?: string }) => c.purl).map((c: { purl: string }) => c.purl),
    );
  });

  it("prints a table with a summary on stderr, and shipgate's model with --json", async () => {
    const [tableOut, json] = await Promise.all([ok(["sbom", BASE]), ok(["sbom", BASE, "--json"])]);
    const lines = tableOut.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+VERSION\s+TYPE\s+LICENSES$/);
    expect(lines).toContainEqual(expect.stringMatching(/^adduser\s+3\.134\s+deb\s+GPL-2\.0-or-later$/));
    expect(lines).toHaveLength(89);
    expect(tableOut.stderr).toBe("88 packages (deb 88) · Debian GNU/Linux 12 (bookworm) · linux/amd64\n");
    const sbom = JSON.parse(json.stdout) as Sbom;
    expect(sbom.source.digest).toBe(DEBIAN_BASE_DIGEST);
    expect(sbom.packages).toHaveLength(88);
  });

  it("catalogues a root filesystem directory; SOURCE_DATE_EPOCH fixes the timestamp", async () => {
    const rootfs = unpackSharedImage("debian-base");
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const [first, second] = await Promise.all([
      ok(["sbom", `dir:${rootfs}`, "-f", "spdx-json"], { env }),
      ok(["sbom", `dir:${rootfs}`, "-f", "spdx-json"], { env }),
    ]);
    expect(first.stdout).toBe(second.stdout);
    expect(spdxErrors(first.stdout)).toBeNull();
    const doc = JSON.parse(first.stdout);
    expect(doc.creationInfo.created).toBe("2023-11-14T22:13:20Z");
    expect(doc.packages[0]).toMatchObject({ name: rootfs, primaryPackagePurpose: "OTHER" });
    expect(
      doc.packages.filter((p: { primaryPackagePurpose: string }) => p.primaryPackagePurpose === "LIBRARY"),
    ).toHaveLength(88);
  });

  it("one SBOM per platform: -o FILE becomes FILE-<os>-<arch>[-variant].ext; --platform picks one", async () => {
    const out = join(tmp, "multi.spdx.json");
    const all = await ok(["sbom", multi, "-f", "spdx-json", "-o", out]);
    const amd64 = join(tmp, "multi-linux-amd64.spdx.json");
    const arm64 = join(tmp, "multi-linux-arm64-v8.spdx.json");
    expect(all.stderr).toContain(`wrote ${amd64}: 88 packages`);
    expect(all.stderr).toContain(`wrote ${arm64}: `);
    for (const [file, digest] of [
      [amd64, DEBIAN_BASE_DIGEST],
      [arm64, SHOP_DIGEST],
    ] as const) {
      const text = readFileSync(file, "utf8");
      expect(spdxErrors(text)).toBeNull();
      expect(JSON.parse(text).packages[0].versionInfo).toBe(digest);
    }
    const [refused, one] = await Promise.all([
      runCli(["sbom", multi, "-f", "cyclonedx-json"]),
      ok(["sbom", multi, "--platform", "linux/amd64", "--json"]),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/has 2 platforms \(linux\/amd64, linux\/arm64\/v8\): one SBOM each/);
    expect(refused.stderr).toMatch(/hint: pick one with --platform/);
    expect((JSON.parse(one.stdout) as Sbom).source).toMatchObject({
      digest: DEBIAN_BASE_DIGEST,
      platform: "linux/amd64",
    });
  });

  it("refuses bad usage (exit 2) and bad SBOM files (exit 3) with a clear message", async () => {
    const bad = join(tmp, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", components: [{ type: "library" }] }),
    );
    const [noSource, badFormat, badFile, noPlatform] = await Promise.all([
      runCli(["sbom"]),
      runCli(["sbom", BASE, "--format", "xml"]),
      runCli(["licenses", bad]),
      runCli(["sbom", multi, "--platform", "linux/s390x"]),
    ]);
    expect([noSource.code, badFormat.code, badFile.code, noPlatform.code]).toEqual([2, 2, 3, 3]);
    expect(noSource.stderr).toMatch(/name an image or directory/);
    expect(badFormat.stderr).toMatch(/unknown format "xml".*\n.*table, json, cyclonedx-json, spdx-json/);
    expect(badFile.stderr).toMatch(/bad\.json is not valid CycloneDX: components\[0\]\.name/);
    expect(noPlatform.stderr).toMatch(
      /no image for platform linux\/s390x[\s\S]*linux\/amd64, linux\/arm64\/v8/,
    );
  });
});

describe("shipgate sbom attach / get", () => {
  it("attaches to a registry image (cosign tag and referrer) and gets the same bytes back", async () => {
    const ref = `${registry.host}/sbom/base:1.0`;
    const file = join(tmp, "base.cdx.json");
    await ok(["sbom", ref, "-f", "cyclonedx-json", "-o", file]);
    const attached = await ok(["sbom", "attach", ref, "--sbom", file, "--json"]);
    const result = JSON.parse(attached.stdout);
    expect(result.subject).toBe(DEBIAN_BASE_DIGEST);
    expect(result.tag.name).toBe(cosignTags(DEBIAN_BASE_DIGEST)[2]);
    expect(result.referrer).toMatch(/^sha256:/);

    const got = join(tmp, "got.cdx.json");
    const [toFile, list, tags] = await Promise.all([
      ok(["sbom", "get", ref, "-o", got]),
      ok(["sbom", "get", "--list", "--json", ref]),
      ok(["tags", "--json", `${registry.host}/sbom/base`]),
    ]);
    expect(readFileSync(got, "utf8")).toBe(readFileSync(file, "utf8"));
    expect(toFile.stderr).toMatch(/2 SBOMs are attached/);
    expect(
      JSON.parse(list.stdout).map((f: { format: string; via: { kind: string } }) => [f.via.kind, f.format]),
    ).toEqual([
      ["referrer", "cyclonedx-json"],
      ["tag", "cyclonedx-json"],
    ]);
    expect(JSON.parse(tags.stdout)).toContain(result.tag.name);
    // What came back is a document shipgate reads as the same packages.
    const diff = await ok(["sbom", "diff", "--json", got, ref]);
    expect(JSON.parse(diff.stdout)).toMatchObject({ added: [], removed: [], changed: [], unchanged: 88 });
  });

  it("refuses an invalid SBOM before pushing anything, and says when none is attached", async () => {
    const bad = join(tmp, "not-sbom.json");
    writeFileSync(bad, JSON.stringify({ hello: "world" }));
    await skopeoCopy(SHOP, `docker://${registry.host}/sbom/shop:1.4.2`);
    const ref = `${registry.host}/sbom/shop:1.4.2`;
    const refused = await runCli(["sbom", "attach", ref, "--sbom", bad]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/not-sbom\.json is neither SPDX .* nor CycloneDX/);
    const none = await runCli(["sbom", "get", ref]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(
      /no SBOM is attached to .*sbom\/shop:1\.4\.2\nhint: attach one with: shipgate sbom attach/,
    );
    expect(JSON.parse((await ok(["tags", "--json", `${registry.host}/sbom/shop`])).stdout)).toEqual([
      "1.4.2",
    ]);
  });
});

describe("shipgate sbom diff and licenses", () => {
  it("diff between the two images: what the shop layers added, curl not among them", async () => {
    const baseFile = join(tmp, "base.spdx.json");
    const shopFile = join(tmp, "shop.cdx.json");
    const [json, text, fromFiles] = await Promise.all([
      ok(["sbom", "diff", "--json", BASE, SHOP]),
      ok(["sbom", "diff", baseFile, shopFile]),
      ok(["sbom", "diff", "--json", baseFile, shopFile]),
    ]);
    const diff = JSON.parse(json.stdout) as SbomDiff;
    const added = diff.added.map((p) => `${p.type}/${p.name}`);
    for (const name of [
      "deb/libcurl4",
      "deb/ca-certificates",
      "deb/python3-requests",
      "deb/docker-registry",
      "npm/express",
      "npm/lodash",
    ]) {
      expect(added).toContain(name);
    }
    expect(added).not.toContain("deb/curl");
    expect(diff.removed).toEqual([]);
    expect(diff.unchanged).toBe(88);
    expect(text.stdout).toMatch(/^\+\s+libcurl4\s+7\.88\.1-10\+deb12u\d+\s+deb$/m);
    expect(text.stderr).toBe(
      `${diff.added.length} added, 0 removed, ${diff.changed.length} changed, 88 unchanged\n`,
    );
    // SBOM files (SPDX on one side, CycloneDX on the other) give the same answer as the images.
    const viaFile = JSON.parse(fromFiles.stdout) as SbomDiff;
    expect(viaFile.added.map((p) => p.purl)).toEqual(diff.added.map((p) => p.purl));
  });

  it("licenses: histogram; --deny exits 1 listing offenders, 0 when none match; same verdict from an SBOM file", async () => {
    const spdx = join(tmp, "shop-for-licences.spdx.json");
    await ok(["sbom", join(tmp, "shop.cdx.json"), "-f", "spdx-json", "-o", spdx]);
    const [histogram, denied, deniedJson, fromFile, clean, fromStdin] = await Promise.all([
      ok(["licenses", BASE]),
      runCli(["licenses", SHOP, "--deny", "GPL-3.0*,AGPL-*"]),
      runCli(["licenses", SHOP, "--deny", "GPL-3.0*", "--deny", "AGPL-*", "--json"]),
      runCli(["licenses", spdx, "--deny", "GPL-3.0*,AGPL-*", "--json"]),
      ok(["licenses", BASE, "--deny", "SSPL-*"]),
      runCli(["licenses", "-", "--deny", "GPL-3.0*,AGPL-*", "--json"], {
        input: readFileSync(join(tmp, "shop.cdx.json"), "utf8"),
      }),
    ]);
    const rows = histogram.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^LICENSE\s+PACKAGES$/);
    expect(rows).toContainEqual(expect.stringMatching(/^GPL-2\.0-or-later\s+\d+$/));

    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/^PACKAGE\s+VERSION\s+TYPE\s+DENIED LICENCE$/m);
    expect(denied.stdout).toMatch(/^bash\s+5\.2\.15-2\+b13\s+deb\s+GPL-3\.0-or-later$/m);
    expect(denied.stderr).toMatch(
      /error: \d+ of \d+ packages in .*shop-1\.4\.2 carry a denied licence \(GPL-3\.0\*, AGPL-\*\)/,
    );

    expect(deniedJson.code).toBe(1);
    const report = JSON.parse(deniedJson.stdout);
    expect(report.deny).toEqual(["GPL-3.0*", "AGPL-*"]);
    expect(report.denied.map((d: { name: string }) => d.name)).toContain("bash");
    expect(report.denied.map((d: { name: string }) => d.name)).not.toContain("adduser");
    expect(fromFile.code).toBe(1);
    expect(JSON.parse(fromFile.stdout).denied.map((d: { purl: string }) => d.purl)).toEqual(
      report.denied.map((d: { purl: string }) => d.purl),
    );
    // The same verdict from the CycloneDX document piped in on stdin.
    expect(fromStdin.code).toBe(1);
    expect(JSON.parse(fromStdin.stdout).denied.map((d: { purl: string }) => d.purl)).toEqual(
      report.denied.map((d: { purl: string }) => d.purl),
    );
    expect(clean.stdout).toBe("");
    expect(clean.stderr).toBe("no package carries a denied licence (88 packages checked)\n");
  });
});
