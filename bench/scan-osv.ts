/**
 * A large, deterministic OSV set for the scan benchmark, shaped like the real
 * records in /work/shared/vulndb: GHSA records for npm/Maven/PyPI (CVSS
 * vectors, database_specific severity, CVE aliases), PYSEC duplicates of
 * GHSA ones sharing a CVE (so alias merging has work to do) with osv.dev's
 * enumerated `versions`, golang/vulndb's GO- records with SEMVER ranges, and
 * Debian:12 records naming source packages with `upstream` CVEs. Ranges mix
 * introduced/fixed, last_affected, unfixed and two-window entries. Package
 * popularity is skewed (a few packages have hundreds of records, as the
 * Linux kernel or tensorflow do), which is what makes matching uneven.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import type { OsvRecord } from "../src/vuln/osv/schema.js";

/** mulberry32: small, fast and the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
export const int = (rng: Rng, n: number) => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, list: readonly T[]): T => list[int(rng, list.length)] as T;

/** A version as (major, minor, patch); each ecosystem spells it its own way. */
export type Triple = [number, number, number];
export const tripleValue = (t: Triple) => t[0] * 10_000 + t[1] * 100 + t[2];
const fromValue = (v: number): Triple => [Math.floor(v / 10_000), Math.floor(v / 100) % 100, v % 100];

export type BenchEcosystem = "npm" | "PyPI" | "Go" | "Maven" | "Debian";
export interface EcosystemPlan {
  ecosystem: BenchEcosystem;
  records: number;
  /** Distinct package names the records fall on. */
  packages: number;
}

/** 200,000 records in the proportions of osv.dev's largest ecosystems. */
export const PLAN: EcosystemPlan[] = [
  { ecosystem: "npm", records: 60_000, packages: 15_000 },
  { ecosystem: "PyPI", records: 40_000, packages: 10_000 },
  { ecosystem: "Go", records: 30_000, packages: 10_000 },
  { ecosystem: "Maven", records: 40_000, packages: 10_000 },
  { ecosystem: "Debian", records: 30_000, packages: 3_000 },
];

const WORDS = [
  "parse",
  "stream",
  "http",
  "json",
  "yaml",
  "crypto",
  "auth",
  "token",
  "cache",
  "log",
  "image",
  "xml",
  "sql",
  "orm",
  "proxy",
  "router",
  "template",
  "zip",
  "tar",
  "mail",
  "socket",
  "queue",
  "config",
  "cli",
];

/** The OSV package name of package `i` of an ecosystem (i beyond the plan's count: a name no record has). */
export function packageName(ecosystem: BenchEcosystem, i: number): string {
  const w = WORDS[i % WORDS.length];
  switch (ecosystem) {
    case "npm":
      return i % 5 === 0 ? `@scope${i % 300}/${w}-lib-${i}` : `${w}-${i}`;
    case "PyPI":
      // Mixed case and underscores: the index must normalise (PEP 503) to find them.
      return `Py${w?.toUpperCase()}_${i}`;
    case "Go":
      return i % 7 === 0 ? `github.com/org${i % 700}/${w}-${i}/v2` : `github.com/org${i % 700}/${w}-${i}`;
    case "Maven":
      return `org.example${i % 400}:${w}-${i}`;
    case "Debian":
      return `${w}${i}`;
  }
}

/** How the ecosystem writes a version; Debian versions carry a revision. */
export function spell(ecosystem: BenchEcosystem, t: Triple, fixed = false): string {
  const base = `${t[0]}.${t[1]}.${t[2]}`;
  if (ecosystem !== "Debian") return base;
  return fixed ? `${base}-1+deb12u1` : `${base}-1`;
}

const randomTriple = (rng: Rng): Triple => [int(rng, 10), int(rng, 20), int(rng, 20)];

interface Window {
  introduced?: Triple;
  fixed?: Triple;
  lastAffected?: Triple;
}

function randomWindow(rng: Rng): Window {
  const start = rng() < 0.3 ? undefined : randomTriple(rng);
  const from = start ? tripleValue(start) : 0;
  // Windows a few minor versions wide, as real fixes land.
  const end = fromValue(from + 1 + int(rng, 4) * 100 + int(rng, 20));
  const roll = rng();
  if (roll < 0.08) return start ? { introduced: start } : { introduced: [0, 0, 1] };
  if (roll < 0.23) return { ...(start ? { introduced: start } : {}), lastAffected: end };
  return { ...(start ? { introduced: start } : {}), fixed: end };
}

/** A version certainly inside the window (what the SBOM builder plants). */
export function insideOf(w: Window): Triple {
  return w.introduced ?? [0, 0, 1];
}

function events(ecosystem: BenchEcosystem, w: Window): Record<string, string>[] {
  const out: Record<string, string>[] = [{ introduced: w.introduced ? spell(ecosystem, w.introduced) : "0" }];
  if (w.fixed) out.push({ fixed: spell(ecosystem, w.fixed, true) });
  if (w.lastAffected) out.push({ last_affected: spell(ecosystem, w.lastAffected) });
  return out;
}

/** osv.dev enumerates every release in a PyPI range; up to 60 here. */
function enumerate(w: Window): string[] {
  const from = w.introduced ? tripleValue(w.introduced) : 1;
  const to = w.fixed ? tripleValue(w.fixed) : w.lastAffected ? tripleValue(w.lastAffected) + 1 : from + 40;
  const out: string[] = [];
  for (let v = from; v < to && out.length < 60; v++) {
    if (v % 100 < 20) out.push(spell("PyPI", fromValue(v)));
  }
  return out;
}

