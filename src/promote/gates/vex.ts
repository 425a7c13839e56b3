/**
 * OpenVEX statements (openvex spec v0.2.0, and v0.0.x's string
 * `vulnerability`): `not_affected` and `fixed` suppress a finding when the
 * statement names its vulnerability (or an alias) and, if it lists
 * subcomponents, the package; products, when given, must name the image
 * digest or the package. Later statements override earlier ones.
 */
import { readFileSync } from "node:fs";
import { ShipgateError } from "../../errors.js";
import type { VulnFinding } from "./types.js";

export interface VexStatement {
  vulnerability: string;
  aliases: string[];
  status: string;
  justification?: string;
  products: string[];
  subcomponents: string[];
  origin: string;
}

type Json = Record<string, unknown>;
const ids = (list: unknown): string[] =>
  (Array.isArray(list) ? list : [])
    .map((p) =>
      typeof p === "string"
        ? p
        : typeof (p as Json)?.["@id"] === "string"
          ? ((p as Json)["@id"] as string)
          : undefined,
    )
    .filter((p): p is string => p !== undefined);

export function parseVex(text: string, origin: string): VexStatement[] {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (error) {
    throw new ShipgateError("CONFIG_INVALID", `${origin} is not JSON: ${(error as Error).message}`, {
      hint: "give an OpenVEX document",
    });
  }
  if (!Array.isArray(doc.statements)) {
    throw new ShipgateError(
      "CONFIG_INVALID",
      `${origin} has no "statements" array: not an OpenVEX document`,
      {
        hint: "see https://github.com/openvex/spec",
      },
    );
  }
  return doc.statements.map((raw) => {
    const s = raw as Json;
    const v = s.vulnerability;
    const vuln = typeof v === "string" ? { name: v } : ((v ?? {}) as Json);
    const products = Array.isArray(s.products) ? s.products : [];
    return {
      vulnerability: String(vuln.name ?? vuln["@id"] ?? ""),
      aliases: Array.isArray(vuln.aliases) ? vuln.aliases.map(String) : [],
      status: String(s.status ?? ""),
      ...(typeof s.justification === "string" ? { justification: s.justification } : {}),
      products: ids(products),
      subcomponents: [...ids(s.subcomponents), ...products.flatMap((p) => ids((p as Json)?.subcomponents))],
      origin,
    };
  });
}

export function loadVex(path: string): VexStatement[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ShipgateError(
      "CONFIG_INVALID",
      `cannot read the VEX document ${path}: ${(error as Error).message}`,
      {
        hint: "fix the path in vulnerabilities.vex (relative to shipgate.yaml)",
      },
    );
  }
  return parseVex(text, path);
}

/** `pkg:deb/debian/curl@7.88.1-10?arch=amd64` and `pkg:deb/debian/curl` name the same package. */
function purlBase(purl: string): string {
  return purl.replace(/[?#].*$/, "").replace(/@[^/]*$/, "");
}

function purlMatches(statementPurl: string, findingPurl: string): boolean {
  if (statementPurl === findingPurl) return true;
  const s = statementPurl.replace(/[?#].*$/, "");
  const f = findingPurl.replace(/[?#].*$/, "");
  return s.includes("@") ? s === f : purlBase(f) === s;
}

/** The statement deciding this finding, if any (the last one that applies). */
export function vexFor(
  finding: VulnFinding,
  digest: string,
  statements: readonly VexStatement[],
): VexStatement | undefined {
  const names = new Set([finding.id, ...finding.aliases]);
  const hex = digest.replace(/^sha256:/, "");
  let decided: VexStatement | undefined;
  for (const s of statements) {
    if (!names.has(s.vulnerability) && !s.aliases.some((a) => names.has(a))) continue;
    if (s.subcomponents.length > 0 && !s.subcomponents.some((p) => purlMatches(p, finding.package.purl)))
      continue;
    if (
      s.products.length > 0 &&
      !s.products.some(
        (p) =>
          p.includes(hex) || p.includes(encodeURIComponent(digest)) || purlMatches(p, finding.package.purl),
      )
    )
      continue;
    decided = s;
  }
  return decided;
}

export const SUPPRESSING = new Set(["not_affected", "fixed"]);
