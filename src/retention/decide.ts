import { isDigestTag } from "../oci/referrers.js";
import type { EcrPolicy } from "./ecr-policy.js";
import { judgeByEcrPolicy } from "./ecr-policy.js";
import type {
  Attachment,
  Decision,
  DigestDecision,
  DigestRole,
  Inventory,
  JudgedImage,
  PlanStep,
  PlanTotals,
  TagDecision,
} from "./model.js";
import { type CompiledRules, judgeTags, judgeUntagged } from "./rules.js";

export type Judge = { kind: "rules"; rules: CompiledRules } | { kind: "ecr"; policy: EcrPolicy };

export interface DecideInput {
  inventory: Inventory;
  now: number;
  judge: Judge;
  /** digest → why it must stay (keep_deployed, promoted to a later environment). */
  protected: Map<string, Decision>;
}

export interface Decided {
  tags: TagDecision[];
  digests: DigestDecision[];
  steps: PlanStep[];
  totals: PlanTotals;
  warnings: string[];
}

interface Classified {
  /** Release images: digest → their non-attachment tags. */
  images: Map<string, string[]>;
  untagged: Set<string>;
  /** Attachment digest → its subject. */
  subjectOf: Map<string, string>;
  /** Child digest → the indexes that list it. */
  parents: Map<string, string[]>;
}

function classify(inventory: Inventory): Classified {
  const subjectOf = new Map<string, string>();
  for (const [subject, list] of inventory.attachments)
    for (const a of list) if (a.digest !== subject) subjectOf.set(a.digest, subject);
  const parents = new Map<string, string[]>();
  for (const rec of inventory.manifests.values()) {
    if (subjectOf.has(rec.digest)) continue;
    for (const child of rec.children) parents.set(child, [...(parents.get(child) ?? []), rec.digest]);
  }
  const images = new Map<string, string[]>();
  for (const [tag, digest] of inventory.tags) {
    if (isDigestTag(tag) || subjectOf.has(digest)) continue;
    const list = images.get(digest);
    if (list === undefined) images.set(digest, [tag]);
    else list.push(tag);
  }
  const untagged = new Set<string>();
  for (const digest of inventory.manifests.keys())
    if (!images.has(digest) && !subjectOf.has(digest) && !parents.has(digest)) untagged.add(digest);
  return { images, untagged, subjectOf, parents };
}

/**
 * Turns judgements into a plan: which tags and digests stay, which go, in what order, and the
 * bytes freed. Safety comes from the keep set: kept images, protected digests, every child of a
 * kept index and every attachment of anything kept; nothing in it is ever deleted.
 */
