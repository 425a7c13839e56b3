// Promotion end to end, through the built CLI, against two real registries
// (Debian's docker-registry): dev and staging share registry A under
// prefixes, prod is registry B. Images are the shared Debian-built ones,
// signed with shipgate's cosign-compatible signer and carrying an SBOM that
// shipgate generated; notifications go to local services that accept only
// the payloads Slack and PagerDuty document.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReference } from "../../src/oci/reference.js";
import { cosignTags } from "../../src/oci/referrers.js";
import { closeClients, RegistryRepository } from "../../src/oci/transports/registry.js";
import { PROMOTION_PREDICATE_TYPE } from "../../src/promote/predicate.js";
import { attachSbom } from "../../src/sbom/attach.js";
import { generateKeyPair, loadPrivateKey, loadPublicKey } from "../../src/sign/keys.js";
import { signImage } from "../../src/sign/sign-image.js";
import { verifyAttestations, verifyImage } from "../../src/sign/verify.js";
import { listAudit } from "../../src/store/audit.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { makeTempDir, removeTempDir, sleep } from "../harness/util.js";
import { type CliResult, DEBIAN_BASE_DIGEST, runCli, SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";
import {
  type FakeService,
  startPagerDuty,
  startSlack,
  validatePagerDuty,
  validateSlack,
} from "../notify/services.js";

const PASSWORD = "promote-test-pw";
const ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE";

let a: TestRegistry;
let b: TestRegistry;
let slack: FakeService;
let pd: FakeService;
let tmp: string;
let env: Record<string, string>;

const tagsOf = async (host: string, repo: string): Promise<string[]> => {
  const r = new RegistryRepository(parseReference(`${host}/${repo}`), { credentials: null });
  const out: string[] = [];
  try {
    for await (const t of r.listTags()) out.push(t);
  } catch {
    return [];
  }
  return out.sort();
};

async function cli(args: string[], user = "alice"): Promise<CliResult> {
  return runCli(args, { env: { ...env, SHIPGATE_USER: user } });
}

async function ok(args: string[], user?: string): Promise<CliResult> {
  const out = await cli(args, user);
  expect(out.code, `shipgate ${args.join(" ")}\n${out.stdout}\n${out.stderr}`).toBe(0);
  return out;
}

beforeAll(async () => {
  [a, b, slack, pd] = await Promise.all([startRegistry(), startRegistry(), startSlack(), startPagerDuty()]);
  tmp = makeTempDir("shipgate-promote-");
  env = {
    COSIGN_PASSWORD: PASSWORD,
    SHIPGATE_STORE: join(tmp, "store"),
    SHIPGATE_CONFIG: join(tmp, "shipgate.yaml"),
    SLACK_WEBHOOK_URL: `${slack.url}/services/T000/B000/SECRETTOKEN`,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  };
  const pair = await generateKeyPair(PASSWORD);
  await writeFile(join(tmp, "cosign.key"), pair.privatePem);
  await writeFile(join(tmp, "cosign.pub"), pair.publicPem);
  await writeFile(
    join(tmp, "shipgate.yaml"),
    `registries:
  main: { url: "${a.host}", insecure: true }
  prod: { url: "${b.host}" }
environments:
  dev: { registry: main, prefix: "dev/" }
  staging: { registry: main, prefix: "staging/" }
  prod: { registry: prod }
promotion:
  staging:
    from: dev
    notify: [platform-slack]
    gates:
      signature: { keys: [cosign.pub] }
      sbom: required
      licenses: { deny: ["AGPL-*", "SSPL-*"] }
      smoke: { command: 'echo "$SHIPGATE_IMAGE" | grep -q "/shop@$SHIPGATE_DIGEST"', timeout: 20s }
  prod:
    from: staging
    gates:
      signature: { keys: [cosign.pub] }
      sbom: required
      approval: { approvers: 2, notify: [platform-slack], timeout: 1s, escalate: [oncall] }
signing: { key: cosign.key, password: "\${COSIGN_PASSWORD}" }
notifications:
  platform-slack: { type: slack, webhook_url: \${SLACK_WEBHOOK_URL} }
  oncall: { type: pagerduty, routing_key: \${PAGERDUTY_ROUTING_KEY}, url: "${pd.url}/v2/enqueue" }
`,
  );
  // dev/shop:1.0 is debian-base, signed and with an SBOM; dev/shop:2.0 is the shop image, neither.
  const sbomFile = join(tmp, "base.cdx.json");
  await Promise.all([
    ok(["copy", `oci:${SHARED_IMAGES}:debian-base`, `${a.host}/dev/shop:1.0`]),
    ok(["copy", `oci:${SHARED_IMAGES}:shop-1.4.2`, `${a.host}/dev/shop:2.0`]),
    ok(["sbom", `oci:${SHARED_IMAGES}:debian-base`, "-f", "cyclonedx-json", "-o", sbomFile]),
  ]);
  const dev = {
    transport: "docker" as const,
    reference: parseReference(`${a.host}/dev/shop:1.0`),
    explicitReference: true,
  };
  await signImage(dev, await loadPrivateKey(pair.privatePem, PASSWORD));
  await attachSbom(dev, await readFile(sbomFile));
}, 120_000);

afterAll(async () => {
  await closeClients();
  await Promise.all([a?.stop(), b?.stop(), slack?.close(), pd?.close()]);
  if (tmp) await removeTempDir(tmp);
});

describe("shipgate promote", () => {
  it("promotes dev → staging when every gate passes: copied by digest with its referrers, tagged, attested", async () => {
    const out = await ok(["promote", "shop:1.0", "--to", "staging"]);
    expect(out.stdout).toMatch(/signature\s+pass\s+1 valid signature/);
    expect(out.stdout).toMatch(/sbom\s+pass/);
    expect(out.stdout).toMatch(/licenses\s+pass\s+\d+ packages, none denied/);
    expect(out.stdout).toMatch(/smoke\s+pass/);
    expect(out.stdout).toContain(`promoted to ${a.host}/staging/shop:1.0`);

    const staged = {
      transport: "docker" as const,
      reference: parseReference(`${a.host}/staging/shop@${DEBIAN_BASE_DIGEST}`),
      explicitReference: true,
    };
    const tags = await tagsOf(a.host, "staging/shop");
    const [sig, , sbom] = cosignTags(DEBIAN_BASE_DIGEST);
    expect(tags).toEqual(expect.arrayContaining(["1.0", sig, sbom]));
    // The signature came along and still verifies on the copy; the promotion decision is itself a verified attestation.
    const key = await loadPublicKey(join(tmp, "cosign.pub"));
    expect((await verifyImage(staged, [key])).verified).toBe(true);
    const attestations = await verifyAttestations(staged, [key], { predicateType: PROMOTION_PREDICATE_TYPE });
    expect(attestations.verified).toBe(true);
    expect(attestations.attestations[0]?.statement.predicate).toMatchObject({
      promotedBy: "alice",
      from: { environment: "dev" },
      to: { environment: "staging" },
      gates: expect.arrayContaining([{ gate: "signature", status: "pass", summary: expect.any(String) }]),
    });
    const note = slack.received.at(-1)?.body;
    expect(validateSlack(note)).toEqual([]);
    expect(JSON.stringify(note)).toContain("shop:1.0 promoted to staging");
    expect(JSON.stringify(note)).not.toContain("SECRETTOKEN");
  });

  it("a re-run is idempotent: gates re-verified on the target, nothing copied", async () => {
    const out = await ok(["promote", "shop:1.0", "--to", "staging", "--json"]);
    const report = JSON.parse(out.stdout) as { status: string; digest: string; copy?: unknown };
    expect(report).toMatchObject({ status: "already-promoted", digest: DEBIAN_BASE_DIGEST });
    expect(report.copy).toBeUndefined();
  });

  it("a failing gate blocks with exit 1, says which and why, and leaves the target untouched", async () => {
    const out = await cli(["promote", "shop:2.0", "--to", "staging"]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/signature\s+FAIL\s+no valid signature/);
    expect(out.stdout).toMatch(/sbom\s+FAIL\s+no SBOM attached to sha256:/);
    expect(out.stdout).toMatch(/licenses\s+FAIL/);
    expect(out.stdout).toContain("blocked");
    expect(out.stderr).toContain("shop:2.0 not promoted to staging: signature, sbom, licenses failed");
    expect(await tagsOf(a.host, "staging/shop")).not.toContain("2.0");
    const dry = await cli(["promote", "shop:2.0", "--to", "staging", "--dry-run", "--json"]);
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout)).toMatchObject({ status: "blocked", digest: SHOP_DIGEST });
  });

  it("refuses usage errors with exit 2: unknown environment, wrong source, bad APP:TAG", async () => {
    const [unknown, wrong, bad, missing] = await Promise.all([
      cli(["promote", "shop:1.0", "--to", "qa"]),
      cli(["promote", "shop:1.0", "--to", "prod", "--from", "dev"]),
      cli(["promote", "shop", "--to", "staging"]),
      cli(["promote", "shop:9.9", "--to", "staging"]),
    ]);
    expect(unknown.code).toBe(2);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("prod is promoted from staging, not dev");
    expect(bad.code).toBe(2);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("shop:9.9 not found in dev");
  });

  it("staging → prod waits for two approvals from people other than the requester, escalates, then promotes", async () => {
    const first = await cli(["promote", "shop:1.0", "--to", "prod"]);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/approval\s+FAIL\s+apr-[0-9a-f]{8} pending: 0 of 2 approvals/);
    const id = /apr-[0-9a-f]{8}/.exec(first.stdout)?.[0] as string;
    const asked = slack.received.at(-1)?.body;
    expect(validateSlack(asked)).toEqual([]);
    expect(JSON.stringify(asked)).toContain(`shipgate approvals approve ${id}`);

    const listed = JSON.parse((await ok(["approvals", "list", "--json"])).stdout) as {
      id: string;
      requester: string;
    }[];
    expect(listed).toEqual([expect.objectContaining({ id, requester: "alice", required: 2 })]);

    const own = await cli(["approvals", "approve", id], "alice");
    expect(own.code).toBe(1);
    expect(own.stderr).toContain("alice requested");
    expect((await ok(["approvals", "approve", id], "bob")).stdout).toContain("pending; 1 of 2 approvals");

    // Past the 1 s timeout with one approval short: escalation pages on-call, once.
    await sleep(1100);
    const escalated = await ok(["approvals", "escalate"]);
    expect(escalated.stdout).toContain(`${id} escalated: oncall ok`);
    expect(validatePagerDuty(pd.received.at(-1)?.body)).toEqual([]);
    expect(pd.received.at(-1)?.body).toMatchObject({
      event_action: "trigger",
      dedup_key: `shipgate/approval/${id}`,
    });
    expect((await ok(["approvals", "escalate"])).stdout).toContain("nothing to escalate");

    // alice waits for the last approval; carol gives it once the waiting run has recorded its first verdict.
    const waiting = cli(["promote", "shop:1.0", "--to", "prod", "--wait", "60s"], "alice");
    const prodVerdicts = async () =>
      (await listAudit({ kind: "promotion", environment: "prod" }, env.SHIPGATE_STORE)).length;
    while ((await prodVerdicts()) < 2) await sleep(100);
    expect((await ok(["approvals", "approve", id, "--reason", "release 1.0"], "carol")).stdout).toContain(
      `${id}: approved`,
    );
    // The decision resolves the incident the escalation opened.
    expect(pd.received.at(-1)?.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "resolve",
      dedup_key: `shipgate/approval/${id}`,
    });

    const promoted = await waiting;
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stderr).toContain(`waiting up to 60s for a decision on ${id}`);
    expect(promoted.stdout).toMatch(/approval\s+pass\s+.*approved by bob, carol/);
    expect(await tagsOf(b.host, "shop")).toEqual(
      expect.arrayContaining(["1.0", cosignTags(DEBIAN_BASE_DIGEST)[0]]),
    );
  });

  it("records every decision in a verifiable audit trail", async () => {
    const [log, table, verify, status, notices] = await Promise.all([
      ok(["audit", "log", "--kind", "promotion", "--json"]),
      ok(["audit", "log", "--env", "prod"]),
      ok(["audit", "verify"]),
      ok(["status", "shop", "--json"]),
      ok(["audit", "log", "--kind", "notification", "--json"]),
    ]);
    const sent = JSON.parse(notices.stdout) as {
      action: string;
      outcome: string;
      details: { deliveries: { channel: string }[] };
    }[];
    expect(sent.map((n) => `${n.action}:${n.outcome}`)).toEqual(
      expect.arrayContaining([
        "promotion:delivered",
        "promotion-blocked:delivered",
        "approval-requested:delivered",
        "escalation:delivered",
        "approval-decided:delivered",
      ]),
    );
    expect(JSON.stringify(sent)).not.toContain("SECRETTOKEN");
    expect(JSON.parse(status.stdout)).toEqual([
      {
        digest: DEBIAN_BASE_DIGEST,
        placements: [
          expect.objectContaining({ environment: "staging", tag: "1.0", from: "dev", promotedBy: "alice" }),
          expect.objectContaining({ environment: "prod", tag: "1.0", from: "staging", promotedBy: "alice" }),
        ],
      },
    ]);
    const records = JSON.parse(log.stdout) as {
      action: string;
      environment: string;
      actor: string;
      details: { gates: { gate: string; status: string }[] };
    }[];
    expect(records.map((r) => `${r.environment}:${r.action}`)).toEqual([
      "staging:promoted",
      "staging:already-promoted",
      "staging:blocked",
      "prod:blocked",
      "prod:blocked",
      "prod:promoted",
    ]);
    expect(records[2]?.details.gates).toEqual(
      expect.arrayContaining([expect.objectContaining({ gate: "signature", status: "fail" })]),
    );
    expect(table.stdout).toMatch(/approval\s+approved\s+approved\s+carol/);
    expect(verify.stdout).toMatch(/audit trail intact: \d+ record/);
  });
});

