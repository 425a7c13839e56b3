import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { type ErrorCode, ShipgateError } from "../../errors.js";
import { type ApplyReport, applyPlan, comparePlans, type DeletionEvent } from "../../retention/apply.js";
import type { Judge } from "../../retention/decide.js";
import { collectDeployed } from "../../retention/deployed.js";
import { parseEcrPolicy } from "../../retention/ecr-policy.js";
import type { RetentionPlan } from "../../retention/model.js";
import { planRetention } from "../../retention/plan.js";
import { readPlanFile, writePlanFile } from "../../retention/plan-file.js";
import { compileRules, describeRules } from "../../retention/rules.js";
import { recordAudit } from "../../store/audit.js";
import { openStore } from "../../store/store.js";
import { examples, globals, printJson, usage } from "../context.js";
import { ProgressBar } from "../progress.js";
import { cleanAttachments } from "./clean-attachments.js";
import { renderPlan, renderReport, tagCounter } from "./clean-render.js";
import { type CleanFlags, collect, integer, resolveTargets, type Target } from "./clean-targets.js";

async function runClean(target: string, flags: CleanFlags, command: Command): Promise<void> {
  if (flags.plan !== undefined && !flags.apply)
    throw usage("--plan FILE is only used with --apply", "without --apply, clean only shows a plan");
  const saved = flags.plan === undefined ? undefined : await readPlanFile(flags.plan);
  const { targets, configDir } = await resolveTargets(target, flags, command);
  const concurrency = integer(flags.concurrency, "--concurrency") ?? 16;
  const plans: RetentionPlan[] = [];
  const planned: Target[] = [];
  for (const t of targets) {
    const previous = saved?.plans.find((p) => p.repository === t.name);
    if (saved !== undefined && previous === undefined) {
      // A repository that appeared after the plan was made: it was never shown, so it is not touched.
      process.stderr.write(`${t.name} is not in ${flags.plan}: left alone\n`);
      continue;
    }
    const nowText = previous?.now ?? flags.now;
    const now = nowText === undefined ? new Date() : new Date(nowText);
    if (Number.isNaN(now.getTime())) throw usage(`--now takes an ISO time, not "${nowText}"`);
    let judge: Judge;
    let source: string;
    if (flags.ecrPolicy !== undefined) {
      judge = {
        kind: "ecr",
        policy: parseEcrPolicy(await readFile(flags.ecrPolicy, "utf8"), flags.ecrPolicy),
      };
      source = `ECR lifecycle policy ${flags.ecrPolicy}`;
    } else {
      const compiled = compileRules(t.rules);
      judge = { kind: "rules", rules: compiled };
      source = `${t.environment ? `retention.${t.environment}: ` : ""}${describeRules(compiled)}`;
    }
    const progress = tagCounter(`planning ${t.name}`);
    const plan = await planRetention(t.reader, {
      judge,
      source,
      now,
      concurrency,
      deployed: await collectDeployed(t.rules.keep_deployed, {
        ...(flags.kubernetes || flags.kubeconfig || flags.kubeContext
          ? {
              kubernetes: {
                ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
                ...(flags.kubeContext ? { context: flags.kubeContext } : {}),
                ...(flags.namespace ? { namespaces: flags.namespace } : {}),
              },
            }
          : {}),
        files: flags.deployedFile ?? [],
        ...(configDir ? { configDir } : {}),
      }),
      promotedTo: t.promotedTo,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.finish();
    if (previous !== undefined) {
      const differences = comparePlans(previous, plan);
      if (differences.length > 0)
        throw new ShipgateError(
          "CONCURRENT_CHANGE",
          `${t.name} changed since the plan ${flags.plan}: ${differences.slice(0, 5).join("; ")}`,
          {
            hint: "nothing was deleted; make and review a new plan",
          },
        );
    }
    plans.push(previous ?? plan);
    planned.push(t);
  }
  if (flags.planOut !== undefined) await writePlanFile(flags.planOut, plans);
  if (!flags.apply) {
    if (flags.json) printJson({ plans });
    else {
      process.stdout.write(`${plans.map(renderPlan).join("\n\n")}\n`);
      process.stderr.write("Nothing was deleted: run again with --apply to carry out this plan.\n");
    }
    return;
  }
  if (!flags.json) process.stdout.write(`${plans.map(renderPlan).join("\n\n")}\n`);
  const reports: ApplyReport[] = [];
  const store = await openStore(globals(command).store);
  try {
    for (const [i, plan] of plans.entries()) {
      const t = planned[i] as Target;
      const bar = new ProgressBar(`cleaning ${plan.repository}`);
      const audit = async (event: DeletionEvent) => {
        await recordAudit(
          {
            kind: "deletion",
            action: `clean ${event.kind}`,
            outcome: "deleted",
            digest: event.digest,
            ...(t.environment ? { environment: t.environment } : {}),
            ...(t.app ? { app: t.app } : {}),
            details: {
              repository: event.repository,
              reference: event.reference,
              rule: event.rule,
              detail: event.detail ?? null,
            },
          },
          store,
        );
      };
      const report = await applyPlan(t.writer, plan, {
        concurrency: Math.min(concurrency, 8),
        onDeleted: audit,
        onStep: (_done, _total, bytes) =>
          bar.update(bytes, plan.totals.bytesFreed, `step ${_done}/${_total}`),
      });
      bar.finish();
      reports.push(report);
      if (report.failed !== undefined) break;
    }
  } finally {
    await store.destroy();
  }
  if (flags.json) printJson({ plans, results: reports });
  else process.stdout.write(`\n${reports.map(renderReport).join("\n")}\n`);
  const failed = reports.find((r) => r.failed !== undefined)?.failed;
  if (failed !== undefined) {
    throw new ShipgateError(failed.code as ErrorCode, `clean stopped: ${failed.message}`, {
      hint: "what was deleted is listed above; run the same clean again to finish",
    });
  }
}

export function registerCleanCommands(program: Command): void {
  program
    .command("clean")
    .description("plan (and with --apply, carry out) a retention clean-up of a repository or an environment")
    .argument(
      "<target>",
      "REGISTRY/REPO, store:REPO (the embedded store, see --store), oci:PATH, or an environment of shipgate.yaml (its retention rules)",
    )
    .option("--json", "print the plan (and the result) as JSON")
    .option("--apply", "delete what the plan says (re-checking each digest first)")
    .option("--plan <file>", "with --apply: carry out this saved plan, if the repository still matches it")
    .option("--plan-out <file>", "save the plan, to review and --apply later")
    .option(
      "--config <file>",
      "shipgate.yaml for an environment target (default $SHIPGATE_CONFIG or ./shipgate.yaml)",
    )
    .option("--app <name>", "with an environment: only this app's repository")
    .option("--keep-last <n>", "keep the N most recently created images")
    .option("--max-age-days <n>", "keep images created less than N days ago")
    .option("--keep-semver", "keep tags that are semantic versions")
    .option("--keep-tag <pattern>", "keep tags matching a glob or /regex/ (repeatable)", collect)
    .option("--include <pattern>", "only clean tags matching a glob or /regex/ (repeatable)", collect)
    .option("--exclude <pattern>", "never clean tags matching a glob or /regex/ (repeatable)", collect)
    .option("--untagged-days <n>", "delete untagged manifests older than N days")
    .option("--ecr-policy <file>", "judge with an Amazon ECR lifecycle policy (JSON) instead of the rules")
    .option(
      "--deployed-file <file>",
      "image references that run somewhere, one per line, or a PodList JSON (repeatable)",
      collect,
    )
    .option("--kubernetes", "keep digests that pods run in the current kubeconfig context")
    .option("--kubeconfig <file>", "kubeconfig for --kubernetes")
    .option("--kube-context <name>", "kubeconfig context for --kubernetes")
    .option("--namespace <ns>", "with --kubernetes: only these namespaces (repeatable; default all)", collect)
    .option(
      "--promoted-to <repo>",
      "keep digests present in this later environment's repository, REGISTRY/REPO or store:REPO (repeatable)",
      collect,
    )
    .option(
      "--type <type>",
      "instead of retention: the attachments of the image TARGET names: signature, attestation, sbom or all",
    )
    .option("--now <time>", "measure ages from this ISO time instead of now")
    .option("--concurrency <n>", "requests in flight while planning (default 16)")
    .addHelpText(
      "after",
      examples(
        "shipgate clean localhost:5000/team/app --keep-last 10 --max-age-days 30 --keep-semver",
        "shipgate clean dev --config shipgate.yaml --plan-out plan.json",
        "shipgate --store ./.shipgate/store clean store:dev/app --keep-last 1 --apply",
        "shipgate clean dev --apply --plan plan.json",
        "shipgate clean localhost:5000/team/app --ecr-policy lifecycle.json --kubernetes --json",
        "shipgate clean localhost:5000/team/app:1.0 --type signature --apply",
      ),
    )
    .action((target: string, flags: CleanFlags & { type?: string }, command: Command) =>
      flags.type === undefined
        ? runClean(target, flags, command)
        : cleanAttachments(target, flags.type, flags, command),
    );
}
