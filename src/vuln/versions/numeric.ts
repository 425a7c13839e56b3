/**
 * Helpers shared by the comparators. Version numbers are compared as digit
 * strings, never as JavaScript numbers: real versions carry dates, commit
 * counters and timestamps far beyond 2^53, and every ecosystem here compares
 * them exactly (dpkg, rpm and apk compare digit runs of any length).
 */

/** Compares two strings of ASCII digits by numeric value (leading zeros ignored). */
export function compareDigits(a: string, b: string): number {
  const x = stripZeros(a);
  const y = stripZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return s.slice(i);
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** -1, 0 or 1 for two strings in code-unit order (what C's strcmp gives for ASCII). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}
