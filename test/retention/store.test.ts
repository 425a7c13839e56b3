import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pushArtifact } from "../../src/oci/artifact.js";
import { buildImage } from "../../src/oci/build.js";
import { fallbackTag } from "../../src/oci/referrers.js";
import { OciLayout } from "../../src/oci/transports/layout.js";
import type { ManifestBlob } from "../../src/oci/transports/types.js";
import { retentionRulesSchema } from "../../src/policy/retention-rules.js";
import { applyPlan } from "../../src/retention/apply.js";
import { layoutReader, layoutWriter } from "../../src/retention/layout.js";
import type { RetentionPlan } from "../../src/retention/model.js";
import { planRetention } from "../../src/retention/plan.js";
import { compileRules } from "../../src/retention/rules.js";
import { listAudit } from "../../src/store/audit.js";
import { openStore } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";

const NOW = "2024-06-01T00:00:00Z";
const work = mkdtempSync(join(tmpdir(), "shipgate-clean-store-"));
let counter = 0;

/** An image with a fixed creation time, into the layout of `repo` in `store`. */
async function image(store: string, repo: string, tag: string, created: string): Promise<ManifestBlob> {
  const layout = await OciLayout.open(join(store, repo), { create: true });
  const dir = join(work, `ctx-${counter++}`);
  mkdirSync(dir);
  // Same tag, same content: the same image (and digest) wherever it is built.
  writeFileSync(join(dir, "release.txt"), `release ${tag}`);
  return buildImage(dir, layout, tag, { prefix: "/app", created: new Date(created) });
}

/** A cosign-style signature: the `sha256-<hex>.sig` tag, no subject field. */
async function cosignSignature(store: string, repo: string, subject: string): Promise<ManifestBlob> {
  const layout = await OciLayout.open(join(store, repo));
  return pushArtifact(layout, {
    layers: [
      {
        bytes: Buffer.from(`{"critical":{"image":{"docker-manifest-digest":"${subject}"}}}`),
        mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
        annotations: { "dev.cosignproject.cosign/signature": "MEUCIQ==" },
      },
    ],
    tag: `${fallbackTag(subject)}.sig`,
  });
}

