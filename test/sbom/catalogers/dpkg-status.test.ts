import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Collector } from "../../../src/image/collector.js";
import { type DpkgData, dpkgCataloger } from "../../../src/sbom/catalogers/dpkg.js";
import type { FileInfo } from "../../../src/sbom/catalogers/types.js";
import { SHARED_IMAGES } from "../../helpers/cli.js";
import { catalogDir } from "./language-helpers.js";

let baseDir: string | undefined;
/** debian-base's /var/lib/dpkg, unpacked by GNU tar from its one layer (the rest of the image is not needed here). */
function base(): string {
  if (baseDir) return baseDir;
  const index = JSON.parse(readFileSync(join(SHARED_IMAGES, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const blob = (digest: string) => join(SHARED_IMAGES, "blobs", "sha256", digest.slice("sha256:".length));
  const manifest = index.manifests.find(
    (m) => m.annotations?.["org.opencontainers.image.ref.name"] === "debian-base",
  );
  const layers = (
    JSON.parse(readFileSync(blob(manifest?.digest as string), "utf8")) as { layers: { digest: string }[] }
  ).layers;
  expect(layers).toHaveLength(1);
  const dir = mkdtempSync(join(tmpdir(), "shipgate-dpkg-base-"));
  execFileSync("tar", [
    "-xzf",
    blob(layers[0]?.digest as string),
    "-C",
    dir,
    "--no-same-owner",
    "var/lib/dpkg",
  ]);
  baseDir = join(dir, "var", "lib", "dpkg");
  return baseDir;
}
const realStatus = () => readFileSync(join(base(), "status"), "utf8");
const paragraphs = (text: string) => text.trim().split(/\n\n+/);
const truth = readFileSync(join(SHARED_IMAGES, "..", "truth", "debian-base.dpkg.tsv"), "utf8")
  .trim()
  .split("\n")
  .sort();
const rows = (packages: { name: string; version: string; arch?: string }[]) =>
  packages.map((p) => `${p.name}\t${p.version}\t${p.arch}`).sort();

function rootfs(): string {
  const root = mkdtempSync(join(tmpdir(), "shipgate-dpkg-"));
  mkdirSync(join(root, "var", "lib", "dpkg"), { recursive: true });
  return root;
}

const statusFile: FileInfo = { path: "/var/lib/dpkg/status", mode: 0o644, size: 0, layerIndex: 0 };
function parseStatusBytes(content: Buffer | string) {
  const warnings: string[] = [];
  const data = dpkgCataloger.parse(statusFile, Buffer.from(content), warnings) as DpkgData | undefined;
  return { entries: data?.kind === "db" ? data.entries : [], warnings };
}

describe("dpkg status states", () => {
  it("reports the packages whose files are on disk, as dpkg itself reads the Status field", async () => {
    // Real paragraphs from debian-base, each put into another state dpkg can record.
    const states = [
      "install ok installed",
      "deinstall ok config-files",
      "install reinstreq half-installed",
      "install ok unpacked",
      "install ok half-configured",
      "install ok triggers-pending",
      "install ok triggers-awaited",
      "purge ok not-installed",
      "hold ok installed",
      "deinstall ok installed",
    ];
    const text = paragraphs(realStatus())
      .slice(0, states.length)
      .map((p, i) => {
        const state = states[i] as string;
        const lines = p.split("\n").map((l) => (l.startsWith("Status:") ? `Status: ${state}` : l));
        // dpkg refuses a triggers state without its list of triggers.
        if (state.endsWith("triggers-pending")) lines.push("Triggers-Pending: ldconfig");
        if (state.endsWith("triggers-awaited")) lines.push("Triggers-Awaited: libc-bin");
        return lines.join("\n");
      })
      .join("\n\n");
    const root = rootfs();
    const admindir = join(root, "var", "lib", "dpkg");
    writeFileSync(join(admindir, "status"), `${text}\n`);
    const oracle = execFileSync(
      "dpkg-query",
      [
        `--admindir=${admindir}`,
        "-W",
        "-f",
        "${Package}\t${Version}\t${Architecture}\t${db:Status-Status}\n",
      ],
      { encoding: "utf8" },
    )
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    const onDisk = new Set([
      "installed",
      "unpacked",
      "half-configured",
      "triggers-awaited",
      "triggers-pending",
    ]);
    const expected = oracle
      .filter((f) => onDisk.has(f[3] as string))
      .map((f) => f.slice(0, 3).join("\t"))
      .sort();
    // dpkg lists config-files and half-installed packages; neither has its files on disk.
    expect(oracle.map((f) => f[3])).toEqual(expect.arrayContaining(["config-files", "half-installed"]));
    expect(expected).toHaveLength(7);
    const { packages, warnings } = await catalogDir(root, dpkgCataloger);
    expect(rows(packages)).toEqual(expected);
    expect(warnings).toEqual([]);
  });
});

describe("distroless status.d", () => {
  it("reads one control paragraph per file, ignoring the md5sums beside them", async () => {
    // As distroless images are built: each package's control file (no Status field), and its md5sums.
    const root = rootfs();
    const dir = join(root, "var", "lib", "dpkg", "status.d");
    mkdirSync(dir);
    for (const p of paragraphs(realStatus())) {
      const name = /^Package: (.+)$/m.exec(p)?.[1] as string;
      const arch = /^Architecture: (.+)$/m.exec(p)?.[1] as string;
      writeFileSync(join(dir, name), `${p.replace(/^Status: .*\n/m, "")}\n`);
      const md5 = [`${name}.md5sums`, `${name}:${arch}.md5sums`].map((f) => join(base(), "info", f));
      const found = md5.find((f) => existsSync(f));
      if (found) writeFileSync(join(dir, `${name}.md5sums`), readFileSync(found));
    }
    const { packages, warnings } = await catalogDir(root, dpkgCataloger);
    expect(rows(packages)).toEqual(truth);
    expect(warnings).toEqual([]);
    const libc = packages.find((p) => p.name === "libc6");
    expect(libc?.locations).toEqual([{ path: "/var/lib/dpkg/status.d/libc6" }]);
    expect(libc?.source).toEqual({ name: "glibc", version: libc?.version });
  });

  it("drops a package whose status.d file an upper layer deleted, and keeps each file's own layer", () => {
    const [first, second] = paragraphs(realStatus()).map((p) => `${p.replace(/^Status: .*\n/m, "")}\n`);
    const collector = new Collector([dpkgCataloger]);
    const add = (layerIndex: number, name: string, text: string) => {
      const file = { path: `/var/lib/dpkg/status.d/${name}`, mode: 0o644, size: text.length, layerIndex };
      const info = { ...file, layerDigest: `sha256:layer${layerIndex}` };
      collector.content(info, collector.wanted(info).catalogers, Buffer.from(text));
    };
    collector.beginLayer();
    add(0, "one", first as string);
    collector.beginLayer();
    add(1, "two", second as string);
    collector.beginLayer();
    collector.whiteout("/var/lib/dpkg/status.d/one", 2);
    const { packages } = collector.finish();
    expect(packages.map((p) => [p.name, p.locations])).toEqual([
      [
        /^Package: (.+)$/m.exec(second as string)?.[1],
        [{ path: "/var/lib/dpkg/status.d/two", layerDigest: "sha256:layer1" }],
      ],
    ]);
  });

  it("warns about a status.d file that lists no installed package", async () => {
    const root = rootfs();
    mkdirSync(join(root, "var", "lib", "dpkg", "status.d"));
    writeFileSync(join(root, "var", "lib", "dpkg", "status.d", "broken"), "not a control file\n");
    const { packages, warnings } = await catalogDir(root, dpkgCataloger);
    expect(packages).toEqual([]);
    expect(warnings).toEqual(["dpkg: broken in /var/lib/dpkg/status.d/ lists no installed package"]);
  });
});

describe("dpkg on hostile or damaged status files", () => {
  it("never reports a cut-off version from a truncated file, wherever it was cut", () => {
    const text = realStatus();
    const full = new Set(truth);
    for (let cut = 1; cut < text.length; cut += 331) {
      const { entries, warnings } = parseStatusBytes(text.slice(0, cut));
      for (const row of rows(entries)) expect(full.has(row), `cut at ${cut}: ${row}`).toBe(true);
      if (!text.slice(0, cut).endsWith("\n")) expect(warnings.join()).toMatch(/truncated/);
      // Every paragraph wholly before the cut is there.
      const end = text.lastIndexOf("\n\n", cut - 2);
      if (end > 0) expect(entries.length).toBeGreaterThanOrEqual(paragraphs(text.slice(0, end + 1)).length);
    }
  });

  it("reads a huge paragraph in linear time", () => {
    const description = `Description: big\n${" line of filler text to make the paragraph huge\n".repeat(250_000)}`;
    const text = `Package: big\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n${description}\n`;
    expect(text.length).toBeGreaterThan(12_000_000);
    const started = Date.now();
    const { entries, warnings } = parseStatusBytes(text);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(rows(entries)).toEqual(["big\t1.0\tall"]);
    expect(entries[0]?.description).toBe("big");
    expect(warnings).toEqual([]);
  });

  it("catalogues a big system rewritten by many layers in bounded time", () => {
    // 5000 packages, 20 layers each rewriting the status file with 250 more packages.
    const paragraph = (i: number) =>
      `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nSource: src${i % 700}\n` +
      `Version: 1.${i}-1\nDepends: pkg${(i * 7) % 5000}, libc6 | pkg${i + 1}\nDescription: package ${i}\n`;
    const collector = new Collector([dpkgCataloger]);
    const started = Date.now();
    for (let layer = 0; layer < 20; layer++) {
      collector.beginLayer();
      const text = Array.from({ length: (layer + 1) * 250 }, (_, i) => paragraph(i)).join("\n");
      const file = { path: "/var/lib/dpkg/status", mode: 0o644, size: text.length, layerIndex: layer };
      const info = { ...file, layerDigest: `sha256:layer${layer}` };
      collector.content(info, collector.wanted(info).catalogers, Buffer.from(`${text}\n`));
    }
    const { packages, relationships } = collector.finish();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(packages).toHaveLength(5000);
    expect(packages.find((p) => p.name === "pkg4999")?.locations[0]?.layerDigest).toBe("sha256:layer19");
    expect(packages.find((p) => p.name === "pkg10")?.locations[0]?.layerDigest).toBe("sha256:layer0");
    expect(relationships.length).toBeGreaterThan(5000);
  });

  it("skips a status file over the size limit, and binary junk, with a warning each", async () => {
    const root = rootfs();
    writeFileSync(join(root, "var", "lib", "dpkg", "status"), Buffer.alloc(17 * 1024 * 1024, "a"));
    const big = await catalogDir(root, dpkgCataloger);
    expect(big.packages).toEqual([]);
    expect(big.warnings.join("\n")).toMatch(
      /dpkg: skipped \/var\/lib\/dpkg\/status \(\d+ bytes, over its size limit\)/,
    );
    const junk = parseStatusBytes(Buffer.from([0x50, 0x61, 0, 0xff, 0xfe, 0x0a]));
    expect(junk.entries).toEqual([]);
    expect(junk.warnings).toEqual([
      "dpkg: /var/lib/dpkg/status is not a text file; no packages read from it",
    ]);
  });

  it("ignores paragraphs without a name or version and lines without a field", () => {
    const { entries, warnings } = parseStatusBytes(
      "no colon here\n: empty name\nPackage: a\nStatus: install ok installed\n\n" +
        "Version: 1\nStatus: install ok installed\n\n" +
        "Package: ok\nStatus: install ok installed\nVersion: 2:1.0-1\nArchitecture: amd64\n\n" +
        // dpkg-query rejects a version continued onto a second line ("version string has embedded spaces").
        "Package: bad\nStatus: install ok installed\nVersion: 1.0\n garbage\nArchitecture: amd64\n\n" +
        "Package: bad2\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n garbage\n",
    );
    expect(rows(entries)).toEqual(["ok\t2:1.0-1\tamd64"]);
    expect(warnings).toEqual([
      'dpkg: /var/lib/dpkg/status: skipped a malformed paragraph (package "bad")',
      'dpkg: /var/lib/dpkg/status: skipped a malformed paragraph (package "bad2")',
    ]);
  });
});
