import { Command, CommanderError } from "commander";
import { exitCodeFor, ShipgateError } from "../errors.js";
import { closeClients } from "../oci/transports/registry.js";
import { registerAuthCommands } from "./commands/auth.js";
import { registerCleanCommands } from "./commands/clean.js";
import { registerCopyCommands } from "./commands/copy.js";
import { registerDemoCommand } from "./commands/demo.js";
import { registerManageCommands } from "./commands/manage.js";
import { registerPromoteCommands } from "./commands/promote.js";
import { registerReadCommands } from "./commands/read.js";
import { registerSbomCommands } from "./commands/sbom.js";
import { registerScanCommands } from "./commands/scan.js";
import { registerSignCommands } from "./commands/sign.js";
import { colours } from "./terminal.js";

import { VERSION } from "./version.js";

export { VERSION };

export function buildProgram(): Command {
  const program = new Command("shipgate")
    .description(
      "Move, inspect and clean container images across OCI registries, oci: layouts and the embedded store.",
    )
    .version(VERSION)
    .option("--insecure", "allow plain HTTP and unverified TLS to registries (loopback always may use HTTP)")
    .option("--ca-file <pem>", "trust this CA bundle for registry TLS")
    .option(
      "--store <dir>",
      "the embedded store directory (default $SHIPGATE_STORE or ~/.local/share/shipgate/store)",
    )
    .showHelpAfterError("(run with --help for usage and examples)")
    .exitOverride()
    .addHelpText(
      "after",
      `
Image locations:
  REGISTRY/REPO[:TAG|@DIGEST]   a registry (docker:// may be written in front)
  oci:PATH[:TAG]                an OCI image layout directory
  docker-archive:FILE[:REF]     a docker save tarball (read only)
  store:REPO[:TAG]              the embedded store (an OCI layout per repository)

Exit codes: 0 ok, 1 a policy said no, 2 usage or config error, 3 runtime failure.

Examples:
  $ shipgate copy oci:../shared/images/oci:debian-base localhost:5000/base:bookworm
  $ shipgate inspect localhost:5000/base:bookworm
  $ shipgate demo`,
    );
  registerReadCommands(program);
  registerCopyCommands(program);
  registerManageCommands(program);
  registerAuthCommands(program);
  registerSbomCommands(program);
  registerScanCommands(program);
  registerSignCommands(program);
  registerPromoteCommands(program);
  registerCleanCommands(program);
  registerDemoCommand(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

function describeError(error: unknown): string {
  const c = colours(process.stderr);
  if (error instanceof ShipgateError) {
    return `${c.red("error:")} ${error.message}${error.hint ? `\n${c.dim("hint:")} ${error.hint}` : ""}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${c.red("error:")} ${message}`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander already printed them.
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return 0;
      return 2;
    }
    process.stderr.write(`${describeError(error)}\n`);
    if (process.env.SHIPGATE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  } finally {
    await closeClients();
  }
}
