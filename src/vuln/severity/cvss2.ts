/**
 * CVSS v2 base scores (FIRST, "A Complete Guide to the CVSS Version 2.0",
 * §3.2.1): older advisories carry only a v2 vector.
 */
import type { CvssScore } from "./cvss3.js";

const weights: Record<string, Record<string, number>> = {
  AV: { L: 0.395, A: 0.646, N: 1.0 },
  AC: { H: 0.35, M: 0.61, L: 0.71 },
  Au: { M: 0.45, S: 0.56, N: 0.704 },
  C: { N: 0, P: 0.275, C: 0.66 },
  I: { N: 0, P: 0.275, C: 0.66 },
  A: { N: 0, P: 0.275, C: 0.66 },
};

const optional = new Set(["E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR"]);

export function cvss2BaseScore(vector: string): CvssScore | undefined {
  const text = vector.trim().replace(/^\(|\)$/g, "");
  const metrics = new Map<string, string>();
  for (const part of text.split("/")) {
    const [key, value, extra] = part.split(":");
    if (key === undefined || value === undefined || extra !== undefined || metrics.has(key)) return undefined;
    if (weights[key] !== undefined && weights[key][value] === undefined) return undefined;
    if (weights[key] === undefined && !optional.has(key)) return undefined;
    metrics.set(key, value);
  }
  const w = (k: string) => weights[k]?.[metrics.get(k) ?? ""];
  const [av, ac, au, c, i, a] = ["AV", "AC", "Au", "C", "I", "A"].map(w);
  if (
    av === undefined ||
    ac === undefined ||
    au === undefined ||
    c === undefined ||
    i === undefined ||
    a === undefined
  ) {
    return undefined;
  }
  const impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a));
  const exploitability = 20 * av * ac * au;
  const f = impact === 0 ? 0 : 1.176;
  const score = Math.round((0.6 * impact + 0.4 * exploitability - 1.5) * f * 10) / 10;
  return { version: "2.0", vector: text, score: Math.max(0, score) };
}
