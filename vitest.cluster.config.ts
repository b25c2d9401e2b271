// The cluster tests (tests/cluster, SPEC §8): two instances of the production
// build behind nginx. Not part of `vitest run` (vitest.config.ts): they need
// a build, which `npm test` has from the Playwright run before them
// (global-setup.ts builds only when it is missing or stale). One file at a
// time: each file's cluster is three processes on two cores, and the
// takeover timings must not compete with another file's.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/cluster/**/*.test.ts"],
    environment: "node",
    globalSetup: ["tests/cluster/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    env: { NEXT_TELEMETRY_DISABLED: "1", TZ: "UTC" },
  },
});
