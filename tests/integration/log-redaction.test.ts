// Secrets never reach the log (issue 4): the bot token, API key and webhook
// secret are sent in every place a client or an attacker could put them,
// and Telegram calls fail (their URLs carry the token), at the most verbose
// log level. The logger is built the way createApp builds it, with a
// destination that keeps every line.
import { createServer } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { photoForm, postJson, requestJson } from "../fixtures/http.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import { createLogger } from "../../server/logger.js";

const BOT_TOKEN = "7000000001:AAHsecretTokenValue_ForLogRedaction-1";
const API_KEY = "api-key-that-must-never-be-logged-42";
const WEBHOOK_SECRET = "webhook_secret_that_must_stay_hidden";
const SECRETS = [BOT_TOKEN, API_KEY, WEBHOOK_SECRET, BOT_TOKEN.split(":")[1] as string];

const lines: string[] = [];
let t: TestApp;

/** A port with nothing listening: every Telegram call fails with the token in its URL. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  const logger = createLogger({ level: "trace", secrets: [BOT_TOKEN, API_KEY, WEBHOOK_SECRET], destination: { write: (line: string) => void lines.push(line) } });
  t = await startTestApp({
    logger,
    sendWaitMs: 300,
    env: {
      BOT_TOKEN,
      API_KEY,
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TELEGRAM_MODE: "webhook",
      TELEGRAM_API_ROOT: `http://127.0.0.1:${await closedPort()}`,
      GROUP_CHAT_ID: "-1001234567890",
      LOG_LEVEL: "trace",
    },
  });
});
afterAll(async () => {
  await t?.close();
});

test("no secret appears in any log line", { timeout: 30_000 }, async () => {
  const key = { "X-API-Key": API_KEY };
  // Right and wrong keys, in both headers, in bodies and URLs.
  expect((await postJson(`${t.url}/send_message`, { user_id: "redact-1", message: `my token is ${BOT_TOKEN}` }, key)).status).toBe(200);
  expect((await postJson(`${t.url}/send_message`, { user_id: "redact-1", message: "x" }, { Authorization: `Bearer ${BOT_TOKEN}` })).status).toBe(401);
  expect((await postJson(`${t.url}/send_message`, { user_id: "redact-1", message: "x" }, { "X-API-Key": WEBHOOK_SECRET })).status).toBe(401);
  expect((await postJson(`${t.url}/register_device`, { user_id: "redact-1", fcm_token: API_KEY }, { Authorization: `Bearer ${API_KEY}` })).status).toBe(200);
  await requestJson(`${t.url}/message_history/redact-1?user_name=${encodeURIComponent(API_KEY)}&api_key=${API_KEY}`, { headers: key });
  await requestJson(`${t.url}/check_device/${encodeURIComponent(WEBHOOK_SECRET)}`, { headers: key });
  await requestJson(`${t.url}/send_message`, { method: "POST", headers: key, body: photoForm({ user_id: "redact-2", message: BOT_TOKEN, client_message_id: API_KEY }) });
  await requestJson(`${t.url}/nothing/${BOT_TOKEN}`, { headers: { "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET } });
  // The webhook with a wrong and a right secret, and a malformed update.
  for (const secret of [`${WEBHOOK_SECRET}x`, WEBHOOK_SECRET]) {
    await fetch(`${t.url}/api/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret }, body: `{"update_id": 1, "message": {"text": "${BOT_TOKEN}"` });
  }
  // Group delivery fails against the closed port; its errors are logged.
  await expect.poll(() => lines.filter((l) => /"level":(40|50)/.test(l)).length, { timeout: 10_000 }).toBeGreaterThan(1);

  expect(lines.some((l) => l.includes("could not reach Telegram"))).toBe(true);
  // grammY's error carried the token in its URL: it was there, and scrubbed.
  expect(lines.some((l) => l.includes("/bot[redacted]/"))).toBe(true);
  const leaks = lines.filter((line) => SECRETS.some((secret) => line.includes(secret)));
  expect(leaks).toEqual([]);
});
