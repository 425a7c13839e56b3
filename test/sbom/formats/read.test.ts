// Reading SBOMs back: shipgate's own documents round-trip to the same
// packages; syft's and Trivy's shapes load into the same model; bad input is
// refused with SBOM_INVALID and a message that says what and where.
import { beforeAll, describe, expect, it } from "vitest";
import { ShipgateError } from "../../../src/errors.js";
import { splitConjunction } from "../../../src/sbom/formats/common.js";
import { toCycloneDx } from "../../../src/sbom/formats/cyclonedx.js";
import { readSbom } from "../../../src/sbom/formats/read.js";
import { toSpdx } from "../../../src/sbom/formats/spdx.js";
import { generateSboms } from "../../../src/sbom/generate.js";
import type { Package, Sbom } from "../../../src/sbom/model.js";
import { SHARED_IMAGES, SHOP_DIGEST } from "../../helpers/cli.js";
import { syftCycloneDx, syftSpdx22, trivyCycloneDx, trivySpdx } from "./other-tools.js";
import { cycloneDxErrors, spdxErrors } from "./validators.js";

let shop: Sbom;

beforeAll(async () => {
  [shop] = (await generateSboms(`oci:${SHARED_IMAGES}:shop-1.4.2`, { env: {} })) as [Sbom];
}, 120_000);

/** A package as the formats must keep it; licences as the set of their top-level conjuncts. */
function essentials(p: Package, flattenLicences: boolean) {
  const licences = p.licenses.flatMap((l) =>
    l.expression !== undefined
      ? flattenLicences
        ? splitConjunction(l.expression)
        : [l.expression]
      : [`name:${l.name}`],
  );
  return { ...p, licenses: [...new Set(licences)].sort() };
}

function invalid(text: string, where = "x.json"): ShipgateError {
  try {
    readSbom(text, where);
  } catch (error) {
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).code).toBe("SBOM_INVALID");
    return error as ShipgateError;
  }
  throw new Error("read without error");
}

describe("round trips", () => {
  it("CycloneDX: write → read gives the same packages, relationships, distro and image", () => {
    const back = readSbom(toCycloneDx(shop), "shop.cdx.json");
    expect(back.packages.length).toBeGreaterThan(300);
    expect(back.packages.map((p) => essentials(p, false))).toEqual(
      shop.packages.map((p) => essentials(p, false)),
    );
    // Beyond licence lists, every field comes back exactly.
    expect(back.packages).toEqual(shop.packages);
    expect(back.relationships).toEqual(shop.relationships);
    expect(back.distro).toEqual(shop.distro);
    expect(back.created).toBe(shop.created);
    expect(back.source).toEqual({ ...shop.source, kind: "sbom" });
    expect(back.tool).toEqual({ name: "shipgate" });
  });

  it("SPDX: write → read gives the same packages (licences as the same conjuncts)", () => {
    const back = readSbom(toSpdx(shop, { toolVersion: "0.1.0" }), "shop.spdx.json");
    expect(back.packages.map((p) => essentials(p, true))).toEqual(
      shop.packages.map((p) => essentials(p, true)),
    );
    expect(back.relationships).toEqual(shop.relationships);
    expect(back.distro).toEqual(shop.distro);
    expect(back.source).toEqual({ ...shop.source, kind: "sbom" });
    expect(back.tool).toEqual({ name: "shipgate", version: "0.1.0" });
    // Names that are not SPDX come back as names (through LicenseRef-), not as expressions.
    const named = shop.packages.flatMap((p) => p.licenses.filter((l) => l.name).map((l) => l.name));
    expect(named.length).toBeGreaterThan(0);
    const namedBack = back.packages.flatMap((p) => p.licenses.filter((l) => l.name).map((l) => l.name));
    expect(new Set(namedBack)).toEqual(new Set(named));
  });

  it("SPDX → model → CycloneDX → model keeps the package set", () => {
    const viaSpdx = readSbom(toSpdx(shop), "a");
    const viaBoth = readSbom(toCycloneDx(viaSpdx), "b");
    expect(viaBoth.packages.map((p) => p.purl)).toEqual(shop.packages.map((p) => p.purl));
    expect(viaBoth.source.digest).toBe(SHOP_DIGEST);
  });
});

