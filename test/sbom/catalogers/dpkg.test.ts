import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PackageURL } from "packageurl-js";
import { beforeAll, describe, expect, it } from "vitest";
import { dpkgCataloger } from "../../../src/sbom/catalogers/dpkg.js";
import type { Package } from "../../../src/sbom/model.js";
import { SHARED_IMAGES } from "../../helpers/cli.js";
import { unpackSharedImage } from "../../helpers/rootfs.js";
import { catalogSharedImage, edgeIds } from "./language-helpers.js";

const TRUTH = join(SHARED_IMAGES, "..", "truth");
type Tag = "debian-base" | "shop-1.4.2";

const row = (p: Package) => `${p.name}\t${p.version}\t${p.arch}`;
const truth = (tag: Tag) =>
  readFileSync(join(TRUTH, `${tag}.dpkg.tsv`), "utf8")
    .trim()
    .split("\n")
    .sort();

/** dpkg's own reading of a database directory, one tab-separated line per package. */
function dpkgQuery(admindir: string, format: string): string[] {
  return execFileSync("dpkg-query", [`--admindir=${admindir}`, "-W", "-f", `${format}\n`], {
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .filter(Boolean)
    .sort();
}

/** Each image streamed once per test file: the reader is what is under test, not the disk. */
const streamed = new Map<Tag, ReturnType<typeof catalogSharedImage>>();
function catalog(tag: Tag) {
  let result = streamed.get(tag);
  if (!result) {
    result = catalogSharedImage(tag, dpkgCataloger);
    streamed.set(tag, result);
  }
  return result;
}

const byName = (packages: Package[], name: string) => {
  const found = packages.find((p) => p.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};

describe.each(["debian-base", "shop-1.4.2"] as const)(
  "dpkg on %s, streamed through the image reader",
  (tag) => {
    let result: Awaited<ReturnType<typeof catalogSharedImage>>;
    let admindir: string;
    beforeAll(async () => {
      result = await catalog(tag);
      admindir = join(unpackSharedImage(tag), "var", "lib", "dpkg");
    });

    it("finds exactly the packages of the truth file and of dpkg-query, no more, no fewer", () => {
      const got = result.packages.map(row).sort();
      expect(got).toEqual(truth(tag));
      expect(got).toEqual(dpkgQuery(admindir, "${Package}\t${Version}\t${Architecture}"));
      // One entry per package: nothing reported twice.
      expect(new Set(got).size).toBe(got.length);
      expect(result.warnings).toEqual([]);
    });

    it("names the source package and version as dpkg does", () => {
      const got = result.packages.map((p) => `${p.name}\t${p.source?.name}\t${p.source?.version}`).sort();
      expect(got).toEqual(dpkgQuery(admindir, "${Package}\t${source:Package}\t${source:Version}"));
    });

    it("links each package to what it depends on, as far as dpkg's own fields say", () => {
      // Every Depends/Pre-Depends group of an installed system is met: each becomes an edge to one of its alternatives.
      const names = new Set(result.packages.map((p) => p.name));
      const provides = new Map<string, string[]>();
      for (const line of dpkgQuery(admindir, "${Package}\t${Provides}")) {
        const [pkg, field = ""] = line.split("\t");
        for (const v of field.split(",").map((x) => x.trim().split(/[\s(:]/)[0] ?? "")) {
          if (v) provides.set(v, [...(provides.get(v) ?? []), pkg as string]);
        }
      }
      const edges = new Set(
        edgeIds(result.packages, result.relationships).map((e) =>
          e.replace(/@\S+/g, "").replace(" -> ", "\t"),
        ),
      );
      let groups = 0;
      for (const line of dpkgQuery(admindir, "${Package}\t${Pre-Depends}, ${Depends}")) {
        const [pkg, field = ""] = line.split("\t") as [string, string];
        for (const group of field.split(",").filter((g) => g.trim() !== "")) {
          const alternatives = group.split("|").map((a) => a.trim().split(/[\s(:]/)[0] as string);
          const satisfiers = alternatives.flatMap((a) => (names.has(a) ? [a] : (provides.get(a) ?? [])));
          if (satisfiers.every((s) => s === pkg)) continue; // a package providing what it depends on
          groups++;
          expect(
            satisfiers.some((s) => edges.has(`${pkg}\t${s}`)),
            `${pkg} depends on ${group.trim()}`,
          ).toBe(true);
        }
      }
      expect(groups).toBeGreaterThan(100);
    });

    it("writes purls as the purl spec's deb type does: epoch in the version, arch, distro, upstream", () => {
      const login = byName(result.packages, "login");
      expect(login.purl).toBe(
        "pkg:deb/debian/login@1:4.13+dfsg1-1+deb12u2?arch=amd64&distro=debian-12&upstream=shadow",
      );
      expect(PackageURL.fromString(login.purl).version).toBe(login.version);
      // A binNMU: the source version differs from the binary's.
      expect(byName(result.packages, "bash").purl).toBe(
        "pkg:deb/debian/bash@5.2.15-2+b13?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
      );
      expect(byName(result.packages, "dpkg").purl).toBe(
        "pkg:deb/debian/dpkg@1.21.23?arch=amd64&distro=debian-12",
      );
      expect(result.distro).toMatchObject({ id: "debian", versionId: "12", versionCodename: "bookworm" });
    });

    it("reads licences from machine-readable copyright files only", () => {
      expect(byName(result.packages, "bash").licenses).toContainEqual({ expression: "GPL-3.0-or-later" });
      // Free-form (not DEP-5) copyright: no licence guessed.
      expect(byName(result.packages, "libc6").licenses).toEqual([]);
      const licensed = result.packages.filter((p) => p.licenses.length > 0).length;
      expect(licensed).toBeGreaterThan(result.packages.length * 0.6);
    });
  },
);

describe("dpkg on shop-1.4.2's layers", () => {
  it("credits each package to the layer that brought it and drops curl, purged in the top layer", async () => {
    const { packages, layers } = await catalog("shop-1.4.2");
    expect(packages.map((p) => p.name)).not.toContain("curl");
    expect(packages.map((p) => p.name)).toContain("libcurl4");
    const base = new Set(truth("debian-base"));
    for (const p of packages) {
      expect(p.locations).toEqual([
        { path: "/var/lib/dpkg/status", layerDigest: base.has(row(p)) ? layers[0] : layers[1] },
      ]);
    }
    expect(byName(packages, "python3-requests").locations[0]?.layerDigest).toBe(layers[1]);
  });

  it("takes the licences of a package whose doc directory is a symlink from its source sibling", async () => {
    // /usr/share/doc/libncurses6 -> libtinfo6 (both built from ncurses).
    const { packages } = await catalog("shop-1.4.2");
    const tinfo = byName(packages, "libtinfo6").licenses;
    expect(tinfo.map((l) => l.expression)).toContain("BSD-3-Clause");
    expect(byName(packages, "libncurses6").licenses).toEqual(tinfo);
  });
});
