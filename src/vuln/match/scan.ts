/**
 * The matcher: every package of an SBOM against the records of its OSV
 * ecosystem and name, with records that are aliases of each other merged so
 * one weakness in one package is one finding.
 */
import type { Distro, Package, Sbom } from "../../sbom/model.js";
import { indexName } from "../db/names.js";
import type { Candidate, VulnDb } from "../db/store.js";
import { baseEcosystem, candidateKey } from "../db/store.js";
import type { OsvAffected, OsvRecord } from "../osv/schema.js";
import { applyFilters, type FilterOptions } from "../report/filters.js";
import { compareFindings, type Finding, type ScanReport } from "../report/model.js";
import { recordSeverity, type Severity, worstSeverity } from "../severity/severity.js";
import { comparatorFor, type VersionComparator } from "../versions/index.js";
import { evaluateAffected } from "./affected.js";
import { type MatchKey, matchKey } from "./ecosystems.js";
import { semverComparator } from "./semver.js";

export interface ScanOptions extends FilterOptions {
  /** Report timestamp (default now). */
  now?: Date;
  /**
   * Match results to reuse across scans against the same, unchanged
   * database handle (a rescan of every stored SBOM meets the same package
   * versions again and again).
   */
  cache?: MatchCache;
}

interface KeyResult {
  /** Matches merged by alias: one finding each, less the package. */
  findings: FindingTemplate[];
  /** The record ecosystem of the last match (e.g. `Debian:12`). */
  ecosystem: string;
  /** Why records could not be decided for this version. */
  undecided: string[];
}

/**
 * What one (ecosystem, name, version, release) matched: a pure function of
 * the key and the database, so it is computed once per key. Valid only while
 * the database is not written; make one per rescan.
 */
export class MatchCache {
  private readonly results = new Map<string, KeyResult>();
  /** Packages met before, by purl: their match key (parsing a purl costs more than matching it once). */
  readonly packages = new Map<string, Resolved[]>();

  get(key: string): KeyResult | undefined {
    return this.results.get(key);
  }

  set(key: string, result: KeyResult): void {
    this.results.set(key, result);
  }
}

/**
 * A package's match key, with every input matchKey reads (so a package that
 * shares the purl but not, say, the source package gets its own), and the
 * key's result once known.
 */
interface Resolved {
  version: string;
  name: string;
  sourceName: string | undefined;
  sourceVersion: string | undefined;
  distroId: string | undefined;
  distroVersion: string | undefined;
  /** matchKey's answer until the result is known (then only the result is kept). */
  key: MatchKey | { skipped: string } | undefined;
  ck: string | undefined;
  result?: KeyResult;
}

/** Keeps a key's result with the package (when the key has a cache key: else it is matched every time). */
function known(resolved: Resolved, result: KeyResult | undefined): void {
  if (result === undefined || resolved.ck === undefined) return;
  resolved.result = result;
  resolved.key = undefined;
  resolved.ck = undefined;
}

function resolve(cache: MatchCache, pkg: Package, distro: Distro | undefined): Resolved {
  const seen = cache.packages.get(pkg.purl);
  const distroId = distro?.id;
  const distroVersion = distro?.versionId;
  if (seen !== undefined) {
    for (const r of seen) {
      if (
        r.version === pkg.version &&
        r.name === pkg.name &&
        r.sourceName === pkg.source?.name &&
        r.sourceVersion === pkg.source?.version &&
        r.distroId === distroId &&
        r.distroVersion === distroVersion
      )
        return r;
    }
  }
  const key = matchKey(pkg, distro);
  const r: Resolved = {
    version: pkg.version,
    name: pkg.name,
    sourceName: pkg.source?.name,
    sourceVersion: pkg.source?.version,
    distroId,
    distroVersion,
    key,
    ck: "skipped" in key ? undefined : cacheKey(key),
  };
  if (seen === undefined) cache.packages.set(pkg.purl, [r]);
  else seen.push(r);
  return r;
}

