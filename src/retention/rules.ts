import semver from "semver";
import type { RetentionRules } from "../policy/retention-rules.js";
import { DAY_MS, type Decision, type JudgedImage } from "./model.js";
import { compilePatterns, firstMatch, type TagPattern } from "./patterns.js";

/** Rules compiled once per plan (patterns become matchers). */
export interface CompiledRules {
  keepLast?: number;
  maxAgeDays?: number;
  keepSemver: boolean;
  keepTags: TagPattern[];
  include: TagPattern[];
  exclude: TagPattern[];
  untaggedDays?: number;
}

export function compileRules(rules: RetentionRules): CompiledRules {
  const compiled: CompiledRules = {
    keepSemver: rules.keep_semver === true,
    keepTags: compilePatterns(rules.keep_tags),
    include: compilePatterns(rules.include),
    exclude: compilePatterns(rules.exclude),
  };
  if (rules.keep_last !== undefined) compiled.keepLast = rules.keep_last;
  if (rules.max_age_days !== undefined) compiled.maxAgeDays = rules.max_age_days;
  if (rules.untagged_days !== undefined) compiled.untaggedDays = rules.untagged_days;
  return compiled;
}

/** Human summary of the rules, for the plan header. */
export function describeRules(rules: CompiledRules): string {
  const parts: string[] = [];
  if (rules.keepLast !== undefined) parts.push(`keep_last ${rules.keepLast}`);
  if (rules.maxAgeDays !== undefined) parts.push(`max_age_days ${rules.maxAgeDays}`);
  if (rules.keepSemver) parts.push("keep_semver");
  if (rules.keepTags.length > 0) parts.push(`keep_tags ${rules.keepTags.map((p) => p.source).join(",")}`);
  if (rules.include.length > 0) parts.push(`include ${rules.include.map((p) => p.source).join(",")}`);
  if (rules.exclude.length > 0) parts.push(`exclude ${rules.exclude.map((p) => p.source).join(",")}`);
  if (rules.untaggedDays !== undefined) parts.push(`untagged_days ${rules.untaggedDays}`);
  return parts.length === 0 ? "no retain rules (everything in scope is deleted)" : parts.join(", ");
}

function inScope(rules: CompiledRules, tag: string): Decision | undefined {
  if (rules.include.length > 0 && firstMatch(rules.include, tag) === undefined) {
    return { action: "keep", rule: "out_of_scope", detail: "matches no include pattern" };
  }
  const excluded = firstMatch(rules.exclude, tag);
  if (excluded !== undefined)
    return { action: "keep", rule: "out_of_scope", detail: `exclude ${excluded.source}` };
  return undefined;
}

/** Cheap pre-check: semver.valid throws and catches internally, far too slow for a million tags. */
const SEMVER_SHAPE = /^[v=]?\d+\.\d+\.\d+/;

export function isSemverTag(tag: string): boolean {
  return SEMVER_SHAPE.test(tag) && semver.valid(tag) !== null;
}

/**
 * Judges every tag of every release image (attachments never reach here). OR of retain rules, as
 * Harbor's tag retention: a tag is kept when any rule keeps it, deleted otherwise. `keep_last`
 * counts images, newest creation time first, so tags sharing a digest take one place.
 * Returns decisions keyed by tag. Linear apart from one sort; decisions that carry no per-tag
 * detail are shared objects, so a million tags cost a million map entries and little else.
 */
export function judgeTags(images: JudgedImage[], rules: CompiledRules, now: number): Map<string, Decision> {
  const decisions = new Map<string, Decision>();
  const cutoff = rules.maxAgeDays === undefined ? undefined : now - rules.maxAgeDays * DAY_MS;
  const filtering = rules.include.length > 0 || rules.exclude.length > 0;
  // Per image, its in-scope tags (index-aligned with `images`).
  const scoped: (string[] | undefined)[] = new Array(images.length);
  const ranked: number[] = [];
  for (let i = 0; i < images.length; i++) {
    const image = images[i] as JudgedImage;
    let tags = image.tags;
    if (filtering) {
      tags = [];
      for (const tag of image.tags) {
        const out = inScope(rules, tag);
        if (out !== undefined) decisions.set(tag, out);
        else tags.push(tag);
      }
    }
    if (tags.length === 0) continue;
    scoped[i] = tags;
    if (image.created !== undefined) ranked.push(i);
  }
  const recent = newest(images, ranked, rules.keepLast ?? 0);
  const shared = sharedDecisions(rules);
  for (let i = 0; i < images.length; i++) {
    const tags = scoped[i];
    if (tags === undefined) continue;
    const image = images[i] as JudgedImage;
    for (const tag of tags) decisions.set(tag, judgeOne(rules, shared, image, tag, recent.has(i), cutoff));
  }
  return decisions;
}

