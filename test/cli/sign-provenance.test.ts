// `shipgate provenance generate` and `verify-blob-attestation` end to end.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "../harness/util.js";
import { runCli } from "../helpers/cli.js";
import { COSIGN_TESTDATA } from "../sign/helpers.js";

const dir = makeTempDir("shipgate-cli-prov-");
const BASE = `sha256:${"cd".repeat(32)}`;

describe("shipgate provenance generate", () => {
  it("writes a SLSA v1 predicate from GitHub Actions variables, with base images", async () => {
    const file = join(dir, "prov.json");
    const github = {
      GITHUB_ACTIONS: "true",
      GITHUB_REPOSITORY: "acme/shop",
      GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
      GITHUB_RUN_ID: "42",
      GITHUB_WORKFLOW_REF: "acme/shop/.github/workflows/release.yml@refs/tags/v1",
      GITHUB_REF: "refs/tags/v1",
      RUNNER_ENVIRONMENT: "github-hosted",
    };
    const result = await runCli(
      ["provenance", "generate", "--output", file, "--base-image", `docker.io/library/debian@${BASE}`],
      { env: github },
    );
    expect(result.code, result.stderr).toBe(0);
    const predicate = JSON.parse(readFileSync(file, "utf8"));
    expect(predicate.runDetails.builder.id).toBe("https://github.com/actions/runner/github-hosted");
    expect(predicate.buildDefinition.externalParameters.workflow.path).toBe(".github/workflows/release.yml");
    expect(predicate.buildDefinition.resolvedDependencies).toEqual([
      {
        uri: "git+https://github.com/acme/shop@refs/tags/v1",
        digest: { gitCommit: "0123456789abcdef0123456789abcdef01234567" },
      },
      { uri: "docker.io/library/debian", digest: { sha256: "cd".repeat(32) } },
    ]);
  });

  it("outside CI without --builder-id it is a usage error (exit 2)", async () => {
    const result = await runCli(["provenance", "generate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no CI environment detected");
  });
});

describe("shipgate verify-blob-attestation", () => {
  it("verify-blob-attestation accepts and rejects cosign's fixtures as cosign does", async () => {
    const blob = join(dir, "blob");
    writeFileSync(blob, "some-payload");
    const args = (name: string) => [
      "verify-blob-attestation",
      "--key",
      join(COSIGN_TESTDATA, "blob-attestation.pub"),
      "--signature",
      join(COSIGN_TESTDATA, `${name}.dsse.json`),
      blob,
    ];
    const ok = await runCli([...args("blobSLSAProvenanceSignature"), "--type", "slsaprovenance"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("Verified OK");
    const invalid = await runCli(args("dssePredicateMultipleSubjectsInvalid"));
    expect(invalid.code).toBe(1);
  });

  it("--bundle verifies cosign's keyless bundle offline for its digest, and refuses another", async () => {
    const args = [
      "verify-blob-attestation",
      "--bundle",
      join(COSIGN_TESTDATA, "oci-attestation.sigstore.json"),
      "--trusted-root",
      join(COSIGN_TESTDATA, "trusted_root_pgi.json"),
      "--certificate-identity",
      "cody@soyland.com",
      "--certificate-oidc-issuer",
      "https://github.com/login/oauth",
      "--type",
      "custom",
    ];
    const digest = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
    const ok = await runCli([...args, "--digest", digest]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("keyless:cody@soyland.com (https://github.com/login/oauth)");
    const other = await runCli([...args, "--digest", `sha256:${"0".repeat(64)}`]);
    expect(other.code).toBe(1);
  });
});
