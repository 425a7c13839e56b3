/**
 * Continuous scanning: every stored SBOM re-matched against the current
 * database (no image is pulled), each scan recorded, and what is new since
 * the previous scan reported.
 */
import type { VulnDb } from "../db/store.js";
import { MatchCache, type ScanOptions, scanSbom } from "../match/scan.js";
import { type ScanReport, summariseBySeverity } from "../report/model.js";
import type { ResultsStore, ScanChanges } from "./store.js";

export interface RescanResult {
  digest: string;
  source: string;
  platform?: string;
  report: ScanReport;
  changes: ScanChanges;
}

export async function rescanAll(
  store: ResultsStore,
  db: VulnDb,
  options: ScanOptions = {},
): Promise<RescanResult[]> {
  const out: RescanResult[] = [];
  // Stored images share most package versions: each is matched once per rescan.
  const scanOptions = { ...options, cache: options.cache ?? new MatchCache() };
  for (const digest of await store.sbomDigests()) {
    const sbom = await store.sbom(digest);
    if (sbom === undefined) continue;
    const report = await scanSbom(sbom, db, scanOptions);
    const changes = await store.recordScan(digest, report, summariseBySeverity(report));
    out.push({
      digest,
      source: sbom.source.name,
      ...(sbom.source.platform ? { platform: sbom.source.platform } : {}),
      report,
      changes,
    });
  }
  return out;
}

/** The machine-readable summary `scan --rescan-all --json` prints: one entry per stored digest. */
export function rescanSummary(results: readonly RescanResult[]): Record<string, unknown>[] {
  return results.map((r) => ({
    digest: r.digest,
    source: r.source,
    ...(r.platform ? { platform: r.platform } : {}),
    summary: summariseBySeverity(r.report),
    findings: r.report.findings.length,
    changes: r.changes,
  }));
}

/** Table rows: digest, source, platform, findings, C/H/M/L counts, new, resolved. */
export function rescanRows(results: readonly RescanResult[], short: (digest: string) => string): string[][] {
  return results.map((r) => {
    const s = summariseBySeverity(r.report);
    return [
      short(r.digest),
      r.source,
      r.platform ?? "",
      String(r.report.findings.length),
      `${s.CRITICAL}/${s.HIGH}/${s.MEDIUM}/${s.LOW}`,
      r.changes.previous === undefined ? "first scan" : String(r.changes.new.length),
      String(r.changes.resolved.length),
    ];
  });
}
