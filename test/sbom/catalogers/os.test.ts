import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultCatalogers } from "../../../src/sbom/catalogers/index.js";
import { osCatalogers } from "../../../src/sbom/catalogers/os.js";
import { cycloneDxDocument } from "../../../src/sbom/formats/cyclonedx.js";
import { spdxDocument } from "../../../src/sbom/formats/spdx.js";
import { generateSboms } from "../../../src/sbom/generate.js";
import { SHARED_IMAGES } from "../../helpers/cli.js";

const APK_FIXTURE = join(import.meta.dirname, "fixtures", "os", "apk");
const env = { SOURCE_DATE_EPOCH: "0" };

const STATUS = [
  "Package: base-files",
  "Status: install ok installed",
  "Architecture: amd64",
  "Version: 12ubuntu4.6",
  "Description: Ubuntu base system",
  "",
].join("\n");

/** A root filesystem holding one dpkg package and the given files. */
function rootfs(files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "shipgate-os-"));
  for (const [path, content] of Object.entries({ "var/lib/dpkg/status": STATUS, ...files })) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  return root;
}

const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n';

describe("OS cataloguers", () => {
  it("are dpkg, apk and rpm, and all run by default", () => {
    expect(osCatalogers().map((c) => c.name)).toEqual(["dpkg", "apk", "rpm"]);
    expect(defaultCatalogers().map((c) => c.name)).toEqual(expect.arrayContaining(["dpkg", "apk", "rpm"]));
  });
});

describe("the distribution in the SBOM", () => {
  it("comes from the image's os-release (a symlink into /usr/lib on Debian) into both formats", async () => {
    const [sbom] = await generateSboms(`oci:${SHARED_IMAGES}:debian-base`, {
      catalogers: osCatalogers(),
      env,
    });
    if (!sbom) throw new Error("no SBOM");
    expect(sbom.distro).toEqual({
      id: "debian",
      versionId: "12",
      versionCodename: "bookworm",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
    });
    expect(sbom.packages).toHaveLength(88);
    expect(sbom.packages.every((p) => p.purl.includes("distro=debian-12"))).toBe(true);

    const cdx = cycloneDxDocument(sbom) as { components: Record<string, unknown>[] };
    expect(cdx.components.filter((c) => c.type === "operating-system")).toEqual([
      expect.objectContaining({
        name: "debian",
        version: "12",
        description: "Debian GNU/Linux 12 (bookworm)",
      }),
    ]);
    const spdx = spdxDocument(sbom) as { packages: Record<string, unknown>[] };
    expect(spdx.packages.filter((p) => p.primaryPackagePurpose === "OPERATING_SYSTEM")).toEqual([
      expect.objectContaining({ name: "debian", versionInfo: "12" }),
    ]);
  });

  it("names the vendor and release in every OS package's purl", async () => {
    const [alpine] = await generateSboms(APK_FIXTURE, { catalogers: osCatalogers(), env });
    expect(alpine?.distro).toMatchObject({ id: "alpine", versionId: "3.19.1" });
    expect(alpine?.packages.map((p) => p.purl)).toContain(
      "pkg:apk/alpine/zlib@1.3.1-r0?arch=x86_64&distro=alpine-3.19.1",
    );
    const [ubuntu] = await generateSboms(rootfs({ "etc/os-release": UBUNTU }), {
      catalogers: osCatalogers(),
      env,
    });
    expect(ubuntu?.distro).toEqual({
      id: "ubuntu",
      versionId: "22.04",
      versionCodename: "jammy",
      idLike: ["debian"],
    });
    expect(ubuntu?.packages.map((p) => p.purl)).toEqual([
      "pkg:deb/ubuntu/base-files@12ubuntu4.6?arch=amd64&distro=ubuntu-22.04",
    ]);
  });

  it("falls back to /usr/lib/os-release, and /etc/os-release wins when both exist", async () => {
    const usrOnly = rootfs({ "usr/lib/os-release": UBUNTU });
    expect((await generateSboms(usrOnly, { catalogers: osCatalogers(), env }))[0]?.distro?.id).toBe("ubuntu");
    const both = rootfs({ "usr/lib/os-release": UBUNTU, "etc/os-release": "ID=debian\nVERSION_ID=12\n" });
    expect((await generateSboms(both, { catalogers: osCatalogers(), env }))[0]?.distro).toEqual({
      id: "debian",
      versionId: "12",
    });
    const linked = rootfs({ "usr/lib/os-release": UBUNTU }, { "etc/os-release": "../usr/lib/os-release" });
    expect((await generateSboms(linked, { catalogers: osCatalogers(), env }))[0]?.distro?.id).toBe("ubuntu");
  });

  it("leaves the distro out, not guessed, when there is no os-release", async () => {
    const [sbom] = await generateSboms(rootfs({}), { catalogers: osCatalogers(), env });
    expect(sbom?.distro).toBeUndefined();
    expect(sbom?.packages.map((p) => p.purl)).toEqual(["pkg:deb/debian/base-files@12ubuntu4.6?arch=amd64"]);
  });
});
