/**
 * `shipgate scan --rescan-all`: every stored SBOM re-matched against the
 * current database, printed as it is done. A thousand reports held until
 * the end were most of the run's memory and a good part of its time (the
 * garbage collector's); only what the summary, the gate and `--alert` need
 * is kept.
 */
import type { dbStatus } from "../../vuln/db/status.js";
import { openVulnDb } from "../../vuln/db/store.js";
import type { ScanOptions } from "../../vuln/match/scan.js";
import { failOnGate } from "../../vuln/report/gate.js";
import { findingsAtOrAbove, type ScanReport } from "../../vuln/report/model.js";
import { rescanEach, rescanRow, rescanSummaryEntry } from "../../vuln/results/rescan.js";
import { openResultsStore } from "../../vuln/results/store.js";
import type { SeverityLevel } from "../../vuln/severity/severity.js";
import { usage } from "../context.js";
import { shortDigest, table } from "../format.js";

export interface RescanRun {
  resultsPath: string;
  dbPath: string;
  /** How the output looks: --json (or --format json), else a table. */
  json: boolean;
  format?: string;
  filters: ScanOptions;
  failOn?: SeverityLevel;
  /** The database age limit (read after the stores are opened, as before). */
  maxAgeDays: () => number;
  warnStale: (status: Awaited<ReturnType<typeof dbStatus>>) => void;
  status: typeof dbStatus;
  /** --alert: called with every scanned digest's report once the output is printed. */
  alert?: (scanned: readonly { digest: string; report: ScanReport }[]) => Promise<void>;
}

/**
 * Writes stdout in pieces of at least 64 KiB: a thousand small writes cost
 * more than the text; the bytes are the same as one write at the end.
 */
class Out {
  private parts: string[] = [];
  private size = 0;

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 65_536) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    process.stdout.write(this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }
}

/** One element of a pretty-printed (2-space) top-level JSON array: JSON strings hold no raw newlines. */
function arrayElement(value: unknown): string {
  return `  ${JSON.stringify(value, null, 2).replaceAll("\n", "\n  ")}`;
}

export async function runRescan(run: RescanRun): Promise<void> {
  if (!run.json && run.format !== undefined && run.format !== "table") {
    throw usage(`--rescan-all prints a table or --json, not ${run.format}`);
  }
  const out = new Out();
  const rows: string[][] = [];
  const newLines: string[] = [];
  const over: ScanReport[] = [];
  const scanned: { digest: string; report: ScanReport }[] = [];
  let count = 0;
  const results = await openResultsStore(run.resultsPath);
  try {
    const db = await openVulnDb(run.dbPath);
    try {
      run.warnStale(await run.status(db, { maxAgeDays: run.maxAgeDays(), counts: false }));
      for await (const r of rescanEach(results, db, run.filters)) {
        if (run.json) out.write(`${count === 0 ? "[\n" : ",\n"}${arrayElement(rescanSummaryEntry(r))}`);
        else {
          rows.push(rescanRow(r, shortDigest));
          for (const n of r.changes.previous === undefined ? [] : r.changes.new)
            newLines.push(`new: ${n.id} in ${n.purl} (${r.source})\n`);
        }
        count++;
        if (run.failOn !== undefined) {
          // The gate needs only the findings over its level (and the source's name).
          const findings = findingsAtOrAbove(r.report, run.failOn);
          if (findings.length > 0) over.push({ ...r.report, findings, suppressed: [], notes: [] });
        }
        if (run.alert) scanned.push({ digest: r.digest, report: r.report });
      }
    } finally {
      await db.close();
    }
  } finally {
    await results.close();
  }
  if (run.json) out.write(count === 0 ? "[]\n" : "\n]\n");
  else if (rows.length === 0)
    out.write("no stored SBOMs: scan an image first (results are stored per digest)\n");
  else {
    out.write(
      `${table(["DIGEST", "SOURCE", "PLATFORM", "FINDINGS", "C/H/M/L", "NEW", "RESOLVED"], rows, new Set([3, 5, 6]))}\n`,
    );
    for (const line of newLines) out.write(line);
  }
  out.flush();
  if (run.alert) await run.alert(scanned);
  if (run.failOn !== undefined) failOnGate(over, run.failOn);
}