/** The cache key, or undefined when a release test has no text to key it by. */
function cacheKey(key: MatchKey): string | undefined {
  if (key.releases !== undefined && key.release === undefined) return undefined;
  return `${key.ecosystem}\u0000${indexName(key.ecosystem, key.name)}\u0000${key.version}\u0000${key.release ?? ""}`;
}

interface Match {
  record: OsvRecord;
  severity: Severity;
  fixedIn?: string;
  notes: string[];
}

/** Comparators by ecosystem, falling back to SemVer for npm until a dedicated one is registered. */
function ecosystemComparator(ecosystem: string): VersionComparator | undefined {
  return comparatorFor(ecosystem) ?? (ecosystem === "npm" ? semverComparator : undefined);
}

export async function scanSbom(sbom: Sbom, db: VulnDb, options: ScanOptions = {}): Promise<ScanReport> {
  const notes = new Set<string>();
  const cache = options.cache ?? new MatchCache();
  const keyed: { pkg: Package; resolved: Resolved }[] = [];
  const unknown: MatchKey[] = [];
  for (const pkg of sbom.packages) {
    const resolved = resolve(cache, pkg, sbom.distro);
    const key = resolved.key;
    if (key !== undefined && "skipped" in key) {
      if (pkg.type !== "unknown") notes.add(`${pkg.name} ${pkg.version}: not matched: ${key.skipped}`);
      continue;
    }
    if (resolved.result === undefined && resolved.ck !== undefined) known(resolved, cache.get(resolved.ck));
    if (resolved.result === undefined && key !== undefined) unknown.push(key);
    keyed.push({ pkg, resolved });
  }
  // Candidates only for what the cache cannot answer (in a rescan, most packages were met before).
  const index = await db.candidates(unknown);
  // Evaluated once per key in this SBOM (a key without a cache key: once per package).
  const evaluated = new Map<string, Evaluated>();
  const perPackage = new Map<Resolved, Evaluated>();
  const needed = new Set<string>();
  for (const { resolved } of keyed) {
    if (resolved.result !== undefined) continue;
    const { key, ck } = resolved as Resolved & { key: MatchKey };
    if (ck !== undefined && (evaluated.has(ck) || cache.get(ck) !== undefined)) continue;
    const candidates = index.get(candidateKey(key.ecosystem, indexName(key.ecosystem, key.name))) ?? NONE;
    const e = evaluate(key, candidates);
    for (const h of e.hits) needed.add(h.id);
    if (ck !== undefined) evaluated.set(ck, e);
    else perPackage.set(resolved, e);
  }
  // Whole records only for what matched.
  const records = needed.size > 0 ? await db.recordsById([...needed]) : new Map<string, OsvRecord>();
  for (const [ck, e] of evaluated) cache.set(ck, keyResult(e, records));
  const findings: Finding[] = [];
  for (const { pkg, resolved } of keyed) {
    let result = resolved.result;
    if (result === undefined) {
      const { ck } = resolved;
      const e = perPackage.get(resolved);
      result = e !== undefined ? keyResult(e, records) : (cache.get(ck as string) as KeyResult);
      known(resolved, result);
    }
    for (const note of result.undecided)
      notes.add(`${pkg.name} ${pkg.version}: could not be decided: ${note}`);
    for (const t of result.findings) findings.push(toFinding(pkg, result.ecosystem, t));
  }
  if (sbom.source.platform !== undefined) {
    for (const f of findings) f.platform = sbom.source.platform;
  }
  const stats = { records: await db.totalRecords() };
  const report: ScanReport = {
    schema: "shipgate.scan/v1",
    source: sbom.source,
    ...(sbom.distro ? { distro: sbom.distro } : {}),
    scanner: { name: "shipgate" },
    scannedAt: (options.now ?? new Date()).toISOString(),
    database: { path: db.path, ...stats },
    packages: sbom.packages.length,
    findings: findings.sort(compareFindings),
    suppressed: [],
    notes: [...notes].sort(),
  };
  return applyFilters(report, options);
}

