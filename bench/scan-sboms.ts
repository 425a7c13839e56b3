/**
 * SBOMs for the scan benchmark, in shipgate's model (src/sbom/model.ts) and
 * with the purls its cataloguers write: Debian 12 packages with their source
 * package, npm (some scoped), PyPI (normalised names), Maven, Go modules.
 * Half of the language packages and all OS packages carry names the OSV set
 * has records for; a share of those get a version planted inside a record's
 * range, the rest a random version (which may or may not be affected).
 */
import { createHash } from "node:crypto";
import type { Package, Sbom } from "../src/sbom/model.js";
import {
  type BenchEcosystem,
  insideOf,
  int,
  PLAN,
  packageName,
  prng,
  type Rng,
  spell,
  type Triple,
  type Windows,
} from "./scan-osv.js";

export type Mix = Partial<Record<BenchEcosystem, number>>;

/** The 5,000-package SBOM: a large Node service on Debian with Python, Java and Go parts. */
export const BIG_MIX: Mix = { Debian: 400, npm: 2_500, PyPI: 800, Maven: 800, Go: 500 };

const planned = new Map(PLAN.map((p) => [p.ecosystem, p.packages]));

function purlOf(ecosystem: BenchEcosystem, name: string, version: string): string {
  switch (ecosystem) {
    case "npm": {
      const [scope, bare] = name.startsWith("@") ? name.split("/") : [undefined, name];
      return `pkg:npm/${scope ? `${encodeURIComponent(scope)}/` : ""}${bare}@${version}`;
    }
    case "PyPI":
      return `pkg:pypi/${name.toLowerCase().replace(/[-_.]+/g, "-")}@${version}`;
    case "Maven": {
      const [group, artifact] = name.split(":");
      return `pkg:maven/${group}/${artifact}@${version}`;
    }
    case "Go":
      return `pkg:golang/${name}@v${version}`;
    case "Debian":
      return `pkg:deb/debian/lib${name}@${version}?arch=amd64&distro=debian-12`;
  }
}

const TYPES: Record<BenchEcosystem, Package["type"]> = {
  npm: "npm",
  PyPI: "python",
  Maven: "java-archive",
  Go: "go-module",
  Debian: "deb",
};

/**
 * One SBOM. `plant` is the chance that a package with records gets a version
 * inside a range; `shared` draws versions from three per package so that
 * images built on the same bases repeat the same package versions.
 */
export function buildSbom(
  rng: Rng,
  windows: Windows,
  mix: Mix,
  n: number,
  options: { plant: number; shared: boolean },
): Sbom {
  const packages: Package[] = [];
  for (const [eco, count] of Object.entries(mix) as [BenchEcosystem, number][]) {
    const pool = planned.get(eco) ?? 1000;
    const used = new Set<number>();
    while (used.size < count) {
      // OS packages and half of the language packages are names the set has records for.
      const known = eco === "Debian" || rng() < 0.5;
      const index = known ? Math.floor(pool * rng() ** 1.5) : pool + int(rng, pool * 4);
      if (used.has(index)) continue;
      used.add(index);
      const name = packageName(eco, index);
      const window = windows.get(`${eco}\u0000${name}`);
      let version: Triple;
      if (window && rng() < options.plant) version = insideOf(window);
      else if (options.shared) {
        const h = prng(index * 7919 + eco.length);
        version = [int(h, 10), (int(h, 20) + int(rng, 3)) % 20, int(h, 20)];
      } else version = [int(rng, 10), int(rng, 20), int(rng, 20)];
      const v = spell(eco, version);
      const pkg: Package = {
        name: eco === "Debian" ? `lib${name}` : name,
        version: eco === "Go" ? `v${v}` : v,
        type: TYPES[eco],
        purl: purlOf(eco, name, v),
        licenses: [],
        locations: [{ path: locationOf(eco, name) }],
        foundBy: eco === "Debian" ? "dpkg" : TYPES[eco],
      };
      if (eco === "Debian") {
        pkg.source = { name, version: v };
        pkg.arch = "amd64";
      }
      packages.push(pkg);
    }
  }
  const digest = `sha256:${createHash("sha256").update(`bench-image-${n}`).digest("hex")}`;
  return {
    source: { kind: "image", name: `registry.example/bench/app-${n}:1`, digest, platform: "linux/amd64" },
    distro: { id: "debian", versionId: "12", versionCodename: "bookworm", prettyName: "Debian GNU/Linux 12" },
    packages,
    relationships: [],
    created: "2026-01-01T00:00:00Z",
    warnings: [],
  };
}

function locationOf(eco: BenchEcosystem, name: string): string {
  if (eco === "Debian") return "/var/lib/dpkg/status";
  if (eco === "npm") return `/app/node_modules/${name}/package.json`;
  if (eco === "PyPI") return `/usr/lib/python3/dist-packages/${name}.dist-info/METADATA`;
  if (eco === "Maven") return `/app/lib/${name.split(":")[1]}.jar`;
  return "/app/bin/server";
}

/** The stored images: mostly small services on a Debian base, as a registry holds them. */
export function storedSboms(seed: number, windows: Windows, count: number): Sbom[] {
  const rng = prng(seed);
  const between = (a: number, b: number) => a + int(rng, b - a + 1);
  const out: Sbom[] = [];
  for (let n = 0; n < count; n++) {
    const kind = n % 5;
    const mix: Mix = { Debian: between(90, 200) };
    if (kind === 1) mix.npm = between(200, 1200);
    if (kind === 2) mix.PyPI = between(40, 200);
    if (kind === 3) mix.Maven = between(50, 300);
    if (kind === 4) mix.Go = between(20, 150);
    out.push(buildSbom(rng, windows, mix, n, { plant: 0.05, shared: true }));
  }
  return out;
}
