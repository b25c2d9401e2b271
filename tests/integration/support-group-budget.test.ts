// The group's budget end to end: a backlog of users' posts, with agents
// replying meanwhile (each reply asks for a 👌 reaction), against a stand-in
// enforcing the group limit (scaled: 5 per 1.5 s). The posts drain at the
// full rate with no 429; the reactions asked during the backlog are dropped.
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, expect, test } from "vitest";
import { postJson } from "../fixtures/http.js";
import { startTelegramStandIn, type TelegramStandIn } from "../fixtures/telegram-stand-in.js";
import { startTestApp, type TestApp } from "../fixtures/test-app.js";
import type { SendAnswer } from "../fixtures/wire.js";
import { pause, SECRET } from "./desk-setup.js";

const GROUP = -1007770002222;
const LIMIT = 5;
const WINDOW_MS = 1500;
let tg: TelegramStandIn;
let t: TestApp;
let socket: Socket;

beforeAll(async () => {
  tg = await startTelegramStandIn();
  t = await startTestApp({
    env: { BOT_TOKEN: tg.token, GROUP_CHAT_ID: String(GROUP), TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_MODE: "webhook", TELEGRAM_WEBHOOK_SECRET: SECRET },
    botInfo: tg.botInfo,
    pacerLimits: { perGroup: LIMIT, perGroupWindowMs: WINDOW_MS, overall: 30, overallWindowMs: 1000 },
  });
});
afterAll(async () => {
  socket?.close();
  await t.close();
  await tg.close();
});

const webhook = (update: unknown) =>
  fetch(`${t.url}/api/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET }, body: JSON.stringify(update) });

test("during a backlog of users' posts, reactions are dropped and no post is delayed or refused", async () => {
  const user = "budget-user";
  socket = io(t.url);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const joined = new Promise((resolve) => socket.once("joined", resolve));
  socket.emit("join_chat", { user_id: user });
  await joined;
  const first = (await postJson<SendAnswer>(`${t.url}/send_message`, { user_id: user, message: "Первый вопрос" })).body;
  expect(first.delivery).toBe("sent");
  // Let the window empty so the backlog starts from nothing.
  await pause(WINDOW_MS + 300);
  tg.setGroupLimit({ limit: LIMIT, windowMs: WINDOW_MS });

  const reactionsBefore = tg.callsTo("setMessageReaction").length;
  for (let i = 0; i < 15; i++) await postJson(`${t.url}/send_message`, { user_id: `budget-${i % 3}`, message: `backlog ${String(i).padStart(2, "0")}` });
  // agents answer the first user while the backlog drains: each reply asks for 👌
  for (let i = 0; i < 3; i++) {
    expect((await webhook(tg.updates.groupText({ chatId: GROUP, text: `ответ ${i}`, replyTo: first.message_id as number }))).status).toBe(200);
  }
  const posted = () => tg.sent(GROUP).filter((m) => m.text?.includes("backlog "));
  await expect.poll(() => posted().length, { timeout: 15_000, interval: 100 }).toBe(15);
  const times = tg.callsTo("sendMessage").filter((c) => c.ok && String(c.params.text).includes("backlog ")).map((c) => c.at);
  // as fast as the pacing allows with nothing else in the group (see support-pacing.test.ts)
  expect((times.at(-1) as number) - (times[0] as number)).toBeLessThan(2 * WINDOW_MS + 1500);
  const lastPostAt = times.at(-1) as number;
  const reactionCalls = tg.callsTo("setMessageReaction").slice(reactionsBefore);
  // nothing took a post's place during the backlog: no reaction call before the last post went out
  expect(reactionCalls.filter((c) => c.at < lastPostAt)).toEqual([]);
  expect(tg.stats.groupLimited).toBe(0);
  expect(tg.stats.tooManyRequests).toBe(0);

  // once the group is quiet again, a reply gets its reaction
  await pause(WINDOW_MS + 300);
  const after = tg.updates.groupText({ chatId: GROUP, text: "ответ после", replyTo: first.message_id as number });
  expect((await webhook(after)).status).toBe(200);
  const afterId = (after as { message: { message_id: number } }).message.message_id;
  await expect.poll(() => tg.state.reactions.get(`${GROUP}:${afterId}`), { timeout: 5_000, interval: 50 }).toEqual(["👌"]);
  expect(tg.stats.groupLimited).toBe(0);
});
