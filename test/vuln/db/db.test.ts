import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importPath } from "../../../src/vuln/db/import.js";
import { dbStatus } from "../../../src/vuln/db/status.js";
import { openVulnDb } from "../../../src/vuln/db/store.js";
import { updateDb } from "../../../src/vuln/db/update.js";

const VULNDB = join(import.meta.dirname, "..", "..", "..", "..", "shared", "vulndb");
const tmp = () => mkdtempSync(join(tmpdir(), "shipgate-vulndb-"));

/** The real npm records, as osv.dev zips them: <ID>.json at the root. */
function npmZip(): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(join(VULNDB, "npm"))) files[f] = readFileSync(join(VULNDB, "npm", f));
  return zipSync(files);
}

describe("db import", () => {
  it("imports a directory of real OSV records, counted per ecosystem", async () => {
    const db = await openVulnDb(join(tmp(), "v.sqlite"));
    const result = await importPath(db, VULNDB);
    expect(result).toEqual({ records: 233, withdrawn: 0, ecosystems: { Go: 199, PyPI: 28, npm: 6 } });
    expect(await db.totalRecords()).toBe(233);
    const lodash = await db.recordsFor([{ ecosystem: "npm", name: "lodash" }]);
    expect(lodash.map((r) => r.id)).toEqual(["GHSA-p6mc-m468-83gw"]);
    // PEP 503: the index finds PyYAML however it is spelled
    const yaml = await db.recordsFor([{ ecosystem: "PyPI", name: "PyYAML" }]);
    expect(yaml.map((r) => r.id)).toEqual([
      "PYSEC-2018-49",
      "PYSEC-2020-176",
      "PYSEC-2020-96",
      "PYSEC-2021-142",
    ]);
    // `details` is kept apart (matching never reads it); a record without a summary gets its first line
    const [requests] = await db.records(["PYSEC-2023-74"]);
    expect(requests?.details).toBeUndefined();
    expect(requests?.summary).toMatch(/^Requests is a HTTP library/);
    expect(await db.details("PYSEC-2023-74")).toMatch(/Proxy-Authorization/);
    // re-importing replaces, it does not duplicate
    await importPath(db, VULNDB);
    expect(await db.totalRecords()).toBe(233);
    await db.close();
  });

  it("imports an osv.dev-style all.zip by streaming it", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "all.zip"), npmZip());
    const db = await openVulnDb(join(dir, "v.sqlite"));
    const result = await importPath(db, join(dir, "all.zip"));
    expect(result.records).toBe(6);
    expect(result.ecosystems).toEqual({ npm: 6 });
    const [status] = (await dbStatus(db)).ecosystems;
    expect(status).toMatchObject({
      ecosystem: "npm",
      records: 6,
      origin: join(dir, "all.zip"),
      stale: false,
    });
    await db.close();
  });

  it("skips withdrawn records and removes ones already stored", async () => {
    const dir = tmp();
    const record = JSON.parse(readFileSync(join(VULNDB, "npm", "GHSA-p6mc-m468-83gw.json"), "utf8"));
    mkdirSync(join(dir, "a"));
    writeFileSync(join(dir, "a", "GHSA-p6mc-m468-83gw.json"), JSON.stringify(record));
    const db = await openVulnDb(join(dir, "v.sqlite"));
    await importPath(db, join(dir, "a"));
    expect(await db.totalRecords()).toBe(1);
    mkdirSync(join(dir, "b"));
    writeFileSync(
      join(dir, "b", "GHSA-p6mc-m468-83gw.json"),
      JSON.stringify({ ...record, withdrawn: "2024-01-01T00:00:00Z" }),
    );
    const result = await importPath(db, join(dir, "b"));
    expect(result).toMatchObject({ records: 0, withdrawn: 1 });
    expect(await db.totalRecords()).toBe(0);
    expect(await db.recordsFor([{ ecosystem: "npm", name: "lodash" }])).toEqual([]);
    await db.close();
  });

  it("refuses an invalid record with DB_INVALID naming the file, and leaves the database as it was", async () => {
    const dir = tmp();
    mkdirSync(join(dir, "recs"));
    writeFileSync(
      join(dir, "recs", "A-1.json"),
      readFileSync(join(VULNDB, "npm", "GHSA-p6mc-m468-83gw.json")),
    );
    writeFileSync(
      join(dir, "recs", "B-2.json"),
      JSON.stringify({
        id: "B-2",
        modified: "2024-01-01T00:00:00Z",
        affected: [{ ranges: [{ type: "SEMVER", events: [] }] }],
      }),
    );
    const db = await openVulnDb(join(dir, "v.sqlite"));
    await expect(importPath(db, join(dir, "recs"))).rejects.toMatchObject({
      code: "DB_INVALID",
      message: expect.stringMatching(/^B-2\.json: not an OSV record: affected\.0\.ranges\.0\.events/),
    });
    expect(await db.totalRecords()).toBe(0);
    writeFileSync(join(dir, "recs", "B-2.json"), "{ not json");
    await expect(importPath(db, join(dir, "recs"))).rejects.toMatchObject({
      code: "DB_INVALID",
      message: expect.stringMatching(/^B-2\.json: not JSON/),
    });
    writeFileSync(join(dir, "notzip.zip"), "hello");
    await expect(importPath(db, join(dir, "notzip.zip"))).rejects.toMatchObject({ code: "DB_INVALID" });
    await expect(importPath(db, join(dir, "missing"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await db.close();
  });

  it("status warns when an ecosystem's data is older than the configured age", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "all.zip"), npmZip());
    const db = await openVulnDb(join(dir, "v.sqlite"));
    await importPath(db, join(dir, "all.zip"), { now: new Date("2026-01-01T00:00:00Z") });
    const fresh = await dbStatus(db, { now: new Date("2026-01-05T00:00:00Z") });
    expect(fresh.warnings).toEqual([]);
    expect(fresh.lastUpdate).toBe("2026-01-01T00:00:00.000Z");
    const stale = await dbStatus(db, { now: new Date("2026-01-09T00:00:00Z") });
    expect(stale.ecosystems[0]?.stale).toBe(true);
    expect(stale.warnings.join()).toMatch(/npm: data is older than 7 days/);
    expect((await dbStatus(db, { now: new Date("2026-01-09T00:00:00Z"), maxAgeDays: 30 })).warnings).toEqual(
      [],
    );
    // What a scan asks for: the same ecosystems, counts and warnings, without counting every entry.
    const uncounted = await dbStatus(db, { now: new Date("2026-01-09T00:00:00Z"), counts: false });
    expect(uncounted).toEqual(stale);
    // An ecosystem whose records were written without a recorded load is still listed, and stale.
    await db.write([
      {
        id: "PYSEC-0000-1",
        modified: "2026-01-01T00:00:00Z",
        affected: [{ package: { ecosystem: "PyPI", name: "x" }, versions: ["1.0"] }],
      },
    ]);
    const mixed = await dbStatus(db, { now: new Date("2026-01-05T00:00:00Z"), counts: false });
    expect(mixed.ecosystems.map((e) => [e.ecosystem, e.stale])).toEqual([
      ["PyPI", true],
      ["npm", false],
    ]);
    expect(mixed.warnings.join()).toMatch(/PyPI: data is older/);
    await db.close();
    const empty = await openVulnDb(join(dir, "empty.sqlite"));
    expect((await dbStatus(empty)).warnings.join()).toMatch(/empty/);
    await empty.close();
  });
});

