import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/policy/config.js";
import { approve, getApproval, listApprovals, reject, requestApproval } from "../../src/promote/approvals.js";
import { escalateDue } from "../../src/promote/escalation.js";
import { listAudit, verifyAudit } from "../../src/store/audit.js";
import { openStore, type StoreDb } from "../../src/store/store.js";
import { type FakeService, startPagerDuty } from "../notify/services.js";

const DIGEST = `sha256:${"34".repeat(32)}`;
const KEY = "R0123456789ABCDEF0123456789ABCDE";

let db: StoreDb;
let pd: FakeService;
beforeAll(async () => {
  db = await openStore(":memory:");
  pd = await startPagerDuty();
});
afterAll(async () => {
  await db.destroy();
  await pd.close();
});

const base = { app: "shop", tag: "1.0", from: "staging", to: "prod", requester: "alice" };

describe("approvals", () => {
  it("one request per digest and target; the requester cannot approve; N distinct approvers", async () => {
    const first = await requestApproval(db, { ...base, digest: DIGEST, required: 2, timeoutMs: 60_000 });
    expect(first.created).toBe(true);
    expect(first.request).toMatchObject({
      status: "pending",
      required: 2,
      requester: "alice",
      approvers: [],
    });
    const again = await requestApproval(db, { ...base, digest: DIGEST, required: 2, requester: "dave" });
    expect(again).toMatchObject({ created: false, request: { id: first.request.id, requester: "alice" } });

    const id = first.request.id;
    await expect(approve(db, { id, who: "alice" })).rejects.toMatchObject({ code: "POLICY_DENIED" });
    expect((await approve(db, { id, who: "bob" })).status).toBe("pending");
    await expect(approve(db, { id, who: "bob" })).rejects.toThrow(/already voted/);
    const done = await approve(db, { id, who: "carol", reason: "LGTM" });
    expect(done).toMatchObject({ status: "approved", approvers: ["bob", "carol"] });
    await expect(approve(db, { id, who: "erin" })).rejects.toThrow(/already approved/);
    expect((await listApprovals(db, { status: "pending" })).map((r) => r.id)).not.toContain(id);

    const trail = await listAudit({ kind: "approval" }, db);
    expect(trail.map((r) => [r.action, r.actor, r.outcome])).toEqual([
      ["requested", "alice", "pending"],
      ["approved", "bob", "pending"],
      ["approved", "carol", "approved"],
    ]);
  });

  it("a rejection needs a reason and is final", async () => {
    const { request } = await requestApproval(db, {
      ...base,
      digest: `sha256:${"56".repeat(32)}`,
      required: 1,
    });
    expect(() => reject(db, { id: request.id, who: "bob" })).toThrow(/needs a reason/);
    const rejected = await reject(db, { id: request.id, who: "bob", reason: "CVE fix pending" });
    expect(rejected).toMatchObject({ status: "rejected", reason: "CVE fix pending" });
    await expect(approve(db, { id: request.id, who: "carol" })).rejects.toThrow(/already rejected/);
    await expect(getApproval(db, "apr-nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("escalates a pending request once its timeout passes, exactly once, to the escalate channels", async () => {
    const config = parseConfig(
      `registries: { r: { url: localhost:5000 } }
environments: { staging: { registry: r }, prod: { registry: r } }
promotion:
  prod: { from: staging, gates: { approval: { approvers: 1, timeout: 5m, escalate: [oncall] } } }
notifications:
  oncall: { type: pagerduty, routing_key: ${KEY}, url: "${pd.url}/v2/enqueue" }
`,
      "shipgate.yaml",
      {},
    );
    const created = new Date("2026-12-04T03:00:00Z");
    const { request } = await requestApproval(db, {
      ...base,
      digest: `sha256:${"78".repeat(32)}`,
      required: 1,
      timeoutMs: 300_000,
      now: created,
    });
    expect(await escalateDue(db, config, { now: new Date("2026-12-04T03:04:59Z") })).toEqual([]);
    const later = new Date("2026-12-04T03:05:01Z");
    const escalated = await escalateDue(db, config, { now: later });
    expect(escalated.map((e) => [e.request.id, e.channels, e.deliveries[0]?.ok])).toEqual([
      [request.id, ["oncall"], true],
    ]);
    expect(pd.received.at(-1)?.body).toMatchObject({
      routing_key: KEY,
      event_action: "trigger",
      dedup_key: `shipgate/approval/${request.id}`,
      payload: { severity: "critical", class: "escalation", summary: expect.stringContaining(request.id) },
    });
    expect(await escalateDue(db, config, { now: new Date("2026-12-04T04:00:00Z") })).toEqual([]);
    expect((await listAudit({ kind: "escalation" }, db)).map((r) => r.details.id)).toEqual([request.id]);
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});
