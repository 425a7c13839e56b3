import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectCi } from "../../src/publish/ci-env.js";
import {
  annotationCommand,
  appendSummary,
  cell,
  escapeData,
  escapeProperty,
  outputEntry,
  writeOutputs,
} from "../../src/publish/github.js";

describe("GitHub workflow commands", () => {
  it("escapes message data and properties as the runner decodes them", () => {
    expect(escapeData("50% done\r\nnext")).toBe("50%25 done%0D%0Anext");
    expect(escapeProperty("a:b,c%")).toBe("a%3Ab%2Cc%25");
    expect(
      annotationCommand({
        level: "error",
        title: "CVE-2021-23337: lodash",
        file: "Dockerfile",
        line: 3,
        message: "command injection\nfixed in 4.17.21",
      }),
    ).toBe(
      "::error title=CVE-2021-23337%3A lodash,file=Dockerfile,line=3::command injection%0Afixed in 4.17.21",
    );
    expect(annotationCommand({ level: "notice", message: "ok" })).toBe("::notice::ok");
  });

  it("writes outputs to $GITHUB_OUTPUT, multi-line ones as a heredoc with a delimiter the value does not contain", () => {
    const dir = mkdtempSync(join(tmpdir(), "gha-"));
    const file = join(dir, "output");
    writeFileSync(file, "");
    expect(
      writeOutputs({ digest: "sha256:abc", "build-info": '{\n  "a": 1\n}' }, { GITHUB_OUTPUT: file }),
    ).toBe(true);
    const text = readFileSync(file, "utf8");
    const match =
      /^digest=sha256:abc\nbuild-info<<(ghadelimiter_[0-9a-f]{24})\n\{\n {2}"a": 1\n\}\n(.+)\n$/.exec(text);
    expect(match).not.toBeNull();
    expect(match?.[2]).toBe(match?.[1]);
    expect(outputEntry("x", "1")).toBe("x=1\n");
    expect(writeOutputs({ a: "b" }, {})).toBe(false);
  });

  it("appends the job summary and keeps table cells on one row", () => {
    const file = join(mkdtempSync(join(tmpdir(), "gha-")), "summary");
    writeFileSync(file, "# before\n");
    expect(appendSummary("| a |\n| - |", { GITHUB_STEP_SUMMARY: file })).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("# before\n| a |\n| - |\n");
    expect(cell("a|b\nc")).toBe("a\\|b c");
  });
});

describe("detectCi", () => {
  it("reads GitHub Actions' default variables", () => {
    expect(
      detectCi({
        GITHUB_ACTIONS: "true",
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "octo/shop",
        GITHUB_SHA: "a".repeat(40),
        GITHUB_REF: "refs/heads/main",
        GITHUB_RUN_ID: "42",
        GITHUB_RUN_ATTEMPT: "2",
        GITHUB_ACTOR: "octocat",
      }),
    ).toEqual({
      provider: "github-actions",
      commit: "a".repeat(40),
      ref: "refs/heads/main",
      repository: "https://github.com/octo/shop",
      runUrl: "https://github.com/octo/shop/actions/runs/42/attempts/2",
      actor: "octocat",
    });
  });

  it("reads GitLab CI's predefined variables", () => {
    expect(
      detectCi({
        GITLAB_CI: "true",
        CI_COMMIT_SHA: "b".repeat(40),
        CI_COMMIT_REF_NAME: "main",
        CI_PROJECT_URL: "https://gitlab.example.com/team/shop",
        CI_JOB_URL: "https://gitlab.example.com/team/shop/-/jobs/7",
        GITLAB_USER_LOGIN: "dev",
      }),
    ).toEqual({
      provider: "gitlab-ci",
      commit: "b".repeat(40),
      ref: "main",
      repository: "https://gitlab.example.com/team/shop",
      runUrl: "https://gitlab.example.com/team/shop/-/jobs/7",
      actor: "dev",
    });
  });

  it("is local elsewhere", () => {
    expect(detectCi({ USER: "me" })).toEqual({ provider: "local", actor: "me" });
  });
});
