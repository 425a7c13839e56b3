import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLocation } from "../../src/oci/transports/location.js";
import { getAttachedSboms } from "../../src/sbom/attach.js";
import { readSbom } from "../../src/sbom/formats/read.js";
import { generateKeyPair, type PublicKey, parsePublicKey } from "../../src/sign/keys.js";
import { checkProvenance } from "../../src/sign/provenance.js";
import { verifyAttestations, verifyImage } from "../../src/sign/verify.js";
import { importPath } from "../../src/vuln/db/import.js";
import { openVulnDb } from "../../src/vuln/db/store.js";
import { type FaultProxy, startFaultProxy } from "../harness/fault-proxy.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { DEBIAN_BASE_DIGEST, runCli, SHARED_IMAGES, SHOP_DIGEST } from "../helpers/cli.js";

const run = promisify(execFile);
const VULNDB = join(import.meta.dirname, "..", "..", "..", "shared", "vulndb");
const PASSWORD = "publish-test-pw";

let registry: TestRegistry;
let proxy: FaultProxy;
let work: string;
let keyFile: string;
let publicKey: PublicKey;
let dbPath: string;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.host);
  work = mkdtempSync(join(tmpdir(), "shipgate-publish-"));
  const pair = await generateKeyPair(PASSWORD);
  keyFile = join(work, "cosign.key");
  writeFileSync(keyFile, pair.privatePem);
  publicKey = parsePublicKey(pair.publicPem, "cosign.pub");
  dbPath = join(work, "vulndb.sqlite");
  const db = await openVulnDb(dbPath);
  try {
    for (const ecosystem of ["npm", "PyPI", "Go"]) await importPath(db, join(VULNDB, ecosystem));
  } finally {
    await db.close();
  }
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** A GitHub Actions job's environment, as the runner sets it (the variables provenance and build info read). */
function githubEnv(dir: string): Record<string, string> {
  const output = join(dir, "github-output");
  const summary = join(dir, "github-summary");
  writeFileSync(output, "");
  writeFileSync(summary, "");
  return {
    COSIGN_PASSWORD: PASSWORD,
    GITHUB_ACTIONS: "true",
    CI: "true",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_REPOSITORY: "octo/shop",
    GITHUB_REPOSITORY_ID: "123",
    GITHUB_REPOSITORY_OWNER_ID: "456",
    GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
    GITHUB_REF: "refs/heads/main",
    GITHUB_RUN_ID: "987",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_WORKFLOW_REF: "octo/shop/.github/workflows/release.yml@refs/heads/main",
    GITHUB_EVENT_NAME: "push",
    GITHUB_ACTOR: "octocat",
    RUNNER_ENVIRONMENT: "github-hosted",
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
  };
}

async function tagsOf(host: string, repo: string): Promise<string[]> {
  const response = await fetch(`http://${host}/v2/${repo}/tags/list`);
  if (response.status === 404) return [];
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}

async function manifestStatus(host: string, repo: string, reference: string): Promise<number> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${reference}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json" },
  });
  return response.status;
}

