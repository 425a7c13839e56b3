import { mkdtempSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/policy/config.js";
import type { VulnerabilitiesGateConfig } from "../../src/policy/config-schema.js";
import { provenanceFacts, SLSA_V1, SLSA_V02, sourceMatches } from "../../src/promote/gates/provenance.js";
import { smokeGate } from "../../src/promote/gates/smoke.js";
import type { GateContext, VulnFinding } from "../../src/promote/gates/types.js";
import { parseVex } from "../../src/promote/gates/vex.js";
import { decideVulnerabilities, exceptionExpired } from "../../src/promote/gates/vulnerabilities.js";
import { openStore } from "../../src/store/store.js";
import { closeServer, listen } from "../harness/util.js";

const DIGEST = `sha256:${"12".repeat(32)}`;

function finding(
  id: string,
  severity: VulnFinding["severity"],
  name = "openssl",
  aliases: string[] = [],
): VulnFinding {
  return {
    id,
    aliases,
    severity,
    package: { name, version: "3.0.11-1", purl: `pkg:deb/debian/${name}@3.0.11-1?arch=amd64` },
  };
}

function gate(extra: Partial<VulnerabilitiesGateConfig> = {}): VulnerabilitiesGateConfig {
  return { max: { critical: 0, high: 1 }, exceptions: [], vex: [], max_scan_age: 0, ...extra };
}

describe("vulnerabilities decision", () => {
  const findings = [
    finding("CVE-2024-0001", "critical"),
    finding("CVE-2024-0002", "high"),
    finding("GHSA-aaaa-bbbb-cccc", "high", "lodash", ["CVE-2024-0003"]),
    finding("CVE-2024-0004", "low"),
  ];
  const now = new Date("2026-12-04T03:00:00Z");

  it("counts by severity against max; severities without a max are unlimited", () => {
    const d = decideVulnerabilities(findings, gate(), [], DIGEST, now);
    expect(d.counts).toMatchObject({ critical: 1, high: 2, low: 1 });
    expect(d.over).toEqual([
      { severity: "critical", count: 1, max: 0 },
      { severity: "high", count: 2, max: 1 },
    ]);
  });

  it("an exception suppresses until the end of its expiry day, by id or alias, optionally per package", () => {
    const exceptions = [
      { id: "CVE-2024-0001", reason: "not reachable", expires: "2026-12-04" },
      { id: "CVE-2024-0003", reason: "patched", package: "lodash" },
      { id: "CVE-2024-0002", reason: "other package only", package: "zlib" },
    ];
    const d = decideVulnerabilities(findings, gate({ exceptions }), [], DIGEST, now);
    expect(d.suppressed.map((s) => s.finding.id)).toEqual(["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"]);
    expect(d.over).toEqual([]);
    expect(d.expiredExceptions).toEqual([]);
  });

  it("an expired exception no longer suppresses and is reported", () => {
    const exceptions = [{ id: "CVE-2024-0001", reason: "not reachable", expires: "2026-12-03" }];
    expect(exceptionExpired(exceptions[0] as never, now)).toBe(true);
    expect(exceptionExpired(exceptions[0] as never, new Date("2026-12-03T23:59:59Z"))).toBe(false);
    const d = decideVulnerabilities(findings, gate({ exceptions }), [], DIGEST, now);
    expect(d.suppressed).toEqual([]);
    expect(d.over[0]).toEqual({ severity: "critical", count: 1, max: 0 });
    expect(d.expiredExceptions).toEqual([
      { id: "CVE-2024-0001", expires: "2026-12-03", reason: "not reachable", matched: 1 },
    ]);
  });

  it("applies OpenVEX not_affected/fixed statements by vulnerability, subcomponent and product", () => {
    const vex = parseVex(
      JSON.stringify({
        "@context": "https://openvex.dev/ns/v0.2.0",
        statements: [
          {
            vulnerability: { name: "CVE-2024-0001" },
            products: [
              {
                "@id": `pkg:oci/shop@${encodeURIComponent(DIGEST)}`,
                subcomponents: [{ "@id": "pkg:deb/debian/openssl" }],
              },
            ],
            status: "not_affected",
            justification: "vulnerable_code_not_in_execute_path",
          },
          {
            vulnerability: { name: "CVE-2024-0002" },
            products: [{ "@id": "pkg:oci/other@sha256:ffff" }],
            status: "not_affected",
          },
          { vulnerability: "CVE-2024-0003", status: "fixed" },
          { vulnerability: { name: "CVE-2024-0004" }, status: "not_affected" },
          { vulnerability: { name: "CVE-2024-0004" }, status: "affected" },
        ],
      }),
      "shop.vex.json",
    );
    const d = decideVulnerabilities(findings, gate(), vex, DIGEST, now);
    expect(d.suppressed.map((s) => [s.finding.id, s.by])).toEqual([
      ["CVE-2024-0001", "vex"],
      ["GHSA-aaaa-bbbb-cccc", "vex"],
    ]);
    expect(d.suppressed[0]?.why).toContain("vulnerable_code_not_in_execute_path");
    // the later `affected` statement overrides the earlier not_affected for CVE-2024-0004
    expect(d.counted.map((f) => f.id)).toEqual(["CVE-2024-0002", "CVE-2024-0004"]);
  });

  it("refuses a file that is not OpenVEX", () => {
    expect(() => parseVex("{}", "x.json")).toThrow(/not an OpenVEX document/);
  });
});

describe("provenance facts", () => {
  it("reads builder and sources from SLSA v1 and v0.2 predicates", () => {
    const v1 = provenanceFacts({
      predicateType: SLSA_V1,
      key: "k",
      foundIn: "x",
      predicate: {
        buildDefinition: {
          buildType: "https://actions.github.io/buildtypes/workflow/v1",
          externalParameters: {
            workflow: {
              repository: "https://github.com/example/shop",
              path: ".github/workflows/b.yml",
              ref: "refs/heads/main",
            },
          },
          resolvedDependencies: [
            { uri: "git+https://github.com/example/shop@refs/heads/main", digest: { gitCommit: "abc" } },
          ],
        },
        runDetails: { builder: { id: "https://github.com/actions/runner" } },
      },
    });
    expect(v1.builder).toBe("https://github.com/actions/runner");
    expect(sourceMatches(v1.sources, "https://github.com/example/shop")).toBe(true);
    expect(sourceMatches(v1.sources, "https://github.com/example/sho")).toBe(false);
    const v02 = provenanceFacts({
      predicateType: SLSA_V02,
      key: "k",
      foundIn: "x",
      predicate: {
        builder: { id: "https://cloudbuild.googleapis.com/GoogleHostedWorker" },
        invocation: { configSource: { uri: "git+https://github.com/example/shop.git@refs/tags/v1" } },
      },
    });
    expect(v02.builder).toBe("https://cloudbuild.googleapis.com/GoogleHostedWorker");
    expect(sourceMatches(v02.sources, "https://github.com/example/shop")).toBe(true);
  });
});

describe("smoke gate", () => {
  let server: http.Server;
  let base = "";
  const dir = mkdtempSync(join(tmpdir(), "shipgate-smoke-"));
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === "/healthz") {
        res.writeHead(200);
        res.end(`ok ${req.headers["x-shipgate-digest"]}`);
      } else if (req.url === "/slow") setTimeout(() => res.end("late"), 3000);
      else {
        res.writeHead(503);
        res.end("down");
      }
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => closeServer(server));

  async function ctx(): Promise<GateContext> {
    return {
      app: "shop",
      tag: "1.0",
      digest: DIGEST,
      location: { transport: "oci", path: dir, reference: undefined },
      reference: `localhost:5000/dev/shop@${DIGEST}`,
      from: "dev",
      to: "staging",
      requester: "alice",
      loaded: { path: join(dir, "shipgate.yaml"), dir, config: parseConfig("{}", "x", {}) },
      open: {},
      store: await openStore(":memory:"),
      deps: {},
      now: new Date(),
      env: { PATH: process.env.PATH ?? "" },
    };
  }

  it("runs a command with the image in SHIPGATE_* variables", async () => {
    const c = await ctx();
    const ok = await smokeGate(c, {
      command: `test "$SHIPGATE_IMAGE" = "localhost:5000/dev/shop@${DIGEST}" && test "$SHIPGATE_TO" = staging && test "$X" = 1`,
      timeout: 5000,
      env: { X: "1" },
    });
    expect(ok.status).toBe("pass");
    const bad = await smokeGate(c, { command: "echo boom >&2; exit 3", timeout: 5000, env: {} });
    expect(bad).toMatchObject({ status: "fail", summary: expect.stringContaining("exited 3: boom") });
  });

  it("kills a command that outlives its timeout, children included", async () => {
    const start = Date.now();
    const r = await smokeGate(await ctx(), { command: "sleep 30 & sleep 30", timeout: 300, env: {} });
    expect(r).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("did not finish within 0.3s"),
    });
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it("checks an HTTP endpoint's status and body", async () => {
    const c = await ctx();
    expect(
      (
        await smokeGate(c, {
          http: { url: `${base}/healthz`, status: 200, body: `^ok sha256:` },
          timeout: 2000,
          env: {},
        })
      ).status,
    ).toBe("pass");
    expect(
      await smokeGate(c, {
        http: { url: `${base}/healthz`, status: 200, body: "^healthy" },
        timeout: 2000,
        env: {},
      }),
    ).toMatchObject({ status: "fail", summary: expect.stringContaining("does not match") });
    expect(
      await smokeGate(c, { http: { url: `${base}/down`, status: 200 }, timeout: 2000, env: {} }),
    ).toMatchObject({ status: "fail", summary: expect.stringContaining("answered 503, expected 200") });
    expect(
      await smokeGate(c, { http: { url: `${base}/slow`, status: 200 }, timeout: 200, env: {} }),
    ).toMatchObject({ status: "fail", summary: expect.stringContaining("no answer within 0.2s") });
  });
});
