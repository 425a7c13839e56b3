/**
 * CycloneDX 1.6 VEX: the scanned packages as components and every finding
 * (suppressed ones too, with their analysis) as a vulnerability that
 * `affects` its component by bom-ref. Deterministic: the serial number is a
 * hash of the content, so the same scan gives the same bytes.
 */
import { createHash } from "node:crypto";
import type { Severity } from "../severity/severity.js";
import type { Finding, ScanReport } from "./model.js";

const methods: Record<string, string> = { cvss_v4: "CVSSv4", cvss_v3: "CVSSv31", cvss_v2: "CVSSv2" };

function rating(s: Severity): Record<string, unknown> {
  const severity = s.level === "UNKNOWN" ? "unknown" : s.level === "NONE" ? "none" : s.level.toLowerCase();
  const method =
    s.source === "cvss_v3" && s.vector?.startsWith("CVSS:3.0") ? "CVSSv3" : (methods[s.source] ?? "other");
  return {
    ...(s.record ? { source: { name: s.record.startsWith("GHSA-") ? "GitHub" : "OSV" } } : {}),
    ...(s.score !== undefined ? { score: s.score } : {}),
    severity,
    method,
    ...(s.vector ? { vector: s.vector } : {}),
  };
}

/** OpenVEX justifications → CycloneDX's impact-analysis justifications. */
const justifications: Record<string, string> = {
  component_not_present: "code_not_present",
  vulnerable_code_not_present: "code_not_present",
  vulnerable_code_not_in_execute_path: "code_not_reachable",
  vulnerable_code_cannot_be_controlled_by_adversary: "protected_by_mitigating_control",
  inline_mitigations_already_exist: "protected_by_mitigating_control",
};

function uuidFrom(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  // RFC 9562 v8-style layout: version and variant bits set, the rest from the hash.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16] ?? "0", 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function vulnerability(f: Finding, index: number): Record<string, unknown> {
  const analysis = f.suppressed
    ? {
        state: f.suppressed.status === "fixed" ? "resolved" : "not_affected",
        ...(f.suppressed.justification && justifications[f.suppressed.justification]
          ? { justification: justifications[f.suppressed.justification] }
          : {}),
        detail: [f.suppressed.justification, f.suppressed.reason, `from ${f.suppressed.origin}`]
          .filter((x) => x)
          .join(": "),
      }
    : undefined;
  const source = f.records[0]?.startsWith("GHSA-")
    ? { name: "GitHub", url: `https://github.com/advisories/${f.records[0]}` }
    : { name: "OSV", url: `https://osv.dev/vulnerability/${f.records[0] ?? f.id}` };
  return {
    "bom-ref": `vuln-${index + 1}-${f.id}`,
    id: f.id,
    source,
    ...(f.aliases.length ? { references: f.aliases.map((id) => ({ id, source: { name: "OSV" } })) } : {}),
    ratings: [rating(f.severity)],
    ...(f.summary ? { description: f.summary } : {}),
    ...(f.fixedIn.length ? { recommendation: `Upgrade ${f.package.name} to ${f.fixedIn.join(" or ")}` } : {}),
    ...(f.references.length ? { advisories: f.references.slice(0, 10).map((url) => ({ url })) } : {}),
    affects: [
      {
        ref: f.package.purl,
        versions: [{ version: f.package.version, status: f.suppressed ? "unaffected" : "affected" }],
      },
    ],
    ...(analysis ? { analysis } : {}),
    ...(f.platform ? { properties: [{ name: "shipgate:platform", value: f.platform }] } : {}),
  };
}

export function toCycloneDxVex(report: ScanReport, toolVersion: string): Record<string, unknown> {
  const all = [...report.findings, ...report.suppressed];
  const components = [...new Map(all.map((f) => [f.package.purl, f.package])).values()]
    .sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0))
    .map((p) => ({ type: "library", "bom-ref": p.purl, name: p.name, version: p.version, purl: p.purl }));
  const body = {
    metadata: {
      timestamp: report.scannedAt,
      tools: { components: [{ type: "application", name: "shipgate", version: toolVersion }] },
      component: {
        type: report.source.kind === "image" ? "container" : "application",
        "bom-ref": report.source.digest ?? report.source.name,
        name: report.source.name,
        ...(report.source.digest ? { version: report.source.digest } : {}),
      },
    },
    components,
    vulnerabilities: all.map(vulnerability),
  };
  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${uuidFrom(JSON.stringify(body))}`,
    version: 1,
    ...body,
  };
}
