// Reminders (SPEC §7, SUPPORT_REMINDER_MINUTES) on real parts: the service
// with its real database, users posting over REST, agents answering with
// real Updates through the webhook, reminders read from what the bot sent
// to the Telegram stand-in. The reminders' clock is the test's, so "five
// minutes later" takes no five minutes; messages keep their real times.
import { rmSync } from "node:fs";
import type { Message } from "grammy/types";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { postJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { pause, SECRET } from "./desk-setup.js";

const GROUP = -1005550006666;
const MINUTES = 5;
let tg: TelegramStandIn;
let t: TestApp;
let dir: string;
let clock = Date.now();

async function start(reuse?: string): Promise<TestApp> {
  return startTestApp({
    dir: reuse,
    env: { BOT_TOKEN: tg.token, GROUP_CHAT_ID: String(GROUP), TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_MODE: "webhook", TELEGRAM_WEBHOOK_SECRET: SECRET, SUPPORT_REMINDER_MINUTES: String(MINUTES) },
    botInfo: tg.botInfo,
    reminders: { now: () => new Date(clock), checkEveryMs: 50 },
  });
}

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await start();
  // the folder (and its database) outlives the restart below; removed in afterAll
  dir = t.dir;
});
afterAll(async () => {
  await t.app.close(5_000);
  await tg.close();
  rmSync(dir, { recursive: true, force: true });
});

const webhook = (update: unknown) =>
  fetch(`${t.url}/api/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET }, body: JSON.stringify(update) });

async function userSays(userId: string, text: string, userName?: string): Promise<number> {
  const res = await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: userId, message: text, ...(userName ? { user_name: userName } : {}) });
  expect(res.body.delivery).toBe("sent");
  return res.body.message_id as number;
}

const reminders = (): Message[] => tg.sent(GROUP).filter((m) => m.text?.startsWith("⏰"));
const remindersAbout = (userId: string) => reminders().filter((m) => m.text?.includes(userId));
const checks = () => pause(400);

describe("reminders", () => {
  test("a user waiting N minutes gets one reminder, as a reply to the waiting post; a reply or /close ends the wait", async () => {
    clock = Date.now();
    const waiting = await userSays("remind-wait", "Есть кто живой?", "Анна");
    await userSays("remind-wait", "Очень нужно", "Анна");
    const last = tg.sent(GROUP).findLast((m) => m.text?.includes("Очень нужно")) as Message;
    const answered = await userSays("remind-answered", "Вопрос");
    const closed = await userSays("remind-closed", "Ещё вопрос");
    // the daily greeting (a history request) is no reply
    await fetch(`${t.url}/message_history/remind-wait`);

    const reply = tg.updates.groupText({ chatId: GROUP, text: "Отвечаем", replyTo: answered });
    expect((await webhook(reply)).status).toBe(200);
    expect((await webhook(tg.updates.groupText({ chatId: GROUP, text: "/close", replyTo: closed }))).status).toBe(200);

    clock = Date.now() + (MINUTES - 1) * 60_000;
    await checks();
    expect(reminders()).toEqual([]);

    clock = Date.now() + (MINUTES + 2) * 60_000;
    await checks();
    const sent = remindersAbout("remind-wait");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.text).toBe(`⏰ Анна · remind-wait ждёт ответа ${MINUTES + 2} мин.`);
    expect(sent[0]?.reply_to_message?.message_id).toBe(last.message_id);
    expect(waiting).toBeLessThan(last.message_id);
    expect(remindersAbout("remind-answered")).toEqual([]);
    expect(remindersAbout("remind-closed")).toEqual([]);

    // still one per wait, however many checks run
    clock += 10 * 60_000;
    await checks();
    expect(remindersAbout("remind-wait")).toHaveLength(1);

    // after /close, the user's next message opens a new wait of its own
    await userSays("remind-closed", "Снова я");
    clock = Date.now() + (MINUTES + 1) * 60_000;
    await checks();
    expect(remindersAbout("remind-closed")).toHaveLength(1);
  });

  test("a restart does not send a reminder twice; a wait left unreminded by the restart still gets it", async () => {
    clock = Date.now();
    await userSays("remind-restart-a", "До перезапуска");
    clock = Date.now() + (MINUTES + 1) * 60_000;
    await checks();
    expect(remindersAbout("remind-restart-a")).toHaveLength(1);
    clock = Date.now();
    await userSays("remind-restart-b", "Тоже жду");

    await t.app.close(5_000);
    t = await start(dir);
    clock = Date.now() + (MINUTES + 1) * 60_000;
    await checks();
    expect(remindersAbout("remind-restart-a")).toHaveLength(1);
    expect(remindersAbout("remind-restart-b")).toHaveLength(1);
    expect(remindersAbout("remind-restart-b")[0]?.text).toContain("Пользователь · remind-restart-b");
  });
});

describe("reminders in topic mode", () => {
  const FORUM = -1005550007777;
  let forumTg: TelegramStandIn;
  let forum: TestApp;
  beforeAll(async () => {
    forumTg = await startTelegramStandIn();
    forumTg.addForumGroup(FORUM);
    forum = await startTestApp({
      env: { ...forumTg.envFor(FORUM), SUPPORT_TOPICS: "on", SUPPORT_REMINDER_MINUTES: String(MINUTES) },
      botInfo: forumTg.botInfo,
      reminders: { now: () => new Date(clock), checkEveryMs: 50 },
    });
  });
  afterAll(async () => {
    await forum.close();
    await forumTg.close();
  });

  test("the reminder goes into the waiting user's topic, as a reply to the waiting post", async () => {
    await expect.poll(async () => ((await (await fetch(`${forum.url}/health`)).json()) as { topics: { enabled: boolean } }).topics.enabled, { timeout: 10_000 }).toBe(true);
    clock = Date.now();
    const res = await postJson<SendAnswer>(`${forum.url}/send_message`, { user_id: "remind-topic", user_name: "Олег", message: "Жду в теме" });
    expect(res.body.delivery).toBe("sent");
    const [topic] = forumTg.topics(FORUM);
    expect(topic).toBeDefined();
    clock = Date.now() + (MINUTES + 1) * 60_000;
    await expect.poll(() => forumTg.sent(FORUM).filter((m) => m.text?.startsWith("⏰")).length, { timeout: 5_000 }).toBe(1);
    const reminder = forumTg.sent(FORUM).find((m) => m.text?.startsWith("⏰"));
    expect(reminder?.text).toBe(`⏰ Олег · remind-topic ждёт ответа ${MINUTES + 1} мин.`);
    expect(reminder?.message_thread_id).toBe(topic?.threadId);
    // Named explicitly, as every post into a topic is: a reply whose post an agent deleted still lands in the topic, not in General.
    const call = forumTg.callsTo("sendMessage").find((c) => String(c.params.text).startsWith("⏰"));
    expect(call?.params.message_thread_id).toBe(topic?.threadId);
    expect(reminder?.reply_to_message?.message_id).toBe(res.body.message_id);
  });
});
