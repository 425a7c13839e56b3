import { createHash } from "node:crypto";
import parseExpression from "spdx-expression-parse";
import type { License, Package } from "../model.js";

/** What both writers take besides the SBOM: the domain does not know the CLI's version. */
export interface WriterOptions {
  toolName?: string;
  toolVersion?: string;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** shipgate's own UUID namespace for name-based (v5) UUIDs: a fixed random value. */
const NAMESPACE = Buffer.from("6c1f3f0e8a6f4c1db0a1d4b3c2e5f7a9", "hex");

/**
 * An RFC 4122 version 5 UUID of `content`: the same document always gets the
 * same serial number or namespace, and a different one a different id.
 */
export function uuidFromContent(content: string): string {
  const hash = createHash("sha1").update(NAMESPACE).update(content).digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether text is a valid SPDX licence expression (ids, `WITH`, `AND`, `OR`, `LicenseRef-`). */
export function isSpdxExpression(text: string): boolean {
  try {
    parseExpression(text);
    return true;
  } catch {
    return false;
  }
}

/** A licence as read from a document: an expression when it is valid SPDX, else the words as written. */
export function licenseOf(text: string): License {
  const trimmed = text.trim();
  return isSpdxExpression(trimmed) ? { expression: trimmed } : { name: trimmed };
}

/**
 * A top-level `A AND B AND (C OR D)` split into its conjuncts, so a licence
 * list joined for a format that holds one expression reads back as a list.
 */
export function splitConjunction(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const text = expression.trim();
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && text.startsWith(" AND ", i)) {
      parts.push(text.slice(start, i).trim());
      start = i + 5;
      i += 4;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.map(unwrap).filter((p) => p.length > 0);
}

/** `(A OR B)` → `A OR B` when the outer parentheses enclose the whole text. */
function unwrap(text: string): string {
  if (!text.startsWith("(") || !text.endsWith(")")) return text;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")") depth--;
    if (depth === 0 && i < text.length - 1) return text;
  }
  return unwrap(text.slice(1, -1).trim());
}

/** `Name <email>` as maintainers and authors write themselves. */
export function splitContact(text: string): { name: string; email?: string } {
  const match = /^(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(text);
  if (!match || !match[1]) return { name: text.trim() };
  return { name: match[1].trim(), email: match[2] as string };
}

/** A homepage only when it is an absolute URL: both formats require one. */
export function validUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const url = new URL(text.trim());
    return /^(https?|ftp|git|ssh|svn):$/.test(url.protocol) ? text.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Package type from a purl type, for documents made by other tools. */
export function packageTypeOfPurl(purlType: string): Package["type"] {
  const map: Record<string, Package["type"]> = {
    deb: "deb",
    apk: "apk",
    rpm: "rpm",
    npm: "npm",
    pypi: "python",
    golang: "go-module",
    maven: "java-archive",
    gem: "gem",
    cargo: "rust-crate",
    composer: "composer",
    nuget: "dotnet",
  };
  return map[purlType] ?? "unknown";
}
