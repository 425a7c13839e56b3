/**
 * SARIF 2.1.0 (OASIS) for GitHub code scanning and other SARIF consumers:
 * one rule per advisory, one result per (advisory, package, platform). What
 * GitHub needs beyond the schema: a physicalLocation on every result, and a
 * numeric `security-severity` on rules to rank them.
 */
import { severityRank } from "../severity/severity.js";
import type { Finding, ScanReport } from "./model.js";

export const SARIF_SCHEMA =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

type Level = "error" | "warning" | "note" | "none";

function levelOf(f: Finding): Level {
  const rank = severityRank(f.severity.level);
  if (rank >= severityRank("HIGH")) return "error";
  if (rank === severityRank("MEDIUM")) return "warning";
  return "note";
}

/** GitHub's bands: ≥9 critical, ≥7 high, ≥4 medium, else low; labels map to a band's floor. */
function securitySeverity(f: Finding): string {
  if (f.severity.score !== undefined) return f.severity.score.toFixed(1);
  return { CRITICAL: "9.0", HIGH: "7.0", MEDIUM: "4.0", LOW: "0.1", NONE: "0.0", UNKNOWN: "0.0" }[
    f.severity.level
  ];
}

/** SARIF artifact URIs are relative to the scanned root: no leading slash. */
function uriOf(f: Finding, report: ScanReport): string {
  const path = f.package.locations[0];
  if (path !== undefined && path !== "") return encodeURI(path.replace(/^\/+/, ""));
  return encodeURI(report.source.name.replace(/^\/+/, "")) || "sbom";
}

export function toSarif(report: ScanReport, toolVersion: string): Record<string, unknown> {
  const rules: Record<string, unknown>[] = [];
  const ruleIndex = new Map<string, number>();
  for (const f of report.findings) {
    if (ruleIndex.has(f.id)) continue;
    ruleIndex.set(f.id, rules.length);
    const help = [
      f.summary ?? f.id,
      f.aliases.length ? `Also known as: ${f.aliases.join(", ")}` : "",
      f.fixedIn.length ? `Fixed in: ${f.fixedIn.join(", ")}` : "No fixed version known.",
      ...f.references.slice(0, 5),
    ].filter((l) => l !== "");
    rules.push({
      id: f.id,
      name: f.id.replace(/[^A-Za-z0-9]/g, ""),
      shortDescription: { text: f.summary ?? f.id },
      fullDescription: { text: f.summary ?? f.id },
      ...(f.references[0] ? { helpUri: f.references[0] } : {}),
      help: { text: help.join("\n"), markdown: help.join("\n\n") },
      defaultConfiguration: { level: levelOf(f) },
      properties: {
        "security-severity": securitySeverity(f),
        precision: "very-high",
        tags: ["security", "vulnerability", f.severity.level],
      },
    });
  }
  const results = report.findings.map((f) => ({
    ruleId: f.id,
    ruleIndex: ruleIndex.get(f.id) as number,
    level: levelOf(f),
    message: {
      text:
        `${f.package.name} ${f.package.version} is affected by ${f.id} (${f.severity.level}` +
        `${f.severity.score !== undefined ? ` ${f.severity.score}` : ""}).` +
        (f.fixedIn.length ? ` Fixed in ${f.fixedIn.join(", ")}.` : " No fixed version is known.") +
        (f.platform ? ` Platform ${f.platform}.` : ""),
    },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: uriOf(f, report) },
          region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
        },
        message: { text: `${f.package.purl}` },
      },
    ],
    partialFingerprints: { "shipgate/v1": `${f.id}/${f.package.purl}/${f.platform ?? ""}` },
    properties: {
      purl: f.package.purl,
      installedVersion: f.package.version,
      fixedIn: f.fixedIn,
      severitySource: f.severity.source,
      records: f.records,
      ...(f.platform ? { platform: f.platform } : {}),
    },
  }));
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "shipgate",
            version: toolVersion,
            rules,
          },
        },
        results,
        properties: {
          source: report.source.name,
          ...(report.source.digest ? { digest: report.source.digest } : {}),
        },
      },
    ],
  };
}
