import type { Command } from "commander";
import { parseReference } from "../../oci/reference.js";
import { RegistryClient } from "../../oci/registry/client.js";
import { eraseCredentials, storeCredentials } from "../../oci/registry/credentials.js";
import { examples, globals, usage } from "../context.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** Reads a password from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  let value = "";
  try {
    for await (const chunk of stdin) {
      for (const char of (chunk as Buffer).toString("utf8")) {
        if (char === "\r" || char === "\n") return value;
        if (char === "\u0003") throw usage("cancelled");
        if (char === "\u007f") value = value.slice(0, -1);
        else value += char;
      }
    }
    return value;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

function registryHost(input: string): string {
  const host = input.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  // Validates the host with the reference grammar.
  return parseReference(`${host}/x`).registry;
}

export function registerAuthCommands(program: Command): void {
  program
    .command("login")
    .description("save credentials for a registry (checked against the registry first)")
    .argument("<registry>", "e.g. registry.example.com or localhost:5000")
    .option("-u, --username <name>", "user name")
    .option("--password-stdin", "read the password from standard input (never pass it as an argument)")
    .addHelpText(
      "after",
      examples('echo "$REGISTRY_PASSWORD" | shipgate login registry.example.com -u ci-bot --password-stdin'),
    )
    .action(
      async (registry: string, flags: { username?: string; passwordStdin?: boolean }, command: Command) => {
        const host = registryHost(registry);
        const username = flags.username ?? process.env.SHIPGATE_USERNAME;
        if (!username) throw usage("login needs a user name", "pass -u NAME");
        let password: string;
        if (flags.passwordStdin) password = await readStdin();
        else if (process.env.SHIPGATE_PASSWORD) password = process.env.SHIPGATE_PASSWORD;
        else if (process.stdin.isTTY) password = await promptHidden("Password: ");
        else throw usage("no password given", "pipe it in with --password-stdin, or set SHIPGATE_PASSWORD");
        if (password === "") throw usage("the password is empty");
        const g = globals(command);
        const client = new RegistryClient(host, {
          credentials: { username, password, source: "the login command" },
          ...(g.insecure ? { insecure: true } : {}),
          ...(g.caFile ? { caFile: g.caFile } : {}),
          retry: { attempts: 2, baseDelayMs: 200, maxDelayMs: 1000 },
        });
        try {
          await client.checkLogin();
        } finally {
          await client.close();
        }
        const where = await storeCredentials(host, username, password);
        process.stderr.write(`Login succeeded; credentials saved in ${where}\n`);
      },
    );

  program
    .command("logout")
    .description("remove saved credentials for a registry")
    .argument("<registry>")
    .addHelpText("after", examples("shipgate logout registry.example.com"))
    .action(async (registry: string) => {
      const host = registryHost(registry);
      const removed = await eraseCredentials(host);
      process.stderr.write(
        removed ? `Removed credentials for ${host}\n` : `No credentials were saved for ${host}\n`,
      );
    });
}
