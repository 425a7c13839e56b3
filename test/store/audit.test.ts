import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { GENESIS_HASH, listAudit, recordAudit, verifyAudit } from "../../src/store/audit.js";
import { DATABASE_FILE, openStore } from "../../src/store/store.js";

function storeDir(): string {
  return mkdtempSync(join(tmpdir(), "shipgate-audit-"));
}

describe("audit trail", () => {
  it("appends chained records and filters them", async () => {
    const dir = storeDir();
    const first = await recordAudit(
      {
        kind: "promotion",
        action: "promoted",
        outcome: "pass",
        actor: "alice",
        app: "shop",
        digest: "sha256:aa",
        environment: "staging",
        details: { gates: [{ gate: "sbom", status: "pass" }] },
      },
      dir,
    );
    expect(first.prevHash).toBe(GENESIS_HASH);
    const second = await recordAudit(
      {
        kind: "deletion",
        action: "deleted",
        outcome: "done",
        actor: "retention",
        digest: "sha256:bb",
        environment: "dev",
      },
      dir,
    );
    expect(second.prevHash).toBe(first.hash);
    expect(second.seq).toBe(first.seq + 1);

    expect((await listAudit({}, dir)).map((r) => r.kind)).toEqual(["promotion", "deletion"]);
    const byEnv = await listAudit({ environment: "staging" }, dir);
    expect(byEnv).toHaveLength(1);
    expect(byEnv[0]?.details).toEqual({ gates: [{ gate: "sbom", status: "pass" }] });
    expect(await listAudit({ digest: "sha256:bb" }, dir)).toHaveLength(1);
    expect((await listAudit({ limit: 1 }, dir))[0]?.kind).toBe("deletion");
    expect(await verifyAudit(dir)).toEqual({ ok: true, records: 2 });
  });

  it("detects an edited record and a removed one", async () => {
    const dir = storeDir();
    for (const n of [1, 2, 3])
      await recordAudit({ kind: "approval", action: "approved", outcome: "ok", actor: `u${n}` }, dir);
    const raw = new DatabaseSync(join(dir, DATABASE_FILE));
    raw.prepare("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").run();
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      broken: { seq: 2, reason: expect.stringMatching(/edited/) },
    });
    raw.prepare("UPDATE audit_log SET actor = 'u2' WHERE seq = 2").run();
    expect((await verifyAudit(dir)).ok).toBe(true);
    raw.prepare("DELETE FROM audit_log WHERE seq = 2").run();
    raw.close();
    expect(await verifyAudit(dir)).toMatchObject({
      ok: false,
      broken: { seq: 3, reason: expect.stringMatching(/removed/) },
    });
  });

  it("keeps the chain intact under concurrent writers on one open store", async () => {
    const db = await openStore(storeDir());
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        recordAudit({ kind: "notification", action: "sent", outcome: "ok", actor: `w${i}` }, db),
      ),
    );
    expect(await verifyAudit(db)).toEqual({ ok: true, records: 20 });
    await db.destroy();
  });
});
