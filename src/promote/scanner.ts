/**
 * The vulnerability scanner behind the vulnerabilities gate: the image's
 * attached SBOM (or, when none is attached, one generated from its layers)
 * matched against the local OSV database. An empty or missing database is
 * an error, never a pass with zero findings.
 */
import { existsSync } from "node:fs";
import { ShipgateError } from "../errors.js";
import { getAttachedSboms } from "../sbom/attach.js";
import { readSbom } from "../sbom/formats/read.js";
import { generateSboms } from "../sbom/generate.js";
import type { Sbom } from "../sbom/model.js";
import { openVulnDb } from "../vuln/db/store.js";
import { scanSbom } from "../vuln/match/scan.js";
import type { SeverityLevel } from "../vuln/severity/severity.js";
import type { Severity, VulnScanner } from "./gates/types.js";

const LEVELS: Record<SeverityLevel, Severity> = {
  CRITICAL: "critical",
  HIGH: "high",
  MEDIUM: "medium",
  LOW: "low",
  NONE: "negligible",
  UNKNOWN: "unknown",
};

export function vulnerabilityScanner(options: { defaultDb: string }): VulnScanner {
  return {
    async scan(location, { db, open }) {
      const path = db ?? options.defaultDb;
      if (!existsSync(path)) {
        throw new ShipgateError("DB_INVALID", `no vulnerability database at ${path}`, {
          hint: "load one with `shipgate db import DIR` or `shipgate db update`",
        });
      }
      const attached = await getAttachedSboms(location, { open });
      const first = attached[0];
      const sboms: Sbom[] = first
        ? [readSbom(first.bytes, "the attached SBOM")]
        : await generateSboms({ kind: "image", location }, { open });
      const vulndb = await openVulnDb(path);
      try {
        const records = await vulndb.totalRecords();
        if (records === 0) {
          throw new ShipgateError("DB_INVALID", `the vulnerability database ${path} is empty`, {
            hint: "load it with `shipgate db import DIR` or `shipgate db update`",
          });
        }
        const reports = [];
        for (const sbom of sboms) reports.push(await scanSbom(sbom, vulndb));
        return {
          findings: reports.flatMap((r) =>
            r.findings.map((f) => ({
              id: f.id,
              aliases: f.aliases,
              severity: LEVELS[f.severity.level],
              package: { name: f.package.name, version: f.package.version, purl: f.package.purl },
            })),
          ),
          scannedAt: new Date().toISOString(),
          stored: false,
          database: `${path} (${records} records)`,
          sbom: first ? `attached (${first.format})` : "generated from the image",
        };
      } finally {
        await vulndb.close();
      }
    },
  };
}
