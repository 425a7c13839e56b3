import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gemCataloger } from "../../../src/sbom/catalogers/gem.js";
import { toLicense } from "../../../src/sbom/catalogers/licenses.js";
import type { Cataloger } from "../../../src/sbom/catalogers/types.js";
import type { Package } from "../../../src/sbom/model.js";
import {
  catalogDir,
  catalogSharedImage,
  edgeIds,
  ensureDebianPackages,
  extractFromSharedImage,
} from "./language-helpers.js";

interface RubySpec {
  file: string;
  name: string;
  version: string;
  licenses: string[];
  deps: string[];
}

/** RubyGems itself loading each gemspec (Gem::Specification.load): name, version, licences, runtime deps. */
function rubyLoad(root: string): RubySpec[] {
  const script = `
require "json"
files = Dir.glob(File.join(ARGV[0], "**/specifications/*.gemspec")) +
  Dir.glob(File.join(ARGV[0], "**/specifications/default/*.gemspec"))
specs = files.map { |f| [f, Gem::Specification.load(f)] }.reject { |_, s| s.nil? || s.name.nil? }
puts JSON.generate(specs.map { |f, s|
  { "file" => "/" + f.delete_prefix(ARGV[0]).delete_prefix("/"), "name" => s.name, "version" => s.version.to_s,
    "licenses" => s.licenses, "deps" => s.runtime_dependencies.map(&:name) }
})
`;
  return JSON.parse(execFileSync("ruby", ["-e", script, root], { encoding: "utf8" }));
}

/** Ours, per gemspec file, in the same shape. */
function ours(packages: Package[]): Map<string, Omit<RubySpec, "deps">> {
  const out = new Map<string, Omit<RubySpec, "deps">>();
  for (const p of packages) {
    for (const l of p.locations) {
      const licenses = p.licenses.map((x) => (x.expression ?? x.name ?? "").toLowerCase());
      out.set(l.path, { file: l.path, name: p.name, version: p.version, licenses });
    }
  }
  return out;
}

function compare(
  root: string,
  result: { packages: Package[]; relationships: { from: string; to: string }[] },
) {
  const truth = rubyLoad(root);
  const mine = ours(result.packages);
  expect([...mine.keys()].sort()).toEqual(truth.map((t) => t.file).sort());
  for (const t of truth) {
    expect(mine.get(t.file), t.file).toEqual({
      file: t.file,
      name: t.name,
      version: t.version,
      // As the SPDX conversion states them (deprecated `GPL-2.0+` becomes `GPL-2.0-or-later`).
      licenses: t.licenses.map((l) => {
        const license = toLicense(l);
        return (license.expression ?? license.name ?? "").toLowerCase();
      }),
    });
  }
  // Runtime dependency edges between installed gems, as RubyGems resolves names.
  const versionOf = new Map(truth.map((t) => [t.name, t.version]));
  const edges = new Set<string>();
  for (const t of truth) {
    for (const d of t.deps)
      if (versionOf.has(d)) edges.add(`${t.name}@${t.version} -> ${d}@${versionOf.get(d)}`);
  }
  expect(edgeIds(result.packages, result.relationships as never)).toEqual([...edges].sort());
  return truth;
}

describe("gem cataloguer", () => {
  it("on the shop image: every gemspec RubyGems loads, ruby-rack's from Debian's rubygems-integration included", async () => {
    ensureDebianPackages("ruby", ["ruby"]);
    const result = await catalogSharedImage("shop-1.4.2", gemCataloger as Cataloger);
    const truth = compare(extractFromSharedImage("shop-1.4.2", ["*/specifications/*.gemspec"]), result);
    expect(truth.length).toBeGreaterThan(80);
    const rack = result.packages.find((p) => p.name === "rack");
    expect(rack).toMatchObject({
      version: "2.2.22",
      type: "gem",
      purl: "pkg:gem/rack@2.2.22",
      licenses: [{ expression: "MIT" }],
      locations: [
        {
          path: "/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
          layerDigest: result.layers[1],
        },
      ],
    });
    // Ruby's bundled gems are marked; one gem installed twice is one package at both paths.
    expect(result.packages.find((p) => p.name === "open-uri")?.properties?.defaultGem).toBe("true");
    const rake = result.packages.filter((p) => p.name === "rake");
    expect(rake).toHaveLength(1);
    expect(rake[0]?.locations.length).toBe(2);
    expect(result.warnings).toEqual([]);
  });

  it("on gemspecs written by RubyGems' own Gem::Specification#to_ruby", async () => {
    const root = mkdtempSync(join(tmpdir(), "shipgate-gems-"));
    const specs = join(root, "gems", "specifications");
    mkdirSync(specs, { recursive: true });
    const script = `
dir = ARGV[0]
a = Gem::Specification.new do |s|
  s.name = "alpha-tool"; s.version = "1.2.0.rc1"; s.summary = "A \\"quoted\\" tool"
  s.authors = ["A", "B"]; s.licenses = ["Apache-2.0", "GPL-2.0+"]; s.homepage = "https://example.com/alpha"
  s.platform = "x86_64-linux"
  s.add_runtime_dependency "beta", ">= 1"
  s.add_development_dependency "gamma", "~> 2"
end
b = Gem::Specification.new { |s| s.name = "beta"; s.version = "1.0"; s.license = "My Own Licence"; s.summary = "b" }
c = Gem::Specification.new { |s| s.name = "gamma"; s.version = "2.1"; s.summary = "c" }
[a, b, c].each { |s| File.write(File.join(dir, s.full_name + ".gemspec"), s.to_ruby) }
`;
    execFileSync("ruby", ["-e", script, specs]);
    writeFileSync(
      join(specs, "broken-1.gemspec"),
      "Gem::Specification.new do |s|\n  s.summary = 'no name'\nend\n",
    );
    const result = await catalogDir(root, gemCataloger as Cataloger);
    expect(result.warnings).toEqual([
      `gem: /gems/specifications/broken-1.gemspec: no s.name or s.version: not a generated gemspec`,
    ]);
    // RubyGems makes nothing of the broken one either.
    expect(
      compare(root, result)
        .map((t) => t.name)
        .sort(),
    ).toEqual(["alpha-tool", "beta", "gamma"]);
    const alpha = result.packages.find((p) => p.name === "alpha-tool");
    expect(alpha).toMatchObject({
      purl: "pkg:gem/alpha-tool@1.2.0.rc1",
      licenses: [{ expression: "Apache-2.0" }, { expression: "GPL-2.0-or-later" }],
      description: 'A "quoted" tool',
      supplier: "A, B",
      properties: { platform: "x86_64-linux" },
    });
    expect(result.packages.find((p) => p.name === "beta")?.licenses).toEqual([{ name: "My Own Licence" }]);
  });
});
