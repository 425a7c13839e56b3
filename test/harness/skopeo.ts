// Thin wrappers around the skopeo CLI, used as an independent reference client
// against the loopback test registries (plain HTTP, so TLS verification is off).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeTempDir, removeTempDir } from "./util.js";

const execFileAsync = promisify(execFile);

/** Anything with a registry host and optional credentials; a TestRegistry fits. */
export interface RegistryCredentials {
  host: string;
  username?: string | undefined;
  password?: string | undefined;
}

export interface SkopeoOptions {
  /** Credentials written to a private --authfile, keyed by host. */
  auth?: RegistryCredentials[];
  timeoutMs?: number;
}

/**
 * Runs `skopeo [global] <command> <args>` with an isolated policy and authfile, so
 * the host's ~/.docker/config.json or containers auth never leak into tests.
 */
async function runSkopeo(command: string, args: string[], opts: SkopeoOptions): Promise<Buffer> {
  const dir = makeTempDir("skopeo");
  try {
    const policy = join(dir, "policy.json");
    const authfile = join(dir, "auth.json");
    await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    const auths: Record<string, { auth: string }> = {};
    for (const c of opts.auth ?? []) {
      if (c.username !== undefined && c.password !== undefined) {
        auths[c.host] = { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") };
      }
    }
    await writeFile(authfile, JSON.stringify({ auths }));
    const argv = ["--policy", policy, command, "--authfile", authfile, ...args];
    try {
      const { stdout } = await execFileAsync("skopeo", argv, {
        encoding: "buffer",
        maxBuffer: 64 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 60_000,
        env: { ...process.env, XDG_RUNTIME_DIR: dir }, // no stray auth.json from the runtime dir
      });
      return stdout;
    } catch (err) {
      const e = err as Error & { stderr?: Buffer; code?: unknown };
      const stderr = e.stderr?.toString("utf8").trim() ?? "";
      throw new Error(
        `skopeo ${command} ${args.join(" ")} failed (${String(e.code)}): ${stderr || e.message}`,
      );
    }
  } finally {
    await removeTempDir(dir);
  }
}

/** `skopeo copy src dst`, e.g. ("oci:/path:tag", "docker://127.0.0.1:5000/repo:tag"). */
export async function skopeoCopy(
  src: string,
  dst: string,
  extraArgs: string[] = [],
  opts: SkopeoOptions = {},
): Promise<void> {
  await runSkopeo(
    "copy",
    ["--src-tls-verify=false", "--dest-tls-verify=false", ...extraArgs, src, dst],
    opts,
  );
}

/** The manifest bytes exactly as the registry serves them. */
export function skopeoInspectRaw(ref: string, opts: SkopeoOptions = {}): Promise<Buffer> {
  return runSkopeo("inspect", ["--tls-verify=false", "--raw", ref], opts);
}

/** sha256 of the manifest bytes as served: the digest a tag resolves to, for indexes too. */
export async function skopeoInspectDigest(ref: string, opts: SkopeoOptions = {}): Promise<string> {
  const raw = await skopeoInspectRaw(ref, opts);
  return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
}
