import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { readAuditData, rustCataloger } from "../../../src/sbom/catalogers/rust.js";
import type { Cataloger } from "../../../src/sbom/catalogers/types.js";
import { catalogDir, edgeIds, ensureDebianPackages } from "./language-helpers.js";

/**
 * cargo-auditable's format (auditable-serde): what `cargo auditable build`
 * would embed for a crate `app` with a crates.io dependency, a git one and
 * a build-time proc macro. No crates.io here, so no real dependency graph
 * can be built; the section is linked in by rustc itself, the way
 * cargo-auditable's linker object places it.
 */
const AUDIT = {
  packages: [
    { name: "adler", version: "1.0.2", source: "crates.io" },
    { name: "app", version: "0.1.0", source: "local", dependencies: [0, 2, 3], root: true },
    { name: "serde_derive", version: "1.0.190", source: "crates.io", kind: "build" },
    { name: "forked", version: "0.3.0", source: "git", dependencies: [0] },
  ],
};

let dir: string;
beforeAll(() => {
  ensureDebianPackages("rustc", ["rustc"]);
  ensureDebianPackages("objcopy", ["binutils"]);
  dir = mkdtempSync(join(tmpdir(), "shipgate-rust-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "dep-v0.bin"), deflateSync(JSON.stringify(AUDIT)));
  writeFileSync(
    join(dir, "main.rs"),
    `#[used]
#[link_section = ".dep-v0"]
static AUDITABLE_VERSION_INFO: [u8; include_bytes!("dep-v0.bin").len()] = *include_bytes!("dep-v0.bin");
fn main() { println!("hello"); }
`,
  );
  execFileSync("rustc", ["-C", "strip=symbols", "main.rs", "-o", "bin/app"], { cwd: dir, stdio: "pipe" });
  // A plain Rust binary without audit data: not reported.
  writeFileSync(join(dir, "plain.rs"), 'fn main() { println!("plain"); }\n');
  execFileSync("rustc", ["plain.rs", "-o", "bin/plain"], { cwd: dir, stdio: "pipe" });
}, 120_000);

describe("rust cataloguer on a binary with cargo-auditable data", () => {
  it("reports the crates binutils' objcopy extracts from the .dep-v0 section", async () => {
    // The oracle: objcopy dumps the section; Python's zlib and json read it.
    execFileSync("objcopy", [
      "--dump-section",
      `.dep-v0=${join(dir, "dumped.bin")}`,
      join(dir, "bin", "app"),
    ]);
    const truth = JSON.parse(
      execFileSync(
        "python3",
        [
          "-c",
          "import json,sys,zlib; print(json.dumps(json.loads(zlib.decompress(open(sys.argv[1],'rb').read()))))",
          join(dir, "dumped.bin"),
        ],
        { encoding: "utf8" },
      ),
    ) as typeof AUDIT;
    const result = await catalogDir(join(dir, "bin"), rustCataloger as Cataloger);
    expect(result.warnings).toEqual([]);
    expect(result.packages.map((p) => `${p.name}@${p.version}`).sort()).toEqual(
      truth.packages.map((p) => `${p.name}@${p.version}`).sort(),
    );
    expect(result.packages.every((p) => p.locations[0]?.path === "/app")).toBe(true);
    const by = (name: string) => result.packages.find((p) => p.name === name);
    expect(by("serde_derive")).toMatchObject({
      type: "rust-crate",
      purl: "pkg:cargo/serde_derive@1.0.190",
      properties: { source: "crates.io", kind: "build" },
    });
    expect(by("app")?.properties).toEqual({ source: "local", root: "true" });
    expect(by("forked")?.properties).toEqual({ source: "git" });
    expect(edgeIds(result.packages, result.relationships)).toEqual([
      "app@0.1.0 -> adler@1.0.2",
      "app@0.1.0 -> forked@0.3.0",
      "app@0.1.0 -> serde_derive@1.0.190",
      "forked@0.3.0 -> adler@1.0.2",
    ]);
  });

  it("warns on unreadable audit data and never throws on truncated binaries", async () => {
    expect(readAuditData(Buffer.from("not zlib"))).toMatch(/incorrect header check/);
    // A zlib bomb: 64 MiB of zeros compresses to ~64 KiB; reading stops at 16 MiB.
    expect(readAuditData(deflateSync(Buffer.alloc(64 * 1024 * 1024)))).toMatch(/buffer|length/i);
    expect(readAuditData(deflateSync("{not json"))).toMatch(/^not JSON/);
    expect(readAuditData(deflateSync('{"packages": [{"name": "x"}]}'))).toBe(
      "a package without name or version",
    );
    expect(readAuditData(deflateSync('{"packages": {}}'))).toBe("no packages array");
    // Dependency indices out of range are dropped, not followed.
    const odd = readAuditData(
      deflateSync('{"packages":[{"name":"a","version":"1","dependencies":[5,-1,0.5,0]}]}'),
    );
    expect(odd).toEqual([
      { name: "a", version: "1", source: "crates.io", kind: "runtime", root: false, dependencies: [0] },
    ]);

    const whole = readFileSync(join(dir, "bin", "app"));
    const cuts = join(dir, "cuts");
    mkdirSync(cuts);
    for (const cut of [64, 1000, 0x4000, Math.floor(whole.length / 2), whole.length - 1]) {
      writeFileSync(join(cuts, `app-${cut}`), whole.subarray(0, cut), { mode: 0o755 });
    }
    const corrupt = Buffer.from(whole);
    const at = corrupt.indexOf(deflateSync(JSON.stringify(AUDIT)));
    expect(at).toBeGreaterThan(0);
    corrupt.fill(0x41, at + 2, at + 40);
    writeFileSync(join(cuts, "app-corrupt"), corrupt, { mode: 0o755 });
    const result = await catalogDir(cuts, rustCataloger as Cataloger);
    expect(result.warnings).toContainEqual(
      expect.stringMatching(/^rust: \/app-corrupt: cargo-auditable data unreadable/),
    );
  });
});
