import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** CLI tests run bin/shipgate.js, which runs dist/: build it once before any test. */
export default function setup(): void {
  // For quick runs of library-only tests while dist/ is known to be current.
  if (process.env.SHIPGATE_SKIP_BUILD === "1") return;
  const root = join(import.meta.dirname, "..");
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
}
