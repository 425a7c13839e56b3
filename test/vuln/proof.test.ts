import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSboms } from "../../src/sbom/generate.js";
import type { Sbom } from "../../src/sbom/model.js";
import { importPath } from "../../src/vuln/db/import.js";
import { openVulnDb, type VulnDb } from "../../src/vuln/db/store.js";
import { scanSbom } from "../../src/vuln/match/scan.js";
import { summariseBySeverity } from "../../src/vuln/report/model.js";
import { SHARED_IMAGES } from "../helpers/cli.js";

const VULNDB = join(import.meta.dirname, "..", "..", "..", "shared", "vulndb");
const expected = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "shop-1.4.2.expected.json"), "utf8"),
) as {
  findings: { ecosystem: string; name: string; version: string; record: string }[];
};

describe("scan of shop-1.4.2 against the shared OSV records", () => {
  let db: VulnDb;
  let sbom: Sbom;
  beforeAll(async () => {
    db = await openVulnDb(":memory:");
    await importPath(db, VULNDB);
    [sbom] = (await generateSboms(`oci:${SHARED_IMAGES}:shop-1.4.2`)) as [Sbom];
  }, 60_000);
  afterAll(() => db.close());

  it("finds exactly the (package, record) pairs the fixture works out from the records", async () => {
    const report = await scanSbom(sbom, db);
    const found = report.findings
      .flatMap((f) =>
        f.records.map((record) => ({
          ecosystem: f.package.ecosystem.split(":")[0],
          name: f.package.type === "python" ? f.package.name.toLowerCase() : f.package.name,
          version: f.package.version,
          record,
        })),
      )
      .map((x) => JSON.stringify(x))
      .sort();
    const want = expected.findings.map((x) => JSON.stringify(x)).sort();
    expect(found).toEqual(want);
  });

  it("reports the published advisories for the app's direct dependencies, with the fixed versions", async () => {
    const report = await scanSbom(sbom, db);
    const at = (name: string, version: string) =>
      report.findings
        .filter((f) => f.package.name === name && f.package.version === version)
        .map((f) => [f.id, f.fixedIn]);
    expect(at("lodash", "4.17.15")).toEqual([["CVE-2020-8203", ["4.17.20"]]]);
    expect(at("minimist", "1.2.0")).toEqual([["CVE-2021-44906", ["1.2.6"]]]);
    expect(at("jsonwebtoken", "8.5.1")).toEqual([["CVE-2022-23539", ["9.0.0"]]]);
    expect(at("body-parser", "1.19.0")).toEqual([["CVE-2024-45590", ["1.20.3"]]]);
    expect(at("qs", "6.7.0")).toEqual([["CVE-2022-24999", ["6.7.3"]]]);
    // outside every range: not reported
    expect(at("lodash", "4.17.21")).toEqual([]);
    expect(report.findings.some((f) => f.package.name === "express")).toBe(false);
    expect(report.findings.some((f) => f.package.name.toLowerCase() === "pyyaml")).toBe(false);
  });

  it("computes severity from the vectors and says when it is the database's label", async () => {
    const report = await scanSbom(sbom, db);
    const minimist = report.findings.find((f) => f.package.name === "minimist");
    expect(minimist?.severity).toMatchObject({ level: "CRITICAL", score: 9.8, source: "cvss_v3" });
    const lodash = report.findings.find((f) => f.package.name === "lodash");
    expect(lodash?.severity).toMatchObject({ level: "HIGH", score: 7.4, source: "cvss_v3" });
    // GHSA-8cf7-32gw-wr33 has no vector, only "MODERATE"
    const jwt = report.findings.find((f) => f.package.name === "jsonwebtoken");
    expect(jwt?.severity).toMatchObject({ level: "MEDIUM", source: "database" });
    expect(jwt?.severity.score).toBeUndefined();
    const counts = summariseBySeverity(report);
    expect(counts.CRITICAL).toBe(3);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(expected.findings.length);
  });
});
