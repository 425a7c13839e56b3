import type { VersionComparator } from "./index.js";
import { compareDigits, compareStrings, isAlpha, isDigit } from "./numeric.js";

/**
 * RPM versions, `[epoch:]version[-release]`, compared as rpm does
 * (rpmio/rpmvercmp.c and rpmds' EVR parsing): segments of letters or digits,
 * anything else separates; `~` sorts before everything (even the end),
 * `^` after the end but before any further segment; a numeric segment beats
 * a letter one; digits compare numerically at any length.
 */
export interface RpmVersion {
  epoch: string;
  version: string;
  /** Absent when the EVR has no '-'; rpm ranks any release above none (1.0-~ > 1.0). */
  release: string | undefined;
}

/** rpm's parseEVR: leading digits then ':' are the epoch, the last '-' starts the release. */
export function parseRpmVersion(evr: string): RpmVersion {
  let i = 0;
  while (i < evr.length && isDigit(evr.charCodeAt(i))) i++;
  let epoch = "0";
  let rest = evr;
  if (evr[i] === ":") {
    epoch = evr.slice(0, i) || "0";
    rest = evr.slice(i + 1);
  }
  const dash = rest.lastIndexOf("-");
  return dash >= 0
    ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) }
    : { epoch, version: rest, release: undefined };
}

const isAlnum = (c: number) => isDigit(c) || isAlpha(c);
const TILDE = 126;
const CARET = 94;

/** rpmvercmp over one version or release string. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const at = (s: string, k: number) => (k < s.length ? s.charCodeAt(k) : 0);
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(at(a, i)) && at(a, i) !== TILDE && at(a, i) !== CARET) i++;
    while (j < b.length && !isAlnum(at(b, j)) && at(b, j) !== TILDE && at(b, j) !== CARET) j++;
    const x = at(a, i);
    const y = at(b, j);
    if (x === TILDE || y === TILDE) {
      if (x !== TILDE) return 1;
      if (y !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (x === CARET || y === CARET) {
      if (x === 0) return -1;
      if (y === 0) return 1;
      if (x !== CARET) return 1;
      if (y !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (x === 0 || y === 0) break;
    const numeric = isDigit(x);
    const inSegment = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && inSegment(at(a, ei))) ei++;
    while (ej < b.length && inSegment(at(b, ej))) ej++;
    // One side numeric, the other letters: the numeric segment is newer.
    if (ej === j) return numeric ? 1 : -1;
    const sa = a.slice(i, ei);
    const sb = b.slice(j, ej);
    const rc = numeric ? compareDigits(sa, sb) : compareStrings(sa, sb);
    if (rc) return rc;
    i = ei;
    j = ej;
  }
  const restA = i < a.length;
  const restB = j < b.length;
  if (!restA && !restB) return 0;
  return restA ? 1 : -1;
}

export function compareRpm(a: string, b: string): number {
  const x = parseRpmVersion(a);
  const y = parseRpmVersion(b);
  const rc = rpmvercmp(x.epoch, y.epoch) || rpmvercmp(x.version, y.version);
  if (rc) return rc;
  // What rpm 4.18's rpmver comparison does (checked against rpm.ver() in the tests).
  if (x.release === undefined || y.release === undefined) {
    return x.release === y.release ? 0 : x.release === undefined ? -1 : 1;
  }
  return rpmvercmp(x.release, y.release);
}

const PART = /^[A-Za-z0-9._+~^]+$/;

export const rpm: VersionComparator = {
  ecosystem: "Red Hat",
  compare: compareRpm,
  // rpmbuild's rule: version and release are non-empty and use only letters, digits and . _ + ~ ^.
  isValid(v) {
    if (!/^(\d+:)?[^:]+$/.test(v)) return false;
    const p = parseRpmVersion(v);
    return PART.test(p.version) && (p.release === undefined || PART.test(p.release));
  },
};
