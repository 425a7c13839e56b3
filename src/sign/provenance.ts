import { ShipgateError } from "../errors.js";
import { makeStatement, type ResourceDescriptor, type Statement } from "./intoto.js";

/** SLSA Provenance v1 (slsa.dev/spec/v1.0/provenance). */
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
export const SLSA_PROVENANCE_V02 = "https://slsa.dev/provenance/v0.2";
/** GitHub's build type for a workflow run, as actions/attest-build-provenance writes it. */
export const GITHUB_WORKFLOW_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1";
export const GITLAB_BUILD_TYPE = "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/PROVENANCE.md";
/** Used when no CI is detected and the caller names no build type. */
export const SHIPGATE_BUILD_TYPE = "https://shipgate.dev/buildtypes/manual/v1";

export interface ProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
  };
}

type Dependency = ResourceDescriptor & { uri: string };

export interface ProvenanceOptions {
  /** Explicit values win over what the CI environment says. */
  builderId?: string;
  buildType?: string;
  sourceRepo?: string;
  sourceCommit?: string;
  sourceRef?: string;
  invocationId?: string;
  /** Base images (or other inputs) by digest: `{ uri: "docker.io/library/debian", digest: "sha256:..." }`. */
  dependencies?: { uri: string; digest: string }[];
  startedOn?: Date;
  finishedOn?: Date;
}

export type CiSystem = "github-actions" | "gitlab-ci" | "none";

export function detectCi(env: NodeJS.ProcessEnv): CiSystem {
  if (env.GITHUB_ACTIONS === "true" || (env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID)) return "github-actions";
  if (env.GITLAB_CI === "true" || (env.CI_PROJECT_URL && env.CI_JOB_ID)) return "gitlab-ci";
  return "none";
}

function digestSet(digest: string): Record<string, string> {
  const [algorithm, hex] = digest.split(":");
  if (algorithm === undefined || hex === undefined || hex === "") {
    throw new ShipgateError("USAGE", `"${digest}" is not a digest (algorithm:hex)`);
  }
  return { [algorithm]: hex };
}

function github(env: NodeJS.ProcessEnv): Partial<ProvenancePredicate> & { source?: Dependency } {
  const server = env.GITHUB_SERVER_URL ?? "https://github.com";
  const repository = env.GITHUB_REPOSITORY ?? "";
  const repoUrl = `${server}/${repository}`;
  // GITHUB_WORKFLOW_REF is "owner/repo/.github/workflows/build.yml@refs/heads/main".
  const workflowRef = env.GITHUB_WORKFLOW_REF ?? "";
  const at = workflowRef.lastIndexOf("@");
  const workflowPath = (at < 0 ? workflowRef : workflowRef.slice(0, at)).slice(repository.length + 1);
  const ref = env.GITHUB_REF ?? (at < 0 ? "" : workflowRef.slice(at + 1));
  const runnerEnvironment = env.RUNNER_ENVIRONMENT ?? "github-hosted";
  const attempt = env.GITHUB_RUN_ATTEMPT ?? "1";
  return {
    buildDefinition: {
      buildType: GITHUB_WORKFLOW_BUILD_TYPE,
      externalParameters: { workflow: { ref, repository: repoUrl, path: workflowPath } },
      internalParameters: {
        github: {
          event_name: env.GITHUB_EVENT_NAME,
          repository_id: env.GITHUB_REPOSITORY_ID,
          repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID,
          runner_environment: runnerEnvironment,
        },
      },
    },
    runDetails: {
      // GitHub's own provenance names the runner, hosted or self-hosted, as the builder.
      builder: { id: `${server}/actions/runner/${runnerEnvironment}` },
      metadata: { invocationId: `${repoUrl}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${attempt}` },
    },
    ...(env.GITHUB_SHA
      ? { source: { uri: `git+${repoUrl}${ref ? `@${ref}` : ""}`, digest: { gitCommit: env.GITHUB_SHA } } }
      : {}),
  };
}

