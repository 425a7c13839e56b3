// `shipgate scan --alert`: a critical finding in a digest that was promoted
// alerts the config's alerts.vulnerabilities channels, as the promotion gate
// does. Real flow in the embedded store (url: store:): copy the shared shop
// image into store:dev, promote it to staging, scan it against the shared
// vulndb; PagerDuty is a local service that accepts only Events v2 payloads.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, removeTempDir } from "../harness/util.js";
import { type CliResult, runCli, SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";
import { type FakeService, startPagerDuty, validatePagerDuty } from "../notify/services.js";

const VULNDB = join(import.meta.dirname, "..", "..", "..", "shared", "vulndb");
const ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE";

let pd: FakeService;
let tmp: string;
let env: Record<string, string>;
let config: string;

async function ok(args: string[]): Promise<CliResult> {
  const out = await runCli(args, { env });
  expect(out.code, `shipgate ${args.join(" ")}\n${out.stdout}\n${out.stderr}`).toBe(0);
  return out;
}

beforeAll(async () => {
  pd = await startPagerDuty();
  tmp = makeTempDir("shipgate-scan-alert-");
  config = join(tmp, "shipgate.yaml");
  env = { SHIPGATE_STORE: join(tmp, "store"), SHIPGATE_USER: "alice" };
  await writeFile(
    config,
    `registries:
  local: { url: "store:" }
environments:
  dev: { registry: local, prefix: "dev/" }
  staging: { registry: local, prefix: "staging/" }
promotion:
  staging: { from: dev, gates: {} }
alerts: { vulnerabilities: { severity: critical, notify: [oncall] } }
notifications:
  oncall: { type: pagerduty, routing_key: ${ROUTING_KEY}, url: "${pd.url}/v2/enqueue" }
`,
  );
  await Promise.all([
    ok(["db", "import", VULNDB]),
    ok(["copy", `oci:${SHARED_IMAGES}:shop-1.4.2`, "store:dev/app:1.0.0"]),
  ]);
}, 60_000);

afterAll(async () => {
  await pd?.close();
  if (tmp) await removeTempDir(tmp);
});

describe("shipgate scan --alert", () => {
  it("a digest never promoted sends nothing, even with a critical finding", async () => {
    const out = await ok(["scan", "store:dev/app:1.0.0", "--alert", "--config", config]);
    expect(out.stdout).toContain("CVE-2021-44906");
    expect(out.stderr).not.toContain("alert:");
    expect(pd.received).toHaveLength(0);
  });

  it("without --alert a promoted digest's critical finding sends nothing", async () => {
    await ok(["promote", "app:1.0.0", "--to", "staging", "--config", config]);
    const out = await ok(["scan", "store:staging/app:1.0.0", "--config", config]);
    expect(out.stdout).toContain("CVE-2021-44906");
    expect(pd.received).toHaveLength(0);
  });

  it("with --alert the promoted digest sends exactly one Events v2 trigger keyed by the digest", async () => {
    const out = await ok(["scan", "store:staging/app:1.0.0", "--alert", "--config", config]);
    expect(pd.received).toHaveLength(1);
    const body = pd.received[0]?.body;
    expect(validatePagerDuty(body)).toEqual([]);
    expect(body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: `shipgate/vulnerabilities/${SHOP_DIGEST}`,
      payload: { severity: "critical", summary: expect.stringContaining("app running in staging") },
    });
    expect(out.stderr).toMatch(/alert: \d+ finding\(s\) in app sha256:\S+ running in staging -> oncall/);
    expect(out.stderr).not.toContain(pd.url);
  });

  it("scan --rescan-all --alert re-matches the stored SBOM and alerts for the promoted digest", async () => {
    const before = pd.received.length;
    const out = await ok(["scan", "--rescan-all", "--alert", "--config", config]);
    expect(out.stderr).toMatch(/alert: \d+ finding\(s\) in app sha256:\S+ running in staging -> oncall/);
    expect(pd.received.slice(before).map((r) => (r.body as { dedup_key?: string }).dedup_key)).toEqual([
      `shipgate/vulnerabilities/${SHOP_DIGEST}`,
    ]);
  });
});
