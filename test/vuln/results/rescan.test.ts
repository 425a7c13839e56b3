import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Sbom } from "../../../src/sbom/model.js";
import { openVulnDb } from "../../../src/vuln/db/store.js";
import type { OsvRecord } from "../../../src/vuln/osv/schema.js";
import { rescanAll, rescanEach } from "../../../src/vuln/results/rescan.js";
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

  it("gives the same results whether it reads the database whole (preload) or per name, and records every scan", async () => {
    const records = ["GHSA-p6mc-m468-83gw", "GHSA-xvch-5gv4-984h"].map(record);
    // 120 images: more than one page of SBOMs and more than one group of written scans.
    const images = Array.from({ length: 120 }, (_, i) =>
      sbom(`sha256:${String(i).padStart(3, "0")}`, [
        ["lodash", i % 2 ? "4.17.15" : "4.17.21"],
        ["minimist", i % 3 ? "1.2.0" : "1.2.6"],
        [`app-${i}`, "1.0.0"],
      ]),
    );
    const run = async (preload: boolean) => {
      const db = await openVulnDb(":memory:");
      const store = await openResultsStore(":memory:");
      await db.write(records);
      for (const s of images) await store.saveSbom(s, new Date());
      const first = await rescanAll(store, db, { now: new Date("2026-01-01T00:00:00Z"), preload });
      const second = await rescanAll(store, db, { now: new Date("2026-01-02T00:00:00Z"), preload });
      await store.close();
      await db.close();
      return { first, second };
    };
    const whole = await run(true);
    const perName = await run(false);
    expect(whole).toEqual(perName);
    expect(whole.first.map((r) => r.digest)).toEqual(images.map((s) => s.source.digest));
    expect(whole.first[1]?.report.findings.map((f) => f.id)).toEqual(["CVE-2021-44906", "CVE-2020-8203"]);
    expect(whole.first[0]?.report.findings.map((f) => f.id)).toEqual([]);
    // every scan of the first rescan was recorded: the second compares with it
    expect(whole.second.every((r) => r.changes.previous === "2026-01-01T00:00:00.000Z")).toBe(true);
    expect(whole.second.every((r) => r.changes.new.length === 0 && r.changes.resolved.length === 0)).toBe(
      true,
    );
  });

  it("records the scans it reported when the caller stops early", async () => {
    const db = await openVulnDb(":memory:");
    const store = await openResultsStore(":memory:");
    await db.write([record("GHSA-p6mc-m468-83gw")]);
    for (const d of ["sha256:a1", "sha256:a2", "sha256:a3"])
      await store.saveSbom(sbom(d, [["lodash", "4.17.15"]]), new Date());
    for await (const r of rescanEach(store, db, { now: new Date("2026-01-01T00:00:00Z") })) {
      if (r.digest === "sha256:a2") break;
    }
    const next = await rescanAll(store, db, { now: new Date("2026-01-02T00:00:00Z") });
    expect(next.map((r) => [r.digest, r.changes.previous])).toEqual([
      ["sha256:a1", "2026-01-01T00:00:00.000Z"],
      ["sha256:a2", "2026-01-01T00:00:00.000Z"],
      ["sha256:a3", undefined],
    ]);
    await store.close();
    await db.close();
  });
});
