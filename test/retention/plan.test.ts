import { describe, expect, it } from "vitest";
import { type RetentionRulesInput, retentionRulesSchema } from "../../src/policy/retention-rules.js";
import type { DeployedRef } from "../../src/retention/deployed.js";
import type { RetentionPlan } from "../../src/retention/model.js";
import { planRetention } from "../../src/retention/plan.js";
import { compileRules } from "../../src/retention/rules.js";
import { MemoryRepository } from "./memory-repository.js";

const NOW = new Date("2026-06-30T00:00:00Z");
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString();

async function plan(
  repo: MemoryRepository,
  rules: RetentionRulesInput,
  extra: { deployed?: DeployedRef[]; promoted?: Set<string> } = {},
): Promise<RetentionPlan> {
  return planRetention(repo, {
    judge: { kind: "rules", rules: compileRules(retentionRulesSchema.parse(rules)) },
    source: "test",
    now: NOW,
    ...(extra.deployed ? { deployed: extra.deployed } : {}),
    ...(extra.promoted
      ? {
          promotedTo: [
            {
              name: "docker://memory.test/prod/app",
              has: async (d: string) => extra.promoted?.has(d) ?? false,
            },
          ],
        }
      : {}),
  });
}

/** tag → "keep rule" / "delete rule", the shape the table rows compare against. */
function tagTable(p: RetentionPlan): Record<string, string> {
  return Object.fromEntries(p.tags.map((t) => [t.tag, `${t.action} ${t.rule}`]));
}

function deletedManifests(p: RetentionPlan): string[] {
  return p.steps.flatMap((s) => (s.op === "delete-manifest" ? [s.digest] : [])).sort();
}

function deletedTagsOnly(p: RetentionPlan): string[] {
  return p.steps.flatMap((s) => (s.op === "delete-tag" ? [s.tag] : [])).sort();
}

