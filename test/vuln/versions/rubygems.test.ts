import { beforeAll, describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { disagreements, ensureDebianPackage, runOracle } from "./oracle.js";
import { Random } from "./random.js";

const gems = comparatorFor("RubyGems");
if (!gems) throw new Error("no RubyGems comparator");

// Debian's ruby with its bundled RubyGems: Gem::Version is what gem and bundler resolve with.
const ORACLE = `
valid = ARGV[0] == "valid"
out = STDIN.each_line.map do |line|
  a, b = line.chomp.split("\\t", 2)
  valid ? (Gem::Version.correct?(a) ? 1 : 0) : (Gem::Version.new(a) <=> Gem::Version.new(b))
end
puts out
`;

beforeAll(() => {
  ensureDebianPackage("command -v ruby", "ruby");
}, 300_000); // a first run may install the oracle

function generator(rng: Random) {
  const words = ["pre", "rc", "beta", "alpha", "a", "b", "Z", "A", "dev", "RC", "x"];
  const version = () => {
    let v = rng.number();
    const n = rng.int(5);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      if (r < 0.55) v += `.${rng.number()}`;
      else if (r < 0.8) v += `.${rng.pick(words)}${rng.chance(0.5) ? rng.number() : ""}`;
      else if (r < 0.9) v += `${rng.pick(words)}${rng.number()}`;
      else v += `-${rng.pick(words)}${rng.chance(0.5) ? `.${rng.number()}` : ""}`;
    }
    return rng.chance(0.03) ? ` ${v} ` : v;
  };
  const mutate = (v: string) =>
    rng.pick([
      () => `${v}.0`,
      () => `${v}.0.0`,
      () => `${v}.pre`,
      () => `${v}-1`,
      () => `${v}.a`,
      () => `${v}a`,
      () => v.replace(/-/, ".pre."),
      () => v.replace(/\.pre\./, "-"),
      () => v.replace(/\d+/, (d) => `0${d}`),
      () => v.toUpperCase(),
      () => v.replace(/\d(?=[^\d]*$)/, (d) => String((Number(d) + 1) % 10)),
    ])();
  return { version, mutate };
}

describe("RubyGems comparator against Gem::Version (Debian's ruby)", () => {
  it("agrees on 20,000 generated pairs (seed 6001)", () => {
    const rng = new Random(6001);
    const { version, mutate } = generator(rng);
    const pairs = rng.pairs(20000, version, mutate).filter(([a, b]) => gems.isValid(a) && gems.isValid(b));
    expect(pairs.length).toBeGreaterThan(15000);
    const expected = runOracle("ruby", ["-e", ORACLE, "compare"], pairs);
    expect(disagreements(pairs, expected, gems.compare)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });

  it("agrees with Gem::Version.correct? on non-blank strings (seed 6002)", () => {
    const rng = new Random(6002);
    const { version, mutate } = generator(rng);
    const noise = (v: string) => v.replace(/./, () => rng.pick(["_", "-", "+", ".", "a", "~", "!"]));
    const all = [
      ...Array.from({ length: 3000 }, () => (rng.chance(0.5) ? mutate(version()) : noise(version()))),
      "1.",
      ".1",
      "1..2",
      "1-",
      "1-a-b",
      "1.0-rc.1",
      "a1",
      "1 2",
    ].filter((v) => v.trim() !== "");
    const expected = runOracle(
      "ruby",
      ["-e", ORACLE, "valid"],
      all.map((v) => [v, v]),
    );
    const wrong = all.filter((v, i) => (gems.isValid(v) ? 1 : 0) !== expected[i]);
    expect(wrong).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([0, 1]));
    expect(gems.isValid("")).toBe(false); // RubyGems reads "" as "0"; shipgate calls it unknown
  });

  it("orders prereleases as the RubyGems guides describe", () => {
    const ordered = ["1.0.a", "1.0.a.1", "1.0.b1", "1.0.pre", "1.0.rc1", "1.0", "1.0.1", "1.1.a", "1.1"];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(gems.compare(ordered[i] as string, ordered[i + 1] as string)).toBeLessThan(0);
      expect(gems.compare(ordered[i + 1] as string, ordered[i] as string)).toBeGreaterThan(0);
    }
    expect(gems.compare("1.0-rc1", "1.0.pre.rc1")).toBe(0);
    expect(gems.compare("1.0.0", "1")).toBe(0);
  });
});
