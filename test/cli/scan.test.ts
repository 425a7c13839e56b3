import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { zipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { toCycloneDx } from "../../src/sbom/formats/cyclonedx.js";
import { generateSboms } from "../../src/sbom/generate.js";
import { runCli, SHARED_IMAGES } from "../helpers/cli.js";

const SHARED = join(import.meta.dirname, "..", "..", "..", "shared");
const VULNDB = join(SHARED, "vulndb");
const SHOP = `oci:${SHARED_IMAGES}:shop-1.4.2`;

interface JsonReport {
  findings: {
    id: string;
    package: { name: string; version: string };
    severity: { level: string; source: string };
    fixedIn: string[];
  }[];
  suppressed: { id: string; suppressed: { status: string; justification?: string } }[];
  summary: Record<string, number>;
}

describe("shipgate scan and db", () => {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-scan-cli-"));
  const db = join(dir, "vulndb.sqlite");
  const sbomFile = join(dir, "shop.cdx.json");

  beforeAll(async () => {
    const imported = await runCli(["db", "import", VULNDB, "--db", db]);
    expect(imported.stderr).toBe("");
    expect(imported.stdout).toBe("imported 233 records (Go 199, PyPI 28, npm 6)\n");
    const [sbom] = await generateSboms(SHOP);
    writeFileSync(sbomFile, toCycloneDx(sbom as never));
  }, 60_000);

  it("db status reports ecosystems and counts, and warns when the data is old", async () => {
    const r = await runCli(["db", "status", "--db", db, "--json"]);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.records).toBe(233);
    expect(
      status.ecosystems.map((e: { ecosystem: string; records: number }) => [e.ecosystem, e.records]),
    ).toEqual([
      ["Go", 199],
      ["PyPI", 28],
      ["npm", 6],
    ]);
    expect(status.warnings).toEqual([]);
    const text = await runCli(["db", "status", "--db", db, "--max-age", "0"]);
    expect(text.stdout).toMatch(/^ECOSYSTEM +RECORDS +UPDATED +ORIGIN$/m);
    expect(text.stderr).toMatch(/warning: npm: data is older than 0 days/);
  });

  it("scans an image: table by package with fixed-in versions, exit 0 without a gate", async () => {
    const r = await runCli(["scan", SHOP, "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PACKAGE +VERSION +VULNERABILITY +SEVERITY +SCORE +FIXED IN +TITLE$/m);
    expect(r.stdout).toMatch(
      /^lodash +4\.17\.15 +CVE-2020-8203 +HIGH +7\.4 v3 +4\.17\.20 +Prototype Pollution in lodash$/m,
    );
    expect(r.stdout).toMatch(
      /95 vulnerabilities in 14 packages \(CRITICAL 3, HIGH 7, MEDIUM 2, UNKNOWN 83\)/,
    );
    // no colour codes off a TTY
    expect(r.stdout).not.toContain("\u001b[");
  }, 60_000);

  it("--fail-on critical exits 1 (VULNERABILITIES_FOUND); an OpenVEX not_affected for them makes the gate pass", async () => {
    const failed = await runCli(["scan", sbomFile, "--db", db, "--fail-on", "critical", "--json"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/error: 3 findings at or above CRITICAL .*CVE-2021-44906/);
    const report = JSON.parse(failed.stdout) as JsonReport;
    expect(report.summary.CRITICAL).toBe(3);

    const vex = join(dir, "vex.json");
    writeFileSync(
      vex,
      JSON.stringify({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/shop",
        author: "security@example.com",
        timestamp: "2024-03-01T00:00:00Z",
        version: 1,
        statements: [
          {
            vulnerability: { name: "CVE-2021-44906" },
            products: [{ "@id": "pkg:npm/minimist" }],
            status: "not_affected",
            justification: "vulnerable_code_not_in_execute_path",
            impact_statement: "minimist parses no untrusted input here",
          },
        ],
      }),
    );
    const passed = await runCli([
      "scan",
      sbomFile,
      "--db",
      db,
      "--fail-on",
      "critical",
      "--vex",
      vex,
      "--json",
    ]);
    expect(passed.code).toBe(0);
    const suppressed = JSON.parse(passed.stdout) as JsonReport;
    expect(suppressed.summary.CRITICAL).toBe(0);
    expect(suppressed.suppressed.map((s) => [s.id, s.suppressed.status, s.suppressed.justification])).toEqual(
      [
        ["CVE-2021-44906", "not_affected", "vulnerable_code_not_in_execute_path"],
        ["CVE-2021-44906", "not_affected", "vulnerable_code_not_in_execute_path"],
        ["CVE-2021-44906", "not_affected", "vulnerable_code_not_in_execute_path"],
      ],
    );
    // still fails at high
    expect(
      (await runCli(["scan", sbomFile, "--db", db, "--fail-on", "high", "--vex", vex, "--json"])).code,
    ).toBe(1);
    const table = await runCli(["scan", sbomFile, "--db", db, "--vex", vex, "--severity", "CRITICAL"]);
    expect(table.stdout).toMatch(
      /Suppressed \(3\):\n {2}CVE-2021-44906 in minimist 0\.0\.8: not_affected: vulnerable_code_not_in_execute_path: minimist parses no untrusted input here/,
    );
  }, 60_000);

  it("scans an SBOM file the same as the image", async () => {
    const fromFile = JSON.parse(
      (await runCli(["scan", sbomFile, "--db", db, "--json"])).stdout,
    ) as JsonReport;
    const ids = fromFile.findings.map((f) => `${f.package.name}@${f.package.version} ${f.id}`);
    expect(ids).toHaveLength(95);
    expect(ids).toContain("lodash@4.17.15 CVE-2020-8203");
    expect(ids).toContain("jsonwebtoken@8.5.1 CVE-2022-23539");
    expect(ids).not.toContain("lodash@4.17.21 CVE-2020-8203");
  });

  it("writes SARIF and CycloneDX VEX", async () => {
    const out = join(dir, "scan.sarif");
    const r = await runCli([
      "scan",
      sbomFile,
      "--db",
      db,
      "--format",
      "sarif",
      "-o",
      out,
      "--ignore-unfixed",
    ]);
    expect(r.code).toBe(0);
    const sarif = JSON.parse(readFileSync(out, "utf8"));
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].tool.driver.name).toBe("shipgate");
    expect(sarif.runs[0].results.length).toBe(95);
    const schemaFile = join(
      import.meta.dirname,
      "..",
      "..",
      "node_modules",
      "@microsoft",
      "jest-sarif",
      "lib",
      "schemas",
      "sarif-2.1.0-rtm.5.json",
    );
    const {
      $schema: _draft,
      id,
      ...schema
    } = JSON.parse(readFileSync(schemaFile, "utf8")) as Record<string, unknown>;
    const validate = new Ajv({ strict: false, validateFormats: false, unicodeRegExp: false }).compile({
      $id: id as string,
      ...schema,
    });
    expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    const vex = JSON.parse(
      (await runCli(["scan", sbomFile, "--db", db, "--format", "cyclonedx-vex"])).stdout,
    );
    expect(vex).toMatchObject({ bomFormat: "CycloneDX", specVersion: "1.6" });
    expect(vex.vulnerabilities).toHaveLength(95);
  });

  it("scans a directory", async () => {
    const root = join(dir, "rootfs");
    mkdirSync(join(root, "app", "node_modules", "minimist"), { recursive: true });
    writeFileSync(
      join(root, "app", "package.json"),
      JSON.stringify({ name: "a", version: "1.0.0", dependencies: { minimist: "1.2.5" } }),
    );
    writeFileSync(
      join(root, "app", "node_modules", "minimist", "package.json"),
      JSON.stringify({ name: "minimist", version: "1.2.5", license: "MIT" }),
    );
    const r = await runCli(["scan", root, "--db", db, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.findings.map((f) => [f.package.name, f.package.version, f.id, f.fixedIn])).toEqual([
      ["minimist", "1.2.5", "CVE-2021-44906", ["1.2.6"]],
    ]);
  });

  it("reads another scanner's report (--from-report) and gates on it", async () => {
    const trivy = join(SHARED, "scanner-outputs", "trivy-npm.json");
    const r = await runCli(["scan", "--from-report", trivy, "--fail-on", "medium", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).findings.map((f: { id: string }) => f.id)).toEqual(["CVE-2019-11358"]);
    expect((await runCli(["scan", "--from-report", trivy, "--fail-on", "high"])).code).toBe(0);
  });

  it("usage errors exit 2; unreachable update sources exit 3 with OFFLINE advice", async () => {
    expect((await runCli(["scan", sbomFile, "--db", db, "--fail-on", "severe"])).code).toBe(2);
    expect((await runCli(["scan", sbomFile, "--db", db, "--format", "xml"])).code).toBe(2);
    expect((await runCli(["scan", "--db", db])).code).toBe(2);
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runCli([
      "db",
      "update",
      "--db",
      join(dir, "other.sqlite"),
      "--mirror",
      `http://127.0.0.1:${port}`,
      "--ecosystem",
      "npm",
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/error: cannot reach 127\.0\.0\.1:\d+/);
    expect(r.stderr).toMatch(/hint: check that the mirror is running/);
    const bad = join(dir, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "X-1.json"), JSON.stringify({ id: "X-1" }));
    const invalid = await runCli(["db", "import", bad, "--db", join(dir, "other.sqlite")]);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toMatch(/X-1\.json: not an OSV record: modified/);
  });

  it("stores results per digest; --rescan-all re-matches them against new data and reports what is new", async () => {
    const small = join(dir, "npm-only.sqlite");
    const results = join(dir, "scans.sqlite");
    expect((await runCli(["db", "import", join(VULNDB, "npm"), "--db", small])).code).toBe(0);
    const first = await runCli(["scan", SHOP, "--db", small, "--results", results, "--json"]);
    expect(JSON.parse(first.stdout).changes).toEqual([
      expect.objectContaining({
        digest: expect.stringMatching(/^sha256:/),
        new: expect.any(Array),
        resolved: [],
      }),
    ]);
    expect((await runCli(["db", "import", join(VULNDB, "PyPI"), "--db", small])).code).toBe(0);
    const r = await runCli(["scan", "--rescan-all", "--db", small, "--results", results, "--json"]);
    expect(r.code).toBe(0);
    // printed as it goes, byte for byte what one JSON.stringify of the whole list gives
    expect(r.stdout).toBe(`${JSON.stringify(JSON.parse(r.stdout), null, 2)}\n`);
    const [shop] = JSON.parse(r.stdout);
    expect(shop.source).toBe(SHOP);
    expect(shop.changes.new.map((n: { id: string; purl: string }) => `${n.id} ${n.purl}`).sort()).toEqual([
      "CVE-2022-23491 pkg:pypi/certifi@2022.9.24",
      "CVE-2023-32681 pkg:pypi/requests@2.28.1",
      "CVE-2023-37920 pkg:pypi/certifi@2022.9.24",
      "CVE-2023-43804 pkg:pypi/urllib3@1.26.12",
      "CVE-2023-45803 pkg:pypi/urllib3@1.26.12",
      "CVE-2024-3651 pkg:pypi/idna@3.3",
    ]);
    const again = await runCli([
      "scan",
      "--rescan-all",
      "--db",
      small,
      "--results",
      results,
      "--fail-on",
      "critical",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error: \d+ findings? at or above CRITICAL in .*shop-1\.4\.2/);
    expect(again.stdout).toMatch(/^DIGEST +SOURCE +PLATFORM +FINDINGS +C\/H\/M\/L +NEW +RESOLVED$/m);
    expect(again.stdout).toMatch(/shop-1\.4\.2 +linux\/amd64 +15 +3\/7\/2\/0 +0 +0$/m);
    const none = join(dir, "no-scans.sqlite");
    const empty = await runCli(["scan", "--rescan-all", "--db", small, "--results", none, "--json"]);
    expect([empty.code, empty.stdout]).toEqual([0, "[]\n"]);
    const emptyTable = await runCli(["scan", "--rescan-all", "--db", small, "--results", none]);
    expect(emptyTable.stdout).toBe("no stored SBOMs: scan an image first (results are stored per digest)\n");
    const sarif = await runCli([
      "scan",
      "--rescan-all",
      "--db",
      small,
      "--results",
      none,
      "--format",
      "sarif",
    ]);
    expect(sarif.code).toBe(2);
    expect(sarif.stderr).toMatch(/--rescan-all prints a table or --json, not sarif/);
  }, 60_000);

  it("db update fetches the configured ecosystems from a mirror", async () => {
    const zip = zipSync(
      Object.fromEntries(
        readdirSync(join(VULNDB, "npm")).map((f) => [
          f,
          new Uint8Array(readFileSync(join(VULNDB, "npm", f))),
        ]),
      ),
    );
    const seen: string[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.url ?? "");
      if (req.url === "/npm/all.zip") res.writeHead(200, { "content-type": "application/zip" }).end(zip);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const target = join(dir, "mirrored.sqlite");
      const r = await runCli(["db", "update", "--db", target, "--mirror", url], {
        env: { SHIPGATE_DB_ECOSYSTEMS: "npm" },
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`npm: 6 records from ${url}/npm/all.zip\n`);
      expect(seen).toEqual(["/npm/all.zip"]);
      const status = JSON.parse((await runCli(["db", "status", "--db", target, "--json"])).stdout);
      expect(status.ecosystems).toEqual([
        expect.objectContaining({ ecosystem: "npm", records: 6, origin: `${url}/npm/all.zip` }),
      ]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("has help with examples", async () => {
    const r = await runCli(["scan", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ shipgate db import/);
  });
});
