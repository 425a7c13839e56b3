import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Package, Sbom } from "../../../src/sbom/model.js";
import { openVulnDb, type VulnDb } from "../../../src/vuln/db/store.js";
import { MatchCache, scanSbom } from "../../../src/vuln/match/scan.js";
import type { OsvRecord } from "../../../src/vuln/osv/schema.js";
import { parseOpenVex } from "../../../src/vuln/vex/openvex.js";

// Records in the OSV shape of real advisories: DSA-5514-1 (glibc
// "Looney Tunables", fixed in bookworm 2.36-9+deb12u3 and bullseye
// 2.31-13+deb11u7) and Debian's per-CVE record for the same weakness.
const dsa: OsvRecord = {
  id: "DSA-5514-1",
  modified: "2023-10-03T00:00:00Z",
  aliases: ["CVE-2023-4911"],
  summary: "glibc - security update",
  affected: [
    {
      package: { ecosystem: "Debian:12", name: "glibc" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "2.36-9+deb12u3" }] }],
    },
    {
      package: { ecosystem: "Debian:11", name: "glibc" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "2.31-13+deb11u7" }] }],
    },
  ],
};
const debianCve: OsvRecord = {
  id: "DEBIAN-CVE-2023-4911",
  modified: "2023-10-03T00:00:00Z",
  upstream: ["CVE-2023-4911"],
  aliases: [],
  severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H" }],
  affected: [
    {
      package: { ecosystem: "Debian:12", name: "glibc" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "2.36-9+deb12u3" }] }],
    },
  ],
};
// Only for bullseye: must not apply to a bookworm package whatever its version.
const bullseyeOnly: OsvRecord = {
  id: "DLA-3000-1",
  modified: "2023-01-01T00:00:00Z",
  aliases: ["CVE-2099-0001"],
  affected: [
    {
      package: { ecosystem: "Debian:11", name: "glibc" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "9.99-1" }] }],
    },
  ],
};
// PYSEC and GHSA records of one weakness (PyPA lists the GHSA id as an alias).
const pysec: OsvRecord = {
  id: "PYSEC-2018-49",
  modified: "2021-01-01T00:00:00Z",
  aliases: ["CVE-2017-18342", "GHSA-rprw-h62v-c2w7"],
  affected: [
    {
      package: { ecosystem: "PyPI", name: "pyyaml" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "5.1" }] }],
    },
  ],
};
const ghsa: OsvRecord = {
  id: "GHSA-rprw-h62v-c2w7",
  modified: "2021-01-01T00:00:00Z",
  aliases: ["CVE-2017-18342"],
  severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
  affected: [
    {
      package: { ecosystem: "PyPI", name: "PyYAML" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "5.1" }] }],
    },
  ],
};
const maven: OsvRecord = {
  id: "GHSA-j288-q9x7-2f5v",
  modified: "2024-01-01T00:00:00Z",
  aliases: ["CVE-2025-48924"],
  affected: [
    {
      package: { ecosystem: "Maven", name: "org.apache.commons:commons-lang3" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "3.0" }, { fixed: "3.18.0" }] }],
    },
  ],
};
const unfixed: OsvRecord = {
  id: "GHSA-unfx-0000-0000",
  modified: "2024-01-01T00:00:00Z",
  database_specific: { severity: "LOW" },
  affected: [
    {
      package: { ecosystem: "npm", name: "@scope/pkg" },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }],
    },
  ],
};

function pkg(p: Partial<Package> & Pick<Package, "name" | "version" | "type" | "purl">): Package {
  return { licenses: [], locations: [{ path: `/x/${p.name}` }], foundBy: "test", ...p };
}

function sbom(packages: Package[], versionId = "12"): Sbom {
  return {
    source: { kind: "image", name: "test:1", digest: "sha256:abc" },
    distro: { id: "debian", versionId },
    packages,
    relationships: [],
    created: "2024-01-01T00:00:00Z",
    warnings: [],
  };
}

const libc = (version: string, distro = "debian-12") =>
  pkg({
    name: "libc6",
    version,
    type: "deb",
    purl: `pkg:deb/debian/libc6@${version}?arch=amd64&distro=${distro}`,
    source: { name: "glibc", version },
  });

