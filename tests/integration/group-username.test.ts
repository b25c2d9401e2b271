// GROUP_CHAT_ID=@username: Telegram's updates carry the group's numeric id
// only, so the service learns it (getChat) before the first post and keys
// everything by it; an agent's reply to a post then reaches the user.
import { afterEach, describe, expect, test } from "vitest";
import type { Update } from "grammy/types";
import { createLogger } from "../../server/logger.js";
import { postJson, requestJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";

const GROUP = -1003330001111;
const USERNAME = "support_desk_test";
const SECRET = "username-secret_123";

let tg: TelegramStandIn | undefined;
let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  await tg?.close();
  t = undefined;
  tg = undefined;
});

async function start(groupChatId: string, lines?: string[]): Promise<{ tg: TelegramStandIn; t: TestApp }> {
  tg ??= await startTelegramStandIn();
  const logger = lines ? createLogger({ level: "info", secrets: [], destination: { write: (line: string) => void lines.push(line) } }) : undefined;
  t = await startTestApp({
    env: { ...tg.envFor(groupChatId), TELEGRAM_MODE: "webhook", TELEGRAM_WEBHOOK_SECRET: SECRET },
    botInfo: tg.botInfo,
    ...(logger ? { logger } : {}),
  });
  return { tg, t };
}

function webhook(app: TestApp, update: Update): Promise<Response> {
  return fetch(`${app.url}/api/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET },
    body: JSON.stringify(update),
  });
}

async function supportTexts(app: TestApp, user: string): Promise<string[]> {
  const history = await requestJson<{ messages: { message: string; direction: string }[] }>(`${app.url}/message_history/${user}`);
  return history.body.messages.filter((m) => m.direction === "support").map((m) => m.message);
}

describe("GROUP_CHAT_ID=@username", () => {
  test("posts go to the group's numeric id and an agent's reply to one reaches the user", async () => {
    tg = await startTelegramStandIn();
    tg.addPublicGroup(GROUP, USERNAME);
    const { t } = await start(`@${USERNAME}`);
    await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: "uname-1", message: "вопрос через @username" });
    await expect.poll(() => tg?.sent(GROUP).some((m) => m.text?.endsWith("вопрос через @username"))).toBe(true);
    const post = tg.sent(GROUP).at(-1);
    expect((await webhook(t, tg.updates.groupText({ chatId: GROUP, text: "ответ агента", replyTo: post?.message_id }))).status).toBe(200);
    await expect.poll(() => supportTexts(t, "uname-1")).toContain("ответ агента");
    expect(tg.callsTo("getChat").map((c) => c.params.chat_id)).toEqual([`@${USERNAME}`]);
    expect(tg.callsTo("sendMessage").map((c) => String(c.params.chat_id))).toEqual([String(GROUP)]);
  });

  test("when Telegram cannot be reached at start, messages wait queued and go out, under the numeric id, once it can", async () => {
    tg = await startTelegramStandIn();
    tg.addPublicGroup(GROUP, USERNAME);
    tg.setDown(true);
    const { t } = await start(`@${USERNAME}`);
    const sent = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: "uname-2", message: "пока нет связи" });
    expect(sent.body.delivery).toBe("queued");
    await expect.poll(() => tg?.callsTo("getChat").length).toBeGreaterThan(0);
    tg.setDown(false);
    await expect.poll(() => tg?.sent(GROUP).some((m) => m.text?.endsWith("пока нет связи")), { timeout: 10_000 }).toBe(true);
    // Telegram has the post before our commit of its mapping: wait for the commit.
    const mappedChats = async () => (await t.app.db.sql.all<{ chat: string }>("SELECT DISTINCT CAST(chat_id AS TEXT) AS chat FROM message_mapping")).map((c) => c.chat);
    await expect.poll(mappedChats).toEqual([String(GROUP)]);
    const post = tg.sent(GROUP).at(-1);
    expect((await webhook(t, tg.updates.groupText({ chatId: GROUP, text: "связь есть", replyTo: post?.message_id }))).status).toBe(200);
    await expect.poll(() => supportTexts(t, "uname-2")).toContain("связь есть");
  });

  test("a username Telegram does not know: one clear line naming GROUP_CHAT_ID, and messages stay queued", async () => {
    const lines: string[] = [];
    const { tg: standIn, t } = await start("@no_such_group_here", lines);
    const sent = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: "uname-3", message: "некуда" });
    expect(sent.body.delivery).toBe("queued");
    await expect.poll(() => lines.filter((l) => l.includes("GROUP_CHAT_ID=@no_such_group_here") && l.includes("chat not found")).length).toBe(1);
    expect(standIn.callsTo("sendMessage")).toHaveLength(0);
    expect((await requestJson<{ queue: { depth: number } }>(`${t.url}/health`)).body.queue.depth).toBe(1);
  });
});
