import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { type ErrorCode, ShipgateError } from "../../errors.js";
import { parseRepository } from "../../oci/reference.js";
import { OciLayout } from "../../oci/transports/layout.js";
import { parseLocation, storeDirectory } from "../../oci/transports/location.js";
import { RegistryRepository } from "../../oci/transports/registry.js";
import { listStoreRepositories } from "../../oci/transports/store.js";
import { configPath, type LoadedConfig, loadConfig, resolveFromConfig } from "../../policy/config.js";
import { type RetentionRules, retentionRulesSchema } from "../../policy/retention-rules.js";
import { isStoreRegistry, placeOf } from "../../promote/environments.js";
import {
  type ApplyReport,
  applyPlan,
  comparePlans,
  type DeletionEvent,
  type RepositoryWriter,
} from "../../retention/apply.js";
import type { Judge } from "../../retention/decide.js";
import { collectDeployed } from "../../retention/deployed.js";
import { parseEcrPolicy } from "../../retention/ecr-policy.js";
import { environmentRepository, environmentScope, laterEnvironments } from "../../retention/environments.js";
import { type RepositoryReader, registryReader } from "../../retention/inventory.js";
import { layoutPromotionTarget, layoutReader, layoutWriter } from "../../retention/layout.js";
import type { RetentionPlan } from "../../retention/model.js";
import { type PromotionTarget, planRetention } from "../../retention/plan.js";
import { readPlanFile, writePlanFile } from "../../retention/plan-file.js";
import { compileRules, describeRules } from "../../retention/rules.js";
import { recordAudit } from "../../store/audit.js";
import { openStore } from "../../store/store.js";
import { examples, globals, location, openOptions, printJson, usage } from "../context.js";
import { humanSize, shortDigest, table } from "../format.js";
import { ProgressBar } from "../progress.js";
import { cleanAttachments } from "./clean-attachments.js";

interface CleanFlags {
  json?: boolean;
  apply?: boolean;
  plan?: string;
  planOut?: string;
  config?: string;
  app?: string;
  keepLast?: string;
  maxAgeDays?: string;
  keepSemver?: boolean;
  keepTag?: string[];
  include?: string[];
  exclude?: string[];
  untaggedDays?: string;
  ecrPolicy?: string;
  deployedFile?: string[];
  kubernetes?: boolean;
  kubeconfig?: string;
  kubeContext?: string;
  namespace?: string[];
  promotedTo?: string[];
  now?: string;
  concurrency?: string;
}

/** What one run cleans: a repository (a registry's or a layout), its rules, and what protects digests in it. */
interface Target {
  /** As plans name it: `host/repo` (docker://…), `store:dev/app` or `oci:PATH`. */
  name: string;
  reader: RepositoryReader;
  writer: RegistryRepository | RepositoryWriter;
  environment?: string;
  app?: string;
  rules: RetentionRules;
  promotedTo: PromotionTarget[];
}

function registryTarget(repo: RegistryRepository): Pick<Target, "name" | "reader" | "writer"> {
  return { name: repo.name, reader: registryReader(repo), writer: repo };
}

/** A layout of the embedded store (or oci:PATH); it must exist: clean never creates one. */
async function layoutTarget(name: string, dir: string): Promise<Pick<Target, "name" | "reader" | "writer">> {
  const layout = await OciLayout.open(dir, { create: false });
  return { name, reader: layoutReader(layout, name), writer: layoutWriter(layout, name) };
}

function storeLayoutPromotion(name: string, dir: string): PromotionTarget {
  return layoutPromotionTarget(name, async () => {
    try {
      return await OciLayout.open(dir, { create: false });
    } catch (error) {
      // Nothing promoted there yet: the later environment has no repository for this app.
      if (error instanceof ShipgateError && error.code === "LAYOUT_INVALID") return undefined;
      throw error;
    }
  });
}

/** The environment that --store and $SHIPGATE_STORE make: `store:` names resolve under it. */
function storeEnv(command: Command): NodeJS.ProcessEnv {
  const g = globals(command);
  return g.store === undefined ? process.env : { ...process.env, SHIPGATE_STORE: g.store };
}

function isStoreEnvironment(loaded: LoadedConfig, environment: string): boolean {
  const env = loaded.config.environments[environment];
  const registry = env === undefined ? undefined : loaded.config.registries[env.registry];
  return registry !== undefined && isStoreRegistry(registry.url);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw usage(`${flag} takes a non-negative number, not "${value}"`);
  return n;
}

