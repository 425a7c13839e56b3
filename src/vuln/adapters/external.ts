/**
 * Trivy (`--format json`, SchemaVersion 2) and Grype (`-o json`) reports
 * read into shipgate's finding model, so their results go through the same
 * VEX, filters, gates and writers. The tool's own severity label is kept
 * (it is that tool's verdict, often a distro's rating); a CVSS vector it
 * carries is scored and shown beside it.
 */
import { ShipgateError } from "../../errors.js";
import type { SbomSource } from "../../sbom/model.js";
import { compareFindings, type Finding, type ScanReport } from "../report/model.js";
import { cvss3BaseScore } from "../severity/cvss3.js";
import { labelLevel, type Severity } from "../severity/severity.js";

type Json = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Json =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};

function labelled(label: string | undefined, record: string, vector?: string): Severity {
  const level = label ? labelLevel(label) : undefined;
  const scored = vector ? cvss3BaseScore(vector) : undefined;
  return {
    level: level ?? "UNKNOWN",
    source: level ? "database" : "none",
    record,
    ...(scored ? { score: scored.score, vector: scored.vector } : {}),
  };
}

function report(
  source: SbomSource,
  scanner: ScanReport["scanner"],
  findings: Finding[],
  scannedAt: string,
  packages: number,
): ScanReport {
  return {
    schema: "shipgate.scan/v1",
    source,
    scanner,
    scannedAt,
    packages,
    findings: findings.sort(compareFindings),
    suppressed: [],
    notes: [],
  };
}

export function fromTrivy(json: Json, where: string): ScanReport {
  const results = arr(json.Results);
  const findings: Finding[] = [];
  let packages = 0;
  for (const r of results.map(obj)) {
    packages += arr(r.Packages).length;
    const ecosystem = str(r.Type) ?? "unknown";
    for (const v of arr(r.Vulnerabilities).map(obj)) {
      const id = str(v.VulnerabilityID);
      const name = str(v.PkgName);
      const version = str(v.InstalledVersion);
      if (!id || !name || version === undefined) {
        throw new ShipgateError(
          "SBOM_INVALID",
          `${where}: a Trivy vulnerability without VulnerabilityID/PkgName/InstalledVersion`,
        );
      }
      const purl =
        str(obj(v.PkgIdentifier).PURL) ??
        `pkg:generic/${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
      const cvss = obj(obj(v.CVSS)[str(v.SeveritySource) ?? "nvd"] ?? obj(v.CVSS).nvd);
      const path = str(v.PkgPath) ?? str(r.Target);
      findings.push({
        id,
        aliases: [],
        records: [id],
        package: { name, version, type: ecosystem, purl, ecosystem, locations: path ? [path] : [] },
        severity: labelled(
          str(v.Severity),
          `trivy:${str(v.SeveritySource) ?? "unknown"}`,
          str(cvss.V3Vector),
        ),
        fixedIn: (str(v.FixedVersion) ?? "").split(/,\s*/).filter((x) => x !== ""),
        ...((str(v.Title) ?? str(v.Description))
          ? { summary: (str(v.Title) ?? str(v.Description)) as string }
          : {}),
        references: [str(v.PrimaryURL), ...arr(v.References).map(str)]
          .filter((x): x is string => !!x)
          .slice(0, 20),
        notes:
          str(v.Status) && v.Status !== "fixed" && v.Status !== "affected"
            ? [`Trivy status: ${v.Status}`]
            : [],
      });
    }
  }
  const name = str(json.ArtifactName) ?? where;
  const kind = str(json.ArtifactType) === "container_image" ? "image" : "directory";
  const digest = arr(obj(json.Metadata).RepoDigests)
    .map(str)
    .find((d) => d?.includes("@"))
    ?.split("@")[1];
  return report(
    { kind, name, ...(digest ? { digest } : {}) },
    {
      name: "trivy",
      ...(str(obj(json.Trivy).Version) ? { version: str(obj(json.Trivy).Version) as string } : {}),
    },
    findings,
    str(json.CreatedAt) ?? new Date(0).toISOString(),
    packages,
  );
}

export function fromGrype(json: Json, where: string): ScanReport {
  const findings: Finding[] = [];
  for (const m of arr(json.matches).map(obj)) {
    const v = obj(m.vulnerability);
    const a = obj(m.artifact);
    const id = str(v.id);
    const name = str(a.name);
    const version = str(a.version);
    if (!id || !name || version === undefined) {
      throw new ShipgateError(
        "SBOM_INVALID",
        `${where}: a Grype match without vulnerability.id/artifact.name/version`,
      );
    }
    const type = str(a.type) ?? "unknown";
    const purl = str(a.purl) ?? `pkg:generic/${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
    const vector = arr(v.cvss)
      .map(obj)
      .map((c) => str(c.vector))
      .find((x) => x?.startsWith("CVSS:3"));
    const related = arr(m.relatedVulnerabilities)
      .map((r) => str(obj(r).id))
      .filter((x): x is string => !!x && x !== id);
    const fix = obj(v.fix);
    findings.push({
      id,
      aliases: [...new Set(related)].sort(),
      records: [id],
      package: {
        name,
        version,
        type,
        purl,
        ecosystem: type,
        locations: arr(a.locations)
          .map((l) => str(obj(l).path))
          .filter((x): x is string => !!x),
      },
      severity: labelled(
        str(v.severity),
        `grype:${str(v.dataSource) ?? str(v.namespace) ?? "unknown"}`,
        vector,
      ),
      fixedIn: arr(fix.versions)
        .map(str)
        .filter((x): x is string => !!x),
      ...(str(v.description) ? { summary: str(v.description) as string } : {}),
      references: arr(v.urls)
        .map(str)
        .filter((x): x is string => !!x)
        .slice(0, 20),
      notes: str(fix.state) && fix.state !== "fixed" ? [`Grype fix state: ${fix.state}`] : [],
    });
  }
  const source = obj(json.source);
  const target = obj(source.target);
  const name = str(target.userInput) ?? str(source.target) ?? where;
  const digest = str(target.manifestDigest);
  const descriptor = obj(json.descriptor);
  return report(
    { kind: str(source.type) === "image" ? "image" : "directory", name, ...(digest ? { digest } : {}) },
    { name: "grype", ...(str(descriptor.version) ? { version: str(descriptor.version) as string } : {}) },
    findings,
    str(descriptor.timestamp) ?? new Date(0).toISOString(),
    new Set(findings.map((f) => f.package.purl)).size,
  );
}

/** Reads a Trivy or Grype JSON report, whichever it is. */
export function readScannerReport(text: string, where: string): ScanReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ShipgateError("SBOM_INVALID", `${where}: not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const o = obj(json);
  if ("SchemaVersion" in o && "Results" in o) return fromTrivy(o, where);
  if (Array.isArray(o.matches)) return fromGrype(o, where);
  if ("SchemaVersion" in o) return fromTrivy(o, where);
  throw new ShipgateError("SBOM_INVALID", `${where}: neither a Trivy nor a Grype JSON report`, {
    hint: "produce it with `trivy image --format json` or `grype -o json`",
  });
}
