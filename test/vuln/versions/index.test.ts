import { describe, expect, it } from "vitest";
import { comparatorFor, supportedEcosystems } from "../../../src/vuln/versions/index.js";
import { Random } from "./random.js";

const ECOSYSTEMS = [
  "Debian",
  "Ubuntu",
  "Alpine",
  "Wolfi",
  "Chainguard",
  "Red Hat",
  "Rocky Linux",
  "AlmaLinux",
  "openSUSE",
  "SUSE",
  "npm",
  "PyPI",
  "Maven",
  "Go",
  "RubyGems",
  "crates.io",
  "NuGet",
  "SemVer",
];

describe("comparatorFor", () => {
  it("finds a comparator for every supported OSV ecosystem, with or without a release suffix", () => {
    for (const name of ECOSYSTEMS) expect(comparatorFor(name)?.ecosystem).toBe(name);
    expect(comparatorFor("Debian:12")?.ecosystem).toBe("Debian");
    expect(comparatorFor("Alpine:v3.18")?.ecosystem).toBe("Alpine");
    expect(comparatorFor("Ubuntu:Pro:22.04:LTS")?.ecosystem).toBe("Ubuntu");
    expect(comparatorFor("Red Hat:enterprise_linux:9::appstream")?.ecosystem).toBe("Red Hat");
    expect(comparatorFor("openSUSE:Leap 15.5")?.ecosystem).toBe("openSUSE");
    expect(comparatorFor("pypi")?.ecosystem).toBe("PyPI");
    expect(supportedEcosystems()).toEqual(expect.arrayContaining(ECOSYSTEMS));
  });

  it("answers undefined for ecosystems without version ordering rules here", () => {
    for (const name of ["GIT", "Packagist", "OSS-Fuzz", "Linux", "", ":12"])
      expect(comparatorFor(name)).toBeUndefined();
  });

  it("uses each ecosystem's own rules, not one shared guess", () => {
    // The same two strings, ordered differently by different ecosystems.
    expect(comparatorFor("Debian")?.compare("1.0~rc1", "1.0")).toBeLessThan(0);
    expect(comparatorFor("Red Hat")?.compare("1.0-1", "1.0")).toBeGreaterThan(0);
    expect(comparatorFor("PyPI")?.compare("1.0-1", "1.0")).toBeGreaterThan(0); // a post-release
    expect(comparatorFor("npm")?.compare("1.0.0-1", "1.0.0")).toBeLessThan(0); // a prerelease
    expect(comparatorFor("Maven")?.compare("1.0-SNAPSHOT", "1.0")).toBeLessThan(0);
    expect(comparatorFor("Maven")?.compare("1.0-sp1", "1.0")).toBeGreaterThan(0);
    expect(comparatorFor("RubyGems")?.compare("1.0.a", "1.0")).toBeLessThan(0);
  });

  it("never throws and stays antisymmetric, even on garbage (seed 1001)", () => {
    const rng = new Random(1001);
    const alphabet = [..."0123456789.-_+~^:!vVaArRpP ", "alpha", "rc", "SNAPSHOT", "\u00e9", "٣"];
    const junk = () => Array.from({ length: rng.int(12) }, () => rng.pick(alphabet)).join("");
    for (const name of ECOSYSTEMS) {
      const c = comparatorFor(name);
      if (!c) throw new Error(name);
      for (let i = 0; i < 500; i++) {
        const a = junk();
        const b = rng.chance(0.3) ? a : junk();
        expect(() => c.isValid(a)).not.toThrow();
        const ab = Math.sign(c.compare(a, b));
        const ba = Math.sign(c.compare(b, a));
        expect(`${name} ${JSON.stringify(a)} ${JSON.stringify(b)} ${ab + ba}`).toBe(
          `${name} ${JSON.stringify(a)} ${JSON.stringify(b)} 0`,
        );
        expect(c.compare(a, a)).toBe(0);
      }
    }
  });
});