function rulesFromFlags(flags: CleanFlags): RetentionRules {
  const raw: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) raw[key] = value;
  };
  set("keep_last", integer(flags.keepLast, "--keep-last"));
  set("max_age_days", integer(flags.maxAgeDays, "--max-age-days"));
  set("keep_semver", flags.keepSemver);
  set("keep_tags", flags.keepTag);
  set("include", flags.include);
  set("exclude", flags.exclude);
  set("untagged_days", integer(flags.untaggedDays, "--untagged-days"));
  const parsed = retentionRulesSchema.safeParse(raw);
  if (!parsed.success) throw usage(`invalid rule: ${parsed.error.issues[0]?.message ?? "?"}`);
  return parsed.data;
}

/** Looks like a repository (has a slash, a transport or a registry host), else an environment name. */
function isRepository(target: string): boolean {
  return target.includes("/") || /^(docker:\/\/|store:|oci:)/.test(target);
}

async function repositoryTarget(
  target: string,
  command: Command,
): Promise<Pick<Target, "name" | "reader" | "writer">> {
  if (target.startsWith("store:") || target.startsWith("oci:")) {
    const loc = location(command, target);
    if (loc.transport !== "oci" || loc.reference !== undefined)
      throw usage(
        `clean takes a repository, not an image: "${target}" names a tag or digest`,
        "e.g. shipgate clean store:dev/app --keep-last 5",
      );
    const name = target.startsWith("store:") ? target : `oci:${loc.path}`;
    return layoutTarget(name, loc.path);
  }
  return registryTarget(
    new RegistryRepository(parseRepository(target.replace(/^docker:\/\//, "")), openOptions(command)),
  );
}

async function resolveTargets(
  target: string,
  flags: CleanFlags,
  command: Command,
): Promise<{ targets: Target[]; configDir?: string }> {
  const flagRules = rulesFromFlags(flags);
  const promoted: PromotionTarget[] = [];
  for (const r of flags.promotedTo ?? []) {
    if (r.startsWith("store:") || r.startsWith("oci:")) {
      const loc = location(command, r);
      if (loc.transport === "oci") promoted.push(storeLayoutPromotion(r, loc.path));
    } else
      promoted.push(
        promotionTarget(
          new RegistryRepository(parseRepository(r.replace(/^docker:\/\//, "")), openOptions(command)),
        ),
      );
  }
  if (isRepository(target)) {
    return {
      targets: [{ ...(await repositoryTarget(target, command)), rules: flagRules, promotedTo: promoted }],
    };
  }
  const loaded = loadConfig(configPath(flags.config));
  const config = loaded.config;
  const scope = environmentScope(config, target);
  const rules: RetentionRules = { ...(config.retention[target] ?? {}), ...flagRules };
  const options = (insecure: boolean, caFile: string | undefined) =>
    openOptions(command, {
      ...(insecure ? { insecure } : {}),
      ...(caFile ? { caFile: resolveFromConfig(loaded, caFile) } : {}),
    });
  const env = storeEnv(command);
  const inStore = isStoreEnvironment(loaded, target);
  let apps: string[];
  if (flags.app !== undefined) apps = [flags.app];
  else if (inStore) {
    // The store's repositories under the environment's prefix (dev/ holds dev/app, dev/team/api).
    const dir =
      globals(command).store === undefined ? storeDirectory() : resolve(globals(command).store ?? "");
    apps = (await listStoreRepositories(dir))
      .filter((name) => name.startsWith(scope.prefix))
      .map((name) => name.slice(scope.prefix.length));
  } else {
    const catalog = new RegistryRepository(
      parseRepository(`${scope.host}/catalog`),
      options(scope.insecure, scope.caFile),
    );
    apps = [];
    for await (const name of catalog.client.catalog())
      if (name.startsWith(scope.prefix)) apps.push(name.slice(scope.prefix.length));
  }
  const later = rules.protect_promoted === false ? [] : laterEnvironments(config, target);
  /** The app's repository in `environment`: a store layout or a registry repository. */
  const where = (environment: string, app: string) => {
    if (isStoreEnvironment(loaded, environment)) {
      const place = placeOf(loaded, environment, app, {}, env);
      const loc = parseLocation(place.repository, env);
      return { store: { name: place.repository, dir: loc.transport === "oci" ? loc.path : "" } };
    }
    const here = environmentRepository(config, environment, app);
    return { registry: new RegistryRepository(here.reference, options(here.insecure, here.caFile)) };
  };
  const targets: Target[] = [];
  for (const app of apps) {
    const here = where(target, app);
    const repo = here.store
      ? await layoutTarget(here.store.name, here.store.dir)
      : registryTarget(here.registry as RegistryRepository);
    targets.push({
      ...repo,
      environment: target,
      app,
      rules,
      promotedTo: [
        ...promoted,
        ...later.map((e) => {
          const there = where(e, app);
          return there.store
            ? storeLayoutPromotion(there.store.name, there.store.dir)
            : promotionTarget(there.registry as RegistryRepository);
        }),
      ],
    });
  }
  return { targets, configDir: loaded.dir };
}

function promotionTarget(repo: RegistryRepository): PromotionTarget {
  return {
    name: repo.name,
    has: async (digest) => (await repo.client.headManifest(repo.repository, digest)) !== undefined,
  };
}

/** Tags read so far, on a terminal only: ProgressBar counts bytes, planning counts tags. */
function tagCounter(label: string): { update(done: number, total: number): void; finish(): void } {
  const started = Date.now();
  let drawn = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (!process.stderr.isTTY || now - started < 1000 || now - drawn < 100) return;
      drawn = now;
      process.stderr.write(`\r\u001b[2K${label}: ${done}/${total} tags read`);
    },
    finish() {
      if (drawn > 0) process.stderr.write("\r\u001b[2K");
    },
  };
}

function renderPlan(plan: RetentionPlan): string {
  const lines = [`Plan for ${plan.repository} (${plan.source}; ages from ${plan.now})`];
  const created = new Map(plan.digests.map((d) => [d.digest, d.created?.slice(0, 10) ?? "-"]));
  const rows = plan.tags.map((t) => [
    t.tag,
    shortDigest(t.digest),
    created.get(t.digest) ?? "-",
    t.action,
    t.rule,
    t.detail ?? "",
  ]);
  if (rows.length > 0) lines.push(table(["TAG", "DIGEST", "CREATED", "ACTION", "RULE", "DETAIL"], rows));
  const untagged = plan.digests.filter(
    (d) => d.tags.length === 0 && (d.role !== "attachment" || d.action === "delete"),
  );
  if (untagged.length > 0) {
    lines.push("", "Untagged manifests and attachments:");
    lines.push(
      table(
        ["DIGEST", "ROLE", "CREATED", "ACTION", "RULE", "DETAIL"],
        untagged.map((d) => [
          shortDigest(d.digest),
          d.role,
          d.created?.slice(0, 10) ?? "-",
          d.action,
          d.rule,
          d.detail ?? "",
        ]),
      ),
    );
  }
  const t = plan.totals;
  // A layout's blobs stay on disk after their index.json entries go (as with shipgate rm).
  const freed = /^(store|oci):/.test(plan.repository)
    ? `${humanSize(t.bytesFreed)} no longer referenced (the blobs stay in the layout)`
    : `${humanSize(t.bytesFreed)} freed once the registry collects garbage`;
  lines.push(
    "",
    `Totals: ${t.tags} tags (${t.keptTags} kept, ${t.deletedTags} deleted); ${t.deletedManifests} of ${t.manifests} manifests deleted; ${freed}`,
  );
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n");
}

function renderReport(report: ApplyReport): string {
  const done = report.outcomes.filter((o) => o.status === "done").length;
  const gone = report.outcomes.length - done;
  const lines = [
    `${report.repository}: ${done} step(s) done, ${gone} already done before, ${humanSize(report.bytesFreed)} ${/^(store|oci):/.test(report.repository) ? "no longer referenced" : "freed"}`,
  ];
  if (report.swept.length > 0)
    lines.push(
      `removed ${report.swept.length} tag(s) that pointed at no manifest: ${report.swept.join(", ")}`,
    );
  if (report.failed !== undefined) {
    const s = report.failed.step;
    lines.push(
      `stopped at ${s.op === "delete-tag" ? `tag ${s.tag}` : `manifest ${s.digest}`}: ${report.failed.message}`,
    );
    lines.push(`not done: ${report.remaining.length + 1} step(s); run shipgate clean again to finish`);
  }
  return lines.join("\n");
}

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
