import type { Command } from "commander";
import { ShipgateError } from "../errors.js";
import { type Platform, parsePlatform } from "../oci/manifest.js";
import { type Location, parseLocation } from "../oci/transports/location.js";
import type { OpenOptions } from "../oci/transports/open.js";

/** Options every command shares, set on the root program. */
export interface GlobalOptions {
  insecure?: boolean;
  caFile?: string;
  store?: string;
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function openOptions(command: Command, extra: Partial<OpenOptions> = {}): OpenOptions {
  const g = globals(command);
  const options: OpenOptions = { ...extra };
  if (g.insecure) options.insecure = true;
  if (g.caFile !== undefined) options.caFile = g.caFile;
  return options;
}

export function location(command: Command, input: string): Location {
  const g = globals(command);
  const env = g.store === undefined ? process.env : { ...process.env, SHIPGATE_STORE: g.store };
  return parseLocation(input, env);
}

export function platformOption(value: string | undefined): Platform | undefined {
  return value === undefined ? undefined : parsePlatform(value);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function usage(message: string, hint?: string): ShipgateError {
  return new ShipgateError("USAGE", message, hint === undefined ? {} : { hint });
}

/** Help text footer: a real example for every command. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}
