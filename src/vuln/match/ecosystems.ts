/**
 * Which OSV ecosystem and name an SBOM package is known by. Language
 * packages come from their purl (purl-spec type → OSV ecosystem); OS
 * packages are matched by their *source* package (distro advisories are
 * per source package) and only against advisories for their distro
 * release: a Debian 12 package is checked against `Debian:12` records only.
 */
import { PackageURL } from "packageurl-js";
import type { Distro, Package } from "../../sbom/model.js";
import { goToolchainSemver } from "./semver.js";

export interface MatchKey {
  /** OSV base ecosystem, e.g. `npm`, `Debian`. */
  ecosystem: string;
  /** OSV package name, e.g. `@scope/pkg`, `org.apache:commons-lang3`, `glibc`. */
  name: string;
  /** The version to compare with the records' events. */
  version: string;
  /** For OS packages: the record ecosystems that apply (`Debian:12`). Undefined: any. */
  releases?: (recordEcosystem: string) => boolean;
  /** What `releases` accepts, as text (`Debian:12`): two keys with the same one match the same records. */
  release?: string;
}

const languageEcosystems: Record<string, string> = {
  npm: "npm",
  pypi: "PyPI",
  maven: "Maven",
  golang: "Go",
  gem: "RubyGems",
  cargo: "crates.io",
  nuget: "NuGet",
  composer: "Packagist",
  hex: "Hex",
  pub: "Pub",
  cran: "CRAN",
  hackage: "Hackage",
  swift: "SwiftURL",
  conan: "ConanCenter",
  bitnami: "Bitnami",
};

function parsePurl(purl: string): PackageURL | undefined {
  try {
    return PackageURL.fromString(purl);
  } catch {
    return undefined;
  }
}

/** `distro=debian-12` (the purl qualifier our cataloguers write), or the SBOM's os-release. */
function distroOf(
  purl: PackageURL,
  sbomDistro: Distro | undefined,
): { id: string; version?: string } | undefined {
  const qualifier = purl.qualifiers?.distro;
  if (typeof qualifier === "string") {
    const m = /^([a-z][a-z0-9._]*?)-(\d[\w.]*)$/i.exec(qualifier);
    if (m?.[1] && m[2]) return { id: m[1].toLowerCase(), version: m[2] };
  }
  if (sbomDistro)
    return sbomDistro.versionId
      ? { id: sbomDistro.id, version: sbomDistro.versionId }
      : { id: sbomDistro.id };
  return purl.namespace ? { id: purl.namespace.toLowerCase() } : undefined;
}

/** The OSV ecosystem prefix and release test for a distro, or a reason it cannot be matched. */
function distroEcosystem(
  distro: { id: string; version?: string } | undefined,
): { ecosystem: string; releases: (e: string) => boolean; release: string } | string {
  if (distro === undefined) return "no distro known for this OS package";
  const { id, version } = distro;
  if (version === undefined)
    return `${id} without a release version (testing/unstable?) cannot be matched to advisories`;
  const exact = (prefix: string) => (e: string) => e === prefix;
  switch (id) {
    case "debian": {
      const major = version.split(".")[0] ?? version;
      return { ecosystem: "Debian", releases: exact(`Debian:${major}`), release: `Debian:${major}` };
    }
    case "ubuntu":
      // OSV writes Ubuntu:22.04:LTS, Ubuntu:Pro:22.04:LTS, Ubuntu:23.10.
      return {
        ecosystem: "Ubuntu",
        releases: (e) => e === `Ubuntu:${version}` || e.startsWith(`Ubuntu:${version}:`),
        release: `Ubuntu:${version}:*`,
      };
    case "alpine": {
      const [major, minor] = version.split(".");
      return {
        ecosystem: "Alpine",
        releases: exact(`Alpine:v${major}.${minor}`),
        release: `Alpine:v${major}.${minor}`,
      };
    }
    case "rocky":
    case "almalinux": {
      const ecosystem = id === "rocky" ? "Rocky Linux" : "AlmaLinux";
      const release = `${ecosystem}:${version.split(".")[0]}`;
      return { ecosystem, releases: exact(release), release };
    }
    default:
      return `no OSV advisories are known for the ${id} distribution`;
  }
}

/** The key to look a package up by, or a note saying why it cannot be matched. */
export function matchKey(pkg: Package, sbomDistro?: Distro): MatchKey | { skipped: string } {
  const purl = parsePurl(pkg.purl);
  if (purl === undefined) return { skipped: `not a valid purl: ${pkg.purl}` };
  const type = purl.type.toLowerCase();
  const version = purl.version ?? pkg.version;
  if (type === "deb" || type === "apk" || type === "rpm") {
    const eco = distroEcosystem(distroOf(purl, sbomDistro));
    if (typeof eco === "string") return { skipped: eco };
    const upstream = typeof purl.qualifiers?.upstream === "string" ? purl.qualifiers.upstream : undefined;
    const name = pkg.source?.name ?? upstream?.split("@")[0] ?? pkg.name;
    // Debian's records are about source versions (a binNMU +bN rebuild keeps its source's version).
    const sourceVersion = pkg.source?.version ?? version;
    return {
      ecosystem: eco.ecosystem,
      name,
      version: sourceVersion,
      releases: eco.releases,
      release: eco.release,
    };
  }
  const ecosystem = languageEcosystems[type];
  if (ecosystem === undefined) return { skipped: `no OSV ecosystem for purl type ${type}` };
  const ns = purl.namespace;
  switch (ecosystem) {
    case "npm":
    case "Packagist":
      return { ecosystem, name: ns ? `${ns}/${purl.name}` : purl.name, version };
    case "Maven":
      return ns
        ? { ecosystem, name: `${ns}:${purl.name}`, version }
        : { skipped: "Maven purl without a group" };
    case "Go": {
      const name = ns ? `${ns}/${purl.name}` : purl.name;
      // The toolchain's standard library is "stdlib" in golang/vulndb, versioned as SemVer.
      if (name === "stdlib" || name === "toolchain")
        return { ecosystem, name, version: goToolchainSemver(version) };
      return { ecosystem, name, version: version.replace(/^v(?=\d)/, "") };
    }
    default:
      return { ecosystem, name: ns ? `${ns}/${purl.name}` : purl.name, version };
  }
}
