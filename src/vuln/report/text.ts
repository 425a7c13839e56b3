/**
 * The rows of the human report, grouped by package (worst package first):
 * the CLI lays them out and colours them. Kept here so the grouping is
 * tested without a terminal.
 */
import { type SeverityLevel, severityLevels, severityRank } from "../severity/severity.js";
import { type Finding, type ScanReport, summariseBySeverity } from "./model.js";

export interface TextRow {
  package: string;
  version: string;
  id: string;
  level: SeverityLevel;
  /** `7.5 v3.1`, `db`, ``. */
  severityDetail: string;
  fixedIn: string;
  title: string;
  platform: string;
}

export function severityDetail(f: Finding): string {
  const s = f.severity;
  if (s.score !== undefined && s.source.startsWith("cvss_v"))
    return `${s.score.toFixed(1)} ${s.source.slice(5)}`;
  if (s.source === "database") return s.score !== undefined ? `${s.score.toFixed(1)} label` : "label";
  return "";
}

export function textRows(findings: readonly Finding[]): TextRow[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.package.purl}\u0000${f.platform ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const worst = (g: Finding[]) => Math.max(...g.map((f) => severityRank(f.severity.level)));
  const ordered = [...groups.values()].sort(
    (a, b) => worst(b) - worst(a) || ((a[0]?.package.name ?? "") < (b[0]?.package.name ?? "") ? -1 : 1),
  );
  const rows: TextRow[] = [];
  for (const group of ordered) {
    group.forEach((f, i) => {
      rows.push({
        package: i === 0 ? f.package.name : "",
        version: i === 0 ? f.package.version : "",
        id: f.id,
        level: f.severity.level,
        severityDetail: severityDetail(f),
        fixedIn: f.fixedIn.join(", "),
        title: (f.summary ?? "").split("\n")[0]?.slice(0, 70) ?? "",
        platform: i === 0 ? (f.platform ?? "") : "",
      });
    });
  }
  return rows;
}

/** `12 vulnerabilities in 8 packages (CRITICAL 2, HIGH 7, MEDIUM 3)`. */
export function summaryLine(report: ScanReport): string {
  const counts = summariseBySeverity(report);
  const packages = new Set(report.findings.map((f) => f.package.purl)).size;
  const parts = severityLevels.filter((l) => counts[l] > 0).map((l) => `${l} ${counts[l]}`);
  const n = report.findings.length;
  return `${n} vulnerabilit${n === 1 ? "y" : "ies"} in ${packages} package${packages === 1 ? "" : "s"}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}
