import type { VersionComparator } from "./index.js";
import { compareDigits, compareStrings } from "./numeric.js";

/**
 * Alpine package versions, compared as apk-tools 3 does (src/version.c):
 * `number{.number}…{letter}{_suffix{number}}…{~hash}{-r number}`.
 * Pre-release suffixes _alpha < _beta < _pre < _rc sort below the bare
 * version, post-release _cvs < _svn < _git < _hg < _p above it, a "-r"
 * revision last. A dotted component with a leading zero on either side is
 * compared as a string (the Gentoo rule: 1.02 < 1.1, 1.01 < 1.010).
 * apk-tools keeps numbers in a uint64; here they are exact at any length.
 */
const T = {
  InitialDigit: 0,
  Digit: 1,
  Letter: 2,
  Suffix: 3,
  SuffixNo: 4,
  CommitHash: 5,
  RevisionNo: 6,
  End: 7,
  Invalid: 8,
} as const;
type TokenType = (typeof T)[keyof typeof T];

/** Suffix ranks; NONE (5) is the bare version, so below it is a pre-release. */
const SUFFIXES: Record<string, number> = {
  alpha: 1,
  beta: 2,
  pre: 3,
  rc: 4,
  cvs: 6,
  svn: 7,
  git: 8,
  hg: 9,
  p: 10,
};
const SUFFIX_NONE = 5;

interface Token {
  type: TokenType;
  value: string; // digits, letter, suffix name or hash
}

/** Splits a version into apk's tokens; the last is End or Invalid. */
export function apkTokens(v: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  const digits = (type: TokenType) => {
    const m = /^[0-9]*/.exec(v.slice(pos)) as RegExpExecArray;
    pos += m[0].length;
    out.push({ type: m[0] === "" ? T.Invalid : type, value: m[0] });
  };
  digits(T.InitialDigit);
  for (;;) {
    const last = out[out.length - 1] as Token;
    if (last.type === T.Invalid) return out;
    if (pos >= v.length) {
      out.push({ type: T.End, value: "" });
      return out;
    }
    const c = v[pos] as string;
    const invalid = () => out.push({ type: T.Invalid, value: "" });
    if (c >= "a" && c <= "z") {
      if (last.type > T.Digit) invalid();
      else out.push({ type: T.Letter, value: c });
      pos++;
    } else if (c === "." || (c >= "0" && c <= "9")) {
      if (c === "." && last.type > T.Digit) {
        invalid();
        continue;
      }
      if (c === ".") pos++;
      if (last.type === T.InitialDigit || last.type === T.Digit) digits(T.Digit);
      else if (last.type === T.Suffix) digits(T.SuffixNo);
      else invalid();
    } else if (c === "_") {
      if (last.type > T.SuffixNo) {
        invalid();
        continue;
      }
      const m = /^[a-z]*/.exec(v.slice(pos + 1)) as RegExpExecArray;
      pos += 1 + m[0].length;
      if (SUFFIXES[m[0]] === undefined) invalid();
      else out.push({ type: T.Suffix, value: m[0] });
    } else if (c === "~") {
      const m = /^[0-9a-f]*/.exec(v.slice(pos + 1)) as RegExpExecArray;
      if (last.type >= T.CommitHash || m[0] === "") {
        invalid();
        continue;
      }
      pos += 1 + m[0].length;
      out.push({ type: T.CommitHash, value: m[0] });
    } else if (c === "-") {
      if (last.type >= T.RevisionNo || v[pos + 1] !== "r") {
        invalid();
        continue;
      }
      pos += 2;
      digits(T.RevisionNo);
    } else {
      invalid();
    }
  }
}

/** apk_blob_sort: byte order, then the shorter first. */
const blobSort = (a: string, b: string) => compareStrings(a, b);

function compareToken(a: Token, b: Token): number {
  switch (a.type) {
    case T.Digit:
      // A leading zero on either side: compare as strings, so 1.01 < 1.1.
      if (a.value[0] === "0" || b.value[0] === "0") return blobSort(a.value, b.value);
      return compareDigits(a.value, b.value);
    case T.InitialDigit:
    case T.SuffixNo:
    case T.RevisionNo:
      return compareDigits(a.value, b.value);
    case T.Letter:
      return compareStrings(a.value, b.value);
    case T.Suffix:
      return Math.sign((SUFFIXES[a.value] as number) - (SUFFIXES[b.value] as number));
    default:
      return blobSort(a.value, b.value);
  }
}

export function compareApk(a: string, b: string): number {
  const x = apkTokens(a);
  const y = apkTokens(b);
  let i = 0;
  for (; ; i++) {
    const p = x[i] as Token;
    const q = y[i] as Token;
    if (p.type !== q.type || p.type >= T.End) break;
    const rc = compareToken(p, q);
    if (rc) return rc;
  }
  const p = x[i] as Token;
  const q = y[i] as Token;
  if (p.type === q.type) return 0;
  // Equal so far: the longer version is newer, unless what follows is a pre-release suffix.
  if (p.type === T.Suffix && (SUFFIXES[p.value] as number) < SUFFIX_NONE) return -1;
  if (q.type === T.Suffix && (SUFFIXES[q.value] as number) < SUFFIX_NONE) return 1;
  return p.type > q.type ? -1 : 1;
}

export const apk: VersionComparator = {
  ecosystem: "Alpine",
  compare: compareApk,
  isValid: (v) => apkTokens(v).at(-1)?.type === T.End,
};
