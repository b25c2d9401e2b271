// TELEGRAM_MODE=polling and the Telegram helper commands, against the
// stand-in through the real grammY client.
import { Bot } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../../server/config/env.js";
import { runGroupId } from "../../server/cli/group-id.js";
import { runSetWebhook } from "../../server/cli/set-webhook.js";
import type { CliIo } from "../../server/cli/telegram-cli.js";
import { createLogger } from "../../server/logger.js";
import { startPolling } from "../../server/telegram/polling.js";
import { supportGroupTest } from "../../server/telegram/group-messages.js";
import { createSupportReplies, type SupportReplyInput } from "../../server/telegram/support-replies.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";

const GROUP = -1005550001;
const logger = createLogger({ level: "silent", secrets: [] });
let tg: TelegramStandIn;

beforeEach(async () => {
  tg = await startTelegramStandIn({ maxPollSeconds: 1 });
});
afterEach(async () => {
  await tg.close();
});

const waitFor = async (check: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("long polling", () => {
  it("removes the webhook without dropping pending updates, keeps going after a failed update, stops cleanly", async () => {
    const bot = new Bot(tg.token, { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
    await bot.api.setWebhook("https://example.com/api/telegram/webhook");
    const posted = await bot.api.sendMessage(GROUP, "from user");
    const replies: SupportReplyInput[] = [];
    let failures = 1;
    bot.use(
      createSupportReplies({
        isSupportGroup: supportGroupTest(String(GROUP)),
        userForPost: async (_chat, id) => (id === posted.message_id ? "user-p" : null),
        addSupportReply: async (input) => {
          if (failures-- > 0) throw new Error("boom");
          replies.push(input);
          return input;
        },
        savePhoto: () => Promise.reject(new Error("unused")),
        logger,
      }),
    );
    tg.pushUpdate(tg.updates.groupText({ chatId: GROUP, text: "lost to a failure", replyTo: posted.message_id }));
    tg.pushUpdate(tg.updates.groupText({ chatId: GROUP, text: "pending before start", replyTo: posted.message_id }));
    const polling = startPolling({ bot, logger });
    await waitFor(() => replies.length === 1);
    tg.pushUpdate(tg.updates.groupText({ chatId: GROUP, text: "while polling", replyTo: posted.message_id }));
    await waitFor(() => replies.length === 2);
    expect(replies.map((r) => r.text)).toEqual(["pending before start", "while polling"]);

    const [deleted] = tg.callsTo("deleteWebhook");
    expect(deleted?.params.drop_pending_updates).not.toBe(true);
    expect(tg.webhook).toBeNull();
    expect(tg.callsTo("getUpdates")[0]?.params.allowed_updates).toEqual(["message", "edited_message"]);
    const started = Date.now();
    await polling.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(polling.done).resolves.toBeUndefined();
  });

  it("ends with a rejection when Telegram refuses the token", async () => {
    const bot = new Bot("999:wrong", { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } });
    const polling = startPolling({ bot, logger });
    await expect(polling.done).rejects.toMatchObject({ error_code: 401 });
    await polling.stop();
  });
});

function capture(): CliIo & { text(): string } {
  const lines: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => lines.push(l), text: () => lines.join("\n") };
}

function config(overrides: Record<string, string> = {}): Config {
  return parseConfig({
    BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    PUBLIC_WEBAPP_URL: "https://support.example.com/app/",
    TELEGRAM_WEBHOOK_SECRET: "cli-secret",
    ...overrides,
  });
}

describe("telegram:webhook", () => {
  it("sets the webhook from PUBLIC_WEBAPP_URL with the secret and allowed updates, then shows getWebhookInfo", async () => {
    const io = capture();
    expect(await runSetWebhook({ argv: [], config: config(), io })).toBe(0);
    expect(tg.webhook).toMatchObject({ url: "https://support.example.com/app/api/telegram/webhook", secretToken: "cli-secret", allowedUpdates: ["message", "edited_message"] });
    expect(io.text()).toContain('"url": "https://support.example.com/app/api/telegram/webhook"');
    expect(io.text()).not.toContain(tg.token);
    expect(io.text()).not.toContain("cli-secret");
  });

  it("takes the URL as an argument and explains a refused token or a missing one", async () => {
    expect(await runSetWebhook({ argv: ["https://other.example/hook"], config: config(), io: capture() })).toBe(0);
    expect(tg.webhook?.url).toBe("https://other.example/hook");
    const bad = capture();
    expect(await runSetWebhook({ argv: [], config: config({ BOT_TOKEN: "12345:not-the-token" }), io: bad })).toBe(1);
    expect(bad.text()).toMatch(/does not accept the bot token in BOT_TOKEN/);
    expect(bad.text()).not.toContain("12345:not-the-token");
    const missing = capture();
    expect(await runSetWebhook({ argv: [], config: config({ BOT_TOKEN: "" }), io: missing })).toBe(1);
    expect(missing.text()).toMatch(/BOT_TOKEN is not set/);
    tg.setDown(true);
    const down = capture();
    expect(await runSetWebhook({ argv: [], config: config(), io: down })).toBe(1);
    expect(down.text()).toMatch(/Cannot reach the Telegram Bot API/);
  });

  it("refuses to register without TELEGRAM_WEBHOOK_SECRET and prints a fresh secret Telegram accepts", async () => {
    const printed: string[] = [];
    for (let i = 0; i < 2; i++) {
      const io = capture();
      expect(await runSetWebhook({ argv: [], config: config({ TELEGRAM_WEBHOOK_SECRET: "" }), io })).toBe(1);
      expect(io.text()).toMatch(/TELEGRAM_WEBHOOK_SECRET is not set: refusing to register/);
      const line = io.text().split("\n").find((l) => l.startsWith("TELEGRAM_WEBHOOK_SECRET="));
      const secret = line?.slice("TELEGRAM_WEBHOOK_SECRET=".length) ?? "";
      // Telegram's secret_token alphabet and length, and long enough not to be guessed.
      expect(secret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
      // The line goes into .env as printed: the service's own config accepts it.
      expect(parseConfig({ TELEGRAM_WEBHOOK_SECRET: secret }).webhookSecret).toBe(secret);
      printed.push(secret);
    }
    expect(printed[0]).not.toBe(printed[1]);
    expect(tg.callsTo("setWebhook")).toEqual([]);
    expect(tg.webhook).toBeNull();
  });
});

describe("telegram:group-id", () => {
  it("lists the chats the bot heard from and suggests GROUP_CHAT_ID, leaving the updates pending", async () => {
    tg.pushUpdate(tg.updates.groupText({ chatId: GROUP, text: "/start@support_test_bot" }));
    tg.pushUpdate(tg.updates.privateText("hi"));
    const io = capture();
    expect(await runGroupId({ argv: ["--wait", "0"], config: config(), io })).toBe(0);
    expect(io.text()).toContain(String(GROUP));
    expect(io.text()).toContain(`GROUP_CHAT_ID=${GROUP}`);
    expect(tg.state.updates).toHaveLength(2);
  });

  it("refuses to touch a webhook unless asked, and restores it with --delete-webhook", async () => {
    await new Bot(tg.token, { botInfo: tg.botInfo, client: { apiRoot: tg.apiRoot } }).api.setWebhook("https://h.example/api/telegram/webhook", { allowed_updates: ["message"] });
    tg.pushUpdate(tg.updates.groupText({ chatId: GROUP, text: "/start" }));
    const refused = capture();
    expect(await runGroupId({ argv: ["--wait", "0"], config: config(), io: refused })).toBe(2);
    expect(refused.text()).toMatch(/--delete-webhook/);
    const io = capture();
    expect(await runGroupId({ argv: ["--wait", "0", "--delete-webhook"], config: config(), io })).toBe(0);
    expect(io.text()).toContain(`GROUP_CHAT_ID=${GROUP}`);
    expect(tg.webhook).toMatchObject({ url: "https://h.example/api/telegram/webhook", secretToken: "cli-secret", allowedUpdates: ["message"] });
  });
});
