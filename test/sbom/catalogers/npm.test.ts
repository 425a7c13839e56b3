import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { npmCataloger } from "../../../src/sbom/catalogers/npm.js";
import type { Cataloger } from "../../../src/sbom/catalogers/types.js";
import type { Package, Relationship } from "../../../src/sbom/model.js";
import { SHARED_IMAGES } from "../../helpers/cli.js";
import { catalogDir, catalogSharedImage, edgeIds, ids } from "./language-helpers.js";

interface LsNode {
  version?: string;
  dependencies?: Record<string, LsNode>;
}

/** `npm ls --all --json` as name@version ids and parent -> child edges (deduped entries included: they are edges too). */
function fromNpmLs(tree: LsNode & { name?: string }) {
  const nodes = new Set<string>();
  const edges = new Set<string>();
  const walk = (id: string, node: LsNode) => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      if (!child.version) continue; // missing optional dependency
      const childId = `${name}@${child.version}`;
      nodes.add(childId);
      edges.add(`${id} -> ${childId}`);
      walk(childId, child);
    }
  };
  walk(`${tree.name}@${tree.version}`, tree);
  return { nodes: [...nodes].sort(), edges: [...edges].sort() };
}

const under = (prefix: string, packages: Package[]) =>
  packages.filter((p) => p.locations.some((l) => l.path.startsWith(prefix)));

describe("npm cataloguer on the shop image", () => {
  let result: Awaited<ReturnType<typeof catalogSharedImage>>;
  beforeAll(async () => {
    result = await catalogSharedImage("shop-1.4.2", npmCataloger as Cataloger);
  });

  it("finds exactly the packages `npm ls --all` lists for /app: none missing, none extra", () => {
    const truth = fromNpmLs(
      JSON.parse(readFileSync(join(SHARED_IMAGES, "..", "truth", "shop-1.4.2.npm-ls.json"), "utf8")),
    );
    const app = under("/app/", result.packages).filter((p) => p.name !== "demo-shop");
    expect(ids(app)).toEqual(truth.nodes);
    expect(truth.nodes.length).toBeGreaterThan(50);
    // The project itself is reported too, as the root of the tree.
    expect(ids(result.packages.filter((p) => p.name === "demo-shop"))).toEqual(["demo-shop@1.4.2"]);
  });

  it("reports the dependency tree npm ls shows, edge for edge", () => {
    const truth = fromNpmLs(
      JSON.parse(readFileSync(join(SHARED_IMAGES, "..", "truth", "shop-1.4.2.npm-ls.json"), "utf8")),
    );
    const app = under("/app", result.packages);
    const appPurls = new Set(app.map((p) => p.purl));
    const rels = result.relationships.filter((r: Relationship) => appPurls.has(r.from));
    expect(edgeIds(app, rels)).toEqual(truth.edges);
  });

  it("gives purls per the purl spec, SPDX licences, locations with the layer digest", () => {
    const express = result.packages.find((p) => p.name === "express");
    expect(express).toMatchObject({
      version: "4.17.1",
      type: "npm",
      purl: "pkg:npm/express@4.17.1",
      licenses: [{ expression: "MIT" }],
      locations: [{ path: "/app/node_modules/express/package.json", layerDigest: result.layers[2] }],
    });
    const scoped = result.packages.filter((p) => p.name.startsWith("@"));
    for (const p of scoped) expect(p.purl).toMatch(/^pkg:npm\/%40[^/]+\/[^@]+@/);
  });

  it("reports one version installed at several paths once, with every path", () => {
    // The same name@version in two node_modules dirs is one package (one purl) with both locations;
    // two versions of a name are two packages.
    const multi = under("/app/", result.packages).filter(
      (p) => p.locations.filter((l) => l.path.startsWith("/app/")).length > 1,
    );
    const purls = result.packages.map((p) => p.purl);
    expect(new Set(purls).size).toBe(purls.length);
    const versions = (name: string) =>
      result.packages
        .filter((p) => p.name === name && p.locations.some((l) => l.path.startsWith("/app/")))
        .map((p) => p.version)
        .sort();
    // express 4.17.1 pulls two `ms` and two `depd` versions (npm ls shows both).
    expect(versions("ms").length).toBeGreaterThan(1);
    for (const p of multi) expect(new Set(p.locations.map((l) => l.path)).size).toBe(p.locations.length);
  });

  it("also reads the lockfile of a project with nothing installed (a gem's vscode extension)", () => {
    const lockOnly = result.packages.filter((p) =>
      p.locations.some((l) => l.path.endsWith("typeprof-0.21.2/vscode/package-lock.json")),
    );
    expect(lockOnly.length).toBeGreaterThan(10);
  });
});

const FIXTURES = join(import.meta.dirname, "fixtures", "lang", "npm-lock");

/** What npm itself reads from a lockfile alone: `npm ls --all --json --package-lock-only` (offline). */
function npmLsLockOnly(fixture: string) {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-npm-ls-"));
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  const out = execFileSync("npm", ["ls", "--all", "--json", "--package-lock-only", "--offline"], {
    cwd: dir,
    encoding: "utf8",
  });
  return fromNpmLs(JSON.parse(out));
}

describe("npm lockfiles made by npm, yarn and pnpm", () => {
  for (const version of ["v1", "v2", "v3"]) {
    it(`package-lock ${version}: the packages and edges npm ls reads from it`, async () => {
      const truth = npmLsLockOnly(version);
      const result = await catalogDir(join(FIXTURES, version), npmCataloger as Cataloger);
      const deps = result.packages.filter((p) => p.name !== "lock-fixture");
      expect(ids(deps)).toEqual(truth.nodes);
      expect(edgeIds(result.packages, result.relationships)).toEqual(truth.edges);
      expect(result.packages.find((p) => p.name === "debug")?.properties?.integrity).toMatch(/^sha512-/);
      if (version !== "v1") {
        // v1 records no licences; v2 and v3 copy each package.json's.
        expect(result.packages.find((p) => p.name === "express")?.licenses).toEqual([{ expression: "MIT" }]);
      }
      expect(result.warnings).toEqual([]);
    });
  }

  for (const fixture of ["yarn", "pnpm6", "pnpm9"]) {
    it(`${fixture}: the packages the package manager installed from it`, async () => {
      const truth = readFileSync(join(FIXTURES, fixture, "installed.txt"), "utf8")
        .trim()
        .split("\n");
      const result = await catalogDir(join(FIXTURES, fixture), npmCataloger as Cataloger);
      const deps = result.packages.filter((p) => p.name !== "lock-fixture");
      expect(ids(deps)).toEqual(truth);
      // yarn and pnpm resolve express's ranges to newer versions than npm's dedupe keeps.
      expect(ids(deps)).toContain("http-errors@1.7.3");
      // Edges from the root: the five direct dependencies.
      const root = result.packages.find((p) => p.name === "lock-fixture");
      expect(result.relationships.filter((r) => r.from === root?.purl)).toHaveLength(5);
    });
  }
});
