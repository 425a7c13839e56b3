import type { VersionComparator } from "./index.js";
import { compareDigits, compareStrings } from "./numeric.js";

/**
 * Semantic Versioning 2.0.0 precedence (semver.org §11) and the dialects
 * built on it: npm (node-semver), Cargo (the semver crate) and generic OSV
 * "SemVer". Build metadata never affects precedence.
 */
export interface SemVer {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string[];
}

const NUM = "0|[1-9]\\d*";
const PRE_ID = `(?:${NUM}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const BUILD_ID = "[0-9A-Za-z-]+";
const STRICT = new RegExp(
  `^(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`,
);

/** Parses a strict SemVer 2.0.0 string (no prefix, no leading zeros). */
export function parseSemVer(v: string): SemVer | undefined {
  const m = STRICT.exec(v);
  if (!m) return undefined;
  return {
    major: m[1] as string,
    minor: m[2] as string,
    patch: m[3] as string,
    prerelease: m[4] ? m[4].split(".") : [],
    build: m[5] ? m[5].split(".") : [],
  };
}

const isNumeric = (id: string) => /^[0-9]+$/.test(id);

/** semver.org §11.4: numeric identifiers numerically, below alphanumeric ones, which compare in ASCII order. */
export function compareIdentifiers(a: string, b: string): number {
  const an = isNumeric(a);
  const bn = isNumeric(b);
  if (an && bn) return compareDigits(a, b);
  if (an !== bn) return an ? -1 : 1;
  return compareStrings(a, b);
}

export function compareSemVer(
  x: SemVer,
  y: SemVer,
  identifiers: (a: string, b: string) => number = compareIdentifiers,
): number {
  const main =
    compareDigits(x.major, y.major) || compareDigits(x.minor, y.minor) || compareDigits(x.patch, y.patch);
  if (main) return main;
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    return y.prerelease.length - x.prerelease.length === 0 ? 0 : x.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; ; i++) {
    const a = x.prerelease[i];
    const b = y.prerelease[i];
    if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
    if (a !== b) return identifiers(a, b);
  }
}

/**
 * Lenient fallback for input that is not strict SemVer: a leading "v", missing
 * minor/patch, leading zeros. Anything else sorts below every valid version.
 */
function lenient(v: string): SemVer | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(v.trim());
  if (!m) return undefined;
  return {
    major: m[1] as string,
    minor: m[2] ?? "0",
    patch: m[3] ?? "0",
    prerelease: m[4] ? m[4].split(".") : [],
    build: m[5] ? m[5].split(".") : [],
  };
}

function compareParsed(x: SemVer | undefined, y: SemVer | undefined, a: string, b: string): number {
  if (x && y) return compareSemVer(x, y);
  if (!x && !y) return compareStrings(a, b);
  return x ? 1 : -1;
}

export const semver: VersionComparator = {
  ecosystem: "SemVer",
  compare: (a, b) => compareParsed(parseSemVer(a) ?? lenient(a), parseSemVer(b) ?? lenient(b), a, b),
  isValid: (v) => parseSemVer(v) !== undefined,
};

// ---- npm: node-semver, the implementation npm resolves ranges with ----

const MAX_LENGTH = 256;

/** node-semver's strict parse: trims, allows one leading "v", main numbers up to 2^53-1, at most 256 chars. */
export function parseNpm(v: string): SemVer | undefined {
  if (v.length > MAX_LENGTH) return undefined;
  const s = v.trim();
  const p = parseSemVer(s.startsWith("v") ? s.slice(1) : s);
  if (!p) return undefined;
  for (const n of [p.major, p.minor, p.patch]) if (Number(n) > Number.MAX_SAFE_INTEGER) return undefined;
  return p;
}

/**
 * node-semver compares numeric prerelease identifiers as JavaScript numbers,
 * so two of them beyond 2^53 that round to the same double are equal, and
 * its comparison stops there. npm's own order is the ecosystem's rule.
 */
function npmIdentifiers(a: string, b: string): number {
  const an = isNumeric(a);
  const bn = isNumeric(b);
  if (an && bn) {
    const x = Number(a);
    const y = Number(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (an !== bn) return an ? -1 : 1;
  return compareStrings(a, b);
}

export const npm: VersionComparator = {
  ecosystem: "npm",
  compare(a, b) {
    const x = parseNpm(a) ?? lenient(a);
    const y = parseNpm(b) ?? lenient(b);
    if (x && y) return compareSemVer(x, y, npmIdentifiers);
    return compareParsed(x, y, a, b);
  },
  isValid: (v) => parseNpm(v) !== undefined,
};

// ---- crates.io: the semver crate Cargo uses ----

const U64_MAX = "18446744073709551615";

/** The semver crate: strict SemVer, major/minor/patch fit in a u64. */
export function parseCargo(v: string): SemVer | undefined {
  const p = parseSemVer(v);
  if (!p) return undefined;
  for (const n of [p.major, p.minor, p.patch]) if (compareDigits(n, U64_MAX) > 0) return undefined;
  return p;
}

export const cargo: VersionComparator = {
  ecosystem: "crates.io",
  // crates.io refuses two versions that differ only in build metadata, so ignoring it is exact there.
  compare: (a, b) => compareParsed(parseCargo(a) ?? lenient(a), parseCargo(b) ?? lenient(b), a, b),
  isValid: (v) => parseCargo(v) !== undefined,
};
