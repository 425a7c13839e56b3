// Both writers on both shared images: every document validates against its
// official schema, is byte-identical when made twice, and carries what the
// cataloguers found (purls, licences, locations, layers, relationships).
import parseExpression from "spdx-expression-parse";
import { beforeAll, describe, expect, it } from "vitest";
import { cycloneDxDocument, toCycloneDx } from "../../../src/sbom/formats/cyclonedx.js";
import { toSpdx } from "../../../src/sbom/formats/spdx.js";
import { generateSboms } from "../../../src/sbom/generate.js";
import type { Sbom } from "../../../src/sbom/model.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES, SHOP_DIGEST } from "../../helpers/cli.js";
import { cycloneDxErrors, spdxErrors } from "./validators.js";

type Json = Record<string, any>;

const images = { "debian-base": DEBIAN_BASE_DIGEST, "shop-1.4.2": SHOP_DIGEST } as const;
const sboms = new Map<string, Sbom>();

beforeAll(async () => {
  for (const tag of Object.keys(images)) {
    const [sbom] = await generateSboms(`oci:${SHARED_IMAGES}:${tag}`, { env: {} });
    sboms.set(tag, sbom as Sbom);
  }
}, 120_000);

const get = (tag: string) => sboms.get(tag) as Sbom;

