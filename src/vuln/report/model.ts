/**
 * The finding model every report writer (table, JSON, SARIF, CycloneDX VEX)
 * and every gate reads, whether the findings came from shipgate's matcher or
 * from a Trivy/Grype report.
 */
import type { Distro, SbomSource } from "../../sbom/model.js";
import { type Severity, type SeverityLevel, severityLevels, severityRank } from "../severity/severity.js";

export interface FindingPackage {
  name: string;
  version: string;
  type: string;
  purl: string;
  /** OSV ecosystem the package was matched in (`npm`, `Debian:12`). */
  ecosystem: string;
  /** Files that hold the package. */
  locations: string[];
  /** OS packages: the source package the advisory names. */
  source?: string;
}

export interface Suppression {
  by: "vex" | "ignore";
  /** OpenVEX status or the ignore rule's kind. */
  status: string;
  justification?: string;
  reason?: string;
  /** The document the statement came from. */
  origin: string;
}

export interface Finding {
  /** The id shown first: a CVE when one is known, else the record's. */
  id: string;
  /** Every other id of the same weakness (merged records and their aliases). */
  aliases: string[];
  /** The OSV records (or scanner entries) that matched. */
  records: string[];
  package: FindingPackage;
  severity: Severity;
  /** The version(s) that fix it, lowest first. */
  fixedIn: string[];
  summary?: string;
  references: string[];
  notes: string[];
  /** `linux/amd64` for multi-platform images. */
  platform?: string;
  suppressed?: Suppression;
}

export interface ScanReport {
  schema: "shipgate.scan/v1";
  source: SbomSource;
  distro?: Distro;
  scanner: { name: string; version?: string };
  /** When the scan ran (ISO 8601). */
  scannedAt: string;
  database?: { path: string; records: number; lastUpdate?: string };
  packages: number;
  /** Findings that count (after VEX, ignore rules and filters). */
  findings: Finding[];
  /** Findings a VEX statement or ignore rule suppressed, with why. */
  suppressed: Finding[];
  /** What could not be evaluated and why (never silently dropped). */
  notes: string[];
  /** Per image digest, what changed since its previous stored scan (when results are stored). */
  changes?: ScanChangesByDigest[];
}

export interface ScanChangesByDigest {
  digest: string;
  /** When the previous scan of this digest ran; undefined for a first scan. */
  previous?: string;
  new: { id: string; purl: string }[];
  resolved: { id: string; purl: string }[];
}

export type SeveritySummary = Record<SeverityLevel, number>;

/** Counts of the findings that count (suppressed ones excluded), by severity. */
export function summariseBySeverity(report: Pick<ScanReport, "findings">): SeveritySummary {
  const summary = Object.fromEntries(severityLevels.map((l) => [l, 0])) as SeveritySummary;
  for (const f of report.findings) summary[f.severity.level]++;
  return summary;
}

/** Findings at or above a severity (UNKNOWN never meets a threshold). */
export function findingsAtOrAbove(report: Pick<ScanReport, "findings">, level: SeverityLevel): Finding[] {
  const min = severityRank(level);
  return report.findings.filter(
    (f) => f.severity.level !== "UNKNOWN" && severityRank(f.severity.level) >= min,
  );
}

/** Worst first, then by package and id: the order every writer uses. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity.level) - severityRank(a.severity.level) ||
    (b.severity.score ?? 0) - (a.severity.score ?? 0) ||
    cmp(a.package.name, b.package.name) ||
    cmp(a.package.version, b.package.version) ||
    cmp(a.id, b.id) ||
    cmp(a.platform ?? "", b.platform ?? "")
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One report from several (the platforms of one image): findings keep their platform. */
export function mergeReports(reports: readonly ScanReport[]): ScanReport {
  const [first, ...rest] = reports;
  if (first === undefined) throw new Error("mergeReports: no report");
  if (rest.length === 0) return first;
  const { platform: _p, digest: _d, ...source } = first.source;
  return {
    ...first,
    source,
    packages: reports.reduce((n, r) => n + r.packages, 0),
    findings: reports.flatMap((r) => r.findings).sort(compareFindings),
    suppressed: reports.flatMap((r) => r.suppressed).sort(compareFindings),
    notes: [...new Set(reports.flatMap((r) => r.notes))].sort(),
    ...(reports.some((r) => r.changes) ? { changes: reports.flatMap((r) => r.changes ?? []) } : {}),
  };
}
