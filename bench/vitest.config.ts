import { defineConfig } from "vitest/config";

// Benchmarks run through vitest only to reuse the TypeScript test harness
// (registries on loopback); they assert nothing about time and are not tests.
export default defineConfig({
  test: {
    include: ["bench/**/*.bench-run.ts"],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
