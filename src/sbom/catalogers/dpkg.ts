import { posix } from "node:path";
import type { License, Package, Relationship } from "../model.js";
import { parseDependencies, parseParagraphs } from "./deb822.js";
import { parseCopyright } from "./debian-copyright.js";
import { layerFinder, osLocation, withoutTruncatedTail } from "./os-layers.js";
import { distroQualifier, osPurl } from "./os-purl.js";
import type { Cataloger } from "./types.js";

const STATUS = "/var/lib/dpkg/status";
const STATUS_D = "/var/lib/dpkg/status.d/";
const DOC = "/usr/share/doc/";
/** Distroless status.d directories also hold each package's md5sums (and sometimes other control files). */
const CONTROL_SUFFIXES = /\.(md5sums|conffiles|list|preinst|postinst|prerm|postrm|triggers|shlibs|symbols)$/;

/** Field syntax as dpkg checks it (deb-control(5)): no spaces, no newlines. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9+.\-_]*$/;
const VERSION = /^[A-Za-z0-9.+~:\-_]+$/;
const ARCH = /^[A-Za-z0-9-]*$/;

/**
 * dpkg states in which the package's files are on disk (dpkg-query(1),
 * "Package status states"). `config-files` leaves only conffiles behind and
 * `half-installed` an interrupted unpack, so neither is reported; the
 * selection (`deinstall ok installed`) says what the admin wants next, not
 * what is there, so it does not matter.
 */
const PRESENT = new Set(["installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending"]);

export interface DpkgEntry {
  name: string;
  version: string;
  arch: string;
  source?: string;
  sourceVersion?: string;
  maintainer?: string;
  homepage?: string;
  description?: string;
  depends: string[][];
  provides: string[];
}

export type DpkgData =
  | { kind: "db"; entries: DpkgEntry[] }
  /** licenses undefined: the copyright file is not machine-readable. */
  | { kind: "copyright"; pkg: string; licenses: License[] | undefined };

function isDb(path: string): boolean {
  if (path === STATUS) return true;
  if (!path.startsWith(STATUS_D)) return false;
  const name = path.slice(STATUS_D.length);
  return name !== "" && !name.includes("/") && !name.startsWith(".") && !CONTROL_SUFFIXES.test(name);
}

function copyrightOwner(path: string): string | undefined {
  if (!path.startsWith(DOC) || !path.endsWith("/copyright")) return undefined;
  const pkg = path.slice(DOC.length, -"/copyright".length);
  return pkg !== "" && !pkg.includes("/") ? pkg : undefined;
}

/** The packages a status file (or a status.d file, which has no Status field: its packages are installed) lists. */
export function parseStatus(text: string, warnings: string[] = [], path = STATUS): DpkgEntry[] {
  const entries: DpkgEntry[] = [];
  for (const p of parseParagraphs(text)) {
    const name = p.get("package");
    const version = p.get("version");
    if (!name || !version) continue;
    const status = p.get("status");
    if (status !== undefined && !PRESENT.has(status.split(/\s+/)[2] ?? "")) continue;
    const arch = p.get("architecture") ?? "";
    // Single-line fields continued onto a second line: dpkg itself rejects such a version.
    if (!NAME.test(name) || !VERSION.test(version) || !ARCH.test(arch)) {
      warnings.push(
        `dpkg: ${path}: skipped a malformed paragraph (package ${JSON.stringify(name.slice(0, 80))})`,
      );
      continue;
    }
    const entry: DpkgEntry = {
      name,
      version,
      arch,
      depends: [...parseDependencies(p.get("pre-depends")), ...parseDependencies(p.get("depends"))],
      provides: parseDependencies(p.get("provides")).flat(),
    };
    // `Source: glibc (2.36-9+deb12u4)`: a binNMU or a version bump of one binary only.
    const source = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(p.get("source") ?? "");
    if (source?.[1]) entry.source = source[1];
    if (source?.[2]) entry.sourceVersion = source[2].trim();
    const maintainer = p.get("maintainer");
    if (maintainer) entry.maintainer = maintainer;
    const homepage = p.get("homepage");
    if (homepage) entry.homepage = homepage;
    const description = p.get("description")?.split("\n")[0]?.trim();
    if (description) entry.description = description;
    entries.push(entry);
  }
  return entries;
}

/**
 * syft's `upstream` qualifier, which grype matches on: the source name when
 * it differs from the binary's, with the source version only when that
 * differs too (a binNMU, `bash 5.2.15-2+b13` from `bash 5.2.15-2`).
 */
function upstream(entry: DpkgEntry): string | undefined {
  if (entry.source === undefined) return undefined;
  const differentVersion = entry.sourceVersion !== undefined && entry.sourceVersion !== entry.version;
  if (differentVersion) return `${entry.source}@${entry.sourceVersion}`;
  return entry.source === entry.name ? undefined : entry.source;
}

const key = (e: DpkgEntry) => `${e.name}\u0000${e.arch}\u0000${e.version}`;

interface Built {
  entry: DpkgEntry;
  pkg: Package;
}

