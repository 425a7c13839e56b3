import type { VersionComparator } from "./index.js";
import { compareDigits, compareStrings } from "./numeric.js";

/**
 * NuGet versions, ordered as NuGet.Versioning's VersionComparer.Default:
 * one to four numeric parts (missing ones are 0, so 1.0 = 1.0.0 = 1.0.0.0;
 * leading zeros are tolerated, 1.01 = 1.1), then release labels compared
 * label by label (a release sorts above any prerelease; a label that
 * Int32.TryParse reads as a number sorts numerically and below text labels;
 * text labels compare ordinal-ignore-case), build metadata ignored.
 */
export interface NuGetVersion {
  parts: [string, string, string, string];
  release: string[];
  metadata: string;
}

const INT32_MAX = "2147483647";
const LABEL = /^[0-9A-Za-z-]+$/;

export function parseNuGet(v: string): NuGetVersion | undefined {
  const plus = v.indexOf("+");
  const main = plus >= 0 ? v.slice(0, plus) : v;
  const metadata = plus >= 0 ? v.slice(plus + 1) : "";
  if (plus >= 0 && !metadata.split(".").every((m) => LABEL.test(m))) return undefined;
  const dash = main.indexOf("-");
  const numbers = (dash >= 0 ? main.slice(0, dash) : main).split(".");
  const release = dash >= 0 ? main.slice(dash + 1).split(".") : [];
  if (numbers.length > 4 || !numbers.every((n) => /^[0-9]+$/.test(n) && compareDigits(n, INT32_MAX) <= 0)) {
    return undefined;
  }
  if (!release.every((l) => LABEL.test(l))) return undefined;
  const [a = "0", b = "0", c = "0", d = "0"] = numbers;
  return { parts: [a, b, c, d], release, metadata };
}

/** What .NET's Int32.TryParse makes of a label: a number when it is one in range. */
function int32(label: string): bigint | undefined {
  if (!/^-?[0-9]+$/.test(label)) return undefined;
  const n = BigInt(label);
  return n >= -2147483648n && n <= 2147483647n ? n : undefined;
}

function compareLabel(a: string, b: string): number {
  const x = int32(a);
  const y = int32(b);
  if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0;
  if (x !== undefined || y !== undefined) return x !== undefined ? -1 : 1;
  return compareStrings(a.toUpperCase(), b.toUpperCase());
}

export function compareNuGetParsed(x: NuGetVersion, y: NuGetVersion): number {
  for (let i = 0; i < 4; i++) {
    const rc = compareDigits(x.parts[i] as string, y.parts[i] as string);
    if (rc) return rc;
  }
  if (x.release.length === 0 || y.release.length === 0) {
    return x.release.length === y.release.length ? 0 : x.release.length === 0 ? 1 : -1;
  }
  for (let i = 0; ; i++) {
    const a = x.release[i];
    const b = y.release[i];
    if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
    const rc = compareLabel(a, b);
    if (rc) return rc;
  }
}

export const nuget: VersionComparator = {
  ecosystem: "NuGet",
  compare(a, b) {
    const x = parseNuGet(a.trim());
    const y = parseNuGet(b.trim());
    if (!x || !y) return x ? 1 : y ? -1 : compareStrings(a, b);
    return compareNuGetParsed(x, y);
  },
  isValid: (v) => parseNuGet(v) !== undefined,
};
