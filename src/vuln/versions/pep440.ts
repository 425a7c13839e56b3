import type { VersionComparator } from "./index.js";
import { compareDigits, compareStrings } from "./numeric.js";

/**
 * Python versions, PEP 440, parsed and ordered as the `packaging` library
 * does (what pip uses): an optional "v", epochs ("1!"), release segments
 * with trailing zeros ignored, pre-releases (a/b/rc and their spellings
 * alpha, beta, c, pre, preview), post-releases (".post1", "-1", "rev", "r"),
 * dev releases, local versions ("+ubuntu.1"), case-insensitive, with the
 * separators "-", "_" and "." all equivalent.
 */
const PATTERN = new RegExp(
  "^\\s*v?(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)" +
    "(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?" +
    "(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?" +
    "(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?" +
    "(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$",
  "i",
);

export interface Pep440Version {
  epoch: string;
  /** Release numbers, trailing zeros dropped (1.0 == 1.0.0). */
  release: string[];
  /** "a" | "b" | "rc" with its number. */
  pre?: [string, string];
  post?: string;
  dev?: string;
  local?: string[];
}

const PRE_LETTER: Record<string, string> = {
  alpha: "a",
  a: "a",
  beta: "b",
  b: "b",
  c: "rc",
  pre: "rc",
  preview: "rc",
  rc: "rc",
};

export function parsePep440(v: string): Pep440Version | undefined {
  const m = PATTERN.exec(v);
  const g = m?.groups;
  if (!g) return undefined;
  const release = (g.release as string).split(".");
  while (release.length > 1 && /^0+$/.test(release[release.length - 1] as string)) release.pop();
  const parsed: Pep440Version = { epoch: g.epoch ?? "0", release };
  if (/^0+$/.test(release[0] as string) && release.length === 1) parsed.release = [];
  if (g.pre_l) parsed.pre = [PRE_LETTER[g.pre_l.toLowerCase()] as string, g.pre_n ?? "0"];
  if (g.post) parsed.post = g.post_n1 ?? g.post_n2 ?? "0";
  if (g.dev) parsed.dev = g.dev_n ?? "0";
  if (g.local) parsed.local = g.local.toLowerCase().split(/[-_.]/);
  return parsed;
}

function compareRelease(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const rc = compareDigits(x, y);
    if (rc) return rc;
  }
  return 0;
}

/** packaging's _cmpkey, slot by slot: rank first (−∞, value, +∞), then the value. */
function preRank(v: Pep440Version): number {
  if (v.pre) return 0;
  return v.post === undefined && v.dev !== undefined ? -1 : 1; // 1.0.dev0 sorts before 1.0a0
}

const isNum = (s: string) => /^[0-9]+$/.test(s);

/** Local segments: numbers above strings; numbers numerically, strings lexically; a prefix sorts first. */
function compareLocal(a: string[] | undefined, b: string[] | undefined): number {
  if (!a || !b) return a === b ? 0 : a ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const xn = isNum(x);
    const yn = isNum(y);
    const rc = xn && yn ? compareDigits(x, y) : xn !== yn ? (xn ? 1 : -1) : compareStrings(x, y);
    if (rc) return rc;
  }
  return 0;
}

export function comparePep440Parsed(x: Pep440Version, y: Pep440Version): number {
  let rc = compareDigits(x.epoch, y.epoch) || compareRelease(x.release, y.release);
  if (rc) return rc;
  rc = preRank(x) - preRank(y);
  if (rc) return rc;
  if (x.pre && y.pre) {
    rc = compareStrings(x.pre[0], y.pre[0]) || compareDigits(x.pre[1], y.pre[1]);
    if (rc) return rc;
  }
  if (x.post === undefined || y.post === undefined) {
    if (x.post !== y.post) return x.post === undefined ? -1 : 1;
  } else if ((rc = compareDigits(x.post, y.post))) return rc;
  if (x.dev === undefined || y.dev === undefined) {
    if (x.dev !== y.dev) return x.dev === undefined ? 1 : -1;
  } else if ((rc = compareDigits(x.dev, y.dev))) return rc;
  return compareLocal(x.local, y.local);
}

export const pep440: VersionComparator = {
  ecosystem: "PyPI",
  compare(a, b) {
    const x = parsePep440(a);
    const y = parsePep440(b);
    // Not PEP 440 (legacy versions pip no longer installs): below every valid version.
    if (!x || !y) return x ? 1 : y ? -1 : compareStrings(a, b);
    return comparePep440Parsed(x, y);
  },
  isValid: (v) => parsePep440(v) !== undefined,
};
