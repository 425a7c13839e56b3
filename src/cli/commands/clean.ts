import type { Command } from "commander";

export function registerCleanCommands(_program: Command): void {}
