import { describe, expect, it } from "vitest";
import { planRetention } from "../../src/retention/plan.js";
import { compileRules } from "../../src/retention/rules.js";
import { MemoryRepository } from "./memory-repository.js";

const NOW = new Date("2026-06-30T00:00:00Z");

describe("planning at scale", () => {
  it("100,000 tags: one read per tag, one config per image, bounded concurrency, bounded memory", async () => {
    const repo = new MemoryRepository();
    const images = 20_000;
    const digests: string[] = [];
    for (let i = 0; i < images; i++) {
      // Five tags per image (build, commit, branch...), one image per hour going back.
      const created = new Date(NOW.getTime() - i * 3_600_000).toISOString();
      const tags = [`build-${i}`, `sha-${i.toString(16)}`, `ci-${i}`, `run-${i}`];
      if (i % 1000 === 0) tags.push(`1.${i / 1000}.0`);
      else tags.push(`branch-${i}`);
      digests.push(repo.image(tags, created));
    }
    expect(repo.tags.size).toBe(100_000);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const plan = await planRetention(repo, {
      judge: { kind: "rules", rules: compileRules({ keep_last: 100, max_age_days: 30, keep_semver: true }) },
      source: "scale",
      now: NOW,
      concurrency: 16,
    });
    const heapAfter = process.memoryUsage().heapUsed;
    console.log(`planned 100,000 tags in ${Math.round(performance.now() - started)} ms`);
    // Reads: every tag once, every config once (deduped by digest), nothing serial past the limit.
    expect(repo.reads.manifests).toBe(100_000);
    expect(repo.reads.blobs).toBe(images);
    expect(repo.maxInFlight).toBeLessThanOrEqual(16);
    expect(repo.maxInFlight).toBeGreaterThan(1);
    // 30 days back reaches image 720 (exactly 30 days old is kept); plus one semver release per 1000 beyond.
    const kept = new Set(plan.digests.filter((d) => d.action === "keep").map((d) => d.digest));
    expect(kept.size).toBe(721 + 19);
    expect(kept.has(digests[720] as string)).toBe(true);
    expect(kept.has(digests[721] as string)).toBe(false);
    expect(kept.has(digests[5000] as string)).toBe(true);
    expect(plan.totals).toMatchObject({ tags: 100_000, deletedManifests: images - 740 });
    expect(plan.steps.filter((s) => s.op === "delete-tag")).toHaveLength(19 * 4);
    // The inventory and plan of 100,000 tags stay far under what buffering manifests would cost.
    expect(heapAfter - heapBefore).toBeLessThan(400 * 1024 * 1024);
  }, 120_000);
});
