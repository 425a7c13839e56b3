import { beforeAll, describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { disagreements, ensureDebianPackage, runOracle } from "./oracle.js";
import { Random } from "./random.js";

const pypi = comparatorFor("PyPI");
if (!pypi) throw new Error("no PyPI comparator");

// Debian's python3 with Debian's python3-packaging: the library pip orders versions with.
const PYTHON = "/usr/bin/python3";
const ORACLE = `
import sys
from packaging.version import InvalidVersion, Version
valid_only = sys.argv[1] == "valid"
out = []
for line in sys.stdin.read().split("\\n")[:-1]:
    a, b = line.split("\\t", 1)
    if valid_only:
        try:
            Version(a)
            out.append("1")
        except InvalidVersion:
            out.append("0")
    else:
        x, y = Version(a), Version(b)
        out.append("-1" if x < y else "0" if x == y else "1")
print("\\n".join(out))
`;

beforeAll(() => {
  ensureDebianPackage(`${PYTHON} -c 'import packaging.version'`, "python3-packaging");
}, 300_000); // a first run may install the oracle

function generator(rng: Random) {
  const sep = () => rng.pick(["", "", ".", "-", "_"]);
  const version = () => {
    let v = rng.chance(0.05) ? rng.pick(["v", "V", " "]) : "";
    if (rng.chance(0.15)) v += `${rng.pick(["0", "1", "01", "2"])}!`;
    v += Array.from({ length: 1 + rng.int(4) }, () => rng.number()).join(".");
    if (rng.chance(0.4)) {
      v += sep() + rng.pick(["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "RC", "Alpha"]);
      if (rng.chance(0.8)) v += sep() + rng.number();
    }
    if (rng.chance(0.3)) {
      v += rng.chance(0.3)
        ? `-${rng.number()}`
        : sep() + rng.pick(["post", "rev", "r", "POST"]) + (rng.chance(0.7) ? sep() + rng.number() : "");
    }
    if (rng.chance(0.3))
      v += sep() + rng.pick(["dev", "DEV"]) + (rng.chance(0.7) ? sep() + rng.number() : "");
    if (rng.chance(0.25)) {
      const part = () =>
        rng.chance(0.5) ? rng.number() : rng.pick(["ubuntu", "abc", "a1", "1a", "Z", "local"]);
      v += `+${Array.from({ length: 1 + rng.int(3) }, part).join(rng.pick([".", "-", "_"]))}`;
    }
    return v;
  };
  const mutate = (v: string) =>
    rng.pick([
      () => `${v}.0`,
      () => `${v}.0.0`,
      () => `${v}.dev0`,
      () => `${v}a1`,
      () => `${v}.post0`,
      () => `${v}+0`,
      () => `${v}+a`,
      () => v.replace(/\+.*/, ""),
      () => v.replace(/[-_.]/, ""),
      () => v.replace(/\d+/, (d) => `0${d}`),
      () => v.toUpperCase(),
      () => (v.includes("!") ? v.slice(v.indexOf("!") + 1) : `0!${v}`),
      () => v.replace(/\d(?=[^\d]*$)/, (d) => String((Number(d) + 1) % 10)),
    ])();
  return { version, mutate };
}

describe("PEP 440 comparator against Python's packaging (Debian's python3-packaging)", () => {
  it("agrees on 20,000 generated pairs (seed 4401)", () => {
    const rng = new Random(4401);
    const { version, mutate } = generator(rng);
    const pairs = rng.pairs(20000, version, mutate).filter(([a, b]) => pypi.isValid(a) && pypi.isValid(b));
    expect(pairs.length).toBeGreaterThan(15000);
    const expected = runOracle(PYTHON, ["-c", ORACLE, "compare"], pairs);
    expect(disagreements(pairs, expected, pypi.compare)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });

  it("agrees with packaging on which strings are versions (seed 4402)", () => {
    const rng = new Random(4402);
    const { version, mutate } = generator(rng);
    const noise = (v: string) => v.replace(/./, () => rng.pick(["_", "-", "!", "+", ".", "x", "~", "*"]));
    const all = [
      ...Array.from({ length: 3000 }, () => (rng.chance(0.5) ? mutate(version()) : noise(version()))),
      "1.0+",
      "1!",
      "!1",
      "1..0",
      "1.0-",
      "1.0.post",
      "1.0-post",
      "1.0+a..b",
      "1.0-dev",
      "1.0c1",
      " 1.0 ",
    ].filter((v) => !/[\t\n]/.test(v));
    const expected = runOracle(
      PYTHON,
      ["-c", ORACLE, "valid"],
      all.map((v) => [v, v]),
    );
    const wrong = all.filter((v, i) => (pypi.isValid(v) ? 1 : 0) !== expected[i]);
    expect(wrong).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([0, 1]));
  });

  it("orders PEP 440's summary example", () => {
    const ordered = [
      "1.dev0",
      "1.0.dev456",
      "1.0a1",
      "1.0a2.dev456",
      "1.0a12.dev456",
      "1.0a12",
      "1.0b1.dev456",
      "1.0b2",
      "1.0b2.post345.dev456",
      "1.0b2.post345",
      "1.0rc1.dev456",
      "1.0rc1",
      "1.0",
      "1.0+abc.5",
      "1.0+abc.7",
      "1.0+5",
      "1.0.post456.dev34",
      "1.0.post456",
      "1.0.15",
      "1.1.dev1",
      "1!0.1",
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(pypi.compare(ordered[i] as string, ordered[i + 1] as string)).toBeLessThan(0);
      expect(pypi.compare(ordered[i + 1] as string, ordered[i] as string)).toBeGreaterThan(0);
    }
    expect(pypi.compare("1.0", "1.0.0")).toBe(0);
    expect(pypi.compare("1.0-1", "1.0.post1")).toBe(0);
    expect(pypi.compare("1.0RC1", "1.0c1")).toBe(0);
  });
});