/**
 * The `n` newest of `ranked` (indexes into `images`), ties broken by digest. A numeric sort of the
 * creation times finds the cut-off (typed-array sort, no comparator calls); only the images at
 * the cut-off are sorted by digest.
 */
function newest(images: JudgedImage[], ranked: number[], n: number): Set<number> {
  const out = new Set<number>();
  if (n <= 0) return out;
  if (n >= ranked.length) {
    for (const i of ranked) out.add(i);
    return out;
  }
  const times = new Float64Array(ranked.length);
  ranked.forEach((i, k) => {
    times[k] = (images[i] as JudgedImage).created as number;
  });
  times.sort();
  const cutoff = times[times.length - n] as number;
  const atCutoff: number[] = [];
  for (const i of ranked) {
    const t = (images[i] as JudgedImage).created as number;
    if (t > cutoff) out.add(i);
    else if (t === cutoff) atCutoff.push(i);
  }
  const digest = (i: number) => (images[i] as JudgedImage).digest;
  atCutoff.sort((a, b) => (digest(a) < digest(b) ? -1 : 1));
  for (const i of atCutoff.slice(0, n - out.size)) out.add(i);
  return out;
}

function sharedDecisions(rules: CompiledRules) {
  const why: string[] = [];
  if (rules.keepLast !== undefined) why.push(`not among the ${rules.keepLast} newest`);
  if (rules.maxAgeDays !== undefined) why.push(`older than ${rules.maxAgeDays} days`);
  return {
    noTime: { action: "keep", rule: "no_creation_time", detail: "neither config created nor annotation" },
    semver: { action: "keep", rule: "keep_semver" },
    last: { action: "keep", rule: "keep_last", detail: `${rules.keepLast} newest` },
    age: { action: "keep", rule: "max_age_days", detail: `younger than ${rules.maxAgeDays} days` },
    none: { action: "delete", rule: "not_retained", detail: why.join(", ") || "no rule keeps it" },
  } satisfies Record<string, Decision>;
}

function judgeOne(
  rules: CompiledRules,
  shared: ReturnType<typeof sharedDecisions>,
  image: JudgedImage,
  tag: string,
  recent: boolean,
  cutoff: number | undefined,
): Decision {
  if (image.created === undefined) return shared.noTime;
  if (rules.keepTags.length > 0) {
    const kept = firstMatch(rules.keepTags, tag);
    if (kept !== undefined) return { action: "keep", rule: "keep_tags", detail: kept.source };
  }
  if (rules.keepSemver && isSemverTag(tag)) return shared.semver;
  if (recent) return shared.last;
  if (cutoff !== undefined && image.created >= cutoff) return shared.age;
  return shared.none;
}

/** Untagged manifests: kept unless `untagged_days` is set and they are older. */
export function judgeUntagged(created: number | undefined, rules: CompiledRules, now: number): Decision {
  if (rules.untaggedDays === undefined) {
    return {
      action: "keep",
      rule: "untagged_no_rule",
      detail: "set untagged_days to collect untagged manifests",
    };
  }
  if (created === undefined) return { action: "keep", rule: "no_creation_time" };
  if (created >= now - rules.untaggedDays * DAY_MS) {
    return { action: "keep", rule: "untagged_days", detail: `younger than ${rules.untaggedDays} days` };
  }
  return {
    action: "delete",
    rule: "untagged_days",
    detail: `untagged, older than ${rules.untaggedDays} days`,
  };
}
