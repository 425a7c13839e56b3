import { existsSync, readdirSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { buildImage } from "../../oci/build.js";
import { parseLocation, storeDirectory } from "../../oci/transports/location.js";
import { openDest } from "../../oci/transports/open.js";
import { examples, globals } from "../context.js";
import { colours } from "../terminal.js";

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** Real OSV records kept beside the repository for tests (see ../shared/vulndb/README.md). */
const sharedVulnDb = join(repositoryRoot, "..", "shared", "vulndb", "npm");

/** The demo's policy: the embedded store holds all three environments (`url: store:`). */
function demoConfig(withScan: boolean): string {
  const vulnerabilities = (high: number) =>
    withScan
      ? `      vulnerabilities:
        max: { critical: 0, high: ${high} }
        exceptions:
          - { id: CVE-2021-44906, reason: "minimist parses only our own build arguments", expires: 2099-12-31 }
`
      : "";
  return `# Written by shipgate demo: three environments in the embedded store, gates between them.
registries:
  local: { url: "store:" }
environments:
  dev: { registry: local, prefix: "dev/" }
  staging: { registry: local, prefix: "staging/" }
  prod: { registry: local, prefix: "prod/" }
promotion:
  staging:
    from: dev
    gates:
${vulnerabilities(5)}      signature: { keys: [keys/cosign.pub] }
      sbom: required
  prod:
    from: staging
    gates:
${vulnerabilities(1)}      signature: { keys: [keys/cosign.pub] }
      sbom: required
      licenses: { deny: ["GPL-*", "AGPL-*"] }
      approval: { approvers: 1 }
signing:
  key: keys/cosign.key
  password: "\${COSIGN_PASSWORD}"
retention:
  dev: { keep_last: 1, keep_semver: false }
`;
}

interface Step {
  argv: string[];
  /** What the step is expected to end with: the demo stops on anything else. */
  exit?: number;
  env?: Record<string, string>;
  note?: string;
}

/**
 * The README's main job: builds a sample image from files in this repository
 * into the embedded store, then runs the whole lifecycle on it with
 * shipgate's own commands: SBOM, scan, sign, verify, promote dev → staging →
 * prod behind gates (with an approval), audit, clean. No registry, no network.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("run the whole lifecycle on a sample image in the embedded store (no registry, no network)")
    .addHelpText("after", examples("shipgate demo --store ./.shipgate/store"))
    .action(async (_flags: unknown, command: Command) => {
      const store = resolve(globals(command).store ?? storeDirectory());
      // A fresh start each time, but only over a store the demo made itself: never a user's store.
      const marker = join(store, ".shipgate-demo");
      if (existsSync(store) && readdirSync(store).length > 0 && !existsSync(marker)) {
        throw new ShipgateError(
          "USAGE",
          `${store} is a store the demo did not make; it starts from an empty one`,
          {
            hint: "run it with --store pointing at a new directory: shipgate --store ./.shipgate/store demo",
          },
        );
      }
      await rm(store, { recursive: true, force: true });
      await mkdir(join(store, "keys"), { recursive: true });
      await writeFile(marker, "made by shipgate demo; the next demo run replaces this store\n");
      // The commands below read the store and the key password from the environment, as a user's would.
      process.env.SHIPGATE_STORE = store;
      process.env.COSIGN_PASSWORD = process.env.COSIGN_PASSWORD ?? "demo-password";
      const env = { ...process.env };
      const c = colours(process.stdout);
      const say = (text: string) => process.stdout.write(`\n${c.bold(text)}\n`);

      for (const [tag, created] of [
        ["0.9.0", "2023-11-01T00:00:00Z"],
        ["1.0.0", "2024-01-15T00:00:00Z"],
      ] as const) {
        say(`# Build examples/sample-app as store:dev/app:${tag}`);
        const dest = await openDest(parseLocation(`store:dev/app:${tag}`, env));
        const built = await buildImage(join(repositoryRoot, "examples", "sample-app"), dest, tag, {
          prefix: "/app",
          created: new Date(created),
          entrypoint: ["/app/serve.sh"],
          labels: {
            "org.opencontainers.image.title": "shipgate sample app",
            "org.opencontainers.image.version": tag,
          },
        });
        process.stdout.write(`built store:dev/app:${tag} ${built.digest}\n`);
      }

      const withScan = existsSync(sharedVulnDb);
      const config = join(store, "shipgate.yaml");
      await writeFile(config, demoConfig(withScan));
      const cfg = ["--config", config];
      const image = "store:dev/app:1.0.0";
      const steps: Step[] = [
        { argv: ["inspect", image] },
        { argv: ["sbom", image] },
        ...(withScan
          ? [
              { argv: ["db", "import", sharedVulnDb] },
              {
                argv: ["scan", image],
                note: "two advisories: one critical (excepted in the policy), one high",
              },
            ]
          : []),
        { argv: ["key", "generate", "--output-prefix", join(store, "keys", "cosign")] },
        { argv: ["sign", "--key", join(store, "keys", "cosign.key"), image] },
        { argv: ["verify", "--key", join(store, "keys", "cosign.pub"), image] },
        { argv: ["sbom", image, "--format", "spdx-json", "-o", join(store, "app.spdx.json")] },
        { argv: ["sbom", "attach", image, "--sbom", join(store, "app.spdx.json")] },
        { argv: ["policy", "check", ...cfg] },
        { argv: ["promote", "app:1.0.0", "--to", "staging", ...cfg], env: { SHIPGATE_USER: "dev-alice" } },
        {
          argv: ["promote", "app:1.0.0", "--to", "prod", ...cfg],
          env: { SHIPGATE_USER: "dev-alice" },
          exit: 1,
          note: "prod needs one approval from someone other than the requester",
        },
        { argv: ["approvals", "list", ...cfg] },
        { argv: ["approvals", "approve", "@pending", ...cfg], env: { SHIPGATE_USER: "ops-bob" } },
        { argv: ["promote", "app:1.0.0", "--to", "prod", ...cfg], env: { SHIPGATE_USER: "dev-alice" } },
        { argv: ["verify", "--key", join(store, "keys", "cosign.pub"), "store:prod/app:1.0.0"] },
        { argv: ["status", "app", ...cfg] },
        { argv: ["audit", "verify", ...cfg] },
        { argv: ["tags", "store:dev/app", "--omit-digest-tags"] },
        {
          argv: ["clean", "dev", ...cfg],
          note: "the plan: keep_last 1 in dev; 1.0.0 is also in staging and prod",
        },
        { argv: ["clean", "dev", "--apply", ...cfg] },
        { argv: ["tags", "store:dev/app", "--omit-digest-tags"] },
        { argv: ["du"] },
      ];
      if (!withScan) {
        say(`(no vulnerability records at ${sharedVulnDb}: the demo skips the scan and its gate)`);
      }
      const { main } = await import("../main.js");
      for (const step of steps) {
        let argv = step.argv;
        if (argv[2] === "@pending")
          argv = [argv[0] as string, argv[1] as string, await pendingApproval(store), ...argv.slice(3)];
        const prefix = step.env
          ? `${Object.entries(step.env)
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")} `
          : "";
        say(`$ ${prefix}shipgate ${argv.join(" ")}`);
        if (step.note) process.stdout.write(`${c.dim(`# ${step.note}`)}\n`);
        const saved = { ...process.env };
        Object.assign(process.env, step.env ?? {});
        const code = await main(["node", "shipgate", "--store", store, ...argv]);
        process.env = saved;
        if (code !== (step.exit ?? 0)) {
          throw new ShipgateError(
            "IO",
            `demo step "shipgate ${argv.join(" ")}" exited ${code}, expected ${step.exit ?? 0}`,
          );
        }
      }
      say(
        "Done: in the embedded store, build → SBOM → scan → sign → promote dev → staging → prod (approved) → clean",
      );
    });
}

/** The id of the one pending approval request (the demo just created it). */
async function pendingApproval(store: string): Promise<string> {
  const { openStore } = await import("../../store/store.js");
  const { listApprovals } = await import("../../promote/approvals.js");
  const db = await openStore(store);
  try {
    const first = (await listApprovals(db, { status: "pending" }))[0];
    if (first === undefined)
      throw new ShipgateError("NOT_FOUND", "the demo expected a pending approval request");
    return first.id;
  } finally {
    await db.destroy();
  }
}
