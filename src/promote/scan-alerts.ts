/**
 * `shipgate scan --alert`: a critical CVE found by any scan (not only the
 * promotion's gate) in a digest that was promoted is an incident, so the
 * scan's findings go through the same alertOnFindings as the gate's, once per
 * app the digest was promoted as (the audit trail says which).
 */
import type { Config } from "../policy/config-schema.js";
import { listAudit } from "../store/audit.js";
import type { StoreDb } from "../store/store.js";
import type { ScanReport } from "../vuln/report/model.js";
import type { SeverityLevel } from "../vuln/severity/severity.js";
import { type AlertOutcome, alertOnFindings } from "./alerts.js";
import type { Severity, VulnFinding } from "./gates/types.js";

// The same mapping the promotion's scanner uses (src/promote/scanner.ts).
const LEVELS: Record<SeverityLevel, Severity> = {
  CRITICAL: "critical",
  HIGH: "high",
  MEDIUM: "medium",
  LOW: "low",
  NONE: "negligible",
  UNKNOWN: "unknown",
};

/** A scan report's findings in the gate's shape. */
export function toVulnFindings(report: ScanReport): VulnFinding[] {
  return report.findings.map((f) => ({
    id: f.id,
    aliases: f.aliases,
    severity: LEVELS[f.severity.level],
    package: { name: f.package.name, version: f.package.version, purl: f.package.purl },
  }));
}

export interface ScanAlert extends AlertOutcome {
  app: string;
  digest: string;
}

/** The apps this digest was promoted as, from the audit trail. */
export async function promotedApps(db: StoreDb, digest: string): Promise<string[]> {
  const records = await listAudit({ kind: "promotion", digest }, db);
  return [...new Set(records.map((r) => r.app).filter((a): a is string => a !== null))];
}

/** Alerts for one scanned digest: one outcome per app it was promoted as. */
export async function alertOnScan(
  db: StoreDb,
  config: Config,
  scanned: { digest: string; report: ScanReport; now?: Date },
): Promise<ScanAlert[]> {
  const findings = toVulnFindings(scanned.report);
  const out: ScanAlert[] = [];
  for (const app of await promotedApps(db, scanned.digest)) {
    const outcome = await alertOnFindings(db, config, {
      app,
      digest: scanned.digest,
      findings,
      ...(scanned.now ? { now: scanned.now } : {}),
    });
    out.push({ ...outcome, app, digest: scanned.digest });
  }
  return out;
}
