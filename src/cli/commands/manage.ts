import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { parseReference } from "../../oci/reference.js";
import { applyRemoval, planRemoval } from "../../oci/remove.js";
import { OciLayout } from "../../oci/transports/layout.js";
import { storeDirectory } from "../../oci/transports/location.js";
import { openSource, referenceOf } from "../../oci/transports/open.js";
import { RegistryRepository } from "../../oci/transports/registry.js";
import { repositoryUsage, summarise } from "../../oci/usage.js";
import { examples, globals, location, openOptions, printJson, usage } from "../context.js";
import { humanSize, shortDigest, table } from "../format.js";
import { listRepositories } from "./read.js";

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Destructive commands act only with --yes, or after a "y" typed on a terminal. */
async function confirmOrRefuse(yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw usage("not removed: confirm with --yes", "nothing was changed");
  if (!(await confirm(question))) throw usage("not removed: cancelled", "nothing was changed");
}

export function registerManageCommands(program: Command): void {
  program
    .command("rm")
    .alias("delete")
    .description("remove a tag (only that tag) or a manifest by digest (with its signatures and attachments)")
    .argument("<image>", "REPO:TAG removes one tag; REPO@sha256:… removes the manifest")
    .option("-y, --yes", "do not ask")
    .option("--dry-run", "show the plan and stop")
    .option("--json", "print the plan and result as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate rm localhost:5000/team/app:1.0-rc1",
        "shipgate rm --yes localhost:5000/team/app@sha256:3b1f…",
        "shipgate rm --dry-run localhost:5000/team/app:old",
      ),
    )
    .action(
      async (image: string, flags: { yes?: boolean; dryRun?: boolean; json?: boolean }, command: Command) => {
        const loc = location(command, image);
        const reference = referenceOf(loc);
        if (reference === undefined || (loc.transport === "docker" && !loc.explicitReference)) {
          throw usage(
            `rm needs a tag or digest: "${image}" names a repository`,
            `e.g. shipgate rm ${image}:TAG`,
          );
        }
        if (loc.transport === "docker-archive") throw usage("docker-archive: files are read-only");
        if (loc.transport === "oci") {
          const layout = await OciLayout.open(loc.path, { create: false });
          if (flags.dryRun) {
            process.stdout.write(`would remove ${reference} from ${loc.path}\n`);
            return;
          }
          await confirmOrRefuse(flags.yes, `Remove ${reference} from ${loc.path}?`);
          await layout.deleteTag(reference);
          if (flags.json) printJson({ removed: reference, layout: loc.path });
          else
            process.stdout.write(
              `removed ${reference} from ${loc.path} (blobs stay until the layout is cleaned)\n`,
            );
          return;
        }
        const repo = new RegistryRepository(loc.reference, openOptions(command));
        const plan = await planRemoval(repo, reference);
        const lines: string[] = [];
        if (plan.kind === "tag") {
          lines.push(`remove tag ${plan.reference} from ${repo.name} (${shortDigest(plan.digest)})`);
          if (plan.otherTags.length > 0)
            lines.push(
              `  kept: ${plan.otherTags.length} other tag(s) on the same digest: ${plan.otherTags.join(", ")}`,
            );
          else lines.push("  the manifest stays, untagged, for retention to collect");
        } else {
          lines.push(`delete manifest ${plan.digest} from ${repo.name}`);
          if (plan.otherTags.length > 0) lines.push(`  tags that go with it: ${plan.otherTags.join(", ")}`);
          for (const a of plan.attachments) lines.push(`  attachment ${shortDigest(a.digest)} (${a.via})`);
        }
        if (!flags.json) process.stderr.write(`${lines.join("\n")}\n`);
        if (flags.dryRun) {
          if (flags.json) printJson({ plan });
          return;
        }
        await confirmOrRefuse(flags.yes, "Proceed?");
        const result = await applyRemoval(repo, plan);
        if (flags.json) printJson({ plan, result });
        else
          process.stdout.write(
            `removed ${plan.reference} (${result.method}, ${result.deleted.length} manifest(s))\n`,
          );
      },
    );

  program
    .command("du")
    .description(
      "storage used by a repository, a registry, or the embedded store (shared blobs counted once)",
    )
    .argument("[target]", "REPO, a registry host, oci:PATH; omit for the embedded store")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples("shipgate du localhost:5000/team/app", "shipgate du localhost:5000", "shipgate du"),
    )
    .action(async (target: string | undefined, flags: { json?: boolean }, command: Command) => {
      const seen = new Map<string, number>();
      const repos: Awaited<ReturnType<typeof repositoryUsage>>[] = [];
      const isRegistryHost =
        target !== undefined &&
        !target.includes("/") &&
        !target.includes(":/") &&
        !target.startsWith("oci:") &&
        !target.startsWith("store:") &&
        (target.includes(".") || target.includes(":") || target === "localhost");
      if (target === undefined || isRegistryHost) {
        const names = await listRepositories(command, target);
        for (const name of names) {
          const loc =
            target === undefined
              ? location(command, `store:${name}`)
              : {
                  transport: "docker" as const,
                  reference: parseReference(`${target}/${name}`),
                  explicitReference: false,
                };
          repos.push(await repositoryUsage(await openSource(loc, openOptions(command)), seen));
        }
        if (target === undefined && names.length === 0) {
          const dir = globals(command).store ?? storeDirectory();
          process.stderr.write(`the store at ${dir} is empty\n`);
        }
      } else {
        const loc = location(command, target);
        if (loc.transport === "docker" && loc.explicitReference)
          throw usage("du takes a repository or registry, not a tag");
        repos.push(await repositoryUsage(await openSource(loc, openOptions(command)), seen));
      }
      const report = summarise(repos, seen);
      if (flags.json) {
        printJson(report);
        return;
      }
      const rows = report.repositories.map((r) => [
        r.name,
        String(r.tags),
        String(r.manifests),
        String(r.blobs),
        humanSize(r.bytes),
      ]);
      process.stdout.write(
        `${table(["REPOSITORY", "TAGS", "MANIFESTS", "BLOBS", "SIZE"], rows, new Set([1, 2, 3, 4]))}\n`,
      );
      if (report.repositories.length > 1) {
        process.stdout.write(
          `\nTotal: ${humanSize(report.totalBytes)} in ${report.uniqueBlobs} unique blobs and manifests (shared ones counted once)\n`,
        );
      }
    });
}
