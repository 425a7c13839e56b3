/**
 * The vulnerability scanning library: what the CLI, the promotion gate and
 * the server call. `scanSbom(sbom, db, options)` over `openVulnDb(path)`,
 * then `summariseBySeverity(report)` or `failOnGate([report], level)`.
 */
export { fromGrype, fromTrivy, readScannerReport } from "./adapters/external.js";
export { type ExternalScanner, runScanner } from "./adapters/run.js";
export { type ImportResult, importPath } from "./db/import.js";
export { type DbStatus, DEFAULT_MAX_AGE_DAYS, dbStatus } from "./db/status.js";
export { defaultVulnDbPath, openVulnDb, VulnDb } from "./db/store.js";
export { DEFAULT_ECOSYSTEMS, type UpdateOptions, updateDb } from "./db/update.js";
export { type IgnoreRule, loadIgnoreFile, parseIgnoreFile } from "./ignore/ignore.js";
export { type ScanOptions, scanSbom } from "./match/scan.js";
export { type OsvRecord, parseOsvRecord } from "./osv/schema.js";
export { toCycloneDxVex } from "./report/cyclonedx-vex.js";
export { applyFilters, type FilterOptions } from "./report/filters.js";
export { failOnGate } from "./report/gate.js";
export {
  type Finding,
  findingsAtOrAbove,
  mergeReports,
  type ScanReport,
  type SeveritySummary,
  summariseBySeverity,
} from "./report/model.js";
export { toSarif } from "./report/sarif.js";
export { type RescanResult, rescanAll } from "./results/rescan.js";
export { openResultsStore, ResultsStore } from "./results/store.js";
export { cvss2BaseScore } from "./severity/cvss2.js";
export { cvss3BaseScore } from "./severity/cvss3.js";
export { cvss4BaseScore } from "./severity/cvss4.js";
export { type Severity, type SeverityLevel, severityLevels } from "./severity/severity.js";
export { loadOpenVex, parseOpenVex, type VexStatement } from "./vex/openvex.js";
