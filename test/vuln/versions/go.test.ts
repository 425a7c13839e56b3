import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isPseudoVersion } from "../../../src/vuln/versions/go.js";
import { comparatorFor } from "../../../src/vuln/versions/index.js";
import { disagreements, ensureDebianPackage, runOracle } from "./oracle.js";
import { Random } from "./random.js";

const go = comparatorFor("Go");
if (!go) throw new Error("no Go comparator");

// golang.org/x/mod/semver is the package the go command orders module versions with;
// Debian ships its source (golang-golang-x-mod-dev), built here in GOPATH mode, offline.
const GOPATH = "/usr/share/gocode";
const PROGRAM = `package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	valid := len(os.Args) > 1 && os.Args[1] == "valid"
	for in.Scan() {
		ab := strings.SplitN(in.Text(), "\\t", 2)
		if valid {
			if semver.IsValid(ab[0]) {
				fmt.Fprintln(out, 1)
			} else {
				fmt.Fprintln(out, 0)
			}
		} else {
			fmt.Fprintln(out, semver.Compare(ab[0], ab[1]))
		}
	}
}
`;
let program: string;
const env = { GO111MODULE: "off", GOPATH, GOFLAGS: "", GOCACHE: join(tmpdir(), "shipgate-go-cache") };

beforeAll(() => {
  ensureDebianPackage("command -v go", "golang-go");
  ensureDebianPackage(`test -f ${GOPATH}/src/golang.org/x/mod/semver/semver.go`, "golang-golang-x-mod-dev");
  const dir = mkdtempSync(join(tmpdir(), "shipgate-go-oracle-"));
  writeFileSync(join(dir, "main.go"), PROGRAM);
  program = join(dir, "main.go");
}, 300_000);

const runGo = (mode: "compare" | "valid", pairs: [string, string][]) =>
  runOracle("go", ["run", program, mode], pairs, env);

function generator(rng: Random) {
  const ids = ["alpha", "beta", "rc", "pre", "0", "1", "01", "x-y", "incompatible"];
  const stamp = () =>
    `20${rng.int(3)}${rng.int(10)}0${1 + rng.int(9)}${String(10 + rng.int(18))}${rng.int(10)}${rng.int(10)}0000`;
  const hash = () => Array.from({ length: 12 }, () => rng.pick([..."0123456789abcdef"])).join("");
  const version = () => {
    const r = rng.next();
    const main = rng.chance(0.5)
      ? `${rng.int(3)}.${rng.int(3)}.${rng.int(3)}`
      : `${rng.number()}.${rng.number()}.${rng.number()}`;
    let v = `v${main}`;
    if (r < 0.1) return `v${rng.number()}${rng.chance(0.5) ? `.${rng.number()}` : ""}`; // shorthands v1, v1.2
    if (r < 0.3)
      v += `-${stamp()}-${hash()}`; // v0.0.0-yyyymmddhhmmss-hash
    else if (r < 0.45)
      v += `-0.${stamp()}-${hash()}`; // vX.Y.(Z+1)-0.yyyymmddhhmmss-hash
    else if (r < 0.55)
      v += `-${rng.pick(ids)}.0.${stamp()}-${hash()}`; // vX.Y.Z-pre.0.yyyymmddhhmmss-hash
    else if (r < 0.8)
      v += `-${Array.from({ length: 1 + rng.int(3) }, () => (rng.chance(0.5) ? rng.number() : rng.pick(ids))).join(".")}`;
    if (rng.chance(0.2)) v += "+incompatible";
    if (rng.chance(0.03)) v = v.slice(1); // no "v": x/mod/semver calls it invalid
    return v;
  };
  const mutate = (v: string) =>
    rng.pick([
      () => `${v}+incompatible`,
      () => v.replace(/\+incompatible$/, ""),
      () => v.replace(/-.*/, ""),
      () => v.replace(/\d(?=[^\d]*$)/, (d) => String((Number(d) + 1) % 10)),
      () => v.replace(/\.0$/, ""),
      () => `${v}-`,
    ])();
  return { version, mutate };
}

describe("Go comparator against golang.org/x/mod/semver", () => {
  it("agrees on 5,000 generated pairs, pseudo-versions and +incompatible included (seed 9001)", () => {
    const rng = new Random(9001);
    const { version, mutate } = generator(rng);
    const pairs = rng.pairs(5000, version, mutate);
    const expected = runGo("compare", pairs);
    // Without a "v" x/mod/semver sees an invalid version; shipgate reads OSV's unprefixed form,
    // so compare those through their "v" spelling, which is what they mean.
    const withV = (v: string) => (v.startsWith("v") ? v : `v${v}`);
    const strict = (a: string, b: string) => {
      const valid = (v: string) => v.startsWith("v") && go.isValid(v);
      if (!valid(a) || !valid(b)) return valid(a) ? 1 : valid(b) ? -1 : 0;
      return go.compare(withV(a), withV(b));
    };
    expect(disagreements(pairs, expected, strict)).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([-1, 0, 1]));
  }, 60_000);

  it("agrees with semver.IsValid on prefixed versions (seed 9002)", () => {
    const rng = new Random(9002);
    const { version, mutate } = generator(rng);
    const all = [
      ...Array.from({ length: 2000 }, () => mutate(version())),
      "v1.2.3-",
      "v1.02.3",
      "v1.2.3-01",
      "v1.2-pre",
    ].filter((v) => v.startsWith("v"));
    const expected = runGo(
      "valid",
      all.map((v) => [v, v]),
    );
    const wrong = all.filter((v, i) => (go.isValid(v) ? 1 : 0) !== expected[i]);
    expect(wrong).toEqual([]);
    expect(new Set(expected)).toEqual(new Set([0, 1]));
  }, 60_000);

  it("reads OSV's unprefixed versions and recognises pseudo-versions", () => {
    expect(go.compare("1.2.3", "v1.2.3")).toBe(0);
    expect(go.compare("0", "v0.0.0-20191109021931-daa7c04131f5")).toBeGreaterThan(0);
    expect(go.compare("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3")).toBeGreaterThan(0);
    expect(go.compare("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4")).toBeLessThan(0);
    expect(go.compare("v2.0.0+incompatible", "v2.0.0")).toBe(0);
    expect(isPseudoVersion("v0.0.0-20191109021931-daa7c04131f5")).toBe(true);
    expect(isPseudoVersion("v1.2.4-0.20191109021931-daa7c04131f5")).toBe(true);
    expect(isPseudoVersion("v1.2.4-rc.1")).toBe(false);
  });
});
