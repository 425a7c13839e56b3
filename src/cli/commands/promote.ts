import { join } from "node:path";
import type { Command } from "commander";
import { stringify } from "yaml";
import { type ErrorCode, ShipgateError } from "../../errors.js";
import { configPath, type LoadedConfig, loadConfig } from "../../policy/config.js";
import { ConfigInvalidError } from "../../policy/config-errors.js";
import { maskSecrets } from "../../policy/config-mask.js";
import { parseDuration } from "../../policy/config-schema.js";
import { waitForDecision } from "../../promote/approvals.js";
import { attestationVerifier, promotionSigner, signatureVerifier } from "../../promote/deps.js";
import { exitCodeOf, type PromotionReport, promote } from "../../promote/engine.js";
import { parseAppTag } from "../../promote/environments.js";
import { escalateDue } from "../../promote/escalation.js";
import { vulnerabilityScanner } from "../../promote/scanner.js";
import { appStatus } from "../../promote/status.js";
import { listAudit, verifyAudit } from "../../store/audit.js";
import { examples, globals, printJson, usage } from "../context.js";
import { shortDigest, table } from "../format.js";
import { registerApprovals } from "./approvals.js";
import { type ConfigFlag, load, maybeLoad, storeDir, withDb } from "./promote-context.js";

const STATUS_WORDS: Record<string, string> = { pass: "pass", fail: "FAIL", error: "ERROR" };

function printReport(report: PromotionReport): void {
  const rows = report.gates.map((g) => [g.gate, STATUS_WORDS[g.status] ?? g.status, g.summary]);
  const out: string[] = [
    `${report.app}:${report.tag} ${shortDigest(report.digest)}  ${report.from} → ${report.to}`,
  ];
  out.push(rows.length > 0 ? table(["GATE", "RESULT", "DETAIL"], rows) : "(no gates configured)");
  const verdicts: Record<PromotionReport["status"], string> = {
    promoted: `promoted to ${report.target}`,
    "already-promoted": `already in ${report.target}: gates re-verified, nothing copied`,
    "would-promote": `dry run: every gate passed; would copy to ${report.target}`,
    blocked: `blocked: ${report.target} untouched`,
    "gate-error": `not promoted: a gate could not be evaluated; ${report.target} untouched`,
  };
  out.push(verdicts[report.status]);
  if (report.copy)
    out.push(
      `copied ${report.copy.manifests} manifest(s) (${report.copy.referrers} referrer(s)), ${report.copy.blobs.copied} blob(s)`,
    );
  if (report.attestation && "manifest" in report.attestation)
    out.push(`promotion attestation ${shortDigest(report.attestation.manifest)}`);
  for (const n of report.notifications) out.push(`notified ${n.channel}: ${n.ok ? "ok" : n.error}`);
  process.stdout.write(`${out.join("\n")}\n`);
}

/** The approval request id when the approval gate is the only one not passing (so waiting can help). */
function waitingOnApprovalOnly(report: PromotionReport): string | undefined {
  const notPassing = report.gates.filter((g) => g.status !== "pass");
  const only = notPassing[0];
  if (notPassing.length !== 1 || only?.gate !== "approval" || only.evidence.status !== "pending")
    return undefined;
  return typeof only.evidence.id === "string" ? only.evidence.id : undefined;
}