describe.each(Object.entries(images))("%s", (tag, digest) => {
  it("CycloneDX 1.6: valid against the official schema, deterministic, complete", async () => {
    const sbom = get(tag);
    const text = toCycloneDx(sbom, { toolVersion: "0.1.0" });
    expect(await cycloneDxErrors(text)).toBeNull();
    // Byte-identical for the same input, also from a deep copy with packages in another order.
    const shuffled = { ...structuredClone(sbom), packages: [...sbom.packages].reverse() };
    expect(toCycloneDx(shuffled, { toolVersion: "0.1.0" })).toBe(text);

    const doc = JSON.parse(text) as Json;
    expect(doc.specVersion).toBe("1.6");
    expect(doc.serialNumber).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(doc.metadata.timestamp).toBe(sbom.created);
    expect(doc.metadata.tools.components).toEqual([
      { type: "application", name: "shipgate", version: "0.1.0" },
    ]);
    expect(doc.metadata.component).toMatchObject({
      type: "container",
      version: digest,
      hashes: [{ alg: "SHA-256", content: digest.slice(7) }],
    });
    const props = (c: Json) => Object.fromEntries((c.properties ?? []).map((p: Json) => [p.name, p.value]));
    expect(props(doc.metadata.component)["shipgate:image:platform"]).toBe("linux/amd64");
    const os = doc.components.filter((c: Json) => c.type === "operating-system");
    expect(os).toEqual([
      expect.objectContaining({
        name: "debian",
        version: "12",
        description: expect.stringMatching(/bookworm/),
      }),
    ]);

    const libs = doc.components.filter((c: Json) => c.type === "library");
    expect(libs.map((c: Json) => c.purl)).toEqual(sbom.packages.map((p) => p.purl));
    expect(new Set(doc.components.map((c: Json) => c["bom-ref"])).size).toBe(doc.components.length);
    const adduser = libs.find((c: Json) => c.name === "adduser");
    expect(adduser).toMatchObject({
      purl: "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12",
      licenses: [{ license: { id: "GPL-2.0-or-later", acknowledgement: "declared" } }],
      supplier: { name: "Debian Adduser Developers", contact: [{ email: "adduser@packages.debian.org" }] },
    });
    expect(props(adduser)).toMatchObject({
      "shipgate:package:foundBy": "dpkg",
      "shipgate:location:0:path": "/var/lib/dpkg/status",
      "shipgate:location:0:layerDigest": sbom.source.layers?.[0],
    });
    // passwd is built from shadow: the source package is kept.
    expect(props(libs.find((c: Json) => c.name === "passwd"))["shipgate:package:sourceName"]).toBe("shadow");
    // Dependencies mirror the relationships: apt depends on adduser.
    const deps = new Map(doc.dependencies.map((d: Json) => [d.ref, d.dependsOn]));
    expect(deps.get(adduser["bom-ref"].replace("adduser@3.134?arch=all", "apt@2.6.1?arch=amd64"))).toContain(
      adduser["bom-ref"],
    );
    const refs = new Set(doc.components.map((c: Json) => c["bom-ref"]));
    for (const d of doc.dependencies) for (const r of [d.ref, ...d.dependsOn]) expect(refs.has(r)).toBe(true);
    expect(doc.dependencies.reduce((n: number, d: Json) => n + d.dependsOn.length, 0)).toBe(
      sbom.relationships.filter((r) => r.type === "depends-on").length,
    );
  });

  it("SPDX 2.3: valid against the official schema, deterministic, complete", () => {
    const sbom = get(tag);
    const text = toSpdx(sbom, { toolVersion: "0.1.0" });
    expect(spdxErrors(text)).toBeNull();
    expect(toSpdx(structuredClone(sbom), { toolVersion: "0.1.0" })).toBe(text);

    const doc = JSON.parse(text) as Json;
    expect(doc.spdxVersion).toBe("SPDX-2.3");
    expect(doc.creationInfo).toMatchObject({ created: sbom.created, creators: ["Tool: shipgate-0.1.0"] });
    expect(doc.documentNamespace).toMatch(
      /^https:\/\/shipgate\.dev\/spdx\/[A-Za-z0-9.-]+-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const ids = doc.packages.map((p: Json) => p.SPDXID);
    for (const id of ids) expect(id).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
    expect(new Set(ids).size).toBe(ids.length);
    const known = new Set([...ids, "SPDXRef-DOCUMENT"]);
    for (const r of doc.relationships) {
      expect(known.has(r.spdxElementId) && known.has(r.relatedSpdxElement), JSON.stringify(r)).toBe(true);
    }
    const [describes] = doc.relationships.filter((r: Json) => r.relationshipType === "DESCRIBES");
    const root = doc.packages.find((p: Json) => p.SPDXID === describes.relatedSpdxElement);
    expect(root).toMatchObject({
      name: `oci:${SHARED_IMAGES}:${tag}`,
      versionInfo: digest,
      primaryPackagePurpose: "CONTAINER",
      checksums: [{ algorithm: "SHA256", checksumValue: digest.slice(7) }],
    });
    const contained = doc.relationships
      .filter((r: Json) => r.spdxElementId === root.SPDXID && r.relationshipType === "CONTAINS")
      .map((r: Json) => r.relatedSpdxElement);
    expect(contained.length).toBe(sbom.packages.length + 1); // every package and the OS
    expect(doc.packages.find((p: Json) => p.primaryPackagePurpose === "OPERATING_SYSTEM")).toMatchObject({
      name: "debian",
      versionInfo: "12",
    });
    expect(doc.relationships.filter((r: Json) => r.relationshipType === "DEPENDS_ON").length).toBe(
      sbom.relationships.filter((r) => r.type === "depends-on").length,
    );

    // Licences: each declared value is a valid SPDX expression whose LicenseRefs are all listed.
    const extracted = new Set((doc.hasExtractedLicensingInfos ?? []).map((e: Json) => e.licenseId));
    const libs = doc.packages.filter((p: Json) => p.primaryPackagePurpose === "LIBRARY");
    expect(libs.length).toBe(sbom.packages.length);
    for (const p of libs) {
      expect(p.externalRefs).toEqual([
        {
          referenceCategory: "PACKAGE-MANAGER",
          referenceType: "purl",
          referenceLocator: expect.stringMatching(/^pkg:/),
        },
      ]);
      expect(p.licenseConcluded).toBe("NOASSERTION");
      if (p.licenseDeclared === "NOASSERTION") continue;
      expect(() => parseExpression(p.licenseDeclared), p.licenseDeclared).not.toThrow();
      for (const ref of p.licenseDeclared.match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? [])
        expect(extracted.has(ref)).toBe(true);
    }
    const adduser = libs.find((p: Json) => p.name === "adduser");
    expect(adduser).toMatchObject({
      versionInfo: "3.134",
      licenseDeclared: "GPL-2.0-or-later",
      supplier: "Person: Debian Adduser Developers (adduser@packages.debian.org)",
    });
    expect(adduser.annotations.map((a: Json) => a.comment)).toContain(
      `Location: /var/lib/dpkg/status in layer ${sbom.source.layers?.[0]}`,
    );
  });
});

describe("writer details", () => {
  const base: Sbom = {
    source: { kind: "directory", name: "/srv/rootfs" },
    created: "2024-03-01T00:00:00Z",
    relationships: [],
    warnings: [],
    packages: [
      {
        name: "a",
        version: "1.0.0",
        type: "npm",
        purl: "pkg:npm/a@1.0.0",
        licenses: [{ expression: "MIT OR Apache-2.0" }],
        locations: [{ path: "/app/node_modules/a/package.json" }],
        foundBy: "npm",
      },
      {
        name: "b",
        version: "2",
        type: "deb",
        purl: "pkg:deb/debian/b@2",
        licenses: [
          { expression: "MIT" },
          { expression: "GPL-2.0-only WITH Linux-syscall-note" },
          { name: "MIT/X11" },
          { name: "MIT-X11" },
        ],
        locations: [],
        foundBy: "dpkg",
      },
    ],
  };

  it("a lone compound licence is a CycloneDX expression; in a list it is a named licence", async () => {
    const doc = cycloneDxDocument(base) as Json;
    const a = doc.components.find((c: Json) => c.name === "a");
    const b = doc.components.find((c: Json) => c.name === "b");
    expect(a.licenses).toEqual([{ expression: "MIT OR Apache-2.0", acknowledgement: "declared" }]);
    expect(b.licenses.map((l: Json) => l.license)).toEqual([
      { id: "MIT", acknowledgement: "declared" },
      { name: "GPL-2.0-only WITH Linux-syscall-note", acknowledgement: "declared" },
      { name: "MIT/X11", acknowledgement: "declared" },
      { name: "MIT-X11", acknowledgement: "declared" },
    ]);
    expect(doc.metadata.component.type).toBe("file");
    expect(await cycloneDxErrors(JSON.stringify(doc))).toBeNull();
  });

  it("non-SPDX names become distinct LicenseRefs; compound parts are parenthesised", () => {
    const text = toSpdx(base);
    expect(spdxErrors(text)).toBeNull();
    const doc = JSON.parse(text) as Json;
    const b = doc.packages.find((p: Json) => p.name === "b");
    const refs = doc.hasExtractedLicensingInfos as Json[];
    expect(refs.map((r) => r.name).sort()).toEqual(["MIT-X11", "MIT/X11"]);
    expect(new Set(refs.map((r) => r.licenseId)).size).toBe(2);
    expect(b.licenseDeclared).toBe(
      `MIT AND GPL-2.0-only WITH Linux-syscall-note AND ${refs.find((r) => r.name === "MIT/X11")?.licenseId} AND ${refs.find((r) => r.name === "MIT-X11")?.licenseId}`,
    );
    expect(doc.packages.find((p: Json) => p.name === "a").licenseDeclared).toBe("MIT OR Apache-2.0");
    expect(doc.packages[0].primaryPackagePurpose).toBe("OTHER");
  });

  it("ids derived from content: a changed package changes the serial number and namespace", () => {
    const changed = structuredClone(base);
    (changed.packages[0] as Sbom["packages"][0]).version = "1.0.1";
    (changed.packages[0] as Sbom["packages"][0]).purl = "pkg:npm/a@1.0.1";
    const cdx = [base, changed].map((s) => (cycloneDxDocument(s) as Json).serialNumber);
    const spdx = [base, changed].map((s) => JSON.parse(toSpdx(s)).documentNamespace);
    expect(cdx[0]).not.toBe(cdx[1]);
    expect(spdx[0]).not.toBe(spdx[1]);
    expect((cycloneDxDocument(base) as Json).serialNumber).toBe(cdx[0]);
  });
});
