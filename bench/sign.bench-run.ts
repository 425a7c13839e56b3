import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { it } from "vitest";
import { buildImage } from "../src/oci/build.js";
import { parseLocation } from "../src/oci/transports/location.js";
import { openDest } from "../src/oci/transports/open.js";
import { closeClients } from "../src/oci/transports/registry.js";
import { BlobCache } from "../src/sign/blob-cache.js";
import { generateKeyPair, loadPrivateKey } from "../src/sign/keys.js";
import { signImage } from "../src/sign/sign-image.js";
import { verifyImage } from "../src/sign/verify.js";
import { startFaultProxy } from "../test/harness/fault-proxy.js";
import { startRegistry } from "../test/harness/registry.js";

// Issue #4's benchmark: sign and verify every image of a 200-image repository, counting the
// registry requests each verify needs (target: at most 3 with the tag-schema layout, fewer with a
// warm cache). No cosign binary runs here, so there is no peer ratio: the request counts are
// the comparable part (cosign's own verify of a .sig tag needs the same three reads).
const root = join(import.meta.dirname, "..");
const work = join(root, "bench", ".work", "sign");
const IMAGES = Number(process.env.BENCH_IMAGES ?? 200);

it("sign and verify a repository of 200 images", async () => {
  await mkdir(join(work, "app"), { recursive: true });
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.host);
  try {
    const password = "bench";
    const pair = await generateKeyPair(password);
    const key = await loadPrivateKey(pair.privatePem, password);
    const digests: string[] = [];
    const pushStarted = performance.now();
    for (let i = 0; i < IMAGES; i++) {
      await writeFile(join(work, "app", "VERSION"), `${i}\n`);
      const dest = await openDest(parseLocation(`${registry.host}/bench/app:v${i}`));
      const built = await buildImage(join(work, "app"), dest, `v${i}`, {
        prefix: "/app",
        created: new Date(Date.UTC(2024, 0, 1) + i * 3600_000),
      });
      digests.push(built.digest);
    }
    const pushSeconds = (performance.now() - pushStarted) / 1000;
    const at = (digest: string) => parseLocation(`${proxy.host}/bench/app@${digest}`);

    let mark = proxy.requests.length;
    const signStarted = performance.now();
    for (const digest of digests) await signImage(at(digest), key);
    const signSeconds = (performance.now() - signStarted) / 1000;
    const signRequests = (proxy.requests.length - mark) / IMAGES;

    const verifyPass = async (cache: BlobCache, layouts: ("legacy" | "bundle")[]) => {
      const counts: number[] = [];
      const started = performance.now();
      for (const digest of digests) {
        const before = proxy.requests.length;
        const result = await verifyImage(at(digest), [key.publicKey], { layouts, cache });
        if (!result.verified) throw new Error(`${digest} did not verify: ${result.reasons.join("; ")}`);
        counts.push(proxy.requests.length - before);
      }
      return { seconds: (performance.now() - started) / 1000, max: Math.max(...counts), mean: mean(counts) };
    };
    const cache = new BlobCache();
    mark = proxy.requests.length;
    const cold = await verifyPass(cache, ["legacy"]);
    const warm = await verifyPass(cache, ["legacy"]);
    const both = await verifyPass(new BlobCache(), ["legacy", "bundle"]);

    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root }).toString().trim();
    const row = (name: string, r: { seconds: number; max: number; mean: number }) =>
      `| ${name} | ${r.seconds.toFixed(2)} s | ${((r.seconds / IMAGES) * 1000).toFixed(1)} ms | ${r.mean.toFixed(2)} | ${r.max} |`;
    const report = `## ${new Date().toISOString().slice(0, 10)} · sign · commit ${commit} · ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · load ${loadavg()[0]?.toFixed(1)}

### sign and verify ${IMAGES} images of one repository (docker-registry on 127.0.0.1, no referrers API)

Pushing the ${IMAGES} images took ${pushSeconds.toFixed(1)} s. Signing all of them (legacy \`.sig\` tags): ${signSeconds.toFixed(2)} s,
${((signSeconds / IMAGES) * 1000).toFixed(1)} ms and ${signRequests.toFixed(1)} registry requests per image (resolve, read the existing \`.sig\`, upload, write).

| verify pass | total | per image | requests per image (mean) | requests per image (max) |
| --- | --- | --- | --- | --- |
${row("legacy layout, cold cache", cold)}
${row("legacy layout, warm cache", warm)}
${row("both layouts (adds the referrers lookup), cold", both)}

Target: at most 3 requests per verified image with the tag-schema layout: **${cold.max <= 3 ? "met" : "missed"}** (max ${cold.max}); the warm cache brings it to ${warm.max}.
No peer: cosign is not packaged for Debian bookworm and Debian's skopeo has sigstore switched off.
`;
    const resultsFile = join(root, "bench", "RESULTS.md");
    const previous = await readFile(resultsFile, "utf8");
    const [head, ...rest] = previous.split("\n## ");
    await writeFile(resultsFile, [head?.trimEnd(), "", report, ...rest.map((r) => `## ${r}`)].join("\n"));
    process.stdout.write(report);
  } finally {
    await closeClients();
    await proxy.stop();
    await registry.stop();
  }
});

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}
