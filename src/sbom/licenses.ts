import parseExpression from "spdx-expression-parse";
import { cmp, type Package, type Sbom } from "./model.js";

export interface LicenseCount {
  /** An SPDX expression, a non-SPDX name as the source wrote it, or `(none)`. */
  license: string;
  spdx: boolean;
  packages: number;
}

export interface Offender {
  package: Package;
  /** The licences (ids or names) that matched a deny pattern. */
  matched: string[];
}

/** How many packages carry each licence, most common first. */
export function licenseHistogram(sbom: Sbom): LicenseCount[] {
  const counts = new Map<string, LicenseCount>();
  for (const pkg of sbom.packages) {
    const keys =
      pkg.licenses.length === 0
        ? [{ license: "(none)", spdx: false }]
        : pkg.licenses.map((l) => ({
            license: l.expression ?? l.name ?? "(none)",
            spdx: l.expression !== undefined,
          }));
    for (const key of new Map(keys.map((k) => [k.license, k])).values()) {
      const entry = counts.get(key.license) ?? { ...key, packages: 0 };
      entry.packages++;
      counts.set(key.license, entry);
    }
  }
  return [...counts.values()].sort((a, b) => b.packages - a.packages || cmp(a.license, b.license));
}

/** A shell-style glob (`GPL-*`, `AGPL-3.0-?nly`) as a case-insensitive whole-string match. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

type Node = parseExpression.Info;

/**
 * Whether a licence expression forces a denied licence on the user: a leaf
 * is denied when its id matches; `A AND B` is denied when either side is;
 * `A OR B` only when both are, since the user may pick the other.
 */
function deniedIn(node: Node, denied: (id: string) => boolean, matched: Set<string>): boolean {
  if ("license" in node) {
    const id = `${node.license}${node.plus ? "+" : ""}`;
    const hit = denied(node.license) || denied(id);
    if (hit) matched.add(id);
    return hit;
  }
  const left = deniedIn(node.left, denied, matched);
  const right = deniedIn(node.right, denied, matched);
  return node.conjunction === "and" ? left || right : left && right;
}

/** Packages whose licences match a deny pattern (`GPL-*`), with what matched. */
export function deniedPackages(sbom: Sbom, patterns: string[]): Offender[] {
  const regexps = patterns.map(globToRegExp);
  const denied = (id: string) => regexps.some((r) => r.test(id));
  const offenders: Offender[] = [];
  for (const pkg of sbom.packages) {
    const matched = new Set<string>();
    let hit = false;
    for (const license of pkg.licenses) {
      if (license.expression !== undefined) {
        let tree: Node | undefined;
        try {
          tree = parseExpression(license.expression);
        } catch {
          tree = undefined;
        }
        if (tree ? deniedIn(tree, denied, matched) : denied(license.expression)) hit = true;
        if (!tree && denied(license.expression)) matched.add(license.expression);
      } else if (license.name !== undefined && denied(license.name)) {
        matched.add(license.name);
        hit = true;
      }
    }
    if (hit) offenders.push({ package: pkg, matched: [...matched].sort() });
  }
  return offenders;
}
