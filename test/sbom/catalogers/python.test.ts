import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { pythonCataloger } from "../../../src/sbom/catalogers/python.js";
import type { Cataloger } from "../../../src/sbom/catalogers/types.js";
import { catalogDir, catalogSharedImage, edgeIds, extractFromSharedImage, ids } from "./language-helpers.js";

/**
 * Python's own view: importlib.metadata over every directory of `root` that
 * holds `*.dist-info` / `*.egg-info` entries, names canonicalised with
 * `packaging` (PEP 503), as `name@version`.
 */
function importlibList(root: string): { nodes: string[]; edges: string[] } {
  const script = `
import importlib.metadata as md, json, os, sys
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
dirs = sorted({d for d, subdirs, files in os.walk(sys.argv[1])
               if any(n.endswith((".dist-info", ".egg-info")) for n in subdirs + files)})
dists = list(md.distributions(path=dirs))
ids = {canonicalize_name(d.name): canonicalize_name(d.name) + "@" + d.version for d in dists}
edges = set()
for d in dists:
    for r in d.requires or []:
        req = Requirement(r)
        if req.marker and "extra" in str(req.marker): continue
        if canonicalize_name(req.name) in ids:
            edges.add(ids[canonicalize_name(d.name)] + " -> " + ids[canonicalize_name(req.name)])
print(json.dumps({"nodes": sorted(set(ids.values())), "edges": sorted(edges)}))
`;
  return JSON.parse(execFileSync("python3", ["-c", script, root], { encoding: "utf8" }));
}

const canonicalId = (id: string) =>
  id.replace(
    /(^|-> )([^@ ]+)@/g,
    (_, pre: string, n: string) => `${pre}${n.toLowerCase().replace(/[-_.]+/g, "-")}@`,
  );
const canonical = (list: string[]) => list.map(canonicalId).sort();

describe("python cataloguer on the shop image", () => {
  let result: Awaited<ReturnType<typeof catalogSharedImage>>;
  beforeAll(async () => {
    result = await catalogSharedImage("shop-1.4.2", pythonCataloger as Cataloger);
  });

  it("finds what importlib.metadata lists for the same root filesystem: none missing, none extra", () => {
    const truth = importlibList(extractFromSharedImage("shop-1.4.2", ["usr/lib/python3*"]));
    expect(truth.nodes).toContain("requests@2.28.1");
    expect(truth.nodes).toContain("pyyaml@6.0");
    expect(canonical(ids(result.packages))).toEqual(truth.nodes);
    // Debian strips requests' requirements from its requires.txt (apt resolves them): no edges either side.
    expect(canonical(edgeIds(result.packages, result.relationships))).toEqual(truth.edges);
    expect(result.warnings).toEqual([]);
  });

  it("normalises names in the purl (PEP 503) and keeps the distribution's own spelling as the name", () => {
    const yaml = result.packages.find((p) => p.name === "PyYAML");
    expect(yaml).toMatchObject({
      version: "6.0",
      type: "python",
      purl: "pkg:pypi/pyyaml@6.0",
      licenses: [{ expression: "MIT" }],
      locations: [
        {
          path: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
          layerDigest: result.layers[1],
        },
      ],
    });
    expect(result.packages.find((p) => p.name === "charset-normalizer")?.purl).toBe(
      "pkg:pypi/charset-normalizer@3.0.1",
    );
  });

  it("reads Debian's egg-info directories, with licences", () => {
    const requests = result.packages.find((p) => p.name === "requests");
    expect(requests).toMatchObject({
      purl: "pkg:pypi/requests@2.28.1",
      licenses: [{ expression: "Apache-2.0" }],
      locations: [{ path: "/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO" }],
    });
  });
});

describe("python cataloguer on core-metadata fixtures", () => {
  const dir = join(import.meta.dirname, "fixtures", "lang", "python");

  it("agrees with importlib.metadata, and reads each licence source in order of precision", async () => {
    const result = await catalogDir(join(dir, "site-packages"), pythonCataloger as Cataloger);
    const truth = importlibList(join(dir, "site-packages"));
    expect(canonical(ids(result.packages))).toEqual(truth.nodes);
    // Requires-Dist and requires.txt, extras left out, as packaging reads them.
    expect(canonical(edgeIds(result.packages, result.relationships))).toEqual(truth.edges);
    const by = (name: string) => result.packages.find((p) => p.name === name);
    // License-Expression (metadata 2.4); the body's "License:" line is description, not a header.
    expect(by("Foo_Bar.Baz")).toMatchObject({
      purl: "pkg:pypi/foo-bar-baz@1.0",
      licenses: [{ expression: "MIT OR Apache-2.0" }],
    });
    // A whole licence text in License: the classifiers instead; "BSD License" names no SPDX id.
    expect(by("Old.Style")?.licenses).toEqual([{ name: "BSD License" }]);
    // A lone .egg-info file (distutils), GNU short name.
    expect(by("lonely")).toMatchObject({
      purl: "pkg:pypi/lonely@2.0",
      licenses: [{ expression: "GPL-2.0-or-later" }],
    });
    expect(by("six")?.licenses).toEqual([{ expression: "MIT" }]);
    expect(edgeIds(result.packages, result.relationships)).toEqual([
      "Foo_Bar.Baz@1.0 -> Old.Style@0.9",
      "Old.Style@0.9 -> six@1.16.0",
    ]);
  });

  it("warns on metadata with no name or version, without failing", async () => {
    const result = await catalogDir(join(dir, "broken"), pythonCataloger as Cataloger);
    expect(result.packages).toEqual([]);
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings.join("\n")).toMatch(/python: .*broken-1\.dist-info\/METADATA: no Name or Version/);
  });
});