/** A candidate that matched a key: its first affected entry decides severity and notes. */
interface Hit {
  id: string;
  entry: OsvAffected;
  notes: string[];
  fixedIn?: string;
}

/** A key evaluated against its candidates, before the matched records are read whole. */
interface Evaluated {
  hits: Hit[];
  /** The record ecosystem of the last match (e.g. `Debian:12`). */
  ecosystem: string;
  undecided: string[];
}

function evaluate(key: MatchKey, candidates: readonly Candidate[]): Evaluated {
  const hits: Hit[] = [];
  const undecided: string[] = [];
  let ecosystem = key.ecosystem;
  const comparators = { ecosystem: ecosystemComparator(key.ecosystem), semver: semverComparator };
  for (const { candidate, entries } of relevant(key, candidates)) {
    let hit: Hit | undefined;
    for (const { entry, ecosystem: recordEcosystem } of entries) {
      if (key.releases && !key.releases(recordEcosystem)) continue;
      const r = evaluateAffected(key.version, entry, comparators);
      if (r.undecided)
        undecided.push(`${candidate.id}: ${r.notes.join("; ") || "only GIT ranges (commits, not versions)"}`);
      if (!r.affected) continue;
      if (hit === undefined) {
        hit = { id: candidate.id, entry, notes: r.notes, ...(r.fixedIn ? { fixedIn: r.fixedIn } : {}) };
        hits.push(hit);
        ecosystem = recordEcosystem;
      } else if (r.fixedIn && !hit.fixedIn) {
        hit.fixedIn = r.fixedIn;
      }
    }
  }
  return { hits, ecosystem, undecided };
}

/** The key's result, with its matches' whole records (a record that vanished meanwhile is left out). */
function keyResult(e: Evaluated, records: ReadonlyMap<string, OsvRecord>): KeyResult {
  const matches: Match[] = [];
  for (const h of e.hits) {
    const record = records.get(h.id);
    if (record === undefined) continue;
    matches.push({
      record,
      severity: recordSeverity(record, h.entry),
      notes: h.notes,
      ...(h.fixedIn ? { fixedIn: h.fixedIn } : {}),
    });
  }
  return {
    findings: mergeAliases(matches).map((g) => findingTemplate(e.ecosystem, g)),
    ecosystem: e.ecosystem,
    undecided: e.undecided,
  };
}

/** A candidate's affected entries for one (base ecosystem, name). */
interface Relevant {
  candidate: Candidate;
  entries: { entry: OsvAffected; ecosystem: string }[];
}

/**
 * The candidates' entries that name the key's package, worked out once per
 * candidate list (the database hands out the same list for every version
 * of a name) rather than once per version.
 */
const relevantEntries = new WeakMap<readonly Candidate[], { base: string; name: string; list: Relevant[] }>();

function relevant(key: MatchKey, candidates: readonly Candidate[]): Relevant[] {
  const name = indexName(key.ecosystem, key.name);
  const known = relevantEntries.get(candidates);
  if (known !== undefined && known.base === key.ecosystem && known.name === name) return known.list;
  const list: Relevant[] = [];
  for (const candidate of candidates) {
    const entries: Relevant["entries"] = [];
    for (const entry of candidate.affected) {
      const p = entry.package;
      if (!p || baseOf(p.ecosystem) !== key.ecosystem) continue;
      if ((key.ecosystem === "PyPI" ? pypiName(p.name) : p.name) !== name) continue;
      entries.push({ entry, ecosystem: p.ecosystem });
    }
    if (entries.length > 0) list.push({ candidate, entries });
  }
  relevantEntries.set(candidates, { base: key.ecosystem, name, list });
  return list;
}