function gitlab(env: NodeJS.ProcessEnv): Partial<ProvenancePredicate> & { source?: Dependency } {
  const server = env.CI_SERVER_URL ?? "https://gitlab.com";
  const projectUrl = env.CI_PROJECT_URL ?? `${server}/${env.CI_PROJECT_PATH ?? ""}`;
  const ref = env.CI_COMMIT_REF_NAME;
  return {
    buildDefinition: {
      buildType: GITLAB_BUILD_TYPE,
      externalParameters: {
        source: projectUrl,
        entryPoint: env.CI_JOB_NAME,
        ...(ref ? { ref } : {}),
        ...(env.CI_CONFIG_PATH ? { configPath: env.CI_CONFIG_PATH } : {}),
      },
      internalParameters: {
        gitlab: {
          pipeline_id: env.CI_PIPELINE_ID,
          job_id: env.CI_JOB_ID,
          runner_id: env.CI_RUNNER_ID,
          pipeline_source: env.CI_PIPELINE_SOURCE,
        },
      },
    },
    runDetails: {
      builder: {
        id: `${projectUrl}/-/runners/${env.CI_RUNNER_ID ?? "unknown"}`,
        ...(env.CI_RUNNER_VERSION ? { version: { "gitlab-runner": env.CI_RUNNER_VERSION } } : {}),
      },
      metadata: { invocationId: env.CI_JOB_URL ?? `${projectUrl}/-/jobs/${env.CI_JOB_ID}` },
    },
    ...(env.CI_COMMIT_SHA
      ? {
          source: {
            uri: `git+${projectUrl}${ref ? `@${ref}` : ""}`,
            digest: { gitCommit: env.CI_COMMIT_SHA },
          },
        }
      : {}),
  };
}

/** A SLSA v1 provenance predicate from the CI environment (GitHub Actions, GitLab CI) and explicit options. */
export function provenancePredicate(
  env: NodeJS.ProcessEnv,
  options: ProvenanceOptions = {},
): ProvenancePredicate {
  const ci = detectCi(env);
  const detected = ci === "github-actions" ? github(env) : ci === "gitlab-ci" ? gitlab(env) : {};
  const builderId = options.builderId ?? detected.runDetails?.builder.id;
  if (builderId === undefined) {
    throw new ShipgateError("USAGE", "no CI environment detected and no builder id given", {
      hint: "run inside GitHub Actions or GitLab CI, or pass --builder-id (and --source-repo, --source-commit)",
    });
  }
  let source: Dependency | undefined = detected.source;
  if (options.sourceRepo !== undefined || options.sourceCommit !== undefined) {
    const repo = options.sourceRepo ?? (source ? stripRef(source.uri) : undefined) ?? "";
    const ref = options.sourceRef;
    source = {
      uri: `git+${repo}${ref ? `@${ref}` : ""}`,
      digest: options.sourceCommit ? { gitCommit: options.sourceCommit } : (source?.digest ?? {}),
    };
  }
  const dependencies: ResourceDescriptor[] = [
    ...(source ? [source] : []),
    ...(options.dependencies ?? []).map((d) => ({ uri: d.uri, digest: digestSet(d.digest) })),
  ];
  const metadata = {
    ...detected.runDetails?.metadata,
    ...(options.invocationId ? { invocationId: options.invocationId } : {}),
    ...(options.startedOn ? { startedOn: options.startedOn.toISOString() } : {}),
    ...(options.finishedOn ? { finishedOn: options.finishedOn.toISOString() } : {}),
  };
  return {
    buildDefinition: {
      buildType: options.buildType ?? detected.buildDefinition?.buildType ?? SHIPGATE_BUILD_TYPE,
      externalParameters: detected.buildDefinition?.externalParameters ?? {
        ...(source ? { source: source.uri } : {}),
      },
      ...(detected.buildDefinition?.internalParameters
        ? { internalParameters: detected.buildDefinition.internalParameters }
        : {}),
      ...(dependencies.length > 0 ? { resolvedDependencies: dependencies } : {}),
    },
    runDetails: {
      builder: { ...detected.runDetails?.builder, id: builderId },
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    },
  };
}

