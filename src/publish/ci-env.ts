/**
 * Where a pipeline runs: GitHub Actions, GitLab CI, or a laptop. Only the
 * facts a build-info record needs (commit, run URL, repository, ref); the
 * SLSA provenance generator reads the full environment itself.
 */
export type CiProvider = "github-actions" | "gitlab-ci" | "local";

export interface CiEnvironment {
  provider: CiProvider;
  /** Full commit SHA of the source, when known. */
  commit?: string;
  /** Branch or tag ref (`refs/heads/main`, `v1.2.0`). */
  ref?: string;
  /** Source repository URL. */
  repository?: string;
  /** A link to this pipeline run. */
  runUrl?: string;
  /** Who or what started the run. */
  actor?: string;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Reads the variables GitHub and GitLab document for every job. */
export function detectCi(env: NodeJS.ProcessEnv = process.env): CiEnvironment {
  if (env.GITHUB_ACTIONS === "true") {
    const server = nonEmpty(env.GITHUB_SERVER_URL) ?? "https://github.com";
    const repo = nonEmpty(env.GITHUB_REPOSITORY);
    const runId = nonEmpty(env.GITHUB_RUN_ID);
    const attempt = nonEmpty(env.GITHUB_RUN_ATTEMPT);
    return prune({
      provider: "github-actions",
      commit: nonEmpty(env.GITHUB_SHA),
      ref: nonEmpty(env.GITHUB_REF),
      repository: repo ? `${server}/${repo}` : undefined,
      runUrl:
        repo && runId
          ? `${server}/${repo}/actions/runs/${runId}${attempt ? `/attempts/${attempt}` : ""}`
          : undefined,
      actor: nonEmpty(env.GITHUB_ACTOR),
    });
  }
  if (env.GITLAB_CI === "true") {
    return prune({
      provider: "gitlab-ci",
      commit: nonEmpty(env.CI_COMMIT_SHA),
      ref: nonEmpty(env.CI_COMMIT_REF_NAME),
      repository: nonEmpty(env.CI_PROJECT_URL),
      runUrl: nonEmpty(env.CI_JOB_URL) ?? nonEmpty(env.CI_PIPELINE_URL),
      actor: nonEmpty(env.GITLAB_USER_LOGIN),
    });
  }
  return prune({ provider: "local", actor: nonEmpty(env.USER) });
}

function prune<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
