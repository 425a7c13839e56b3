/**
 * Environments as places: an environment is a registry plus a repository
 * prefix, so app `shop` in `staging` is `<registry>/staging/shop`.
 */
import { ShipgateError } from "../errors.js";
import { parseReference } from "../oci/reference.js";
import { type Location, parseLocation } from "../oci/transports/location.js";
import type { OpenOptions } from "../oci/transports/open.js";
import type { LoadedConfig } from "../policy/config.js";
import { resolveFromConfig } from "../policy/config.js";

export interface Place {
  environment: string;
  /** `host:port/prefix/app`, or `store:prefix/app` in the embedded store; no tag or digest. */
  repository: string;
  open: OpenOptions;
  /** Where `store:` places live (the store directory), when the registry is the embedded store. */
  storeEnv?: NodeJS.ProcessEnv;
}

/** A registry whose url is `store:` is the embedded store: no server, one OCI layout per repository. */
export function isStoreRegistry(url: string): boolean {
  return url === "store:" || url === "store";
}

function hostOf(url: string): string {
  return url.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "");
}

export function placeOf(
  loaded: LoadedConfig,
  environment: string,
  app: string,
  base: OpenOptions = {},
  storeEnv: NodeJS.ProcessEnv = process.env,
): Place {
  const config = loaded.config;
  const env = config.environments[environment];
  if (env === undefined) {
    throw new ShipgateError("USAGE", `no environment "${environment}" in ${loaded.path}`, {
      hint: `known environments: ${Object.keys(config.environments).join(", ") || "none"}`,
    });
  }
  const registry = config.registries[env.registry];
  if (registry === undefined)
    throw new ShipgateError("CONFIG_INVALID", `environment ${environment}: no registry ${env.registry}`);
  const open: OpenOptions = { ...base };
  if (isStoreRegistry(registry.url)) {
    const repository = `store:${env.prefix}${app}`;
    // Validates the name now, not halfway through a copy.
    parseLocation(`${repository}:x`, storeEnv);
    return { environment, repository, open, storeEnv };
  }
  if (registry.insecure) open.insecure = true;
  if (registry.ca_file) open.caFile = resolveFromConfig(loaded, registry.ca_file);
  const repository = `${hostOf(registry.url)}/${env.prefix}${app}`;
  // Validates the name with the registry grammar now, not halfway through a copy.
  parseReference(`${repository}:x`);
  return { environment, repository, open };
}

export function locationAt(place: Place, reference: string): Location {
  const sep = reference.startsWith("sha256:") ? "@" : ":";
  const text = `${place.repository}${sep}${reference}`;
  if (place.repository.startsWith("store:")) return parseLocation(text, place.storeEnv ?? process.env);
  return { transport: "docker", reference: parseReference(text), explicitReference: true };
}

/** `APP:TAG`; the tag is required (a promotion names the release it moves). */
export function parseAppTag(input: string): { app: string; tag: string } {
  const colon = input.lastIndexOf(":");
  if (colon <= 0 || colon === input.length - 1 || input.includes("@")) {
    throw new ShipgateError("USAGE", `"${input}" is not APP:TAG`, {
      hint: "e.g. shipgate promote shop:1.4.2 --to staging",
    });
  }
  return { app: input.slice(0, colon), tag: input.slice(colon + 1) };
}
