import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { goCataloger } from "../../../src/sbom/catalogers/go.js";
import { type GoBuildInfo, readGoBuildInfo } from "../../../src/sbom/catalogers/go-buildinfo.js";
import type { Cataloger } from "../../../src/sbom/catalogers/types.js";
import { legacyGoElf } from "./go-legacy-elf.js";
import {
  catalogDir,
  catalogSharedImage,
  ensureDebianPackages,
  extractFromSharedImage,
} from "./language-helpers.js";

/** `go version -m FILE`, the Go toolchain's own reading, in the shape readGoBuildInfo returns. */
function goVersionM(file: string): GoBuildInfo {
  const out = execFileSync("go", ["version", "-m", file], {
    encoding: "utf8",
    env: { ...process.env, GOTOOLCHAIN: "local" },
  });
  const [first = "", ...lines] = out.split("\n");
  const info: GoBuildInfo = { goVersion: first.slice(first.lastIndexOf(": ") + 2), deps: [], settings: [] };
  let last: GoBuildInfo["deps"][number] | undefined;
  for (const line of lines) {
    const [, kind, ...fields] = line.split("\t");
    const mod = () => {
      const m: GoBuildInfo["deps"][number] = { path: fields[0] as string, version: fields[1] ?? "" };
      if (fields[2]) m.sum = fields[2];
      return m;
    };
    if (kind === "path") info.path = fields[0] as string;
    if (kind === "mod") info.main = last = mod();
    if (kind === "dep") info.deps.push((last = mod()));
    if (kind === "=>" && last) last.replace = mod();
    if (kind === "build") {
      const s = fields.join("\t");
      info.settings.push([s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1)]);
    }
  }
  return info;
}

const FIXTURES = join(import.meta.dirname, "fixtures", "lang", "go", "bin");

/** The committed fixture binaries (see fixtures/lang/go/build.sh), unpacked executable into one directory. */
function unpackFixtures(): string {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-go-"));
  mkdirSync(join(dir, "bin"));
  for (const name of readdirSync(FIXTURES)) {
    const target = join(dir, "bin", name.replace(/\.gz$/, ""));
    writeFileSync(target, gunzipSync(readFileSync(join(FIXTURES, name))));
    chmodSync(target, 0o755);
  }
  return dir;
}

beforeAll(() => ensureDebianPackages("go", ["golang-go"]));

describe("go cataloguer on the shop image", () => {
  it("reads docker-registry's build info exactly as `go version -m` does", async () => {
    const binary = join(
      extractFromSharedImage("shop-1.4.2", ["usr/bin/docker-registry"]),
      "usr",
      "bin",
      "docker-registry",
    );
    const truth = goVersionM(binary);
    // Debian builds in GOPATH mode: a main package path and build settings, no module lines.
    expect(truth.path).toBe("github.com/docker/distribution/cmd/registry");
    expect(readGoBuildInfo(readFileSync(binary))).toEqual(truth);

    const result = await catalogSharedImage("shop-1.4.2", goCataloger as Cataloger);
    const registry = result.packages.filter((p) => p.locations[0]?.path === "/usr/bin/docker-registry");
    expect(registry.map((p) => p.purl).sort()).toEqual([
      `pkg:golang/github.com/docker/distribution/cmd/registry`,
      `pkg:golang/stdlib@${truth.goVersion.slice(2)}`,
    ]);
    expect(registry[0]?.locations[0]?.layerDigest).toBe(result.layers[1]);
    const main = registry.find((p) => p.properties?.mainModule === "true");
    expect(main?.properties).toMatchObject({
      goVersion: truth.goVersion,
      "go.GOOS": "linux",
      "go.GOARCH": "amd64",
      "go.CGO_ENABLED": "1",
    });
    // Every Go program in the image is one of the packages Debian ships as Go binaries; nothing else claims to be Go.
    const binaries = [...new Set(result.packages.map((p) => p.locations[0]?.path))];
    expect(binaries).toEqual(["/usr/bin/docker-registry"]);
  });
});

