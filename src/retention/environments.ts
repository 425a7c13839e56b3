import { ShipgateError } from "../errors.js";
import { parseReference, type Reference } from "../oci/reference.js";
import type { Config } from "../policy/config.js";

/** One repository of an environment: `<registry url>/<prefix><app>`. */
export interface EnvironmentRepository {
  environment: string;
  app: string;
  reference: Reference;
  insecure: boolean;
  caFile?: string;
}

function registryOf(
  config: Config,
  environment: string,
): { host: string; insecure: boolean; caFile?: string } {
  const env = config.environments[environment];
  if (env === undefined) {
    throw new ShipgateError("USAGE", `no environment "${environment}" in the config`, {
      hint: `environments: ${Object.keys(config.environments).join(", ") || "(none)"}`,
    });
  }
  const registry = config.registries[env.registry];
  if (registry === undefined)
    throw new ShipgateError("CONFIG_INVALID", `environment ${environment}: unknown registry ${env.registry}`);
  // The url may carry a scheme; loopback and `insecure` decide plain HTTP.
  const host = registry.url.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
  return {
    host,
    insecure: registry.insecure === true,
    ...(registry.ca_file ? { caFile: registry.ca_file } : {}),
  };
}

export function environmentRepository(
  config: Config,
  environment: string,
  app: string,
): EnvironmentRepository {
  const { host, insecure, caFile } = registryOf(config, environment);
  const prefix = config.environments[environment]?.prefix ?? "";
  return {
    environment,
    app,
    reference: { ...parseReference(`${host}/${prefix}${app}`), tag: undefined },
    insecure,
    ...(caFile ? { caFile } : {}),
  };
}

/** The environment's registry host and repository prefix, to find its apps in the catalog. */
export function environmentScope(
  config: Config,
  environment: string,
): { host: string; prefix: string; insecure: boolean; caFile?: string } {
  const r = registryOf(config, environment);
  return { ...r, prefix: config.environments[environment]?.prefix ?? "" };
}

/**
 * Environments an image from `environment` is promoted into, directly or further down the chain
 * (dev → staging → prod gives staging and prod for dev).
 */
export function laterEnvironments(config: Config, environment: string): string[] {
  const out: string[] = [];
  let frontier = [environment];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const from of frontier)
      for (const [env, p] of Object.entries(config.promotion))
        if (p.from === from && env !== environment && !out.includes(env)) {
          out.push(env);
          next.push(env);
        }
    frontier = next;
  }
  return out;
}
