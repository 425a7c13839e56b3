import type { Command } from "commander";
import {
  type ApprovalRequest,
  type ApprovalStatus,
  approve,
  listApprovals,
  reject,
} from "../../promote/approvals.js";
import { escalateDue } from "../../promote/escalation.js";
import { decidedNotice, deliver } from "../../promote/notices.js";
import { currentUser } from "../../store/audit.js";
import { examples, printJson, usage } from "../context.js";
import { relativeTime, table } from "../format.js";
import { type ConfigFlag, load, maybeLoad, storeDir, withDb } from "./promote-context.js";

// `shipgate approvals`: list, approve, reject, escalate.

function approvalRows(requests: ApprovalRequest[]): string[][] {
  return requests.map((r) => [
    r.id,
    r.status,
    `${r.app}:${r.tag}`,
    `${r.from ?? "?"} → ${r.to}`,
    r.requester,
    `${r.approvers.length}/${r.required}`,
    relativeTime(new Date(r.createdAt)),
  ]);
}

export function registerApprovals(program: Command): void {
  const approvals = program
    .command("approvals")
    .description("list, approve, reject and escalate promotion approval requests");
  approvals
    .command("list")
    .description("approval requests (pending ones by default)")
    .option("--all", "every request, decided ones too")
    .option("--status <status>", "pending, approved or rejected")
    .option("--config <file>", "shipgate.yaml (for its store: setting)")
    .option("--json", "print as JSON")
    .addHelpText("after", examples("shipgate approvals list", "shipgate approvals list --all --json"))
    .action(
      async (flags: ConfigFlag & { all?: boolean; status?: string; json?: boolean }, command: Command) => {
        const status = flags.all ? undefined : ((flags.status ?? "pending") as ApprovalStatus);
        if (status !== undefined && !["pending", "approved", "rejected"].includes(status))
          throw usage(`unknown status "${status}"`, "use pending, approved or rejected");
        const list = await withDb(storeDir(command, maybeLoad(flags)), (db) =>
          listApprovals(db, status ? { status } : {}),
        );
        if (flags.json) return printJson(list);
        if (list.length === 0)
          return void process.stdout.write(
            status ? `no ${status} approval requests\n` : "no approval requests\n",
          );
        process.stdout.write(
          `${table(["ID", "STATUS", "IMAGE", "PROMOTION", "REQUESTER", "APPROVALS", "REQUESTED"], approvalRows(list))}\n`,
        );
      },
    );

  for (const verb of ["approve", "reject"] as const) {
    approvals
      .command(verb)
      .description(
        verb === "approve"
          ? "approve a request (not your own): who is $SHIPGATE_USER or the OS user"
          : "reject a request, with a reason",
      )
      .argument("<id>", "the request id (from `shipgate approvals list`)")
      .option("--reason <text>", verb === "reject" ? "why (required)" : "a note kept in the audit trail")
      .option("--config <file>", "shipgate.yaml (to notify escalation channels that the request is decided)")
      .option("--json", "print the request as JSON")
      .addHelpText(
        "after",
        examples(
          verb === "approve"
            ? "SHIPGATE_USER=bob shipgate approvals approve apr-1a2b3c4d"
            : 'shipgate approvals reject apr-1a2b3c4d --reason "CVE fix pending"',
        ),
      )
      .action(
        async (id: string, flags: ConfigFlag & { reason?: string; json?: boolean }, command: Command) => {
          const loaded = maybeLoad(flags);
          const request = await withDb(storeDir(command, loaded), async (db) => {
            const decided = await (verb === "approve" ? approve : reject)(db, {
              id,
              who: currentUser(),
              reason: flags.reason,
            });
            // An escalation opened an incident: close it once the request is decided.
            if (decided.status !== "pending" && decided.escalatedAt && loaded) {
              const channels = loaded.config.promotion[decided.to]?.gates.approval?.escalate ?? [];
              await deliver(db, loaded.config, channels, decidedNotice(decided, new Date()));
            }
            return decided;
          });
          if (flags.json) return printJson(request);
          const rest =
            request.status === "pending"
              ? `; ${request.approvers.length} of ${request.required} approvals`
              : "";
          process.stdout.write(
            `${request.id}: ${request.status}${rest}${request.status === "approved" ? `; run \`shipgate promote ${request.app}:${request.tag} --to ${request.to}\`` : ""}\n`,
          );
        },
      );
  }

  approvals
    .command("escalate")
    .description(
      "notify the escalation channels of every pending request past its timeout (run it from cron)",
    )
    .option("--config <file>", "shipgate.yaml")
    .option("--json", "print what was escalated as JSON")
    .addHelpText("after", examples("shipgate approvals escalate --config /etc/shipgate/shipgate.yaml"))
    .action(async (flags: ConfigFlag & { json?: boolean }, command: Command) => {
      const loaded = load(flags);
      const done = await withDb(storeDir(command, loaded), (db) => escalateDue(db, loaded.config));
      if (flags.json)
        return printJson(
          done.map((e) => ({ id: e.request.id, channels: e.channels, deliveries: e.deliveries })),
        );
      if (done.length === 0) return void process.stdout.write("nothing to escalate\n");
      for (const e of done) {
        const delivered = e.deliveries
          .map((d) => `${d.channel} ${d.ok ? "ok" : `failed: ${d.error}`}`)
          .join(", ");
        process.stdout.write(
          `${e.request.id} escalated: ${delivered || "no escalation channels configured"}\n`,
        );
      }
    });
}
