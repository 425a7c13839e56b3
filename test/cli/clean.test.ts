import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../src/oci/build.js";
import { parseReference } from "../../src/oci/reference.js";
import { OciLayout } from "../../src/oci/transports/layout.js";
import { closeClients, RegistryRepository } from "../../src/oci/transports/registry.js";
import type { ManifestBlob } from "../../src/oci/transports/types.js";
import type { RetentionPlan } from "../../src/retention/model.js";
import { listAudit } from "../../src/store/audit.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { pushCosignSignature } from "../helpers/artifacts.js";
import { runCli } from "../helpers/cli.js";

const NOW = "2024-06-01T00:00:00Z";
const work = mkdtempSync(join(tmpdir(), "shipgate-clean-cli-"));
let counter = 0;
let reg: TestRegistry;

async function image(
  repo: RegistryRepository,
  tag: string,
  created: string,
  content = `image ${counter++}`,
): Promise<ManifestBlob> {
  const dir = join(work, `ctx-${counter++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "release.txt"), content);
  return buildImage(dir, repo, tag, { prefix: "/app", created: new Date(created) });
}

const repoAt = (name: string) => new RegistryRepository(parseReference(`${reg.host}/${name}`));
const head = async (repo: RegistryRepository, ref: string) =>
  (await repo.client.headManifest(repo.repository, ref))?.digest;

beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await closeClients();
  await reg?.stop();
});

describe("shipgate clean", () => {
  it("shows the plan (tags, rules, totals) and deletes nothing; --json carries the same plan", async () => {
    const repo = repoAt("cli/show");
    const old = await image(repo, "build-1", "2024-01-01T00:00:00Z");
    await pushCosignSignature(repo, old.digest);
    await image(repo, "1.0.0", "2023-01-01T00:00:00Z");
    await image(repo, "build-2", "2024-05-01T00:00:00Z");
    const target = `${reg.host}/cli/show`;
    const shown = await runCli(["clean", target, "--keep-last", "1", "--keep-semver", "--now", NOW]);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split("\n");
    expect(lines[0]).toBe(
      `Plan for docker://${target} (keep_last 1, keep_semver; ages from 2024-06-01T00:00:00.000Z)`,
    );
    expect(lines[1]).toMatch(/^TAG\s+DIGEST\s+CREATED\s+ACTION\s+RULE\s+DETAIL$/);
    expect(shown.stdout).toMatch(/\n1\.0\.0\s+sha256:\w{12}\s+2023-01-01\s+keep\s+keep_semver/);
    expect(shown.stdout).toMatch(
      /\nbuild-1\s+sha256:\w{12}\s+2024-01-01\s+delete\s+not_retained\s+not among the 1 newest/,
    );
    expect(shown.stdout).toMatch(/\nbuild-2\s+sha256:\w{12}\s+2024-05-01\s+keep\s+keep_last/);
    expect(shown.stdout).toMatch(/\nsha256-\w+\.sig\s+sha256:\w{12}\s+-\s+delete\s+attachment/);
    expect(shown.stdout).toMatch(
      /Totals: 4 tags \(2 kept, 2 deleted\); 2 of 4 manifests deleted; [\d.]+ (B|KiB) freed/,
    );
    expect(shown.stderr).toContain("Nothing was deleted");
    expect(await head(repo, "build-1")).toBe(old.digest);

    const json = await runCli(["clean", target, "--keep-last", "1", "--keep-semver", "--now", NOW, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const { plans } = JSON.parse(json.stdout) as { plans: RetentionPlan[] };
    expect(plans).toHaveLength(1);
    expect(plans[0]?.steps).toEqual([
      expect.objectContaining({ op: "delete-manifest", digest: old.digest, tags: ["build-1"] }),
    ]);
    expect(await head(repo, "build-1")).toBe(old.digest);
  });

  it("--plan-out then --apply --plan carries out that plan, records each deletion in the audit trail", async () => {
    const repo = repoAt("cli/apply");
    const a = await image(repo, "a", "2024-01-01T00:00:00Z");
    const sig = await pushCosignSignature(repo, a.digest);
    const b = await image(repo, "b", "2024-02-01T00:00:00Z");
    const c = await image(repo, "c", "2024-03-01T00:00:00Z");
    const planFile = join(work, "plan.json");
    const store = join(work, "store");
    const target = `${reg.host}/cli/apply`;
    const saved = await runCli(["clean", target, "--keep-last", "1", "--now", NOW, "--plan-out", planFile]);
    expect(saved.code, saved.stderr).toBe(0);
    const file = JSON.parse(readFileSync(planFile, "utf8")) as { version: number; plans: RetentionPlan[] };
    expect(file.version).toBe(1);
    expect(file.plans[0]?.steps.map((s) => s.op === "delete-manifest" && s.digest)).toEqual([
      a.digest,
      b.digest,
    ]);
    const applied = await runCli([
      "--store",
      store,
      "clean",
      target,
      "--apply",
      "--plan",
      planFile,
      "--json",
      "--keep-last",
      "1",
    ]);
    expect(applied.code, applied.stderr).toBe(0);
    const result = JSON.parse(applied.stdout) as { results: { outcomes: unknown[]; failed?: unknown }[] };
    expect(result.results[0]?.failed).toBeUndefined();
    expect(result.results[0]?.outcomes).toHaveLength(2);
    expect(await head(repo, a.digest)).toBeUndefined();
    expect(await head(repo, sig.digest)).toBeUndefined();
    expect(await head(repo, b.digest)).toBeUndefined();
    expect(await head(repo, "c")).toBe(c.digest);
    const audit = await listAudit({ kind: "deletion" }, store);
    // Deletions run concurrently; each image's attachments go before the image itself.
    expect(audit.map((r) => [r.action, r.digest, (r.details as { rule: string }).rule]).sort()).toEqual(
      [
        ["clean attachment", sig.digest, "attachment"],
        ["clean manifest", a.digest, "not_retained"],
        ["clean manifest", b.digest, "not_retained"],
      ].sort(),
    );
    const seq = (d: string) => audit.find((r) => r.digest === d)?.seq ?? -1;
    expect(seq(sig.digest)).toBeLessThan(seq(a.digest));
    expect(
      audit.every(
        (r) =>
          r.outcome === "deleted" &&
          (r.details as { repository: string }).repository === `docker://${target}`,
      ),
    ).toBe(true);
  });

  it("refuses a saved plan the repository no longer matches (exit 3), deleting nothing", async () => {
    const repo = repoAt("cli/race");
    const old = await image(repo, "old", "2024-01-01T00:00:00Z");
    await image(repo, "new", "2024-03-01T00:00:00Z");
    const planFile = join(work, "race.json");
    const target = `${reg.host}/cli/race`;
    expect(
      (await runCli(["clean", target, "--keep-last", "1", "--now", NOW, "--plan-out", planFile])).code,
    ).toBe(0);
    // A newer image arrives: "new" would now go too, which the saved plan never showed.
    await image(repo, "newer", "2024-04-01T00:00:00Z");
    const refused = await runCli([
      "--store",
      join(work, "store2"),
      "clean",
      target,
      "--apply",
      "--plan",
      planFile,
      "--keep-last",
      "1",
    ]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain("changed since the plan");
    expect(refused.stderr).toContain("now also deletes");
    expect(await head(repo, old.digest)).toBe(old.digest);
  });

  it("cleans an environment from shipgate.yaml, protecting what was promoted to a later one", async () => {
    const dev = repoAt("dev/shop");
    const prod = repoAt("prod/shop");
    const promoted = await image(dev, "r1", "2024-01-01T00:00:00Z", "release one");
    await image(prod, "r1", "2024-01-01T00:00:00Z", "release one");
    const plain = await image(dev, "r2", "2024-02-01T00:00:00Z");
    await image(dev, "r3", "2024-05-01T00:00:00Z");
    const config = join(work, "shipgate.yaml");
    writeFileSync(
      config,
      `registries:\n  local: { url: "${reg.host}", insecure: true }\nenvironments:\n  dev: { registry: local, prefix: "dev/" }\n  prod: { registry: local, prefix: "prod/" }\npromotion:\n  prod: { from: dev }\nretention:\n  dev: { keep_last: 1 }\n`,
    );
    const out = await runCli(["clean", "dev", "--config", config, "--app", "shop", "--now", NOW, "--json"]);
    expect(out.stderr).toBe("");
    expect(out.code, out.stderr).toBe(0);
    const { plans } = JSON.parse(out.stdout) as { plans: RetentionPlan[] };
    expect(plans[0]?.source).toBe("retention.dev: keep_last 1");
    const byTag = Object.fromEntries((plans[0]?.tags ?? []).map((t) => [t.tag, `${t.action} ${t.rule}`]));
    expect(byTag).toEqual({ r1: "keep promoted", r2: "delete not_retained", r3: "keep keep_last" });
    expect(plans[0]?.steps).toEqual([expect.objectContaining({ digest: plain.digest })]);
    expect(promoted.digest).toBeDefined();
  });

  it("a store environment promoted into a registry one: the registry's digests protect the store's", async () => {
    const store = join(work, "mixed-store");
    const dev = await OciLayout.open(join(store, "dev", "shop"), { create: true });
    const build = async (
      dest: OciLayout | RegistryRepository,
      tag: string,
      created: string,
      content: string,
    ) => {
      const dir = join(work, `ctx-${counter++}`);
      mkdirSync(dir);
      writeFileSync(join(dir, "release.txt"), content);
      return buildImage(dir, dest, tag, { prefix: "/app", created: new Date(created) });
    };
    const promoted = await build(dev, "r1", "2024-01-01T00:00:00Z", "mixed one");
    expect((await build(repoAt("mixedprod/shop"), "r1", "2024-01-01T00:00:00Z", "mixed one")).digest).toBe(
      promoted.digest,
    );
    const plain = await build(dev, "r2", "2024-02-01T00:00:00Z", "mixed two");
    await build(dev, "r3", "2024-05-01T00:00:00Z", "mixed three");
    const config = join(work, "mixed.yaml");
    writeFileSync(
      config,
      `registries:\n  local: { url: "store:" }\n  remote: { url: "${reg.host}", insecure: true }\nenvironments:\n  dev: { registry: local, prefix: "dev/" }\n  prod: { registry: remote, prefix: "mixedprod/" }\npromotion:\n  prod: { from: dev }\nretention:\n  dev: { keep_last: 1 }\n`,
    );
    const out = await runCli([
      "--store",
      store,
      "clean",
      "dev",
      "--config",
      config,
      "--now",
      NOW,
      "--apply",
      "--json",
    ]);
    expect(out.code, out.stderr).toBe(0);
    const { plans } = JSON.parse(out.stdout) as { plans: RetentionPlan[] };
    expect(plans.map((p) => p.repository)).toEqual(["store:dev/shop"]);
    const byTag = Object.fromEntries((plans[0]?.tags ?? []).map((t) => [t.tag, `${t.action} ${t.rule}`]));
    expect(byTag).toEqual({ r1: "keep promoted", r2: "delete not_retained", r3: "keep keep_last" });
    const left = (await dev.listManifests()).map((e) => e.descriptor.digest);
    expect(left).toContain(promoted.digest);
    expect(left).not.toContain(plain.digest);
  });

  it("--ecr-policy judges with an ECR lifecycle policy; bad input exits 2", async () => {
    const repo = repoAt("cli/ecr");
    const a = await image(repo, "prod-1", "2024-01-01T00:00:00Z");
    await image(repo, "prod-2", "2024-02-01T00:00:00Z");
    const policy = join(work, "lifecycle.json");
    writeFileSync(
      policy,
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "keep one prod",
            selection: {
              tagStatus: "tagged",
              tagPrefixList: ["prod"],
              countType: "imageCountMoreThan",
              countNumber: 1,
            },
            action: { type: "expire" },
          },
        ],
      }),
    );
    const out = await runCli([
      "clean",
      `${reg.host}/cli/ecr`,
      "--ecr-policy",
      policy,
      "--now",
      NOW,
      "--json",
    ]);
    expect(out.code, out.stderr).toBe(0);
    const { plans } = JSON.parse(out.stdout) as { plans: RetentionPlan[] };
    expect(plans[0]?.tags.find((t) => t.tag === "prod-1")).toMatchObject({
      action: "delete",
      rule: "ecr rule 1 (keep one prod)",
    });
    expect(plans[0]?.steps).toEqual([expect.objectContaining({ digest: a.digest })]);
    writeFileSync(policy, '{"rules": [{"rulePriority": 1}]}');
    const bad = await runCli(["clean", `${reg.host}/cli/ecr`, "--ecr-policy", policy]);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain(policy);
    const badRule = await runCli(["clean", `${reg.host}/cli/ecr`, "--keep-tag", "/[unclosed/"]);
    expect(badRule.code, badRule.stderr).toBe(2);
    expect(badRule.stderr).toContain("regular expression");
  });
});