export function decide(input: DecideInput): Decided {
  const { inventory, now } = input;
  const c = classify(inventory);
  const created = (digest: string) => inventory.manifests.get(digest)?.created;
  const judged: JudgedImage[] = [];
  for (const [digest, tags] of c.images) {
    const t = created(digest);
    judged.push(t === undefined ? { digest, tags } : { digest, tags, created: t });
  }
  const tagDecisions = new Map<string, Decision>();
  const untaggedDecisions = new Map<string, Decision>();
  if (input.judge.kind === "rules") {
    for (const [tag, d] of judgeTags(judged, input.judge.rules, now)) tagDecisions.set(tag, d);
    for (const digest of c.untagged)
      untaggedDecisions.set(digest, judgeUntagged(created(digest), input.judge.rules, now));
  } else {
    const all = [
      ...judged,
      ...[...c.untagged].map((digest) => ({ digest, tags: [], created: created(digest) })),
    ];
    const verdicts = judgeByEcrPolicy(all as JudgedImage[], input.judge.policy, now);
    for (const [digest, tags] of c.images)
      for (const tag of tags) tagDecisions.set(tag, verdicts.get(digest) as Decision);
    for (const digest of c.untagged) untaggedDecisions.set(digest, verdicts.get(digest) as Decision);
  }

  // Roots of the keep set, and the rule that put each there.
  const keep = new Map<string, Decision>();
  for (const [digest, tags] of c.images) {
    const kept = tags.map((t) => tagDecisions.get(t) as Decision).find((d) => d.action === "keep");
    if (kept !== undefined)
      keep.set(digest, { action: "keep", rule: kept.rule, ...(kept.detail ? { detail: kept.detail } : {}) });
  }
  for (const [digest, d] of untaggedDecisions) if (d.action === "keep") keep.set(digest, d);
  for (const [digest, why] of input.protected) {
    if (!inventory.manifests.has(digest) || c.subjectOf.has(digest)) continue;
    keep.set(digest, why);
    // A deployed or promoted digest keeps all its tags: a pod may pull it by any of them.
    for (const tag of c.images.get(digest) ?? [])
      if (tagDecisions.get(tag)?.action === "delete") tagDecisions.set(tag, why);
  }
  // Closure: children of kept indexes, attachments of anything kept.
  const queue = [...keep.keys()];
  while (queue.length > 0) {
    const digest = queue.pop() as string;
    const rec = inventory.manifests.get(digest);
    const next: [string, Decision][] = [];
    if (rec !== undefined && !c.subjectOf.has(digest))
      for (const child of rec.children)
        next.push([child, { action: "keep", rule: "index_child", detail: `listed by kept index ${digest}` }]);
    for (const a of inventory.attachments.get(digest) ?? [])
      next.push([a.digest, { action: "keep", rule: "attachment", detail: `of kept ${digest}` }]);
    for (const [d, why] of next) {
      if (keep.has(d)) continue;
      keep.set(d, why);
      queue.push(d);
    }
  }

  const warnings: string[] = [];
  const steps: PlanStep[] = [];
  const deleted = new Map<string, Decision>();
  const attachmentsOf = (digest: string): Attachment[] => {
    const out: Attachment[] = [];
    const seen = new Set([digest]);
    let frontier = [digest];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const subject of frontier)
        for (const a of inventory.attachments.get(subject) ?? []) {
          if (seen.has(a.digest) || keep.has(a.digest) || !inventory.manifests.has(a.digest)) continue;
          seen.add(a.digest);
          out.push(subject === digest ? a : { ...a, via: `${a.via} of ${subject}` });
          next.push(a.digest);
        }
      frontier = next;
    }
    return out;
  };
  const tagsOn = new Map<string, string[]>();
  for (const [tag, digest] of inventory.tags) tagsOn.set(digest, [...(tagsOn.get(digest) ?? []), tag]);
  const deleteManifest = (digest: string, why: Decision) => {
    if (deleted.has(digest) || keep.has(digest)) return;
    deleted.set(digest, why);
    const attachments = attachmentsOf(digest);
    for (const a of attachments)
      deleted.set(a.digest, { action: "delete", rule: "attachment", detail: `goes with ${digest}` });
    steps.push({
      op: "delete-manifest",
      digest,
      tags: (tagsOn.get(digest) ?? []).filter((t) => !isDigestTag(t)).sort(),
      attachments,
      bytes: 0,
    });
    for (const child of inventory.manifests.get(digest)?.children ?? [])
      if (!c.subjectOf.has(digest) && !c.images.has(child))
        deleteManifest(child, {
          action: "delete",
          rule: "index_child",
          detail: `listed only by deleted index ${digest}`,
        });
  };

  // Tags that go while their digest stays: one by one, first.
  for (const [digest, tags] of c.images) {
    if (!keep.has(digest)) continue;
    for (const tag of tags)
      if (tagDecisions.get(tag)?.action === "delete") steps.push({ op: "delete-tag", tag, digest });
  }
  // Whole manifests, oldest first so an interrupted run has removed the least useful ones.
  const candidates = [...c.images.keys(), ...c.untagged].filter((d) => !keep.has(d));
  candidates.sort((a, b) => (created(a) ?? 0) - (created(b) ?? 0) || (a < b ? -1 : 1));
  for (const digest of candidates) {
    const why = c.images.has(digest)
      ? (tagDecisions.get((c.images.get(digest) as string[])[0] as string) as Decision)
      : (untaggedDecisions.get(digest) as Decision);
    deleteManifest(digest, why);
  }

  for (const subject of inventory.missingSubjects)
    warnings.push(
      `attachments of ${subject}, which is not in this repository, are kept (signatures stored in another repository?)`,
    );
  for (const digest of c.images.keys())
    if (created(digest) === undefined)
      warnings.push(
        `${digest} has no creation time (config created or ${"org.opencontainers.image.created"}): kept`,
      );

  // Decisions per digest, for the report.
  const digests: DigestDecision[] = [];
  for (const rec of inventory.manifests.values()) {
    const role: DigestRole = c.subjectOf.has(rec.digest)
      ? "attachment"
      : c.images.has(rec.digest)
        ? rec.kind === "index"
          ? "index"
          : "image"
        : c.parents.has(rec.digest)
          ? "child"
          : "untagged";
    let decision = keep.get(rec.digest) ?? deleted.get(rec.digest);
    if (decision === undefined) {
      // Attachments of a subject missing from the repository, and children of indexes nobody deletes.
      decision = { action: "keep", rule: role === "attachment" ? "subject_elsewhere" : "unreferenced" };
    }
    const out: DigestDecision = {
      digest: rec.digest,
      role,
      tags: (tagsOn.get(rec.digest) ?? []).sort(),
      ...decision,
    };
    if (rec.created !== undefined) out.created = new Date(rec.created).toISOString();
    digests.push(out);
  }
  digests.sort((a, b) => (a.digest < b.digest ? -1 : 1));

  const tags: TagDecision[] = [];
  for (const [tag, digest] of inventory.tags) {
    let d = tagDecisions.get(tag);
    if (d === undefined) {
      // Attachment tags follow their subject's manifest.
      d = deleted.has(digest)
        ? { action: "delete", rule: "attachment", detail: deleted.get(digest)?.detail ?? "" }
        : { action: "keep", rule: "attachment", detail: keep.get(digest)?.detail ?? "subject stays" };
    }
    tags.push({ tag, digest, ...d });
  }
  for (const tag of inventory.dangling)
    tags.push({
      tag,
      digest: "",
      action: "delete",
      rule: "dangling",
      detail: "listed, but resolves to no manifest",
    });
  tags.sort((a, b) => (a.tag < b.tag ? -1 : 1));

  const totals = totalsOf(inventory, keep, deleted, tags, steps);
  return { tags, digests, steps, totals, warnings };
}

