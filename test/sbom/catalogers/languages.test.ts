import { PackageURL } from "packageurl-js";
import { beforeAll, describe, expect, it } from "vitest";
import { languageCatalogers } from "../../../src/sbom/catalogers/languages.js";
import { isSpdxExpression } from "../../../src/sbom/catalogers/licenses.js";
import { normaliseSbom } from "../../../src/sbom/model.js";
import { catalogSharedImage } from "./language-helpers.js";

// All language cataloguers together, in one pass over the image, as `shipgate sbom` runs them.
describe("language cataloguers together on the shop image", () => {
  let result: Awaited<ReturnType<typeof catalogSharedImage>>;
  beforeAll(async () => {
    result = await catalogSharedImage("shop-1.4.2", languageCatalogers());
  });

  it("registers every ecosystem once", () => {
    expect(languageCatalogers().map((c) => c.name)).toEqual([
      "npm",
      "python",
      "go",
      "java",
      "gem",
      "rust",
      "composer",
      "dotnet",
    ]);
  });

  it("finds each ecosystem the image holds, with no warnings", () => {
    const byType = new Map<string, number>();
    for (const p of result.packages) byType.set(p.type, (byType.get(p.type) ?? 0) + 1);
    expect(Object.fromEntries(byType)).toMatchObject({
      npm: expect.any(Number),
      python: 8,
      "go-module": 2,
      "java-archive": 1,
      gem: expect.any(Number),
    });
    expect(byType.has("rust-crate") || byType.has("composer") || byType.has("dotnet")).toBe(false);
    expect(result.warnings).toEqual([]);
  });

  it("gives every package a purl that parses back to its type, name and version, and a located layer", () => {
    const purlTypes: Record<string, string> = {
      npm: "npm",
      python: "pypi",
      "go-module": "golang",
      "java-archive": "maven",
      gem: "gem",
    };
    for (const p of result.packages) {
      const purl = PackageURL.fromString(p.purl);
      expect(purl.type, p.purl).toBe(purlTypes[p.type]);
      if (p.version && p.version !== "(devel)") expect(purl.version, p.purl).toBe(p.version);
      expect(p.locations.length, p.purl).toBeGreaterThan(0);
      for (const l of p.locations) expect(result.layers, p.purl).toContain(l.layerDigest);
      for (const l of p.licenses) {
        // An SPDX expression when one was recognised, else the source's own words: never both, never neither.
        expect(Boolean(l.expression) !== Boolean(l.name), p.purl).toBe(true);
        if (l.expression) expect(isSpdxExpression(l.expression), l.expression).toBe(true);
      }
    }
  });

  it("keeps only relationships between packages it reported, after the SBOM's normalisation", () => {
    const sbom = normaliseSbom({
      source: { kind: "image", name: "shop" },
      packages: result.packages,
      relationships: result.relationships,
      created: "2024-02-01T09:15:00Z",
      warnings: result.warnings,
    });
    expect(sbom.relationships.length).toBeGreaterThan(100);
    const purls = new Set(sbom.packages.map((p) => p.purl));
    expect(sbom.packages.length).toBe(purls.size);
    for (const r of result.relationships) {
      expect(purls.has(r.from), r.from).toBe(true);
      expect(purls.has(r.to), r.to).toBe(true);
    }
  });
});
