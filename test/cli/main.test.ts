import { describe, expect, it } from "vitest";
import { buildProgram, commandName, GROUPS } from "../../src/cli/main.js";

describe("command groups loaded on demand", () => {
  it("maps every top-level command (and alias) to the one group that registers it", async () => {
    const all = await buildProgram();
    const registered = all.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    const mapped = GROUPS.flatMap((g) => g.names);
    expect([...registered].sort()).toEqual([...mapped].sort());
    for (const name of registered) {
      const argv = ["node", "shipgate", name];
      const program = await buildProgram(argv);
      expect(
        program.commands.some((c) => c.name() === name || c.aliases().includes(name)),
        name,
      ).toBe(true);
    }
  });

  it("finds the command after global options", () => {
    expect(commandName(["node", "shipgate", "--store", "x", "tags", "repo"])).toBe("tags");
    expect(commandName(["node", "shipgate", "--insecure", "--ca-file", "ca.pem", "copy", "a", "b"])).toBe(
      "copy",
    );
    expect(commandName(["node", "shipgate", "--store=x", "ls"])).toBe("ls");
    expect(commandName(["node", "shipgate", "--help"])).toBeUndefined();
  });
});
