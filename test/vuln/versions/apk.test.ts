import { describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { Random } from "./random.js";

// Debian has no apk-tools, so no oracle runs here: these cases follow apk-tools 3's
// version grammar and comparison rules (src/version.c), written out by hand.
const alpine = comparatorFor("Alpine:v3.18");
if (!alpine) throw new Error("no Alpine comparator");

function expectAscending(versions: string[]): void {
  for (let i = 0; i < versions.length; i++) {
    for (let j = 0; j < versions.length; j++) {
      const want = Math.sign(i - j);
      expect(`${versions[i]} ${alpine?.compare(versions[i] as string, versions[j] as string)}`).toBe(
        `${versions[i]} ${want}`,
      );
    }
  }
}

describe("apk comparator (Alpine, Wolfi, Chainguard): the rules, no oracle on this machine", () => {
  it("orders pre-release and post-release suffixes around the bare version", () => {
    expectAscending([
      "1.0_alpha",
      "1.0_alpha1",
      "1.0_alpha2",
      "1.0_beta",
      "1.0_pre1",
      "1.0_rc1",
      "1.0_rc1_p1",
      "1.0_rc2",
      "1.0_rc10",
      "1.0",
      "1.0-r0",
      "1.0-r1",
      "1.0-r10",
      "1.0_cvs",
      "1.0_svn",
      "1.0_git20230101",
      "1.0_hg",
      "1.0_p1",
      "1.0_p2",
      "1.0a",
      "1.0b",
      "1.0.1",
      "1.1",
    ]);
  });

  it("compares a dotted component with a leading zero as a string (the Gentoo rule)", () => {
    expectAscending(["1.0", "1.00", "1.01", "1.02", "1.1", "1.2", "1.10", "1.100"]);
    expect(alpine.compare("01.2", "1.2")).toBe(0); // only after a dot
    expect(alpine.compare("2", "10")).toBeLessThan(0);
  });

  it("compares numbers beyond 2^53 exactly", () => {
    expect(alpine.compare("1.9007199254740993", "1.9007199254740992")).toBeGreaterThan(0);
    expect(alpine.compare("20230101120000000001-r0", "20230101120000000000-r9")).toBeGreaterThan(0);
  });

  it("accepts apk's grammar and nothing else", () => {
    for (const v of [
      "1.2.3",
      "1.2.3-r0",
      "1.2.3_rc1-r2",
      "1.2.3a",
      "1.2.3_p20230101-r1",
      "2.38.1_git20220322",
      "0.1_pre2~1234abcd-r3",
    ]) {
      expect(alpine.isValid(v)).toBe(true);
    }
    for (const v of [
      "1.2.3-1",
      "1.2.3A",
      "1.2.3_foo",
      "1.2a.3",
      "1.2.3-r1.1",
      "1.2.3_rc1.2",
      "v1.2",
      "1..2",
      "1.2-r",
      "1.0a1",
      "1.2-r1-r2",
      "",
    ]) {
      expect(alpine.isValid(v)).toBe(false);
    }
  });

  it("is a total order on 3,000 generated versions (seed 2001)", () => {
    const rng = new Random(2001);
    const gen = () => {
      let v = Array.from({ length: 1 + rng.int(3) }, () => rng.number()).join(".");
      if (rng.chance(0.2)) v += rng.pick(["a", "b", "z"]);
      if (rng.chance(0.4))
        v += `_${rng.pick(["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"])}${rng.chance(0.6) ? rng.number() : ""}`;
      if (rng.chance(0.6)) v += `-r${rng.number()}`;
      return v;
    };
    const versions = Array.from({ length: 3000 }, gen);
    expect(versions.every((v) => alpine.isValid(v))).toBe(true);
    const sorted = [...versions].sort(alpine.compare);
    for (let i = 0; i + 1 < sorted.length; i++) {
      const a = sorted[i] as string;
      const b = sorted[i + 1] as string;
      expect(alpine.compare(a, b)).toBeLessThanOrEqual(0);
      expect(alpine.compare(b, a) + alpine.compare(a, b)).toBe(0);
    }
    for (let k = 0; k < 3000; k++) {
      const i = rng.int(sorted.length);
      const j = rng.int(sorted.length);
      if (i < j) expect(alpine.compare(sorted[i] as string, sorted[j] as string)).toBeLessThanOrEqual(0);
    }
    expect(comparatorFor("Wolfi")?.compare("1.0_rc1", "1.0")).toBeLessThan(0);
  });
});
