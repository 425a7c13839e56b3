import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { openSource, referenceOf } from "../../oci/transports/open.js";
import {
  type BuildInfo,
  parseBuildInfo,
  readAttachedBuildInfo,
  type StepRecord,
} from "../../publish/build-info.js";
import { annotationCommand, appendSummary, writeOutputs } from "../../publish/github.js";
import { toGitlabContainerScanning } from "../../publish/gitlab-report.js";
import {
  OPTIONAL_STEPS,
  type OptionalStep,
  PublishFailure,
  type PublishResult,
  publish,
  type SbomFormat,
} from "../../publish/pipeline.js";
import { findingAnnotations, markdownSummary } from "../../publish/summary.js";
import { loadPrivateKey, readKeyText } from "../../sign/keys.js";
import { readPassword } from "../../sign/password.js";
import type { ReferrersMode } from "../../sign/sign-image.js";
import { toSarif } from "../../vuln/report/sarif.js";
import type { SeverityLevel } from "../../vuln/severity/severity.js";
import { loadOpenVex } from "../../vuln/vex/openvex.js";
import { examples, location, openOptions, printJson, usage } from "../context.js";
import { relativeTime, shortDigest, table } from "../format.js";
import { colours } from "../terminal.js";
import { VERSION } from "../version.js";

interface PublishFlags {
  key?: string;
  failOn: string;
  db?: string;
  ignoreUnfixed?: boolean;
  vex?: string[];
  sbomFormat: string;
  skip?: string;
  tag?: string[];
  registryReferrersMode?: string;
  builderId?: string;
  buildInfo?: string;
  sarif?: string;
  gitlabReport?: string;
  json?: boolean;
}

function parseSkip(value: string | undefined): Set<OptionalStep> {
  const skip = new Set<OptionalStep>();
  for (const part of (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(OPTIONAL_STEPS as readonly string[]).includes(part)) {
      throw usage(
        `--skip: unknown step "${part}"`,
        `steps that can be switched off: ${OPTIONAL_STEPS.join(", ")}`,
      );
    }
    skip.add(part as OptionalStep);
  }
  return skip;
}

function parseFailOn(value: string): SeverityLevel | undefined {
  if (value.toLowerCase() === "none") return undefined;
  const level = value.toUpperCase() as SeverityLevel;
  if (!["CRITICAL", "HIGH", "MEDIUM", "LOW"].includes(level)) {
    throw usage(`--fail-on "${value}" is not a severity`, "use critical, high, medium, low or none");
  }
  return level;
}

function stepLine(step: StepRecord): string {
  const c = colours(process.stderr);
  const mark = step.status === "done" ? c.green("✓") : step.status === "skipped" ? c.dim("-") : c.red("✗");
  const detail = step.detail ? c.dim(`  ${step.detail}`) : "";
  return `${mark} ${step.name.padEnd(12)} ${step.status.padEnd(8)} ${step.seconds.toFixed(1).padStart(5)} s${detail}\n`;
}