describe("go cataloguer on binaries built by Go 1.19 for five platforms", () => {
  let dir: string;
  beforeAll(() => {
    dir = unpackFixtures();
  });

  for (const name of [
    "app-linux-amd64",
    "app-linux-386",
    "app-linux-ppc64",
    "app-darwin-arm64",
    "app-windows-amd64.exe",
  ]) {
    it(`${name}: the same build info as go version -m (ELF/PE/Mach-O, 32/64-bit, both endiannesses)`, () => {
      const file = join(dir, "bin", name);
      const truth = goVersionM(file);
      expect(truth.deps).toHaveLength(3);
      expect(readGoBuildInfo(readFileSync(file))).toEqual(truth);
    });
  }

  it("reports main module, dependencies with h1 sums, replacements, stdlib and build settings", async () => {
    const result = await catalogDir(dir, goCataloger as Cataloger);
    expect(result.warnings).toEqual([]);
    const linux = result.packages.filter((p) => p.locations[0]?.path === "/bin/app-linux-amd64");
    const by = (name: string) => linux.find((p) => p.name === name);
    expect(by("example.com/shipgate-fixture")).toMatchObject({
      version: "(devel)",
      type: "go-module",
      purl: "pkg:golang/example.com/shipgate-fixture",
      properties: {
        mainModule: "true",
        goVersion: "go1.19.8",
        "go.GOOS": "linux",
        "go.GOARCH": "amd64",
        "go.vcs": "git",
        "go.vcs.time": "2024-01-15T10:00:00Z",
        "go.vcs.modified": "false",
      },
    });
    expect(by("example.com/shipgate-fixture")?.properties?.["go.vcs.revision"]).toMatch(/^[0-9a-f]{40}$/);
    expect(by("example.com/greeter")).toMatchObject({
      version: "v1.2.3",
      purl: "pkg:golang/example.com/greeter@v1.2.3",
      properties: { h1Digest: "h1:A9CB5p08MTNyMIckosd+BeaqLMy6NM9Gm5rIOZpqgSQ=" },
    });
    // Replaced by another module version: what was compiled in, noting what it replaced.
    expect(by("example.com/greeterfork")).toMatchObject({
      version: "v1.2.4",
      purl: "pkg:golang/example.com/greeterfork@v1.2.4",
      properties: { replaces: "example.com/old@v1.0.0", h1Digest: expect.stringMatching(/^h1:/) },
    });
    // Replaced by a local directory: its own path, version unknown.
    expect(by("example.com/localfork")).toMatchObject({
      version: "(devel)",
      purl: "pkg:golang/example.com/localfork",
      properties: { replaces: "example.com/localfork@v0.1.0", replacementDir: "../local" },
    });
    expect(by("stdlib")).toMatchObject({ version: "1.19.8", purl: "pkg:golang/stdlib@1.19.8" });
    const main = by("example.com/shipgate-fixture")?.purl;
    // The main module depends on stdlib and the three modules (five binaries of one module: the same edges).
    expect(new Set(result.relationships.filter((r) => r.from === main).map((r) => r.to)).size).toBe(4);
    const windows = result.packages.find(
      (p) => p.locations[0]?.path === "/bin/app-windows-amd64.exe" && p.properties?.mainModule,
    );
    expect(windows?.properties?.["go.GOOS"]).toBe("windows");
  });
});

describe("go build info: the pre-1.18 pointer format and hostile binaries", () => {
  it("follows the version and module pointers of Go 1.13-1.17 binaries (32- and 64-bit)", () => {
    const modinfo =
      "path\texample.com/legacy\nmod\texample.com/legacy\tv0.3.0\t\ndep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=\n";
    // cmd/go wraps the text in 16-byte sentinels.
    const wrapped = `${"0".repeat(15)}\n${modinfo}${"1".repeat(15)}\n`;
    for (const bits of [64, 32] as const) {
      const info = readGoBuildInfo(legacyGoElf("go1.16.15", wrapped, bits));
      expect(info).toEqual({
        goVersion: "go1.16.15",
        path: "example.com/legacy",
        main: { path: "example.com/legacy", version: "v0.3.0" },
        deps: [
          {
            path: "golang.org/x/text",
            version: "v0.3.7",
            sum: "h1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=",
          },
        ],
        settings: [],
      });
    }
  });

  it("never throws or reads out of bounds on truncated or corrupted binaries", () => {
    const whole = gunzipSync(readFileSync(join(FIXTURES, "app-linux-amd64.gz")));
    const cuts = [0, 3, 16, 63, 64, 200, 4096, 65_536, Math.floor(whole.length / 2), whole.length - 1];
    for (const cut of cuts) expect(() => readGoBuildInfo(whole.subarray(0, cut))).not.toThrow();
    // A build-info header whose varint lengths claim more than the file holds.
    const bad = Buffer.from(whole);
    const at = bad.indexOf(Buffer.from("\xff Go buildinf:", "latin1"));
    bad.fill(0xff, at + 32, at + 40);
    expect(readGoBuildInfo(bad)).toBeUndefined();
    // Pointers into nowhere (pre-1.18 flags).
    bad[at + 15] = 0;
    expect(readGoBuildInfo(bad)).toBeUndefined();
    expect(readGoBuildInfo(legacyGoElf("go1.16", "x", 64).subarray(0, 300))).toBeUndefined();
  });
});
