import { describe, expect, it } from "vitest";
import { cvss2BaseScore } from "../../../src/vuln/severity/cvss2.js";
import { cvss3BaseScore, roundUp30, roundUp31 } from "../../../src/vuln/severity/cvss3.js";
import { isCvss4Vector } from "../../../src/vuln/severity/cvss4.js";
import { recordSeverity, worstSeverity } from "../../../src/vuln/severity/severity.js";

// Vectors and base scores from FIRST's "CVSS v3.1 Examples" document (and
// the v3.0 examples, whose base scores are the same for these vectors).
const firstExamples: [string, string, number][] = [
  ["CVE-2013-1937 phpMyAdmin XSS", "AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
  ["CVE-2013-0375 MySQL", "AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4],
  ["CVE-2014-3566 POODLE", "AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1],
  ["CVE-2012-1516 VMware guest", "AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9],
  ["CVE-2009-0783 Tomcat", "AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2],
  ["CVE-2012-0384 Cisco IOS", "AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8],
  ["CVE-2015-1098 iWork", "AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8],
  ["CVE-2014-0160 Heartbleed", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5],
  ["CVE-2014-6271 Shellshock", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
  ["CVE-2008-1447 DNS Kaminsky", "AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 6.8],
  ["CVE-2014-2005 Sophos", "AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8],
  ["CVE-2010-0467 Joomla", "AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8],
  ["CVE-2012-1342 Cisco ASA", "AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", 5.8],
  ["CVE-2016-1645 Chrome", "AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8],
  ["CVE-2016-0128 Badlock", "AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8],
  ["CVE-2016-2118 Samba", "AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.5],
  ["CVE-2011-1265 Bluetooth", "AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8],
  ["CVE-2014-2019 iOS", "AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", 4.6],
  ["CVE-2015-0970 SearchBlox", "AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8],
  ["CVE-2014-0224 OpenSSL CCS", "AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N", 7.4],
  ["CVE-2012-5376 Chrome IPC", "AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 9.6],
  ["CVE-2016-5729 Lenovo", "AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", 8.2],
];

describe("CVSS v3 base score", () => {
  it.each(firstExamples)("%s: %s = %d", (_name, metrics, expected) => {
    expect(cvss3BaseScore(`CVSS:3.1/${metrics}`)?.score).toBe(expected);
    expect(cvss3BaseScore(`CVSS:3.0/${metrics}`)?.score).toBe(expected);
  });

  it("rounds up as each version's spec says (v3.1 Appendix A)", () => {
    expect(roundUp31(4.02)).toBe(4.1);
    expect(roundUp31(4.0)).toBe(4.0);
    // floating-point noise must not round 4.0 up (the reason v3.1 redefined Roundup)
    expect(roundUp31(4.000000000000001)).toBe(4.0);
    expect(roundUp30(4.02)).toBe(4.1);
    expect(roundUp30(4.000000000000001)).toBe(4.1);
  });

  it("scores a vector with no impact 0 and accepts temporal/environmental metrics", () => {
    expect(cvss3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N")?.score).toBe(0);
    expect(cvss3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H")?.score).toBe(
      9.8,
    );
  });

  it("rejects invalid vectors", () => {
    expect(cvss3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H")).toBeUndefined();
    expect(cvss3BaseScore("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).toBeUndefined();
    expect(cvss3BaseScore("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).toBeUndefined();
    expect(cvss3BaseScore("CVSS:2.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).toBeUndefined();
  });
});

describe("CVSS v2 base score", () => {
  // Examples from FIRST's "A Complete Guide to the CVSS Version 2.0" §3.3.
  it.each([
    ["CVE-2002-0392 Apache chunked", "AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8],
    ["CVE-2003-0818 Microsoft ASN.1", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0],
    ["CVE-2003-0062 NOD32", "AV:L/AC:H/Au:N/C:C/I:C/A:C", 6.2],
  ])("%s: %s = %d", (_n, vector, expected) => {
    expect(cvss2BaseScore(vector)?.score).toBe(expected);
  });
});

describe("CVSS v4", () => {
  it("validates vectors", () => {
    expect(isCvss4Vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N")).toBe(true);
    expect(isCvss4Vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N")).toBe(false);
  });
});

describe("record severity", () => {
  it("prefers a computed score over the database label and says so", () => {
    const s = recordSeverity({
      id: "GHSA-x",
      modified: "2024-01-01T00:00:00Z",
      severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
      database_specific: { severity: "LOW" },
    });
    expect(s).toMatchObject({ level: "CRITICAL", score: 9.8, source: "cvss_v3", record: "GHSA-x" });
  });

  it("falls back to the database's label (GHSA MODERATE is MEDIUM), then UNKNOWN", () => {
    const labelled = recordSeverity({ id: "A", modified: "x", database_specific: { severity: "MODERATE" } });
    expect(labelled).toMatchObject({ level: "MEDIUM", source: "database" });
    expect(recordSeverity({ id: "B", modified: "x" })).toMatchObject({ level: "UNKNOWN", source: "none" });
  });

  it("takes the worst of merged records", () => {
    const worst = worstSeverity([
      { level: "MEDIUM", source: "database" },
      { level: "HIGH", score: 7.5, source: "cvss_v3" },
      { level: "HIGH", source: "database" },
    ]);
    expect(worst).toMatchObject({ level: "HIGH", score: 7.5, source: "cvss_v3" });
  });
});