function registerPromote(program: Command): void {
  program
    .command("promote")
    .description("promote APP:TAG into an environment when every gate of that environment passes")
    .argument("<app:tag>", "the app (repository name under the environment prefix) and tag")
    .requiredOption("--to <env>", "target environment")
    .option("--from <env>", "source environment (default: promotion.<to>.from)")
    .option("--dry-run", "evaluate the gates, copy nothing, request no approval")
    .option(
      "--wait <duration>",
      "when only an approval is missing, wait this long (e.g. 30m) for the decision, then promote",
    )
    .option("--config <file>", "shipgate.yaml (default $SHIPGATE_CONFIG or ./shipgate.yaml)")
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate promote shop:1.4.2 --to staging",
        "shipgate promote shop:1.4.2 --to prod --dry-run --json",
      ) +
        "\nExit codes: 0 promoted (or already there), 1 a gate failed, 2 config or usage, 3 a gate or copy failed to run.\n",
    )
    .action(
      async (
        input: string,
        flags: ConfigFlag & { to: string; from?: string; dryRun?: boolean; wait?: string; json?: boolean },
        command: Command,
      ) => {
        const { app, tag } = parseAppTag(input);
        const loaded = load(flags);
        const dir = storeDir(command, loaded);
        const waitMs = flags.wait === undefined ? undefined : parseDuration(flags.wait);
        if (waitMs === undefined && flags.wait !== undefined)
          throw usage(`--wait takes a duration such as 30s or 10m, not "${flags.wait}"`);
        const report = await withDb(dir, async (db) => {
          const run = () =>
            promote({
              loaded,
              app,
              tag,
              to: flags.to,
              from: flags.from,
              dryRun: flags.dryRun ?? false,
              store: db,
              deps: {
                signatures: signatureVerifier(),
                attestations: attestationVerifier(),
                scanner: vulnerabilityScanner({ defaultDb: join(dir, "vulndb.sqlite") }),
                signer: promotionSigner(loaded),
              },
              open: globals(command).insecure ? { insecure: true } : {},
              // Environments in the embedded store (`url: store:`) live in the same store directory.
              env: { ...process.env, SHIPGATE_STORE: dir },
              onProgress: (m) => process.stderr.write(`${m}\n`),
            });
          const first = await run();
          const pending = waitingOnApprovalOnly(first);
          if (waitMs === undefined || pending === undefined || flags.dryRun) return first;
          process.stderr.write(`waiting up to ${flags.wait} for a decision on ${pending}\n`);
          const decided = await waitForDecision(db, pending, {
            timeoutMs: waitMs,
            onPoll: async () => void (await escalateDue(db, loaded.config)),
          });
          if (decided.status === "pending") {
            process.stderr.write(`${pending} is still pending after ${flags.wait}\n`);
            return first;
          }
          return run();
        });
        if (flags.json) printJson(report);
        else printReport(report);
        const code = exitCodeOf(report);
        if (code === 1) {
          const failed = report.gates.filter((g) => g.status === "fail").map((g) => g.gate);
          throw new ShipgateError(
            "GATE_FAILED",
            `${app}:${tag} not promoted to ${report.to}: ${failed.join(", ")} failed`,
            {
              hint: "fix what the report says and run the same command again",
            },
          );
        }
        if (code === 3) {
          const errored = report.gates.filter((g) => g.status === "error");
          const first = errored[0]?.evidence.code;
          throw new ShipgateError(
            (typeof first === "string" ? first : "IO") as ErrorCode,
            `${app}:${tag} not promoted: ${errored.map((g) => `${g.gate}: ${g.summary}`).join("; ")}`,
          );
        }
      },
    );
}

function registerConfig(program: Command): void {
  // `shipgate config IMAGE` already prints an image's config (as crane's does), so the
  // shipgate.yaml tools live under `policy`.
  const config = program
    .command("policy")
    .description("shipgate.yaml tools: validate and show the resolved configuration");
  config
    .command("check")
    .description(
      "validate shipgate.yaml and print it resolved (variables expanded, defaults filled), secrets masked",
    )
    .option("--config <file>", "the file (default $SHIPGATE_CONFIG or ./shipgate.yaml)")
    .option("--json", "print as JSON (problems as a list with file, line, column)")
    .addHelpText(
      "after",
      examples("shipgate policy check", "shipgate policy check --config examples/shipgate.yaml --json"),
    )
    .action((flags: ConfigFlag & { json?: boolean }) => {
      const path = configPath(flags.config);
      let loaded: LoadedConfig;
      try {
        loaded = loadConfig(path);
      } catch (error) {
        if (flags.json && error instanceof ConfigInvalidError)
          printJson({ valid: false, file: path, issues: error.issues });
        throw error;
      }
      const masked = maskSecrets(loaded.config);
      if (flags.json) return printJson({ valid: true, file: loaded.path, config: masked });
      process.stderr.write(`${loaded.path}: valid\n`);
      process.stdout.write(stringify(masked));
    });
}

