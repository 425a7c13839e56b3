/**
 * CVSS v3.0 and v3.1 base scores, computed from the vector with the
 * specification's formula (FIRST, CVSS v3.1 Specification Document §7.1 and
 * Appendix A), so a record's label is never trusted over its own vector.
 * Temporal and environmental metrics are accepted in the vector but do not
 * change the base score, which is what advisories publish.
 */

export interface CvssScore {
  version: "2.0" | "3.0" | "3.1" | "4.0";
  vector: string;
  score: number;
}

const weights = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

const base = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"] as const;
const allowed: Record<string, readonly string[]> = {
  AV: ["N", "A", "L", "P"],
  AC: ["L", "H"],
  PR: ["N", "L", "H"],
  UI: ["N", "R"],
  S: ["U", "C"],
  C: ["H", "L", "N"],
  I: ["H", "L", "N"],
  A: ["H", "L", "N"],
  // temporal
  E: ["X", "H", "F", "P", "U"],
  RL: ["X", "U", "W", "T", "O"],
  RC: ["X", "C", "R", "U"],
  // environmental
  CR: ["X", "H", "M", "L"],
  IR: ["X", "H", "M", "L"],
  AR: ["X", "H", "M", "L"],
  MAV: ["X", "N", "A", "L", "P"],
  MAC: ["X", "L", "H"],
  MPR: ["X", "N", "L", "H"],
  MUI: ["X", "N", "R"],
  MS: ["X", "U", "C"],
  MC: ["X", "H", "L", "N"],
  MI: ["X", "H", "L", "N"],
  MA: ["X", "H", "L", "N"],
};

/**
 * CVSS v3.1's Roundup (Appendix A): works on integers so that a result such
 * as 4.000000000000001 (floating-point noise) rounds to 4.0, not 4.1.
 */
export function roundUp31(value: number): number {
  const integer = Math.round(value * 100000);
  if (integer % 10000 === 0) return integer / 100000;
  return (Math.floor(integer / 10000) + 1) / 10;
}

/** CVSS v3.0's Round up: the smallest one-decimal number ≥ the input. */
export function roundUp30(value: number): number {
  return Math.ceil(value * 10) / 10;
}

/** Parses `CVSS:3.x/AV:N/...`; undefined when it is not a valid v3 vector. */
export function parseCvss3(
  vector: string,
): { version: "3.0" | "3.1"; metrics: Map<string, string> } | undefined {
  const parts = vector.trim().split("/");
  const head = parts.shift();
  if (head !== "CVSS:3.0" && head !== "CVSS:3.1") return undefined;
  const metrics = new Map<string, string>();
  for (const part of parts) {
    const [key, value, extra] = part.split(":");
    if (key === undefined || value === undefined || extra !== undefined) return undefined;
    if (!allowed[key]?.includes(value) || metrics.has(key)) return undefined;
    metrics.set(key, value);
  }
  if (!base.every((m) => metrics.has(m))) return undefined;
  return { version: head === "CVSS:3.0" ? "3.0" : "3.1", metrics };
}

/** The base score of a v3.0/v3.1 vector, or undefined for an invalid vector. */
export function cvss3BaseScore(vector: string): CvssScore | undefined {
  const parsed = parseCvss3(vector);
  if (parsed === undefined) return undefined;
  const m = (k: string) => parsed.metrics.get(k) as string;
  const changed = m("S") === "C";
  const pr = { N: 0.85, L: changed ? 0.68 : 0.62, H: changed ? 0.5 : 0.27 }[m("PR") as "N" | "L" | "H"];
  const cia = (k: string) => weights.CIA[m(k) as "H" | "L" | "N"];
  const iss = 1 - (1 - cia("C")) * (1 - cia("I")) * (1 - cia("A"));
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability =
    8.22 *
    weights.AV[m("AV") as "N" | "A" | "L" | "P"] *
    weights.AC[m("AC") as "L" | "H"] *
    pr *
    weights.UI[m("UI") as "N" | "R"];
  const roundUp = parsed.version === "3.1" ? roundUp31 : roundUp30;
  let score = 0;
  if (impact > 0) {
    score = changed
      ? roundUp(Math.min(1.08 * (impact + exploitability), 10))
      : roundUp(Math.min(impact + exploitability, 10));
  }
  return { version: parsed.version, vector: vector.trim(), score };
}