describe("other tools' SBOMs", () => {
  it("the fixtures are valid documents by their official schemas", async () => {
    expect(await cycloneDxErrors(JSON.stringify(syftCycloneDx), "1.6")).toBeNull();
    expect(await cycloneDxErrors(JSON.stringify(trivyCycloneDx), "1.5")).toBeNull();
    expect(spdxErrors(JSON.stringify(trivySpdx))).toBeNull();
    expect(spdxErrors(JSON.stringify(syftSpdx22))).toBeNull();
  });

  it("syft CycloneDX: package-id bom-refs, syft: properties, the OS component", () => {
    const sbom = readSbom(JSON.stringify(syftCycloneDx), "syft.cdx.json");
    expect(sbom.tool).toEqual({ name: "syft", version: "1.4.1" });
    expect(sbom.distro).toEqual({
      id: "debian",
      versionId: "12",
      versionCodename: "bookworm",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
    });
    expect(sbom.source).toMatchObject({
      kind: "sbom",
      name: "debian",
      digest: syftCycloneDx.metadata.component.version,
    });
    const [adduser, passwd] = sbom.packages as [Package, Package];
    expect(adduser).toMatchObject({
      name: "adduser",
      version: "3.134",
      type: "deb",
      arch: "all",
      foundBy: "dpkg-db-cataloger",
      licenses: [{ expression: "GPL-2.0-or-later" }],
      supplier: "Debian Adduser Developers <adduser@packages.debian.org>",
    });
    expect(adduser.locations.map((l) => l.path)).toEqual([
      "/usr/share/doc/adduser/copyright",
      "/var/lib/dpkg/status",
    ]);
    expect(adduser.locations[0]?.layerDigest).toMatch(/^sha256:/);
    expect(passwd.source).toEqual({ name: "shadow", version: "1:4.13+dfsg1-1+deb12u2" });
    expect(passwd.licenses).toEqual([{ expression: "GPL-2.0-only" }, { name: "BSD-3-clause-Regents" }]);
    expect(sbom.relationships).toEqual([{ from: adduser.purl, to: passwd.purl, type: "depends-on" }]);
  });

  it("syft SPDX 2.2: PACKAGE_MANAGER purls, DEPENDENCY_OF, the image root with an oci purl", () => {
    const sbom = readSbom(JSON.stringify(syftSpdx22), "syft.spdx.json");
    expect(sbom.tool).toEqual({ name: "syft", version: "0.105.0" });
    expect(sbom.packages.map((p) => p.name)).toEqual(["adduser", "passwd"]);
    expect(sbom.source.digest).toBe(syftSpdx22.packages[2]?.versionInfo);
    // No OS package: the distro comes from the purls' qualifier.
    expect(sbom.distro).toEqual({ id: "debian", versionId: "12" });
    const passwd = sbom.packages[1] as Package;
    expect(passwd.source).toEqual({ name: "shadow" });
    expect(passwd.licenses).toEqual([{ expression: "GPL-2.0-only" }, { name: "BSD-3-clause-Regents" }]);
    expect(passwd.supplier).toBe("Shadow package maintainers <pkg-shadow-devel@lists.alioth.debian.org>");
    expect(sbom.relationships).toEqual([
      { from: sbom.packages[0]?.purl, to: passwd.purl, type: "depends-on" },
    ]);
  });

  it("Trivy CycloneDX: UUID bom-refs, trivy properties, group for npm scopes, lockfile components skipped", () => {
    const sbom = readSbom(JSON.stringify(trivyCycloneDx), "trivy.cdx.json");
    expect(sbom.tool).toEqual({ name: "trivy", version: "0.50.1" });
    expect(sbom.created).toBe("2024-05-02T10:11:12Z");
    expect(sbom.distro).toEqual({ id: "debian", versionId: "12.4" });
    expect(sbom.source.configDigest).toMatch(/^sha256:71e0/);
    expect(sbom.packages.map((p) => [p.type, p.name, p.version])).toEqual([
      ["deb", "passwd", "1:4.13+dfsg1-1+deb12u2"],
      ["npm", "@tootallnate/once", "1.1.2"],
    ]);
    const [passwd, once] = sbom.packages as [Package, Package];
    expect(passwd.source).toEqual({ name: "shadow", version: "1:4.13+dfsg1-1+deb12u2" });
    expect(passwd.locations).toEqual([{ path: "", layerDigest: expect.stringMatching(/^sha256:ebdc/) }]);
    expect(passwd.supplier).toBe("Shadow package maintainers <pkg-shadow-devel@lists.alioth.debian.org>");
    expect(once.locations[0]?.path).toBe("app/node_modules/@tootallnate/once/package.json");
    expect(once.licenses).toEqual([{ expression: "MIT" }]);
    expect(sbom.relationships).toEqual([]);
  });

  it("Trivy SPDX: the OS package, built-from source info, LicenseRef names, Key: value annotations", () => {
    const sbom = readSbom(JSON.stringify(trivySpdx), "trivy.spdx.json");
    expect(sbom.tool).toEqual({ name: "trivy", version: "0.50.1" });
    expect(sbom.distro).toEqual({ id: "debian", versionId: "12.4" });
    expect(sbom.source.name).toBe("shop:1.4.2");
    expect(sbom.packages).toHaveLength(1);
    expect(sbom.packages[0]).toMatchObject({
      name: "passwd",
      type: "deb",
      arch: "amd64",
      foundBy: "trivy",
      source: { name: "shadow", version: "1:4.13+dfsg1-1+deb12u2" },
      licenses: [{ expression: "GPL-2.0-only" }, { name: "BSD-3-clause-Regents" }],
      locations: [{ path: "", layerDigest: expect.stringMatching(/^sha256:ebdc/) }],
    });
  });

  it("CycloneDX 1.4's tool array and nested components", () => {
    const doc = {
      bomFormat: "CycloneDX",
      specVersion: "1.4",
      version: 1,
      metadata: { tools: [{ vendor: "x", name: "oldtool", version: "2" }] },
      components: [
        {
          type: "library",
          name: "outer",
          version: "1",
          purl: "pkg:maven/org.example/outer@1",
          components: [
            { type: "library", name: "inner", version: "2", purl: "pkg:maven/org.example/inner@2" },
          ],
        },
      ],
    };
    const sbom = readSbom(JSON.stringify(doc), "old.json");
    expect(sbom.tool).toEqual({ name: "oldtool", version: "2" });
    expect(sbom.packages.map((p) => [p.type, p.name])).toEqual([
      ["java-archive", "inner"],
      ["java-archive", "outer"],
    ]);
    expect(sbom.created).toBe("1970-01-01T00:00:00Z");
  });
});

