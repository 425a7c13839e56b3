/**
 * A smoke test before the image enters the target: a command that must exit
 * 0, or an HTTP check (status and optional body match), within a timeout.
 * The command gets the image in SHIPGATE_* variables; it runs in its own
 * process group so a timeout kills everything it started.
 */
import { spawn } from "node:child_process";
import type { SmokeGateConfig } from "../../policy/config-schema.js";
import { type GateContext, type GateResult, result } from "./types.js";

const OUTPUT_TAIL = 2000;

export function smokeEnv(ctx: GateContext, extra: Record<string, string>): Record<string, string> {
  return {
    SHIPGATE_IMAGE: ctx.reference,
    SHIPGATE_DIGEST: ctx.digest,
    SHIPGATE_APP: ctx.app,
    SHIPGATE_TAG: ctx.tag,
    SHIPGATE_FROM: ctx.from ?? "",
    SHIPGATE_TO: ctx.to,
    ...extra,
  };
}

function runCommand(command: string, env: NodeJS.ProcessEnv, timeoutMs: number, cwd: string) {
  return new Promise<{ code: number | null; signal: string | null; output: string; timedOut: boolean }>(
    (resolve) => {
      const child = spawn("sh", ["-c", command], {
        env,
        cwd,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL);
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, timeoutMs);
      child.on("error", (error) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, output: error.message, timedOut });
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, output, timedOut });
      });
    },
  );
}

export async function smokeGate(ctx: GateContext, gate: SmokeGateConfig): Promise<GateResult> {
  const seconds = `${gate.timeout / 1000}s`;
  if (gate.command !== undefined) {
    const env = { ...ctx.env, ...smokeEnv(ctx, gate.env) };
    const run = await runCommand(gate.command, env, gate.timeout, ctx.loaded.dir);
    const evidence = {
      command: gate.command,
      exitCode: run.code,
      signal: run.signal,
      timeoutMs: gate.timeout,
      output: run.output,
    };
    if (run.timedOut)
      return result("smoke", "fail", `\`${gate.command}\` did not finish within ${seconds}`, evidence);
    if (run.code === 0) return result("smoke", "pass", `\`${gate.command}\` exited 0`, evidence);
    const last = run.output.trim().split("\n").pop() ?? "";
    return result(
      "smoke",
      "fail",
      `\`${gate.command}\` exited ${run.code ?? run.signal}${last ? `: ${last}` : ""}`,
      evidence,
    );
  }
  const http = gate.http as NonNullable<SmokeGateConfig["http"]>;
  const evidence: Record<string, unknown> = {
    url: http.url,
    expectStatus: http.status,
    body: http.body,
    timeoutMs: gate.timeout,
  };
  let response: Response;
  let text: string;
  try {
    response = await fetch(http.url, {
      signal: AbortSignal.timeout(gate.timeout),
      headers: { "x-shipgate-image": ctx.reference, "x-shipgate-digest": ctx.digest },
    });
    text = await response.text();
  } catch (error) {
    const timedOut = (error as Error).name === "TimeoutError";
    const why = timedOut
      ? `no answer within ${seconds}`
      : (((error as Error).cause as Error | undefined)?.message ?? (error as Error).message);
    return result("smoke", "fail", `GET ${http.url}: ${why}`, evidence);
  }
  evidence.status = response.status;
  evidence.bodyTail = text.slice(0, OUTPUT_TAIL);
  if (response.status !== http.status) {
    return result(
      "smoke",
      "fail",
      `GET ${http.url} answered ${response.status}, expected ${http.status}`,
      evidence,
    );
  }
  if (http.body !== undefined && !new RegExp(http.body).test(text)) {
    return result("smoke", "fail", `GET ${http.url}: the body does not match /${http.body}/`, evidence);
  }
  return result(
    "smoke",
    "pass",
    `GET ${http.url} answered ${response.status}${http.body ? " and matched" : ""}`,
    evidence,
  );
}
