import type { VersionComparator } from "./index.js";
import { compareDigits, compareStrings } from "./numeric.js";

/**
 * RubyGems versions, ordered as Gem::Version#<=> does: "-" means ".pre.",
 * the version is scanned into number and letter runs, trailing zeros are
 * dropped from the numeric part and from the prerelease part, any letter run
 * makes a prerelease (lower than the release, and lower than any number in
 * the same place), letters compare case-sensitively byte by byte and numbers
 * by value at any size.
 */
const PATTERN = /^\s*(?:[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*$/;

type Segment = string; // digits or letters

const isNum = (s: Segment) => s.charCodeAt(0) <= 57;

function dropTrailingZeros(segments: Segment[]): Segment[] {
  let end = segments.length;
  while (end > 0 && /^0+$/.test(segments[end - 1] as string)) end--;
  return segments.slice(0, end);
}

/** Gem::Version#canonical_segments. */
export function rubygemsSegments(v: string): Segment[] {
  const version = v.trim().replaceAll("-", ".pre.") || "0";
  const segments = version.match(/[0-9]+|[a-z]+/gi) ?? [];
  const firstString = segments.findIndex((s) => !isNum(s));
  const numeric = firstString < 0 ? segments : segments.slice(0, firstString);
  const strings = firstString < 0 ? [] : segments.slice(firstString);
  return [...dropTrailingZeros(numeric), ...dropTrailingZeros(strings)];
}

export function compareRubygems(a: string, b: string): number {
  const x = rubygemsSegments(a);
  const y = rubygemsSegments(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const l = x[i] ?? "0";
    const r = y[i] ?? "0";
    if (l === r) continue;
    const ln = isNum(l);
    const rn = isNum(r);
    if (ln !== rn) return ln ? 1 : -1;
    const rc = ln ? compareDigits(l, r) : compareStrings(l, r);
    if (rc) return rc;
  }
  return 0;
}

export const rubygems: VersionComparator = {
  ecosystem: "RubyGems",
  compare: compareRubygems,
  // Gem::Version.correct?, except that a blank string (which RubyGems reads as "0") is refused:
  // in an SBOM it means the version is unknown, not 0.
  isValid: (v) => v.trim() !== "" && PATTERN.test(v),
};
