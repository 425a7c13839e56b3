import { resolve } from "node:path";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { parseRepository } from "../../oci/reference.js";
import { OciLayout } from "../../oci/transports/layout.js";
import { parseLocation, storeDirectory } from "../../oci/transports/location.js";
import { RegistryRepository } from "../../oci/transports/registry.js";
import { listStoreRepositories } from "../../oci/transports/store.js";
import { configPath, type LoadedConfig, loadConfig, resolveFromConfig } from "../../policy/config.js";
import { type RetentionRules, retentionRulesSchema } from "../../policy/retention-rules.js";
import { isStoreRegistry, placeOf } from "../../promote/environments.js";
import { type RepositoryWriter } from "../../retention/apply.js";
import { environmentRepository, environmentScope, laterEnvironments } from "../../retention/environments.js";
import { type RepositoryReader, registryReader } from "../../retention/inventory.js";
import { layoutPromotionTarget, layoutReader, layoutWriter } from "../../retention/layout.js";
import { type PromotionTarget } from "../../retention/plan.js";
import { globals, location, openOptions, usage } from "../context.js";

// What `shipgate clean` works on: repositories, environments of the config, the store; and the rules from flags.

export interface CleanFlags {
  json?: boolean;
  apply?: boolean;
  plan?: string;
  planOut?: string;
  config?: string;
  app?: string;
  keepLast?: string;
  maxAgeDays?: string;
  keepSemver?: boolean;
  keepTag?: string[];
  include?: string[];
  exclude?: string[];
  untaggedDays?: string;
  ecrPolicy?: string;
  deployedFile?: string[];
  kubernetes?: boolean;
  kubeconfig?: string;
  kubeContext?: string;
  namespace?: string[];
  promotedTo?: string[];
  now?: string;
  concurrency?: string;
}

/** What one run cleans: a repository (a registry's or a layout), its rules, and what protects digests in it. */
export interface Target {
  /** As plans name it: `host/repo` (docker://…), `store:dev/app` or `oci:PATH`. */
  name: string;
  reader: RepositoryReader;
  writer: RegistryRepository | RepositoryWriter;
  environment?: string;
  app?: string;
  rules: RetentionRules;
  promotedTo: PromotionTarget[];
}

function registryTarget(repo: RegistryRepository): Pick<Target, "name" | "reader" | "writer"> {
  return { name: repo.name, reader: registryReader(repo), writer: repo };
}

/** A layout of the embedded store (or oci:PATH); it must exist: clean never creates one. */
async function layoutTarget(name: string, dir: string): Promise<Pick<Target, "name" | "reader" | "writer">> {
  const layout = await OciLayout.open(dir, { create: false });
  return { name, reader: layoutReader(layout, name), writer: layoutWriter(layout, name) };
}

function storeLayoutPromotion(name: string, dir: string): PromotionTarget {
  return layoutPromotionTarget(name, async () => {
    try {
      return await OciLayout.open(dir, { create: false });
    } catch (error) {
      // Nothing promoted there yet: the later environment has no repository for this app.
      if (error instanceof ShipgateError && error.code === "LAYOUT_INVALID") return undefined;
      throw error;
    }
  });
}

/** The environment that --store and $SHIPGATE_STORE make: `store:` names resolve under it. */
function storeEnv(command: Command): NodeJS.ProcessEnv {
  const g = globals(command);
  return g.store === undefined ? process.env : { ...process.env, SHIPGATE_STORE: g.store };
}

function isStoreEnvironment(loaded: LoadedConfig, environment: string): boolean {
  const env = loaded.config.environments[environment];
  const registry = env === undefined ? undefined : loaded.config.registries[env.registry];
  return registry !== undefined && isStoreRegistry(registry.url);
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw usage(`${flag} takes a non-negative number, not "${value}"`);
  return n;
}

function rulesFromFlags(flags: CleanFlags): RetentionRules {
  const raw: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) raw[key] = value;
  };
  set("keep_last", integer(flags.keepLast, "--keep-last"));
  set("max_age_days", integer(flags.maxAgeDays, "--max-age-days"));
  set("keep_semver", flags.keepSemver);
  set("keep_tags", flags.keepTag);
  set("include", flags.include);
  set("exclude", flags.exclude);
  set("untagged_days", integer(flags.untaggedDays, "--untagged-days"));
  const parsed = retentionRulesSchema.safeParse(raw);
  if (!parsed.success) throw usage(`invalid rule: ${parsed.error.issues[0]?.message ?? "?"}`);
  return parsed.data;
}

