import type { VersionComparator } from "./index.js";
import { compareDigits } from "./numeric.js";
import { compareIdentifiers } from "./semver.js";

/**
 * Go module versions, compared as golang.org/x/mod/semver does: a leading
 * "v" is required, "v1" and "v1.2" are shorthands for v1.0.0 and v1.2.0,
 * build metadata (so "+incompatible") is ignored, and an invalid version
 * sorts below every valid one. Pseudo-versions
 * (v0.0.0-20191109021931-daa7c04131f5, vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef…)
 * are ordinary prereleases, so their order falls out of the same rules.
 * OSV's Go records write versions without the "v"; both spellings are accepted.
 */
export interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string;
}

const NUM = "0|[1-9]\\d*";
const ID = "[0-9A-Za-z-]+";
const GO = new RegExp(
  `^v(${NUM})(?:\\.(${NUM})(?:\\.(${NUM})(?:-(${ID}(?:\\.${ID})*))?(?:\\+(${ID}(?:\\.${ID})*))?)?)?$`,
);

export function parseGoVersion(v: string): GoVersion | undefined {
  const m = GO.exec(v.startsWith("v") ? v : `v${v}`);
  if (!m) return undefined;
  const prerelease = m[4] ? m[4].split(".") : [];
  // x/mod/semver rejects numeric prerelease identifiers with leading zeros.
  if (prerelease.some((id) => /^0\d+$/.test(id))) return undefined;
  return { major: m[1] as string, minor: m[2] ?? "0", patch: m[3] ?? "0", prerelease, build: m[5] ?? "" };
}

export function compareGo(a: string, b: string): number {
  const x = parseGoVersion(a);
  const y = parseGoVersion(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  const main =
    compareDigits(x.major, y.major) || compareDigits(x.minor, y.minor) || compareDigits(x.patch, y.patch);
  if (main) return main;
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    return x.prerelease.length === y.prerelease.length ? 0 : x.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; ; i++) {
    const p = x.prerelease[i];
    const q = y.prerelease[i];
    if (p === undefined || q === undefined) return p === q ? 0 : p === undefined ? -1 : 1;
    if (p !== q) return compareIdentifiers(p, q);
  }
}

/** A pseudo-version names a commit, not a release: vX.Y.Z-[pre.|0.]yyyymmddhhmmss-abcdefabcdef. */
export function isPseudoVersion(v: string): boolean {
  const p = parseGoVersion(v);
  if (!p || p.prerelease.length === 0) return false;
  const last = p.prerelease.join(".");
  return /(^|[.-])\d{14}-[0-9a-f]{12}$/.test(last);
}

export const go: VersionComparator = {
  ecosystem: "Go",
  compare: compareGo,
  isValid: (v) => parseGoVersion(v) !== undefined,
};
