/**
 * PHP packages Composer installed: `vendor/composer/installed.json`, in
 * Composer 2's layout (`{"packages": [...], "dev-package-names": [...]}`) or
 * Composer 1's (a bare array). Edges follow each package's `require`, to
 * packages installed beside it (platform requirements like `php` and
 * `ext-*` are not packages).
 */
import type { Package, Relationship } from "../model.js";
import {
  isRecord,
  licensesOf,
  locationOf,
  mergeByPurl,
  parseJson,
  purlOf,
  str,
  stringMap,
} from "./language.js";
import type { Cataloger, FoundFile } from "./types.js";

export interface ComposerPackage {
  name: string;
  version: string;
  licenses: string[];
  requires: string[];
  dev: boolean;
  description?: string;
  homepage?: string;
  reference?: string;
}

export const composerCataloger: Cataloger<ComposerPackage[]> = {
  name: "composer",
  maxFileSize: 32 * 1024 * 1024,
  wants(file) {
    return file.path.endsWith("/vendor/composer/installed.json");
  },
  parse(file, content, warnings) {
    const doc = parseJson("composer", file, content, warnings);
    if (doc === undefined) return undefined;
    const list = Array.isArray(doc)
      ? doc
      : isRecord(doc) && Array.isArray(doc.packages)
        ? doc.packages
        : undefined;
    if (!list) {
      warnings.push(`composer: ${file.path}: neither a package array (v1) nor {"packages": [...]} (v2)`);
      return undefined;
    }
    const devNames = new Set(
      isRecord(doc) && Array.isArray(doc["dev-package-names"])
        ? doc["dev-package-names"]
            .filter((n): n is string => typeof n === "string")
            .map((n) => n.toLowerCase())
        : [],
    );
    const out: ComposerPackage[] = [];
    for (const entry of list) {
      const name = isRecord(entry) ? str(entry.name) : undefined;
      const version = isRecord(entry) ? str(entry.version) : undefined;
      if (!isRecord(entry) || !name || !version || !name.includes("/")) continue;
      const license = entry.license;
      const pkg: ComposerPackage = {
        name,
        version,
        licenses: Array.isArray(license)
          ? license.filter((l): l is string => typeof l === "string")
          : typeof license === "string"
            ? [license]
            : [],
        requires: Object.keys(stringMap(entry.require)).filter((r) => r.includes("/")),
        dev: devNames.has(name.toLowerCase()),
      };
      const description = str(entry.description);
      const homepage = str(entry.homepage);
      const reference = isRecord(entry.dist) ? str(entry.dist.reference) : undefined;
      if (description) pkg.description = description;
      if (homepage) pkg.homepage = homepage;
      if (reference) pkg.reference = reference;
      out.push(pkg);
    }
    return out;
  },
  finish(found: FoundFile<ComposerPackage[]>[]) {
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    for (const { file, data } of found) {
      const byName = new Map<string, string>();
      for (const c of data) {
        const pkg = toPackage(c);
        pkg.locations = [locationOf(file)];
        packages.push(pkg);
        byName.set(c.name.toLowerCase(), pkg.purl);
      }
      for (const c of data) {
        const from = byName.get(c.name.toLowerCase()) as string;
        for (const r of c.requires) {
          const to = byName.get(r.toLowerCase());
          if (to) relationships.push({ from, to, type: "depends-on" });
        }
      }
    }
    return { packages: mergeByPurl(packages), relationships };
  },
};

function toPackage(c: ComposerPackage): Package {
  const [vendor, name] = c.name.split("/", 2) as [string, string];
  const pkg: Package = {
    name: c.name,
    version: c.version,
    type: "composer",
    // The purl spec: vendor as namespace, both lower-cased (Composer names are case-insensitive).
    purl: purlOf("composer", vendor, name, c.version),
    licenses: licensesOf(c.licenses),
    locations: [],
    foundBy: "composer",
  };
  const properties: Record<string, string> = {};
  if (c.dev) properties.dev = "true";
  if (c.reference) properties.reference = c.reference;
  if (Object.keys(properties).length > 0) pkg.properties = properties;
  if (c.description) pkg.description = c.description;
  if (c.homepage) pkg.homepage = c.homepage;
  return pkg;
}
