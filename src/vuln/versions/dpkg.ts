import type { VersionComparator } from "./index.js";
import { compareDigits, isAlpha, isDigit } from "./numeric.js";

/**
 * Debian package versions, `[epoch:]upstream[-revision]`, compared exactly as
 * dpkg's verrevcmp (lib/dpkg/version.c): alternating non-digit and digit runs;
 * in non-digit runs `~` sorts before everything, even the end of the string,
 * then letters, then other characters; digit runs compare numerically.
 */
export interface DebianVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

const EPOCH_MAX = 2147483647; // dpkg rejects epochs beyond INT_MAX

export function parseDebianVersion(v: string): DebianVersion | undefined {
  const s = v.trim();
  if (s === "" || /\s/.test(s)) return undefined;
  const colon = s.indexOf(":");
  let epoch = "0";
  let rest = s;
  if (colon >= 0) {
    epoch = s.slice(0, colon);
    if (!/^\d+$/.test(epoch) || Number(epoch) > EPOCH_MAX) return undefined;
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : "";
  if (upstream === "" || (dash >= 0 && revision === "")) return undefined;
  return { epoch, upstream, revision };
}

/** Lenient split used by compare for input dpkg would only warn about. */
function split(v: string): DebianVersion {
  const parsed = parseDebianVersion(v);
  if (parsed) return parsed;
  const s = v.trim();
  const colon = s.indexOf(":");
  const epoch = colon >= 0 && /^\d+$/.test(s.slice(0, colon)) ? s.slice(0, colon) : "0";
  const rest = colon >= 0 ? s.slice(colon + 1) : s;
  const dash = rest.lastIndexOf("-");
  return dash >= 0
    ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) }
    : { epoch, upstream: rest, revision: "" };
}

function order(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0; // end of string sorts like a digit run starting
  if (isAlpha(c)) return c;
  if (c === 126) return -1; // '~'
  return c + 256;
}

/** dpkg's verrevcmp over one upstream or revision part. */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = order(a.charCodeAt(i));
      const bc = order(b.charCodeAt(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    const si = i;
    const sj = j;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    firstDiff = compareDigits(a.slice(si, i) || "0", b.slice(sj, j) || "0");
    if (firstDiff) return firstDiff;
  }
  return 0;
}

export function compareDebian(a: string, b: string): number {
  const x = split(a);
  const y = split(b);
  return (
    compareDigits(x.epoch, y.epoch) || verrevcmp(x.upstream, y.upstream) || verrevcmp(x.revision, y.revision)
  );
}

export const dpkg: VersionComparator = {
  ecosystem: "Debian",
  compare: (a, b) => Math.sign(compareDebian(a, b)),
  // Policy §5.6.12: upstream starts with a digit; only alphanumerics and . + ~ (and - or : where allowed).
  isValid(v) {
    const p = parseDebianVersion(v);
    if (!p) return false;
    return /^\d[A-Za-z0-9.+~:-]*$/.test(p.upstream) && /^[A-Za-z0-9.+~]*$/.test(p.revision);
  },
};
