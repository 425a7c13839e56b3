/**
 * Ignore rules: accepted risks with an id, optionally a package (purl, name,
 * version, type, path), a reason and an expiry. Read from shipgate's own
 * YAML (`ignore:` entries with id/purl/package/reason/expires), Trivy's
 * `.trivyignore` (one id per line, optional `exp:YYYY-MM-DD`) and
 * `.trivyignore.yaml` (`vulnerabilities:` with paths/purls/statement/
 * expired_at), and Grype's config (`ignore:` with vulnerability, fix-state,
 * package {name, version, type, location}, reason). An expired rule stops
 * suppressing, and the report says so.
 */
import { readFile } from "node:fs/promises";
import { PackageURL } from "packageurl-js";
import { parse as parseYaml } from "yaml";
import { ShipgateError } from "../../errors.js";
import type { Finding, Suppression } from "../report/model.js";

export interface IgnoreRule {
  id?: string;
  purls?: string[];
  packageName?: string;
  packageVersion?: string;
  packageType?: string;
  /** Globs over the package's file locations (`**` any depth, `*` within a segment). */
  paths?: string[];
  /** Grype: fixed | not-fixed | wont-fix | unknown. */
  fixState?: string;
  reason?: string;
  /** YYYY-MM-DD (or ISO 8601): the rule stops applying after this day. */
  expires?: string;
  origin: string;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined =>
  typeof v === "string" && v.trim() !== ""
    ? v.trim()
    : v instanceof Date
      ? v.toISOString().slice(0, 10)
      : undefined;
const list = (v: unknown): string[] | undefined => {
  if (v === undefined || v === null) return undefined;
  const items = (Array.isArray(v) ? v : [v]).map(str).filter((x): x is string => x !== undefined);
  return items.length ? items : undefined;
};

function compact(rule: IgnoreRule): IgnoreRule {
  return Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined)) as unknown as IgnoreRule;
}

function invalid(origin: string, what: string): ShipgateError {
  return new ShipgateError("CONFIG_INVALID", `${origin}: ${what}`, {
    hint: "an ignore file is .trivyignore lines, a .trivyignore.yaml, a Grype `ignore:` list or shipgate's `ignore:` list",
  });
}

/** Trivy's plain format: `CVE-2019-14697 exp:2023-01-01`, `#` comments. */
function parseTrivyIgnore(text: string, origin: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [id, ...rest] = line.split(/\s+/);
    const exp = rest.find((r) => r.startsWith("exp:"))?.slice(4);
    if (exp !== undefined && Number.isNaN(Date.parse(exp)))
      throw invalid(origin, `${id}: exp:${exp} is not a date`);
    rules.push(compact({ id, expires: exp, origin }));
  }
  return rules;
}

function fromYaml(doc: Json, origin: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  // Trivy's .trivyignore.yaml
  for (const v of Array.isArray(doc.vulnerabilities) ? (doc.vulnerabilities as Json[]) : []) {
    const id = str(v.id);
    if (id === undefined) throw invalid(origin, "a vulnerabilities entry without an id");
    rules.push(
      compact({
        id,
        purls: list(v.purls),
        paths: list(v.paths),
        reason: str(v.statement),
        expires: str(v.expired_at),
        origin,
      }),
    );
  }
  // Grype's `ignore:` rules and shipgate's own entries share the key.
  for (const v of Array.isArray(doc.ignore) ? (doc.ignore as Json[]) : []) {
    const p = (v.package ?? {}) as Json;
    const id = str(v.vulnerability) ?? str(v.id);
    const rule = compact({
      id,
      purls: list(v.purl ?? v.purls),
      packageName: str(p.name) ?? (typeof v.package === "string" ? v.package : undefined),
      packageVersion: str(p.version),
      packageType: str(p.type),
      paths: list(p.location),
      fixState: str(v["fix-state"]),
      reason: str(v.reason) ?? str(v.statement),
      expires: str(v.expires) ?? str(v.expired_at),
      origin,
    });
    if (!rule.id && !rule.purls && !rule.packageName && !rule.paths && !rule.fixState) {
      throw invalid(
        origin,
        "an ignore entry that names no vulnerability and no package would ignore everything",
      );
    }
    rules.push(rule);
  }
  for (const r of rules) {
    if (r.expires !== undefined && Number.isNaN(Date.parse(r.expires))) {
      throw invalid(origin, `${r.id ?? "rule"}: expiry ${r.expires} is not a date`);
    }
  }
  return rules;
}

