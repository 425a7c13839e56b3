import { beforeAll, describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { disagreements, ensureDebianPackage, runOracle } from "./oracle.js";
import { Random } from "./random.js";

const debian = comparatorFor("Debian:12");
if (!debian) throw new Error("no Debian comparator");

// One bash process runs dpkg itself for every pair: dpkg --compare-versions is the reference.
const DPKG_LOOP = `
while IFS=$'\\t' read -r a b; do
  if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo -1
  elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo 0
  else echo 1; fi
done`;

// APT's own implementation of the same ordering (libapt-pkg, through Debian's python3-apt):
// a second oracle nobody here wrote, fast enough for many more pairs than spawning dpkg.
const APT_PKG = `
import sys, apt_pkg
apt_pkg.init_system()
out = []
for line in sys.stdin.read().split("\\n")[:-1]:
    a, b = line.split("\\t", 1)
    out.append(str(apt_pkg.version_compare(a, b)))
print("\\n".join(out))
`;

beforeAll(() => {
  ensureDebianPackage("/usr/bin/python3 -c 'import apt_pkg'", "python3-apt");
}, 300_000); // a first run may install the oracle

// Validity oracle: dpkg rejects (error) or warns about (bad syntax) a version.
const DPKG_VALID = `
while IFS=$'\\t' read -r a b; do
  if err=$(dpkg --compare-versions "$a" eq "$a" 2>&1) && [ -z "$err" ]; then echo 1; else echo 0; fi
done`;

function generator(rng: Random) {
  const alnum = "abcxyzABZ";
  const part = (chars: string) => {
    let s = "";
    const n = 1 + rng.int(4);
    for (let i = 0; i < n; i++) {
      s += rng.chance(0.55) ? rng.number() : rng.chance(0.7) ? rng.pick([...alnum]) : rng.pick([...chars]);
    }
    return s;
  };
  const version = () => {
    let v = rng.chance(0.2) ? `${rng.pick(["0", "1", "2", "01", "10"])}:` : "";
    v += rng.number() + (rng.chance(0.8) ? part(".+~") : "");
    if (rng.chance(0.15)) v += `-${part(".+~")}`; // a hyphen inside upstream
    if (rng.chance(0.7)) v += `-${rng.chance(0.3) ? "0" : part(".+~")}`;
    return v;
  };
  const mutate = (v: string) => {
    const edits = [
      () => `${v}~`,
      () => `${v}~rc1`,
      () => `${v}+b1`,
      () => `${v}.0`,
      () => `${v}a`,
      () => v.replace(/\d+/, (d) => `0${d}`),
      () => v.replace(/~/, ""),
      () => (v.includes(":") ? v.slice(v.indexOf(":") + 1) : `0:${v}`),
      () => (v.includes("-") ? v.slice(0, v.lastIndexOf("-")) : `${v}-0`),
      () => v.replace(/\d(?!.*\d)/, (d) => String((Number(d) + 1) % 10)),
    ];
    return rng.pick(edits)();
  };
  return { version, mutate };
}

describe("dpkg comparator against dpkg --compare-versions", () => {
  it("agrees with dpkg itself on 800 generated pairs (seed 5001)", () => {
    const rng = new Random(5001);
    const { version, mutate } = generator(rng);
    // dpkg refuses malformed versions outright; which ones those are is a later test's business.
    const pairs = rng.pairs(800, version, mutate).filter(([a, b]) => debian.isValid(a) && debian.isValid(b));
    expect(pairs.length).toBeGreaterThan(650);
    const expected = runOracle("bash", ["-c", DPKG_LOOP], pairs);
    expect(disagreements(pairs, expected, debian.compare)).toEqual([]);
    // The generator must exercise all three outcomes, or the test proves little.
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });

  it("agrees with APT's libapt-pkg on 30,000 generated pairs (seed 5003)", () => {
    const rng = new Random(5003);
    const { version, mutate } = generator(rng);
    const pairs = rng
      .pairs(30000, version, mutate)
      .filter(([a, b]) => debian.isValid(a) && debian.isValid(b));
    expect(pairs.length).toBeGreaterThan(25000);
    const expected = runOracle("/usr/bin/python3", ["-c", APT_PKG], pairs);
    expect(disagreements(pairs, expected, debian.compare)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });

  it("agrees with dpkg on which versions are well-formed (seed 5002)", () => {
    const rng = new Random(5002);
    const junk = [
      "",
      ":",
      "1:",
      ":1",
      "a1",
      "1-",
      "-1",
      "1 2",
      "1_2",
      "x:1",
      "1:2:3",
      "99999999999:1",
      "1-a_b",
    ];
    const { version } = generator(rng);
    const candidates = [...junk];
    for (let i = 0; i < 250; i++) {
      const v = version();
      candidates.push(rng.chance(0.5) ? v : v.replace(/./, () => rng.pick(["_", "a", ":", "-", "!", "~"])));
    }
    const expected = runOracle(
      "bash",
      ["-c", DPKG_VALID],
      candidates.filter((c) => c !== "").map((c) => [c, c]),
    );
    const got = candidates.filter((c) => c !== "").map((c) => (debian.isValid(c) ? 1 : 0));
    const wrong = candidates.filter((c) => c !== "").filter((c, i) => got[i] !== expected[i]);
    expect(wrong).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([0, 1]));
    expect(debian.isValid("")).toBe(false);
  });

  it("orders the cases Debian Policy spells out", () => {
    const ordered = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0-0.1", "1.0-1", "1.0a", "1.0+b1", "1:0.1"];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(debian.compare(ordered[i] as string, ordered[i + 1] as string)).toBeLessThan(0);
      expect(debian.compare(ordered[i + 1] as string, ordered[i] as string)).toBeGreaterThan(0);
    }
    expect(debian.compare("1.0-0", "1.0")).toBe(0);
    expect(debian.compare("0:1.0", "1.0")).toBe(0);
    expect(debian.compare("1.00012345678901234567890", "1.12345678901234567891")).toBeLessThan(0);
  });
});
