// The promotion engine's copy step against a real registry: an interrupted
// promotion (manifest copied, tag never written) completes on re-run, and a
// target tag that already names another digest is never moved.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyImage } from "../../src/oci/copy.js";
import { closeClients } from "../../src/oci/transports/registry.js";
import { parseConfig } from "../../src/policy/config.js";
import { promote } from "../../src/promote/engine.js";
import { openStore, type StoreDb } from "../../src/store/store.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { makeTempDir, removeTempDir } from "../harness/util.js";
import { pushImage, repoOn } from "../sign/images.js";

let registry: TestRegistry;
let tmp: string;
let store: StoreDb;

beforeAll(async () => {
  registry = await startRegistry();
  tmp = makeTempDir("shipgate-engine-");
  store = await openStore(join(tmp, "store"));
});

afterAll(async () => {
  await store?.destroy();
  await closeClients();
  await registry?.stop();
  if (tmp) await removeTempDir(tmp);
});

const loaded = () => ({
  path: join(tmp, "shipgate.yaml"),
  dir: tmp,
  config: parseConfig(
    `registries: { r: { url: "${registry.host}", insecure: true } }
environments: { dev: { registry: r, prefix: "dev/" }, staging: { registry: r, prefix: "staging/" } }
promotion: { staging: { from: dev } }
`,
    "shipgate.yaml",
    {},
  ),
});

const run = (tag: string) => promote({ loaded: loaded(), app: "api", tag, to: "staging", store, deps: {} });

describe("promotion copy", () => {
  it("completes an interrupted promotion: what was copied is skipped, the tag is written", async () => {
    const dev = repoOn(registry.host, "dev/api");
    const image = await pushImage(dev, "1.0", "api 1.0");
    // As if a promotion died after the manifest and before the tag.
    await copyImage(dev, image.digest, repoOn(registry.host, "staging/api"), undefined);
    const report = await run("1.0");
    expect(report).toMatchObject({ status: "promoted", digest: image.digest });
    expect(report.copy?.blobs.copied).toBe(0);
    expect((await repoOn(registry.host, "staging/api").getManifest("1.0")).digest).toBe(image.digest);
    expect((await run("1.0")).status).toBe("already-promoted");
  });

  it("never moves a target tag that names another digest", async () => {
    const dev = repoOn(registry.host, "dev/api");
    const image = await pushImage(dev, "2.0", "api 2.0");
    const other = await pushImage(repoOn(registry.host, "staging/api"), "2.0", "someone else's 2.0");
    await expect(run("2.0")).rejects.toMatchObject({
      code: "CONCURRENT_CHANGE",
      message: expect.stringContaining(`already names ${other.digest}, not ${image.digest}`),
    });
    expect((await repoOn(registry.host, "staging/api").getManifest("2.0")).digest).toBe(other.digest);
  });
});