/** Bytes freed: blobs and manifests of deleted manifests that no kept manifest references. */
function totalsOf(
  inventory: Inventory,
  keep: Map<string, Decision>,
  deleted: Map<string, Decision>,
  tags: TagDecision[],
  steps: PlanStep[],
): PlanTotals {
  const kept = new Set<string>();
  for (const digest of keep.keys()) {
    const rec = inventory.manifests.get(digest);
    if (rec === undefined) continue;
    kept.add(digest);
    for (const b of rec.blobs) kept.add(b.digest);
  }
  // Manifests nobody decided on (kept by default) keep their blobs too.
  for (const rec of inventory.manifests.values())
    if (!deleted.has(rec.digest) && !keep.has(rec.digest))
      for (const b of [rec, ...rec.blobs]) kept.add(b.digest);
  const freed = new Set<string>();
  let bytesFreed = 0;
  for (const step of steps) {
    if (step.op !== "delete-manifest") continue;
    for (const digest of [step.digest, ...step.attachments.map((a) => a.digest)]) {
      const rec = inventory.manifests.get(digest);
      if (rec === undefined) continue;
      for (const b of [{ digest: rec.digest, size: rec.size }, ...rec.blobs]) {
        if (kept.has(b.digest) || freed.has(b.digest)) continue;
        freed.add(b.digest);
        step.bytes += b.size;
        bytesFreed += b.size;
      }
    }
  }
  const deletedTags = tags.filter((t) => t.action === "delete").length;
  return {
    tags: tags.length,
    keptTags: tags.length - deletedTags,
    deletedTags,
    manifests: inventory.manifests.size,
    deletedManifests: [...deleted.keys()].filter((d) => inventory.manifests.has(d)).length,
    bytesFreed,
  };
}