export function parseIgnoreFile(text: string, origin: string): IgnoreRule[] {
  const trimmed = text.trim();
  const looksYaml = /^(vulnerabilities|ignore|misconfigurations|secrets|licenses)\s*:/m.test(trimmed);
  if (!looksYaml) return parseTrivyIgnore(text, origin);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw invalid(origin, `not YAML: ${(error as Error).message}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw invalid(origin, "expected a mapping");
  return fromYaml(doc as Json, origin);
}

export async function loadIgnoreFile(path: string): Promise<IgnoreRule[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ShipgateError("NOT_FOUND", `cannot read the ignore file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseIgnoreFile(text, path);
}

function glob(pattern: string): RegExp {
  const body = pattern
    .replace(/^\/+/, "")
    .split("**")
    .map((part) =>
      part
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]"),
    )
    .join(".*");
  return new RegExp(`^/?${body}$`);
}

function purlMatches(rule: string, purl: string): boolean {
  try {
    const r = PackageURL.fromString(rule);
    const p = PackageURL.fromString(purl);
    return (
      r.type === p.type &&
      (r.namespace ?? "") === (p.namespace ?? "") &&
      r.name === p.name &&
      (r.version === undefined || r.version === null || r.version === p.version)
    );
  } catch {
    return rule === purl;
  }
}

export function ruleMatches(rule: IgnoreRule, f: Finding): boolean {
  if (rule.id !== undefined && ![f.id, ...f.aliases, ...f.records].includes(rule.id)) return false;
  if (rule.purls && !rule.purls.some((p) => purlMatches(p, f.package.purl))) return false;
  if (rule.packageName !== undefined && rule.packageName !== f.package.name) return false;
  if (rule.packageVersion !== undefined && rule.packageVersion !== f.package.version) return false;
  if (rule.packageType !== undefined && rule.packageType !== f.package.type) return false;
  if (rule.paths && !rule.paths.some((p) => f.package.locations.some((l) => glob(p).test(l)))) return false;
  if (rule.fixState !== undefined) {
    const state = f.fixedIn.length > 0 ? "fixed" : "not-fixed";
    if (rule.fixState !== state && !(rule.fixState === "unknown" && state === "not-fixed")) return false;
  }
  return true;
}

/** Rules expire at the end of their day (UTC). */
export function isExpired(rule: IgnoreRule, now: Date): boolean {
  if (rule.expires === undefined) return false;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(rule.expires) ? `${rule.expires}T23:59:59.999Z` : rule.expires;
  return Date.parse(day) < now.getTime();
}

/** The suppression a finding gets, or the expired rules that would have applied (for the report's notes). */
export function ignoreSuppression(
  f: Finding,
  rules: readonly IgnoreRule[],
  now: Date,
): { suppression?: Suppression; expired: IgnoreRule[] } {
  const matching = rules.filter((r) => ruleMatches(r, f));
  const active = matching.find((r) => !isExpired(r, now));
  const expired = matching.filter((r) => isExpired(r, now));
  if (active === undefined) return { expired };
  return {
    suppression: {
      by: "ignore",
      status: "ignored",
      ...(active.reason ? { reason: active.reason } : {}),
      ...(active.expires ? { justification: `until ${active.expires}` } : {}),
      origin: active.origin,
    },
    expired,
  };
}
