/**
 * What the language-ecosystem cataloguers (npm, python, ruby, composer,
 * dotnet) share: purls, locations, licences, and merging one package found
 * at several paths.
 */
import { PackageURL } from "packageurl-js";
import type { License, Location, Package } from "../model.js";
import { toLicense } from "./licenses.js";
import type { FileInfo } from "./types.js";

export function purlOf(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
): string {
  // packageurl-js applies each type's rules (npm's `@` → `%40`, pypi's lower case).
  return new PackageURL(type, namespace, name, version || undefined, undefined, undefined).toString();
}

export function locationOf(file: FileInfo, path = file.path): Location {
  return file.layerDigest === undefined ? { path } : { path, layerDigest: file.layerDigest };
}

/** Licences from free-form strings, empty and placeholder values dropped, duplicates once. */
export function licensesOf(raws: readonly (string | undefined)[]): License[] {
  const out: License[] = [];
  for (const raw of raws) {
    const text = raw?.trim();
    if (!text || /^(unknown|none|n\/a)$/i.test(text)) continue;
    const license = toLicense(text);
    if (!out.some((l) => l.expression === license.expression && l.name === license.name)) out.push(license);
  }
  return out;
}

/**
 * One package per purl: the same gem or wheel can be installed in two
 * places (Debian's rubygems-integration and Ruby's own gem dir); it is one
 * package found at both paths.
 */
export function mergeByPurl(packages: readonly Package[]): Package[] {
  const byPurl = new Map<string, Package>();
  for (const pkg of packages) {
    const existing = byPurl.get(pkg.purl);
    if (!existing) {
      byPurl.set(pkg.purl, { ...pkg, locations: [...pkg.locations] });
      continue;
    }
    for (const loc of pkg.locations) {
      if (!existing.locations.some((l) => l.path === loc.path)) existing.locations.push(loc);
    }
  }
  return [...byPurl.values()];
}

/** A JSON document, or undefined with a warning: one odd file never fails an SBOM. */
export function parseJson(
  cataloger: string,
  file: FileInfo,
  content: Buffer,
  warnings: string[],
): unknown | undefined {
  try {
    // Strip a UTF-8 byte-order mark, which some Windows-built files carry.
    return JSON.parse(content.toString("utf8").replace(/^\uFEFF/, ""));
  } catch (error) {
    warnings.push(`${cataloger}: ${file.path} is not valid JSON: ${(error as Error).message}`);
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** `{ name: range }` maps (dependencies, require) as name → range, ignoring malformed entries. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}
