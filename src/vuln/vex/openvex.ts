/**
 * OpenVEX input (openvex/spec, v0.2.0; v0.0.x's plain-string forms are
 * read too). A `not_affected` or `fixed` statement suppresses the findings
 * it names for the products it lists, so the gate passes on analysed
 * weaknesses; the report keeps them, with the status and justification.
 * When several statements speak of the same finding, the latest wins
 * (timestamps), so an `affected` statement can revoke an earlier one.
 */
import { readFile } from "node:fs/promises";
import { PackageURL } from "packageurl-js";
import { z } from "zod";
import { ShipgateError } from "../../errors.js";
import type { Finding, Suppression } from "../report/model.js";

const identifiers = z.object({ purl: z.string().optional() }).loose();
const component = z.union([
  z.string(),
  z.object({ "@id": z.string().optional(), identifiers: identifiers.optional() }).loose(),
]);
const product = z.union([
  z.string(),
  z
    .object({
      "@id": z.string().optional(),
      identifiers: identifiers.optional(),
      subcomponents: z.array(component).optional(),
    })
    .loose(),
]);
const statement = z
  .object({
    vulnerability: z.union([
      z.string(),
      z
        .object({
          "@id": z.string().optional(),
          name: z.string().optional(),
          aliases: z.array(z.string()).optional(),
        })
        .loose(),
    ]),
    products: z.array(product).optional(),
    status: z.enum(["not_affected", "affected", "fixed", "under_investigation"]),
    justification: z.string().optional(),
    impact_statement: z.string().optional(),
    action_statement: z.string().optional(),
    status_notes: z.string().optional(),
    timestamp: z.string().optional(),
  })
  .loose();
const document = z
  .object({
    "@context": z.string().optional(),
    "@id": z.string().optional(),
    timestamp: z.string().optional(),
    statements: z.array(statement),
  })
  .loose();

export interface VexStatement {
  vulnerabilities: string[];
  /** purls (or other ids) of products and their subcomponents; empty: every product. */
  products: string[];
  status: "not_affected" | "affected" | "fixed" | "under_investigation";
  justification?: string;
  reason?: string;
  timestamp?: string;
  origin: string;
}

function idOf(
  value: string | { "@id"?: string | undefined; identifiers?: { purl?: string | undefined } | undefined },
): string[] {
  if (typeof value === "string") return [value];
  return [value["@id"], value.identifiers?.purl].filter((x): x is string => typeof x === "string");
}

export function parseOpenVex(text: string, origin: string): VexStatement[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ShipgateError("USAGE", `${origin}: not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = document.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ShipgateError(
      "USAGE",
      `${origin}: not an OpenVEX document: ${issue?.path.join(".")}: ${issue?.message}`,
      {
        hint: "see https://github.com/openvex/spec (statements[].vulnerability, products, status)",
      },
    );
  }
  return parsed.data.statements.map((s) => {
    const v = s.vulnerability;
    const vulnerabilities =
      typeof v === "string" ? [v] : [v.name, v["@id"], ...(v.aliases ?? [])].filter((x): x is string => !!x);
    const products = (s.products ?? []).flatMap((p) =>
      typeof p === "string" ? [p] : [...idOf(p), ...(p.subcomponents ?? []).flatMap(idOf)],
    );
    const timestamp = s.timestamp ?? parsed.data.timestamp;
    const reason = s.impact_statement ?? s.status_notes ?? s.action_statement;
    return {
      vulnerabilities,
      products,
      status: s.status,
      ...(s.justification ? { justification: s.justification } : {}),
      ...(reason ? { reason } : {}),
      ...(timestamp ? { timestamp } : {}),
      origin,
    };
  });
}

export async function loadOpenVex(path: string): Promise<VexStatement[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ShipgateError(
      "NOT_FOUND",
      `cannot read the VEX document ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return parseOpenVex(text, path);
}

/** Same package: equal purls, or a versionless product purl naming the package (any version). */
function purlMatches(product: string, packagePurl: string): boolean {
  if (product === packagePurl) return true;
  try {
    const p = PackageURL.fromString(product);
    const q = PackageURL.fromString(packagePurl);
    if (p.type !== q.type || p.name !== q.name || (p.namespace ?? "") !== (q.namespace ?? "")) return false;
    return p.version === undefined || p.version === null || p.version === q.version;
  } catch {
    return false;
  }
}

/** The suppression the statements give a finding, if any (latest statement about it wins). */
export function vexSuppression(
  finding: Finding,
  statements: readonly VexStatement[],
  subject: { digest?: string; name?: string },
): Suppression | undefined {
  const ids = new Set([finding.id, ...finding.aliases, ...finding.records]);
  const applicable = statements.filter((s) => {
    if (!s.vulnerabilities.some((v) => ids.has(v))) return false;
    if (s.products.length === 0) return true;
    return s.products.some(
      (p) =>
        purlMatches(p, finding.package.purl) ||
        // the image itself (by digest, or a pkg:oci purl whose version is the digest) covers every package in it
        (subject.digest !== undefined &&
          (p === subject.digest ||
            p.includes(encodeURIComponent(subject.digest)) ||
            p.includes(subject.digest))) ||
        (subject.name !== undefined && p === subject.name),
    );
  });
  const latest = applicable.sort((a, b) => (a.timestamp ?? "").localeCompare(b.timestamp ?? "")).at(-1);
  if (latest === undefined || (latest.status !== "not_affected" && latest.status !== "fixed"))
    return undefined;
  return {
    by: "vex",
    status: latest.status,
    ...(latest.justification ? { justification: latest.justification } : {}),
    ...(latest.reason ? { reason: latest.reason } : {}),
    origin: latest.origin,
  };
}
