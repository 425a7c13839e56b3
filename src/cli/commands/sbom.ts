import type { Command } from "commander";

export function registerSbomCommands(_program: Command): void {}
