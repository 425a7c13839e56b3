import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { composerCataloger } from "../../../src/sbom/catalogers/composer.js";
import { dotnetCataloger } from "../../../src/sbom/catalogers/dotnet.js";
import type { Cataloger } from "../../../src/sbom/catalogers/types.js";
import { catalogDir, edgeIds, ids } from "./language-helpers.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "lang");

describe("composer cataloguer", () => {
  // What `composer show --format=json` listed for the install that wrote v2/vendor/composer/installed.json.
  const show = JSON.parse(readFileSync(join(FIXTURES, "composer", "v2", "composer-show.json"), "utf8")) as {
    installed: { name: string; version: string }[];
  };
  const truth = show.installed.map((p) => `${p.name}@${p.version}`).sort();

  for (const layout of ["v2", "v1"]) {
    it(`${layout} installed.json: the packages composer show lists, with purls, licences and require edges`, async () => {
      const result = await catalogDir(join(FIXTURES, "composer", layout), composerCataloger as Cataloger);
      expect(result.warnings).toEqual([]);
      expect(ids(result.packages)).toEqual(truth);
      const by = (name: string) => result.packages.find((p) => p.name === name);
      // Composer names are case-insensitive; the purl spec lower-cases vendor and name.
      expect(by("Acme/Dev-Tools")).toMatchObject({
        type: "composer",
        purl: "pkg:composer/acme/dev-tools@0.9.0",
        licenses: [{ expression: "LGPL-2.1-only OR GPL-3.0-or-later" }],
        locations: [{ path: "/vendor/composer/installed.json" }],
      });
      expect(by("acme/psr-log")?.licenses).toEqual([{ expression: "MIT" }, { expression: "Apache-2.0" }]);
      expect(by("acme/http")).toMatchObject({
        purl: "pkg:composer/acme/http@1.4.2",
        homepage: "https://example.com/http",
      });
      // Only Composer 2 records which packages are dev-only.
      expect(by("Acme/Dev-Tools")?.properties?.dev).toBe(layout === "v2" ? "true" : undefined);
      expect(edgeIds(result.packages, result.relationships)).toEqual([
        "Acme/Dev-Tools@0.9.0 -> acme/psr-log@2.0.1",
        "acme/http@1.4.2 -> acme/psr-log@2.0.1",
      ]);
    });
  }

  it("warns on malformed installed.json and skips malformed entries", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-composer-"));
    for (const [app, body] of [
      ["a", "{not json"],
      ["b", '{"packages": "x"}'],
      [
        "c",
        '[{"name": "novendor", "version": "1"}, {"name": "v/ok", "version": "1.0.0", "license": 5}, 7, null]',
      ],
    ] as const) {
      mkdirSync(join(dir, app, "vendor", "composer"), { recursive: true });
      writeFileSync(join(dir, app, "vendor", "composer", "installed.json"), body);
    }
    const result = await catalogDir(dir, composerCataloger as Cataloger);
    expect(ids(result.packages)).toEqual(["v/ok@1.0.0"]);
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings.join("\n")).toMatch(/a\/vendor\/composer\/installed\.json is not valid JSON/);
  });
});

describe("dotnet cataloguer", () => {
  it("reports the package libraries of a deps.json with nuget purls and the targets' edges", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-dotnet-"));
    cpSync(join(FIXTURES, "dotnet", "app"), join(dir, "app"), { recursive: true });
    writeFileSync(
      join(dir, "broken.deps.json"),
      '{"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"}, "libraries": {"B/1": ',
    );
    const result = await catalogDir(dir, dotnetCataloger as Cataloger);
    expect(ids(result.packages)).toEqual([
      "Microsoft.Extensions.DependencyInjection.Abstractions@8.0.0",
      "Microsoft.Extensions.Logging.Abstractions@8.0.0",
      "Microsoft.Extensions.Logging@8.0.0",
      "Newtonsoft.Json@13.0.3",
    ]);
    expect(result.packages.find((p) => p.name === "Newtonsoft.Json")).toMatchObject({
      type: "dotnet",
      purl: "pkg:nuget/Newtonsoft.Json@13.0.3",
      locations: [{ path: "/app/Shop.Api.deps.json" }],
      properties: { path: "newtonsoft.json/13.0.3", sha512: expect.stringMatching(/^sha512-/) },
    });
    // The dependency spelled in lower case still links (NuGet ids are case-insensitive).
    expect(edgeIds(result.packages, result.relationships)).toEqual([
      "Microsoft.Extensions.Logging.Abstractions@8.0.0 -> Microsoft.Extensions.DependencyInjection.Abstractions@8.0.0",
      "Microsoft.Extensions.Logging@8.0.0 -> Microsoft.Extensions.DependencyInjection.Abstractions@8.0.0",
      "Microsoft.Extensions.Logging@8.0.0 -> Microsoft.Extensions.Logging.Abstractions@8.0.0",
    ]);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^dotnet: \/broken\.deps\.json is not valid JSON/),
    ]);
  });
});
