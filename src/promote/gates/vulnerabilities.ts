/**
 * Counts of findings by severity against `max`, after exceptions and VEX.
 * An exception suppresses its id (optionally for one package) until the end
 * of its `expires` day (UTC); an expired one suppresses nothing and the
 * evidence lists it, so the report says why a finding came back.
 */

import { resolveFromConfig } from "../../policy/config.js";
import type { VulnerabilitiesGateConfig } from "../../policy/config-schema.js";
import { alertOnFindings } from "../alerts.js";
import { type GateContext, type GateResult, result, type Severity, type VulnFinding } from "./types.js";
import { loadVex, SUPPRESSING, type VexStatement, vexFor } from "./vex.js";

export const SEVERITIES: Severity[] = ["critical", "high", "medium", "low", "negligible", "unknown"];

type Exception = VulnerabilitiesGateConfig["exceptions"][number];

export function exceptionExpired(exception: Exception, now: Date): boolean {
  if (exception.expires === undefined) return false;
  return now.getTime() >= Date.parse(`${exception.expires}T00:00:00Z`) + 86_400_000;
}

function exceptionMatches(exception: Exception, finding: VulnFinding): boolean {
  if (exception.id !== finding.id && !finding.aliases.includes(exception.id)) return false;
  if (exception.package === undefined) return true;
  return exception.package === finding.package.name || finding.package.purl.startsWith(exception.package);
}

export interface VulnDecision {
  counts: Record<Severity, number>;
  over: { severity: Severity; count: number; max: number }[];
  counted: VulnFinding[];
  suppressed: { finding: VulnFinding; by: "exception" | "vex"; why: string }[];
  expiredExceptions: { id: string; expires: string; reason: string; matched: number }[];
}

/** The gate's decision, separate from scanning so it is tested on its own. */
export function decideVulnerabilities(
  findings: readonly VulnFinding[],
  gate: VulnerabilitiesGateConfig,
  vex: readonly VexStatement[],
  digest: string,
  now: Date,
): VulnDecision {
  const active = gate.exceptions.filter((e) => !exceptionExpired(e, now));
  const expired = gate.exceptions.filter((e) => exceptionExpired(e, now));
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const counted: VulnFinding[] = [];
  const suppressed: VulnDecision["suppressed"] = [];
  for (const finding of findings) {
    const exception = active.find((e) => exceptionMatches(e, finding));
    if (exception) {
      suppressed.push({
        finding,
        by: "exception",
        why: `${exception.reason}${exception.expires ? ` (until ${exception.expires})` : ""}`,
      });
      continue;
    }
    const statement = vexFor(finding, digest, vex);
    if (statement && SUPPRESSING.has(statement.status)) {
      suppressed.push({
        finding,
        by: "vex",
        why: `${statement.status}${statement.justification ? `: ${statement.justification}` : ""} (${statement.origin})`,
      });
      continue;
    }
    counts[finding.severity]++;
    counted.push(finding);
  }
  const over = SEVERITIES.flatMap((severity) => {
    const max = gate.max[severity];
    return max !== undefined && counts[severity] > max ? [{ severity, count: counts[severity], max }] : [];
  });
  return {
    counts,
    over,
    counted,
    suppressed,
    expiredExceptions: expired.map((e) => ({
      id: e.id,
      expires: e.expires as string,
      reason: e.reason,
      matched: findings.filter((f) => exceptionMatches(e, f)).length,
    })),
  };
}

function describeCounts(counts: Record<Severity, number>, max: VulnerabilitiesGateConfig["max"]): string {
  return SEVERITIES.filter((s) => counts[s] > 0 || max[s] !== undefined)
    .map((s) => `${counts[s]} ${s}${max[s] !== undefined ? ` (max ${max[s]})` : ""}`)
    .join(", ");
}

export async function vulnerabilitiesGate(
  ctx: GateContext,
  gate: VulnerabilitiesGateConfig,
): Promise<GateResult> {
  const scanner = ctx.deps.scanner;
  if (scanner === undefined)
    return result("vulnerabilities", "error", "no vulnerability scanner is available", {
      code: "UNSUPPORTED",
    });
  const vex = gate.vex.flatMap((p) => loadVex(resolveFromConfig(ctx.loaded, p)));
  const db = gate.db === undefined ? undefined : resolveFromConfig(ctx.loaded, gate.db);
  const scan = await scanner.scan(ctx.location, {
    digest: ctx.digest,
    open: ctx.open,
    store: ctx.store,
    maxAgeMs: gate.max_scan_age,
    now: ctx.now,
    ...(db ? { db } : {}),
  });
  const decision = decideVulnerabilities(scan.findings, gate, vex, ctx.digest, ctx.now);
  // The digest may already run in an earlier environment: what counts is also an incident there.
  const alert = await alertOnFindings(ctx.store, ctx.loaded.config, {
    app: ctx.app,
    digest: ctx.digest,
    findings: decision.counted,
    now: ctx.now,
  });
  const evidence = {
    scannedAt: scan.scannedAt,
    storedScan: scan.stored,
    database: scan.database,
    sbom: scan.sbom,
    max: gate.max,
    counts: decision.counts,
    over: decision.over,
    counted: decision.counted.map((f) => ({
      id: f.id,
      severity: f.severity,
      package: `${f.package.name}@${f.package.version}`,
    })),
    suppressed: decision.suppressed.map((s) => ({
      id: s.finding.id,
      package: s.finding.package.name,
      by: s.by,
      why: s.why,
    })),
    expiredExceptions: decision.expiredExceptions,
    ...(alert.sent ? { alerted: { environments: alert.environments, deliveries: alert.deliveries } } : {}),
  };
  const expiredNote =
    decision.expiredExceptions.length > 0
      ? `; expired exception(s) no longer suppress: ${decision.expiredExceptions.map((e) => `${e.id} (expired ${e.expires})`).join(", ")}`
      : "";
  const suppressedNote = decision.suppressed.length > 0 ? `; ${decision.suppressed.length} suppressed` : "";
  const counts = describeCounts(decision.counts, gate.max) || "no findings";
  if (decision.over.length > 0) {
    const over = decision.over.map((o) => `${o.count} ${o.severity} > ${o.max}`).join(", ");
    return result("vulnerabilities", "fail", `${over}${suppressedNote}${expiredNote}`, evidence);
  }
  return result("vulnerabilities", "pass", `${counts}${suppressedNote}${expiredNote}`, evidence);
}
