import type { Command } from "commander";

export function registerPromoteCommands(_program: Command): void {}
