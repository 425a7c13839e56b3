import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { buildImage } from "../../oci/build.js";
import { parseLocation, storeDirectory } from "../../oci/transports/location.js";
import { openDest } from "../../oci/transports/open.js";
import { examples, globals } from "../context.js";
import { colours } from "../terminal.js";

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/**
 * The README's main job: builds a sample image from files in this repository
 * into the embedded store, then runs shipgate's own commands on it. No network.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "build a sample image into the embedded store and run the commands on it (no network needed)",
    )
    .addHelpText("after", examples("shipgate demo --store ./.shipgate/store"))
    .action(async (_flags: unknown, command: Command) => {
      const store = resolve(globals(command).store ?? storeDirectory());
      await mkdir(store, { recursive: true });
      const env = { ...process.env, SHIPGATE_STORE: store };
      const c = colours(process.stdout);
      const say = (text: string) => process.stdout.write(`\n${c.bold(text)}\n`);

      say(`# Build examples/sample-app into the embedded store at ${store}`);
      const dest = await openDest(parseLocation("store:demo/app:1.0.0", env));
      const built = await buildImage(join(repositoryRoot, "examples", "sample-app"), dest, "1.0.0", {
        prefix: "/app",
        created: new Date("2024-01-15T00:00:00Z"),
        entrypoint: ["/app/serve.sh"],
        labels: {
          "org.opencontainers.image.title": "shipgate sample app",
          "org.opencontainers.image.version": "1.0.0",
        },
      });
      process.stdout.write(`built store:demo/app:1.0.0 ${built.digest}\n`);

      const { buildProgram } = await import("../main.js");
      const steps: string[][] = [
        ["inspect", "store:demo/app:1.0.0"],
        ["tag", "store:demo/app:1.0.0", "stable"],
        ["tags", "store:demo/app"],
        ["copy", "store:demo/app:1.0.0", "store:demo/app-staging:1.0.0"],
        ["digest", "store:demo/app-staging:1.0.0"],
        ["copy", "store:demo/app-staging:1.0.0", `oci:${join(store, "..", "export")}:app-1.0.0`],
        ["ls"],
        ["du"],
        ["rm", "--yes", "store:demo/app:stable"],
        ["tags", "store:demo/app"],
      ];
      for (const step of steps) {
        say(`$ shipgate ${step.join(" ")}`);
        const argv = ["node", "shipgate", "--store", store, ...step];
        await (await buildProgram(argv)).parseAsync(argv);
      }
      say("Done: every command above ran on the embedded store, with no registry and no network.");
    });
}
