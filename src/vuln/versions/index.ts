/**
 * One version comparator per ecosystem, each exact to that ecosystem's own
 * rules (a sloppy comparison is a missed advisory or a false alarm). The
 * matcher looks comparators up by OSV ecosystem name.
 */
import { apk } from "./apk.js";
import { dpkg } from "./dpkg.js";
import { go } from "./go.js";
import { maven } from "./maven.js";
import { nuget } from "./nuget.js";
import { pep440 } from "./pep440.js";
import { rpm } from "./rpm.js";
import { rubygems } from "./rubygems.js";
import { cargo, npm, semver } from "./semver.js";

export interface VersionComparator {
  /** OSV ecosystem name, e.g. "Debian", "npm", "PyPI". */
  readonly ecosystem: string;
  /** <0, 0 or >0. Never throws; for input isValid rejects the order is best effort. */
  compare(a: string, b: string): number;
  isValid(v: string): boolean;
}

const byEcosystem = new Map<string, VersionComparator>();

/** Each name gets its own object so `ecosystem` reports the name it was looked up by. */
function register(comparator: VersionComparator, ...names: string[]): void {
  for (const name of names) {
    const named: VersionComparator = {
      ecosystem: name,
      compare: (a, b) => comparator.compare(a, b),
      isValid: (v) => comparator.isValid(v),
    };
    byEcosystem.set(name.toLowerCase(), named);
  }
}

register(dpkg, "Debian", "Ubuntu");
register(apk, "Alpine", "Wolfi", "Chainguard");
// Every OSV ecosystem whose versions are RPM EVRs.
register(
  rpm,
  "Red Hat",
  "Rocky Linux",
  "AlmaLinux",
  "openSUSE",
  "SUSE",
  "Mageia",
  "openEuler",
  "Photon OS",
  "Azure Linux",
);
register(npm, "npm");
register(cargo, "crates.io");
register(go, "Go");
register(pep440, "PyPI");
register(maven, "Maven");
register(rubygems, "RubyGems");
register(nuget, "NuGet");
register(semver, "SemVer");

/** Every OSV ecosystem name a comparator is registered for, as OSV spells it. */
export function supportedEcosystems(): string[] {
  return [...byEcosystem.values()].map((c) => c.ecosystem);
}

/**
 * OSV ecosystem name, with or without a ":release" suffix ("Debian:12",
 * "Alpine:v3.18", "Red Hat:enterprise_linux:9::appstream") → comparator.
 */
export function comparatorFor(ecosystem: string): VersionComparator | undefined {
  const base = ecosystem.split(":", 1)[0]?.trim().toLowerCase() ?? "";
  return byEcosystem.get(base);
}