describe("scanSbom", () => {
  let db: VulnDb;
  beforeAll(async () => {
    db = await openVulnDb(":memory:");
    await db.write([dsa, debianCve, bullseyeOnly, pysec, ghsa, maven, unfixed]);
  });
  afterAll(() => db.close());

  it("matches OS packages by source package and distro release, and merges aliases into one finding", async () => {
    const report = await scanSbom(sbom([libc("2.36-9+deb12u1")]), db);
    expect(report.findings).toHaveLength(1);
    const [f] = report.findings;
    expect(f).toMatchObject({
      id: "CVE-2023-4911",
      records: ["DEBIAN-CVE-2023-4911", "DSA-5514-1"],
      aliases: ["DEBIAN-CVE-2023-4911", "DSA-5514-1"],
      fixedIn: ["2.36-9+deb12u3"],
      package: { name: "libc6", ecosystem: "Debian:12", source: "glibc" },
      severity: { level: "HIGH", score: 7.8, source: "cvss_v3", record: "DEBIAN-CVE-2023-4911" },
    });
    // the bullseye-only advisory never applies to bookworm
    expect(report.findings.some((x) => x.records.includes("DLA-3000-1"))).toBe(false);
    expect((await scanSbom(sbom([libc("2.36-9+deb12u3")]), db)).findings).toEqual([]);
  });

  it("a match cache shared across scans (as --rescan-all shares one) changes no report", async () => {
    // One glibc version in a bookworm and a bullseye image, and one in two packages
    // with different locations: each key is matched once, each report stays its own.
    const version = "2.31-13+deb11u5";
    const other = { ...libc(version), name: "libc-bin", locations: [{ path: "/y/libc-bin" }] };
    const images = [
      sbom([libc(version), other]),
      sbom([libc(version, "debian-11")], "11"),
      sbom([libc(version)]),
      sbom([pkg({ name: "PyYAML", version: "5.0", type: "python", purl: "pkg:pypi/pyyaml@5.0" })]),
    ];
    const now = new Date("2026-01-01T00:00:00Z");
    const cache = new MatchCache();
    const shared = [];
    for (const s of images) shared.push(await scanSbom(s, db, { now, cache }));
    const fresh = [];
    for (const s of images) fresh.push(await scanSbom(s, db, { now }));
    expect(shared).toEqual(fresh);
    expect(shared[0]?.findings.map((f) => [f.package.name, f.package.ecosystem])).toEqual([
      ["libc-bin", "Debian:12"],
      ["libc6", "Debian:12"],
    ]);
    expect(shared[1]?.findings.map((f) => [f.records, f.package.ecosystem])).toEqual([
      [["DSA-5514-1"], "Debian:11"],
      [["DLA-3000-1"], "Debian:11"],
    ]);
    // findings are the report's own: changing one leaves the next scan's alone
    const first = shared[0]?.findings[0];
    first?.aliases.push("changed");
    first?.fixedIn.push("changed");
    const again = await scanSbom(images[0] as Sbom, db, { now, cache });
    expect(again.findings).toEqual(fresh[0]?.findings);
  });

  it("with a shared cache, a package with an earlier one's purl but another source, version or distro is matched as itself", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const purl = "pkg:deb/debian/libc6@2.36-9+deb12u1?arch=amd64";
    const patched = pkg({ name: "libc6", version: "2.36-9+deb12u1", type: "deb", purl });
    const images = [
      // no distro qualifier: the SBOM's os-release decides the release
      sbom([{ ...patched, source: { name: "glibc", version: "2.36-9+deb12u1" } }]),
      sbom([{ ...patched, source: { name: "glibc", version: "2.36-9+deb12u3" } }]),
      sbom([{ ...patched, source: { name: "not-glibc", version: "2.36-9+deb12u1" } }]),
      sbom([{ ...patched, source: { name: "glibc", version: "2.31-13+deb11u5" } }], "11"),
    ];
    const cache = new MatchCache();
    const shared = [];
    for (const s of images) shared.push(await scanSbom(s, db, { now, cache }));
    const fresh = [];
    for (const s of images) fresh.push(await scanSbom(s, db, { now }));
    expect(shared).toEqual(fresh);
    expect(shared.map((r) => r.findings.map((f) => f.records.join(" ")))).toEqual([
      ["DEBIAN-CVE-2023-4911 DSA-5514-1"],
      [],
      [],
      ["DSA-5514-1", "DLA-3000-1"],
    ]);
  });

  it("the database read whole up front (preload) gives the same reports as one read per name", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const images = [
      sbom([libc("2.36-9+deb12u1"), libc("2.31-13+deb11u5", "debian-11")]),
      sbom([pkg({ name: "PyYAML", version: "5.0", type: "python", purl: "pkg:pypi/PyYAML@5.0" })]),
      sbom([
        pkg({
          name: "commons-lang3",
          version: "3.12.0",
          type: "java-archive",
          purl: "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
        }),
        pkg({ name: "@scope/pkg", version: "1.0.0", type: "npm", purl: "pkg:npm/%40scope/pkg@1.0.0" }),
        pkg({ name: "left-pad", version: "1.0.0", type: "npm", purl: "pkg:npm/left-pad@1.0.0" }),
      ]),
    ];
    const lazy = [];
    for (const s of images) lazy.push(await scanSbom(s, db, { now }));
    const whole = await openVulnDb(":memory:");
    try {
      await whole.write([dsa, debianCve, bullseyeOnly, pysec, ghsa, maven, unfixed]);
      await whole.preload();
      const preloaded = [];
      for (const s of images) preloaded.push(await scanSbom(s, whole, { now, cache: new MatchCache() }));
      expect(preloaded.map((r) => ({ ...r, database: undefined }))).toEqual(
        lazy.map((r) => ({ ...r, database: undefined })),
      );
      expect(preloaded.flatMap((r) => r.findings.map((f) => f.id))).toEqual([
        "CVE-2023-4911",
        "CVE-2023-4911",
        "CVE-2099-0001",
        "CVE-2017-18342",
        "GHSA-unfx-0000-0000",
        "CVE-2025-48924",
      ]);
      expect(preloaded[0]?.database?.records).toBe(7);
      // rows written before `affected` had its own column are matched from the whole record
      await sql`UPDATE advisories SET affected = NULL`.execute(whole.db);
      for (const preload of [false, true]) {
        const old = await openVulnDb(":memory:");
        try {
          await old.write([dsa, debianCve, bullseyeOnly, pysec, ghsa, maven, unfixed]);
          await sql`UPDATE advisories SET affected = NULL`.execute(old.db);
          if (preload) await old.preload();
          const reports = [];
          for (const s of images) reports.push(await scanSbom(s, old, { now }));
          expect(reports.map((r) => ({ ...r, database: undefined }))).toEqual(
            lazy.map((r) => ({ ...r, database: undefined })),
          );
        } finally {
          await old.close();
        }
      }
      // a write drops what was read: the next scan sees the new data
      await whole.write([], [dsa.id]);
      const after = await scanSbom(images[0] as Sbom, whole, { now });
      expect(after.findings.flatMap((f) => f.records)).toEqual(["DEBIAN-CVE-2023-4911", "DLA-3000-1"]);
    } finally {
      await whole.close();
    }
  });

  it("a Debian 11 package gets the Debian 11 advisories only", async () => {
    const report = await scanSbom(sbom([libc("2.31-13+deb11u5", "debian-11")], "11"), db);
    expect(report.findings.map((f) => [f.id, f.fixedIn])).toEqual([
      ["CVE-2023-4911", ["2.31-13+deb11u7"]],
      ["CVE-2099-0001", ["9.99-1"]],
    ]);
  });

  it("PyPI names compare per PEP 503 and PYSEC/GHSA records of one CVE are one finding", async () => {
    const report = await scanSbom(
      sbom([pkg({ name: "PyYAML", version: "3.13", type: "python", purl: "pkg:pypi/pyyaml@3.13" })]),
      db,
    );
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({
      id: "CVE-2017-18342",
      records: ["GHSA-rprw-h62v-c2w7", "PYSEC-2018-49"],
      fixedIn: ["5.1"],
      severity: { level: "CRITICAL", source: "cvss_v3" },
    });
  });

  it("Maven packages are group:artifact", async () => {
    const p = pkg({
      name: "commons-lang3",
      version: "3.12.0",
      type: "java-archive",
      purl: "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
    });
    const report = await scanSbom(sbom([p]), db);
    expect(report.findings.map((f) => f.id)).toEqual(["CVE-2025-48924"]);
  });

  it("npm scoped names, --ignore-unfixed and --severity", async () => {
    const scoped = pkg({
      name: "@scope/pkg",
      version: "1.0.0",
      type: "npm",
      purl: "pkg:npm/%40scope/pkg@1.0.0",
    });
    const all = await scanSbom(sbom([scoped, libc("2.36-9")]), db);
    expect(all.findings.map((f) => f.id).sort()).toEqual(["CVE-2023-4911", "GHSA-unfx-0000-0000"]);
    const fixable = await scanSbom(sbom([scoped, libc("2.36-9")]), db, { ignoreUnfixed: true });
    expect(fixable.findings.map((f) => f.id)).toEqual(["CVE-2023-4911"]);
    const low = await scanSbom(sbom([scoped, libc("2.36-9")]), db, { severities: ["LOW"] });
    expect(low.findings.map((f) => f.id)).toEqual(["GHSA-unfx-0000-0000"]);
  });

  it("OpenVEX not_affected suppresses the finding for that product, keeps it aside with the reason", async () => {
    const vex = parseOpenVex(
      JSON.stringify({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        author: "sec team",
        timestamp: "2024-01-01T00:00:00Z",
        version: 1,
        statements: [
          {
            vulnerability: { name: "DSA-5514-1" },
            products: [{ "@id": "pkg:deb/debian/libc6?arch=amd64&distro=debian-12" }],
            status: "not_affected",
            justification: "vulnerable_code_not_in_execute_path",
            impact_statement: "no setuid binaries in the image",
          },
          {
            vulnerability: { name: "CVE-2017-18342" },
            products: [{ "@id": "pkg:pypi/other@1.0" }],
            status: "not_affected",
          },
        ],
      }),
      "vex.json",
    );
    const packages = [
      libc("2.36-9+deb12u1"),
      pkg({ name: "PyYAML", version: "3.13", type: "python", purl: "pkg:pypi/pyyaml@3.13" }),
    ];
    const report = await scanSbom(sbom(packages), db, { vex });
    expect(report.findings.map((f) => f.id)).toEqual(["CVE-2017-18342"]);
    expect(report.suppressed).toHaveLength(1);
    expect(report.suppressed[0]).toMatchObject({
      id: "CVE-2023-4911",
      suppressed: {
        by: "vex",
        status: "not_affected",
        justification: "vulnerable_code_not_in_execute_path",
        reason: "no setuid binaries in the image",
        origin: "vex.json",
      },
    });
  });

  it("a later `affected` statement revokes an earlier not_affected", async () => {
    const doc = (status: string, timestamp: string) => ({
      vulnerability: { name: "CVE-2023-4911" },
      products: [{ "@id": "sha256:abc" }],
      status,
      timestamp,
      ...(status === "not_affected" ? { justification: "component_not_present" } : {}),
    });
    const vex = parseOpenVex(
      JSON.stringify({
        statements: [doc("not_affected", "2024-01-01T00:00:00Z"), doc("affected", "2024-02-01T00:00:00Z")],
      }),
      "v.json",
    );
    const report = await scanSbom(sbom([libc("2.36-9+deb12u1")]), db, { vex });
    expect(report.findings.map((f) => f.id)).toEqual(["CVE-2023-4911"]);
    expect(report.suppressed).toEqual([]);
  });

  it("reports records it could not decide for a package", async () => {
    const gitOnly: OsvRecord = {
      id: "PYSEC-0000-1",
      modified: "2024-01-01T00:00:00Z",
      affected: [
        {
          package: { ecosystem: "PyPI", name: "gitonly" },
          ranges: [
            {
              type: "GIT",
              repo: "https://example.org/g.git",
              events: [{ introduced: "0" }, { fixed: "abc" }],
            },
          ],
        },
      ],
    };
    const local = await openVulnDb(":memory:");
    await local.write([gitOnly]);
    const report = await scanSbom(
      sbom([pkg({ name: "gitonly", version: "1.0", type: "python", purl: "pkg:pypi/gitonly@1.0" })]),
      local,
    );
    expect(report.findings).toEqual([]);
    expect(report.notes).toEqual([
      "gitonly 1.0: could not be decided: PYSEC-0000-1: GIT range of https://example.org/g.git ignored (commits, not versions)",
    ]);
    await local.close();
  });

  it("says why a package could not be matched", async () => {
    const report = await scanSbom({ ...sbom([libc("2.36-9", "")]), distro: { id: "debian" } }, db);
    expect(report.notes.join()).toMatch(/libc6 2\.36-9: not matched: debian without a release version/);
  });
});