function registerAudit(program: Command): void {
  const audit = program
    .command("audit")
    .description("the audit trail: every promotion decision, approval, notification and deletion");
  const log = (sub: Command) =>
    sub
      .option("--digest <digest>", "only this digest")
      .option("--env <env>", "only this environment")
      .option("--app <app>", "only this app")
      .option("--kind <kind>", "promotion, approval, notification, escalation, deletion")
      .option("--limit <n>", "the newest N records")
      .option("--config <file>", "shipgate.yaml (for its store: setting)")
      .option("--json", "print as JSON")
      .action(
        async (
          flags: ConfigFlag & {
            digest?: string;
            env?: string;
            app?: string;
            kind?: string;
            limit?: string;
            json?: boolean;
          },
          command: Command,
        ) => {
          const limit = flags.limit === undefined ? undefined : Number(flags.limit);
          if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0))
            throw usage(`--limit must be a positive integer, not "${flags.limit}"`);
          const records = await listAudit(
            {
              ...(flags.digest ? { digest: flags.digest } : {}),
              ...(flags.env ? { environment: flags.env } : {}),
              ...(flags.app ? { app: flags.app } : {}),
              ...(flags.kind ? { kind: flags.kind } : {}),
              ...(limit ? { limit } : {}),
            },
            storeDir(command, maybeLoad(flags)),
          );
          if (flags.json) return printJson(records);
          if (records.length === 0) return void process.stdout.write("no audit records\n");
          const rows = records.map((r) => [
            String(r.seq),
            r.at.replace(/\.\d+Z$/, "Z"),
            r.kind,
            r.action,
            r.outcome,
            r.actor,
            [r.app, r.environment].filter(Boolean).join(" → "),
            r.digest ? shortDigest(r.digest) : "",
          ]);
          process.stdout.write(
            `${table(["SEQ", "AT", "KIND", "ACTION", "OUTCOME", "ACTOR", "APP/ENV", "DIGEST"], rows, new Set([0]))}\n`,
          );
        },
      );
  log(
    audit
      .command("log")
      .description("list audit records, oldest first")
      .addHelpText(
        "after",
        examples("shipgate audit log --env prod", "shipgate audit log --digest sha256:04768ef3... --json"),
      ),
  );
  audit
    .command("verify")
    .description("recompute the hash chain: an edited or removed record is reported (exit 1)")
    .option("--config <file>", "shipgate.yaml (for its store: setting)")
    .option("--json", "print as JSON")
    .addHelpText("after", examples("shipgate audit verify"))
    .action(async (flags: ConfigFlag & { json?: boolean }, command: Command) => {
      const result = await verifyAudit(storeDir(command, maybeLoad(flags)));
      if (flags.json) printJson(result);
      else if (result.ok) process.stdout.write(`audit trail intact: ${result.records} record(s)\n`);
      if (!result.ok) {
        throw new ShipgateError(
          "POLICY_DENIED",
          `audit trail broken at record ${result.broken?.seq}: ${result.broken?.reason}`,
          {
            hint: "the store was modified outside shipgate; restore it from a backup",
          },
        );
      }
    });
}

function registerStatus(program: Command): void {
  program
    .command("status")
    .description(
      "where each digest of an app is: environments, tags, when promoted and by whom (from the audit trail)",
    )
    .argument("<app>", "the app name, e.g. shop")
    .option("--config <file>", "shipgate.yaml (for its store: setting)")
    .option("--json", "print as JSON")
    .addHelpText("after", examples("shipgate status shop", "shipgate status shop --json"))
    .action(async (app: string, flags: ConfigFlag & { json?: boolean }, command: Command) => {
      const digests = await appStatus(app, storeDir(command, maybeLoad(flags)));
      if (flags.json) return printJson(digests);
      if (digests.length === 0) return void process.stdout.write(`no promotion of ${app} recorded\n`);
      const rows = digests.flatMap((d) =>
        d.placements.map((p) => [
          shortDigest(d.digest),
          p.environment,
          p.tag,
          p.from ?? "",
          p.promotedBy,
          p.promotedAt.replace(/\.\d+Z$/, "Z"),
        ]),
      );
      process.stdout.write(`${table(["DIGEST", "ENV", "TAG", "FROM", "BY", "PROMOTED"], rows)}\n`);
    });
}

export function registerPromoteCommands(program: Command): void {
  registerPromote(program);
  registerStatus(program);
  registerApprovals(program);
  registerConfig(program);
  registerAudit(program);
}
