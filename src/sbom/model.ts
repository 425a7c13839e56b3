/**
 * shipgate's SBOM model: what every cataloguer produces, what the CycloneDX
 * and SPDX writers serialise, and what their readers load back (also from
 * other tools' SBOMs), so scanning and gates work on one shape.
 */

export type PackageType =
  | "deb"
  | "apk"
  | "rpm"
  | "npm"
  | "python"
  | "go-module"
  | "java-archive"
  | "gem"
  | "rust-crate"
  | "composer"
  | "dotnet"
  | "unknown";

/** Where a package was found: a file in the image and the layer that holds that file. */
export interface Location {
  path: string;
  layerDigest?: string;
}

/** A licence as the source states it: an SPDX expression when it maps to one, else the raw text. */
export interface License {
  /** A valid SPDX licence expression (e.g. `MIT`, `GPL-2.0-or-later OR Artistic-1.0`). */
  expression?: string;
  /** The source's own words when they are not a valid SPDX expression. */
  name?: string;
}

export interface Package {
  name: string;
  version: string;
  type: PackageType;
  /** Package URL (purl spec); the identity used for matching and diffing. */
  purl: string;
  licenses: License[];
  locations: Location[];
  /** Which cataloguer found it, e.g. `dpkg`, `npm`. */
  foundBy: string;
  /** OS packages: the source package it was built from (matching uses it). */
  source?: { name: string; version?: string };
  arch?: string;
  supplier?: string;
  description?: string;
  homepage?: string;
  /** Extra facts a format can carry as properties (e.g. `epoch`, `goVersion`, `mainModule`). */
  properties?: Record<string, string>;
}

export interface Relationship {
  /** purl of the package that depends on or contains the other. */
  from: string;
  to: string;
  type: "depends-on" | "contains";
}

export interface Distro {
  /** os-release ID, e.g. `debian`, `alpine`, `rhel`. */
  id: string;
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
  idLike?: string[];
}

export interface SbomSource {
  kind: "image" | "directory" | "sbom";
  /** What the user named: `localhost:5000/app:1.0`, `oci:/x:tag`, `/path/to/rootfs`. */
  name: string;
  /** Image manifest digest (per platform). */
  digest?: string;
  platform?: string;
  configDigest?: string;
  layers?: string[];
}

export interface Sbom {
  source: SbomSource;
  distro?: Distro;
  packages: Package[];
  relationships: Relationship[];
  /** ISO 8601; derived from the input (image creation time or SOURCE_DATE_EPOCH) so output is deterministic. */
  created: string;
  /** Cataloguer notes the user should see (unreadable databases, skipped entries). */
  warnings: string[];
  /** The tool that made the SBOM, when read back from a file. */
  tool?: { name: string; version?: string };
}

/** Stable order: by type, name, version, purl, then first location. */
export function comparePackages(a: Package, b: Package): number {
  return (
    cmp(a.type, b.type) ||
    cmp(a.name, b.name) ||
    cmp(a.version, b.version) ||
    cmp(a.purl, b.purl) ||
    cmp(a.locations[0]?.path ?? "", b.locations[0]?.path ?? "")
  );
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts packages and relationships and merges duplicates (same purl found in
 * several places: one package with every location).
 */
export function normaliseSbom(sbom: Sbom): Sbom {
  const byPurl = new Map<string, Package>();
  for (const pkg of sbom.packages) {
    const existing = byPurl.get(pkg.purl);
    if (!existing) {
      byPurl.set(pkg.purl, { ...pkg, locations: [...pkg.locations], licenses: [...pkg.licenses] });
      continue;
    }
    for (const loc of pkg.locations) {
      if (!existing.locations.some((l) => l.path === loc.path && l.layerDigest === loc.layerDigest)) {
        existing.locations.push(loc);
      }
    }
    for (const lic of pkg.licenses) {
      if (!existing.licenses.some((l) => l.expression === lic.expression && l.name === lic.name)) {
        existing.licenses.push(lic);
      }
    }
  }
  const packages = [...byPurl.values()];
  for (const pkg of packages) {
    pkg.locations.sort((a, b) => cmp(a.path, b.path) || cmp(a.layerDigest ?? "", b.layerDigest ?? ""));
  }
  packages.sort(comparePackages);
  const seen = new Set<string>();
  const relationships = sbom.relationships
    .filter((r) => byPurl.has(r.from) && byPurl.has(r.to) && r.from !== r.to)
    .filter((r) => {
      const key = `${r.from}\u0000${r.to}\u0000${r.type}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to) || cmp(a.type, b.type));
  return { ...sbom, packages, relationships, warnings: [...new Set(sbom.warnings)].sort(cmp) };
}
