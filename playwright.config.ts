// End-to-end tests of the Mini App in real Chromium against the real
// service (`npm start` → server/cli/start.mjs, which builds when there is no
// build), with its own SQLite file and uploads folder, Telegram switched off
// and a fake but well-formed bot token that the tests sign launches with.
//
// Iterating on the UI: run `npm run dev` yourself and point the tests at it
//   E2E_BASE_URL=http://127.0.0.1:5000 E2E_BOT_TOKEN=<its BOT_TOKEN> npx playwright test
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";
import { E2E_BOT_TOKEN } from "./tests/e2e/support/launch";

const external = process.env.E2E_BASE_URL;
const port = Number(process.env.E2E_PORT ?? 5187);
// Workers re-read this file with the runner's environment: create the
// scratch folder once, in the runner, and hand it down through env.
process.env.E2E_RUN_DIR ??= mkdtempSync(path.join(tmpdir(), "diary-e2e-"));
const runDir = process.env.E2E_RUN_DIR;

export default defineConfig({
  testDir: "tests/e2e",
  // Set E2E_KEEP_DATA=1 to keep the run's database for a look afterwards.
  globalTeardown: "./tests/e2e/support/teardown.ts",
  outputDir: "test-results",
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: true,
  // Two cores on CI; every test makes its own Telegram users, so tests never share data.
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL: external ?? `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Debian's Chromium in a container: no sandbox, no GPU; and no
      // background calls to Google hosts that are closed here.
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    },
  },
  projects: [
    {
      name: "chromium-phone",
      // A phone-sized viewport: how Telegram shows Mini Apps to most users.
      use: { ...devices["Pixel 7"], browserName: "chromium" },
      testIgnore: /performance\.spec\.ts/,
    },
    {
      // Timing runs alone, after everything else, so other tests do not share its CPU.
      name: "performance",
      use: { ...devices["Pixel 7"], browserName: "chromium" },
      testMatch: /performance\.spec\.ts/,
      dependencies: ["chromium-phone"],
    },
  ],
  webServer: external
    ? undefined
    : {
        command: "node server/cli/start.mjs",
        url: `http://127.0.0.1:${port}/api/telegram/health`,
        // A fresh clone builds first (next build + server compile).
        timeout: 300_000,
        reuseExistingServer: false,
        stdout: "ignore",
        stderr: "pipe",
        env: {
          SERVER_HOST: "127.0.0.1",
          SERVER_PORT: String(port),
          DATABASE_URL: `file:${path.join(runDir, "e2e.db")}`,
          UPLOAD_DIR: path.join(runDir, "uploads"),
          BOT_TOKEN: E2E_BOT_TOKEN,
          TELEGRAM_MODE: "off",
          LOG_LEVEL: "warn",
          NEXT_TELEMETRY_DISABLED: "1",
        },
      },
});
