/**
 * One severity per advisory, and where it came from: a score computed from a
 * CVSS vector beats the database's own label (labels drift; vectors are the
 * analysis), the newest CVSS version present beats older ones.
 */
import type { OsvAffected, OsvRecord } from "../osv/schema.js";
import { cvss2BaseScore } from "./cvss2.js";
import { type CvssScore, cvss3BaseScore } from "./cvss3.js";
import { cvss4BaseScore } from "./cvss4.js";

export const severityLevels = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE", "UNKNOWN"] as const;
export type SeverityLevel = (typeof severityLevels)[number];

export type SeveritySource = "cvss_v4" | "cvss_v3" | "cvss_v2" | "database" | "none";

export interface Severity {
  level: SeverityLevel;
  /** The CVSS base score when `source` is a CVSS version. */
  score?: number;
  vector?: string;
  source: SeveritySource;
  /** Which record gave it (one finding can merge several records). */
  record?: string;
}

/** Higher is worse; UNKNOWN ranks below NONE for gates but above it for display order of doubt. */
export function severityRank(level: SeverityLevel): number {
  return { CRITICAL: 5, HIGH: 4, MEDIUM: 3, LOW: 2, NONE: 1, UNKNOWN: 0 }[level];
}

/** CVSS v3.x/v4.0 qualitative rating scale (v3.1 spec §5). */
export function ratingOf(score: number): SeverityLevel {
  if (score === 0) return "NONE";
  if (score < 4) return "LOW";
  if (score < 7) return "MEDIUM";
  if (score < 9) return "HIGH";
  return "CRITICAL";
}

/** NVD's rating for v2, which has no CRITICAL band. */
function ratingV2(score: number): SeverityLevel {
  if (score < 4) return "LOW";
  if (score < 7) return "MEDIUM";
  return "HIGH";
}

/** A database label (`MODERATE`, `important`, `negligible`...) on the common scale. */
export function labelLevel(label: string): SeverityLevel | undefined {
  const l = label.trim().toUpperCase();
  if (l === "CRITICAL") return "CRITICAL";
  if (l === "HIGH" || l === "IMPORTANT") return "HIGH";
  if (l === "MEDIUM" || l === "MODERATE") return "MEDIUM";
  if (l === "LOW" || l === "NEGLIGIBLE" || l === "UNIMPORTANT") return "LOW";
  if (l === "NONE") return "NONE";
  return undefined;
}

function fromScore(type: string, vector: string): { cvss: CvssScore; source: SeveritySource } | undefined {
  if (type === "CVSS_V4") {
    const cvss = cvss4BaseScore(vector);
    return cvss && { cvss, source: "cvss_v4" };
  }
  if (type === "CVSS_V3") {
    const cvss = cvss3BaseScore(vector);
    return cvss && { cvss, source: "cvss_v3" };
  }
  if (type === "CVSS_V2") {
    const cvss = cvss2BaseScore(vector);
    return cvss && { cvss, source: "cvss_v2" };
  }
  return undefined;
}

const preference: Record<string, number> = { CVSS_V4: 3, CVSS_V3: 2, CVSS_V2: 1 };

function label(value: unknown): SeverityLevel | undefined {
  return typeof value === "string" ? labelLevel(value) : undefined;
}

/**
 * The severity of a record for one affected entry: the entry's own CVSS,
 * then the record's, then the database's label (entry first), else UNKNOWN.
 */
export function recordSeverity(record: OsvRecord, entry?: OsvAffected): Severity {
  const vectors = [...(entry?.severity ?? []), ...(record.severity ?? [])]
    .filter((s) => preference[s.type] !== undefined)
    .sort((a, b) => (preference[b.type] ?? 0) - (preference[a.type] ?? 0));
  for (const s of vectors) {
    const computed = fromScore(s.type, s.score);
    if (computed === undefined) continue;
    const level =
      computed.source === "cvss_v2" ? ratingV2(computed.cvss.score) : ratingOf(computed.cvss.score);
    return {
      level,
      score: computed.cvss.score,
      vector: computed.cvss.vector,
      source: computed.source,
      record: record.id,
    };
  }
  const labelled =
    label(entry?.database_specific?.severity) ??
    label(entry?.ecosystem_specific?.severity) ??
    // Debian's records: the security tracker's urgency (unimportant, low, medium, high)
    label(entry?.ecosystem_specific?.urgency) ??
    label(record.database_specific?.severity) ??
    // Ubuntu's records carry {type: "Ubuntu", score: "medium"}.
    [...(entry?.severity ?? []), ...(record.severity ?? [])].map((s) => labelLevel(s.score)).find((l) => l);
  if (labelled !== undefined) return { level: labelled, source: "database", record: record.id };
  return { level: "UNKNOWN", source: "none", record: record.id };
}

/** The worst of several severities; a computed score wins a tie with a label. */
export function worstSeverity(severities: readonly Severity[]): Severity {
  let worst: Severity = { level: "UNKNOWN", source: "none" };
  for (const s of severities) {
    const d = severityRank(s.level) - severityRank(worst.level);
    if (d > 0 || (d === 0 && worst.source === "database" && s.source !== "database" && s.source !== "none"))
      worst = s;
    else if (d === 0 && (s.score ?? -1) > (worst.score ?? -1)) worst = s;
  }
  return worst;
}
