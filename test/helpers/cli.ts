import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = join(import.meta.dirname, "..", "..", "bin", "shipgate.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI as a user would, with a private HOME and Docker config
 * so the machine's own credentials never leak into a test.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<CliResult> {
  const home = mkdtempSync(join(tmpdir(), "shipgate-home-"));
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: home,
          DOCKER_CONFIG: join(home, ".docker"),
          NO_COLOR: "1",
          ...options.env,
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 99;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

export const SHARED_IMAGES = join(import.meta.dirname, "..", "..", "..", "shared", "images", "oci");
export const DEBIAN_BASE_DIGEST = "sha256:04768ef3e2f30b0174eb7bc21326f4357276a9ca1ebd91765ca09d836dd327c0";
export const SHOP_DIGEST = "sha256:f7aa42d02a4cf62b97457cf190b3f91a0e5d60d017681d17dd5904204e305d29";
