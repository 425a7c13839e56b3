import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { disagreements, ensureDebianPackage, runOracle } from "./oracle.js";
import { Random } from "./random.js";
import { semverGenerator } from "./semver-gen.js";

const cargo = comparatorFor("crates.io");
if (!cargo) throw new Error("no crates.io comparator");

// The semver crate is what Cargo parses and orders versions with. Debian ships its source
// (librust-semver-dev); a tiny program built offline against it is the oracle. Precedence is
// (major, minor, patch, pre) in the crate's own Ord: build metadata does not order crates.io versions.
const CRATE = "/usr/share/cargo/registry/semver-1.0.14";
const MAIN = `use std::io::{self, BufRead, Write};
fn main() {
    let valid = std::env::args().nth(1).as_deref() == Some("valid");
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for line in io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut ab = line.splitn(2, '\\t');
        let a = ab.next().unwrap_or("");
        let b = ab.next().unwrap_or("");
        if valid {
            writeln!(out, "{}", if semver::Version::parse(a).is_ok() { 1 } else { 0 }).unwrap();
        } else {
            let x = semver::Version::parse(a).unwrap();
            let y = semver::Version::parse(b).unwrap();
            let c = (x.major, x.minor, x.patch, &x.pre).cmp(&(y.major, y.minor, y.patch, &y.pre));
            writeln!(out, "{}", c as i32).unwrap();
        }
    }
}
`;
let binary: string;

beforeAll(() => {
  ensureDebianPackage("command -v cargo", "cargo");
  ensureDebianPackage(`test -f ${CRATE}/Cargo.toml`, "librust-semver-dev");
  const dir = mkdtempSync(join(tmpdir(), "shipgate-cargo-oracle-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(
    join(dir, "Cargo.toml"),
    `[package]\nname = "oracle"\nversion = "0.0.0"\nedition = "2018"\n\n[dependencies]\nsemver = { path = "${CRATE}" }\n`,
  );
  writeFileSync(join(dir, "src", "main.rs"), MAIN);
  const r = spawnSync("cargo", ["build", "--offline", "--release", "-q"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the semver oracle failed: ${r.stderr}`);
  binary = join(dir, "target", "release", "oracle");
}, 300_000);

describe("crates.io comparator against the semver crate (Debian's librust-semver-dev)", () => {
  it("agrees with semver::Version::parse on what is a version (seed 8101)", () => {
    const rng = new Random(8101);
    const { version, mutate } = semverGenerator(rng);
    const all = [
      ...Array.from({ length: 4000 }, () => (rng.chance(0.3) ? mutate(version()) : version())),
      "18446744073709551615.0.0",
      "18446744073709551616.0.0",
      "1.0.0-",
      "1.0.0+",
      "1.0.0-01",
      "1.0.0-0a",
    ];
    const expected = runOracle(
      binary,
      ["valid"],
      all.map((v) => [v, v]),
    );
    const wrong = all.filter((v, i) => (cargo.isValid(v) ? 1 : 0) !== expected[i]);
    expect(wrong).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([0, 1]));
  });

  it("agrees on 10,000 generated pairs, numbers beyond 2^64 in prereleases included (seed 8102)", () => {
    const rng = new Random(8102);
    const { version, mutate } = semverGenerator(rng);
    const pairs = rng.pairs(12000, version, mutate).filter(([a, b]) => cargo.isValid(a) && cargo.isValid(b));
    expect(pairs.length).toBeGreaterThan(5000);
    const expected = runOracle(binary, ["compare"], pairs);
    expect(disagreements(pairs, expected, cargo.compare)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });
});
