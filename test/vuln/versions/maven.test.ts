import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { disagreements, ensureDebianPackage, runOracle } from "./oracle.js";
import { Random } from "./random.js";

const maven = comparatorFor("Maven");
if (!maven) throw new Error("no Maven comparator");

// Maven's own ComparableVersion from Debian's maven package (libmaven3-core-java's maven-artifact jar),
// driven by a single-file Java program so one JVM compares every pair.
const JAR = "/usr/share/maven/lib/maven-artifact-3.x.jar";
const PROGRAM = `
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class Oracle {
  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out)));
    String line;
    while ((line = in.readLine()) != null) {
      String[] ab = line.split("\\t", 2);
      int c = new ComparableVersion(ab[0]).compareTo(new ComparableVersion(ab[1]));
      out.println(Integer.signum(c));
    }
    out.flush();
  }
}
`;
let program: string;

beforeAll(() => {
  // Launching a .java source file needs the compiler module, so a JDK, not just a JRE.
  ensureDebianPackage("command -v javac", "default-jdk-headless");
  ensureDebianPackage(`test -f ${JAR}`, "maven");
  const dir = mkdtempSync(join(tmpdir(), "shipgate-maven-oracle-"));
  program = join(dir, "Oracle.java");
  writeFileSync(program, PROGRAM);
}, 300_000); // a first run may install the oracle

function generator(rng: Random) {
  const words = [
    "alpha",
    "beta",
    "milestone",
    "rc",
    "cr",
    "snapshot",
    "SNAPSHOT",
    "ga",
    "final",
    "release",
    "sp",
    "a",
    "b",
    "m",
    "RC",
    "Final",
    "foo",
    "jre",
    "android",
    "x",
    "z",
    "GA",
    "",
  ];
  const version = () => {
    let v = "";
    const n = 1 + rng.int(6);
    for (let i = 0; i < n; i++) {
      v += rng.chance(0.55) ? rng.number() : rng.pick(words);
      if (i + 1 < n) v += rng.pick([".", ".", "-", "", "..", "-."]);
    }
    return v;
  };
  const mutate = (v: string) =>
    rng.pick([
      () => `${v}.0`,
      () => `${v}-0`,
      () => `${v}-SNAPSHOT`,
      () => `${v}-ga`,
      () => `${v}.final`,
      () => `${v}-sp1`,
      () => `${v}-rc1`,
      () => `${v}a1`,
      () => `${v}-1`,
      () => `${v}.`,
      () => `${v}-`,
      () => v.toUpperCase(),
      () => v.replace(/\./, "-"),
      () => v.replace(/-/, "."),
      () => v.replace(/\d+/, (d) => `00${d}`),
      () => v.replace(/\d(?=[^\d]*$)/, (d) => String((Number(d) + 1) % 10)),
    ])();
  return { version, mutate };
}

describe("Maven comparator against Maven's ComparableVersion", () => {
  it("agrees on 20,000 generated pairs (seed 3001)", () => {
    const rng = new Random(3001);
    const { version, mutate } = generator(rng);
    const pairs = rng.pairs(20000, version, mutate).filter(([a, b]) => a !== "" && b !== "");
    const expected = runOracle("java", ["-cp", JAR, program], pairs);
    expect(disagreements(pairs, expected, maven.compare)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  }, 60_000);

  it("orders the qualifiers as ComparableVersion documents", () => {
    const ordered = [
      "1-alpha1",
      "1-beta1",
      "1-milestone1",
      "1-rc1",
      "1-snapshot",
      "1",
      "1-sp",
      "1-abc",
      "1-xyz",
      "1.1",
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(maven.compare(ordered[i] as string, ordered[i + 1] as string)).toBeLessThan(0);
      expect(maven.compare(ordered[i + 1] as string, ordered[i] as string)).toBeGreaterThan(0);
    }
    for (const same of ["1.0", "1.0.0", "1-ga", "1.final", "1-RELEASE", "1.0-0"])
      expect(maven.compare("1", same)).toBe(0);
    expect(maven.compare("1.0-cr1", "1.0-rc1")).toBe(0);
    expect(maven.compare("1.0.12345678901234567890", "1.0.12345678901234567891")).toBeLessThan(0);
    expect(maven.isValid("2.17.1")).toBe(true);
    expect(maven.isValid("")).toBe(false);
  });
});
