import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start their own registries on free ports; files run in parallel.
    pool: "forks",
    // Most test time is spent waiting on child processes (registries, skopeo, the CLI, oracles):
    // vitest's default of one worker per core minus one would run the files one at a time on
    // these 2-core machines.
    maxWorkers: 3,
    globalSetup: ["test/global-setup.ts"],
  },
});
