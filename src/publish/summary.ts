/**
 * What a person reads after a pipeline run: a Markdown job summary (GitHub
 * renders it on the run's page) and the annotations for findings and
 * failures.
 */
import type { Finding, ScanReport } from "../vuln/report/model.js";
import { type SeverityLevel, severityRank } from "../vuln/severity/severity.js";
import type { BuildInfo } from "./build-info.js";
import { type Annotation, cell } from "./github.js";

const STATUS_ICON = { done: "✅", skipped: "⏭️", failed: "❌" } as const;

export function markdownSummary(info: BuildInfo, report: ScanReport | undefined, maxFindings = 50): string {
  const lines: string[] = ["## shipgate publish", ""];
  lines.push(`**Image:** \`${info.image.repository}@${info.image.digest}\``);
  if (info.image.tags.length > 0)
    lines.push(`**Tags:** ${info.image.tags.map((t) => `\`${t}\``).join(", ")}`);
  if (info.source.commit) lines.push(`**Commit:** \`${info.source.commit}\``);
  lines.push("", "| step | result | time | detail |", "| --- | --- | ---: | --- |");
  for (const step of info.steps) {
    lines.push(
      `| ${step.name} | ${STATUS_ICON[step.status]} ${step.status} | ${step.seconds.toFixed(1)} s | ${cell(step.detail ?? "")} |`,
    );
  }
  if (info.scan) {
    const s = info.scan;
    lines.push(
      "",
      "| critical | high | medium | low | unknown | gate |",
      "| ---: | ---: | ---: | ---: | ---: | --- |",
      `| ${s.critical} | ${s.high} | ${s.medium} | ${s.low} | ${s.unknown} | ${s.failOn ? `${s.passed ? "passed" : "failed"} (fail on ${s.failOn})` : "none"} |`,
    );
  }
  if (report && report.findings.length > 0) {
    const sorted = [...report.findings].sort(
      (a, b) => severityRank(b.severity.level) - severityRank(a.severity.level),
    );
    lines.push("", "| severity | id | package | installed | fixed in |", "| --- | --- | --- | --- | --- |");
    for (const f of sorted.slice(0, maxFindings)) {
      lines.push(
        `| ${f.severity.level.toLowerCase()} | ${cell(f.id)} | ${cell(f.package.name)} | ${cell(f.package.version)} | ${cell(f.fixedIn.join(", ") || "—")} |`,
      );
    }
    if (sorted.length > maxFindings)
      lines.push("", `…and ${sorted.length - maxFindings} more (see the SARIF report).`);
  }
  return `${lines.join("\n")}\n`;
}

/** One annotation per finding at or above the gate (errors) — at most `max`, worst first. */
export function findingAnnotations(
  findings: readonly Finding[],
  failOn: SeverityLevel | undefined,
  max = 50,
): Annotation[] {
  const threshold = failOn === undefined ? Number.POSITIVE_INFINITY : severityRank(failOn);
  return [...findings]
    .sort((a, b) => severityRank(b.severity.level) - severityRank(a.severity.level))
    .slice(0, max)
    .map((f) => ({
      level: severityRank(f.severity.level) >= threshold ? "error" : "warning",
      title: `${f.id}: ${f.package.name} ${f.package.version} (${f.severity.level.toLowerCase()})`,
      message: `${f.summary ?? f.id}${f.fixedIn.length > 0 ? `; fixed in ${f.fixedIn.join(", ")}` : "; no fix yet"}`,
    }));
}
