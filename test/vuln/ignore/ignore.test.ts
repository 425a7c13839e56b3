import { describe, expect, it } from "vitest";
import { isExpired, parseIgnoreFile } from "../../../src/vuln/ignore/ignore.js";
import { applyFilters } from "../../../src/vuln/report/filters.js";
import type { Finding, ScanReport } from "../../../src/vuln/report/model.js";

function finding(
  id: string,
  name: string,
  version: string,
  purl: string,
  fixedIn: string[],
  location: string,
  aliases: string[] = [],
): Finding {
  return {
    id,
    aliases,
    records: [aliases[0] ?? id],
    package: {
      name,
      version,
      type: purl.split(/[:/]/)[1] as string,
      purl,
      ecosystem: "x",
      locations: [location],
    },
    severity: { level: "HIGH", source: "database" },
    fixedIn,
    references: [],
    notes: [],
  };
}

const report: ScanReport = {
  schema: "shipgate.scan/v1",
  source: { kind: "image", name: "img" },
  scanner: { name: "shipgate" },
  scannedAt: "2026-01-01T00:00:00Z",
  packages: 3,
  findings: [
    finding(
      "CVE-2020-8203",
      "lodash",
      "4.17.15",
      "pkg:npm/lodash@4.17.15",
      ["4.17.20"],
      "/app/node_modules/lodash/package.json",
      ["GHSA-p6mc-m468-83gw"],
    ),
    finding(
      "CVE-2021-44906",
      "minimist",
      "1.2.0",
      "pkg:npm/minimist@1.2.0",
      ["1.2.6"],
      "/app/node_modules/minimist/package.json",
    ),
    finding(
      "CVE-2023-4911",
      "libc6",
      "2.36-9",
      "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12",
      [],
      "/var/lib/dpkg/status",
    ),
  ],
  suppressed: [],
  notes: [],
};
const now = new Date("2026-06-15T12:00:00Z");
const ids = (r: ScanReport) => r.findings.map((f) => f.id);

describe("ignore files", () => {
  it("reads .trivyignore lines with exp: dates; an expired line stops suppressing and is noted", () => {
    const rules = parseIgnoreFile(
      "# accepted\nCVE-2020-8203\n\n# until the upgrade\nCVE-2021-44906 exp:2026-01-31\nCVE-2023-4911 exp:2026-12-31 # glibc\n",
      ".trivyignore",
    );
    expect(rules).toEqual([
      { id: "CVE-2020-8203", origin: ".trivyignore" },
      { id: "CVE-2021-44906", expires: "2026-01-31", origin: ".trivyignore" },
      { id: "CVE-2023-4911", expires: "2026-12-31", origin: ".trivyignore" },
    ]);
    const r = applyFilters(report, { ignore: rules, now });
    expect(ids(r)).toEqual(["CVE-2021-44906"]);
    expect(r.suppressed.map((f) => [f.id, f.suppressed?.by, f.suppressed?.origin])).toEqual([
      ["CVE-2023-4911", "ignore", ".trivyignore"],
      ["CVE-2020-8203", "ignore", ".trivyignore"],
    ]);
    expect(r.notes).toEqual([
      "ignore rule CVE-2021-44906 in .trivyignore expired on 2026-01-31: it no longer suppresses (1 finding)",
    ]);
  });

  it("expiry is the end of the named day", () => {
    const rule = { id: "X", expires: "2026-06-15", origin: "f" };
    expect(isExpired(rule, new Date("2026-06-15T23:00:00Z"))).toBe(false);
    expect(isExpired(rule, new Date("2026-06-16T00:00:01Z"))).toBe(true);
  });

  it("reads .trivyignore.yaml: purls, paths, statement, expired_at", () => {
    const rules = parseIgnoreFile(
      [
        "vulnerabilities:",
        "  - id: CVE-2020-8203",
        "    paths:",
        '      - "app/node_modules/lodash/**"',
        "    statement: lodash merge is not reachable",
        "  - id: CVE-2023-4911",
        "    purls:",
        '      - "pkg:deb/debian/libc6"',
        "    expired_at: 2026-01-01",
        "  - id: CVE-2021-44906",
        "    purls:",
        '      - "pkg:npm/minimist@9.9.9"',
      ].join("\n"),
      ".trivyignore.yaml",
    );
    const r = applyFilters(report, { ignore: rules, now });
    // minimist's rule names another version; glibc's expired
    expect(ids(r)).toEqual(["CVE-2023-4911", "CVE-2021-44906"]);
    expect(r.suppressed[0]?.suppressed).toEqual({
      by: "ignore",
      status: "ignored",
      reason: "lodash merge is not reachable",
      origin: ".trivyignore.yaml",
    });
    expect(r.notes.join()).toMatch(/CVE-2023-4911 in .trivyignore.yaml expired on 2026-01-01/);
  });

  it("reads Grype's ignore rules: package name/version/type/location and fix-state, by alias too", () => {
    const rules = parseIgnoreFile(
      [
        "ignore:",
        "  - vulnerability: GHSA-p6mc-m468-83gw",
        "    package:",
        "      name: lodash",
        "      type: npm",
        "  - fix-state: not-fixed",
        "    package:",
        '      location: "/var/lib/dpkg/**"',
        "  - vulnerability: CVE-2021-44906",
        "    package:",
        "      version: 0.0.8",
      ].join("\n"),
      ".grype.yaml",
    );
    expect(ids(applyFilters(report, { ignore: rules, now }))).toEqual(["CVE-2021-44906"]);
  });

  it("reads shipgate's own list with id, purl, reason and expiry", () => {
    const rules = parseIgnoreFile(
      [
        "ignore:",
        "  - id: CVE-2021-44906",
        "    purl: pkg:npm/minimist",
        "    reason: argv parsing of trusted input only",
        "    expires: 2026-12-31",
      ].join("\n"),
      "shipgate-ignore.yaml",
    );
    const r = applyFilters(report, { ignore: rules, now });
    expect(ids(r)).toEqual(["CVE-2023-4911", "CVE-2020-8203"]);
    expect(r.suppressed[0]?.suppressed).toMatchObject({
      reason: "argv parsing of trusted input only",
      justification: "until 2026-12-31",
    });
  });

  it("refuses rules that would ignore everything, and bad dates", () => {
    expect(() => parseIgnoreFile("ignore:\n  - reason: all of it\n", "x.yaml")).toThrow(
      /would ignore everything/,
    );
    expect(() => parseIgnoreFile("CVE-1 exp:soon\n", ".trivyignore")).toThrow(/not a date/);
    expect(() => parseIgnoreFile("ignore:\n  - id: CVE-1\n    expires: someday\n", "x.yaml")).toThrow(
      /not a date/,
    );
  });
});
