/**
 * CVSS v4.0 base scores (CVSS-B). v4 has no closed formula: the score is
 * the vector's macro vector looked up in FIRST's published table, then
 * interpolated by the severity distance within it (v4.0 specification §8).
 * That method and table come from ae-cvss-calculator, an implementation of
 * the FIRST calculator; this module validates the vector first (the library
 * accepts malformed ones) and keeps only the base metrics, as advisories
 * publish base vectors and the v3 scores here are base scores too.
 */
import calculator from "ae-cvss-calculator";
import type { CvssScore } from "./cvss3.js";

const base: Record<string, readonly string[]> = {
  AV: ["N", "A", "L", "P"],
  AC: ["L", "H"],
  AT: ["N", "P"],
  PR: ["N", "L", "H"],
  UI: ["N", "P", "A"],
  VC: ["H", "L", "N"],
  VI: ["H", "L", "N"],
  VA: ["H", "L", "N"],
  SC: ["H", "L", "N"],
  SI: ["H", "L", "N"],
  SA: ["H", "L", "N"],
};

/** The v4.0 metric values beyond the base ones (threat, environmental, supplemental). */
const other: Record<string, readonly string[]> = {
  E: ["X", "A", "P", "U"],
  CR: ["X", "H", "M", "L"],
  IR: ["X", "H", "M", "L"],
  AR: ["X", "H", "M", "L"],
  MAV: ["X", "N", "A", "L", "P"],
  MAC: ["X", "L", "H"],
  MAT: ["X", "N", "P"],
  MPR: ["X", "N", "L", "H"],
  MUI: ["X", "N", "P", "A"],
  MVC: ["X", "H", "L", "N"],
  MVI: ["X", "H", "L", "N"],
  MVA: ["X", "H", "L", "N"],
  MSC: ["X", "H", "L", "N"],
  MSI: ["X", "S", "H", "L", "N"],
  MSA: ["X", "S", "H", "L", "N"],
  S: ["X", "N", "P"],
  AU: ["X", "N", "Y"],
  R: ["X", "A", "U", "I"],
  V: ["X", "D", "C"],
  RE: ["X", "L", "M", "H"],
  U: ["X", "Clear", "Green", "Amber", "Red"],
};

/** The base metrics of a valid v4.0 vector, in the specification's order; undefined when invalid. */
function baseVector(vector: string): string | undefined {
  const parts = vector.trim().split("/");
  if (parts.shift() !== "CVSS:4.0") return undefined;
  const seen = new Map<string, string>();
  for (const part of parts) {
    const [key, value, extra] = part.split(":");
    if (key === undefined || value === undefined || extra !== undefined || seen.has(key)) return undefined;
    const values = base[key] ?? other[key];
    if (values === undefined || !values.includes(value)) return undefined;
    seen.set(key, value);
  }
  if (!Object.keys(base).every((k) => seen.has(k))) return undefined;
  return `CVSS:4.0/${Object.keys(base)
    .map((k) => `${k}:${seen.get(k)}`)
    .join("/")}`;
}

/** True when the vector is a valid CVSS v4.0 vector with every base metric. */
export function isCvss4Vector(vector: string): boolean {
  return baseVector(vector) !== undefined;
}

export function cvss4BaseScore(vector: string): CvssScore | undefined {
  const b = baseVector(vector);
  if (b === undefined) return undefined;
  const score = new calculator.Cvss4P0(b).calculateScores().baseMetricsOnly;
  if (score === undefined || !Number.isFinite(score)) return undefined;
  return { version: "4.0", vector: vector.trim(), score };
}
