import { cmp, type Package, type Sbom } from "./model.js";

export interface PackageChange {
  type: Package["type"];
  name: string;
  arch?: string;
  before: string;
  after: string;
}

export interface SbomDiff {
  added: Package[];
  removed: Package[];
  changed: PackageChange[];
  unchanged: number;
}

/** Identity across versions: ecosystem, name and architecture (a package may be installed for two arches). */
function keyOf(pkg: Package): string {
  return `${pkg.type}\u0000${pkg.name}\u0000${pkg.arch ?? ""}`;
}

/**
 * Packages added, removed and changed between two SBOMs. A name installed
 * more than once in one ecosystem (npm nests several versions) is compared
 * as a set of versions: only versions on one side are changes.
 */
export function diffSboms(before: Sbom, after: Sbom): SbomDiff {
  const group = (sbom: Sbom) => {
    const map = new Map<string, Package[]>();
    for (const pkg of sbom.packages) {
      const list = map.get(keyOf(pkg)) ?? [];
      list.push(pkg);
      map.set(keyOf(pkg), list);
    }
    return map;
  };
  const a = group(before);
  const b = group(after);
  const result: SbomDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const olds = a.get(key) ?? [];
    const news = b.get(key) ?? [];
    const oldVersions = new Set(olds.map((p) => p.version));
    const newVersions = new Set(news.map((p) => p.version));
    const gone = olds.filter((p) => !newVersions.has(p.version));
    const came = news.filter((p) => !oldVersions.has(p.version));
    result.unchanged += olds.filter((p) => newVersions.has(p.version)).length;
    // Pair what left with what came, in version order: one upgrade each; the rest are plain adds/removes.
    const pairs = Math.min(gone.length, came.length);
    for (let i = 0; i < pairs; i++) {
      const o = gone[i] as Package;
      const n = came[i] as Package;
      result.changed.push({ type: n.type, name: n.name, arch: n.arch, before: o.version, after: n.version });
    }
    result.removed.push(...gone.slice(pairs));
    result.added.push(...came.slice(pairs));
  }
  const byName = (x: { type: string; name: string }, y: { type: string; name: string }) =>
    cmp(x.type, y.type) || cmp(x.name, y.name);
  result.added.sort((x, y) => byName(x, y) || cmp(x.version, y.version));
  result.removed.sort((x, y) => byName(x, y) || cmp(x.version, y.version));
  result.changed.sort((x, y) => byName(x, y) || cmp(x.before, y.before));
  return result;
}
