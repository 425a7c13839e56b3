import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("shipgate demo (the README's main job)", () => {
  it("runs the lifecycle in the embedded store: SBOM, scan, sign, promote through gates with an approval", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "shipgate-demo-")), "store");
    const result = await runCli(["--store", store, "demo"]);
    // The one error is the expected one: prod waits for an approval.
    expect(result.stderr.match(/^error: .*/gm)).toEqual([
      "error: app:1.0.0 not promoted to prod: approval failed",
    ]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    // The scan finds the sample app's two advisories.
    expect(out).toMatch(/minimist\s+1\.2\.0\s+CVE-2021-44906\s+CRITICAL/);
    expect(out).toMatch(/lodash\s+4\.17\.15\s+CVE-2020-8203\s+HIGH/);
    // staging: every gate passes; prod: blocked on the approval, then promoted once approved.
    expect(out).toMatch(/promoted to store:staging\/app:1\.0\.0/);
    expect(out).toMatch(/approval\s+FAIL\s+apr-[0-9a-f]+ pending: 0 of 1 approvals/);
    expect(out).toMatch(/approval\s+pass\s+apr-[0-9a-f]+ approved by ops-bob/);
    expect(out).toMatch(/promoted to store:prod\/app:1\.0\.0/);
    // The signature travelled with the image into prod, and the audit chain is whole.
    expect(out).toMatch(
      /shipgate verify --key \S+ store:prod\/app:1\.0\.0\nDIGEST[^\n]*\nsha256:[0-9a-f]{12}\s+-\s+legacy/,
    );
    expect(out).toMatch(/audit trail intact: \d+ record\(s\)/);
    // Retention in dev (keep_last 1): the plan deletes 0.9.0, the apply does, 1.0.0 stays.
    expect(out).toMatch(/\n0\.9\.0\s+sha256:\w{12}\s+2023-11-01\s+delete\s+not_retained/);
    expect(out).toMatch(/store:dev\/app: 1 step\(s\) done/);
    const devTags = await runCli(["--store", store, "tags", "store:dev/app", "--omit-digest-tags"]);
    expect(devTags.code, devTags.stderr).toBe(0);
    expect(devTags.stdout.trim().split("\n")).toEqual(["1.0.0"]);
    const prodTags = await runCli(["--store", store, "tags", "store:prod/app", "--omit-digest-tags"]);
    expect(prodTags.stdout.trim().split("\n")).toEqual(["1.0.0"]);

    // A second run starts over in the store it made itself.
    const again = await runCli(["--store", store, "demo"]);
    expect(again.code).toBe(0);
  });

  it("never wipes a store it did not make", async () => {
    const store = mkdtempSync(join(tmpdir(), "shipgate-not-demo-"));
    writeFileSync(join(store, "precious"), "a user's data");
    const result = await runCli(["--store", store, "demo"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is a store the demo did not make");
  });
});
