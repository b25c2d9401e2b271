// SPEC §1: bad configuration stops start-up with one clear line naming the
// variable as the operator spelled it, never a stack trace. Runs the real
// entry (server/main.ts) as its own process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

const dir = mkdtempSync(path.join(tmpdir(), "startup-"));
const notJson = path.join(dir, "service-account.json");
writeFileSync(notJson, "{ this is not json");

function start(env: Record<string, string>): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "server/main.ts")], {
    cwd: PROJECT_ROOT,
    env: { NODE_ENV: "production", PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATABASE_URL: `file:${path.join(dir, "x.db")}`, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

test.each([
  [{ GROUP_CHAT_ID: "my-support-group" }, /^Configuration error: GROUP_CHAT_ID: must be a Telegram chat id/],
  [{ PORT: "eighty" }, /^Configuration error: PORT: must be a whole number/],
  [{ FCM_SERVICE_ACCOUNT_PATH: notJson }, /^Configuration error: FCM_SERVICE_ACCOUNT_PATH: .* is not JSON/],
  [{ FCM_SERVICE_ACCOUNT_PATH: path.join(dir, "missing.json") }, /^Configuration error: FCM_SERVICE_ACCOUNT_PATH: cannot read .*ENOENT/],
  [{ TELEGRAM_BOT_TOKEN: "oops" }, /^Configuration error: TELEGRAM_BOT_TOKEN: must look like/],
])("%o stops start-up with one line", (env, line) => {
  const result = start(env);
  expect(result.status).toBe(1);
  const lines = result.stderr.split("\n").filter((l) => l.trim() && !l.startsWith("npm warn"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(result.stderr).not.toMatch(/\n\s+at /);
});
