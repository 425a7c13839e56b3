/**
 * Rust binaries built with cargo-auditable: the crate graph it embeds in a
 * `.dep-v0` section (`__dep_v0` on Mach-O), zlib-compressed JSON of the
 * form `{"packages": [{"name", "version", "source", "kind"?,
 * "dependencies"?: [index...], "root"?: true}]}`. Binaries without it
 * (plain `cargo build`) say nothing of their crates and are skipped quietly.
 */
import { inflateSync } from "node:zlib";
import type { Package, Relationship } from "../model.js";
import { openExecutable, sectionBytes } from "./executable.js";
import { isProgram, MAX_BINARY_SIZE } from "./go.js";
import { isRecord, locationOf, purlOf, str } from "./language.js";
import type { Cataloger, FoundFile } from "./types.js";

export interface Crate {
  name: string;
  version: string;
  source: string;
  kind: "runtime" | "build";
  root: boolean;
  dependencies: number[];
}

/** The JSON is small (a few hundred bytes per crate); far more than any real graph. */
const MAX_JSON = 16 * 1024 * 1024;

export const rustCataloger: Cataloger<Crate[]> = {
  name: "rust",
  maxFileSize: MAX_BINARY_SIZE,
  wants: isProgram,
  parse(file, content, warnings) {
    const exe = openExecutable(content);
    if (!exe) return undefined;
    const section =
      sectionBytes(exe, ".dep-v0") ?? sectionBytes(exe, "__dep_v0") ?? sectionBytes(exe, ".dep-v0", "__DATA");
    if (!section) return undefined;
    const crates = readAuditData(section);
    if (typeof crates === "string") {
      warnings.push(`rust: ${file.path}: cargo-auditable data unreadable: ${crates}`);
      return undefined;
    }
    return crates;
  },
  finish(found: FoundFile<Crate[]>[]) {
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    for (const { file, data } of found) {
      const purls = data.map((crate) => {
        const properties: Record<string, string> = { source: crate.source };
        if (crate.kind === "build") properties.kind = "build";
        if (crate.root) properties.root = "true";
        const pkg: Package = {
          name: crate.name,
          version: crate.version,
          type: "rust-crate",
          purl: purlOf("cargo", undefined, crate.name, crate.version),
          licenses: [],
          locations: [locationOf(file)],
          foundBy: "rust",
          properties,
        };
        packages.push(pkg);
        return pkg.purl;
      });
      data.forEach((crate, i) => {
        for (const d of crate.dependencies) {
          const to = purls[d];
          if (to !== undefined && d !== i)
            relationships.push({ from: purls[i] as string, to, type: "depends-on" });
        }
      });
    }
    return { packages, relationships };
  },
};

/** The section's crates, or why not: bad zlib, too big, not JSON, not the documented shape. */
export function readAuditData(section: Buffer): Crate[] | string {
  let json: string;
  try {
    json = inflateSync(section, { maxOutputLength: MAX_JSON }).toString("utf8");
  } catch (error) {
    return (error as Error).message;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (!isRecord(doc) || !Array.isArray(doc.packages)) return "no packages array";
  const count = doc.packages.length;
  const crates: Crate[] = [];
  for (const entry of doc.packages) {
    const name = isRecord(entry) ? str(entry.name) : undefined;
    const version = isRecord(entry) ? str(entry.version) : undefined;
    if (!isRecord(entry) || !name || !version) return "a package without name or version";
    const dependencies = Array.isArray(entry.dependencies)
      ? entry.dependencies.filter((d): d is number => Number.isInteger(d) && d >= 0 && d < count)
      : [];
    crates.push({
      name,
      version,
      source: str(entry.source) ?? "crates.io",
      kind: entry.kind === "build" ? "build" : "runtime",
      root: entry.root === true,
      dependencies,
    });
  }
  return crates;
}
