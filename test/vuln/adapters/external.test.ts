import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readScannerReport } from "../../../src/vuln/adapters/external.js";
import { applyFilters } from "../../../src/vuln/report/filters.js";
import { findingsAtOrAbove } from "../../../src/vuln/report/model.js";
import { parseOpenVex } from "../../../src/vuln/vex/openvex.js";

const OUTPUTS = join(import.meta.dirname, "..", "..", "..", "..", "shared", "scanner-outputs");
const read = (name: string) => readScannerReport(readFileSync(join(OUTPUTS, name), "utf8"), name);

describe("Trivy and Grype reports", () => {
  it("reads Trivy's image report (OS packages) into findings", () => {
    const r = read("trivy-alpine-310.json");
    expect(r.scanner.name).toBe("trivy");
    expect(r.source).toMatchObject({ kind: "image", name: "testdata/fixtures/images/alpine-310.tar.gz" });
    expect(
      r.findings.map((f) => [f.id, f.package.name, f.package.version, f.fixedIn, f.severity.level]),
    ).toEqual(
      [
        ["CVE-2019-1549", "libcrypto1.1", "1.1.1c-r0", ["1.1.1d-r0"], "MEDIUM"],
        ["CVE-2019-1549", "libssl1.1", "1.1.1c-r0", ["1.1.1d-r0"], "MEDIUM"],
        ["CVE-2019-1551", "libcrypto1.1", "1.1.1c-r0", ["1.1.1d-r2"], "MEDIUM"],
        ["CVE-2019-1551", "libssl1.1", "1.1.1c-r0", ["1.1.1d-r2"], "MEDIUM"],
      ].sort(
        (a, b) =>
          (a[1] as string).localeCompare(b[1] as string) || (a[0] as string).localeCompare(b[0] as string),
      ),
    );
  });

  it("keeps Trivy's label as its verdict and scores the vector beside it", () => {
    const r = read("trivy-debian-buster.json");
    const bash = r.findings.find((f) => f.id === "CVE-2019-18276");
    expect(bash?.severity).toMatchObject({
      level: "LOW",
      source: "database",
      record: "trivy:debian",
      score: 7.8,
    });
    expect(bash?.package.purl).toBe("pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10.1");
    const npm = read("trivy-npm.json");
    expect(npm.findings.map((f) => [f.id, f.package.purl, f.fixedIn])).toEqual([
      ["CVE-2019-11358", "pkg:npm/jquery@3.3.9", ["3.4.0"]],
    ]);
  });

  it("reads Grype's report, fix versions and states", () => {
    const r = read("grype-json-image.json");
    expect(r.scanner.name).toBe("grype");
    expect(r.source).toMatchObject({
      kind: "image",
      name: "user-input",
      digest: "sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5",
    });
    expect(r.findings.map((f) => [f.id, f.package.name, f.severity.level, f.fixedIn])).toEqual([
      ["CVE-1999-0002", "package-2", "CRITICAL", []],
      ["CVE-1999-0001", "package-1", "LOW", ["1.2.1", "2.1.3", "3.4.0"]],
    ]);
    expect(r.findings[1]?.severity.score).toBe(8.2);
  });

  it("external findings go through the same filters, VEX and gate", () => {
    const r = read("grype-json-image.json");
    expect(findingsAtOrAbove(r, "HIGH").map((f) => f.id)).toEqual(["CVE-1999-0002"]);
    const vex = parseOpenVex(
      JSON.stringify({
        statements: [
          {
            vulnerability: "CVE-1999-0002",
            products: ["sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5"],
            status: "not_affected",
            justification: "component_not_present",
          },
        ],
      }),
      "v.json",
    );
    const filtered = applyFilters(r, { vex });
    expect(findingsAtOrAbove(filtered, "HIGH")).toEqual([]);
    expect(filtered.suppressed.map((f) => f.id)).toEqual(["CVE-1999-0002"]);
    expect(applyFilters(r, { ignoreUnfixed: true }).findings.map((f) => f.id)).toEqual(["CVE-1999-0001"]);
  });

  it("refuses what is neither", () => {
    expect(() => readScannerReport('{"bomFormat":"CycloneDX"}', "x.json")).toThrow(
      /neither a Trivy nor a Grype/,
    );
    expect(() => readScannerReport("nope", "x.json")).toThrow(/not JSON/);
  });
});

describe("--scanner", () => {
  it("translates shipgate's sources into each tool's syntax", async () => {
    const { scannerArgs } = await import("../../../src/vuln/adapters/run.js");
    expect(scannerArgs("trivy", "oci:/x/layout:shop")).toEqual([
      "image",
      "--format",
      "json",
      "--quiet",
      "--input",
      "/x/layout:shop",
    ]);
    expect(scannerArgs("grype", "oci:/x/layout:shop")).toEqual([
      "oci-dir:/x/layout:shop",
      "-o",
      "json",
      "-q",
    ]);
    expect(scannerArgs("trivy", "docker-archive:/a.tar")).toEqual([
      "image",
      "--format",
      "json",
      "--quiet",
      "--input",
      "/a.tar",
    ]);
    expect(scannerArgs("grype", "localhost:5000/app:1")).toEqual([
      "registry:localhost:5000/app:1",
      "-o",
      "json",
      "-q",
    ]);
    expect(scannerArgs("trivy", OUTPUTS)).toEqual(["fs", "--format", "json", "--quiet", OUTPUTS]);
    expect(scannerArgs("grype", join(OUTPUTS, "README.md"))).toEqual([
      `sbom:${join(OUTPUTS, "README.md")}`,
      "-o",
      "json",
      "-q",
    ]);
  });

  it("says when the tool is not installed", async () => {
    const { runScanner } = await import("../../../src/vuln/adapters/run.js");
    await expect(runScanner("grype", "alpine", { PATH: "/nonexistent" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "grype is not installed (not on PATH)",
    });
  });
});
