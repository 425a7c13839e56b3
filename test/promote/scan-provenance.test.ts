// The vulnerabilities and provenance gates on a real image in a real
// registry: the shop image (npm, Python and Go packages with published
// advisories) scanned against the shared OSV records, and an SLSA v1
// provenance attestation signed with shipgate's cosign-compatible signer.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyImage } from "../../src/oci/copy.js";
import { parseReference } from "../../src/oci/reference.js";
import { OciLayout } from "../../src/oci/transports/layout.js";
import { closeClients, RegistryRepository } from "../../src/oci/transports/registry.js";
import { parseConfig } from "../../src/policy/config.js";
import { attestationVerifier, signatureVerifier } from "../../src/promote/deps.js";
import { promote } from "../../src/promote/engine.js";
import { vulnerabilityScanner } from "../../src/promote/scanner.js";
import { attachSbom } from "../../src/sbom/attach.js";
import { toCycloneDx } from "../../src/sbom/formats/cyclonedx.js";
import { generateSboms } from "../../src/sbom/generate.js";
import type { Sbom } from "../../src/sbom/model.js";
import { generateKeyPair, loadPrivateKey } from "../../src/sign/keys.js";
import { attestImage } from "../../src/sign/sign-image.js";
import { recordAudit } from "../../src/store/audit.js";
import { openStore, type StoreDb } from "../../src/store/store.js";
import { importPath } from "../../src/vuln/db/import.js";
import { openVulnDb } from "../../src/vuln/db/store.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { makeTempDir, removeTempDir } from "../harness/util.js";
import { SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";
import { startPagerDuty, validatePagerDuty } from "../notify/services.js";

const ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE";

const VULNDB = join(SHARED_IMAGES, "..", "..", "vulndb");
const BUILDER = "https://github.com/actions/runner/github-hosted";

let registry: TestRegistry;
let tmp: string;
let store: StoreDb;

beforeAll(async () => {
  registry = await startRegistry();
  tmp = makeTempDir("shipgate-gates-");
  const source = await OciLayout.open(SHARED_IMAGES, { create: false, reference: "shop-1.4.2" });
  const dest = new RegistryRepository(parseReference(`${registry.host}/dev/shop:2.0`), { credentials: null });
  await copyImage(source, "shop-1.4.2", dest, "2.0");
  // One SBOM, generated and attached once: both scans read it instead of re-reading the layers.
  const dev = {
    transport: "docker" as const,
    reference: parseReference(`${registry.host}/dev/shop:2.0`),
    explicitReference: true,
  };
  const [sbom] = await generateSboms({ kind: "image", location: dev });
  await attachSbom(dev, Buffer.from(toCycloneDx(sbom as Sbom)), { mode: "oci-1-1" });
  const db = await openVulnDb(join(tmp, "vulndb.sqlite"));
  await importPath(db, VULNDB);
  await db.close();
  const pair = await generateKeyPair("pw");
  await writeFile(join(tmp, "cosign.pub"), pair.publicPem);
  await attestImage(
    {
      transport: "docker",
      reference: parseReference(`${registry.host}/dev/shop:2.0`),
      explicitReference: true,
    },
    await loadPrivateKey(pair.privatePem, "pw"),
    {
      type: "slsaprovenance1",
      predicate: {
        buildDefinition: {
          buildType: "https://actions.github.io/buildtypes/workflow/v1",
          externalParameters: {
            workflow: {
              ref: "refs/heads/main",
              repository: "https://github.com/example/shop",
              path: ".github/workflows/release.yml",
            },
          },
          resolvedDependencies: [
            {
              uri: "git+https://github.com/example/shop@refs/heads/main",
              digest: { gitCommit: "a".repeat(40) },
            },
          ],
        },
        runDetails: {
          builder: { id: BUILDER },
          metadata: { invocationId: "https://github.com/example/shop/actions/runs/1/attempts/1" },
        },
      },
    },
  );
  await writeFile(
    join(tmp, "shop.openvex.json"),
    JSON.stringify({
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://example.com/vex/shop-1",
      author: "security@example.com",
      timestamp: "2026-11-01T00:00:00Z",
      version: 1,
      statements: [
        {
          vulnerability: { name: "CVE-2020-8203" },
          products: [
            {
              "@id": `pkg:oci/shop@${encodeURIComponent(SHOP_DIGEST)}`,
              subcomponents: [{ "@id": "pkg:npm/lodash@4.17.15" }],
            },
          ],
          status: "not_affected",
          justification: "vulnerable_code_not_in_execute_path",
        },
      ],
    }),
  );
  store = await openStore(join(tmp, "store"));
}, 120_000);

afterAll(async () => {
  await store?.destroy();
  await closeClients();
  await registry?.stop();
  if (tmp) await removeTempDir(tmp);
});

function config(gates: string, extra = "") {
  const text = `registries: { r: { url: "${registry.host}", insecure: true } }
environments: { dev: { registry: r, prefix: "dev/" }, staging: { registry: r, prefix: "staging/" } }
promotion:
  staging:
    from: dev
    gates:
${gates}
${extra}
`;
  return { path: join(tmp, "shipgate.yaml"), dir: tmp, config: parseConfig(text, "shipgate.yaml", {}) };
}

const GATES = `      vulnerabilities:
        max: { critical: 0, high: 6 }
        exceptions:
          - { id: GHSA-xvch-5gv4-984h, reason: "minimist only parses our own flags", expires: 2026-12-31 }
        vex: [shop.openvex.json]
        db: vulndb.sqlite
      provenance: { builder: "${BUILDER}", source: "https://github.com/example/shop", keys: [cosign.pub] }`;

const run = (gates: string, now: Date, extra = "") =>
  promote({
    loaded: config(gates, extra),
    app: "shop",
    tag: "2.0",
    to: "staging",
    dryRun: true,
    store,
    deps: {
      signatures: signatureVerifier(),
      attestations: attestationVerifier(),
      scanner: vulnerabilityScanner({ defaultDb: join(tmp, "none.sqlite") }),
    },
    now,
  });

describe("vulnerabilities and provenance gates on the shop image", () => {
  it("pass with an exception (by alias) and a VEX statement; the provenance names the builder and source", async () => {
    const report = await run(GATES, new Date("2026-12-04T12:00:00Z"));
    const [vulns, provenance] = report.gates;
    expect(vulns?.evidence.storedScan).toBe(false);
    expect(vulns).toMatchObject({ gate: "vulnerabilities", status: "pass" });
    expect(vulns?.evidence.sbom).toBe("attached (cyclonedx-json)");
    expect(vulns?.evidence.counts).toMatchObject({ critical: 0, high: 6, medium: 2 });
    expect(vulns?.evidence.suppressed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: "CVE-2021-44906", package: "minimist", by: "exception" }),
        expect.objectContaining({ id: "CVE-2020-8203", package: "lodash", by: "vex" }),
      ]),
    );
    expect(provenance).toMatchObject({
      gate: "provenance",
      status: "pass",
      summary: expect.stringContaining(BUILDER),
    });
    expect(report.status).toBe("would-promote");
  });

  it("fail once the exception has expired, and the report says so; a different builder is refused", async () => {
    const gates = GATES.replace(BUILDER, "https://cloudbuild.googleapis.com/GoogleHostedWorker");
    const report = await run(gates, new Date("2027-01-01T00:00:01Z"));
    const [vulns, provenance] = report.gates;
    expect(vulns?.status).toBe("fail");
    expect(vulns?.summary).toContain("3 critical > 0");
    expect(vulns?.summary).toContain(
      "expired exception(s) no longer suppress: GHSA-xvch-5gv4-984h (expired 2026-12-31)",
    );
    expect(provenance?.status).toBe("fail");
    expect(provenance?.summary).toContain(`builder is ${BUILDER}`);
    expect(report.status).toBe("blocked");
  });

  it("a critical finding in a digest already promoted somewhere alerts the alert channels", async () => {
    const pd = await startPagerDuty();
    try {
      const alerts = `alerts: { vulnerabilities: { severity: critical, notify: [oncall] } }
notifications: { oncall: { type: pagerduty, routing_key: ${ROUTING_KEY}, url: "${pd.url}/v2/enqueue" } }`;
      const gates = `      vulnerabilities: { max: { critical: 0 }, db: vulndb.sqlite }`;
      // Not promoted anywhere yet: a blocked promotion, no incident.
      expect((await run(gates, new Date(), alerts)).gates[0]?.evidence.alerted).toBeUndefined();
      expect(pd.received).toHaveLength(0);
      await recordAudit(
        {
          kind: "promotion",
          action: "promoted",
          outcome: "pass",
          app: "shop",
          digest: SHOP_DIGEST,
          environment: "dev",
          details: { tag: "2.0" },
        },
        store,
      );
      const report = await run(gates, new Date(), alerts);
      expect(report.gates[0]?.evidence.alerted).toMatchObject({ environments: ["dev"] });
      // The scan a moment ago, against the same database, is reused (max_scan_age defaults to 24h).
      expect(report.gates[0]?.evidence).toMatchObject({ storedScan: true, sbom: "stored scan" });
      expect(validatePagerDuty(pd.received[0]?.body)).toEqual([]);
      expect(pd.received[0]?.body).toMatchObject({
        event_action: "trigger",
        dedup_key: `shipgate/vulnerabilities/${SHOP_DIGEST}`,
        payload: {
          severity: "critical",
          class: "alert",
          summary: "1 critical+ vulnerability in shop running in dev",
        },
      });
    } finally {
      await pd.close();
    }
  });

  it("an empty or missing database is an error, not a pass", async () => {
    const report = await run(`      vulnerabilities: { max: { critical: 0 } }`, new Date());
    expect(report.gates[0]).toMatchObject({
      status: "error",
      summary: expect.stringContaining("no vulnerability database"),
    });
    expect(report.status).toBe("gate-error");
  });
});
