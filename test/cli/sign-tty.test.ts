// The password prompt on a real terminal (tmux): asked twice for a new key,
// never echoed, and a mismatch is refused.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, sleep } from "../harness/util.js";

const bin = join(import.meta.dirname, "..", "..", "bin", "shipgate.js");
const sessions: string[] = [];

function tmux(...args: string[]): string {
  return execFileSync("tmux", args, { encoding: "utf8" });
}

/** Starts the command in a fresh tmux session; returns a function reading the screen. */
function terminal(command: string): { type: (text: string) => void; screen: () => string } {
  const name = `shipgate-sign-${process.pid}-${sessions.length}`;
  sessions.push(name);
  const env = `env -u COSIGN_PASSWORD -u SHIPGATE_PASSWORD NO_COLOR=1 PATH=${process.env.PATH ?? ""}`;
  tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    "150",
    "-y",
    "20",
    `${env} ${command}; echo "EXIT=$?"; sleep 60`,
  );
  return {
    type: (text) => void tmux("send-keys", "-t", name, text, "Enter"),
    screen: () => tmux("capture-pane", "-t", name, "-p"),
  };
}

async function waitFor(read: () => string, text: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const screen = read();
    if (screen.includes(text)) return screen;
    await sleep(100);
  }
  throw new Error(`"${text}" never appeared; screen:\n${read()}`);
}

afterEach(() => {
  for (const name of sessions.splice(0)) execFileSync("tmux", ["kill-session", "-t", name]);
});

describe("password prompt on a TTY", () => {
  it("key generate asks twice without echo; the key opens with that password", async () => {
    const dir = makeTempDir("shipgate-tty-");
    const t = terminal(`${process.execPath} ${bin} key generate --output-prefix ${join(dir, "k")}`);
    await waitFor(t.screen, "Enter password for");
    t.type("typed-Secret-1");
    await waitFor(t.screen, "Enter password again");
    t.type("typed-Secret-1");
    const screen = await waitFor(t.screen, "EXIT=");
    expect(screen).toContain("EXIT=0");
    expect(screen).not.toContain("typed-Secret-1");
    expect(existsSync(join(dir, "k.key"))).toBe(true);

    const check = terminal(`${process.execPath} ${bin} key public --key ${join(dir, "k.key")}`);
    await waitFor(check.screen, "Enter password for");
    check.type("typed-Secret-1");
    const shown = await waitFor(check.screen, "EXIT=");
    expect(shown).toContain("EXIT=0");
    expect(shown).toContain(readFileSync(join(dir, "k.pub"), "utf8").split("\n")[1]);
  });

  it("two different passwords are refused (exit 2) and nothing is written", async () => {
    const dir = makeTempDir("shipgate-tty-");
    const t = terminal(`${process.execPath} ${bin} key generate --output-prefix ${join(dir, "k")}`);
    await waitFor(t.screen, "Enter password for");
    t.type("one");
    await waitFor(t.screen, "Enter password again");
    t.type("two");
    const screen = await waitFor(t.screen, "EXIT=");
    expect(screen).toContain("do not match");
    expect(screen).toContain("EXIT=2");
    expect(existsSync(join(dir, "k.key"))).toBe(false);
  });
});