describe("retention rules (OR of retain rules)", () => {
  it("keep_last keeps the N newest images by creation time, whatever the tag order", async () => {
    const repo = new MemoryRepository();
    const a = repo.image(["zz-oldest"], daysAgo(40));
    const b = repo.image(["aa-old"], daysAgo(30));
    repo.image(["mm-new"], daysAgo(20));
    repo.image(["bb-newest"], daysAgo(10));
    const p = await plan(repo, { keep_last: 2 });
    expect(tagTable(p)).toEqual({
      "zz-oldest": "delete not_retained",
      "aa-old": "delete not_retained",
      "mm-new": "keep keep_last",
      "bb-newest": "keep keep_last",
    });
    expect(deletedManifests(p)).toEqual([a, b].sort());
    // Oldest first, so an interrupted run removed the least useful images.
    expect(p.steps.map((s) => (s.op === "delete-manifest" ? s.digest : ""))).toEqual([a, b]);
  });

  it.each([
    [{ max_age_days: 30 }, { d5: "keep max_age_days", d20: "keep max_age_days", d60: "delete not_retained" }],
    [
      { keep_last: 1, max_age_days: 10 },
      { d5: "keep keep_last", d20: "delete not_retained", d60: "delete not_retained" },
    ],
    [
      { keep_last: 1, max_age_days: 30 },
      { d5: "keep keep_last", d20: "keep max_age_days", d60: "delete not_retained" },
    ],
    [{ keep_last: 5 }, { d5: "keep keep_last", d20: "keep keep_last", d60: "keep keep_last" }],
    [{}, { d5: "delete not_retained", d20: "delete not_retained", d60: "delete not_retained" }],
  ] as [RetentionRulesInput, Record<string, string>][])("%j", async (rules, expected) => {
    const repo = new MemoryRepository();
    repo.image(["d5"], daysAgo(5));
    repo.image(["d20"], daysAgo(20));
    repo.image(["d60"], daysAgo(60));
    expect(tagTable(await plan(repo, rules))).toEqual(expected);
  });

  it("keep_semver, keep_tags (glob and regex), include and exclude", async () => {
    const repo = new MemoryRepository();
    for (const tag of [
      "1.2.3",
      "v2.0.0-rc.1",
      "1.2",
      "latest",
      "release-7",
      "stable",
      "pr-12",
      "main-abc",
      "build-9",
    ])
      repo.image([tag], daysAgo(400));
    const p = await plan(repo, {
      keep_semver: true,
      keep_tags: ["release-*", "/^stable$/"],
      exclude: ["/^main-/"],
    });
    expect(tagTable(p)).toEqual({
      "1.2.3": "keep keep_semver",
      "v2.0.0-rc.1": "keep keep_semver",
      "1.2": "delete not_retained",
      latest: "delete not_retained",
      "release-7": "keep keep_tags",
      stable: "keep keep_tags",
      "pr-12": "delete not_retained",
      "main-abc": "keep out_of_scope",
      "build-9": "delete not_retained",
    });
    const scoped = await plan(repo, { include: ["pr-*", "build-{8,9}"] });
    expect(
      Object.entries(tagTable(scoped))
        .filter(([, v]) => v.startsWith("delete"))
        .map(([k]) => k)
        .sort(),
    ).toEqual(["build-9", "pr-12"]);
  });

  it("keep_last breaks creation-time ties by digest, so the result never depends on listing order", async () => {
    const repo = new MemoryRepository();
    const same = daysAgo(3);
    const digests = ["x", "y", "z"].map((t) => repo.image([t], same));
    repo.image(["newest"], daysAgo(1));
    const p = await plan(repo, { keep_last: 3 });
    const sorted = [...digests].sort();
    const keptDigests = p.digests.filter((d) => d.action === "keep").map((d) => d.digest);
    expect(keptDigests.sort()).toEqual([repo.tags.get("newest"), sorted[0], sorted[1]].sort());
  });

  it("keep_last counts images, not tags, and only in-scope ones", async () => {
    const repo = new MemoryRepository();
    repo.image(["3.0.0", "latest", "sha-3"], daysAgo(1));
    repo.image(["sha-2"], daysAgo(2));
    repo.image(["sha-1"], daysAgo(3));
    const p = await plan(repo, { keep_last: 2, exclude: ["latest"] });
    expect(tagTable(p)).toMatchObject({
      "3.0.0": "keep keep_last",
      latest: "keep out_of_scope",
      "sha-3": "keep keep_last",
      "sha-2": "keep keep_last",
      "sha-1": "delete not_retained",
    });
  });

  it("deleting a tag never deletes other tags on its digest; a digest goes only when no kept tag points at it", async () => {
    const repo = new MemoryRepository();
    const shared = repo.image(["1.0.0", "build-100", "nightly"], daysAgo(300));
    const alone = repo.image(["build-101"], daysAgo(299));
    const p = await plan(repo, { keep_semver: true });
    expect(tagTable(p)).toEqual({
      "1.0.0": "keep keep_semver",
      "build-100": "delete not_retained",
      nightly: "delete not_retained",
      "build-101": "delete not_retained",
    });
    expect(deletedTagsOnly(p)).toEqual(["build-100", "nightly"]);
    expect(deletedManifests(p)).toEqual([alone]);
    expect(p.digests.find((d) => d.digest === shared)?.action).toBe("keep");
    const step = p.steps.find((s) => s.op === "delete-manifest");
    expect(step?.op === "delete-manifest" && step.tags).toEqual(["build-101"]);
  });

  it("creation time: config created, then the annotation; neither → kept and reported", async () => {
    const repo = new MemoryRepository();
    repo.image(["annotated-old"], daysAgo(100), { annotationOnly: true });
    repo.image(["annotated-new"], daysAgo(1), { annotationOnly: true });
    const unknown = repo.image(["no-date"], undefined);
    const p = await plan(repo, { max_age_days: 30 });
    expect(tagTable(p)).toEqual({
      "annotated-old": "delete not_retained",
      "annotated-new": "keep max_age_days",
      "no-date": "keep no_creation_time",
    });
    expect(p.warnings.some((w) => w.includes(unknown) && w.includes("no creation time"))).toBe(true);
  });

  it("a manifest shipgate cannot read (Docker schema 1) is kept and reported, never guessed at", async () => {
    const repo = new MemoryRepository();
    const legacy = repo.raw(
      ["legacy"],
      "application/vnd.docker.distribution.manifest.v1+prettyjws",
      '{"schemaVersion": 1, "name": "app", "tag": "legacy", "fsLayers": [], "history": []}',
    );
    repo.image(["old"], daysAgo(100));
    const p = await plan(repo, { max_age_days: 30 });
    expect(tagTable(p)).toEqual({ legacy: "keep no_creation_time", old: "delete not_retained" });
    expect(p.warnings.some((w) => w.includes(legacy))).toBe(true);
  });
});

