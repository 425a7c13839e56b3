import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * CLI tests run bin/shipgate.js, which runs dist/: build it once before any
 * test. Type errors do not stop the run (tsc still emits, and the separate
 * typecheck step in scripts/test.sh is the gate for them); a build that
 * leaves no dist/ does.
 */
export default function setup(): void {
  // For quick runs of library-only tests while dist/ is known to be current.
  if (process.env.SHIPGATE_SKIP_BUILD === "1") return;
  const root = join(import.meta.dirname, "..");
  const result = spawnSync(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
    { cwd: root, stdio: "inherit" },
  );
  if (result.status !== 0 && !existsSync(join(root, "dist", "cli", "main.js"))) {
    throw new Error("tsc produced no dist/: see the errors above");
  }
}
