// Starts a throwaway CNCF distribution registry (Debian's `docker-registry`,
// 2.8.2) on loopback, with filesystem storage in a temp dir and optional
// htpasswd or token auth.
import { execFile, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { startTokenServer, type TokenRequestRecord, type TokenServer } from "./token-server.js";
import { freePort, makeTempDir, probe, removeTempDir, sleep, trackProcessGroup } from "./util.js";

const execFileAsync = promisify(execFile);

export type { TokenRequestRecord } from "./token-server.js";

export const REGISTRY_BINARY = process.env.SHIPGATE_TEST_REGISTRY_BIN ?? "docker-registry";
export const DEFAULT_USERS: Readonly<Record<string, string>> = { shipgate: "s3cret-pw" };

export interface RegistryOptions {
  auth?: "none" | "basic" | "token";
  /** username -> password; defaults to DEFAULT_USERS. The first one is exposed as username/password. */
  users?: Record<string, string>;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT" */
  url: string;
  storageDir: string;
  /** The registry's stdout+stderr, for diagnosing failures. */
  logFile: string;
  username?: string;
  password?: string;
  /** Token auth only: the token endpoint, the service name and every request it served. */
  tokenRealm?: string;
  tokenService?: string;
  tokenRequests?: TokenRequestRecord[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const BIND_ATTEMPTS = 5;

// Run the registry under a tiny shell watchdog: its stdin is a pipe from this
// process, so when we die (even by SIGKILL) the pipe hits EOF and the registry
// is killed instead of lingering. On SIGTERM the shell stops the registry and
// reaps it before exiting, so "shell exited" means "registry gone, port free".
// The registry's own exit status is passed on.
const WATCHDOG = `
exec 3<&0
"$0" serve "$1" </dev/null 3<&- &
reg=$!
trap 'kill -TERM "$reg" 2>/dev/null' TERM INT HUP
(read _ <&3; kill -TERM "$reg" 2>/dev/null) &
dog=$!
wait "$reg"; code=$?
while kill -0 "$reg" 2>/dev/null; do wait "$reg"; code=$?; done
kill "$dog" 2>/dev/null
exit "$code"
`;

function registryConfig(dir: string, port: number, auth: Record<string, unknown> | undefined): string {
  const config: Record<string, unknown> = {
    version: "0.1",
    log: { level: "error", accesslog: { disabled: true }, formatter: "text" },
    storage: {
      filesystem: { rootdirectory: join(dir, "storage") },
      delete: { enabled: true },
      // No background upload purging: nothing should touch storage behind a test's back.
      maintenance: { uploadpurging: { enabled: false } },
    },
    // A fixed secret avoids the "No HTTP secret provided" warning.
    http: { addr: `127.0.0.1:${port}`, secret: "shipgate-test-secret" },
    health: { storagedriver: { enabled: false } },
  };
  if (auth) config.auth = auth;
  // JSON is valid YAML and spares us YAML quoting rules.
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function writeHtpasswd(path: string, users: Record<string, string>): Promise<void> {
  // distribution only accepts bcrypt entries; -C 4 keeps hashing fast for tests.
  const lines = await Promise.all(
    Object.entries(users).map(async ([user, pass]) => {
      const { stdout } = await execFileAsync("htpasswd", ["-nbB", "-C", "4", user, pass]);
      return stdout.trim();
    }),
  );
  await writeFile(path, `${lines.join("\n")}\n`);
}

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8").trim() || "(empty)";
  } catch {
    return "(no log)";
  }
}

interface Running {
  port: number;
  kill: () => Promise<void>;
}

/** One attempt: spawn on a fresh port and wait for /v2/. Returns "port-in-use" so the caller can retry. */
async function launch(
  dir: string,
  logFile: string,
  auth: Record<string, unknown> | undefined,
): Promise<Running | "port-in-use"> {
  const port = await freePort();
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, registryConfig(dir, port, auth));
  const logFd = openSync(logFile, "w");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REGISTRY_")));
  // detached: its own process group, so stop() can kill shell, watchdog and registry together.
  const child = spawn("sh", ["-c", WATCHDOG, REGISTRY_BINARY, configPath], {
    stdio: ["pipe", logFd, logFd],
    detached: true,
    env, // REGISTRY_* variables would override the config file
  });
  closeSync(logFd);
  const kill = trackProcessGroup(child);
  let exited: number | null = null;
  child.once("exit", (code, signal) => {
    exited = code ?? (signal ? 128 : 1);
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) {
      const log = readLog(logFile);
      await kill();
      if (/address already in use/i.test(log)) return "port-in-use";
      throw new Error(`${REGISTRY_BINARY} exited with status ${exited} before answering; log:\n${log}`);
    }
    try {
      const { status } = await probe(`http://127.0.0.1:${port}/v2/`, 500);
      if (status === 200 || status === 401) return { port, kill };
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  await kill();
  throw new Error(
    `${REGISTRY_BINARY} did not answer GET /v2/ within ${START_TIMEOUT_MS} ms; log:\n${readLog(logFile)}`,
  );
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const mode = options.auth ?? "none";
  const users = options.users ?? { ...DEFAULT_USERS };
  const [first] = Object.entries(users);
  const dir = makeTempDir("registry");
  const storageDir = join(dir, "storage");
  const logFile = join(dir, "registry.log");
  let tokenServer: TokenServer | undefined;
  try {
    await mkdir(storageDir);
    let auth: Record<string, unknown> | undefined;
    if (mode === "basic") {
      const path = join(dir, "htpasswd");
      await writeHtpasswd(path, users);
      auth = { htpasswd: { realm: "shipgate-test", path } };
    } else if (mode === "token") {
      tokenServer = await startTokenServer({ dir, users });
      const { realm, service, issuer, certPath: rootcertbundle } = tokenServer;
      auth = { token: { realm, service, issuer, rootcertbundle } };
    }

    let running: Running | "port-in-use" = "port-in-use";
    for (let i = 0; i < BIND_ATTEMPTS && running === "port-in-use"; i++)
      running = await launch(dir, logFile, auth);
    if (running === "port-in-use")
      throw new Error(`could not bind a free port after ${BIND_ATTEMPTS} attempts`);

    const { port, kill } = running;
    const host = `127.0.0.1:${port}`;
    const ts = tokenServer;
    let stopped = false;
    return {
      host,
      url: `http://${host}`,
      storageDir,
      logFile,
      ...(mode !== "none" && first ? { username: first[0], password: first[1] } : {}),
      ...(ts ? { tokenRealm: ts.realm, tokenService: ts.service, tokenRequests: ts.tokenRequests } : {}),
      async stop() {
        if (stopped) return;
        stopped = true;
        await kill();
        await ts?.stop();
        await removeTempDir(dir);
      },
    };
  } catch (err) {
    await tokenServer?.stop();
    await removeTempDir(dir);
    throw err;
  }
}
