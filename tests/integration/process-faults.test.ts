// A fault nobody handled (an unawaited rejection, an exception thrown from a
// callback) ends the real entry (server/main.ts) with one line an operator
// can read and a non-zero exit, so a supervisor restarts it clean; never a
// process that keeps running in an unknown state, nor a bare stack dump.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { PROJECT_ROOT } from "../fixtures/test-app.js";

const dir = mkdtempSync(path.join(tmpdir(), "faults-"));
const BOT_TOKEN = "123456:fault-test-token-SECRET_abcdef";

function start(fault: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", "--import", path.join(PROJECT_ROOT, "tests/fixtures/fault-preload.mjs"), path.join(PROJECT_ROOT, "server/main.ts")], {
    cwd: PROJECT_ROOT,
    env: { NODE_ENV: "production", PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATABASE_URL: `file:${path.join(dir, `${fault}.db`)}`, FAULT: fault, BOT_TOKEN, TELEGRAM_MODE: "off" },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

test.each([
  ["rejection", /^Fatal: unhandled promise rejection: disk quota exceeded while writing; exiting so a supervisor can restart the service$/],
  ["exception", /^Fatal: uncaught exception: callback blew up; exiting so a supervisor can restart the service$/],
])("an unhandled %s is one line and exit code 1", (fault, line) => {
  const result = start(fault);
  expect(result.status).toBe(1);
  const lines = result.stderr.split("\n").filter((l) => l.trim() && !l.startsWith("npm warn"));
  expect(lines).toEqual([expect.stringMatching(line)]);
  expect(result.stderr).not.toContain(BOT_TOKEN);
});
