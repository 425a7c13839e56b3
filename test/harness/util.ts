// Small shared helpers for the integration harness: free ports, temp dirs and
// child processes that are cleaned up even when a test forgets to, or the test
// process exits early.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import http, { type IncomingHttpHeaders } from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const liveDirs = new Set<string>();
const liveGroups = new Set<number>();

/** Synchronous last-chance cleanup: kill process groups, delete temp dirs. */
function cleanupSync(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", cleanupSync);
  // A signal handler replaces Node's default "die"; re-raise when nobody else
  // listens so the process still terminates with the signal.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      cleanupSync();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** A fresh temp dir that is removed on exit if the owner does not remove it. */
export function makeTempDir(prefix: string): string {
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), `shipgate-${prefix}-`));
  liveDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  liveDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Track a child spawned with `detached: true` (its own process group) so the
 * whole group can be killed on exit. Returns a function that kills it now.
 */
export function trackProcessGroup(child: ChildProcess): () => Promise<void> {
  installExitHooks();
  const pid = child.pid;
  if (pid === undefined) throw new Error("child process has no pid (spawn failed)");
  liveGroups.add(pid);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return async () => {
    liveGroups.delete(pid);
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // group already gone
      }
    };
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
    // The group may outlive its leader for a moment; make sure nothing is left.
    signal("SIGKILL");
  };
}

/** A port that was free a moment ago (listen on 0, close). Callers must retry on EADDRINUSE. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Port of a listening server bound to 127.0.0.1:0. */
export function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.removeListener("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export interface ProbeResult {
  status: number;
  headers: IncomingHttpHeaders;
}

/** One GET without keep-alive (so no pooled socket outlives the server). */
export function probe(url: string, timeoutMs = 1000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms: GET ${url}`)));
    req.on("error", reject);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
