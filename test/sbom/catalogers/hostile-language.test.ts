import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { languageCatalogers } from "../../../src/sbom/catalogers/languages.js";
import type { Cataloger, FileInfo } from "../../../src/sbom/catalogers/types.js";
import { writeZip } from "./zip-writer.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "lang");
const read = (...parts: string[]) => readFileSync(join(FIXTURES, ...parts));

/** A small deterministic PRNG (xorshift32): the same "random" bytes every run. */
function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Real files of each kind, as the seed for truncation and corruption. */
const SEEDS: { path: string; content: Buffer }[] = [
  { path: "/app/package.json", content: read("npm-lock", "v3", "package.json") },
  { path: "/app/package-lock.json", content: read("npm-lock", "v3", "package-lock.json") },
  { path: "/app/package-lock.json", content: read("npm-lock", "v1", "package-lock.json") },
  { path: "/app/yarn.lock", content: read("npm-lock", "yarn", "yarn.lock") },
  { path: "/app/pnpm-lock.yaml", content: read("npm-lock", "pnpm9", "pnpm-lock.yaml") },
  { path: "/app/pnpm-lock.yaml", content: read("npm-lock", "pnpm6", "pnpm-lock.yaml") },
  {
    path: "/usr/lib/python3/dist-packages/x-1.dist-info/METADATA",
    content: read("python", "site-packages", "Foo_Bar.Baz-1.0.dist-info", "METADATA"),
  },
  {
    path: "/usr/bin/app",
    content: gunzipSync(read("go", "bin", "app-linux-amd64.gz")).subarray(0, 2_000_000),
  },
  {
    path: "/srv/app.war",
    content: writeZip([
      { name: "META-INF/MANIFEST.MF", data: Buffer.from("Implementation-Version: 1\n") },
      {
        name: "META-INF/maven/g/a/pom.properties",
        data: Buffer.from("groupId=g\nartifactId=a\nversion=1\n"),
      },
      {
        name: "WEB-INF/lib/b.jar",
        data: writeZip([
          { name: "META-INF/maven/g/b/pom.properties", data: Buffer.from("artifactId=b\nversion=2\n") },
        ]),
      },
    ]),
  },
  {
    path: "/var/lib/gems/3.1.0/specifications/x-1.gemspec",
    content: Buffer.from(
      'Gem::Specification.new do |s|\n  s.name = "x".freeze\n  s.version = "1"\n  s.licenses = ["MIT".freeze]\n  s.add_runtime_dependency(%q<y>.freeze, [">= 0"])\nend\n',
    ),
  },
  {
    path: "/srv/vendor/composer/installed.json",
    content: read("composer", "v2", "vendor", "composer", "installed.json"),
  },
  { path: "/srv/app/Shop.Api.deps.json", content: read("dotnet", "app", "Shop.Api.deps.json") },
];

/** Inputs built to be slow for naive parsers: deep nesting, many unclosed tags, huge single lines. */
const PATHOLOGICAL: Buffer[] = [
  Buffer.from("[".repeat(200_000)),
  Buffer.from(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`),
  Buffer.from("\n".repeat(300_000)),
  Buffer.from(`s.name = "${"x".repeat(1_000_000)}`),
  Buffer.from(`${" ".repeat(1_000_000)}s.name`),
  Buffer.from("<licenses><license><name>".repeat(40_000)),
  Buffer.from("a".repeat(2_000_000)),
  Buffer.from(`${"'".repeat(500_000)}:`),
  Buffer.from(`Name: x\nVersion: 1\n${"Classifier: License :: x\n".repeat(50_000)}`),
  Buffer.from("\xff Go buildinf:\x08\x02".repeat(10_000), "latin1"),
];

function file(path: string, size: number): FileInfo {
  return { path, mode: 0o755, size, layerIndex: 0, layerDigest: "sha256:00" };
}

/** parse, then finish on whatever parse kept: neither may throw. */
function run(cataloger: Cataloger, path: string, content: Buffer): string[] {
  const warnings: string[] = [];
  const info = file(path, content.length);
  if (!cataloger.wants(info)) return warnings;
  const data = cataloger.parse(info, content, warnings);
  if (data !== undefined) cataloger.finish([{ file: info, data, earlier: [] }], { distro: undefined });
  return warnings;
}

describe("language cataloguers on hostile input: warnings, never a throw or a hang", () => {
  const catalogers = languageCatalogers();

  it("every seed file is wanted by some cataloguer (the test reaches every parser)", () => {
    for (const seed of SEEDS) {
      expect(
        catalogers.some((c) => c.wants(file(seed.path, seed.content.length))),
        seed.path,
      ).toBe(true);
    }
  });

  it("truncated and corrupted real files", () => {
    for (const seed of SEEDS) {
      const cuts = [0, 1, 7, 64, 100, 1000, Math.floor(seed.content.length / 3), seed.content.length - 1];
      for (const c of catalogers) {
        for (const cut of cuts) {
          expect(
            () => run(c, seed.path, seed.content.subarray(0, Math.max(0, cut))),
            `${c.name} ${seed.path} @${cut}`,
          ).not.toThrow();
        }
        for (let n = 0; n < 4; n++) {
          const corrupt = Buffer.from(seed.content);
          const noise = randomBytes(32, 7 + n);
          noise.copy(corrupt, Math.floor((corrupt.length * (n + 1)) / 5));
          expect(() => run(c, seed.path, corrupt), `${c.name} ${seed.path} noise ${n}`).not.toThrow();
        }
      }
    }
  });

  it("random bytes and inputs built to be slow, each parsed in a few seconds at most (quadratic parsers take minutes)", () => {
    const inputs = [...PATHOLOGICAL, randomBytes(1 << 20, 42), Buffer.alloc(0)];
    for (const seed of SEEDS) {
      for (const c of catalogers) {
        for (const input of inputs) {
          const started = performance.now();
          expect(() => run(c, seed.path, input), `${c.name} ${seed.path}`).not.toThrow();
          expect(
            performance.now() - started,
            `${c.name} ${seed.path} ${input.subarray(0, 20).toString("latin1")}`,
          ).toBeLessThan(5000);
        }
      }
    }
  });

  it("malformed JSON is a warning that names the file", () => {
    const warnings = run(
      catalogers.find((c) => c.name === "npm") as Cataloger,
      "/app/node_modules/x/package.json",
      Buffer.from('{"name": "x", "version": '),
    );
    expect(warnings).toEqual([
      expect.stringMatching(/^npm: \/app\/node_modules\/x\/package\.json is not valid JSON/),
    ]);
  });
});
