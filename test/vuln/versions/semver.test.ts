import nodeSemver from "semver";
import { describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { disagreements } from "./oracle.js";
import { Random } from "./random.js";
import { semverGenerator as generator } from "./semver-gen.js";

const npm = comparatorFor("npm");
const generic = comparatorFor("SemVer");
const cargo = comparatorFor("crates.io");
if (!npm || !generic || !cargo) throw new Error("missing semver comparators");

const oracle = (a: string, b: string) => nodeSemver.compare(a, b);
const beyondDoubles = (v: string) => /\d{16,}/.test(v.split("+")[0] as string);

describe("npm comparator against the semver package (node-semver)", () => {
  it("agrees on 2,500+ valid generated pairs (seed 8001)", () => {
    const rng = new Random(8001);
    const { version, mutate } = generator(rng);
    const pairs = rng
      .pairs(6000, version, mutate)
      .filter(([a, b]) => nodeSemver.valid(a) && nodeSemver.valid(b));
    expect(pairs.length).toBeGreaterThan(2500);
    const expected = pairs.map(([a, b]) => oracle(a, b));
    expect(disagreements(pairs, expected, npm.compare)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });

  it("agrees with semver.valid() on what is a version (seed 8002)", () => {
    const rng = new Random(8002);
    const { version } = generator(rng);
    const junk = [
      "",
      "1",
      "1.2",
      "01.2.3",
      "1.2.3-",
      "1.2.3-01",
      "1.2.3+",
      "=1.2.3",
      " 1.2.3 ",
      "v1.2.3",
      "1.2.3.4",
    ];
    const all = [...junk, ...Array.from({ length: 3000 }, version), `1.2.3-${"a".repeat(260)}`];
    const wrong = all.filter((v) => npm.isValid(v) !== (nodeSemver.valid(v) !== null));
    expect(wrong).toEqual([]);
    expect(all.filter((v) => npm.isValid(v)).length).toBeGreaterThan(1000);
    expect(all.filter((v) => !npm.isValid(v)).length).toBeGreaterThan(500);
  });
});

describe("generic SemVer 2.0.0 comparator", () => {
  it("agrees with node-semver wherever node-semver's numbers are exact (seed 8003)", () => {
    const rng = new Random(8003);
    const { version, mutate } = generator(rng);
    const pairs = rng
      .pairs(6000, version, mutate)
      .filter(([a, b]) => !a.startsWith("v") && !b.startsWith("v"))
      .filter(
        ([a, b]) => nodeSemver.valid(a) && nodeSemver.valid(b) && !beyondDoubles(a) && !beyondDoubles(b),
      );
    expect(pairs.length).toBeGreaterThan(2000);
    const expected = pairs.map(([a, b]) => oracle(a, b));
    expect(disagreements(pairs, expected, generic.compare)).toEqual([]);
    expect(disagreements(pairs, expected, cargo.compare)).toEqual([]);
  });

  it("orders the semver.org §11 example and compares numbers beyond 2^53 exactly", () => {
    const ordered = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "2.0.0",
      "2.1.0",
      "2.1.1",
      "9007199254740993.0.0",
      "9007199254740994.0.0",
      "18446744073709551616.0.0",
    ];
    for (const c of [generic, cargo]) {
      const valid = c === cargo ? ordered.slice(0, -1) : ordered;
      for (let i = 0; i + 1 < valid.length; i++) {
        expect(c.compare(valid[i] as string, valid[i + 1] as string)).toBeLessThan(0);
        expect(c.compare(valid[i + 1] as string, valid[i] as string)).toBeGreaterThan(0);
      }
    }
    expect(generic.compare("1.0.0-9007199254740993", "1.0.0-9007199254740992")).toBeGreaterThan(0);
    // node-semver rounds these to one double and calls them equal; npm's order is what npm uses.
    expect(npm.compare("1.0.0-9007199254740993", "1.0.0-9007199254740992")).toBe(0);
    expect(generic.compare("1.0.0+build.1", "1.0.0+build.2")).toBe(0);
    expect(generic.isValid("v1.0.0")).toBe(false);
    expect(npm.isValid("v1.0.0")).toBe(true);
  });
});

describe("Cargo (crates.io) comparator: the semver crate's documented limits", () => {
  it("accepts what the semver crate parses and rejects the rest", () => {
    for (const v of ["0.0.0", "1.2.3-alpha.1+build.5", "18446744073709551615.0.0", "1.0.0-01a"]) {
      expect(cargo.isValid(v)).toBe(true);
    }
    for (const v of ["v1.2.3", "1.2", "01.2.3", "1.2.3-01", "18446744073709551616.0.0", "1.2.3-", "1.2.3+"]) {
      expect(cargo.isValid(v)).toBe(false);
    }
    expect(cargo.compare("1.0.0-alpha.18446744073709551616", "1.0.0-alpha.18446744073709551615")).toBe(1);
    expect(cargo.compare("0.9.1", "0.10.0")).toBe(-1);
  });
});
