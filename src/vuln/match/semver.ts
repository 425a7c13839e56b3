/**
 * OSV SEMVER ranges are SemVer 2.0.0 (no leading "v"), whatever the
 * package's ecosystem: Go's records use them for module and toolchain
 * versions. Installed versions are read the same way after dropping a "v"
 * or Go's "go" prefix (`go1.19.8`, `v1.2.3`).
 */
import semver from "semver";
import type { VersionComparator } from "../versions/index.js";

function clean(v: string): string {
  return v.trim().replace(/^(go|v)(?=\d)/, "");
}

/** Go's toolchain tags (`go1.19`, `go1.20rc1`) as SemVer, the way golang/vulndb writes them. */
export function goToolchainSemver(v: string): string {
  const m = /^(?:go)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?$/.exec(v.trim());
  if (!m) return clean(v);
  const [, major, minor = "0", patch = "0", pre, n] = m;
  return `${major}.${minor}.${patch}${pre ? `-${pre}.${n}` : ""}`;
}

// Parsed versions, remembered: a scan compares the same event versions thousands of times.
const parsed = new Map<string, semver.SemVer | null>();
function parse(v: string): semver.SemVer | null {
  let p = parsed.get(v);
  if (p === undefined) {
    if (parsed.size > 100_000) parsed.clear();
    p = semver.parse(clean(v));
    parsed.set(v, p);
  }
  return p;
}

export const semverComparator: VersionComparator = {
  ecosystem: "SemVer",
  compare(a: string, b: string): number {
    const x = parse(a);
    const y = parse(b);
    if (x && y) return x.compare(y);
    return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
  },
  isValid(v: string): boolean {
    return parse(v) !== null;
  },
};