/** An OCI 1.1 referrer (an SBOM) with a subject field: an untagged index.json entry. */
async function sbomReferrer(store: string, repo: string, subject: ManifestBlob): Promise<ManifestBlob> {
  const layout = await OciLayout.open(join(store, repo));
  return pushArtifact(layout, {
    artifactType: "application/spdx+json",
    layers: [{ bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}'), mediaType: "application/spdx+json" }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length },
  });
}

/** index.json entries as `tag|-  digest`. */
function entries(store: string, repo: string): string[] {
  const index = JSON.parse(readFileSync(join(store, repo, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  return index.manifests
    .map((m) => `${m.annotations?.["org.opencontainers.image.ref.name"] ?? "-"} ${m.digest}`)
    .sort();
}

describe("shipgate clean on the embedded store", () => {
  it("plans over store:REPO without deleting, then --apply removes exactly the plan", async () => {
    const store = join(work, "store-repo");
    const old = await image(store, "dev/app", "0.9.0", "2023-11-01T00:00:00Z");
    const current = await image(store, "dev/app", "1.0.0", "2024-01-15T00:00:00Z");
    const oldSig = await cosignSignature(store, "dev/app", old.digest);
    const oldSbom = await sbomReferrer(store, "dev/app", old);
    const currentSig = await cosignSignature(store, "dev/app", current.digest);
    const before = entries(store, "dev/app");
    expect(before).toHaveLength(5);

    const shown = await runCli([
      "--store",
      store,
      "clean",
      "store:dev/app",
      "--keep-last",
      "1",
      "--now",
      NOW,
    ]);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split("\n");
    expect(lines[0]).toBe("Plan for store:dev/app (keep_last 1; ages from 2024-06-01T00:00:00.000Z)");
    expect(shown.stdout).toMatch(
      /\n0\.9\.0\s+sha256:\w{12}\s+2023-11-01\s+delete\s+not_retained\s+not among/,
    );
    expect(shown.stdout).toMatch(/\n1\.0\.0\s+sha256:\w{12}\s+2024-01-15\s+keep\s+keep_last/);
    expect(shown.stdout).toContain(`${fallbackTag(old.digest)}.sig`);
    expect(shown.stdout).toMatch(
      new RegExp(`\\n${fallbackTag(old.digest)}\\.sig\\s+\\S+\\s+-\\s+delete\\s+attachment`),
    );
    expect(shown.stdout).toMatch(
      new RegExp(`\\n${fallbackTag(current.digest)}\\.sig\\s+\\S+\\s+-\\s+keep\\s+attachment`),
    );
    expect(shown.stdout).toMatch(
      /Totals: 4 tags \(2 kept, 2 deleted\); 3 of 5 manifests deleted; [\d.]+ (B|KiB) no longer referenced \(the blobs stay in the layout\)/,
    );
    expect(shown.stderr).toContain("Nothing was deleted");
    expect(entries(store, "dev/app")).toEqual(before);

    const json = await runCli([
      "--store",
      store,
      "clean",
      "store:dev/app",
      "--keep-last",
      "1",
      "--now",
      NOW,
      "--json",
    ]);
    expect(json.code, json.stderr).toBe(0);
    const { plans } = JSON.parse(json.stdout) as { plans: RetentionPlan[] };
    expect(plans.map((p) => p.steps)).toEqual([
      [
        expect.objectContaining({
          op: "delete-manifest",
          digest: old.digest,
          tags: ["0.9.0"],
          attachments: expect.arrayContaining([
            expect.objectContaining({ digest: oldSig.digest }),
            expect.objectContaining({ digest: oldSbom.digest }),
          ]),
        }),
      ],
    ]);
    expect(entries(store, "dev/app")).toEqual(before);

    const applied = await runCli([
      "--store",
      store,
      "clean",
      "store:dev/app",
      "--keep-last",
      "1",
      "--now",
      NOW,
      "--apply",
    ]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/store:dev\/app: 1 step\(s\) done, 0 already done before/);
    expect(entries(store, "dev/app")).toEqual(
      [`1.0.0 ${current.digest}`, `${fallbackTag(current.digest)}.sig ${currentSig.digest}`].sort(),
    );
    const tags = await runCli(["--store", store, "tags", "store:dev/app"]);
    expect(tags.code, tags.stderr).toBe(0);
    expect(tags.stdout).not.toContain("0.9.0");
    expect(tags.stdout).toContain("1.0.0");
    expect(tags.stdout).toContain(`${fallbackTag(current.digest)}.sig`);
    expect(tags.stdout).not.toContain(fallbackTag(old.digest));

    // Each deletion is in the audit trail, attachments with the image they went with.
    const db = await openStore(store);
    try {
      const audit = await listAudit({ kind: "deletion" }, db);
      expect(audit.map((r) => [r.action, r.digest]).sort()).toEqual(
        [
          ["clean attachment", oldSbom.digest],
          ["clean attachment", oldSig.digest],
          ["clean manifest", old.digest],
        ].sort(),
      );
    } finally {
      await db.destroy();
    }

    // Nothing left to do: a second apply plans no step and changes nothing.
    const again = await runCli(["--store", store, "clean", "store:dev/app", "--keep-last", "1", "--apply"]);
    expect(again.code, again.stderr).toBe(0);
    expect(entries(store, "dev/app")).toHaveLength(2);
  });

  it("clean ENV on a `url: store:` environment protects what a later store environment holds", async () => {
    const store = join(work, "store-env");
    const old = await image(store, "dev/app", "0.9.0", "2023-11-01T00:00:00Z");
    const promoted = await image(store, "dev/app", "1.0.0", "2024-01-15T00:00:00Z");
    const newest = await image(store, "dev/app", "1.1.0", "2024-03-01T00:00:00Z");
    const apiOld = await image(store, "dev/team/api", "0.1.0", "2023-06-01T00:00:00Z");
    const apiNew = await image(store, "dev/team/api", "0.2.0", "2023-07-01T00:00:00Z");
    expect((await image(store, "staging/app", "1.0.0", "2024-01-15T00:00:00Z")).digest).toBe(promoted.digest);
    const config = join(work, "shipgate.yaml");
    writeFileSync(
      config,
      `registries:
  local: { url: "store:" }
environments:
  dev: { registry: local, prefix: "dev/" }
  staging: { registry: local, prefix: "staging/" }
promotion:
  staging: { from: dev }
retention:
  dev: { keep_last: 1 }
`,
    );
    const shown = await runCli(["--store", store, "clean", "dev", "--config", config, "--now", NOW]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("Plan for store:dev/app (retention.dev: keep_last 1;");
    expect(shown.stdout).toContain("Plan for store:dev/team/api (retention.dev: keep_last 1;");
    expect(shown.stdout).toMatch(/\n0\.9\.0\s+\S+\s+2023-11-01\s+delete\s+not_retained/);
    expect(shown.stdout).toMatch(/\n1\.0\.0\s+\S+\s+2024-01-15\s+keep\s+promoted\s+.*store:staging\/app/);
    expect(shown.stdout).toMatch(/\n1\.1\.0\s+\S+\s+2024-03-01\s+keep\s+keep_last/);
    expect(shown.stdout).toMatch(/\n0\.1\.0\s+\S+\s+2023-06-01\s+delete\s+not_retained/);
    expect(entries(store, "dev/app")).toHaveLength(3);

    // Saved, reviewed, then applied: the saved plan names the store's repositories.
    const planFile = join(work, "store-env-plan.json");
    const saved = await runCli([
      "--store",
      store,
      "clean",
      "dev",
      "--config",
      config,
      "--now",
      NOW,
      "--plan-out",
      planFile,
    ]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(entries(store, "dev/app")).toHaveLength(3);
    const applied = await runCli([
      "--store",
      store,
      "clean",
      "dev",
      "--config",
      config,
      "--apply",
      "--plan",
      planFile,
    ]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/store:dev\/app: 1 step\(s\) done/);
    expect(applied.stdout).toMatch(/store:dev\/team\/api: 1 step\(s\) done/);
    expect(entries(store, "dev/app")).toEqual([`1.0.0 ${promoted.digest}`, `1.1.0 ${newest.digest}`]);
    expect(entries(store, "dev/team/api")).toEqual([`0.2.0 ${apiNew.digest}`]);
    expect(entries(store, "staging/app")).toEqual([`1.0.0 ${promoted.digest}`]);
    expect([old.digest, apiOld.digest]).not.toContain(promoted.digest);

    // Through SHIPGATE_STORE instead of --store: the same store, now with nothing to delete.
    const viaEnv = await runCli(["clean", "dev", "--config", config, "--now", NOW, "--json"], {
      env: { SHIPGATE_STORE: store },
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const { plans } = JSON.parse(viaEnv.stdout) as { plans: RetentionPlan[] };
    expect(plans.map((p) => [p.repository, p.steps.length])).toEqual([
      ["store:dev/app", 0],
      ["store:dev/team/api", 0],
    ]);
  });

  it("apply re-checks the layout: a tag that appeared or moved after the plan stops it", async () => {
    const store = join(work, "store-changes");
    const old = await image(store, "dev/app", "0.9.0", "2023-11-01T00:00:00Z");
    const current = await image(store, "dev/app", "1.0.0", "2024-01-15T00:00:00Z");
    const layout = await OciLayout.open(join(store, "dev/app"));
    const plan = () =>
      planRetention(layoutReader(layout, "store:dev/app"), {
        judge: { kind: "rules", rules: compileRules(retentionRulesSchema.parse({ keep_last: 1 })) },
        source: "test",
        now: new Date(NOW),
      });
    const first = await plan();
    expect(first.steps).toEqual([expect.objectContaining({ op: "delete-manifest", digest: old.digest })]);

    // A new tag on the doomed digest: the whole apply refuses before deleting anything.
    await layout.writeManifest(old, "hotfix");
    await expect(applyPlan(layoutWriter(layout, "store:dev/app"), first)).rejects.toMatchObject({
      code: "CONCURRENT_CHANGE",
      message: expect.stringContaining("store:dev/app:hotfix appeared"),
    });
    expect(entries(store, "dev/app")).toContain(`0.9.0 ${old.digest}`);

    // A planned tag moved to the kept image: deleting the old manifest would not take it, but the
    // plan no longer describes the repository, so the step stops.
    await layout.deleteTag("hotfix");
    await layout.writeManifest(current, "0.9.0");
    const report = await applyPlan(layoutWriter(layout, "store:dev/app"), first);
    expect(report.failed).toMatchObject({ code: "CONCURRENT_CHANGE" });
    expect(report.failed?.message).toContain(`store:dev/app:0.9.0 now points at ${current.digest}`);
    expect(entries(store, "dev/app")).toEqual([`0.9.0 ${current.digest}`, `1.0.0 ${current.digest}`]);
  });

  it("refuses an image reference and a store repository that does not exist", async () => {
    const store = join(work, "store-errors");
    await image(store, "dev/app", "1.0.0", "2024-01-15T00:00:00Z");
    const tagged = await runCli(["--store", store, "clean", "store:dev/app:1.0.0", "--keep-last", "1"]);
    expect(tagged.code, tagged.stderr).toBe(2);
    expect(tagged.stderr).toContain("names a tag or digest");
    const missing = await runCli(["--store", store, "clean", "store:dev/nothing", "--keep-last", "1"]);
    expect(missing.code, missing.stderr).toBe(3);
    expect(missing.stderr).toContain("dev/nothing");
  });
});