describe("attachments go with their subject and never count", () => {
  it("cosign tags, fallback-index referrers and API referrers are deleted with the subject, kept with it", async () => {
    const repo = new MemoryRepository();
    const old = repo.image(["old"], daysAgo(50));
    const recent = repo.image(["recent"], daysAgo(1));
    const oldSig = repo.cosign(old, "sig");
    const oldAtt = repo.cosign(old, "att");
    const oldSbom = repo.referrerByFallback(old, "sbom");
    const sigOnSbom = repo.cosign(oldSbom, "sig");
    const oldApi = repo.referrerByApi(old, "vex");
    const recentSig = repo.cosign(recent, "sig");
    const recentApi = repo.referrerByApi(recent, "vex");
    // Newer attachments than any image: they would take keep_last's place if they counted.
    const p = await plan(repo, { keep_last: 1 });
    expect(tagTable(p)).toMatchObject({ old: "delete not_retained", recent: "keep keep_last" });
    const step = p.steps.find((s) => s.op === "delete-manifest" && s.digest === old);
    expect(step?.op === "delete-manifest" && step.attachments.map((a) => a.digest).sort()).toEqual(
      [oldSig, oldAtt, oldSbom, sigOnSbom, oldApi, repo.tags.get(`sha256-${old.slice(7)}`)].sort(),
    );
    expect(p.steps.filter((s) => s.op === "delete-manifest").map((s) => s.digest)).toEqual([old]);
    const kept = new Set(p.digests.filter((d) => d.action === "keep").map((d) => d.digest));
    expect(kept.has(recentSig)).toBe(true);
    // API referrers of kept images are never asked for (only deletion candidates are): not listed.
    expect(kept.has(recentApi)).toBe(false);
    for (const t of p.tags.filter((t) => t.tag.startsWith("sha256-"))) {
      expect(t.rule).toBe("attachment");
      expect(t.action).toBe(t.digest === recentSig ? "keep" : "delete");
    }
  });

  it("untagged manifests: untagged_days, else kept; attachments of a missing subject are kept and reported", async () => {
    const repo = new MemoryRepository();
    const oldUntagged = repo.image([], daysAgo(40));
    const newUntagged = repo.image([], daysAgo(2));
    repo.cosign(oldUntagged);
    repo.cosign(newUntagged);
    const missing = `sha256:${"e".repeat(64)}`;
    const orphan = repo.cosign(missing);
    const p = await plan(repo, { untagged_days: 7 });
    expect(deletedManifests(p)).toEqual([oldUntagged]);
    const byDigest = new Map(p.digests.map((d) => [d.digest, d]));
    expect(byDigest.get(newUntagged)).toMatchObject({
      role: "untagged",
      action: "keep",
      rule: "untagged_days",
    });
    expect(byDigest.get(orphan)).toMatchObject({
      role: "attachment",
      action: "keep",
      rule: "subject_elsewhere",
    });
    expect(p.warnings.some((w) => w.includes(missing))).toBe(true);
    const noRule = await plan(repo, {});
    expect(deletedManifests(noRule)).toEqual([]);
    expect(noRule.digests.find((d) => d.digest === oldUntagged)?.rule).toBe("untagged_no_rule");
  });
});