/**
 * Licences from /usr/share/doc/PKG/copyright. Some packages' doc directory
 * is a symlink to a sibling's (Debian policy 12.5 allows it only between
 * binaries of one source package), and the cataloguer sees files, not
 * links; debian/copyright belongs to the source package, so any installed
 * binary of the same source (the same source version first) has the file.
 */
function licenseFinder(copyrights: Map<string, License[] | undefined>, all: DpkgEntry[]) {
  // Installed binaries that have a copyright file, by source package: built once, not searched per package.
  const withFile = new Map<string, DpkgEntry[]>();
  for (const e of all) {
    if (!copyrights.has(e.name)) continue;
    const source = e.source ?? e.name;
    withFile.set(source, [...(withFile.get(source) ?? []), e]);
  }
  return (entry: DpkgEntry): License[] | undefined => {
    if (copyrights.has(entry.name)) return copyrights.get(entry.name);
    const siblings = withFile.get(entry.source ?? entry.name) ?? [];
    const sourceVersion = entry.sourceVersion ?? entry.version;
    const sameVersion = siblings.find((e) => (e.sourceVersion ?? e.version) === sourceVersion);
    const sibling = sameVersion ?? siblings[0];
    return sibling ? copyrights.get(sibling.name) : undefined;
  };
}

/** Depends and Pre-Depends, each resolved to the first alternative installed (by name, else by Provides). */
function relationships(built: Built[]): Relationship[] {
  const byName = new Map<string, Built[]>();
  const providers = new Map<string, Built[]>();
  for (const b of built) {
    byName.set(b.entry.name, [...(byName.get(b.entry.name) ?? []), b]);
    for (const virtual of b.entry.provides) providers.set(virtual, [...(providers.get(virtual) ?? []), b]);
  }
  const out: Relationship[] = [];
  for (const b of built) {
    for (const group of b.entry.depends) {
      for (const alternative of group) {
        const candidates = byName.get(alternative) ?? providers.get(alternative);
        if (!candidates) continue;
        // Multi-arch: the same architecture first, then `all`, then whatever is there.
        const target =
          candidates.find((c) => c.entry.arch === b.entry.arch) ??
          candidates.find((c) => c.entry.arch === "all") ??
          (candidates[0] as Built);
        if (target !== b) out.push({ from: b.pkg.purl, to: target.pkg.purl, type: "depends-on" });
        break;
      }
    }
  }
  return out;
}

export const dpkgCataloger: Cataloger<DpkgData> = {
  name: "dpkg",
  wants: (file) => isDb(file.path) || copyrightOwner(file.path) !== undefined,
  parse(file, content, warnings) {
    const text = content.toString("utf8");
    const owner = copyrightOwner(file.path);
    if (owner !== undefined) return { kind: "copyright", pkg: owner, licenses: parseCopyright(text) };
    if (text.includes("\u0000")) {
      warnings.push(`dpkg: ${file.path} is not a text file; no packages read from it`);
      return undefined;
    }
    return {
      kind: "db",
      entries: parseStatus(withoutTruncatedTail("dpkg", file.path, text, warnings), warnings, file.path),
    };
  },
  finish(found, { distro }) {
    const copyrights = new Map<string, License[] | undefined>();
    for (const f of found) if (f.data.kind === "copyright") copyrights.set(f.data.pkg, f.data.licenses);
    const dbs = found.filter((f) => f.data.kind === "db");
    const all = dbs.flatMap((f) => (f.data.kind === "db" ? f.data.entries : []));
    const built: Built[] = [];
    const licensesOf = licenseFinder(copyrights, all);
    const introducedIn = layerFinder<DpkgData>((d) => (d.kind === "db" ? d.entries.map(key) : []));
    for (const f of dbs) {
      if (f.data.kind !== "db") continue;
      for (const entry of f.data.entries) {
        const purl = osPurl("deb", distro?.id ?? "debian", entry.name, entry.version, {
          arch: entry.arch,
          distro: distroQualifier(distro),
          upstream: upstream(entry),
        });
        const pkg: Package = {
          name: entry.name,
          version: entry.version,
          type: "deb",
          purl,
          licenses: [...(licensesOf(entry) ?? [])],
          locations: [osLocation(f.file.path, introducedIn(f, key(entry)))],
          foundBy: "dpkg",
          source: { name: entry.source ?? entry.name, version: entry.sourceVersion ?? entry.version },
          arch: entry.arch,
        };
        if (entry.maintainer) pkg.supplier = entry.maintainer;
        if (entry.description) pkg.description = entry.description;
        if (entry.homepage) pkg.homepage = entry.homepage;
        built.push({ entry, pkg });
      }
    }
    const warnings = dbs
      .filter((f) => f.data.kind === "db" && f.data.entries.length === 0 && f.file.path !== STATUS)
      .map((f) => `dpkg: ${posix.basename(f.file.path)} in ${STATUS_D} lists no installed package`);
    return { packages: built.map((b) => b.pkg), relationships: relationships(built), warnings };
  },
};