describe("shipgate policy check", () => {
  it("prints the resolved config with secrets masked", async () => {
    const out = await ok(["policy", "check"]);
    expect(out.stdout).toContain(`webhook_url: http://127.0.0.1:${new URL(slack.url).port}/****`);
    expect(out.stdout).toContain('routing_key: "****"');
    expect(out.stdout).not.toContain("SECRETTOKEN");
    expect(out.stdout).not.toContain(ROUTING_KEY);
    expect(out.stdout).not.toContain(PASSWORD);
  });

  it("refuses a bad file with exit 2 and file:line:column", async () => {
    const bad = join(tmp, "bad.yaml");
    await writeFile(bad, "registries:\n  r: { url: x }\nenvironments:\n  dev: { registry: r, prefx: a }\n");
    const out = await cli(["policy", "check", "--config", bad, "--json"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${bad}:4:23: environments.dev.prefx: unknown key "prefx"`);
    expect(JSON.parse(out.stdout)).toMatchObject({
      valid: false,
      issues: [{ line: 4, column: 23, path: "environments.dev.prefx" }],
    });
    const missing = await cli(["policy", "check"], "alice");
    expect(missing.code).toBe(0);
    const unset = await runCli(["policy", "check"], {
      env: { SHIPGATE_CONFIG: env.SHIPGATE_CONFIG as string },
    });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("environment variable COSIGN_PASSWORD is not set");
  });
});
