import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Sbom } from "../../../src/sbom/model.js";
import { openVulnDb } from "../../../src/vuln/db/store.js";
import type { OsvRecord } from "../../../src/vuln/osv/schema.js";
import { rescanAll } from "../../../src/vuln/results/rescan.js";
import { openResultsStore } from "../../../src/vuln/results/store.js";

const NPM = join(import.meta.dirname, "..", "..", "..", "..", "shared", "vulndb", "npm");
const record = (id: string) => JSON.parse(readFileSync(join(NPM, `${id}.json`), "utf8")) as OsvRecord;

function sbom(digest: string, packages: [string, string][]): Sbom {
  return {
    source: { kind: "image", name: `app@${digest}`, digest, platform: "linux/amd64" },
    packages: packages.map(([name, version]) => ({
      name,
      version,
      type: "npm",
      purl: `pkg:npm/${name}@${version}`,
      licenses: [],
      locations: [],
      foundBy: "npm",
    })),
    relationships: [],
    created: "2024-01-01T00:00:00Z",
    warnings: [],
  };
}

describe("stored results and --rescan-all", () => {
  it("re-matches stored SBOMs against the current database and reports new and resolved findings", async () => {
    const db = await openVulnDb(":memory:");
    const store = await openResultsStore(":memory:");
    await db.write([record("GHSA-p6mc-m468-83gw")]);
    await store.saveSbom(
      sbom("sha256:aaa", [
        ["lodash", "4.17.15"],
        ["minimist", "1.2.0"],
      ]),
      new Date(),
    );
    await store.saveSbom(sbom("sha256:bbb", [["minimist", "1.2.6"]]), new Date());
    // an SBOM without a digest (a directory) is not stored
    await store.saveSbom({ ...sbom("x", []), source: { kind: "directory", name: "/x" } }, new Date());
    expect(await store.sbomCount()).toBe(2);

    const first = await rescanAll(store, db, { now: new Date("2026-01-01T00:00:00Z") });
    expect(first.map((r) => [r.digest, r.report.findings.map((f) => f.id), r.changes])).toEqual([
      [
        "sha256:aaa",
        ["CVE-2020-8203"],
        { new: [{ id: "CVE-2020-8203", purl: "pkg:npm/lodash@4.17.15" }], resolved: [] },
      ],
      ["sha256:bbb", [], { new: [], resolved: [] }],
    ]);

    // the database learns of minimist's advisory; lodash's is withdrawn
    await db.write([record("GHSA-xvch-5gv4-984h")], ["GHSA-p6mc-m468-83gw"]);
    const second = await rescanAll(store, db, { now: new Date("2026-01-02T00:00:00Z") });
    expect(second[0]?.changes).toEqual({
      previous: "2026-01-01T00:00:00.000Z",
      new: [{ id: "CVE-2021-44906", purl: "pkg:npm/minimist@1.2.0" }],
      resolved: [{ id: "CVE-2020-8203", purl: "pkg:npm/lodash@4.17.15" }],
    });
    expect(second[1]?.report.findings).toEqual([]);
    expect(second[0]?.platform).toBe("linux/amd64");
    await store.close();
    await db.close();
  });
});
