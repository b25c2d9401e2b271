import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/unit/**/*.test.ts", "tests/integration/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test file starts its own server on loopback with its own SQLite
    // file; two cores, so two files at a time.
    pool: "forks",
    maxWorkers: 2,
    env: { NEXT_TELEMETRY_DISABLED: "1", TZ: "UTC" },
  },
});
