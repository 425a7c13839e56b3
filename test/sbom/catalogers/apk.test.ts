import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Collector } from "../../../src/image/collector.js";
import { apkCataloger, apkLicense, parseInstalled } from "../../../src/sbom/catalogers/apk.js";
import type { Package } from "../../../src/sbom/model.js";
import { catalogDir, edgeIds } from "./language-helpers.js";

/**
 * Debian bookworm has no apk-tools, so this root filesystem's
 * /lib/apk/db/installed was written by hand in apk-tools' installed-database
 * format (wiki.alpinelinux.org/wiki/Apk_spec), after the records of Alpine
 * 3.19's base packages: nothing here was produced by apk itself.
 */
const FIXTURE = join(import.meta.dirname, "fixtures", "os", "apk");
const DB = readFileSync(join(FIXTURE, "lib", "apk", "db", "installed"), "utf8");

const rows = (packages: Package[]) => packages.map((p) => `${p.name}\t${p.version}\t${p.arch}`).sort();
const byName = (packages: Package[], name: string) => packages.find((p) => p.name === name) as Package;

describe("apk installed database", () => {
  it("reports every record with name, version, architecture, origin, licence and purl", async () => {
    const { packages, relationships, warnings, distro } = await catalogDir(FIXTURE, apkCataloger);
    expect(warnings).toEqual([]);
    expect(distro).toMatchObject({ id: "alpine", versionId: "3.19.1" });
    // Every P: line of the file, each with the V: and A: of its own record.
    const expected = [...DB.matchAll(/^P:(.+)\nV:(.+)\nA:(.+)$/gm)]
      .map((m) => `${m[1]}\t${m[2]}\t${m[3]}`)
      .sort();
    expect(expected).toHaveLength(12);
    expect(rows(packages)).toEqual(expected);

    const libssl = byName(packages, "libssl3");
    expect(libssl).toMatchObject({
      type: "apk",
      purl: "pkg:apk/alpine/libssl3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl",
      source: { name: "openssl", version: "3.1.4-r5" },
      licenses: [{ expression: "Apache-2.0" }],
      supplier: "Ariadne Conill <ariadne@dereferenced.org>",
      homepage: "https://www.openssl.org/",
      description: "SSL shared libraries",
      locations: [{ path: "/lib/apk/db/installed" }],
      foundBy: "apk",
    });
    expect(byName(packages, "musl").purl).toBe(
      "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1",
    );
    // Older packages list their licences separated by spaces: all apply.
    expect(byName(packages, "musl-utils").licenses).toEqual([
      { expression: "MIT AND BSD-2-Clause AND GPL-2.0-or-later" },
    ]);

    expect(edgeIds(packages, relationships)).toEqual(
      [
        // by name, version constraint stripped
        "alpine-baselayout@3.4.3-r2 -> alpine-baselayout-data@3.4.3-r2",
        "busybox-binsh@1.36.1-r15 -> busybox@1.36.1-r15",
        "libc-utils@0.7.2-r5 -> musl-utils@1.2.4_git20230717-r4",
        "musl-utils@1.2.4_git20230717-r4 -> scanelf@1.3.7-r2",
        // by a file path another package owns
        "alpine-baselayout@3.4.3-r2 -> busybox-binsh@1.36.1-r15",
        // by so: provides
        ...[
          "busybox@1.36.1-r15",
          "libcrypto3@3.1.4-r5",
          "libssl3@3.1.4-r5",
          "musl-utils@1.2.4_git20230717-r4",
        ].map((p) => `${p} -> musl@1.2.4_git20230717-r4`),
        ...["scanelf@1.3.7-r2", "ssl_client@1.36.1-r15", "zlib@1.3.1-r0"].map(
          (p) => `${p} -> musl@1.2.4_git20230717-r4`,
        ),
        "libssl3@3.1.4-r5 -> libcrypto3@3.1.4-r5",
        "ssl_client@1.36.1-r15 -> libcrypto3@3.1.4-r5",
        "ssl_client@1.36.1-r15 -> libssl3@3.1.4-r5",
      ].sort(),
    );
  });

  it("credits each package to the layer that installed it; a whiteout of the database removes them all", () => {
    const records = DB.trim().split("\n\n");
    const collector = new Collector([apkCataloger]);
    const write = (layerIndex: number, text: string) => {
      collector.beginLayer();
      const file = { path: "/lib/apk/db/installed", mode: 0o644, size: text.length, layerIndex };
      const info = { ...file, layerDigest: `sha256:layer${layerIndex}` };
      collector.content(info, collector.wanted(info).catalogers, Buffer.from(text));
    };
    write(0, `${records.slice(0, 3).join("\n\n")}\n\n`);
    write(1, `${records.join("\n\n")}\n\n`);
    const { packages } = collector.finish();
    expect(packages).toHaveLength(records.length);
    for (const p of packages) {
      const first = ["musl", "busybox", "busybox-binsh"].includes(p.name);
      expect(p.locations, p.name).toEqual([
        { path: "/lib/apk/db/installed", layerDigest: first ? "sha256:layer0" : "sha256:layer1" },
      ]);
    }
    collector.beginLayer();
    collector.whiteout("/lib/apk", 2);
    expect(collector.finish().packages).toEqual([]);
  });
});

describe("apk on odd and hostile input", () => {
  it("drops a truncated last record with a warning, wherever the file was cut", () => {
    const full = new Set(rows(parseInstalled(DB) as unknown as Package[]));
    for (let cut = 1; cut < DB.length; cut += 37) {
      const warnings: string[] = [];
      const data = apkCataloger.parse(
        { path: "/lib/apk/db/installed", mode: 0o644, size: cut, layerIndex: 0 },
        Buffer.from(DB.slice(0, cut)),
        warnings,
      );
      for (const row of rows((data?.entries ?? []) as unknown as Package[])) {
        expect(full.has(row), `cut at ${cut}: ${row}`).toBe(true);
      }
      // Cut mid-line: always a warning. (Cut at a line end: a record missing its A: line is dropped too.)
      if (!DB.slice(0, cut).endsWith("\n")) expect(warnings.join()).toMatch(/truncated/);
    }
  });

  it("skips records without a name or version and binary junk, with warnings", () => {
    const warnings: string[] = [];
    const entries = parseInstalled(
      "P:noversion\nA:x86_64\n\nV:1.0\n\nnot a field\nP:ok\nV:1-r0\n\n",
      warnings,
    );
    expect(entries.map((e) => e.name)).toEqual(["ok"]);
    expect(warnings).toEqual([
      "apk: /lib/apk/db/installed: skipped a record without a valid name and version (P:noversion)",
      "apk: /lib/apk/db/installed: skipped a record without a valid name and version (P:)",
    ]);
    const junk: string[] = [];
    const file = { path: "/lib/apk/db/installed", mode: 0o644, size: 3, layerIndex: 0 };
    expect(apkCataloger.parse(file, Buffer.from([0, 1, 2]), junk)).toBeUndefined();
    expect(junk).toEqual(["apk: /lib/apk/db/installed is not a text file; no packages read from it"]);
  });

  it("keeps licences it cannot map as the packager wrote them", () => {
    expect(apkLicense("GPL-2.0-or-later")).toEqual({ expression: "GPL-2.0-or-later" });
    expect(apkLicense("MIT OR Apache-2.0")).toEqual({ expression: "MIT OR Apache-2.0" });
    expect(apkLicense("custom:proprietary")).toEqual({ name: "custom:proprietary" });
    expect(apkLicense("MIT custom")).toEqual({ name: "MIT custom" });
  });
});