async function writeReports(result: PublishResult, flags: PublishFlags, failOn: SeverityLevel | undefined) {
  const info = result.buildInfo;
  const env = process.env;
  if (flags.buildInfo) await writeFile(flags.buildInfo, `${JSON.stringify(info, null, 2)}\n`);
  if (result.scan && flags.sarif)
    await writeFile(flags.sarif, `${JSON.stringify(toSarif(result.scan, VERSION), null, 2)}\n`);
  if (result.scan && flags.gitlabReport) {
    const image = `${info.image.repository}${info.image.tags[0] ? `:${info.image.tags[0]}` : `@${info.image.digest}`}`;
    const report = toGitlabContainerScanning(result.scan, {
      image,
      toolVersion: VERSION,
      startedAt: info.startedAt,
      finishedAt: info.finishedAt,
    });
    await writeFile(flags.gitlabReport, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (env.GITHUB_ACTIONS === "true") {
    for (const a of findingAnnotations(result.scan?.findings ?? [], failOn))
      process.stdout.write(`${annotationCommand(a)}\n`);
    const failed = info.steps.find((s) => s.status === "failed");
    if (failed) {
      process.stdout.write(
        `${annotationCommand({ level: "error", title: `shipgate publish: ${failed.name} failed`, message: failed.detail ?? failed.name })}\n`,
      );
    }
    appendSummary(markdownSummary(info, result.scan), env);
    const outputs: Record<string, string> = { digest: info.image.digest };
    if (info.sbom?.referrer ?? info.sbom?.tag)
      outputs.sbom = (info.sbom?.referrer ?? info.sbom?.tag) as string;
    if (flags.buildInfo) outputs["build-info"] = flags.buildInfo;
    if (flags.sarif && result.scan) outputs.sarif = flags.sarif;
    writeOutputs(outputs, env);
  }
}

function renderBuildInfo(info: BuildInfo): string {
  const rows: string[][] = [
    ["image", `${info.image.repository}@${info.image.digest}`],
    ["tags", info.image.tags.join(", ") || "(none)"],
    ["platforms", info.image.platforms.join(", ") || "(single)"],
    ["finished", `${info.finishedAt} (${relativeTime(new Date(info.finishedAt))})`],
    [
      "source",
      [info.source.repository, info.source.commit, info.source.ref].filter(Boolean).join(" ") ||
        info.source.provider,
    ],
  ];
  if (info.source.runUrl) rows.push(["run", info.source.runUrl]);
  if (info.sbom)
    rows.push([
      "sbom",
      `${info.sbom.format}, ${info.sbom.packages} packages, ${info.sbom.referrer ?? info.sbom.tag ?? ""}`,
    ]);
  for (const s of info.signatures) rows.push(["signature", `${s.layout} ${shortDigest(s.digest)}`]);
  for (const a of info.attestations)
    rows.push(["attestation", `${a.predicateType} (${a.layout} ${shortDigest(a.digest)})`]);
  if (info.scan) {
    const s = info.scan;
    rows.push([
      "scan",
      `${s.critical} critical, ${s.high} high, ${s.medium} medium, ${s.low} low, ${s.unknown} unknown${s.failOn ? ` · gate ${s.passed ? "passed" : "failed"} (fail on ${s.failOn})` : ""}`,
    ]);
  }
  const steps = table(
    ["STEP", "RESULT", "TIME", "DETAIL"],
    info.steps.map((s) => [s.name, s.status, `${s.seconds.toFixed(1)} s`, s.detail ?? ""]),
    new Set([2]),
  );
  return `${table(["", ""], rows).split("\n").slice(1).join("\n")}\n\n${steps}\n`;
}

export function registerPublishCommands(program: Command): void {
  program
    .command("publish")
    .description(
      "scan, SBOM, push, sign, attach and attest a built image in one step, and write its build info",
    )
    .argument("<source>", "the built image: oci:PATH[:TAG], docker-archive:FILE, or an image in a registry")
    .argument(
      "<destination>",
      "where to publish it: REGISTRY/REPO:TAG (tagged last, once everything is in place)",
    )
    .option(
      "--key <key>",
      "cosign private key (file or env://VAR); password from COSIGN_PASSWORD, a prompt or stdin",
    )
    .option(
      "--fail-on <severity>",
      "stop before pushing on a finding this severe: critical, high, medium, low, none",
      "critical",
    )
    .option("--db <path>", "the vulnerability database (default: the embedded store's)")
    .option("--ignore-unfixed", "findings with no fixed version do not count")
    .option("--vex <file...>", "OpenVEX documents whose not_affected/fixed statements suppress findings")
    .option("--sbom-format <format>", "SBOM to attach: spdx-json or cyclonedx-json", "spdx-json")
    .option("--skip <steps>", `steps to switch off, comma separated: ${OPTIONAL_STEPS.join(", ")}`)
    .option("--tag <tag...>", "more tags for the published image")
    .option(
      "--registry-referrers-mode <mode>",
      "legacy (cosign's .sig/.att tags) or oci-1-1 (Sigstore bundle referrers)",
    )
    .option("--builder-id <uri>", "provenance builder id outside CI (in CI it comes from the environment)")
    .option("--build-info <file>", "write the build-info record (JSON) here")
    .option("--sarif <file>", "write the scan report as SARIF 2.1.0 here")
    .option("--gitlab-report <file>", "write the scan report in GitLab's container-scanning format here")
    .option("--json", "print the build-info record to stdout")
    .addHelpText(
      "after",
      `${examples(
        "COSIGN_PASSWORD=… shipgate publish oci:build/layout:latest localhost:5000/team/shop:1.4.2 --key cosign.key --build-info build-info.json",
        "shipgate publish docker-archive:image.tar registry.example.com/app:1.0 --key env://COSIGN_KEY --fail-on high --sarif scan.sarif",
        "shipgate publish oci:layout:dev localhost:5000/app:dev --skip sign,provenance --fail-on none",
      )}
Steps, in order: sbom (catalogue the image), scan (the gate: nothing is pushed when it fails), push (by digest), sign,
attach the SBOM, attest the SBOM, attest SLSA provenance (in GitHub Actions or GitLab CI), then the
tags, then the build-info record as a referrer of the image. A failed step stops the run with exit
code 1 (scan gate) or 3 (runtime failure) and leaves no tag behind; running it again completes it.
`,
    )
    .action(async (sourceArg: string, destinationArg: string, flags: PublishFlags, command: Command) => {
      const skip = parseSkip(flags.skip);
      const failOn = parseFailOn(flags.failOn);
      if (!["spdx-json", "cyclonedx-json"].includes(flags.sbomFormat)) {
        throw usage(`--sbom-format "${flags.sbomFormat}" is not known`, "use spdx-json or cyclonedx-json");
      }
      const mode = flags.registryReferrersMode;
      if (mode !== undefined && mode !== "legacy" && mode !== "oci-1-1") {
        throw usage(`--registry-referrers-mode "${mode}" is not known`, "use legacy or oci-1-1");
      }
      const source = location(command, sourceArg);
      const destination = location(command, destinationArg);
      let key: Awaited<ReturnType<typeof loadPrivateKey>> | undefined;
      if (flags.key !== undefined && !skip.has("sign")) {
        const pem = await readKeyText(flags.key);
        const password = await readPassword(flags.key, { input: process.stdin, prompt: process.stderr });
        key = await loadPrivateKey(pem, password, flags.key);
      }
      const vex = [];
      for (const file of flags.vex ?? []) vex.push(...(await loadOpenVex(file)));
      let result: PublishResult;
      try {
        result = await publish(source, destination, {
          ...(key ? { key } : {}),
          skip,
          ...(failOn ? { failOn } : {}),
          ...(flags.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
          ...(vex.length > 0 ? { vex } : {}),
          ...(flags.db ? { vulnDbPath: flags.db } : {}),
          sbomFormat: flags.sbomFormat as SbomFormat,
          ...(mode ? { referrersMode: mode as ReferrersMode } : {}),
          ...(flags.tag ? { extraTags: flags.tag } : {}),
          ...(flags.builderId ? { builderId: flags.builderId } : {}),
          open: openOptions(command),
          toolVersion: VERSION,
          onStep: (step) => process.stderr.write(stepLine(step)),
        });
      } catch (error) {
        if (error instanceof PublishFailure) await writeReports(error.partial, flags, failOn);
        throw error;
      }
      await writeReports(result, flags, failOn);
      if (flags.json) return printJson(result.buildInfo);
      process.stdout.write(renderBuildInfo(result.buildInfo));
    });

  program
    .command("build-info")
    .description("show build-info records")
    .command("show")
    .description("print a build-info record readably: from a file, or attached to an image")
    .argument("<file-or-image>", "a build-info JSON file, or an image publish attached one to")
    .option("--json", "print the record as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate build-info show build-info.json",
        "shipgate build-info show localhost:5000/team/shop:1.4.2",
      ),
    )
    .action(async (input: string, flags: { json?: boolean }, command: Command) => {
      let info: BuildInfo | undefined;
      const text = await readFile(input, "utf8").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" || error.code === "EISDIR") return undefined;
        throw new ShipgateError("IO", `cannot read ${input}: ${error.message}`);
      });
      if (text !== undefined) {
        info = parseBuildInfo(text, input);
      } else {
        const where = location(command, input);
        const source = await openSource(where, openOptions(command));
        try {
          const reference = referenceOf(where) ?? source.defaultReference;
          if (reference === undefined) throw usage(`${input}: name the image with a tag or digest`);
          const manifest = await source.getManifest(reference);
          info = await readAttachedBuildInfo(source, manifest.digest);
          if (info === undefined) {
            throw new ShipgateError(
              "NOT_FOUND",
              `no build-info record is attached to ${input} (${manifest.digest})`,
              {
                hint: "shipgate publish attaches one; or pass the JSON file it wrote with --build-info",
              },
            );
          }
        } finally {
          await source.close?.();
        }
      }
      if (flags.json) return printJson(info);
      process.stdout.write(renderBuildInfo(info));
    });
}
