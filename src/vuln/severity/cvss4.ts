/**
 * CVSS v4.0. The v4 base score is not a formula but a lookup of the vector's
 * macro vector in FIRST's published table followed by an interpolation; that
 * table is not in this codebase yet, so a v4 vector is validated here and
 * left unscored: the severity then comes from the record's v3 vector or the
 * database's label, and the report says which.
 */
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

/** True when the vector is a syntactically valid CVSS v4.0 vector with every base metric. */
export function isCvss4Vector(vector: string): boolean {
  const parts = vector.trim().split("/");
  if (parts.shift() !== "CVSS:4.0") return false;
  const seen = new Set<string>();
  for (const part of parts) {
    const [key, value] = part.split(":");
    if (key === undefined || value === undefined || seen.has(key)) return false;
    seen.add(key);
    const values = base[key];
    if (values !== undefined && !values.includes(value)) return false;
  }
  return Object.keys(base).every((k) => seen.has(k));
}

export function cvss4BaseScore(_vector: string): CvssScore | undefined {
  return undefined;
}
