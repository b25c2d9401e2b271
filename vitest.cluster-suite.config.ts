// The suite's black-box integration files (REST, Socket.IO, the Telegram
// webhook, tRPC over HTTP) run against a cluster (SPEC §8, issue 10): with
// TEST_ENGINE=cluster every startTestApp is two instances on PostgreSQL and
// Redis behind nginx with the shipped deploy/nginx.conf
// (tests/fixtures/test-app.ts). Needs TEST_POSTGRES_URL, TEST_REDIS_URL
// (. tests/engines/start.sh) and nginx.
//
// Left out, with why (the rest of tests/integration never starts the app
// with startTestApp: it would run the same on every engine):
// - ops-metrics, ops-openapi: /metrics is each instance's, and nginx
//   answers it 404 by design (deploy/nginx.conf; Prometheus scrapes each).
// - support-fuzz: malformed raw HTTP is answered by nginx's own 400 page
//   before any instance sees it.
// - startup-warnings, shutdown, ops-ready-and-logs: one process's start-up
//   lines, shutdown and /ready with its database taken away.
// - support-reminders: restarts by closing t.app alone (its folder must
//   outlive the restart), which in a cluster leaves the other instance
//   running, and sending, beside the restarted pair.
// - webhook-instances: starts its own second instance already; outbox-cli:
//   the CLI on a database, no HTTP.
import { defineConfig } from "vitest/config";
import { engineUrl } from "./tests/engines/engines.js";
import { findNginx } from "./tests/cluster/nginx.js";

export const CLUSTER_SUITE_FILES = [
  "group-username",
  "log-redaction",
  "rate-limits-config",
  "readme-curl",
  "socket-clients",
  "support-agent-albums",
  "support-agent-commands",
  "support-durability",
  "support-group-budget",
  "support-group-posts",
  "support-pacing",
  "support-rate-limits",
  "support-reactions",
  "support-read-state",
  "support-realtime",
  "support-rest",
  "support-round-trip",
  "support-set-aside",
  "support-topics",
  "upload-serving",
  "user-identity",
].map((name) => `tests/integration/${name}.test.ts`);

// Without the engines or nginx, outside CI the run says why and passes
// empty (as test:postgres does); in CI both helpers throw instead.
const ready = [engineUrl("TEST_POSTGRES_URL"), engineUrl("TEST_REDIS_URL"), findNginx()].every((found) => found !== null);

export default defineConfig({
  test: {
    include: ready ? CLUSTER_SUITE_FILES : [],
    passWithNoTests: !ready,
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file's cluster is two apps, nginx and its share of PostgreSQL
    // and Redis: two files at a time on two cores, as the unit run.
    pool: "forks",
    maxWorkers: 2,
    env: { NEXT_TELEMETRY_DISABLED: "1", TZ: "UTC", TEST_ENGINE: "cluster" },
  },
});
