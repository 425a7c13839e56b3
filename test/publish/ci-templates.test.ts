import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.js";

const root = join(import.meta.dirname, "..", "..");

/** Every `--flag` a shell script in a template passes to shipgate publish. */
function flagsIn(script: string): string[] {
  return [...new Set([...script.matchAll(/(?<![\w-])--([a-z][a-z-]+)/g)].map((m) => `--${m[1]}`))];
}

async function publishHelp(): Promise<string> {
  const help = await runCli(["publish", "--help"]);
  expect(help.code).toBe(0);
  return help.stdout;
}

// The official metadata schema (SchemaStore's github-action.json) is not among the shared test
// data, so the rules GitHub documents in "Metadata syntax for GitHub Actions" are checked here.
describe("action.yml", () => {
  const action = parse(readFileSync(join(root, "action.yml"), "utf8")) as Record<string, any>;

  it("has the metadata GitHub requires of a composite action", () => {
    expect(typeof action.name).toBe("string");
    expect(typeof action.description).toBe("string");
    expect(action.runs.using).toBe("composite");
    expect(Array.isArray(action.runs.steps)).toBe(true);
    for (const step of action.runs.steps) {
      // A composite run step must name its shell; a step either runs a command or uses an action.
      expect("run" in step !== "uses" in step).toBe(true);
      if ("run" in step) expect(["bash", "sh", "pwsh", "python", "cmd", "powershell"]).toContain(step.shell);
      if ("uses" in step) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[\w.-]+$/);
    }
    for (const [name, input] of Object.entries<Record<string, unknown>>(action.inputs)) {
      expect(name).toMatch(/^[A-Za-z_][\w-]*$/);
      expect(typeof input.description, name).toBe("string");
    }
    // Composite actions must map each output to a step output.
    for (const output of Object.values<Record<string, unknown>>(action.outputs)) {
      expect(typeof output.description).toBe("string");
      expect(output.value).toMatch(/^\$\{\{ steps\.publish\.outputs\.[\w-]+ \}\}$/);
    }
    expect(Object.keys(action.outputs).sort()).toEqual(["build-info", "digest", "sarif", "sbom"]);
    const colours = ["white", "black", "yellow", "blue", "green", "orange", "red", "purple", "gray-dark"];
    expect(colours).toContain(action.branding.color);
  });

  it("uses only inputs it declares, passes them through the environment, and only flags publish has", async () => {
    const text = readFileSync(join(root, "action.yml"), "utf8");
    const used = [...text.matchAll(/\$\{\{ inputs\.([\w-]+) \}\}/g)].map((m) => m[1] as string);
    for (const name of used) expect(Object.keys(action.inputs)).toContain(name);
    const publishStep = action.runs.steps.find((s: { id?: string }) => s.id === "publish");
    // No input is spliced into the script itself (script injection); they arrive as env vars.
    expect(publishStep.run).not.toMatch(/\$\{\{/);
    const help = await publishHelp();
    for (const flag of flagsIn(publishStep.run)) expect(help, flag).toContain(flag);
  });
});

describe("ci/gitlab/shipgate.yml", () => {
  const template = parse(readFileSync(join(root, "ci", "gitlab", "shipgate.yml"), "utf8")) as Record<
    string,
    any
  >;

  it("is a hidden job with the keys GitLab requires, and uploads the container-scanning report", async () => {
    const job = template[".shipgate-publish"];
    expect(job).toBeDefined();
    expect(typeof job.image).toBe("string");
    expect(Array.isArray(job.script)).toBe(true);
    expect(job.script.length).toBeGreaterThan(0);
    const script = job.script.join("\n");
    expect(job.artifacts.reports.container_scanning).toBe("gl-container-scanning-report.json");
    expect(script).toContain("--gitlab-report gl-container-scanning-report.json");
    expect(job.artifacts.when).toBe("always");
    for (const value of Object.values(job.variables)) expect(typeof value).toBe("string");
    const help = await publishHelp();
    for (const flag of flagsIn(script)) expect(help, flag).toContain(flag);
  });
});