/** Looks like a repository (has a slash, a transport or a registry host), else an environment name. */
function isRepository(target: string): boolean {
  return target.includes("/") || /^(docker:\/\/|store:|oci:)/.test(target);
}

async function repositoryTarget(
  target: string,
  command: Command,
): Promise<Pick<Target, "name" | "reader" | "writer">> {
  if (target.startsWith("store:") || target.startsWith("oci:")) {
    const loc = location(command, target);
    if (loc.transport !== "oci" || loc.reference !== undefined)
      throw usage(
        `clean takes a repository, not an image: "${target}" names a tag or digest`,
        "e.g. shipgate clean store:dev/app --keep-last 5",
      );
    const name = target.startsWith("store:") ? target : `oci:${loc.path}`;
    return layoutTarget(name, loc.path);
  }
  return registryTarget(
    new RegistryRepository(parseRepository(target.replace(/^docker:\/\//, "")), openOptions(command)),
  );
}

export async function resolveTargets(
  target: string,
  flags: CleanFlags,
  command: Command,
): Promise<{ targets: Target[]; configDir?: string }> {
  const flagRules = rulesFromFlags(flags);
  const promoted: PromotionTarget[] = [];
  for (const r of flags.promotedTo ?? []) {
    if (r.startsWith("store:") || r.startsWith("oci:")) {
      const loc = location(command, r);
      if (loc.transport === "oci") promoted.push(storeLayoutPromotion(r, loc.path));
    } else
      promoted.push(
        promotionTarget(
          new RegistryRepository(parseRepository(r.replace(/^docker:\/\//, "")), openOptions(command)),
        ),
      );
  }
  if (isRepository(target)) {
    return {
      targets: [{ ...(await repositoryTarget(target, command)), rules: flagRules, promotedTo: promoted }],
    };
  }
  const loaded = loadConfig(configPath(flags.config));
  const config = loaded.config;
  const scope = environmentScope(config, target);
  const rules: RetentionRules = { ...(config.retention[target] ?? {}), ...flagRules };
  const options = (insecure: boolean, caFile: string | undefined) =>
    openOptions(command, {
      ...(insecure ? { insecure } : {}),
      ...(caFile ? { caFile: resolveFromConfig(loaded, caFile) } : {}),
    });
  const env = storeEnv(command);
  const inStore = isStoreEnvironment(loaded, target);
  let apps: string[];
  if (flags.app !== undefined) apps = [flags.app];
  else if (inStore) {
    // The store's repositories under the environment's prefix (dev/ holds dev/app, dev/team/api).
    const dir =
      globals(command).store === undefined ? storeDirectory() : resolve(globals(command).store ?? "");
    apps = (await listStoreRepositories(dir))
      .filter((name) => name.startsWith(scope.prefix))
      .map((name) => name.slice(scope.prefix.length));
  } else {
    const catalog = new RegistryRepository(
      parseRepository(`${scope.host}/catalog`),
      options(scope.insecure, scope.caFile),
    );
    apps = [];
    for await (const name of catalog.client.catalog())
      if (name.startsWith(scope.prefix)) apps.push(name.slice(scope.prefix.length));
  }
  const later = rules.protect_promoted === false ? [] : laterEnvironments(config, target);
  /** The app's repository in `environment`: a store layout or a registry repository. */
  const where = (environment: string, app: string) => {
    if (isStoreEnvironment(loaded, environment)) {
      const place = placeOf(loaded, environment, app, {}, env);
      const loc = parseLocation(place.repository, env);
      return { store: { name: place.repository, dir: loc.transport === "oci" ? loc.path : "" } };
    }
    const here = environmentRepository(config, environment, app);
    return { registry: new RegistryRepository(here.reference, options(here.insecure, here.caFile)) };
  };
  const targets: Target[] = [];
  for (const app of apps) {
    const here = where(target, app);
    const repo = here.store
      ? await layoutTarget(here.store.name, here.store.dir)
      : registryTarget(here.registry as RegistryRepository);
    targets.push({
      ...repo,
      environment: target,
      app,
      rules,
      promotedTo: [
        ...promoted,
        ...later.map((e) => {
          const there = where(e, app);
          return there.store
            ? storeLayoutPromotion(there.store.name, there.store.dir)
            : promotionTarget(there.registry as RegistryRepository);
        }),
      ],
    });
  }
  return { targets, configDir: loaded.dir };
}

function promotionTarget(repo: RegistryRepository): PromotionTarget {
  return {
    name: repo.name,
    has: async (digest) => (await repo.client.headManifest(repo.repository, digest)) !== undefined,
  };
}

/** Tags read so far, on a terminal only: ProgressBar counts bytes, planning counts tags. */
