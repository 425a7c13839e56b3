// SLSA v1 provenance from CI environments (the variables GitHub Actions and
// GitLab CI document), and the check the promotion gate uses.
import { describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import { envelopePayload, parseEnvelope } from "../../src/sign/dsse.js";
import { parseStatement, type Statement } from "../../src/sign/intoto.js";
import {
  checkProvenance,
  detectCi,
  generateProvenance,
  provenancePredicate,
} from "../../src/sign/provenance.js";
import { cosignFixture } from "./helpers.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const BASE = `sha256:${"cd".repeat(32)}`;
const SHA = "0123456789abcdef0123456789abcdef01234567";

const githubEnv = {
  GITHUB_ACTIONS: "true",
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_REPOSITORY: "acme/shop",
  GITHUB_REPOSITORY_ID: "123",
  GITHUB_REPOSITORY_OWNER_ID: "45",
  GITHUB_SHA: SHA,
  GITHUB_REF: "refs/heads/main",
  GITHUB_RUN_ID: "987",
  GITHUB_RUN_ATTEMPT: "2",
  GITHUB_EVENT_NAME: "push",
  GITHUB_WORKFLOW_REF: "acme/shop/.github/workflows/release.yml@refs/heads/main",
  RUNNER_ENVIRONMENT: "github-hosted",
};

const gitlabEnv = {
  GITLAB_CI: "true",
  CI_SERVER_URL: "https://gitlab.example.com",
  CI_PROJECT_URL: "https://gitlab.example.com/acme/shop",
  CI_PROJECT_PATH: "acme/shop",
  CI_COMMIT_SHA: SHA,
  CI_COMMIT_REF_NAME: "main",
  CI_JOB_ID: "555",
  CI_JOB_NAME: "build",
  CI_JOB_URL: "https://gitlab.example.com/acme/shop/-/jobs/555",
  CI_PIPELINE_ID: "77",
  CI_PIPELINE_SOURCE: "push",
  CI_RUNNER_ID: "12",
  CI_RUNNER_VERSION: "17.5.0",
};

describe("generateProvenance", () => {
  it("GitHub Actions: the workflow, the commit, the runner as builder, the run as invocation", () => {
    expect(detectCi(githubEnv)).toBe("github-actions");
    const statement = generateProvenance(
      githubEnv,
      { name: "registry.example.com/acme/shop", digest: DIGEST },
      { dependencies: [{ uri: "pkg:docker/debian@bookworm", digest: BASE }] },
    );
    expect(statement._type).toBe("https://in-toto.io/Statement/v1");
    expect(statement.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(statement.subject).toEqual([
      { name: "registry.example.com/acme/shop", digest: { sha256: "ab".repeat(32) } },
    ]);
    expect(statement.predicate).toEqual({
      buildDefinition: {
        buildType: "https://actions.github.io/buildtypes/workflow/v1",
        externalParameters: {
          workflow: {
            ref: "refs/heads/main",
            repository: "https://github.com/acme/shop",
            path: ".github/workflows/release.yml",
          },
        },
        internalParameters: {
          github: {
            event_name: "push",
            repository_id: "123",
            repository_owner_id: "45",
            runner_environment: "github-hosted",
          },
        },
        resolvedDependencies: [
          { uri: "git+https://github.com/acme/shop@refs/heads/main", digest: { gitCommit: SHA } },
          { uri: "pkg:docker/debian@bookworm", digest: { sha256: "cd".repeat(32) } },
        ],
      },
      runDetails: {
        builder: { id: "https://github.com/actions/runner/github-hosted" },
        metadata: { invocationId: "https://github.com/acme/shop/actions/runs/987/attempts/2" },
      },
    });
  });

  it("GitLab CI: the project, the commit, the runner as builder, the job as invocation", () => {
    const predicate = provenancePredicate(gitlabEnv);
    expect(predicate.runDetails.builder).toEqual({
      id: "https://gitlab.example.com/acme/shop/-/runners/12",
      version: { "gitlab-runner": "17.5.0" },
    });
    expect(predicate.runDetails.metadata?.invocationId).toBe(
      "https://gitlab.example.com/acme/shop/-/jobs/555",
    );
    expect(predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: "git+https://gitlab.example.com/acme/shop@main", digest: { gitCommit: SHA } },
    ]);
    expect(predicate.buildDefinition.externalParameters).toMatchObject({
      source: "https://gitlab.example.com/acme/shop",
      entryPoint: "build",
    });
  });

  it("outside CI: explicit flags, or a usage error", () => {
    expect(detectCi({})).toBe("none");
    const error = (() => {
      try {
        provenancePredicate({});
      } catch (e) {
        return e;
      }
    })();
    expect((error as ShipgateError).code).toBe("USAGE");
    const predicate = provenancePredicate(
      {},
      {
        builderId: "https://ci.example.com/builder",
        sourceRepo: "https://git.example.com/x",
        sourceCommit: SHA,
        sourceRef: "v1",
      },
    );
    expect(predicate.runDetails.builder.id).toBe("https://ci.example.com/builder");
    expect(predicate.buildDefinition.buildType).toBe("https://shipgate.dev/buildtypes/manual/v1");
    expect(predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: "git+https://git.example.com/x@v1", digest: { gitCommit: SHA } },
    ]);
  });
});

describe("checkProvenance (the promotion gate's check)", () => {
  const statement = generateProvenance(githubEnv, { name: "r/acme/shop", digest: DIGEST });

  it("accepts the builder (exactly or as a path prefix) and the source repository", () => {
    expect(
      checkProvenance(statement, { builderId: "https://github.com/actions/runner/github-hosted" }).ok,
    ).toBe(true);
    expect(
      checkProvenance(statement, {
        builderId: "https://github.com/actions/runner",
        sourceRepo: "https://github.com/ACME/shop.git",
      }),
    ).toEqual({
      ok: true,
      builderId: "https://github.com/actions/runner/github-hosted",
      sourceRepos: ["https://github.com/acme/shop"],
      reasons: [],
    });
  });

  it("refuses another builder, a prefix that is not a path boundary, another repository", () => {
    expect(checkProvenance(statement, { builderId: "https://github.com/actions/run" }).reasons[0]).toContain(
      "is not",
    );
    expect(checkProvenance(statement, { builderId: "https://evil.example.com/actions/runner" }).ok).toBe(
      false,
    );
    const wrongRepo = checkProvenance(statement, { sourceRepo: "https://github.com/acme/shop-fork" });
    expect(wrongRepo.ok).toBe(false);
    expect(wrongRepo.reasons[0]).toContain(
      "https://github.com/acme/shop is not https://github.com/acme/shop-fork",
    );
  });

  it("reads SLSA v0.2 as cosign's slsaprovenance type writes it (cosign's own fixture)", () => {
    const envelope = parseEnvelope(cosignFixture("blobSLSAProvenanceSignature.dsse.json"), "fixture");
    const parsed = parseStatement(envelopePayload(envelope));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(checkProvenance(parsed.statement, { builderId: "2" }).ok).toBe(true);
    expect(checkProvenance(parsed.statement, { builderId: "3" }).ok).toBe(false);
  });

  it("a statement that is not provenance fails", () => {
    const sbom: Statement = { ...statement, predicateType: "https://cyclonedx.org/bom" };
    expect(checkProvenance(sbom, {}).reasons[0]).toContain("not SLSA provenance");
  });
});
