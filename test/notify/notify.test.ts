import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Notification } from "../../src/notify/message.js";
import { notifyAll, sendTo } from "../../src/notify/send.js";
import {
  type FakeService,
  startPagerDuty,
  startSlack,
  startTeams,
  startWebhook,
  validatePagerDuty,
  validateSlack,
  validateTeams,
} from "./services.js";

const ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE";
const at = new Date("2026-12-04T03:00:00Z");

const blocked: Notification = {
  kind: "approval-requested",
  severity: "warning",
  title: "shop:1.4.2 awaits approval for prod",
  text: "All other gates passed; 1 approval needed.",
  image: {
    app: "shop",
    tag: "1.4.2",
    digest: `sha256:${"ab".repeat(32)}`,
    reference: "registry.example.com/shop:1.4.2",
  },
  from: "staging",
  to: "prod",
  actor: "alice",
  gates: [
    { gate: "vulnerabilities", status: "pass", summary: "0 critical, 1 high (max 5)" },
    { gate: "approval", status: "fail", summary: "0 of 1 approvals" },
  ],
  approval: { id: "apr-1", required: 1, approvals: [], requester: "alice" },
  at,
};

let slack: FakeService;
let teams: FakeService;
let pd: FakeService;
let hook: FakeService;
beforeAll(async () => {
  [slack, teams, pd, hook] = await Promise.all([
    startSlack(),
    startTeams(),
    startPagerDuty(),
    startWebhook(),
  ]);
});
afterAll(async () => {
  await Promise.all([slack, teams, pd, hook].map((s) => s.close()));
});

const fast = { backoffMs: 1 };

describe("notification channels", () => {
  it("Slack: text and Block Kit blocks as the incoming webhook expects", async () => {
    const url = `${slack.url}/services/T000/B000/SECRETTOKEN`;
    const result = await sendTo("platform-slack", { type: "slack", webhook_url: url }, blocked, fast);
    expect(result).toMatchObject({ ok: true, attempts: 1 });
    const body = slack.received.at(-1)?.body as { text: string; blocks: { type: string }[] };
    expect(validateSlack(body)).toEqual([]);
    expect(body.text).toContain("shop:1.4.2 awaits approval for prod");
    expect(body.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "section", "context"]);
    expect(JSON.stringify(body.blocks)).toContain("shipgate approvals approve apr-1");
    expect(JSON.stringify(body.blocks)).toContain(blocked.image?.digest);
  });

  it("Teams: one Adaptive Card attachment with facts", async () => {
    const result = await sendTo(
      "teams",
      { type: "teams", webhook_url: `${teams.url}/webhookb2/x` },
      blocked,
      fast,
    );
    expect(result.ok).toBe(true);
    const body = teams.received.at(-1)?.body as {
      attachments: { content: { body: { type: string; facts?: { title: string; value: string }[] }[] } }[];
    };
    expect(validateTeams(body)).toEqual([]);
    const factSet = body.attachments[0]?.content.body.find((b) => b.type === "FactSet");
    expect(factSet?.facts).toContainEqual({ title: "To", value: "prod" });
  });

  it("PagerDuty: trigger then resolve with the same dedup key", async () => {
    const config = {
      type: "pagerduty" as const,
      routing_key: ROUTING_KEY,
      url: `${pd.url}/v2/enqueue`,
      severity: "error" as const,
    };
    const escalation: Notification = {
      ...blocked,
      kind: "escalation",
      severity: "critical",
      title: "Approval for shop:1.4.2 to prod timed out",
    };
    expect((await sendTo("oncall", config, escalation, fast)).ok).toBe(true);
    const trigger = pd.received.at(-1);
    expect(trigger?.path).toBe("/v2/enqueue");
    expect(validatePagerDuty(trigger?.body)).toEqual([]);
    expect(trigger?.body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      payload: {
        summary: escalation.title,
        source: "registry.example.com/shop:1.4.2",
        severity: "critical",
        timestamp: at.toISOString(),
        class: "escalation",
      },
    });
    const dedup = (trigger?.body as { dedup_key: string }).dedup_key;
    expect((await sendTo("oncall", config, { ...escalation, resolve: true }, fast)).ok).toBe(true);
    expect(pd.received.at(-1)?.body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "resolve",
      dedup_key: dedup,
    });
  });

  it("generic webhook: JSON body signed with HMAC-SHA256 over the exact bytes", async () => {
    const result = await sendTo(
      "audit",
      { type: "webhook", url: `${hook.url}/in`, secret: "k3y", headers: { authorization: "Bearer t" } },
      blocked,
      fast,
    );
    expect(result.ok).toBe(true);
    const got = hook.received.at(-1);
    const expected = `sha256=${createHmac("sha256", "k3y")
      .update(got?.raw ?? "")
      .digest("hex")}`;
    expect(got?.headers["x-shipgate-signature"]).toBe(expected);
    expect(got?.headers["x-shipgate-event"]).toBe("approval-requested");
    expect(got?.headers.authorization).toBe("Bearer t");
    expect(got?.body).toMatchObject({
      kind: "approval-requested",
      to: "prod",
      at: at.toISOString(),
      source: "shipgate",
    });
  });

  it("retries 429 and 5xx, gives up on 4xx, and never puts the URL in an error", async () => {
    slack.failFirst.push(429, 503);
    const url = `${slack.url}/services/T000/B000/SECRETTOKEN`;
    const before = slack.received.length;
    expect(await sendTo("s", { type: "slack", webhook_url: url }, blocked, fast)).toMatchObject({
      ok: true,
      attempts: 3,
    });
    expect(slack.received.length - before).toBe(3);

    const badKey = await sendTo(
      "oncall",
      { type: "pagerduty", routing_key: "short-secret-key", url: pd.url, severity: "error" },
      blocked,
      fast,
    );
    expect(badKey.ok).toBe(false);
    expect(badKey.error).toMatch(/"oncall" refused the message: HTTP 400/);
    expect(badKey.error).not.toContain("short-secret-key");

    slack.failFirst.push(500, 500, 500, 500);
    const down = await sendTo("s", { type: "slack", webhook_url: url }, blocked, { ...fast, attempts: 4 });
    expect(down).toMatchObject({ ok: false });
    expect(down.error).not.toContain("SECRETTOKEN");
  });

  it("notifyAll reaches every channel and reports the unknown one", async () => {
    const results = await notifyAll(
      ["a", "b", "missing"],
      { a: { type: "slack", webhook_url: slack.url }, b: { type: "teams", webhook_url: teams.url } },
      blocked,
      fast,
    );
    expect(results.map((r) => [r.channel, r.ok])).toEqual([
      ["a", true],
      ["b", true],
      ["missing", false],
    ]);
  });
});