describe("bad input", () => {
  it("not JSON, not an SBOM, the wrong version: SBOM_INVALID saying so", () => {
    expect(invalid("<bom/>", "a.xml").message).toMatch(/a\.xml is not JSON/);
    expect(invalid("[]").message).toMatch(/neither SPDX .* nor CycloneDX/);
    expect(
      invalid(JSON.stringify({ "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld" })).message,
    ).toMatch(/SPDX 3/);
    expect(invalid(JSON.stringify({ bomFormat: "CycloneDX", specVersion: "2.0" })).message).toMatch(
      /specVersion: shipgate reads CycloneDX 1\.2 to 1\.7/,
    );
    expect(invalid(JSON.stringify({ ...trivySpdx, spdxVersion: "SPDX-1.2" })).message).toMatch(
      /SPDX 2\.2 and 2\.3/,
    );
  });

  it("names the broken field by its path in the document", () => {
    const broken = structuredClone(syftCycloneDx) as { components: Record<string, unknown>[] };
    delete broken.components[1]?.name;
    const error = invalid(JSON.stringify(broken), "b.cdx.json");
    expect(error.message).toMatch(/^b\.cdx\.json is not valid CycloneDX: components\[1\]\.name: /);
    expect(error.hint).toMatch(/schema/);
    const spdx = structuredClone(trivySpdx) as { packages: Record<string, unknown>[] };
    spdx.packages[2] = { ...spdx.packages[2], SPDXID: 7 };
    expect(invalid(JSON.stringify(spdx)).message).toMatch(/packages\[2\]\.SPDXID/);
  });
});
