import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildImage } from "../../../src/oci/build.js";
import { digestOf } from "../../../src/oci/digest.js";
import { MediaType } from "../../../src/oci/mediatypes.js";
import { OciLayout } from "../../../src/oci/transports/layout.js";
import { generateSboms } from "../../../src/sbom/generate.js";
import { importPath } from "../../../src/vuln/db/import.js";
import { openVulnDb } from "../../../src/vuln/db/store.js";
import { scanSbom } from "../../../src/vuln/match/scan.js";
import { mergeReports } from "../../../src/vuln/report/model.js";

const NPM = join(import.meta.dirname, "..", "..", "..", "..", "shared", "vulndb", "npm");

/** An app directory with one installed npm package. */
function app(version: string): string {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-app-"));
  mkdirSync(join(dir, "node_modules", "minimist"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "a", version: "1.0.0", dependencies: { minimist: version } }),
  );
  writeFileSync(
    join(dir, "node_modules", "minimist", "package.json"),
    JSON.stringify({ name: "minimist", version, license: "MIT" }),
  );
  return dir;
}

describe("multi-platform images", () => {
  it("scans every platform and says which platform each finding is in", async () => {
    const root = mkdtempSync(join(tmpdir(), "shipgate-multi-"));
    const layout = await OciLayout.open(join(root, "layout"), { create: true });
    const created = new Date("2024-01-01T00:00:00Z");
    const amd64 = await buildImage(app("1.2.0"), layout, "amd64", {
      prefix: "/app",
      created,
      os: "linux",
      architecture: "amd64",
    });
    const arm64 = await buildImage(app("1.2.6"), layout, "arm64", {
      prefix: "/app",
      created,
      os: "linux",
      architecture: "arm64",
    });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          {
            mediaType: amd64.mediaType,
            digest: amd64.digest,
            size: amd64.bytes.length,
            platform: { os: "linux", architecture: "amd64" },
          },
          {
            mediaType: arm64.mediaType,
            digest: arm64.digest,
            size: arm64.bytes.length,
            platform: { os: "linux", architecture: "arm64" },
          },
        ],
      }),
    );
    await layout.writeManifest(
      { bytes: index, mediaType: MediaType.ociIndex, digest: digestOf(index) },
      "multi",
    );

    const db = await openVulnDb(":memory:");
    await importPath(db, NPM);
    const sboms = await generateSboms(`oci:${join(root, "layout")}:multi`);
    expect(sboms.map((s) => s.source.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    const report = mergeReports(await Promise.all(sboms.map((s) => scanSbom(s, db))));
    // minimist 1.2.0 (amd64) is affected; 1.2.6 (arm64) is the fixed version
    expect(report.findings.map((f) => [f.platform, f.package.version, f.id])).toEqual([
      ["linux/amd64", "1.2.0", "CVE-2021-44906"],
    ]);
    await db.close();
  }, 60_000);
});