describe("db update", () => {
  let server: Server;
  let base: string;
  const requests: string[] = [];
  beforeAll(async () => {
    const zip = npmZip();
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/osv/npm/all.zip") {
        res.writeHead(200, { "content-type": "application/zip", "content-length": zip.length });
        res.end(zip);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/osv`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("downloads <mirror>/<ECOSYSTEM>/all.zip and imports it", async () => {
    const db = await openVulnDb(join(tmp(), "v.sqlite"));
    const results = await updateDb(db, { mirror: base, ecosystems: ["npm"] });
    expect(requests).toContain("/osv/npm/all.zip");
    expect(results).toEqual([
      { ecosystem: "npm", url: `${base}/npm/all.zip`, result: expect.objectContaining({ records: 6 }) },
    ]);
    const status = await dbStatus(db);
    expect(status.ecosystems).toEqual([
      expect.objectContaining({ ecosystem: "npm", records: 6, origin: `${base}/npm/all.zip` }),
    ]);
    await expect(updateDb(db, { mirror: base, ecosystems: ["crates.io"] })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(requests).toContain("/osv/crates.io/all.zip");
    await db.close();
  });

  it("says OFFLINE when the source cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const db = await openVulnDb(join(tmp(), "v.sqlite"));
    await expect(
      updateDb(db, { mirror: `http://127.0.0.1:${port}`, ecosystems: ["npm"] }),
    ).rejects.toMatchObject({
      code: "OFFLINE",
      message: expect.stringMatching(/cannot reach 127\.0\.0\.1:\d+ .*ECONNREFUSED/),
    });
    await db.close();
  });
});