describe("shipgate publish", () => {
  it("scans, pushes, signs, attaches and attests an image, and writes a complete build-info record", async () => {
    const dir = mkdtempSync(join(work, "ok-"));
    const env = githubEnv(dir);
    const buildInfoFile = join(dir, "build-info.json");
    const sarifFile = join(dir, "scan.sarif");
    const image = `${registry.host}/team/base:1.0`;
    const result = await runCli(
      [
        "publish",
        `oci:${SHARED_IMAGES}:debian-base`,
        image,
        "--key",
        keyFile,
        "--db",
        dbPath,
        "--fail-on",
        "critical",
        "--build-info",
        buildInfoFile,
        "--sarif",
        sarifFile,
      ],
      { env },
    );
    expect(result.stderr).not.toContain("error:");
    expect(result.code).toBe(0);
    // Every step ran, in order.
    expect(result.stderr).toMatch(
      /scan[\s\S]*push[\s\S]*sign[\s\S]*attach-sbom[\s\S]*attest-sbom[\s\S]*provenance/,
    );

    // The pushed image keeps its digest, as an independent client sees it.
    const { stdout } = await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--format",
      "{{.Digest}}",
      `docker://${image}`,
    ]);
    expect(stdout.trim()).toBe(DEBIAN_BASE_DIGEST);

    const location = parseLocation(image);
    const verified = await verifyImage(location, [publicKey]);
    expect(verified.verified).toBe(true);
    expect(verified.signatures.length).toBe(1);

    const sboms = await getAttachedSboms(location);
    expect(sboms.map((s) => s.format)).toContain("spdx-json");
    const sbom = readSbom((sboms[0] as { bytes: Buffer }).bytes, "attached SBOM");
    expect(sbom.packages.filter((p) => p.type === "deb")).toHaveLength(88);

    const sbomAttestation = await verifyAttestations(location, [publicKey], { predicateType: "spdxjson" });
    expect(sbomAttestation.verified).toBe(true);
    const provenance = await verifyAttestations(location, [publicKey], { predicateType: "slsaprovenance1" });
    expect(provenance.verified).toBe(true);
    const statement = provenance.attestations[0]?.statement;
    if (statement === undefined) throw new Error("no provenance statement");
    const check = checkProvenance(statement, {
      builderId: "https://github.com/actions/runner",
      sourceRepo: "https://github.com/octo/shop",
    });
    expect(check.reasons).toEqual([]);
    expect(check.ok).toBe(true);

    const info = JSON.parse(readFileSync(buildInfoFile, "utf8"));
    expect(info).toMatchObject({
      buildInfoVersion: 1,
      image: { repository: `${registry.host}/team/base`, digest: DEBIAN_BASE_DIGEST, tags: ["1.0"] },
      sbom: { format: "spdx-json", packages: sbom.packages.length },
      scan: { critical: 0, failOn: "critical", passed: true },
      source: {
        provider: "github-actions",
        commit: "0123456789abcdef0123456789abcdef01234567",
        runUrl: "https://github.com/octo/shop/actions/runs/987/attempts/1",
      },
    });
    expect(info.signatures).toHaveLength(1);
    expect(info.attestations.map((a: { predicateType: string }) => a.predicateType).sort()).toEqual([
      "https://slsa.dev/provenance/v1",
      "https://spdx.dev/Document",
    ]);
    expect(info.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      "sbom:done",
      "scan:done",
      "push:done",
      "sign:done",
      "attach-sbom:done",
      "attest-sbom:done",
      "provenance:done",
    ]);
    const sarif = JSON.parse(readFileSync(sarifFile, "utf8"));
    expect(sarif.version).toBe("2.1.0");

    // GitHub Actions: step outputs and the job summary.
    const outputs = readFileSync(env.GITHUB_OUTPUT as string, "utf8");
    expect(outputs).toContain(`digest=${DEBIAN_BASE_DIGEST}\n`);
    expect(outputs).toContain(`build-info=${buildInfoFile}\n`);
    const summary = readFileSync(env.GITHUB_STEP_SUMMARY as string, "utf8");
    expect(summary).toContain("## shipgate publish");
    expect(summary).toContain("| provenance | ✅ done |");

    // The record is also attached to the image: build-info show reads it from the registry.
    const shown = await runCli(["build-info", "show", "--json", image]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).image.digest).toBe(DEBIAN_BASE_DIGEST);
    const human = await runCli(["build-info", "show", buildInfoFile]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${registry.host}/team/base@${DEBIAN_BASE_DIGEST}`);
    expect(human.stdout).toMatch(/provenance\s+done/);
  });

  it("stops before pushing when the scan finds a critical vulnerability", async () => {
    const dir = mkdtempSync(join(work, "vuln-"));
    const env = githubEnv(dir);
    const gitlabFile = join(dir, "gl-container-scanning-report.json");
    const buildInfoFile = join(dir, "build-info.json");
    const result = await runCli(
      [
        "publish",
        `oci:${SHARED_IMAGES}:shop-1.4.2`,
        `${registry.host}/team/shop:1.4.2`,
        "--key",
        keyFile,
        "--db",
        dbPath,
        "--fail-on",
        "critical",
        "--gitlab-report",
        gitlabFile,
        "--build-info",
        buildInfoFile,
      ],
      { env },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("CVE-2021-44906");
    expect(result.stderr).toContain("nothing was pushed");
    // Nothing reached the registry: no tag, and not the image by digest either.
    expect(await tagsOf(registry.host, "team/shop")).toEqual([]);
    expect(await manifestStatus(registry.host, "team/shop", SHOP_DIGEST)).toBe(404);
    // The findings over the gate are workflow-command errors; the record says which step failed.
    expect(result.stdout).toMatch(/^::error title=CVE-2021-44906%3A minimist 1\.2\.0 \(critical\)::/m);
    const info = JSON.parse(readFileSync(buildInfoFile, "utf8"));
    expect(info.steps).toEqual([
      expect.objectContaining({ name: "sbom", status: "done" }),
      expect.objectContaining({ name: "scan", status: "failed" }),
    ]);
    expect(info.scan.passed).toBe(false);
    // GitLab's container-scanning report carries the same findings.
    const gitlab = JSON.parse(readFileSync(gitlabFile, "utf8"));
    expect(gitlab.scan.type).toBe("container_scanning");
    expect(gitlab.scan.start_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const minimist = gitlab.vulnerabilities.find(
      (v: { location: { dependency: { package: { name: string }; version: string } } }) =>
        v.location.dependency.package.name === "minimist" && v.location.dependency.version === "1.2.0",
    );
    expect(minimist).toMatchObject({
      severity: "Critical",
      identifiers: expect.arrayContaining([
        expect.objectContaining({ type: "cve", value: "CVE-2021-44906" }),
      ]),
      solution: "Upgrade minimist from 1.2.0 to 1.2.6",
    });
  });

  it("leaves no tag when signing fails, and a re-run completes", async () => {
    const image = `${proxy.host}/team/retry:2.0`;
    proxy.addFault({
      match: (r) => r.method === "PUT" && /\/manifests\/sha256-[0-9a-f]{64}\.sig$/.test(r.path),
      times: 100,
      kind: "status",
      status: 500,
    });
    const failed = await runCli(
      ["publish", `oci:${SHARED_IMAGES}:debian-base`, image, "--key", keyFile, "--skip", "scan"],
      { env: { COSIGN_PASSWORD: PASSWORD } },
    );
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain("publish stopped at sign");
    // Pushed by digest, but not tagged: nothing unsigned is reachable by its tag.
    expect(await manifestStatus(registry.host, "team/retry", DEBIAN_BASE_DIGEST)).toBe(200);
    expect(await tagsOf(registry.host, "team/retry")).toEqual([]);

    proxy.clearFaults();
    const again = await runCli(
      ["publish", `oci:${SHARED_IMAGES}:debian-base`, image, "--key", keyFile, "--skip", "scan", "--json"],
      { env: { COSIGN_PASSWORD: PASSWORD } },
    );
    expect(again.stderr).not.toContain("error:");
    expect(again.code).toBe(0);
    const info = JSON.parse(again.stdout);
    expect(info.image.tags).toEqual(["2.0"]);
    expect((await tagsOf(registry.host, "team/retry")).filter((t) => !t.startsWith("sha256-"))).toEqual([
      "2.0",
    ]);
    const verified = await verifyImage(parseLocation(`${registry.host}/team/retry:2.0`), [publicKey]);
    expect(verified.verified).toBe(true);
  });

  it("refuses bad input before doing anything", async () => {
    const noKey = await runCli([
      "publish",
      `oci:${SHARED_IMAGES}:debian-base`,
      `${registry.host}/team/nokey:1`,
    ]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("no key was given");
    const badSkip = await runCli([
      "publish",
      `oci:${SHARED_IMAGES}:debian-base`,
      `${registry.host}/team/x:1`,
      "--skip",
      "push",
    ]);
    expect(badSkip.code).toBe(2);
    expect(badSkip.stderr).toContain('unknown step "push"');
    const wrongPassword = await runCli(
      ["publish", `oci:${SHARED_IMAGES}:debian-base`, `${registry.host}/team/x:1`, "--key", keyFile],
      { env: { COSIGN_PASSWORD: "wrong" } },
    );
    expect(wrongPassword.code).toBe(2);
    expect(await tagsOf(registry.host, "team/nokey")).toEqual([]);
    expect(await tagsOf(registry.host, "team/x")).toEqual([]);
  });
});
