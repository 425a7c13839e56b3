import { execFile } from "node:child_process";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ShipgateError } from "../../errors.js";
import { DOCKER_HUB } from "../reference.js";

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token realm. */
  identityToken?: string;
  /** A bearer token used as is (`registrytoken`). */
  registryToken?: string;
  /** Where these came from, for messages (never the secret itself). */
  source: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

/** The files consulted, in skopeo's order: REGISTRY_AUTH_FILE, containers auth.json, Docker's config. */
export function credentialFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  files.push(dockerConfigPath(env));
  return files;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), ".docker"), "config.json");
}

/** Where `login` writes: REGISTRY_AUTH_FILE when set (as skopeo does), else Docker's config. */
export function loginFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.REGISTRY_AUTH_FILE ?? dockerConfigPath(env);
}

/** `https://host:port/v1/` → `host:port`; Docker Hub's many spellings → `docker.io`. */
export function normaliseAuthKey(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//, "").split("/")[0] ?? key;
  if (host === "index.docker.io" || host === "registry-1.docker.io") host = DOCKER_HUB;
  return host;
}

async function readConfig(file: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ShipgateError(
      "CREDENTIALS",
      `cannot read credentials file ${file}: ${(error as Error).message}`,
    );
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as DockerConfigFile;
  } catch (error) {
    throw new ShipgateError(
      "CREDENTIALS",
      `credentials file ${file} is not valid JSON: ${(error as Error).message}`,
      {
        hint: "fix or remove the file, then run `shipgate login` again",
      },
    );
  }
}

function fromEntry(entry: AuthEntry, source: string): Credentials | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken, source };
  if (entry.registrytoken) return { registryToken: entry.registrytoken, source };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new ShipgateError("CREDENTIALS", `the "auth" entry in ${source} is not base64 of user:password`);
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password, source };
  }
  return undefined;
}

function findEntry(auths: Record<string, AuthEntry> | undefined, registry: string): AuthEntry | undefined {
  if (auths === undefined) return undefined;
  for (const [key, entry] of Object.entries(auths)) {
    if (normaliseAuthKey(key) === registry) return entry;
  }
  return undefined;
}

function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
}

/** Runs `docker-credential-<helper> <action>` with the docker credential-helper protocol. */
function runHelper(
  helper: string,
  action: "get" | "store" | "erase",
  input: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      `docker-credential-${helper}`,
      [action],
      { timeout: 30_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}${stderr}`.trim();
          reject(Object.assign(error, { helperOutput: output }));
          return;
        }
        resolve(stdout);
      },
    );
    child.stdin?.end(input);
  });
}

async function fromHelper(
  helper: string,
  registry: string,
  env: NodeJS.ProcessEnv,
): Promise<Credentials | undefined> {
  const source = `credential helper docker-credential-${helper}`;
  let stdout: string;
  try {
    stdout = await runHelper(helper, "get", helperServerUrl(registry), env);
  } catch (error) {
    const output = (error as { helperOutput?: string }).helperOutput ?? "";
    if (/credentials not found/i.test(output)) return undefined;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ShipgateError("CREDENTIALS", `${source} is configured for ${registry} but is not installed`, {
        hint: `install docker-credential-${helper} or remove it from your Docker config`,
      });
    }
    throw new ShipgateError(
      "CREDENTIALS",
      `${source} failed for ${registry}: ${output || (error as Error).message}`,
    );
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new ShipgateError("CREDENTIALS", `${source} answered with something that is not JSON`);
  }
  if (!parsed.Secret) return undefined;
  if (parsed.Username === "<token>") return { identityToken: parsed.Secret, source };
  return { username: parsed.Username ?? "", password: parsed.Secret, source };
}

/**
 * Finds credentials for `registry` the way Docker and skopeo do: per-registry
 * credential helper, then the inline entry, then the default credential store.
 */
export async function resolveCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  for (const file of credentialFiles(env)) {
    const config = await readConfig(file);
    if (config === undefined) continue;
    const helper = Object.entries(config.credHelpers ?? {}).find(
      ([key]) => normaliseAuthKey(key) === registry,
    )?.[1];
    if (helper) {
      const found = await fromHelper(helper, registry, env);
      if (found) return found;
    }
    const entry = findEntry(config.auths, registry);
    const inline = entry === undefined ? undefined : fromEntry(entry, file);
    if (inline) return inline;
    if (config.credsStore) {
      const found = await fromHelper(config.credsStore, registry, env);
      if (found) return found;
    }
  }
  return undefined;
}

async function writeConfigAtomically(file: string, config: DockerConfigFile): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
  await rename(temp, file);
}

/** Saves credentials (into the credential store when one is configured), keeping every other key. */
export async function storeCredentials(
  registry: string,
  username: string,
  password: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const file = loginFile(env);
  const config = (await readConfig(file)) ?? {};
  const key = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  const auths = { ...(config.auths ?? {}) };
  for (const existing of Object.keys(auths))
    if (normaliseAuthKey(existing) === registry) delete auths[existing];
  const helper = config.credHelpers?.[registry] ?? config.credsStore;
  if (helper) {
    await runHelper(
      helper,
      "store",
      JSON.stringify({ ServerURL: helperServerUrl(registry), Username: username, Secret: password }),
      env,
    );
    auths[key] = {};
    await writeConfigAtomically(file, { ...config, auths });
    return `credential helper docker-credential-${helper}`;
  }
  auths[key] = { auth: Buffer.from(`${username}:${password}`).toString("base64") };
  await writeConfigAtomically(file, { ...config, auths });
  return file;
}

/** Removes stored credentials; returns false when there were none. */
export async function eraseCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const file = loginFile(env);
  const config = await readConfig(file);
  if (config === undefined) return false;
  const auths = { ...(config.auths ?? {}) };
  let found = false;
  for (const existing of Object.keys(auths)) {
    if (normaliseAuthKey(existing) === registry) {
      delete auths[existing];
      found = true;
    }
  }
  const helper = config.credHelpers?.[registry] ?? config.credsStore;
  if (helper) {
    try {
      await runHelper(helper, "erase", helperServerUrl(registry), env);
      found = true;
    } catch {
      // Nothing stored in the helper for this registry: not an error for logout.
    }
  }
  if (found) await writeConfigAtomically(file, { ...config, auths });
  return found;
}
