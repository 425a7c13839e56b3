import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../src/oci/build.js";
import { digestOf } from "../../src/oci/digest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseReference } from "../../src/oci/reference.js";
import { applyRemoval } from "../../src/oci/remove.js";
import { closeClients, RegistryRepository } from "../../src/oci/transports/registry.js";
import type { ManifestBlob } from "../../src/oci/transports/types.js";
import { applyPlan } from "../../src/retention/apply.js";
import { registryReader } from "../../src/retention/inventory.js";
import type { RetentionPlan } from "../../src/retention/model.js";
import { type PlanOptions, planRetention } from "../../src/retention/plan.js";
import { compileRules } from "../../src/retention/rules.js";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.js";
import { startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { descriptorOf, pushArtifact, pushCosignSignature } from "../helpers/artifacts.js";

const NOW = new Date("2024-06-01T00:00:00Z");
const work = mkdtempSync(join(tmpdir(), "shipgate-retention-"));
let counter = 0;

/** A small real image with a fixed creation time (same content and time → same digest). */
async function image(
  repo: RegistryRepository,
  tags: string[],
  created: string,
  content = `image ${counter++}`,
): Promise<ManifestBlob> {
  const dir = join(work, `ctx-${counter++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "release.txt"), content);
  const blob = await buildImage(dir, repo, tags[0] as string, { prefix: "/app", created: new Date(created) });
  for (const tag of tags.slice(1)) await repo.client.putManifest(repo.repository, tag, blob);
  return blob;
}

async function index(repo: RegistryRepository, tag: string, children: ManifestBlob[]): Promise<ManifestBlob> {
  const doc = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: children.map((c, i) => ({
      ...descriptorOf(c),
      platform: { os: "linux", architecture: ["amd64", "arm64"][i] },
    })),
  };
  const bytes = Buffer.from(JSON.stringify(doc));
  const blob = { bytes, mediaType: MediaType.ociIndex, digest: digestOf(bytes) };
  await repo.writeManifest(blob, tag);
  return blob;
}

function rules(r: Parameters<typeof compileRules>[0], extra: Partial<PlanOptions> = {}): PlanOptions {
  return { judge: { kind: "rules", rules: compileRules(r) }, source: "test", now: NOW, ...extra };
}

async function exists(repo: RegistryRepository, reference: string): Promise<string | undefined> {
  return (await repo.client.headManifest(repo.repository, reference))?.digest;
}

async function tagsOf(repo: RegistryRepository): Promise<string[]> {
  const out: string[] = [];
  for await (const t of repo.listTags()) out.push(t);
  return out.sort();
}

let reg: TestRegistry;
const repoAt = (host: string, name: string, options = {}) =>
  new RegistryRepository(parseReference(`${host}/${name}`), options);

beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await closeClients();
  await reg?.stop();
});

describe("clean against a real registry (distribution 2.8)", () => {
  it("keeps and deletes exactly what the rules say; protected digests survive; referrers go with their subject", async () => {
    const repo = repoAt(reg.host, "shop/app");
    const prod = repoAt(reg.host, "prod/app");
    const v1 = await image(repo, ["1.0.0", "build-1"], "2024-01-10T00:00:00Z");
    const b2 = await image(repo, ["build-2"], "2024-02-01T00:00:00Z");
    const b2sig = await pushCosignSignature(repo, b2.digest);
    const b2sbom = await pushArtifact(repo, {
      payload: Buffer.from('{"bomFormat":"CycloneDX"}'),
      layerMediaType: "application/vnd.cyclonedx+json",
      artifactType: "application/vnd.cyclonedx+json",
      subject: descriptorOf(b2),
    });
    const b3 = await image(repo, ["build-3"], "2024-03-01T00:00:00Z");
    const b4 = await image(repo, ["build-4"], "2024-04-01T00:00:00Z");
    const b4sig = await pushCosignSignature(repo, b4.digest);
    const deployed = await image(repo, ["build-0"], "2023-12-01T00:00:00Z");
    // The same content and time build the same digest in prod: it was promoted.
    const promoted = await image(repo, ["build-p"], "2023-11-01T00:00:00Z", "promoted release");
    expect((await image(prod, ["build-p"], "2023-11-01T00:00:00Z", "promoted release")).digest).toBe(
      promoted.digest,
    );
    const amd = await image(repo, ["tmp-amd"], "2024-01-05T00:00:00Z");
    const arm = await image(repo, ["tmp-arm"], "2024-01-05T00:00:00Z");
    const kept = await index(repo, "2.0.0", [amd, arm]);
    const oldAmd = await image(repo, ["tmp-old-amd"], "2023-10-01T00:00:00Z");
    const old = await index(repo, "multi-old", [oldAmd]);
    // The children were pushed with temporary tags (buildImage tags what it writes); untag them.
    for (const [t, d] of [
      ["tmp-amd", amd],
      ["tmp-arm", arm],
      ["tmp-old-amd", oldAmd],
    ] as const)
      await applyRemoval(repo, {
        repository: repo.name,
        reference: t,
        kind: "tag",
        digest: d.digest,
        otherTags: [],
        attachments: [],
      });

    const plan = await planRetention(
      registryReader(repo),
      rules(
        { keep_last: 1, keep_semver: true },
        {
          deployed: [{ digest: deployed.digest, where: "pod prod/shop-1 container app" }],
          promotedTo: [{ name: prod.name, has: async (d) => (await exists(prod, d)) !== undefined }],
        },
      ),
    );
    const table = Object.fromEntries(
      plan.tags.filter((t) => !t.tag.startsWith("sha256-")).map((t) => [t.tag, `${t.action} ${t.rule}`]),
    );
    expect(table).toEqual({
      "1.0.0": "keep keep_semver",
      "build-1": "delete not_retained",
      "build-2": "delete not_retained",
      "build-3": "delete not_retained",
      "build-4": "keep keep_last",
      "build-0": "keep keep_deployed",
      "build-p": "keep promoted",
      "2.0.0": "keep keep_semver",
      "multi-old": "delete not_retained",
    });
    const manifestSteps = plan.steps.flatMap((s) => (s.op === "delete-manifest" ? [s.digest] : []));
    expect(new Set(manifestSteps)).toEqual(new Set([b2.digest, b3.digest, old.digest, oldAmd.digest]));
    expect(plan.steps.filter((s) => s.op === "delete-tag")).toEqual([
      { op: "delete-tag", tag: "build-1", digest: v1.digest },
    ]);
    const b2step = plan.steps.find((s) => s.op === "delete-manifest" && s.digest === b2.digest);
    const b2fallback = await exists(repo, `sha256-${b2.digest.slice(7)}`);
    expect(b2step?.op === "delete-manifest" && b2step.attachments.map((a) => a.digest).sort()).toEqual(
      [b2sig.digest, b2sbom.digest, b2fallback].sort(),
    );
    expect(plan.totals.bytesFreed).toBeGreaterThan(0);

    const report = await applyPlan(repo, plan);
    expect(report.failed).toBeUndefined();
    expect(report.outcomes.every((o) => o.status === "done")).toBe(true);
    for (const gone of [b2, b3, old, oldAmd, b2sig, b2sbom])
      expect(await exists(repo, gone.digest)).toBeUndefined();
    for (const stays of [v1, b4, b4sig, deployed, promoted, kept, amd, arm])
      expect(await exists(repo, stays.digest)).toBe(stays.digest);
    const left = await tagsOf(repo);
    expect(left, `${JSON.stringify(left)} after ${JSON.stringify(report.outcomes)}`).toEqual(
      ["1.0.0", "2.0.0", "build-0", "build-4", "build-p", `sha256-${b4.digest.slice(7)}.sig`].sort(),
    );
    expect(await exists(repo, "1.0.0")).toBe(v1.digest);
    // Planning again finds nothing left to do.
    const again = await planRetention(
      registryReader(repo),
      rules(
        { keep_last: 1, keep_semver: true },
        {
          deployed: [{ digest: deployed.digest, where: "x" }],
          promotedTo: [{ name: prod.name, has: async (d) => (await exists(prod, d)) !== undefined }],
        },
      ),
    );
    expect(again.steps).toEqual([]);
  });

  it("stops with CONCURRENT_CHANGE when a tag appears or moves after the plan, deleting nothing", async () => {
    const repo = repoAt(reg.host, "race/app");
    const oldest = await image(repo, ["old"], "2024-01-01T00:00:00Z");
    const middle = await image(repo, ["middle"], "2024-02-01T00:00:00Z");
    const newest = await image(repo, ["new"], "2024-03-01T00:00:00Z");
    const plan = await planRetention(registryReader(repo), rules({ keep_last: 1 }));
    expect(plan.steps).toHaveLength(2);
    // Someone tags the digest about to go.
    await repo.client.putManifest(repo.repository, "hotfix", oldest);
    await expect(applyPlan(repo, plan)).rejects.toMatchObject({
      code: "CONCURRENT_CHANGE",
      message: expect.stringContaining("hotfix"),
    });
    expect(await exists(repo, oldest.digest)).toBe(oldest.digest);
    expect(await exists(repo, middle.digest)).toBe(middle.digest);

    // A planned tag moved to the kept image: the step re-checks and stops.
    await applyRemoval(repo, {
      repository: repo.name,
      reference: "hotfix",
      kind: "tag",
      digest: oldest.digest,
      otherTags: [],
      attachments: [],
    });
    await repo.client.putManifest(repo.repository, "middle", newest);
    const report = await applyPlan(repo, plan, { concurrency: 1 });
    expect(report.failed).toMatchObject({ code: "CONCURRENT_CHANGE" });
    expect(report.failed?.message).toContain("middle");
    expect(await exists(repo, newest.digest)).toBe(newest.digest);
    expect(await exists(repo, middle.digest)).toBe(middle.digest);
  });

  it("a registry failure mid-apply leaves a report of what was and was not done; running again finishes", async () => {
    const proxy: FaultProxy = await startFaultProxy(reg.host);
    try {
      const direct = repoAt(reg.host, "flaky/app");
      const images = [];
      for (let i = 1; i <= 4; i++) images.push(await image(direct, [`b${i}`], `2024-0${i}-01T00:00:00Z`));
      const flaky = repoAt(proxy.host, "flaky/app", {
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      });
      const plan: RetentionPlan = await planRetention(registryReader(flaky), rules({ keep_last: 1 }));
      expect(plan.steps.map((s) => (s.op === "delete-manifest" ? s.digest : ""))).toEqual(
        images.slice(0, 3).map((i) => i.digest),
      );
      const second = images[1]?.digest as string;
      proxy.addFault({
        match: (r) => r.method === "DELETE" && r.path.endsWith(second),
        times: 5,
        kind: "status",
        status: 500,
      });
      const report = await applyPlan(flaky, plan, { concurrency: 1 });
      expect(report.outcomes.map((o) => o.step.op === "delete-manifest" && o.step.digest)).toEqual([
        images[0]?.digest,
      ]);
      // The client gives up after its one attempt: a 5xx it could not get past.
      expect(report.failed).toMatchObject({ code: "NETWORK", step: { digest: second } });
      expect(report.failed?.message).toContain("500");
      expect(report.remaining.map((s) => s.op === "delete-manifest" && s.digest)).toEqual([
        images[2]?.digest,
      ]);
      expect(await exists(direct, second)).toBe(second);
      proxy.clearFaults();
      const rerun = await planRetention(registryReader(direct), rules({ keep_last: 1 }));
      expect(rerun.steps).toHaveLength(2);
      const finished = await applyPlan(direct, rerun);
      expect(finished.failed).toBeUndefined();
      expect(await tagsOf(direct)).toEqual(["b4"]);
    } finally {
      await proxy.stop();
    }
  });
});

describe("tags that resolve to nothing", () => {
  it("are planned as deletions and removed, so they never block an apply", async () => {
    const repo = repoAt(reg.host, "dangling/app");
    const kept = await image(repo, ["keep"], "2024-05-01T00:00:00Z");
    // What distribution leaves when untagging fails after a manifest DELETE: a tag link to nothing.
    const link = join(
      reg.storageDir,
      "docker/registry/v2/repositories/dangling/app/_manifests/tags/ghost/current",
    );
    mkdirSync(link, { recursive: true });
    writeFileSync(join(link, "link"), `sha256:${"0".repeat(64)}`);
    expect(await tagsOf(repo)).toEqual(["ghost", "keep"]);
    const plan = await planRetention(registryReader(repo), rules({ keep_last: 1 }));
    expect(plan.tags.find((t) => t.tag === "ghost")).toMatchObject({ action: "delete", rule: "dangling" });
    const report = await applyPlan(repo, plan);
    expect(report.failed).toBeUndefined();
    expect(report.swept).toEqual(["ghost"]);
    expect(await tagsOf(repo)).toEqual(["keep"]);
    expect(await exists(repo, "keep")).toBe(kept.digest);
  });
});

describe("clean against an OCI 1.1 registry with the referrers API", () => {
  it("deletes untagged referrers the API lists together with their subject", async () => {
    const oci = await startOci11Registry();
    try {
      const repo = repoAt(oci.host, "api/app");
      const old = await image(repo, ["old"], "2024-01-01T00:00:00Z");
      const fresh = await image(repo, ["new"], "2024-05-01T00:00:00Z");
      const sbom = await pushArtifact(repo, {
        payload: Buffer.from("{}"),
        layerMediaType: "application/spdx+json",
        artifactType: "application/spdx+json",
        subject: descriptorOf(old),
      });
      const freshSbom = await pushArtifact(repo, {
        payload: Buffer.from("{ }"),
        layerMediaType: "application/spdx+json",
        artifactType: "application/spdx+json",
        subject: descriptorOf(fresh),
      });
      const plan = await planRetention(registryReader(repo), rules({ keep_last: 1 }));
      const step = plan.steps[0];
      expect(step).toMatchObject({
        op: "delete-manifest",
        digest: old.digest,
        attachments: [{ digest: sbom.digest, via: "referrer application/spdx+json" }],
      });
      const report = await applyPlan(repo, plan);
      expect(report.failed).toBeUndefined();
      expect(await exists(repo, old.digest)).toBeUndefined();
      expect(await exists(repo, sbom.digest)).toBeUndefined();
      expect(await exists(repo, freshSbom.digest)).toBe(freshSbom.digest);
      expect(await exists(repo, "new")).toBe(fresh.digest);
    } finally {
      await oci.stop();
    }
  });
});