/** The in-toto statement of a SLSA v1 provenance for `subject` (an image name and digest). */
export function generateProvenance(
  env: NodeJS.ProcessEnv,
  subject: { name: string; digest: string },
  options: ProvenanceOptions = {},
): Statement {
  return makeStatement(
    [{ name: subject.name, digest: digestSet(subject.digest) }],
    SLSA_PROVENANCE_V1,
    provenancePredicate(env, options),
  );
}

export interface ProvenanceExpectations {
  /** The builder id, or a prefix of it ending at a path boundary (`https://github.com/actions/runner`). */
  builderId?: string | string[];
  /** The source repository (`https://github.com/org/repo`; `git+`, `.git` and the `@ref` are ignored). */
  sourceRepo?: string;
}

export interface ProvenanceCheck {
  ok: boolean;
  builderId?: string;
  sourceRepos: string[];
  reasons: string[];
}

/** `git+https://host/org/repo.git@refs/heads/main` → `https://host/org/repo`: the ref is the last `@` in the path. */
function stripRef(uri: string): string {
  const text = uri.replace(/^git\+/, "");
  const scheme = text.indexOf("://");
  const pathStart = text.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  const at = text.lastIndexOf("@");
  return pathStart >= 0 && at > pathStart ? text.slice(0, at) : text;
}

function normaliseRepo(uri: string): string {
  return stripRef(uri)
    .replace(/\.git$/, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}

/**
 * Checks a provenance statement (SLSA v1, or v0.2 as cosign's slsaprovenance
 * type writes it) against the builder and source repository a gate expects.
 */
export function checkProvenance(statement: Statement, expected: ProvenanceExpectations): ProvenanceCheck {
  const reasons: string[] = [];
  const p = (statement.predicate ?? {}) as Record<string, any>;
  let builderId: string | undefined;
  let sources: string[] = [];
  if (statement.predicateType === SLSA_PROVENANCE_V1) {
    builderId = p.runDetails?.builder?.id;
    const external = p.buildDefinition?.externalParameters ?? {};
    sources = [
      ...((p.buildDefinition?.resolvedDependencies ?? []) as ResourceDescriptor[])
        .filter((d) => d?.digest?.gitCommit !== undefined || String(d?.uri ?? "").startsWith("git+"))
        .map((d) => String(d.uri)),
      ...(typeof external.workflow?.repository === "string" ? [external.workflow.repository] : []),
      ...(typeof external.source === "string" ? [external.source] : []),
    ];
  } else if (statement.predicateType === SLSA_PROVENANCE_V02) {
    builderId = p.builder?.id;
    sources = [
      ...(typeof p.invocation?.configSource?.uri === "string" ? [p.invocation.configSource.uri] : []),
      ...((p.materials ?? []) as { uri?: string }[]).map((m) => String(m?.uri ?? "")).filter(Boolean),
    ];
  } else {
    reasons.push(`predicate type ${statement.predicateType} is not SLSA provenance`);
  }
  if (expected.builderId !== undefined) {
    const wanted = Array.isArray(expected.builderId) ? expected.builderId : [expected.builderId];
    const matches = (w: string) =>
      builderId === w || (builderId?.startsWith(`${w.replace(/\/+$/, "")}/`) ?? false);
    if (builderId === undefined) reasons.push("the provenance names no builder");
    else if (!wanted.some(matches)) reasons.push(`builder ${builderId} is not ${wanted.join(" or ")}`);
  }
  const sourceRepos = [...new Set(sources.map(normaliseRepo))];
  if (expected.sourceRepo !== undefined) {
    const want = normaliseRepo(expected.sourceRepo);
    if (!sourceRepos.includes(want)) {
      reasons.push(`source ${sourceRepos.join(", ") || "(none)"} is not ${expected.sourceRepo}`);
    }
  }
  return { ok: reasons.length === 0, ...(builderId ? { builderId } : {}), sourceRepos, reasons };
}
