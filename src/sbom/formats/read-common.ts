import { PackageURL } from "packageurl-js";
import type { z } from "zod";
import { ShipgateError } from "../../errors.js";
import type { Distro, Package } from "../model.js";
import { packageTypeOfPurl } from "./common.js";

/** Throws SBOM_INVALID naming the first problems and where they are in the document. */
export function parseWith<T>(schema: z.ZodType<T>, doc: unknown, where: string, format: string): T {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
      .join("");
    return `${path || "(document)"}: ${issue.message}`;
  });
  const more = result.error.issues.length > 3 ? ` (and ${result.error.issues.length - 3} more)` : "";
  throw new ShipgateError("SBOM_INVALID", `${where} is not valid ${format}: ${problems.join("; ")}${more}`, {
    hint: `check it against the ${format} JSON schema`,
  });
}

export interface ParsedPurl {
  purl: string;
  parsed: PackageURL;
}

/** The canonical form of a purl (qualifiers sorted, encoding normalised), or undefined when it is not one. */
export function parsePurl(text: string): ParsedPurl | undefined {
  try {
    const parsed = PackageURL.fromString(text.trim());
    return { purl: parsed.toString(), parsed };
  } catch {
    return undefined;
  }
}

/** `debian-12`, `alpine-3.19.1`, `opensuse-leap-15.5` or a bare id, as syft and Trivy write the qualifier. */
export function distroFromQualifier(value: string | undefined): Distro | undefined {
  if (!value) return undefined;
  const match = /^(.+?)-(\d[\w.]*)$/.exec(value);
  return match ? { id: match[1] as string, versionId: match[2] as string } : { id: value };
}

/** Without an operating-system entry, the distro the packages' purls name. */
export function distroFromPackages(packages: Package[]): Distro | undefined {
  for (const pkg of packages) {
    const distro = parsePurl(pkg.purl)?.parsed.qualifiers?.distro;
    if (distro) return distroFromQualifier(distro);
  }
  return undefined;
}

/**
 * The source package a purl names: `upstream=shadow` or `upstream=shadow@1:4.13` (deb, apk, as syft
 * writes them), or rpm's source rpm file `shadow-utils-4.9-12.el9.src.rpm`.
 */
export function sourceFromPurl(parsed: PackageURL): Package["source"] {
  const upstream = parsed.qualifiers?.upstream;
  if (!upstream) return undefined;
  if (parsed.type === "rpm") {
    const m = /^(.+)-([^-]+)-([^-]+)\.src\.rpm$/.exec(upstream);
    return m ? { name: m[1] as string, version: `${m[2]}-${m[3]}` } : { name: upstream };
  }
  const at = upstream.indexOf("@");
  return at > 0 ? { name: upstream.slice(0, at), version: upstream.slice(at + 1) } : { name: upstream };
}

const PACKAGE_TYPES: ReadonlySet<string> = new Set([
  "deb",
  "apk",
  "rpm",
  "npm",
  "python",
  "go-module",
  "java-archive",
  "gem",
  "rust-crate",
  "composer",
  "dotnet",
  "unknown",
]);

/**
 * The version as the package manager writes it: Trivy puts a deb or rpm
 * epoch in the purl's `epoch` qualifier and leaves it out of the version,
 * and matching needs it (`1:4.13` sorts after `2.0`).
 */
export function fullVersion(version: string, parsed: PackageURL): string {
  const epoch = parsed.qualifiers?.epoch;
  if (!epoch || epoch === "0" || version.includes(":") || !/^(deb|rpm)$/.test(parsed.type)) return version;
  return `${epoch}:${version}`;
}

/** shipgate's own type when the document recorded it, else the purl's. */
export function packageType(recorded: string | undefined, parsed: PackageURL): Package["type"] {
  if (recorded !== undefined && PACKAGE_TYPES.has(recorded)) return recorded as Package["type"];
  return packageTypeOfPurl(parsed.type);
}

/** `Tool: syft-1.0.1` → syft 1.0.1 (SPDX creators; versions start with a digit or `v`). */
export function toolFromCreator(creator: string): { name: string; version?: string } | undefined {
  const match = /^Tool:\s*(.+?)(?:-(v?\d[^\s]*))?\s*$/.exec(creator);
  if (!match) return undefined;
  return match[2] ? { name: match[1] as string, version: match[2] } : { name: match[1] as string };
}

/** Both formats want `YYYY-MM-DDThh:mm:ssZ`; a missing or bad time reads as the epoch. */
export function isoSeconds(value: string | undefined): string {
  const date = new Date(value ?? "");
  if (Number.isNaN(date.getTime())) return "1970-01-01T00:00:00Z";
  return `${date.toISOString().slice(0, 19)}Z`;
}
