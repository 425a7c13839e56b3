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
import { findScan, saveScan } from "../store/scans.js";
import { openVulnDb } from "../vuln/db/store.js";
import { scanSbom } from "../vuln/match/scan.js";
import type { SeverityLevel } from "../vuln/severity/severity.js";
import type { Severity, VulnFinding, VulnScanner } from "./gates/types.js";

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
    async scan(location, { digest, db, open, store, maxAgeMs, now = new Date() }) {
      const path = db ?? options.defaultDb;
      if (!existsSync(path)) {
        throw new ShipgateError("DB_INVALID", `no vulnerability database at ${path}`, {
          hint: "load one with `shipgate db import DIR` or `shipgate db update`",
        });
      }
      const vulndb = await openVulnDb(path);
      try {
        const records = await vulndb.totalRecords();
        if (records === 0) {
          throw new ShipgateError("DB_INVALID", `the vulnerability database ${path} is empty`, {
            hint: "load it with `shipgate db import DIR` or `shipgate db update`",
          });
        }
        const database = `${path} (${records} records)`;
        // The database's state: a scan against another state (new records, an update) is stale.
        const state = JSON.stringify(await vulndb.status());
        if (store && maxAgeMs !== undefined) {
          const stored = await findScan<VulnFinding>(
            store,
            digest,
            state,
            new Date(now.getTime() - maxAgeMs),
          );
          if (stored)
            return {
              findings: stored.findings,
              scannedAt: stored.scannedAt,
              stored: true,
              database,
              sbom: "stored scan",
            };
        }
        const attached = await getAttachedSboms(location, { open });
        const first = attached[0];
        const sboms: Sbom[] = first
          ? [readSbom(first.bytes, "the attached SBOM")]
          : await generateSboms({ kind: "image", location }, { open });
        const findings: VulnFinding[] = [];
        for (const sbom of sboms) {
          const report = await scanSbom(sbom, vulndb);
          for (const f of report.findings) {
            findings.push({
              id: f.id,
              aliases: f.aliases,
              severity: LEVELS[f.severity.level],
              package: { name: f.package.name, version: f.package.version, purl: f.package.purl },
            });
          }
        }
        const scannedAt = now.toISOString();
        if (store) await saveScan(store, { digest, database: state, scannedAt, findings });
        return {
          findings,
          scannedAt,
          stored: false,
          database,
          sbom: first ? `attached (${first.format})` : "generated from the image",
        };
      } finally {
        await vulndb.close();
      }
    },
  };
}
