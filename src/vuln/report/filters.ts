/**
 * What happens to findings after matching, the same for shipgate's own
 * findings and for those read from another scanner's report: severity and
 * fixed-only filters, then VEX suppression (suppressed findings are kept
 * aside with their reason, and no longer count for gates).
 */
import { type IgnoreRule, ignoreSuppression } from "../ignore/ignore.js";
import type { SeverityLevel } from "../severity/severity.js";
import { type VexStatement, vexSuppression } from "../vex/openvex.js";
import { compareFindings, type Finding, type ScanReport } from "./model.js";

export interface FilterOptions {
  /** Keep only findings of these severities. */
  severities?: readonly SeverityLevel[];
  /** Drop findings no fixed version is known for. */
  ignoreUnfixed?: boolean;
  /** OpenVEX statements: not_affected/fixed suppress. */
  vex?: readonly VexStatement[];
  /** Ignore rules (accepted risks); expired ones no longer suppress and are noted. */
  ignore?: readonly IgnoreRule[];
  /** For rule expiry (default now). */
  now?: Date;
}

export function applyFilters(report: ScanReport, options: FilterOptions): ScanReport {
  let findings = report.findings;
  if (options.ignoreUnfixed) findings = findings.filter((f) => f.fixedIn.length > 0);
  if (options.severities?.length) {
    const keep = new Set(options.severities);
    findings = findings.filter((f) => keep.has(f.severity.level));
  }
  const suppressed: Finding[] = [...report.suppressed];
  if (options.vex?.length) {
    const subject = {
      ...(report.source.digest ? { digest: report.source.digest } : {}),
      name: report.source.name,
    };
    findings = findings.filter((f) => {
      const s = vexSuppression(f, options.vex ?? [], subject);
      if (s === undefined) return true;
      suppressed.push({ ...f, suppressed: s });
      return false;
    });
  }
  const notes = [...report.notes];
  if (options.ignore?.length) {
    const now = options.now ?? new Date();
    const expired = new Map<string, number>();
    findings = findings.filter((f) => {
      const { suppression, expired: gone } = ignoreSuppression(f, options.ignore ?? [], now);
      for (const r of gone) {
        const key = `ignore rule ${r.id ?? r.packageName ?? r.purls?.join(" ") ?? ""} in ${r.origin} expired on ${r.expires}: it no longer suppresses`;
        expired.set(key, (expired.get(key) ?? 0) + 1);
      }
      if (suppression === undefined) return true;
      suppressed.push({ ...f, suppressed: suppression });
      return false;
    });
    for (const [note, n] of expired) notes.push(`${note} (${n} finding${n === 1 ? "" : "s"})`);
  }
  return {
    ...report,
    findings: [...findings].sort(compareFindings),
    suppressed: suppressed.sort(compareFindings),
    notes: [...new Set(notes)].sort(),
  };
}
