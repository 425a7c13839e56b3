import { execFile, execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { it } from "vitest";
import { startRegistry, type TestRegistry } from "../test/harness/registry.js";
import { benchImage } from "./image.js";
import { median } from "./measure.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const work = join(root, "bench", ".work");
const shipgate = join(root, "bin", "shipgate.js");
const curlCopy = join(root, "bench", "curl-copy.sh");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LAYERS = 5;
const LAYER_MIB = 100;
const TAGS = 20_000;

interface Sample {
  seconds: number;
  rssMiB: number;
  /** User + system CPU seconds of the client. */
  cpu: number;
}

interface CopySample extends Sample {
  /** CPU seconds the source and destination registries spent serving this copy. */
  sourceCpu: number;
  destCpu: number;
}

/** Runs a command under GNU time for wall time, CPU time and peak RSS (children included). */
async function timed(command: string, args: string[]): Promise<Sample & { stdout: string }> {
  const { stdout, stderr } = await run("/usr/bin/time", ["-f", "BENCH %e %M %U %S", command, ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const match = /BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!match) throw new Error(`no timing in: ${stderr}`);
  return {
    seconds: Number(match[1]),
    rssMiB: Number(match[2]) / 1024,
    cpu: Number(match[3]) + Number(match[4]),
    stdout,
  };
}

/**
 * CPU seconds (user + system) a test registry has used so far, read from
 * /proc: the registries do most of a copy's work (the destination hashes
 * every byte it receives), so the report shows where the time went.
 */
async function registryCpu(registry: TestRegistry): Promise<number> {
  const config = join(registry.storageDir, "..", "config.yml");
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    const argv = cmdline.split("\0");
    if (!argv[0]?.endsWith("docker-registry") || !argv.includes(config)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }
  throw new Error(`no docker-registry process for ${config}`);
}
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

const skopeoTls = ["--src-tls-verify=false", "--dest-tls-verify=false"];

it("copy and tags benchmark: shipgate against skopeo", async () => {
  await mkdir(work, { recursive: true });
  const loadAtStart = loadavg();
  const layout = await benchImage(join(work, "image"), LAYERS, LAYER_MIB);
  const source = await startRegistry();
  const registries: TestRegistry[] = [source];
  try {
    await run("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      `oci:${layout}:big`,
      `docker://${source.host}/bench/big:1`,
    ]);
    type Copier = "shipgate" | "skopeo" | "curl";
    const copy: Record<Copier, CopySample[]> = { shipgate: [], skopeo: [], curl: [] };
    const digests = new Set<string>();
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, alternating who goes first, each into a fresh registry (no blob is already there).
      // Rotated, so no tool always runs first.
      const tools: Copier[] = ["shipgate", "skopeo", "curl"];
      const order = [...tools.slice(i % 3), ...tools.slice(0, i % 3)];
      for (const tool of order) {
        const dest = await startRegistry();
        try {
          const src = `${source.host}/bench/big:1`;
          const dst = `${dest.host}/bench/big:1`;
          const [source0, dest0] = [await registryCpu(source), await registryCpu(dest)];
          const sample =
            tool === "shipgate"
              ? await timed(process.execPath, [shipgate, "copy", src, dst])
              : tool === "skopeo"
                ? await timed("skopeo", ["copy", ...skopeoTls, `docker://${src}`, `docker://${dst}`])
                : await timed("bash", [curlCopy, source.host, dest.host, "bench/big", "1"]);
          copy[tool].push({
            ...sample,
            sourceCpu: (await registryCpu(source)) - source0,
            destCpu: (await registryCpu(dest)) - dest0,
          });
          const { stdout } = await run("skopeo", [
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            `docker://${dst}`,
          ]);
          digests.add(stdout.trim());
        } finally {
          await dest.stop();
        }
      }
    }
    if (digests.size !== 1) throw new Error(`the copies differ: ${[...digests].join(", ")}`);

    // Chunked uploads (for proxies that cap request sizes) stream each chunk: memory must stay as bounded as for one PUT.
    const chunkDest = await startRegistry();
    const chunked = await timed(process.execPath, [
      shipgate,
      "copy",
      "--chunk-size",
      String(32 * 1024 * 1024),
      `${source.host}/bench/big:1`,
      `${chunkDest.host}/bench/big:1`,
    ]).finally(() => chunkDest.stop());

    // Within one registry, a copy to another repository mounts every blob: no blob bytes move.
    const mount = await timed(process.execPath, [
      shipgate,
      "copy",
      "--json",
      `${source.host}/bench/big:1`,
      `${source.host}/other/big:1`,
    ]);
    const mounted = JSON.parse(mount.stdout) as { bytesTransferred: number; blobs: { mounted: number } };
    const skopeoMount = await timed("skopeo", [
      "copy",
      ...skopeoTls,
      `docker://${source.host}/bench/big:1`,
      `docker://${source.host}/other2/big:1`,
    ]);

    // 20,000 tags, written straight into the registry's storage (pushing them one by one would time the set-up, not the listing).
    const manifestDigest = [...digests][0] as string;
    const tagsDir = join(
      source.storageDir,
      "docker",
      "registry",
      "v2",
      "repositories",
      "bench",
      "big",
      "_manifests",
      "tags",
    );
    for (let t = 0; t < TAGS; t++) {
      const dir = join(tagsDir, `t${t}`, "current");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "link"), manifestDigest);
      const index = join(tagsDir, `t${t}`, "index", "sha256", manifestDigest.slice(7));
      await mkdir(index, { recursive: true });
      await writeFile(join(index, "link"), manifestDigest);
    }
    const tags: Record<"shipgate" | "skopeo", Sample[]> = { shipgate: [], skopeo: [] };
    for (let i = 0; i < RUNS; i++) {
      const a = await timed(process.execPath, [shipgate, "tags", `${source.host}/bench/big`]);
      const b = await timed("skopeo", [
        "list-tags",
        "--tls-verify=false",
        `docker://${source.host}/bench/big`,
      ]);
      if (a.stdout.trim().split("\n").length !== TAGS + 1)
        throw new Error("shipgate listed the wrong number of tags");
      tags.shipgate.push(a);
      tags.skopeo.push(b);
    }

    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
    const sizeMiB = LAYERS * LAYER_MIB;
    const line = (name: string, s: Sample[]) =>
      `| ${name} | ${median(s.map((x) => x.seconds)).toFixed(2)} s | ${s.map((x) => x.seconds.toFixed(2)).join(", ")} | ${median(s.map((x) => x.rssMiB)).toFixed(0)} MiB | ${Math.max(...s.map((x) => x.rssMiB)).toFixed(0)} MiB |`;
    const cores = cpus().length;
    const cpuLine = (name: string, s: CopySample[]) => {
      const client = median(s.map((x) => x.cpu));
      const src = median(s.map((x) => x.sourceCpu));
      const dst = median(s.map((x) => x.destCpu));
      return `| ${name} | ${client.toFixed(2)} s | ${src.toFixed(2)} s | ${dst.toFixed(2)} s | ${(client + src + dst).toFixed(2)} s | ${((client + src + dst) / cores).toFixed(2)} s |`;
    };
    const floorRatio = median(copy.skopeo.map((x) => x.seconds)) / median(copy.curl.map((x) => x.seconds));
    const copyRatio = median(copy.skopeo.map((x) => x.seconds)) / median(copy.shipgate.map((x) => x.seconds));
    const tagsRatio = median(tags.skopeo.map((x) => x.seconds)) / median(tags.shipgate.map((x) => x.seconds));
    const report = `## ${new Date().toISOString().slice(0, 10)} · commit ${commit} · ${cores} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version}

Load average (1 / 5 / 15 min) at the start: ${loadAtStart.map((l) => l.toFixed(1)).join(" / ")}; at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ")}.

### copy: ${sizeMiB} MiB in ${LAYERS} layers, registry → fresh registry on 127.0.0.1, ${RUNS} runs each, interleaved

| tool | median | runs | median peak RSS | max peak RSS |
| --- | --- | --- | --- | --- |
${line("shipgate copy", copy.shipgate)}
${line("skopeo copy", copy.skopeo)}
${line("curl → curl (the floor)", copy.curl)}

**shipgate is ${copyRatio.toFixed(2)}× skopeo's speed** (median skopeo time / median shipgate time); curl piping the bytes with no checks at all (\`bench/curl-copy.sh\`) is ${floorRatio.toFixed(2)}×. Same digest from all three: ${manifestDigest}.

Where the CPU went (median CPU seconds per copy, user + system; ${cores} cores):

| tool | client | source registry | destination registry | all | fastest possible on ${cores} cores with this client |
| --- | --- | --- | --- | --- | --- |
${cpuLine("shipgate copy", copy.shipgate)}
${cpuLine("skopeo copy", copy.skopeo)}
${cpuLine("curl → curl (the floor)", copy.curl)}

The destination registry hashes every byte it receives (distribution verifies the digest of each upload); its share is the same whichever client sends. With a client that cost nothing, a copy could take no less than ${(median(copy.skopeo.map((x) => x.sourceCpu + x.destCpu)) / cores).toFixed(2)} s here, ${(median(copy.skopeo.map((x) => x.seconds)) / (median(copy.skopeo.map((x) => x.sourceCpu + x.destCpu)) / cores)).toFixed(2)}× skopeo's median.

Chunked upload (\`--chunk-size 32 MiB\`, 1 run): ${chunked.seconds.toFixed(2)} s, peak RSS ${chunked.rssMiB.toFixed(0)} MiB.

Copy within one registry (cross-repository mount): shipgate ${mount.seconds.toFixed(2)} s, ${mounted.blobs.mounted} blobs mounted, ${mounted.bytesTransferred} blob bytes transferred; skopeo ${skopeoMount.seconds.toFixed(2)} s.

### tags: a repository with ${TAGS.toLocaleString("en")} tags, ${RUNS} runs each

| tool | median | runs | median peak RSS | max peak RSS |
| --- | --- | --- | --- | --- |
${line("shipgate tags", tags.shipgate)}
${line("skopeo list-tags", tags.skopeo)}

**shipgate is ${tagsRatio.toFixed(2)}× skopeo's speed.**
`;
    const resultsFile = join(root, "bench", "RESULTS.md");
    const previous = await readFile(resultsFile, "utf8").catch(
      () => "# Benchmark results\n\nNewest first. Run with `npm run bench` (see bench/README.md).\n",
    );
    const [head, ...rest] = previous.split("\n## ");
    await writeFile(resultsFile, [head?.trimEnd(), "", report, ...rest.map((r) => `## ${r}`)].join("\n"));
    process.stdout.write(report);
  } finally {
    for (const r of registries) await r.stop();
  }
});
