import { describe, expect, it } from "vitest";
import { deniedPackages, licenseHistogram } from "../../src/sbom/licenses.js";
import type { License, Package, Sbom } from "../../src/sbom/model.js";

function pkg(name: string, licenses: License[]): Package {
  return {
    name,
    version: "1",
    type: "deb",
    purl: `pkg:deb/debian/${name}@1`,
    licenses,
    locations: [],
    foundBy: "test",
  };
}

const sbom: Sbom = {
  source: { kind: "directory", name: "/x" },
  created: "2024-01-15T00:00:00Z",
  relationships: [],
  warnings: [],
  packages: [
    pkg("bash", [{ expression: "GPL-3.0-or-later" }]),
    pkg("coreutils", [{ expression: "GPL-3.0-or-later" }]),
    pkg("dual", [{ expression: "MIT OR GPL-2.0-only" }]),
    pkg("both", [{ expression: "MIT AND GPL-2.0-only" }]),
    pkg("plus", [{ expression: "LGPL-2.1+" }]),
    pkg("agpl-named", [{ name: "AGPL-3.0 with some words" }]),
    pkg("mit", [{ expression: "MIT" }]),
    pkg("none", []),
  ],
};

describe("licences", () => {
  it("counts packages per licence, most common first", () => {
    const histogram = licenseHistogram(sbom);
    expect(histogram[0]).toEqual({ license: "GPL-3.0-or-later", spdx: true, packages: 2 });
    expect(histogram.find((h) => h.license === "(none)")?.packages).toBe(1);
    expect(histogram.find((h) => h.license === "AGPL-3.0 with some words")?.spdx).toBe(false);
    expect(histogram.reduce((n, h) => n + h.packages, 0)).toBe(sbom.packages.length);
  });

  it("denies by glob, honouring OR (a choice) and AND (both apply)", () => {
    const offenders = deniedPackages(sbom, ["GPL-*"]);
    expect(offenders.map((o) => [o.package.name, o.matched])).toEqual([
      ["bash", ["GPL-3.0-or-later"]],
      ["coreutils", ["GPL-3.0-or-later"]],
      ["both", ["GPL-2.0-only"]],
    ]);
    // With MIT also denied, the dual-licensed package has no way out.
    expect(deniedPackages(sbom, ["GPL-*", "MIT"]).map((o) => o.package.name)).toContain("dual");
  });

  it("matches case-insensitively, on plus forms and on non-SPDX names", () => {
    expect(deniedPackages(sbom, ["lgpl-2.1*"]).map((o) => o.package.name)).toEqual(["plus"]);
    expect(deniedPackages(sbom, ["AGPL-*"]).map((o) => o.package.name)).toEqual(["agpl-named"]);
    expect(deniedPackages(sbom, ["Apache-*"])).toEqual([]);
  });
});
