import { configDefaults, defineConfig } from "vitest/config";
import { engineUrl } from "./tests/engines/engines.js";

// TEST_ENGINE=postgres (`npm run test:postgres`, SPEC §8): the integration
// tests again, every app on a fresh PostgreSQL database of its own
// (tests/fixtures/test-app.ts). Left out: the files with nothing on the
// app's engine, which the default run covers as they are.
const onPostgres = process.env.TEST_ENGINE === "postgres";
const notOnPostgres = [
  // about SQLite itself: the file's backup and restore, its pragmas and connections
  "tests/integration/backup-restore.test.ts",
  "tests/integration/db-connections.test.ts",
  // run both engines themselves (their PostgreSQL half needs TEST_POSTGRES_URL in the default run too)
  "tests/integration/lease.test.ts",
  "tests/integration/postgres-migrate.test.ts",
  "tests/integration/update-claims.test.ts",
  // no database, or a process that stops before opening one
  "tests/integration/process-faults.test.ts",
  "tests/integration/push-fcm.test.ts",
  "tests/integration/rate-limit-redis.test.ts",
  "tests/integration/realtime-redis.test.ts",
  "tests/integration/redis-client.test.ts",
  "tests/integration/shared-pause.test.ts",
  "tests/integration/startup-errors.test.ts",
  "tests/integration/telegram-polling.test.ts",
];
// Without a server, outside CI the run says why and passes empty (as the
// engine tests skip); in CI engineUrl throws, so it can never pass by not running.
const postgresReady = onPostgres && engineUrl("TEST_POSTGRES_URL") !== null;

export default defineConfig({
  test: {
    include: onPostgres ? (postgresReady ? ["tests/integration/**/*.test.ts"] : []) : ["tests/unit/**/*.test.ts", "tests/integration/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(onPostgres ? notOnPostgres : [])],
    passWithNoTests: onPostgres && !postgresReady,
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test file starts its own server on loopback with its own SQLite
    // file (or PostgreSQL database); two cores, so two files at a time.
    pool: "forks",
    maxWorkers: 2,
    env: { NEXT_TELEMETRY_DISABLED: "1", TZ: "UTC" },
  },
});
