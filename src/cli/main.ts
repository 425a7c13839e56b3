import { Command, CommanderError } from "commander";
import { exitCodeFor, ShipgateError } from "../errors.js";
import { closeClients } from "../oci/transports/registry.js";
import { colours } from "./terminal.js";

import { VERSION } from "./version.js";

export { VERSION };

type Register = (program: Command) => void;

/**
 * Command groups, loaded on demand: a command pays only for the modules it
 * uses (startup is most of a quick command's time: `tags` on 20,000 tags
 * spent more time importing the signing and Kubernetes libraries than
 * listing). `names` are the top-level commands a group registers; a name
 * not listed anywhere (or no command: --help) loads every group, so a
 * missing entry costs time, never correctness.
 */
export const GROUPS: { names: string[]; load: () => Promise<Register> }[] = [
  {
    names: ["ls", "tags", "digest", "manifest", "config", "inspect"],
    load: async () => (await import("./commands/read.js")).registerReadCommands,
  },
  {
    names: ["copy", "cp", "tag"],
    load: async () => (await import("./commands/copy.js")).registerCopyCommands,
  },
  {
    names: ["rm", "delete", "du"],
    load: async () => (await import("./commands/manage.js")).registerManageCommands,
  },
  { names: ["login", "logout"], load: async () => (await import("./commands/auth.js")).registerAuthCommands },
  {
    names: ["sbom", "licenses"],
    load: async () => (await import("./commands/sbom.js")).registerSbomCommands,
  },
  { names: ["scan", "db"], load: async () => (await import("./commands/scan.js")).registerScanCommands },
  {
    names: [
      "key",
      "sign",
      "verify",
      "attest",
      "verify-attestation",
      "verify-blob-attestation",
      "tree",
      "provenance",
    ],
    load: async () => (await import("./commands/sign.js")).registerSignCommands,
  },
  {
    names: ["promote", "status", "approvals", "policy", "audit"],
    load: async () => (await import("./commands/promote.js")).registerPromoteCommands,
  },
  {
    names: ["publish", "build-info"],
    load: async () => (await import("./commands/publish.js")).registerPublishCommands,
  },
  { names: ["clean"], load: async () => (await import("./commands/clean.js")).registerCleanCommands },
  { names: ["demo"], load: async () => (await import("./commands/demo.js")).registerDemoCommand },
];

/** Global options that take a value, so the command name is found after them. */
const GLOBAL_WITH_VALUE = new Set(["--ca-file", "--store"]);

/** The top-level command argv names, if any (`shipgate --store x tags repo` → `tags`). */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") return argv[i + 1];
    if (!arg.startsWith("-")) return arg;
    if (GLOBAL_WITH_VALUE.has(arg)) i++;
  }
  return undefined;
}

/** The program with the command groups `argv` needs (all of them without argv). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const name = argv === undefined ? undefined : commandName(argv);
  const wanted = GROUPS.filter((g) => name !== undefined && g.names.includes(name));
  // One after another: loading them all at once races Node's require() of ES modules inside
  // dependencies ("Cannot require() ES Module ... not yet fully loaded", seen with @npmcli/agent).
  const registers: Register[] = [];
  for (const group of wanted.length > 0 ? wanted : GROUPS) registers.push(await group.load());
  return programWith(registers);
}

function programWith(registers: Register[]): Command {
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
  for (const register of registers) register(program);
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
  let program: Command;
  try {
    program = await buildProgram(argv);
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    return 3;
  }
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
