import { spawnSync } from "node:child_process";

/**
 * Oracles are real tools from Debian packages. Install a package only when
 * its command is missing (the scripts/test-deps.sh pattern).
 */
export function ensureDebianPackage(check: string, pkg: string): void {
  if (spawnSync("sh", ["-c", check], { stdio: "ignore" }).status === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    const r = spawnSync(cmd as string, rest, { stdio: "inherit", env });
    if (r.status !== 0) throw new Error(`oracle set-up failed: ${args.join(" ")}`);
  };
  // Other test files may be installing at the same moment: wait for dpkg's lock instead of failing.
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  run(["apt-get", ...lock, "update", "-qq"]);
  run(["apt-get", ...lock, "install", "-y", "-qq", pkg]);
  if (spawnSync("sh", ["-c", check], { stdio: "ignore" }).status !== 0) {
    throw new Error(`oracle ${pkg} installed but '${check}' still fails`);
  }
}

/**
 * Runs one oracle process over all pairs: writes "a\tb" lines to stdin and
 * reads one integer per line back (its sign is the oracle's comparison).
 */
export function runOracle(
  cmd: string,
  args: string[],
  pairs: [string, string][],
  env: Record<string, string> = {},
): number[] {
  const input = pairs.map(([a, b]) => `${a}\t${b}\n`).join("");
  const r = spawnSync(cmd, args, {
    input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`oracle ${cmd} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== pairs.length) {
    throw new Error(`oracle ${cmd} answered ${lines.length} lines for ${pairs.length} pairs: ${r.stderr}`);
  }
  return lines.map((l) => Math.sign(Number.parseInt(l, 10)));
}

/** Pairs where the comparator disagrees with the oracle, formatted for a readable failure. */
export function disagreements(
  pairs: [string, string][],
  expected: number[],
  compare: (a: string, b: string) => number,
): string[] {
  const out: string[] = [];
  pairs.forEach(([a, b], i) => {
    const got = Math.sign(compare(a, b));
    if (got !== expected[i])
      out.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: oracle ${expected[i]}, got ${got}`);
  });
  return out.slice(0, 20);
}