// Records name few ecosystems and, per ecosystem, the same packages again and again.
const bases = new Map<string, string>();
function baseOf(ecosystem: string): string {
  let base = bases.get(ecosystem);
  if (base === undefined) {
    base = baseEcosystem(ecosystem);
    if (bases.size < 10_000) bases.set(ecosystem, base);
  }
  return base;
}
const NONE: Candidate[] = [];
const pypiNames = new Map<string, string>();
function pypiName(name: string): string {
  let normal = pypiNames.get(name);
  if (normal === undefined) {
    normal = indexName("PyPI", name);
    if (pypiNames.size >= 100_000) pypiNames.clear();
    pypiNames.set(name, normal);
  }
  return normal;
}

/** Groups matches whose ids or aliases overlap (union-find over every id they carry). */
export function mergeAliases(matches: readonly Match[]): Match[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(x, root);
    return root;
  };
  const union = (a: string, b: string) => {
    for (const x of [a, b]) if (!parent.has(x)) parent.set(x, x);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  for (const m of matches) {
    union(m.record.id, m.record.id);
    for (const alias of [...(m.record.aliases ?? []), ...(m.record.upstream ?? [])])
      union(m.record.id, alias);
  }
  const groups = new Map<string, Match[]>();
  for (const m of matches) {
    const root = find(m.record.id);
    groups.set(root, [...(groups.get(root) ?? []), m]);
  }
  return [...groups.values()];
}

/** CVE first (what most people search for), then GHSA, then the record's own id. */
export function primaryId(ids: readonly string[]): string {
  const sorted = [...ids].sort();
  return (
    sorted.find((i) => i.startsWith("CVE-")) ??
    sorted.find((i) => i.startsWith("GHSA-")) ??
    (sorted[0] as string)
  );
}

/** A finding without its package: the same for every package with this match key. */
type FindingTemplate = Omit<Finding, "package">;

function findingTemplate(ecosystem: string, group: Match[]): FindingTemplate {
  const ids = new Set<string>();
  for (const m of group) {
    ids.add(m.record.id);
    for (const a of m.record.aliases ?? []) ids.add(a);
  }
  const id = primaryId([...ids]);
  const comparator = ecosystemComparator(baseEcosystem(ecosystem)) ?? semverComparator;
  const fixedIn = [...new Set(group.flatMap((m) => (m.fixedIn ? [m.fixedIn] : [])))].sort((a, b) =>
    comparator.compare(a, b),
  );
  const references = [...new Set(group.flatMap((m) => (m.record.references ?? []).map((r) => r.url)))].slice(
    0,
    20,
  );
  // PYSEC records carry only `details`: its first line stands in for a title.
  const summary =
    group.map((m) => m.record.summary).find((s) => s !== undefined && s.trim() !== "") ??
    group.map((m) => m.record.details?.trim().split("\n")[0]).find((s) => s !== undefined && s !== "");
  const template: FindingTemplate = {
    id,
    aliases: [...ids].filter((i) => i !== id).sort(),
    records: group.map((m) => m.record.id).sort(),
    severity: worstSeverity(group.map((m) => m.severity)),
    fixedIn,
    references,
    notes: [...new Set(group.flatMap((m) => m.notes))].sort(),
  };
  if (summary !== undefined) template.summary = summary.trim();
  return template;
}

/** The template's finding in one package: its own objects and arrays, so a report can change its findings. */
function toFinding(pkg: Package, ecosystem: string, t: FindingTemplate): Finding {
  const finding: Finding = {
    id: t.id,
    aliases: [...t.aliases],
    records: [...t.records],
    package: {
      name: pkg.name,
      version: pkg.version,
      type: pkg.type,
      purl: pkg.purl,
      ecosystem,
      locations: pkg.locations.map((l) => l.path),
      ...(pkg.source ? { source: pkg.source.name } : {}),
    },
    severity: { ...t.severity },
    fixedIn: [...t.fixedIn],
    references: [...t.references],
    notes: [...t.notes],
  };
  if (t.summary !== undefined) finding.summary = t.summary;
  return finding;
}
