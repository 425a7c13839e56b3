/**
 * OSV `affected` semantics (ossf/osv-schema, "Evaluation"): a version is
 * affected when it is listed in `versions` or falls in any range. In a
 * range, events are sorted by version (introduced "0" first) and walked:
 * introduced opens, fixed closes at that version, last_affected closes after
 * it, and `limit` caps the whole range. GIT ranges name commits, not
 * versions: they cannot be evaluated against an installed package and are
 * ignored with a note (osv.dev enumerates their versions into `versions`).
 */

import { eventOf, type OsvAffected, type OsvRange } from "../osv/schema.js";
import type { VersionComparator } from "../versions/index.js";

export interface AffectedResult {
  affected: boolean;
  /** The fixed version closing the range this version is in (the upgrade target). */
  fixedIn?: string;
  /** Why part of the entry could not be evaluated. */
  notes: string[];
  /**
   * Not affected as far as could be told, but part of the entry could not be
   * evaluated (only GIT ranges, no comparator, unreadable versions): the
   * report must say so rather than pass it silently.
   */
  undecided?: boolean;
}

export interface Comparators {
  /** The ecosystem's own order, for ECOSYSTEM ranges and `versions` (undefined: none known). */
  ecosystem: VersionComparator | undefined;
  /** SemVer 2.0 order, for SEMVER ranges. */
  semver: VersionComparator;
}

type Event = ReturnType<typeof eventOf>;

/** Sorts events as the OSV spec's evaluation requires: by version, introduced "0" lowest. */
export function sortEvents(events: readonly Event[], compare: (a: string, b: string) => number): Event[] {
  const zero = (e: Event) => e.kind === "introduced" && e.version === "0";
  return [...events].sort((a, b) => {
    if (zero(a) || zero(b)) return zero(a) === zero(b) ? 0 : zero(a) ? -1 : 1;
    return compare(a.version, b.version);
  });
}

/**
 * What evaluating a range against any version needs, worked out once per
 * range and comparator: its events read, checked and sorted (a rescan
 * evaluates the same range for many installed versions).
 */
interface CompiledRange {
  comparator: VersionComparator;
  note?: string;
  limits: string[];
  sorted: Event[];
}
const compiled = new WeakMap<OsvRange, CompiledRange>();

function compile(range: OsvRange, comparator: VersionComparator): CompiledRange {
  const known = compiled.get(range);
  if (known !== undefined && known.comparator === comparator) return known;
  const events = range.events.map(eventOf);
  const bad = events.find(
    (e) => !(e.kind === "introduced" && e.version === "0") && !comparator.isValid(e.version),
  );
  const c: CompiledRange =
    bad !== undefined
      ? {
          comparator,
          note: `${range.type} range has a version ${comparator.ecosystem} cannot read: ${bad.kind} ${bad.version}`,
          limits: [],
          sorted: [],
        }
      : {
          comparator,
          limits: events.filter((e) => e.kind === "limit").map((e) => e.version),
          sorted: sortEvents(events, (a, b) => comparator.compare(a, b)),
        };
  compiled.set(range, c);
  return c;
}

/** Evaluates one range; undefined when it cannot be evaluated (GIT, bad versions). */
export function inRange(
  version: string,
  range: OsvRange,
  comparator: VersionComparator,
): { affected: boolean; fixedIn?: string; note?: string } {
  const c = compile(range, comparator);
  if (c.note !== undefined) return { affected: false, note: c.note };
  const cmp = (a: string, b: string) => comparator.compare(a, b);
  if (c.limits.length > 0 && !c.limits.some((l) => cmp(version, l) < 0)) return { affected: false };
  let affected = false;
  for (const e of c.sorted) {
    if (e.kind === "introduced" && (e.version === "0" || cmp(version, e.version) >= 0)) affected = true;
    else if (e.kind === "fixed" && cmp(version, e.version) >= 0) affected = false;
    else if (e.kind === "last_affected" && cmp(version, e.version) > 0) affected = false;
  }
  if (!affected) return { affected };
  // The upgrade target: the first fixed version above the installed one.
  const fixed = c.sorted.find((e) => e.kind === "fixed" && cmp(version, e.version) < 0);
  return fixed ? { affected, fixedIn: fixed.version } : { affected };
}

// osv.dev enumerates hundreds of versions in some entries: a set, made once per entry, answers in one look.
const listedSets = new WeakMap<OsvAffected, Set<string>>();
function isListed(entry: OsvAffected, versions: readonly string[], version: string): boolean {
  if (versions.length < 16) return versions.includes(version);
  let set = listedSets.get(entry);
  if (set === undefined) listedSets.set(entry, (set = new Set(versions)));
  return set.has(version);
}

export function evaluateAffected(
  version: string,
  entry: OsvAffected,
  comparators: Comparators,
): AffectedResult {
  const notes: string[] = [];
  let affected = false;
  let fixedIn: string | undefined;
  const eco = comparators.ecosystem;
  const versions = entry.versions ?? [];
  // Exact spelling first. Equal-but-differently-written versions (PEP 440's
  // 1.0 == 1.0.0) are looked for only when no range can be evaluated: a
  // range covers them anyway, and comparing against every listed version
  // (osv.dev enumerates hundreds) is most of a scan's time.
  const evaluable = (entry.ranges ?? []).some((r) => r.type !== "GIT");
  const listed =
    isListed(entry, versions, version) ||
    (!evaluable &&
      eco !== undefined &&
      eco.isValid(version) &&
      versions.some((v) => eco.isValid(v) && eco.compare(v, version) === 0));
  if (listed) affected = true;
  for (const range of entry.ranges ?? []) {
    if (range.type === "GIT") {
      notes.push(`GIT range${range.repo ? ` of ${range.repo}` : ""} ignored (commits, not versions)`);
      continue;
    }
    const comparator = range.type === "SEMVER" ? comparators.semver : eco;
    if (comparator === undefined) {
      notes.push(`no version comparator for this ecosystem: its ${range.type} range was not evaluated`);
      continue;
    }
    if (!comparator.isValid(version)) {
      notes.push(
        `installed version ${version} is not a valid ${comparator.ecosystem} version: range not evaluated`,
      );
      continue;
    }
    const r = inRange(version, range, comparator);
    if (r.note) notes.push(r.note);
    if (r.affected) {
      affected = true;
      if (r.fixedIn !== undefined && (fixedIn === undefined || comparator.compare(r.fixedIn, fixedIn) < 0))
        fixedIn = r.fixedIn;
    }
  }
  const onlyGit =
    versions.length === 0 &&
    (entry.ranges ?? []).length > 0 &&
    (entry.ranges ?? []).every((r) => r.type === "GIT");
  const undecided = !affected && (onlyGit || notes.some((n) => !n.startsWith("GIT range")));
  return {
    affected,
    notes,
    ...(fixedIn === undefined ? {} : { fixedIn }),
    ...(undecided ? { undecided } : {}),
  };
}