describe("protections", () => {
  it("a kept index keeps its children; a deleted index takes children nobody else keeps", async () => {
    const repo = new MemoryRepository();
    const amd = repo.image(["amd64-build"], daysAgo(90));
    const arm = repo.image([], daysAgo(90));
    const kept = repo.index(["2.0.0"], [amd, arm]);
    const armOld = repo.image([], daysAgo(200));
    const gone = repo.index(["old-multi"], [armOld, arm]);
    const p = await plan(repo, { keep_semver: true });
    const byDigest = new Map(p.digests.map((d) => [d.digest, d]));
    expect(byDigest.get(kept)).toMatchObject({ role: "index", action: "keep", rule: "keep_semver" });
    expect(byDigest.get(amd)).toMatchObject({ action: "keep", rule: "index_child" });
    expect(byDigest.get(arm)).toMatchObject({ action: "keep", rule: "index_child" });
    // The child's own tag may go; the digest stays for the index.
    expect(deletedTagsOnly(p)).toEqual(["amd64-build"]);
    expect(deletedManifests(p)).toEqual([gone, armOld].sort());
    expect(byDigest.get(armOld)).toMatchObject({ role: "child", action: "delete", rule: "index_child" });
  });

  it("keep_deployed and promotion keep a digest and every tag on it, naming why", async () => {
    const repo = new MemoryRepository();
    const deployed = repo.image(["web-1", "web-1-alias"], daysAgo(500));
    const promoted = repo.image(["web-2"], daysAgo(400));
    const byTag = repo.image(["web-3"], daysAgo(300));
    const plain = repo.image(["web-4"], daysAgo(200));
    const p = await plan(
      repo,
      { keep_last: 0 },
      {
        deployed: [
          { digest: deployed, where: "pod prod/web-7f9 container app" },
          { repository: "memory.test/app", tag: "web-3", where: "deployed.txt:2" },
        ],
        promoted: new Set([promoted]),
      },
    );
    expect(tagTable(p)).toEqual({
      "web-1": "keep keep_deployed",
      "web-1-alias": "keep keep_deployed",
      "web-2": "keep promoted",
      "web-3": "keep keep_deployed",
      "web-4": "delete not_retained",
    });
    const byDigest = new Map(p.digests.map((d) => [d.digest, d]));
    expect(byDigest.get(deployed)).toMatchObject({
      rule: "keep_deployed",
      detail: "pod prod/web-7f9 container app",
    });
    expect(byDigest.get(promoted)).toMatchObject({
      action: "keep",
      rule: "promoted",
      detail: "present in docker://memory.test/prod/app",
    });
    expect(byDigest.get(byTag)).toMatchObject({
      action: "keep",
      rule: "keep_deployed",
      detail: "deployed.txt:2 (tag web-3)",
    });
    expect(deletedManifests(p)).toEqual([plain]);
    expect(deletedTagsOnly(p)).toEqual([]);
  });
});

describe("bytes freed", () => {
  it("counts blobs no kept manifest references, shared blobs once", async () => {
    const repo = new MemoryRepository();
    const base = {
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: `sha256:${"b".repeat(64)}`,
      size: 5000,
    };
    const own = (c: string, size: number) => ({ ...base, digest: `sha256:${c.repeat(64)}`, size });
    const keep = repo.image(["1.0.0"], daysAgo(100), { layers: [base, own("1", 100)] });
    const goA = repo.image(["a"], daysAgo(100), { layers: [base, own("2", 200), own("3", 300)] });
    const goB = repo.image(["b"], daysAgo(100), { layers: [base, own("3", 300)] });
    const p = await plan(repo, { keep_semver: true });
    expect(deletedManifests(p)).toEqual([goA, goB].sort());
    const size = (d: string) => repo.manifests.get(d)?.bytes.length ?? 0;
    const config = (d: string) =>
      (JSON.parse(Buffer.from(repo.manifests.get(d)?.bytes ?? []).toString()) as { config: { size: number } })
        .config.size;
    // Layer 3 is shared by two deleted images: once. The base layer stays with 1.0.0.
    expect(p.totals.bytesFreed).toBe(200 + 300 + size(goA) + size(goB) + config(goA) + config(goB));
    expect(p.totals).toMatchObject({ tags: 3, keptTags: 1, deletedTags: 2, deletedManifests: 2 });
    expect(keep).toBeDefined();
  });
});
