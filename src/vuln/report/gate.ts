/**
 * The `--fail-on` gate, as a library call the promotion gate can share:
 * any finding at or above the level that survived VEX and ignore rules
 * fails it (UNKNOWN never does: no severity is not a verdict).
 */
import { ShipgateError } from "../../errors.js";
import type { SeverityLevel } from "../severity/severity.js";
import { findingsAtOrAbove, type ScanReport } from "./model.js";

export function failOnGate(reports: readonly ScanReport[], level: SeverityLevel): void {
  const over = reports.flatMap((r) => findingsAtOrAbove(r, level).map((f) => ({ f, name: r.source.name })));
  if (over.length === 0) return;
  const names = [...new Set(over.map((o) => o.name))];
  const ids = [...new Set(over.map((o) => o.f.id))];
  throw new ShipgateError(
    "VULNERABILITIES_FOUND",
    `${over.length} finding${over.length === 1 ? "" : "s"} at or above ${level} in ` +
      `${names.slice(0, 3).join(", ")}${names.length > 3 ? ", ..." : ""}: ` +
      `${ids.slice(0, 5).join(", ")}${ids.length > 5 ? ", ..." : ""}`,
    { hint: "upgrade to the fixed versions, or record an analysis with --vex FILE (OpenVEX not_affected)" },
  );
}
