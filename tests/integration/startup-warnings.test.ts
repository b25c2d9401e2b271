// Start-up says once, in a line an operator can act on, when the service
// runs with a door open: the mobile API on a non-loopback address with
// neither API_KEY nor USER_HASH_SECRET, or a webhook without
// TELEGRAM_WEBHOOK_SECRET. The logger is the service's own, with a
// destination that keeps every line.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../server/logger.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp } from "../fixtures/test-app.js";

interface LogLine {
  level: number;
  msg: string;
}

const WARN = 40;

/** Starts and stops the service with `env`, and returns the warnings it logged. */
async function warningsAt(env: Record<string, string>): Promise<string[]> {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: "info", secrets: [], destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  const t = await startTestApp({ env, logger });
  await t.close();
  return lines.filter((l) => l.level === WARN).map((l) => l.msg);
}

const open = (msgs: string[]) => msgs.filter((m) => /neither API_KEY nor USER_HASH_SECRET/.test(m));
const forgeable = (msgs: string[]) => msgs.filter((m) => /TELEGRAM_WEBHOOK_SECRET is not set/.test(m));

describe("the mobile API open to the network", () => {
  test("0.0.0.0 without API_KEY or USER_HASH_SECRET: one warning naming what is exposed and what fixes it", async () => {
    const warnings = open(await warningsAt({ SERVER_HOST: "0.0.0.0" }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/0\.0\.0\.0/);
    expect(warnings[0]).toMatch(/read any user's history/);
    expect(warnings[0]).toMatch(/set USER_HASH_SECRET/);
    expect(warnings[0]).toMatch(/API_KEY/);
  });

  test.each([
    ["USER_HASH_SECRET set", { SERVER_HOST: "0.0.0.0", USER_HASH_SECRET: "a-secret-for-user-hashes" }],
    ["API_KEY set", { SERVER_HOST: "0.0.0.0", API_KEY: "an-api-key-for-the-app" }],
    ["a loopback host", { SERVER_HOST: "127.0.0.1" }],
  ])("no warning with %s", async (_name, env) => {
    expect(open(await warningsAt(env))).toEqual([]);
  });
});

describe("a webhook without a secret", () => {
  let tg: TelegramStandIn;
  beforeAll(async () => {
    tg = await startTelegramStandIn();
  });
  afterAll(async () => {
    await tg.close();
  });

  const bot = () => ({ BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot });

  test("webhook mode with a bot and no TELEGRAM_WEBHOOK_SECRET: one warning about forged agent replies", async () => {
    const warnings = forgeable(await warningsAt({ ...bot(), TELEGRAM_MODE: "webhook" }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/forged agent replies/);
    expect(warnings[0]).toMatch(/npm run telegram:webhook/);
  });

  test.each([
    ["a secret", { TELEGRAM_MODE: "webhook", TELEGRAM_WEBHOOK_SECRET: "webhook_secret_value" }],
    ["polling", { TELEGRAM_MODE: "polling" }],
    ["updates off", { TELEGRAM_MODE: "off" }],
  ])("no warning with %s", async (_name, env) => {
    expect(forgeable(await warningsAt({ ...bot(), ...env }))).toEqual([]);
  });

  test("no warning without a bot: there is no webhook to forge", async () => {
    expect(forgeable(await warningsAt({ TELEGRAM_MODE: "webhook" }))).toEqual([]);
  });
});