const VECTORS = [
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
  "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
  "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
  "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
];
const LABELS = ["CRITICAL", "HIGH", "HIGH", "MODERATE", "LOW"];
const B32 = "23456789cfghjmpqrvwx";

/** What the SBOM builder needs to plant vulnerable versions: one window per package with records. */
export type Windows = Map<string, Window>;

export interface OsvSet {
  /** Per ecosystem folder name, the records in file order. */
  byFolder: Map<string, OsvRecord[]>;
  windows: Windows;
  count: number;
}

export function generateOsv(seed: number, plan: readonly EcosystemPlan[] = PLAN): OsvSet {
  const rng = prng(seed);
  const byFolder = new Map<string, OsvRecord[]>();
  const windows: Windows = new Map();
  const ghsaSeen = new Set<string>();
  let cve = 0;
  let count = 0;
  const ghsa = () => {
    for (;;) {
      const part = () => Array.from({ length: 4 }, () => pick(rng, [...B32])).join("");
      const id = `GHSA-${part()}-${part()}-${part()}`;
      if (!ghsaSeen.has(id)) {
        ghsaSeen.add(id);
        return id;
      }
    }
  };
  for (const p of plan) {
    const records: OsvRecord[] = [];
    let serial = 0;
    for (let r = 0; r < p.records; r++) {
      // Skewed popularity: P(index < k) = sqrt(k / packages).
      const index = Math.floor(p.packages * rng() ** 2);
      const name = packageName(p.ecosystem, index);
      const year = 2016 + int(rng, 10);
      const alias = `CVE-${year}-${10_000 + cve++}`;
      const w = randomWindow(rng);
      const key = `${p.ecosystem}\u0000${name}`;
      if (!windows.has(key)) windows.set(key, w);
      const extra = rng() < 0.07 ? [randomWindow(rng)] : [];
      const osvEcosystem = p.ecosystem === "Debian" ? "Debian:12" : p.ecosystem;
      const entry: Record<string, unknown> = {
        package: { ecosystem: osvEcosystem, name },
        ranges: [
          {
            type: p.ecosystem === "Go" ? "SEMVER" : "ECOSYSTEM",
            events: [w, ...extra].flatMap((x) => events(p.ecosystem, x)),
          },
        ],
      };
      if (p.ecosystem === "PyPI") entry.versions = [w, ...extra].flatMap(enumerate);
      const id =
        p.ecosystem === "Go"
          ? `GO-${year}-${String(++serial).padStart(4, "0")}`
          : p.ecosystem === "Debian"
            ? `DEBIAN-${alias}`
            : ghsa();
      const words = Array.from({ length: 40 + int(rng, 80) }, () => pick(rng, WORDS)).join(" ");
      const record: Record<string, unknown> = {
        schema_version: "1.6.0",
        id,
        modified: `${year + 1}-0${1 + int(rng, 9)}-1${int(rng, 10)}T12:00:00Z`,
        published: `${year}-0${1 + int(rng, 9)}-1${int(rng, 10)}T12:00:00Z`,
        ...(p.ecosystem === "Debian" ? { upstream: [alias] } : { aliases: [alias] }),
        summary: `${pick(rng, WORDS)} ${pick(rng, ["injection", "overflow", "bypass", "DoS"])} in ${name}`,
        details: `${name} before the fixed version allows ${words}.`,
        affected: [entry],
        references: [
          { type: "ADVISORY", url: `https://nvd.nist.gov/vuln/detail/${alias}` },
          { type: "WEB", url: `https://example.org/${p.ecosystem}/${encodeURIComponent(name)}/${r}` },
        ],
      };
      if (id.startsWith("GHSA-")) {
        record.severity = [{ type: "CVSS_V3", score: pick(rng, VECTORS) }];
        record.database_specific = {
          severity: pick(rng, LABELS),
          github_reviewed: true,
          cwe_ids: ["CWE-400"],
        };
      }
      records.push(record as OsvRecord);
      count++;
      // A fifth of PyPI advisories also exist as PYSEC records carrying the same CVE.
      if (p.ecosystem === "PyPI" && rng() < 0.25 && r + 1 < p.records) {
        r++;
        const { severity: _s, database_specific: _d, ...rest } = record;
        records.push({ ...(rest as OsvRecord), id: `PYSEC-${year}-${serial++}`, aliases: [alias, id] });
        count++;
      }
    }
    byFolder.set(p.ecosystem, records);
  }
  return { byFolder, windows, count };
}

/** Writes one osv.dev-style `all.zip` per ecosystem under `dir/<ecosystem>/`. */
export async function writeOsvZips(set: OsvSet, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const [folder, records] of set.byFolder) {
    await mkdir(join(dir, folder), { recursive: true });
    const path = join(dir, folder, "all.zip");
    // Stored, not deflated: the import reads it the same way, and deflating 200 MB in JS would time the set-up.
    const members: Record<string, [Uint8Array, { level: 0 }]> = {};
    for (const r of records) members[`${r.id}.json`] = [strToU8(JSON.stringify(r, null, 2)), { level: 0 }];
    await writeFile(path, zipSync(members));
    out.push(path);
  }
  return out;
}
