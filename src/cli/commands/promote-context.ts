import type { Command } from "commander";
import { storeDirectory } from "../../oci/transports/location.js";
import { configPath, type LoadedConfig, loadConfig, resolveFromConfig } from "../../policy/config.js";
import { ConfigInvalidError } from "../../policy/config-errors.js";
import { openStore, type StoreDb } from "../../store/store.js";
import { globals } from "../context.js";

// What the promotion commands share: the config, the store directory, a database handle.

export interface ConfigFlag {
  config?: string;
}

export function load(flags: ConfigFlag): LoadedConfig {
  return loadConfig(configPath(flags.config));
}

/** `--store`, then the config's `store:`, then $SHIPGATE_STORE / XDG. */
export function storeDir(command: Command, loaded: LoadedConfig | undefined): string {
  const flag = globals(command).store;
  if (flag !== undefined) return flag;
  if (loaded?.config.store !== undefined) return resolveFromConfig(loaded, loaded.config.store);
  return storeDirectory();
}

export async function withDb<T>(dir: string, work: (db: StoreDb) => Promise<T>): Promise<T> {
  const db = await openStore(dir);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** The config when there is one: approvals and audit work without it, but notify only with it. */
export function maybeLoad(flags: ConfigFlag): LoadedConfig | undefined {
  try {
    return load(flags);
  } catch (error) {
    if (
      flags.config === undefined &&
      !(error instanceof ConfigInvalidError) &&
      !process.env.SHIPGATE_CONFIG
    ) {
      return undefined;
    }
    throw error;
  }
}
