import { beforeAll, describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { rpmvercmp } from "../../../src/vuln/versions/rpm.js";
import { disagreements, ensureDebianPackage, runOracle } from "./oracle.js";
import { Random } from "./random.js";

const rpm = comparatorFor("Red Hat:enterprise_linux:9::appstream");
if (!rpm) throw new Error("no rpm comparator");

// One rpm process: its embedded Lua compares every pair with rpm's own code.
// rpm.ver() and rpm.vercmp() both parse epoch:version-release the way rpm does;
// on strings without ':' or '-' rpm.vercmp() is plain rpmvercmp.
const EVR_LOOP = `%{lua: for l in io.lines() do
  local a, b = l:match("^(.-)\\t(.*)$")
  local x, y = rpm.ver(a), rpm.ver(b)
  io.write(x < y and -1 or (x == y and 0 or 1), "\\n")
end}`;
const RAW_LOOP = `%{lua: for l in io.lines() do
  local a, b = l:match("^(.-)\\t(.*)$")
  io.write(rpm.vercmp(a, b), "\\n")
end}`;

function generator(rng: Random) {
  const segment = () => {
    let s = "";
    const n = 1 + rng.int(5);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      if (r < 0.45) s += rng.number();
      else if (r < 0.65) s += rng.pick(["a", "b", "rc", "Z", "el", "fc", "git", "alpha"]);
      else if (r < 0.75) s += "~";
      else if (r < 0.83) s += "^";
      else s += rng.pick([".", ".", "_", "+", "..", "%", "#"]);
    }
    return s;
  };
  const version = () => {
    let v = rng.chance(0.2) ? `${rng.pick(["", "0", "1", "2", "007", "18446744073709551617"])}:` : "";
    v += segment();
    if (rng.chance(0.7)) v += `-${segment()}`;
    return v;
  };
  const mutate = (v: string) =>
    rng.pick([
      () => `${v}~`,
      () => `${v}^`,
      () => `${v}^post1`,
      () => `${v}~rc1`,
      () => `${v}.0`,
      () => `${v}a`,
      () => `${v}_`,
      () => v.replace(/\d+/, (d) => `0${d}`),
      () => v.replace(/[~^]/, ""),
      () => v.replace(/\./, "_"),
      () => (v.includes(":") ? v.slice(v.indexOf(":") + 1) : `0:${v}`),
      () => (v.includes("-") ? v.slice(0, v.lastIndexOf("-")) : `${v}-1`),
      () => v.replace(/\d(?!.*\d)/, (d) => String((Number(d) + 1) % 10)),
    ])();
  return { version, mutate };
}

beforeAll(() => {
  ensureDebianPackage("command -v rpm", "rpm");
}, 300_000); // a first run may install the oracle

describe("rpm comparator against rpm's own comparison (Debian's rpm package)", () => {
  it("agrees with rpm.ver() on 20,000 generated epoch:version-release pairs (seed 7001)", () => {
    const rng = new Random(7001);
    const { version, mutate } = generator(rng);
    const pairs = rng.pairs(20000, version, mutate).filter(([a, b]) => a !== "" && b !== ""); // rpm refuses ""
    const expected = runOracle("rpm", ["--eval", EVR_LOOP], pairs);
    expect(disagreements(pairs, expected, rpm.compare)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });

  it("agrees with rpm.vercmp() on 20,000 version-only strings, segment rules alone (seed 7002)", () => {
    const rng = new Random(7002);
    const { version, mutate } = generator(rng);
    const plain = (v: string) => v.replace(/[:-]/g, rng.pick([".", "~", "^", "a"]));
    const pairs = rng
      .pairs(
        20000,
        () => plain(version()),
        (v) => plain(mutate(v)),
      )
      .filter(([a, b]) => a !== "" && b !== "");
    const expected = runOracle("rpm", ["--eval", RAW_LOOP], pairs);
    expect(disagreements(pairs, expected, rpmvercmp)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  });

  it("orders tilde and caret as the rpm packaging guidelines describe", () => {
    const ordered = ["1.0~rc1", "1.0", "1.0^git1", "1.0^git2", "1.0.1~rc1", "1.0.1", "1:0.1"];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(rpm.compare(ordered[i] as string, ordered[i + 1] as string)).toBeLessThan(0);
      expect(rpm.compare(ordered[i + 1] as string, ordered[i] as string)).toBeGreaterThan(0);
    }
    expect(rpm.isValid("2:1.2.3-4.el9_2")).toBe(true);
    expect(rpm.isValid("1.0-")).toBe(false);
    expect(rpm.isValid("a:1.0")).toBe(false);
    expect(comparatorFor("Rocky Linux:9")?.ecosystem).toBe("Rocky Linux");
  });
});
