/**
 * A scan report in GitLab's container-scanning report format (the
 * `container_scanning` artifact report, schema 15.x), so findings show in
 * merge requests and the vulnerability report like those of GitLab's own
 * scanner.
 */
import { createHash } from "node:crypto";
import type { Finding, ScanReport } from "../vuln/report/model.js";
import type { SeverityLevel } from "../vuln/severity/severity.js";

export const GITLAB_REPORT_VERSION = "15.0.7";

const SEVERITY: Record<SeverityLevel, string> = {
  CRITICAL: "Critical",
  HIGH: "High",
  MEDIUM: "Medium",
  LOW: "Low",
  NONE: "Info",
  UNKNOWN: "Unknown",
};

/** GitLab's report times have no zone or fraction: `2024-01-15T08:30:00`. */
function gitlabTime(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19);
}

/** A UUID derived from the finding, so the same finding keeps its id across pipelines. */
function findingUuid(image: string, finding: Finding): string {
  const hex = createHash("sha256")
    .update(`${image}\u0000${finding.id}\u0000${finding.package.purl}`)
    .digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

function identifier(id: string): { type: string; name: string; value: string; url?: string } {
  if (/^CVE-\d{4}-\d+$/.test(id)) {
    return { type: "cve", name: id, value: id, url: `https://nvd.nist.gov/vuln/detail/${id}` };
  }
  if (/^GHSA-/.test(id))
    return { type: "ghsa", name: id, value: id, url: `https://github.com/advisories/${id}` };
  return {
    type: id.split("-", 1)[0]?.toLowerCase() || "osv",
    name: id,
    value: id,
    url: `https://osv.dev/vulnerability/${id}`,
  };
}

export interface GitlabReportOptions {
  /** The image as GitLab should show it: `registry.example.com/team/app:1.2.0`. */
  image: string;
  toolVersion: string;
  startedAt: string;
  finishedAt: string;
}

export function toGitlabContainerScanning(
  report: ScanReport,
  options: GitlabReportOptions,
): Record<string, unknown> {
  const tool = {
    id: "shipgate",
    name: "shipgate",
    version: options.toolVersion,
    vendor: { name: "shipgate" },
  };
  const os = report.distro ? `${report.distro.id} ${report.distro.versionId ?? ""}`.trim() : undefined;
  return {
    version: GITLAB_REPORT_VERSION,
    scan: {
      analyzer: tool,
      scanner: tool,
      type: "container_scanning",
      start_time: gitlabTime(options.startedAt),
      end_time: gitlabTime(options.finishedAt),
      status: "success",
    },
    vulnerabilities: report.findings.map((f) => ({
      id: findingUuid(options.image, f),
      name: f.id,
      description: f.summary ?? `${f.id} in ${f.package.name} ${f.package.version}`,
      severity: SEVERITY[f.severity.level],
      solution:
        f.fixedIn.length > 0
          ? `Upgrade ${f.package.name} from ${f.package.version} to ${f.fixedIn[0]}`
          : "No fixed version is known yet",
      identifiers: [f.id, ...f.aliases].map(identifier),
      links: f.references.map((url) => ({ url })),
      location: {
        dependency: { package: { name: f.package.name }, version: f.package.version },
        ...(os ? { operating_system: os } : {}),
        image: options.image,
      },
    })),
    remediations: [],
  };
}
