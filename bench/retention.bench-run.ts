import { execFile, execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { it } from "vitest";
import type { JudgedImage } from "../src/retention/model.js";
import { compileRules, judgeTags } from "../src/retention/rules.js";
import { startRegistry } from "../test/harness/registry.js";
import { skopeoCopy } from "../test/harness/skopeo.js";
import { median } from "./measure.js";

// Issue #7's benchmark: rule evaluation alone over 1,000,000 synthetic tags (target under 2 s),
// and planning `clean` over a repository of 20,000 tags on the local registry. No peer: Harbor's
// and ECR's retention run inside those services.
const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const shipgate = join(root, "bin", "shipgate.js");
const SHARED_IMAGES = join(root, "..", "shared", "images", "oci");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TAGS_IN_MEMORY = 1_000_000;
const TAGS_ON_REGISTRY = Number(process.env.BENCH_REGISTRY_TAGS ?? 20_000);
const NOW = Date.parse("2026-06-30T00:00:00Z");
// Planning 20,000 tags reads 20,000 manifests through the registry: minutes a run on these machines.
const REGISTRY_RUNS = Number(process.env.BENCH_REGISTRY_RUNS ?? 1);

/** 200,000 images of five tags each, one an hour going back; one semver release per 1,000. */
function syntheticImages(): JudgedImage[] {
  const images: JudgedImage[] = [];
  for (let i = 0; i < TAGS_IN_MEMORY / 5; i++) {
    const tags = [
      `build-${i}`,
      `sha-${i.toString(16)}`,
      `ci-${i}`,
      `run-${i}`,
      i % 1000 === 0 ? `1.${i / 1000}.0` : `branch-${i}`,
    ];
    images.push({ digest: `sha256:${i.toString(16).padStart(64, "0")}`, tags, created: NOW - i * 3_600_000 });
  }
  return images;
}

it("retention: rule evaluation over 1,000,000 tags, and planning 20,000 tags on a registry", async () => {
  const images = syntheticImages();
  const rules = compileRules({ keep_last: 100, max_age_days: 30, keep_semver: true, exclude: ["ci-*"] });
  const judging: number[] = [];
  let kept = 0;
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    const decisions = judgeTags(images, rules, NOW);
    judging.push((performance.now() - started) / 1000);
    kept = [...decisions.values()].filter((d) => d.action === "keep").length;
  }

  const registry = await startRegistry();
  const planning: { seconds: number; rssMiB: number }[] = [];
  let planSummary = "";
  try {
    await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${registry.host}/bench/app:seed`);
    const digest = (
      await run("skopeo", [
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        `docker://${registry.host}/bench/app:seed`,
      ])
    ).stdout.trim();
    // Tags written straight into the registry's storage (pushing 20,000 would time the set-up).
    const tagsDir = join(registry.storageDir, "docker/registry/v2/repositories/bench/app/_manifests/tags");
    for (let t = 0; t < TAGS_ON_REGISTRY; t++) {
      await mkdir(join(tagsDir, `t${t}`, "current"), { recursive: true });
      await writeFile(join(tagsDir, `t${t}`, "current", "link"), digest);
      const index = join(tagsDir, `t${t}`, "index", "sha256", digest.slice(7));
      await mkdir(index, { recursive: true });
      await writeFile(join(index, "link"), digest);
    }
    for (let r = 0; r < REGISTRY_RUNS; r++) {
      const { stdout, stderr } = await run(
        "/usr/bin/time",
        [
          "-f",
          "BENCH %e %M",
          process.execPath,
          shipgate,
          "clean",
          `${registry.host}/bench/app`,
          "--keep-last",
          "1",
          "--json",
        ],
        { maxBuffer: 512 * 1024 * 1024 },
      );
      const match = /BENCH ([\d.]+) (\d+)/.exec(stderr);
      if (!match) throw new Error(`no timing in: ${stderr}`);
      planning.push({ seconds: Number(match[1]), rssMiB: Number(match[2]) / 1024 });
      const plan = JSON.parse(stdout) as { plans?: { tags: unknown[] }[]; tags?: unknown[] };
      const tags = plan.plans?.[0]?.tags ?? plan.tags ?? [];
      planSummary = `${tags.length} tags judged`;
    }
  } finally {
    await registry.stop();
  }

  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
  const judgeMedian = median(judging);
  const report = `## ${new Date().toISOString().slice(0, 10)} · retention · commit ${commit} · ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · load ${loadavg()[0]?.toFixed(1)}

### rule evaluation alone: ${TAGS_IN_MEMORY.toLocaleString("en")} synthetic tags (200,000 images), keep_last 100 + max_age_days 30 + keep_semver + exclude, ${RUNS} runs

Median **${judgeMedian.toFixed(2)} s** (runs ${judging.map((s) => s.toFixed(2)).join(", ")}); ${kept.toLocaleString("en")} tags kept. Target under 2 s: **${judgeMedian < 2 ? "met" : "missed"}**.

### planning \`clean --keep-last 1\` over ${TAGS_ON_REGISTRY.toLocaleString("en")} tags on docker-registry (127.0.0.1), ${REGISTRY_RUNS} run(s)

Median **${median(planning.map((p) => p.seconds)).toFixed(2)} s** (runs ${planning.map((p) => p.seconds.toFixed(2)).join(", ")}), peak RSS ${Math.max(...planning.map((p) => p.rssMiB)).toFixed(0)} MiB; ${planSummary}. Every tag is read once (the registry answers one tag per request), configs once per digest, 16 requests in flight.
`;
  const resultsFile = join(root, "bench", "RESULTS.md");
  const previous = await readFile(resultsFile, "utf8");
  const [head, ...rest] = previous.split("\n## ");
  await writeFile(resultsFile, [head?.trimEnd(), "", report, ...rest.map((r) => `## ${r}`)].join("\n"));
  process.stdout.write(report);
});
