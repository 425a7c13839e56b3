import type { Command } from "commander";

export function registerSignCommands(_program: Command): void {}
