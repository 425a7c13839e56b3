import { type ApplyReport } from "../../retention/apply.js";
import type { RetentionPlan } from "../../retention/model.js";
import { humanSize, shortDigest, table } from "../format.js";

// How `shipgate clean` shows its plans and what it did.

export function tagCounter(label: string): { update(done: number, total: number): void; finish(): void } {
  const started = Date.now();
  let drawn = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (!process.stderr.isTTY || now - started < 1000 || now - drawn < 100) return;
      drawn = now;
      process.stderr.write(`\r\u001b[2K${label}: ${done}/${total} tags read`);
    },
    finish() {
      if (drawn > 0) process.stderr.write("\r\u001b[2K");
    },
  };
}

export function renderPlan(plan: RetentionPlan): string {
  const lines = [`Plan for ${plan.repository} (${plan.source}; ages from ${plan.now})`];
  const created = new Map(plan.digests.map((d) => [d.digest, d.created?.slice(0, 10) ?? "-"]));
  const rows = plan.tags.map((t) => [
    t.tag,
    shortDigest(t.digest),
    created.get(t.digest) ?? "-",
    t.action,
    t.rule,
    t.detail ?? "",
  ]);
  if (rows.length > 0) lines.push(table(["TAG", "DIGEST", "CREATED", "ACTION", "RULE", "DETAIL"], rows));
  const untagged = plan.digests.filter(
    (d) => d.tags.length === 0 && (d.role !== "attachment" || d.action === "delete"),
  );
  if (untagged.length > 0) {
    lines.push("", "Untagged manifests and attachments:");
    lines.push(
      table(
        ["DIGEST", "ROLE", "CREATED", "ACTION", "RULE", "DETAIL"],
        untagged.map((d) => [
          shortDigest(d.digest),
          d.role,
          d.created?.slice(0, 10) ?? "-",
          d.action,
          d.rule,
          d.detail ?? "",
        ]),
      ),
    );
  }
  const t = plan.totals;
  // A layout's blobs stay on disk after their index.json entries go (as with shipgate rm).
  const freed = /^(store|oci):/.test(plan.repository)
    ? `${humanSize(t.bytesFreed)} no longer referenced (the blobs stay in the layout)`
    : `${humanSize(t.bytesFreed)} freed once the registry collects garbage`;
  lines.push(
    "",
    `Totals: ${t.tags} tags (${t.keptTags} kept, ${t.deletedTags} deleted); ${t.deletedManifests} of ${t.manifests} manifests deleted; ${freed}`,
  );
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n");
}

export function renderReport(report: ApplyReport): string {
  const done = report.outcomes.filter((o) => o.status === "done").length;
  const gone = report.outcomes.length - done;
  const lines = [
    `${report.repository}: ${done} step(s) done, ${gone} already done before, ${humanSize(report.bytesFreed)} ${/^(store|oci):/.test(report.repository) ? "no longer referenced" : "freed"}`,
  ];
  if (report.swept.length > 0)
    lines.push(
      `removed ${report.swept.length} tag(s) that pointed at no manifest: ${report.swept.join(", ")}`,
    );
  if (report.failed !== undefined) {
    const s = report.failed.step;
    lines.push(
      `stopped at ${s.op === "delete-tag" ? `tag ${s.tag}` : `manifest ${s.digest}`}: ${report.failed.message}`,
    );
    lines.push(`not done: ${report.remaining.length + 1} step(s); run shipgate clean again to finish`);
  }
  return lines.join("\n");
}
